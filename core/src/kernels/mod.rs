//! Flat loops over slices: the only place where speed is won or lost.
//!
//! Kernels take slices (or, for the unchecked entry points below, slices of lengths
//! their caller has already checked) and know nothing of layers, shapes or models.
//!
//! ## Two implementations, one switch
//!
//! - [`portable`]: every kernel in plain Rust, compiled on every target. Its results
//!   are the kernels' definition, bit for bit.
//! - `arm_vfp` (`kernels/arm_vfp.rs`): FPU assembly for the hot kernels, compiled only
//!   for hard-float Cortex-M (M4F, M7, M33), with the portable loops' bits; it
//!   re-exports the portable loops of the kernels it has no FPU version of.
//!
//! The switch below (a `cfg` and its negation) picks the active implementation, and
//! each public function here calls it: on hard-float Arm the FPU versions, elsewhere
//! the portable loops. The
//! firmware self-test (`firmware/qemu`, binary `kernels`) runs on a Cortex-M4F, calls
//! both on the same data and compares the results bit for bit.
//!
//! Mismatched lengths cannot panic: every kernel stops at the shorter slice (callers
//! validate lengths before they get here).
//!
//! ## Unchecked entry points
//!
//! `affine_unchecked` and `transposed_unchecked` (crate-internal) are [`affine`] /
//! [`affine_relu`] and [`transposed`] / [`transposed_relu`] for a caller that checked a
//! whole model's lengths once (the trainer's passes, `layers::dense::forward_unchecked`
//! and `backward_deltas_unchecked`): the FPU versions skip the per-call length checks
//! and are `unsafe`, with the contract that the rows and the row length are not zero
//! and every slice holds exactly what one shape of `rows x cols` needs (see their
//! `# Safety`). The portable versions need none of it and are safe functions; callers
//! keep the contract, and call them in `unsafe` blocks, on every target.

pub mod portable;

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
pub(crate) mod arm_vfp;
// The switch: the implementation every public kernel below calls.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use arm_vfp as active;
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
use portable as active;

pub(crate) use active::{affine_unchecked, transposed_unchecked};

/// Called in the body of a loop that is not worth unrolling (it runs once per sample
/// over a few outputs): keeps it rolled on Cortex-M, where LLVM otherwise unrolls small
/// loops four times with a remainder loop, for flash and no measurable speed. On Arm it
/// is an empty `asm!` block, which emits no instruction; LLVM's Arm unrolling
/// heuristic leaves loops that contain a call (an `asm!` block is one) rolled.
/// Elsewhere it does nothing.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn keep_rolled() {
    #[cfg(target_arch = "arm")]
    // SAFETY: the template is empty: no instruction, register, memory or flag changes.
    unsafe {
        core::arch::asm!("", options(nomem, nostack, preserves_flags));
    }
}

/// `sum(a[i] * b[i])` over the common length, in four interleaved partial sums
/// ([`portable::dot`] gives the order, the same on every target).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    active::dot(a, b)
}

/// `bias + sum(w[j] * x[j])` over the common length, in the order a dense layer's
/// forward pass uses on every target ([`portable::bias_dot`]: four partial sums, lane 0
/// starting from the bias).
#[inline]
pub fn bias_dot(bias: f32, w: &[f32], x: &[f32]) -> f32 {
    active::bias_dot(bias, w, x)
}

/// `out[i] = b[i] + W[i, :] . x` for a row-major `W` of `out.len()` rows of
/// `x.len()` columns, each row summed as [`bias_dot`] does ([`portable::affine`]).
///
/// On Cortex-M cores with a single-precision FPU this runs as one assembly loop with
/// the same bits.
#[inline]
pub fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    active::affine(w, b, x, out);
}

/// [`affine`] followed by ReLU on the rows it wrote, `out[i] = math::max(out[i], 0)`
/// (a negative value becomes +0, NaN and -0 stay: the ReLU activation's operation;
/// [`portable::affine_relu`]). One pass on Cortex-M cores with a single-precision FPU.
#[inline]
pub fn affine_relu(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    active::affine_relu(w, b, x, out);
}

