//! Softmax cross-entropy on logits (`torch.nn.CrossEntropyLoss`, mean reduction).
//!
//! For a batch of `B` samples with logits `z` (identity output layer) and targets `y`
//! (one-hot rows, class labels, or probabilities):
//!
//! ```text
//! s = softmax(z),  s_k = e^{z_k} / sum_j e^{z_j}
//! L = -1/B * sum_b sum_k y_bk log s_bk
//! dL/dz_bk = (s_bk * sum_j y_bj - y_bk) / B          (= (s - y) / B for one-hot y)
//! ```
//!
//! Numerical stability: `log s_k = z_k - m - ln sum_j e^{z_j - m}` with `m = max z`,
//! so no exponential overflows and the loss is finite for any finite logits.

use super::Target;
use crate::math;

/// `(max z, ln sum_j e^{z_j - max z})`.
#[inline]
fn shifted_log_sum_exp(z: &[f32]) -> (f32, f32) {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let s = z.iter().fold(0.0f32, |s, v| s + math::exp(v - m));
    (m, math::ln(s))
}

/// The sample's cross-entropy `-sum_k y_k log softmax(z)_k`.
pub fn value(z: &[f32], target: &Target<'_>) -> f32 {
    let (m, lse) = shifted_log_sum_exp(z);
    match target {
        Target::Class(c) => z.get(*c).map_or(0.0, |zc| lse - (zc - m)),
        Target::Values(_) => z.iter().enumerate().fold(0.0f32, |s, (k, zk)| {
            let y = target.value(k);
            if y == 0.0 {
                s
            } else {
                s + y * (lse - (zk - m))
            }
        }),
    }
}

/// Writes `dL/dz` over `z` and returns the sample's cross-entropy.
pub fn loss_and_delta(z: &mut [f32], target: &Target<'_>, inv_batch: f32) -> f32 {
    let loss = value(z, target);
    let (m, lse) = shifted_log_sum_exp(z);
    let y_sum = match target {
        Target::Class(_) => 1.0,
        Target::Values(v) => v.iter().sum(),
    };
    for (k, zk) in z.iter_mut().enumerate() {
        let s = math::exp(*zk - m - lse);
        *zk = inv_batch * (s * y_sum - target.value(k));
    }
    loss
}
