//! Binary cross-entropy on sigmoid outputs (`torch.nn.BCELoss`, mean reduction).
//!
//! For a batch of `B` samples with `K` sigmoid outputs `p = sigmoid(z)` and targets
//! `0 <= y <= 1`:
//!
//! ```text
//! L = -1/(B K) * sum_b sum_k [ y log p + (1 - y) log(1 - p) ]
//! dL/dp_bk = (p_bk - y_bk) / max(p_bk (1 - p_bk), 1e-12) / (B K)
//! dL/dz_bk = dL/dp_bk * (1 - p_bk) * p_bk          (the sigmoid's derivative)
//! ```
//!
//! which is `(p - y) / (B K)` wherever `p (1 - p) >= 1e-12`.
//!
//! With `K = 1` this is logistic regression; with `K` classes it is the course's
//! multi-class form with one sigmoid per class.
//!
//! Numerical stability, as in PyTorch: `log(1 - p)` is computed as `ln_1p(-p)`, each
//! `log` is clamped below at `-100`, so the loss is finite at `p = 0` or `p = 1`, and the gradient's denominator is clamped at
//! `1e-12` (PyTorch's `EPSILON` in `binary_cross_entropy_backward`). The gradient is
//! formed as PyTorch forms it, through `dL/dp` and then the sigmoid's derivative,
//! rather than as the simpler `p - y`: the two differ only where the sigmoid saturates
//! (`p` rounds to 1, or `p (1 - p) < 1e-12`, `|z|` above about 17 or 28), and there
//! PyTorch's gradient is what a conformance case records. A confidently wrong output
//! there gets a gradient of 0 (`p = 1`, `y = 0`) or a tenth of `p - y` (`p = 1e-13`,
//! `y = 1`), not the full `p - y`.

use super::Target;
use crate::math;

/// `max(v, -100)`, PyTorch's clamp of each log.
#[inline]
fn clamped(v: f32) -> f32 {
    math::max(v, -100.0)
}

/// The sample's mean binary cross-entropy over its `K` outputs. Each term is
/// PyTorch's: `(y - 1) max(ln_1p(-p), -100) - y max(ln p, -100)` (`ln_1p(-p)` keeps
/// `ln(1 - p)` accurate for small `p`, where `1 - p` would round).
pub fn value(out: &[f32], target: &Target<'_>) -> f32 {
    let k = out.len().max(1) as f32;
    let s = out.iter().enumerate().fold(0.0f32, |s, (i, p)| {
        let y = target.value(i);
        s + ((y - 1.0) * clamped(math::ln_1p(-p)) - y * clamped(math::ln(*p)))
    });
    s / k
}

/// PyTorch's clamp of the gradient's denominator `p (1 - p)`.
const EPSILON: f32 = 1e-12;

/// `dL/dz` of one sigmoid output `p` with target `y`, `norm` being `1 / (B K)`: the
/// loss's gradient with respect to `p`, then the sigmoid's derivative, in PyTorch's
/// order (see the module docs).
#[inline]
fn delta(p: f32, y: f32, norm: f32) -> f32 {
    let d_p = (p - y) / math::max((1.0 - p) * p, EPSILON) * norm;
    d_p * (1.0 - p) * p
}

/// Writes `dL/dz` over `out` (sigmoid outputs) and returns the sample's loss.
pub fn loss_and_delta(out: &mut [f32], target: &Target<'_>, inv_batch: f32) -> f32 {
    let loss = value(out, target);
    let norm = inv_batch / out.len().max(1) as f32;
    for (i, p) in out.iter_mut().enumerate() {
        *p = delta(*p, target.value(i), norm);
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the sigmoid saturates, the gradient is PyTorch's (values printed by
    /// `torch.nn.BCELoss` after `torch.sigmoid` with torch 2.15), not `p - y`.
    #[test]
    fn saturated_outputs_get_pytorchs_gradient() {
        // z = 20: p rounds to 1. Confidently wrong: PyTorch's gradient is 0.
        assert_eq!(delta(1.0, 0.0, 1.0), 0.0);
        assert_eq!(delta(1.0, 1.0, 1.0), 0.0);
        // z = -30: p (1 - p) < 1e-12, so the clamp scales the gradient by p / 1e-12.
        let p = 9.357_623_6e-14_f32;
        let torch = -0.093_576_24_f32;
        assert!(
            (delta(p, 1.0, 1.0) - torch).abs() <= 1e-6 * torch.abs(),
            "{}",
            delta(p, 1.0, 1.0)
        );
        // Unsaturated: p - y, to a few ulp, scaled by norm.
        for (p, y) in [
            (0.993_307_2_f32, 0.0f32),
            (0.25, 1.0),
            (2.061_153_7e-9, 1.0),
            (0.5, 0.3),
        ] {
            let want = (p - y) * 0.125;
            let got = delta(p, y, 0.125);
            assert!(
                (got - want).abs() <= 4.0 * f32::EPSILON * want.abs(),
                "{p} {y}: {got} vs {want}"
            );
        }
    }

    /// `ln(1 - p)` as PyTorch computes it, `log1p(-p)`: for `p = 1e-7`, `y = 0` the
    /// loss is `1.0000000827e-7` (torch 2.15), where `-ln(1 - p)` gives `1.19e-7`.
    #[test]
    fn small_outputs_use_ln_1p() {
        let loss = value(&[1e-7], &Target::Values(&[0.0]));
        assert!((loss - 1.000_000_1e-7).abs() <= 1e-14, "{loss}");
    }

    /// The loss keeps PyTorch's clamp of each log at -100.
    #[test]
    fn saturated_loss_is_clamped() {
        let mut out = [1.0f32, 0.0];
        let loss = loss_and_delta(&mut out, &Target::Values(&[0.0, 1.0]), 1.0);
        assert_eq!(loss, 100.0);
        assert_eq!(out, [0.0, 0.0]);
    }
}
