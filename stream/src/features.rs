//! The features of one window: what the model sees.
//!
//! Per axis `a` of `n` readings:
//!
//! ```text
//! mean_a   = sum(a_i) / n                      posture: where gravity points
//! std_a    = sqrt(sum((a_i - mean_a)^2) / n)   how hard the device moves
//! jerk_a   = sum(|a_i - a_{i-1}|) / (n - 1)    how fast it moves
//! ```
//!
//! laid out `[mean_x, mean_y, mean_z, std_x, std_y, std_z, jerk_x, jerk_y, jerk_z]`.
//! Plain `f32` sums in a fixed order and a correctly rounded square root: the same
//! bits on every target.

use crate::sensor::Reading;

/// Number of features per window.
pub const FEATURES: usize = 9;

/// The features of `samples` (all zero for an empty slice).
pub fn features(samples: &[Reading]) -> [f32; FEATURES] {
    let mut f = [0.0f32; FEATURES];
    let n = samples.len();
    if n == 0 {
        return f;
    }
    let inv_n = 1.0 / n as f32;
    for axis in 0..3 {
        let mean = samples.iter().fold(0.0f32, |s, r| s + r[axis]) * inv_n;
        let var = samples.iter().fold(0.0f32, |s, r| {
            let d = r[axis] - mean;
            s + d * d
        }) * inv_n;
        let (jerk, _) = samples
            .iter()
            .skip(1)
            .fold((0.0f32, samples[0][axis]), |(s, prev), r| {
                (s + (r[axis] - prev).abs(), r[axis])
            });
        f[axis] = mean;
        f[3 + axis] = libm::sqrtf(var);
        f[6 + axis] = if n > 1 { jerk / (n - 1) as f32 } else { 0.0 };
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_signal_has_its_mean_and_no_motion() {
        let s = [[0.5, -0.25, 1.0]; 8];
        let f = features(&s);
        assert_eq!(&f[..3], &[0.5, -0.25, 1.0]);
        assert_eq!(&f[3..], &[0.0; 6]);
    }

    #[test]
    fn alternating_signal_has_known_std_and_jerk() {
        let s: [Reading; 4] = [
            [1.0, 0.0, 0.0],
            [-1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [-1.0, 0.0, 0.0],
        ];
        let f = features(&s);
        assert_eq!(f[0], 0.0);
        assert_eq!(f[3], 1.0);
        assert_eq!(f[6], 2.0);
        assert_eq!(features(&[]), [0.0; FEATURES]);
        assert_eq!(features(&s[..1])[6], 0.0);
    }
}
