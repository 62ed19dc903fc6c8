//! A seeded simulated accelerometer: three activities, two users/mountings, and some
//! bad readings. The simulator's `stream` command and the QEMU firmware run this same
//! code, so with the same seed they see the same samples, bit for bit.
//!
//! Classes: 0 = **rest** (lying still), 1 = **walk** (periodic bounce along gravity),
//! 2 = **shake** (fast oscillation across). Each class has a *signature* per user:
//! where gravity points, the axis, frequency and amplitude of the motion, the noise.
//! Activities last 2 to 6 windows, in random order.
//!
//! **Concept change**: from window `change_at` on, another user wears the device,
//! mounted another way: the user's signatures differ (a brisk walk that moves the
//! device more than the first user's shaking, a gentle shake, rest face down), the
//! axes are rotated (`x, y, z -> z, x, y`) and the gain drops by 10 %. A model trained
//! on the first user is mostly wrong on the second.
//!
//! **Bad data**: per read, about 0.4 % bus errors, 0.4 % NaN axes, 0.4 % saturated
//! axes and 0.2 % starts of a frozen-output episode (the last reading repeated 8
//! times).

use crate::model::CLASSES;
use crate::sensor::{Accelerometer, Reading, SensorError};
use crate::window::SAMPLE_RATE_HZ;
use microtrain::Rng;

/// The simulated sensor's full scale, in g (as an LSM303AGR at its default ±2 g).
pub const FULL_SCALE_G: f32 = 2.0;

/// Reads a frozen-output episode lasts.
const STUCK_EPISODE: u32 = 8;

/// How one activity looks for one user.
#[derive(Debug, Clone, Copy)]
struct Signature {
    /// Gravity in device axes (posture), in g.
    gravity: [f32; 3],
    /// Direction of the periodic motion.
    axis: [f32; 3],
    /// Its frequency, Hz.
    freq_hz: f32,
    /// Its amplitude, g.
    amp: f32,
    /// Half-width of each of the two uniform noise terms, g.
    noise: f32,
}

const USER_A: [Signature; CLASSES] = [
    Signature {
        gravity: [0.0, 0.0, 1.0],
        axis: [1.0, 0.0, 0.0],
        freq_hz: 0.0,
        amp: 0.0,
        noise: 0.01,
    },
    Signature {
        gravity: [0.0, -0.95, 0.3],
        axis: [0.0, -0.95, 0.3],
        freq_hz: 2.0,
        amp: 0.35,
        noise: 0.04,
    },
    Signature {
        gravity: [0.7, 0.0, 0.7],
        axis: [1.0, 0.0, 0.0],
        freq_hz: 5.0,
        amp: 0.8,
        noise: 0.06,
    },
];

const USER_B: [Signature; CLASSES] = [
    Signature {
        gravity: [0.0, 0.2, -0.98],
        axis: [1.0, 0.0, 0.0],
        freq_hz: 0.0,
        amp: 0.0,
        noise: 0.01,
    },
    Signature {
        gravity: [0.7, 0.0, 0.7],
        axis: [0.7, 0.0, 0.7],
        freq_hz: 2.6,
        amp: 0.75,
        noise: 0.05,
    },
    Signature {
        gravity: [-0.95, 0.3, 0.0],
        axis: [0.0, 0.0, 1.0],
        freq_hz: 3.0,
        amp: 0.3,
        noise: 0.04,
    },
];

/// Gain of the second mounting.
const GAIN_B: f32 = 0.9;

/// The simulated accelerometer.
#[derive(Debug, Clone)]
pub struct SimAccelerometer {
    rng: Rng,
    change_at: u32,
    t: u32,
    class: usize,
    segment_left: u32,
    changed: bool,
    amp_scale: f32,
    tilt: [f32; 3],
    last: Reading,
    stuck_left: u32,
}

impl SimAccelerometer {
    /// A stream seeded with `seed` whose regime changes at window `change_at`.
    pub fn new(seed: u64, change_at: u32) -> Self {
        SimAccelerometer {
            rng: Rng::new(seed),
            change_at,
            t: 0,
            class: 0,
            segment_left: 0,
            changed: false,
            amp_scale: 1.0,
            tilt: [0.0; 3],
            last: [0.0, 0.0, 1.0],
            stuck_left: 0,
        }
    }