/// `gw[i, j] += d[i] * x[j]` and `gb[i] += d[i]`: the gradient of one sample added to
/// a dense layer's accumulated gradient ([`portable::outer_acc`]).
#[inline]
pub fn outer_acc(gw: &mut [f32], gb: &mut [f32], d: &[f32], x: &[f32]) {
    active::outer_acc(gw, gb, d, x);
}

/// One pass over a dense layer's rows for the backward pass: for each row `i`,
/// `gw[i, :] += d[i] * x`, `gb[i] += d[i]` (as [`outer_acc`]) and
/// `s += d[i] * W[i, :]`, so that on return `s = W^T d` (summed over `i` in order,
/// starting from zero; [`portable::outer_acc_and_back`]).
#[inline]
pub fn outer_acc_and_back(gw: &mut [f32], gb: &mut [f32], w: &[f32], d: &[f32], x: &[f32], s: &mut [f32]) {
    active::outer_acc_and_back(gw, gb, w, d, x, s);
}

/// `s = W^T d` for a row-major `W` with `s.len()` columns, summed over the rows in
/// order from zero (the same bits as [`outer_acc_and_back`]'s `s`;
/// [`portable::transposed`]).
#[inline]
pub fn transposed(w: &[f32], d: &[f32], s: &mut [f32]) {
    active::transposed(w, d, s);
}

/// [`transposed`] followed by the ReLU derivative on the result: `s = W^T d`, then
/// `s[j] *= 0.0` wherever `!(a[j] > 0)` (a NaN `a[j]` is not above zero), over
/// `zip(s, a)`, i.e. `s[j] = (W^T d)[j] * relu'(a[j])` with `relu'(a) = 1` for `a > 0`,
/// else 0 ([`portable::transposed_relu`]).
///
/// The masked terms are multiplied by zero rather than stored as +0, as
/// `delta *= f'(a)` does: a negative term becomes -0, a NaN or infinite one NaN. On
/// Cortex-M cores with a single-precision FPU both steps run in one assembly block with
/// the same bits.
#[inline]
pub fn transposed_relu(w: &[f32], d: &[f32], s: &mut [f32], a: &[f32]) {
    active::transposed_relu(w, d, s, a);
}

/// `y[i] += a * x[i]` over the common length ([`portable::axpy`]): one tap of a
/// convolution over the positions it reaches, or one row of an outer product.
#[inline]
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    active::axpy(y, a, x);
}

/// `dst[i] = src[i]` over the common length (a plain copy). On Cortex-M cores with a
/// single-precision FPU it moves four floats per instruction without linking `memcpy`
/// (about 900 bytes of flash), which a copy loop otherwise becomes.
#[inline]
pub fn copy(dst: &mut [f32], src: &[f32]) {
    active::copy(dst, src);
}

/// `v[i] = value` for every `i`. On Cortex-M cores with a single-precision FPU, a
/// short store loop instead of a call to `memset` (about 170 bytes of flash), which a
/// fill loop otherwise becomes.
#[inline]
pub fn fill(v: &mut [f32], value: f32) {
    active::fill(v, value);
}

/// The largest element, `-inf` for an empty slice, by plain comparisons
/// ([`crate::math::max`] folded from `-inf`: a NaN never wins; [`portable::max_of`]).
/// On Cortex-M cores with a single-precision FPU, a short loop the compiler does not
/// unroll (flash).
#[inline]
pub fn max_of(v: &[f32]) -> f32 {
    active::max_of(v)
}

/// The largest `|v[i]|` (0 for an empty slice; NaN never wins a comparison). Written
/// with comparisons: `f32::max` is a library call on FPUs without `VMAXNM`.
#[inline]
pub fn max_abs(v: &[f32]) -> f32 {
    active::max_abs(v)
}

