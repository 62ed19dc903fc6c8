//! Online standardisation of the model's inputs: a running mean and variance per input
//! (Welford's update, in `f32`), so inputs of very different scales (accelerations
//! near 10, angular rates near 1) reach the model near zero mean and unit variance.
//! The storage is the caller's (two slices of the input count), as for the model.
//!
//! ```text
//! n += 1;  d = x - mean;  mean += d / n;  m2 += d * (x - mean)
//! z = (x - mean) / sqrt(m2 / n + EPS)
//! ```

/// Added to the variance before the square root (no division by zero on a constant
/// input).
pub const EPS: f32 = 1e-6;

/// Running mean and variance of each input, over caller-owned storage.
#[derive(Debug)]
pub struct RunningScale<'a> {
    count: u32,
    mean: &'a mut [f32],
    m2: &'a mut [f32],
}

impl<'a> RunningScale<'a> {
    /// No inputs seen yet; `mean` and `m2` (one value per input, the shorter length
    /// counts) are zeroed.
    pub fn new(mean: &'a mut [f32], m2: &'a mut [f32]) -> Self {
        mean.fill(0.0);
        m2.fill(0.0);
        RunningScale { count: 0, mean, m2 }
    }

    /// Inputs seen.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Adds one input vector to the statistics (values past the storage are ignored).
    pub fn update(&mut self, x: &[f32]) {
        self.count = self.count.saturating_add(1);
        let inv_n = 1.0 / self.count as f32;
        for ((m, s), v) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(x) {
            let d = v - *m;
            *m += d * inv_n;
            *s += d * (v - *m);
        }
    }

    /// Standardises `x` in place with the statistics so far (unchanged before the
    /// first [`update`](Self::update)).
    pub fn apply(&self, x: &mut [f32]) {
        if self.count == 0 {
            return;
        }
        let inv_n = 1.0 / self.count as f32;
        for ((m, s), v) in self.mean.iter().zip(self.m2.iter()).zip(x) {
            *v = (*v - m) / libm::sqrtf(s * inv_n + EPS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_to_zero_mean_and_unit_variance() {
        let (mut mean, mut m2) = ([9.0f32; 2], [9.0f32; 2]);
        let mut s = RunningScale::new(&mut mean, &mut m2);
        let mut x = [5.0, 1.0];
        s.apply(&mut x);
        assert_eq!(x, [5.0, 1.0], "nothing seen: unchanged");
        for v in [[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]] {
            s.update(&v);
        }
        assert_eq!(s.count(), 3);
        let mut x = [3.0, 10.0];
        s.apply(&mut x);
        assert_eq!(x, [0.0, 0.0]);
        let mut x = [5.0, 11.0];
        s.apply(&mut x);
        // mean 3, variance 8/3; a constant input's variance is 0 (EPS keeps it finite).
        assert!((x[0] - 2.0 / (8.0f32 / 3.0).sqrt()).abs() < 1e-5, "{x:?}");
        assert!((x[1] - 1.0 / EPS.sqrt()).abs() < 1.0, "{x:?}");
    }
}
