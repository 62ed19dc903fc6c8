//! Binary cross-entropy on sigmoid outputs (`torch.nn.BCELoss`, mean reduction).
//!
//! For a batch of `B` samples with `K` sigmoid outputs `p = sigmoid(z)` and targets
//! `0 <= y <= 1`:
//!
//! ```text
//! L = -1/(B K) * sum_b sum_k [ y log p + (1 - y) log(1 - p) ]
//! dL/dz_bk = (p_bk - y_bk) / (B K)
//! ```
//!
//! With `K = 1` this is logistic regression; with `K` classes it is the course's
//! multi-class form with one sigmoid per class.
//!
//! Numerical stability: as in PyTorch, each `log` is clamped below at `-100`, so the
//! loss is finite at `p = 0` or `p = 1`. The gradient is taken with respect to `z`
//! directly (the sigmoid's derivative `p (1 - p)` cancels the `1 / (p (1 - p))` of the
//! loss), so it is finite and exact even where `p` rounds to 0 or 1.

use super::Target;
use crate::math;

/// `max(ln x, -100)`, PyTorch's clamp.
#[inline]
fn clamped_ln(x: f32) -> f32 {
    math::max(math::ln(x), -100.0)
}

/// The sample's mean binary cross-entropy over its `K` outputs.
pub fn value(out: &[f32], target: &Target<'_>) -> f32 {
    let k = out.len().max(1) as f32;
    let s = out.iter().enumerate().fold(0.0f32, |s, (i, p)| {
        let y = target.value(i);
        s - (y * clamped_ln(*p) + (1.0 - y) * clamped_ln(1.0 - p))
    });
    s / k
}

/// Writes `dL/dz` over `out` (sigmoid outputs) and returns the sample's loss.
pub fn loss_and_delta(out: &mut [f32], target: &Target<'_>, inv_batch: f32) -> f32 {
    let loss = value(out, target);
    let norm = inv_batch / out.len().max(1) as f32;
    for (i, p) in out.iter_mut().enumerate() {
        *p = norm * (*p - target.value(i));
    }
    loss
}
