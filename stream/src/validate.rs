//! Screening of raw readings: bad sensor data is counted and never reaches the model.
//!
//! A reading is rejected when
//! - the bus reported an error ([`BadReading::Bus`]),
//! - an axis is NaN or infinite ([`BadReading::NonFinite`]),
//! - an axis is at the sensor's full scale, where the true value is unknown
//!   ([`BadReading::Saturated`]),
//! - it is bit for bit the same as the previous [`STUCK_RUN`] - 1 readings: a live sensor
//!   always has some noise, so a run that long means the output is frozen
//!   ([`BadReading::Stuck`]; the first readings of the run were already accepted).

use crate::sensor::SensorError;

/// A run of this many identical readings (or longer) counts as a stuck sensor from
/// this reading on.
pub const STUCK_RUN: u32 = 4;

/// Why a reading was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BadReading {
    /// The sensor or its bus returned an error.
    Bus,
    /// An axis is NaN or infinite.
    NonFinite,
    /// An axis is at (or beyond) the full-scale limit.
    Saturated,
    /// The same reading repeated [`STUCK_RUN`] times or more.
    Stuck,
}

/// How many readings were rejected, per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BadCounts {
    /// Bus or sensor errors.
    pub bus: u32,
    /// NaN or infinite axes.
    pub non_finite: u32,
    /// Saturated axes.
    pub saturated: u32,
    /// Stuck readings.
    pub stuck: u32,
}

impl BadCounts {
    /// All rejected readings.
    pub fn total(&self) -> u32 {
        self.bus
            .saturating_add(self.non_finite)
            .saturating_add(self.saturated)
            .saturating_add(self.stuck)
    }

    fn count(&mut self, why: BadReading) {
        let c = match why {
            BadReading::Bus => &mut self.bus,
            BadReading::NonFinite => &mut self.non_finite,
            BadReading::Saturated => &mut self.saturated,
            BadReading::Stuck => &mut self.stuck,
        };
        *c = c.saturating_add(1);
    }
}

/// Screens readings of `AXES` axes (the demo's 3 by default) and counts the rejected
/// ones.
#[derive(Debug, Clone)]
pub struct Validator<const AXES: usize = 3> {
    saturation: f32,
    last: Option<[u32; AXES]>,
    run: u32,
    counts: BadCounts,
}

impl<const AXES: usize> Validator<AXES> {
    /// A validator for a sensor whose full scale (its configured range, in the
    /// readings' unit) is `full_scale_g`: an axis with `|a| >= 0.995 * full_scale_g`
    /// is saturated.
    pub fn new(full_scale_g: f32) -> Self {
        Validator {
            saturation: 0.995 * full_scale_g,
            last: None,
            run: 0,
            counts: BadCounts::default(),
        }
    }

    /// The saturation limit: readings at or beyond it in magnitude are rejected.
    pub fn saturation(&self) -> f32 {
        self.saturation
    }

    /// Checks one read of up to `AXES` axes given as a slice (a pipeline whose number
    /// of axes is configured at run time uses a validator of its largest count); the
    /// axes past the slice count as zero for the stuck-sensor check. A slice longer
    /// than `AXES` is a bus error (a reading the application cannot hold).
    pub fn check_slice(&mut self, read: Result<&[f32], SensorError>) -> Result<(), BadReading> {
        let mut r = [0.0f32; AXES];
        let read = read.and_then(|s| {
            r.get_mut(..s.len()).ok_or(SensorError::Bus)?.copy_from_slice(s);
            Ok(r)
        });
        self.check(read).map(|_| ())
    }

    /// The counts so far.
    pub fn counts(&self) -> BadCounts {
        self.counts
    }

    /// Checks one read: the reading if it is good, otherwise why it was rejected (and
    /// counted).
    pub fn check(&mut self, read: Result<[f32; AXES], SensorError>) -> Result<[f32; AXES], BadReading> {
        let verdict = self.classify(read);
        if let Err(why) = verdict {
            self.counts.count(why);
        }
        verdict
    }

