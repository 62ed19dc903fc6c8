//! Mean squared error (`torch.nn.MSELoss`, mean reduction).
//!
//! For a batch of `B` samples with `K` outputs `a` and targets `y`:
//!
//! ```text
//! L = 1/(B K) * sum_b sum_k (a_bk - y_bk)^2
//! dL/da_bk = 2 (a_bk - y_bk) / (B K)
//! dL/dz_bk = dL/da_bk * f'(a_bk)          (f = the last layer's activation)
//! ```

use super::Target;
use crate::Activation;

/// The sample's mean squared error over its `K` outputs.
pub fn value(out: &[f32], target: &Target<'_>) -> f32 {
    let k = out.len().max(1) as f32;
    let s = out.iter().enumerate().fold(0.0f32, |s, (i, a)| {
        let d = a - target.value(i);
        s + d * d
    });
    s / k
}

/// Writes `dL/dz` over `out` and returns the sample's mean squared error.
pub fn loss_and_delta(act: Activation, out: &mut [f32], target: &Target<'_>, inv_batch: f32) -> f32 {
    let loss = value(out, target);
    let norm = 2.0 * inv_batch / out.len().max(1) as f32;
    for (i, a) in out.iter_mut().enumerate() {
        let d = *a - target.value(i);
        *a = norm * d * act.derivative_from_output(*a);
    }
    loss
}
