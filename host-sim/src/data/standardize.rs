//! Feature standardization, folded into the first layer when a model is saved.
//!
//! Training sees `z_j = (x_j - mean_j) / std_j`. A saved model must take raw sensor
//! values, so the first layer absorbs the scaling: `W'_ij = W_ij / std_j` and
//! `b'_i = b_i - sum_j W'_ij mean_j` ([`fold`]); fine-tuning undoes it ([`unfold`]).
//! Statistics are computed in `f64` in row order, so they are the same on every run.

use microtrain::Dense;

/// Per-feature mean and standard deviation (population; 1 for a constant feature).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Means.
    pub mean: Vec<f64>,
    /// Standard deviations.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Statistics of `x` (row-major, `inputs` per row).
    pub fn fit(x: &[f32], inputs: usize) -> Self {
        let n = (x.len() / inputs.max(1)).max(1) as f64;
        let mut mean = vec![0.0f64; inputs];
        for row in x.chunks_exact(inputs) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += f64::from(*v));
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; inputs];
        for row in x.chunks_exact(inputs) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(*v) - m).powi(2);
            }
        }
        let std = var
            .iter()
            .map(|s| {
                let sd = (s / n).sqrt();
                if sd > 1e-12 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean, std }
    }

    /// Standardizes `x` in place.
    pub fn apply(&self, x: &mut [f32]) {
        for row in x.chunks_exact_mut(self.mean.len().max(1)) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = ((f64::from(*v) - m) / s) as f32;
            }
        }
    }
}

/// Rewrites the first layer of `params` so that the model takes raw inputs.
pub fn fold(layers: &[Dense], params: &mut [f32], s: &Standardizer) {
    let Some(l) = layers.first() else { return };
    let (w, rest) = params.split_at_mut(l.weights_len());
    for (i, row) in w.chunks_exact_mut(l.inputs).enumerate() {
        let mut shift = 0.0f64;
        for ((wij, m), sd) in row.iter_mut().zip(&s.mean).zip(&s.std) {
            let scaled = f64::from(*wij) / sd;
            shift += scaled * m;
            *wij = scaled as f32;
        }
        rest[i] = (f64::from(rest[i]) - shift) as f32;
    }
}

/// The inverse of [`fold`]: the first layer of a raw-input model for standardized
/// inputs.
pub fn unfold(layers: &[Dense], params: &mut [f32], s: &Standardizer) {
    let Some(l) = layers.first() else { return };
    let (w, rest) = params.split_at_mut(l.weights_len());
    for (i, row) in w.chunks_exact_mut(l.inputs).enumerate() {
        let mut shift = 0.0f64;
        for ((wij, m), sd) in row.iter_mut().zip(&s.mean).zip(&s.std) {
            shift += f64::from(*wij) * m;
            *wij = (f64::from(*wij) * sd) as f32;
        }
        rest[i] = (f64::from(rest[i]) + shift) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain::Activation;

    #[test]
    fn folding_keeps_the_first_layer_output() {
        let layers = [Dense::new(2, 1, Activation::Identity)];
        let x = [1.0f32, 10.0, 3.0, 30.0, 5.0, 20.0];
        let s = Standardizer::fit(&x, 2);
        let mut z = x;
        s.apply(&mut z);
        let p = [0.5f32, -0.25, 0.1];
        let mut q = p;
        fold(&layers, &mut q, &s);
        for (raw, st) in x.chunks(2).zip(z.chunks(2)) {
            let a = p[0] * st[0] + p[1] * st[1] + p[2];
            let b = q[0] * raw[0] + q[1] * raw[1] + q[2];
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        unfold(&layers, &mut q, &s);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-6);
        }
    }
}