    /// Starts window `index`: picks the activity (a new one when the current has run
    /// its course), the regime, and this window's small variations.
    pub fn begin_window(&mut self, index: u32) {
        if self.segment_left == 0 {
            self.class = self.rng.below(CLASSES as u32) as usize;
            self.segment_left = 2 + self.rng.below(5);
        }
        self.segment_left -= 1;
        self.changed = index >= self.change_at;
        self.amp_scale = 0.8 + 0.4 * self.rng.unit_f32();
        self.tilt = [
            self.rng.symmetric(0.08),
            self.rng.symmetric(0.08),
            self.rng.symmetric(0.08),
        ];
    }

    /// The true class of the current window.
    pub fn truth(&self) -> usize {
        self.class
    }

    /// Whether the current window is in the second regime.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// The clean signal at the current time step.
    fn signal(&mut self) -> Reading {
        let users = if self.changed { &USER_B } else { &USER_A };
        let s = users.get(self.class).copied().unwrap_or(USER_A[0]);
        let cycles = s.freq_hz * self.t as f32 / SAMPLE_RATE_HZ as f32;
        let wave = libm::sinf(2.0 * core::f32::consts::PI * (cycles - libm::floorf(cycles)));
        let a = s.amp * self.amp_scale * wave;
        let mut r = [0.0f32; 3];
        for (k, v) in r.iter_mut().enumerate() {
            let noise = self.rng.symmetric(s.noise) + self.rng.symmetric(s.noise);
            *v = s.gravity[k] + self.tilt[k] + a * s.axis[k] + noise;
        }
        if self.changed {
            let [x, y, z] = r;
            r = [GAIN_B * z, GAIN_B * x, GAIN_B * y];
        }
        r
    }
}

impl Accelerometer for SimAccelerometer {
    fn read(&mut self) -> Result<Reading, SensorError> {
        let clean = self.signal();
        self.t = self.t.wrapping_add(1);
        if self.stuck_left > 0 {
            self.stuck_left -= 1;
            return Ok(self.last);
        }
        let axis = self.rng.below(3) as usize;
        let out = match self.rng.below(1000) {
            0..=3 => return Err(SensorError::Bus),
            4..=7 => {
                let mut r = clean;
                r[axis] = f32::NAN;
                r
            }
            8..=11 => {
                let mut r = clean;
                r[axis] = if clean[axis] < 0.0 {
                    -FULL_SCALE_G
                } else {
                    FULL_SCALE_G
                };
                r
            }
            12..=13 => {
                self.stuck_left = STUCK_EPISODE - 1;
                self.last
            }
            _ => clean,
        };
        self.last = out;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(seed: u64, n: usize) -> ([u32; 4], Reading) {
        let mut s = SimAccelerometer::new(seed, 5);
        let mut kinds = [0u32; 4];
        let mut last = [0.0; 3];
        for i in 0..n {
            if i % 32 == 0 {
                s.begin_window((i / 32) as u32);
            }
            match s.read() {
                Err(_) => kinds[0] += 1,
                Ok(r) if r.iter().any(|v| v.is_nan()) => kinds[1] += 1,
                Ok(r) if r.iter().any(|v| v.abs() >= FULL_SCALE_G) => kinds[2] += 1,
                Ok(r) => {
                    kinds[3] += 1;
                    last = r;
                }
            }
        }
        (kinds, last)
    }

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        assert_eq!(reads(7, 5000), reads(7, 5000));
        assert_ne!(reads(7, 5000).1, reads(8, 5000).1);
    }

    #[test]
    fn injects_every_kind_of_bad_data_at_low_rates() {
        let (kinds, _) = reads(11, 20_000);
        for k in &kinds[..3] {
            assert!((20..=200).contains(k), "{kinds:?}");
        }
        assert!(kinds[3] > 19_000);
    }

    #[test]
    fn good_readings_stay_inside_full_scale() {
        let mut s = SimAccelerometer::new(3, 50);
        for w in 0..100 {
            s.begin_window(w);
            for _ in 0..32 {
                let clean = s.signal();
                assert!(clean.iter().all(|v| v.abs() < 0.99 * FULL_SCALE_G), "{clean:?}");
                s.t += 1;
            }
            assert!(s.truth() < CLASSES);
            assert_eq!(s.changed(), w >= 50);
        }
    }
}
