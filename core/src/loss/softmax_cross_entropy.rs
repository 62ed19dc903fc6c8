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
    let m = crate::kernels::max_of(z);
    let s = z.iter().fold(0.0f32, |s, v| s + exp_shifted(v - m));
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

/// `e^v` for a logit shifted by the maximum, `v = z_k - m`: the maximum's own term is
/// `e^0 = 1` exactly (as `libm`'s `expf` gives it; a unit test checks), without the
/// call.
#[inline(always)]
fn exp_shifted(v: f32) -> f32 {
    if v == 0.0 {
        1.0
    } else {
        math::exp(v)
    }
}

/// Writes `dL/dz` over `z` and returns the sample's cross-entropy.
///
/// One pass of exponentials: `e_k = exp(z_k - m)`, `S = sum e_k`, the loss from
/// `ln S`, and `softmax_k = e_k / S` (as PyTorch computes softmax).
pub fn loss_and_delta(z: &mut [f32], target: &Target<'_>, inv_batch: f32) -> f32 {
    weighted_loss_and_delta(z, |k| target.value(k), inv_batch)
}

/// [`loss_and_delta`] with the target's value for class `k` given by `target(k)`. Out
/// of line: its frame stays off the class-label path's stack.
#[inline(never)]
pub fn weighted_loss_and_delta(z: &mut [f32], target: impl Fn(usize) -> f32, inv_batch: f32) -> f32 {
    let m = crate::kernels::max_of(z);
    let mut sum = 0.0f32;
    let mut weighted = 0.0f32; // sum_k y_k (z_k - m)
    let mut y_sum = 0.0f32;
    for (k, zk) in z.iter_mut().enumerate() {
        let y = target(k);
        let shifted = *zk - m;
        if y != 0.0 {
            weighted += y * shifted;
            y_sum += y;
        }
        *zk = exp_shifted(shifted);
        sum += *zk;
    }
    let lse = math::ln(sum);
    let loss = y_sum * lse - weighted;
    let inv_sum = inv_batch / sum;
    let scale = y_sum * inv_sum;
    for (k, e) in z.iter_mut().enumerate() {
        crate::kernels::keep_rolled();
        *e = *e * scale - inv_batch * target(k);
    }
    loss
}

/// [`loss_and_delta`] for a class label `c < z.len()`, reading the logits from `z` and
/// writing `dL/dz` into `delta` (the trainer's output and error slots; no copy): the
/// same arithmetic with the one-hot target's zeros and ones left out (`1 * v`, `v - 0`
/// and `v - 1 * u` are exactly `v`, `v` and `v - u`), so the same bits, without a
/// target lookup per class. `None` when `c` is out of range or the lengths differ.
#[inline(always)]
pub fn class_loss_and_delta(z: &[f32], delta: &mut [f32], c: usize, inv_batch: f32) -> Option<f32> {
    let zc = *z.get(c)?;
    if delta.len() != z.len() {
        return None;
    }
    let m = crate::kernels::max_of(z);
    let mut sum = 0.0f32;
    for (e, zk) in delta.iter_mut().zip(z) {
        *e = exp_shifted(*zk - m);
        sum += *e;
    }
    let loss = math::ln(sum) - (zc - m);
    let scale = inv_batch / sum;
    delta.iter_mut().for_each(|e| {
        crate::kernels::keep_rolled();
        *e *= scale;
    });
    if let Some(ec) = delta.get_mut(c) {
        *ec -= inv_batch;
    }
    Some(loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class-label shortcut gives the same bits as the general path on the
    /// equivalent one-hot row.
    #[test]
    fn class_labels_match_one_hot_rows_bit_for_bit() {
        let mut rng = crate::Rng::new(11);
        for n in 1..8 {
            for _ in 0..200 {
                let z: [f32; 8] = core::array::from_fn(|_| rng.symmetric(30.0));
                for c in 0..n {
                    let mut onehot = [0.0f32; 8];
                    onehot[c] = 1.0;
                    let (mut a, mut b) = ([0.0f32; 8], z);
                    let inv = 1.0 / (1 + c) as f32;
                    let la = class_loss_and_delta(&z[..n], &mut a[..n], c, inv).unwrap();
                    let lb = loss_and_delta(&mut b[..n], &Target::Values(&onehot[..n]), inv);
                    assert_eq!(la.to_bits(), lb.to_bits(), "loss, n {n} c {c}");
                    for k in 0..n {
                        assert_eq!(a[k].to_bits(), b[k].to_bits(), "delta {k}, n {n} c {c}");
                    }
                }
            }
        }
    }

    /// `exp_shifted` skips the call only where `libm` gives exactly 1.
    #[cfg(not(feature = "fast-math"))]
    #[test]
    fn the_maximum_term_is_exactly_one() {
        assert_eq!(libm::expf(0.0).to_bits(), 1.0f32.to_bits());
        assert_eq!(libm::expf(-0.0).to_bits(), 1.0f32.to_bits());
        for v in [-1e-30f32, 1e-30, -0.5, 3.0] {
            assert_eq!(exp_shifted(v).to_bits(), libm::expf(v).to_bits());
        }
    }
}