/// `sum(|v[i]|)` in `f32`: a bound on every `|v[i]|` that is infinite or NaN as soon
/// as one element is (and infinite when the sum overflows). One cheap pass that both
/// bounds and checks a slice. Summed in four partial sums in a fixed order
/// ([`portable::sum_abs`]: the same bits on every target; one assembly loop on
/// Cortex-M cores with a single-precision FPU).
#[inline]
pub fn sum_abs(v: &[f32]) -> f32 {
    active::sum_abs(v)
}

/// Square root, correctly rounded, so the same bits on every target
/// ([`portable::sqrt`]; one `VSQRT.F32` on Cortex-M cores with a single-precision FPU).
/// A NaN gives a NaN, though not always the same one: `VSQRT` keeps the input's
/// payload where `libm` returns the default NaN (the trainer rejects NaN long before).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    active::sqrt(x)
}

/// The largest gradient magnitude a step accepts: `2^61` (about 2.3e18), exclusive.
///
/// A gradient this large means training has diverged, and accepting it could make the
/// optimizer's own arithmetic overflow (`g^2` in Adam, RMSprop and Adagrad; a momentum
/// buffer) and leave infinite parameters after a step that looked fine. Below it,
/// `g^2 < 2^122` stays far from `f32::MAX` (about `2^128`).
pub const GRADIENT_LIMIT: f32 = 2_305_843_009_213_693_952.0;

/// `None` when every element is finite and below [`GRADIENT_LIMIT`] in magnitude;
/// otherwise the index of the first that is not ([`portable::first_out_of_range`]: one
/// pass of sums that is NaN exactly when an element is out of range, then a search).
#[inline]
pub fn first_out_of_range(v: &[f32]) -> Option<usize> {
    active::first_out_of_range(v)
}

/// `None` when every element is finite; otherwise the index of the first that is not
/// ([`portable::first_non_finite`]: one pass of sums that is NaN exactly when an
/// element is not finite, then a search).
#[inline]
pub fn first_non_finite(v: &[f32]) -> Option<usize> {
    active::first_non_finite(v)
}

/// The index of the first element that is not finite, by a plain search in a loop kept
/// rolled: [`first_non_finite`]'s second pass, and all a caller needs that already knows
/// one element is not finite (a non-finite `sum|x|`).
#[inline]
pub(crate) fn find_non_finite(v: &[f32]) -> Option<usize> {
    active::find_non_finite(v)
}

/// `sqrt(sum(v[i]^2))` accumulated in `f32` ([`portable::l2_norm`]).
#[inline]
pub fn l2_norm(v: &[f32]) -> f32 {
    active::l2_norm(v)
}

