//! The application, board-independent: screen readings, fill windows, predict every
//! window, learn from labelled ones, keep metrics.
//!
//! A board's loop is
//!
//! ```text
//! loop {
//!     if app.push(sensor.read()) {                 // window full?
//!         let label = buttons();                   // Some(class) while a button is held
//!         let out = app.finish_window(label, label)?;
//!         show(out.predicted);
//!     }
//! }
//! ```

use crate::features::{features_flat, FEATURES};
use crate::metrics::Metrics;
use crate::model::{Learner, ModelPlan};
use crate::sensor::SensorError;
use crate::validate::{BadCounts, BadReading, Validator};
use crate::window::{Window, WINDOW_LEN};
use microtrain::{Plan, StepError};

/// What happened with one window.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowOutcome {
    /// The model's prediction, made before any training on this window.
    pub predicted: usize,
    /// Whether the prediction was right (when the truth was known).
    pub correct: Option<bool>,
    /// The training loss (when the window was labelled and trained on).
    pub loss: Option<f32>,
}

/// The whole application state (the model's storage lives outside, in a `static` on a
/// device). `LEN` readings per window, a new window every `HOP` readings (windows
/// overlap by `LEN - HOP`); the defaults are the demo's 32 and 32. `P` is the model's
/// plan (see [`Learner`]). `AXES` values per reading; `INPUTS` the model's inputs:
/// the window's features (`3 AXES`: mean, standard deviation and jerk per axis,
/// [`features_flat`]) or the raw window (`LEN AXES` values, reading after reading);
/// `CLASSES` its outputs. The defaults are the demo's 3, 9 and 3; another choice is a
/// compile error unless `INPUTS` is one of the two.
#[derive(Debug)]
pub struct App<
    'a,
    const LEN: usize = WINDOW_LEN,
    const HOP: usize = WINDOW_LEN,
    P: Plan = ModelPlan,
    const AXES: usize = 3,
    const INPUTS: usize = FEATURES,
    const CLASSES: usize = { crate::model::CLASSES },
> {
    learner: Learner<'a, P, INPUTS, CLASSES>,
    validator: Validator<AXES>,
    window: Window<LEN, AXES>,
    metrics: Metrics,
    windows: u32,
    unlabelled: u32,
}

impl<'a, P: Plan> App<'a, WINDOW_LEN, WINDOW_LEN, P> {
    /// The demo's application (windows of 32 readings, no overlap) around a model, for
    /// a sensor of full scale `full_scale_g` (the validator's saturation limit follows
    /// it).
    pub fn new(learner: Learner<'a, P>, full_scale_g: f32) -> Self {
        Self::with_window(learner, full_scale_g)
    }
}