    fn classify(&mut self, read: Result<[f32; AXES], SensorError>) -> Result<[f32; AXES], BadReading> {
        let r = read.map_err(|_| BadReading::Bus)?;
        if r.iter().any(|a| !a.is_finite()) {
            return Err(BadReading::NonFinite);
        }
        if r.iter().any(|a| a.abs() >= self.saturation) {
            return Err(BadReading::Saturated);
        }
        let bits = r.map(f32::to_bits);
        if self.last == Some(bits) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(bits);
            self.run = 1;
        }
        if self.run >= STUCK_RUN {
            return Err(BadReading::Stuck);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_readings_pass_unchanged() {
        let mut v = Validator::new(2.0);
        assert_eq!(v.check(Ok([0.1, -0.2, 0.98])), Ok([0.1, -0.2, 0.98]));
        assert_eq!(v.check(Ok([1.98, -1.98, 0.0])), Ok([1.98, -1.98, 0.0]));
        assert_eq!(v.counts().total(), 0);
    }

    #[test]
    fn each_kind_of_bad_reading_is_rejected_and_counted() {
        let mut v = Validator::new(2.0);
        assert_eq!(v.check(Err(SensorError::Bus)), Err(BadReading::Bus));
        assert_eq!(v.check(Ok([f32::NAN, 0.0, 1.0])), Err(BadReading::NonFinite));
        assert_eq!(v.check(Ok([0.0, f32::INFINITY, 1.0])), Err(BadReading::NonFinite));
        assert_eq!(v.check(Ok([0.0, 0.0, -2.0])), Err(BadReading::Saturated));
        assert_eq!(v.check(Ok([1.995, 0.0, 0.0])), Err(BadReading::Saturated));
        let c = v.counts();
        assert_eq!((c.bus, c.non_finite, c.saturated, c.stuck), (1, 2, 2, 0));
        assert_eq!(c.total(), 5);
    }

    #[test]
    fn a_frozen_sensor_is_stuck_from_the_run_length_on() {
        let mut v = Validator::new(2.0);
        let r = [0.25, 0.5, 0.75];
        for _ in 1..STUCK_RUN {
            assert_eq!(v.check(Ok(r)), Ok(r));
        }
        assert_eq!(v.check(Ok(r)), Err(BadReading::Stuck));
        assert_eq!(v.check(Ok(r)), Err(BadReading::Stuck));
        // Any change ends the run.
        assert_eq!(v.check(Ok([0.25, 0.5, 0.7501])), Ok([0.25, 0.5, 0.7501]));
        assert_eq!(v.check(Ok(r)), Ok(r));
        assert_eq!(v.counts().stuck, 2);
    }

    #[test]
    fn the_saturation_limit_follows_the_range_and_any_axis_count() {
        let mut v = Validator::<6>::new(40.0);
        assert_eq!(v.saturation(), 0.995 * 40.0);
        assert_eq!(v.check_slice(Ok(&[29.0, -3.0, 1.0, 34.8, 0.0, 2.0])), Ok(()));
        assert_eq!(
            v.check_slice(Ok(&[29.0, -3.0, 1.0, 0.0, -39.9, 2.0])),
            Err(BadReading::Saturated)
        );
        assert_eq!(v.check_slice(Ok(&[1.0; 7])), Err(BadReading::Bus));
        assert_eq!(v.check_slice(Ok(&[1.0, f32::NAN])), Err(BadReading::NonFinite));
        let c = v.counts();
        assert_eq!((c.saturated, c.bus, c.non_finite), (1, 1, 1));
        // The demo's 2 g range rejects what the 40 g range accepts.
        let mut demo = Validator::<3>::new(2.0);
        assert_eq!(demo.check_slice(Ok(&[2.5, 0.0, 0.0])), Err(BadReading::Saturated));
    }

    #[test]
    fn bad_readings_do_not_break_a_stuck_run_count() {
        let mut v = Validator::new(2.0);
        let r = [0.0, 0.0, 1.0];
        for _ in 1..STUCK_RUN {
            assert!(v.check(Ok(r)).is_ok());
            assert!(v.check(Err(SensorError::Bus)).is_err());
        }
        assert_eq!(v.check(Ok(r)), Err(BadReading::Stuck));
    }
}