/// `v[i] *= s`.
#[inline]
pub fn scale(v: &mut [f32], s: f32) {
    active::scale(v, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_limit_is_exactly_two_to_the_61() {
        assert_eq!(GRADIENT_LIMIT, 2.0f32.powi(61));
        let below = f32::from_bits(GRADIENT_LIMIT.to_bits() - 1);
        for v in [0.0, -0.0, 1.0, -1e-45, below, -below] {
            assert_eq!(first_out_of_range(&[1.0, 2.0, 3.0, 4.0, v]), None, "{v:e}");
            assert_eq!(first_out_of_range(&[v]), None, "{v:e}");
        }
        for v in [
            GRADIENT_LIMIT,
            -GRADIENT_LIMIT,
            f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ] {
            assert_eq!(
                first_out_of_range(&[0.0, 1.0, 2.0, 3.0, 4.0, v, 0.0]),
                Some(5),
                "{v:e}"
            );
            assert_eq!(first_out_of_range(&[v, 1.0]), Some(0), "{v:e}");
        }
    }

    #[test]
    fn affine_relu_touches_only_the_rows_it_writes() {
        // Two rows of two columns fit; the third output has no weights or bias.
        let mut out = [-7.0f32; 3];
        affine_relu(&[1.0, 2.0, -3.0, -4.0], &[-5.0, 1.0], &[1.0, 1.0], &mut out);
        assert_eq!(out, [0.0, 0.0, -7.0]);
        let mut out = [-7.0f32; 2];
        affine_relu(&[1.0, 2.0, 3.0, 4.0], &[-5.0, 1.0], &[1.0, 1.0], &mut out);
        assert_eq!(out, [0.0, 8.0]);
    }

    #[test]
    fn transposed_relu_is_transposed_then_the_mask() {
        // Two rows of three columns: s = W^T d = [-1, 2 - 0, ...].
        let w = [1.0, -2.0, 0.0, 3.0, 4.0, -0.0];
        let d = [-1.0, 0.0];
        let a = [f32::NAN, 0.5, -0.0];
        let mut want = [7.0f32; 3];
        transposed(&w, &d, &mut want);
        let mut s = [7.0f32; 3];
        transposed_relu(&w, &d, &mut s, &a);
        // -1 * 0 = -0: the masked term keeps the sign of the product, NaN masks too.
        assert_eq!(s.map(f32::to_bits), [(-0.0f32).to_bits(), want[1].to_bits(), 0]);
        // `zip(s, a)`: only as many terms as `a` holds are masked.
        let mut s = [7.0f32; 3];
        transposed_relu(&w, &d, &mut s, &[-1.0]);
        assert_eq!(
            s.map(f32::to_bits),
            [(-0.0f32).to_bits(), want[1].to_bits(), want[2].to_bits()]
        );
        // A NaN or infinite term times zero is NaN; a term of an active unit stays.
        let mut s = [7.0f32; 2];
        transposed_relu(&[f32::INFINITY, 1.0], &[1.0], &mut s, &[0.0, 1.0]);
        assert!(s[0].is_nan());
        assert_eq!(s[1], 1.0);
    }

    #[test]
    fn sum_abs_bounds_and_poisons() {
        assert_eq!(sum_abs(&[1.0, -2.0, 0.5]), 3.5);
        assert!(sum_abs(&[1.0, f32::NAN]).is_nan());
        assert_eq!(sum_abs(&[1.0, f32::NEG_INFINITY]), f32::INFINITY);
        assert_eq!(sum_abs(&[]), 0.0);
    }

    #[test]
    fn first_non_finite_finds_the_first() {
        assert_eq!(first_non_finite(&[1.0, f32::MAX, -0.0]), None);
        assert_eq!(
            first_non_finite(&[1.0, 2.0, 3.0, 4.0, 5.0, f32::NAN, f32::INFINITY]),
            Some(5)
        );
        assert_eq!(first_non_finite(&[f32::NEG_INFINITY]), Some(0));
    }

    #[test]
    fn fill_sets_every_element_and_nothing_else() {
        for n in 0..20 {
            let mut v = [7.5f32; 21];
            fill(&mut v[..n], -0.0);
            assert!(v[..n].iter().all(|x| x.to_bits() == (-0.0f32).to_bits()), "{n}");
            assert!(v[n..].iter().all(|x| *x == 7.5), "{n}");
        }
    }

    #[test]
    fn copy_stops_at_the_shorter_slice() {
        let src = [1.0f32, -0.0, f32::NAN, 4.0, 5.0];
        let mut dst = [9.0f32; 7];
        copy(&mut dst, &src);
        for (d, s) in dst.iter().zip(&src) {
            assert_eq!(d.to_bits(), s.to_bits());
        }
        assert_eq!(&dst[5..], &[9.0, 9.0]);
        let mut short = [0.0f32; 2];
        copy(&mut short, &src);
        assert_eq!(short, [1.0, -0.0]);
    }

    #[test]
    fn max_of_is_the_plain_comparison_fold() {
        assert_eq!(max_of(&[]), f32::NEG_INFINITY);
        assert_eq!(max_of(&[1.0, 3.0, -2.0]), 3.0);
        // A NaN never wins; an infinity does.
        assert_eq!(max_of(&[f32::NAN, 2.0]), 2.0);
        assert_eq!(max_of(&[2.0, f32::NAN]), 2.0);
        assert_eq!(max_of(&[2.0, f32::INFINITY]), f32::INFINITY);
        assert!(max_of(&[f32::NAN]) == f32::NEG_INFINITY);
    }
}
