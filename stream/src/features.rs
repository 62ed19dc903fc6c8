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

/// Features per window of a stream with `axes` axes: mean, standard deviation and
/// jerk of each.
pub const fn feature_count(axes: usize) -> usize {
    3 * axes
}

/// The features of a window of any number of axes, for a pipeline whose shape is
/// configured at run time: `samples` holds the readings one after another (`axes`
/// values each, a trailing partial reading is ignored), `out` receives
/// `[mean_0 .. mean_{axes-1}, std_0 .., jerk_0 ..]` (the layout of [`features`], which
/// it equals bit for bit for three axes); values past [`feature_count`]`(axes)` are
/// left untouched, and a too short `out` gets only what fits.
pub fn features_flat(samples: &[f32], axes: usize, out: &mut [f32]) {
    if axes == 0 {
        return;
    }
    let rows = || samples.chunks_exact(axes);
    let n = rows().len();
    let mut put = |i: usize, v: f32| {
        if let Some(o) = out.get_mut(i) {
            *o = v;
        }
    };
    if n == 0 {
        (0..feature_count(axes)).for_each(|i| put(i, 0.0));
        return;
    }
    let inv_n = 1.0 / n as f32;
    for axis in 0..axes {
        let at = |r: &[f32]| r.get(axis).copied().unwrap_or(0.0);
        let mean = rows().fold(0.0f32, |s, r| s + at(r)) * inv_n;
        let var = rows().fold(0.0f32, |s, r| {
            let d = at(r) - mean;
            s + d * d
        }) * inv_n;
        let first = rows().next().map_or(0.0, at);
        let (jerk, _) = rows()
            .skip(1)
            .fold((0.0f32, first), |(s, prev), r| (s + (at(r) - prev).abs(), at(r)));
        put(axis, mean);
        put(axes + axis, libm::sqrtf(var));
        put(2 * axes + axis, if n > 1 { jerk / (n - 1) as f32 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_features_of_three_axes_are_the_demo_features_bit_for_bit() {
        let s: [Reading; 5] = [
            [0.1, -0.7, 0.93],
            [0.31, -0.2, 1.1],
            [-0.05, 0.4, 0.77],
            [0.2, 0.11, 1.3],
            [0.7, -0.9, 0.5],
        ];
        let flat: std::vec::Vec<f32> = s.iter().flatten().copied().collect();
        let mut out = [9.0f32; 10];
        features_flat(&flat, 3, &mut out);
        let want = features(&s);
        assert_eq!(
            out[..9].iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>()
        );
        assert_eq!(out[9], 9.0, "past the features: untouched");
    }

    #[test]
    fn flat_features_of_two_axes_and_of_nothing() {
        let mut out = [7.0f32; 6];
        features_flat(&[1.0, 10.0, -1.0, 10.0, 1.0, 10.0], 2, &mut out);
        assert_eq!(out[0], 1.0 / 3.0);
        assert_eq!(out[1], 10.0);
        assert_eq!((out[3], out[4], out[5]), (0.0, 2.0, 0.0));
        features_flat(&[], 2, &mut out);
        assert_eq!(out, [0.0; 6]);
    }

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
