//! The shape of a stream pipeline as configuration: window length, hop, sample rate,
//! number of classes, sensor range, number of axes and what the model sees.
//!
//! On a device these are `const`s ([`Window`](crate::window::Window) and
//! [`Validator`](crate::validate::Validator) take the window length and the axes as
//! const generics); the simulator reads them from its options and checks them here.
//! [`Pipeline::DEMO`] is the demo the firmware runs.

use crate::features::feature_count;
use crate::model::CLASSES;
use crate::sim::FULL_SCALE_G;
use crate::window::{SAMPLE_RATE_HZ, WINDOW_LEN};

/// Most axes a reading may have (accelerometer, gyroscope, magnetometer: 9, with room).
pub const MAX_AXES: usize = 16;

/// What the model is given for each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InputKind {
    /// Per axis mean, standard deviation and jerk ([`features`](crate::features)):
    /// `3 * axes` inputs.
    Features,
    /// The window's readings themselves, `window * axes` inputs, channel-major: one
    /// row of `window` readings (oldest first) per axis, the `[channels][length]`
    /// layout of a convolutional model's input (an MLP can take them too).
    RawWindow,
}

/// A pipeline setting that is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PipelineError {
    /// The window needs at least 2 readings (the jerk is a difference).
    Window,
    /// The hop must be 1..=window.
    Hop,
    /// The sample rate must be at least 1 Hz.
    SampleRate,
    /// 2..=255 classes.
    Classes,
    /// The range must be finite and positive.
    Range,
    /// 1..=[`MAX_AXES`] axes.
    Axes,
}

impl core::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PipelineError::Window => "the window must hold at least 2 readings",
            PipelineError::Hop => "the hop must be at least 1 and at most the window length",
            PipelineError::SampleRate => "the sample rate must be at least 1 Hz",
            PipelineError::Classes => "the number of classes must be 2..=255",
            PipelineError::Range => "the sensor range must be a finite number > 0",
            PipelineError::Axes => "a reading must have 1..=16 axes",
        })
    }
}

/// The shape of a stream pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pipeline {
    /// Readings per window.
    pub window: usize,
    /// Readings between the starts of two windows (`window`: no overlap).
    pub hop: usize,
    /// Readings per second (documents the stream; the pipeline counts readings).
    pub sample_rate_hz: u32,
    /// Classes the model tells apart.
    pub classes: usize,
    /// The sensor's full scale in the readings' unit; the validator rejects readings
    /// at 99.5 % of it or beyond as saturated.
    pub range: f32,
    /// Axes per reading.
    pub axes: usize,
    /// What the model sees.
    pub input: InputKind,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::DEMO
    }
}

impl Pipeline {
    /// The demo: 32 readings of 3 axes at 50 Hz, no overlap, 3 classes, ±2 g, features.
    pub const DEMO: Pipeline = Pipeline {
        window: WINDOW_LEN,
        hop: WINDOW_LEN,
        sample_rate_hz: SAMPLE_RATE_HZ,
        classes: CLASSES,
        range: FULL_SCALE_G,
        axes: 3,
        input: InputKind::Features,
    };

    /// Checks every setting.
    pub fn validate(&self) -> Result<(), PipelineError> {
        if self.window < 2 {
            return Err(PipelineError::Window);
        }
        if self.hop == 0 || self.hop > self.window {
            return Err(PipelineError::Hop);
        }
        if self.sample_rate_hz == 0 {
            return Err(PipelineError::SampleRate);
        }
        if !(2..=255).contains(&self.classes) {
            return Err(PipelineError::Classes);
        }
        if !(self.range.is_finite() && self.range > 0.0) {
            return Err(PipelineError::Range);
        }
        if !(1..=MAX_AXES).contains(&self.axes) {
            return Err(PipelineError::Axes);
        }
        Ok(())
    }

    /// The model's inputs per window.
    pub const fn inputs(&self) -> usize {
        match self.input {
            InputKind::Features => feature_count(self.axes),
            InputKind::RawWindow => self.window * self.axes,
        }
    }

    /// Whether this is the demo the firmware runs (the fixed-size model of
    /// [`model`](crate::model) fits it).
    pub fn is_demo(&self) -> bool {
        *self == Self::DEMO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_valid_and_has_nine_features() {
        assert_eq!(Pipeline::DEMO.validate(), Ok(()));
        assert_eq!(Pipeline::DEMO.inputs(), crate::features::FEATURES);
        assert!(Pipeline::default().is_demo());
        let raw = Pipeline {
            input: InputKind::RawWindow,
            axes: 6,
            ..Pipeline::DEMO
        };
        assert_eq!(raw.inputs(), 32 * 6);
        assert!(!raw.is_demo());
    }

    #[test]
    fn each_bad_setting_is_named() {
        let d = Pipeline::DEMO;
        let bad = [
            (Pipeline { window: 1, ..d }, PipelineError::Window),
            (Pipeline { hop: 0, ..d }, PipelineError::Hop),
            (Pipeline { hop: 33, ..d }, PipelineError::Hop),
            (
                Pipeline {
                    sample_rate_hz: 0,
                    ..d
                },
                PipelineError::SampleRate,
            ),
            (Pipeline { classes: 1, ..d }, PipelineError::Classes),
            (Pipeline { range: f32::NAN, ..d }, PipelineError::Range),
            (Pipeline { range: -2.0, ..d }, PipelineError::Range),
            (Pipeline { axes: 0, ..d }, PipelineError::Axes),
            (Pipeline { axes: 17, ..d }, PipelineError::Axes),
        ];
        for (p, e) in bad {
            assert_eq!(p.validate(), Err(e), "{p:?}");
        }
    }
}