impl<
        'a,
        const LEN: usize,
        const HOP: usize,
        P: Plan,
        const AXES: usize,
        const INPUTS: usize,
        const CLASSES: usize,
    > App<'a, LEN, HOP, P, AXES, INPUTS, CLASSES>
{
    /// The application with windows of `LEN` readings every `HOP` readings (as the
    /// type says: `App::<'_, 64, 16>::with_window(..)`) around a model, for a sensor of
    /// full scale `full_scale_g`. A `HOP` outside `1..=LEN` or a `LEN` below 2 is a
    /// compile error.
    pub fn with_window(learner: Learner<'a, P, INPUTS, CLASSES>, full_scale_g: f32) -> Self {
        const {
            assert!(
                LEN >= 2 && HOP >= 1 && HOP <= LEN,
                "App: need LEN >= 2 and 1 <= HOP <= LEN"
            );
            assert!(
                AXES >= 1 && (INPUTS == 3 * AXES || INPUTS == LEN * AXES),
                "App: INPUTS must be 3 AXES (features) or LEN AXES (the raw window)"
            )
        };
        App {
            learner,
            validator: Validator::new(full_scale_g),
            window: Window::new(),
            metrics: Metrics::new(),
            windows: 0,
            unlabelled: 0,
        }
    }

    /// Takes one read of the sensor. Bad data is counted and dropped here, so it never
    /// reaches the window or the model. Returns `true` when a window is full.
    pub fn push(&mut self, read: Result<[f32; AXES], SensorError>) -> bool {
        match self.validator.check(read) {
            Ok(r) => self.window.push(r),
            Err(_) => self.window.is_full(),
        }
    }

    /// Like [`push`](Self::push), but also says why a reading was rejected.
    pub fn push_checked(&mut self, read: Result<[f32; AXES], SensorError>) -> Result<bool, BadReading> {
        let r = self.validator.check(read)?;
        Ok(self.window.push(r))
    }

    /// The model's input for the current window: its features, or the raw readings.
    pub fn current_features(&self) -> [f32; INPUTS] {
        let mut x = [0.0f32; INPUTS];
        let samples = self.window.samples().as_flattened();
        if INPUTS == 3 * AXES {
            features_flat(samples, AXES, &mut x);
        } else if let Some(raw) = samples.get(..INPUTS) {
            x.copy_from_slice(raw);
        }
        x
    }

    /// Closes the current (full) window: predicts its class, scores the prediction
    /// against `truth` if known, takes one optimizer step if `label` is given, and
    /// starts the next window (keeping the last `LEN - HOP` readings).
    pub fn finish_window(
        &mut self,
        label: Option<usize>,
        truth: Option<usize>,
    ) -> Result<WindowOutcome, StepError> {
        let x = self.current_features();
        self.window.slide(HOP);
        // Labelled: the step's own forward pass gives the prediction (made before the
        // update, so it is scored as an unseen window).
        let (predicted, loss) = match label {
            Some(l) => {
                let (predicted, loss) = self.learner.predict_then_learn(&x, l)?;
                self.metrics.add_loss(loss);
                (predicted, Some(loss))
            }
            None => {
                self.unlabelled = self.unlabelled.saturating_add(1);
                (self.learner.predict(&x)?, None)
            }
        };
        let correct = truth.map(|t| t == predicted);
        if let Some(c) = correct {
            self.metrics.score(c);
        }
        self.windows = self.windows.saturating_add(1);
        Ok(WindowOutcome {
            predicted,
            correct,
            loss,
        })
    }

    /// Closes the current window without predicting or training on it: it is only
    /// counted in [`windows`](Self::windows). Replaying a stream's reads through
    /// [`push`](Self::push) and this method brings the screening of readings to the
    /// same state as the original run (a restarted device fast-forwarding to where
    /// its checkpoint was taken).
    pub fn skip_window(&mut self) {
        self.window.slide(HOP);
        self.windows = self.windows.saturating_add(1);
    }

    /// The running metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Mutable running metrics (to take the mean loss of a reporting period).
    pub fn metrics_mut(&mut self) -> &mut Metrics {
        &mut self.metrics
    }

    /// The rejected readings so far.
    pub fn bad_counts(&self) -> BadCounts {
        self.validator.counts()
    }

    /// Windows closed so far (skipped ones included).
    pub fn windows(&self) -> u32 {
        self.windows
    }

    /// Windows predicted without a label.
    pub fn unlabelled(&self) -> u32 {
        self.unlabelled
    }

    /// The model.
    pub fn learner(&self) -> &Learner<'a, P, INPUTS, CLASSES> {
        &self.learner
    }

    /// Readings per window.
    pub const fn window_len(&self) -> usize {
        LEN
    }

    /// Readings between the starts of two windows.
    pub const fn hop(&self) -> usize {
        HOP
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelStorage, EMPTY_STORAGE};
    use crate::sensor::Reading;

    #[test]
    fn overlapping_windows_close_every_hop_readings() {
        let mut s = EMPTY_STORAGE;
        let mut a: App<'_, 8, 2> = App::with_window(Learner::new(&mut s, 3).unwrap(), 2.0);
        assert_eq!((a.window_len(), a.hop()), (8, 2));
        let mut closed = std::vec::Vec::new();
        for i in 0..20 {
            if a.push(Ok(reading(i))) {
                let f = a.current_features();
                a.finish_window(Some(0), Some(0)).unwrap();
                closed.push((i, f[0]));
            }
        }
        // Full at reading 8 (index 7), then every 2 readings.
        let at: std::vec::Vec<usize> = closed.iter().map(|c| c.0).collect();
        assert_eq!(at, [7, 9, 11, 13, 15, 17, 19]);
        // The second window is the first shifted by 2 readings: its x mean 0.02 higher.
        assert!((closed[1].1 - closed[0].1 - 0.02).abs() < 1e-6);
        assert_eq!(a.learner().steps(), 7);
    }

    fn app(s: &mut ModelStorage) -> App<'_> {
        App::new(Learner::new(s, 3).unwrap(), 2.0)
    }

    fn reading(i: usize) -> Reading {
        let t = i as f32 * 0.01;
        [t, 0.5 - t, 0.9]
    }

    #[test]
    fn bad_readings_never_reach_the_window_or_the_model() {
        let mut s1 = EMPTY_STORAGE;
        let mut s2 = EMPTY_STORAGE;
        let (mut clean, mut dirty) = (app(&mut s1), app(&mut s2));
        let bad: [Result<Reading, SensorError>; 4] = [
            Err(SensorError::Bus),
            Ok([f32::NAN, 0.0, 1.0]),
            Ok([0.0, 2.0, 0.0]),
            Ok([0.0, 0.0, f32::NEG_INFINITY]),
        ];
        for i in 0..WINDOW_LEN {
            let full = clean.push(Ok(reading(i)));
            for b in bad {
                assert!(!dirty.push(b));
            }
            assert_eq!(dirty.push(Ok(reading(i))), full);
        }
        assert_eq!(clean.current_features(), dirty.current_features());
        let a = clean.finish_window(Some(1), Some(1)).unwrap();
        let b = dirty.finish_window(Some(1), Some(1)).unwrap();
        assert_eq!(a, b);
        assert_eq!(clean.learner().params(), dirty.learner().params());
        assert_eq!(
            clean.learner().optimizer_state(),
            dirty.learner().optimizer_state()
        );
        let c = dirty.bad_counts();
        let n = WINDOW_LEN as u32;
        assert_eq!((c.bus, c.non_finite, c.saturated, c.stuck), (n, 2 * n, n, 0));
        assert_eq!(clean.bad_counts().total(), 0);
    }

    #[test]
    fn a_stuck_sensor_is_skipped_and_the_model_is_untouched_by_it() {
        let mut s = EMPTY_STORAGE;
        let mut a = app(&mut s);
        for _ in 0..10 {
            let _ = a.push(Ok([0.1, 0.2, 0.3]));
        }
        assert_eq!(a.push_checked(Ok([0.1, 0.2, 0.3])), Err(BadReading::Stuck));
        assert_eq!(a.bad_counts().stuck, 11 - (crate::validate::STUCK_RUN - 1));
        assert_eq!(a.learner().steps(), 0);
    }

    #[test]
    fn labelled_windows_train_and_unlabelled_only_predict() {
        let mut s = EMPTY_STORAGE;
        let mut a = app(&mut s);
        for w in 0..4 {
            for i in 0..WINDOW_LEN {
                let _ = a.push(Ok(reading(i + w)));
            }
            let label = if w % 2 == 0 { Some(0) } else { None };
            let out = a.finish_window(label, Some(0)).unwrap();
            assert_eq!(out.loss.is_some(), label.is_some());
            assert!(out.predicted < crate::model::CLASSES);
        }
        assert_eq!(a.learner().steps(), 2);
        assert_eq!((a.windows(), a.unlabelled()), (4, 2));
        assert_eq!(a.metrics().overall().total, 4);
    }
}
