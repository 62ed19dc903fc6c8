//! Flat loops over slices: the only place where speed is won or lost.
//!
//! Every kernel walks its slices with iterators (`zip`, `chunks_exact`), so there are
//! no bounds checks inside the loops and no way to index out of range. Mismatched
//! lengths cannot panic: the loops stop at the shorter slice (callers validate lengths
//! before they get here).

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
pub(crate) mod vfp;

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

/// `sum(a[i] * b[i])` over the common length.
///
/// Summed in four interleaved partial sums (elements `4k`, `4k+1`, `4k+2`, `4k+3`),
/// added as `(s0 + s1) + (s2 + s3)` and then the remainder in order. The fixed order
/// makes the result the same on every target; the independent sums let a
/// single-issue FPU overlap its additions and keep loop overhead to a quarter.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    let mut s = [0.0f32; 4];
    for (x, y) in (&mut ca).zip(&mut cb) {
        if let ([x0, x1, x2, x3], [y0, y1, y2, y3]) = (x, y) {
            s[0] += x0 * y0;
            s[1] += x1 * y1;
            s[2] += x2 * y2;
            s[3] += x3 * y3;
        }
    }
    let head = (s[0] + s[1]) + (s[2] + s[3]);
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .fold(head, |acc, (x, y)| acc + x * y)
}

/// `bias + sum(w[j] * x[j])` over the common length, in the order a dense layer's
/// forward pass uses on every target: four interleaved partial sums, lane 0 starting
/// from `bias + w[0] x[0]` and lanes 1-3 from the first four products, added as
/// `(s0 + s1) + (s2 + s3)`, then the remainder in order (with fewer than four terms,
/// `bias` then the remainder). Starting from the bias rather than adding it last saves
/// an instruction per output on the FPU; the rounding differs from `dot(w, x) + bias`
/// in the last bit at most, well inside the PyTorch conformance tolerances.
#[inline]
pub fn bias_dot(bias: f32, w: &[f32], x: &[f32]) -> f32 {
    let n = w.len().min(x.len());
    let (w, x) = (w.get(..n).unwrap_or(&[]), x.get(..n).unwrap_or(&[]));
    let mut cw = w.chunks_exact(4);
    let mut cx = x.chunks_exact(4);
    let head = match (cw.next(), cx.next()) {
        (Some(&[w0, w1, w2, w3]), Some(&[x0, x1, x2, x3])) => {
            let mut s = [bias + w0 * x0, w1 * x1, w2 * x2, w3 * x3];
            for (a, b) in (&mut cw).zip(&mut cx) {
                if let ([a0, a1, a2, a3], [b0, b1, b2, b3]) = (a, b) {
                    s[0] += a0 * b0;
                    s[1] += a1 * b1;
                    s[2] += a2 * b2;
                    s[3] += a3 * b3;
                }
            }
            (s[0] + s[1]) + (s[2] + s[3])
        }
        _ => bias,
    };
    cw.remainder()
        .iter()
        .zip(cx.remainder())
        .fold(head, |acc, (a, b)| acc + a * b)
}

/// `out[i] = b[i] + W[i, :] . x` for a row-major `W` of `out.len()` rows of
/// `x.len()` columns, summed as [`bias_dot`] does.
///
/// On Cortex-M cores with a single-precision FPU this runs as one assembly loop with
/// the same bits (see `kernels/vfp.rs`).
#[inline]
pub fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::affine(w, b, x, out, false);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        let cols = x.len().max(1);
        for ((o, row), bias) in out.iter_mut().zip(w.chunks_exact(cols)).zip(b) {
            *o = bias_dot(*bias, row, x);
        }
    }
}

/// [`affine`] followed by ReLU on the rows it wrote, `out[i] = max(out[i], 0)` (as
/// [`crate::Activation::Relu`] applies it: a negative value becomes +0, NaN and -0
/// stay). One pass on Cortex-M cores with a single-precision FPU.
#[inline]
pub fn affine_relu(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::affine(w, b, x, out, true);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        affine(w, b, x, out);
        // Only the rows `affine` wrote (all of them when the lengths fit the shape).
        let rows = out.len().min(b.len()).min(w.len() / x.len().max(1));
        crate::Activation::Relu.apply(out.get_mut(..rows).unwrap_or(&mut []));
    }
}

/// `gw[i, j] += d[i] * x[j]` and `gb[i] += d[i]`: the gradient of one sample added to
/// a dense layer's accumulated gradient.
#[inline]
pub fn outer_acc(gw: &mut [f32], gb: &mut [f32], d: &[f32], x: &[f32]) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::outer_acc(gw, gb, d, x);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        let cols = x.len().max(1);
        for ((row, g_b), di) in gw.chunks_exact_mut(cols).zip(gb.iter_mut()).zip(d) {
            for (g, xj) in row.iter_mut().zip(x) {
                *g += di * xj;
            }
            *g_b += di;
        }
    }
}

/// One pass over a dense layer's rows for the backward pass: for each row `i`,
/// `gw[i, :] += d[i] * x`, `gb[i] += d[i]` (as [`outer_acc`]) and
/// `s += d[i] * W[i, :]`, so that on return `s = W^T d` (summed over `i` in order,
/// starting from zero).
#[inline]
pub fn outer_acc_and_back(gw: &mut [f32], gb: &mut [f32], w: &[f32], d: &[f32], x: &[f32], s: &mut [f32]) {
    let cols = x.len().max(1);
    s.iter_mut().for_each(|v| *v = 0.0);
    let rows = gw
        .chunks_exact_mut(cols)
        .zip(w.chunks_exact(cols))
        .zip(gb.iter_mut())
        .zip(d);
    for (((g_row, w_row), g_b), di) in rows {
        for (((g, xj), wij), sj) in g_row.iter_mut().zip(x).zip(w_row).zip(s.iter_mut()) {
            *g += di * xj;
            *sj += wij * di;
        }
        *g_b += di;
    }
}

/// `s = W^T d` for a row-major `W` with `s.len()` columns, summed over the rows in
/// order from zero (the same bits as [`outer_acc_and_back`]'s `s`).
#[inline]
pub fn transposed(w: &[f32], d: &[f32], s: &mut [f32]) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::transposed(w, d, s);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        let cols = s.len().max(1);
        s.iter_mut().for_each(|v| *v = 0.0);
        for (w_row, di) in w.chunks_exact(cols).zip(d) {
            for (sj, wij) in s.iter_mut().zip(w_row) {
                *sj += wij * di;
            }
        }
    }
}

/// [`transposed`] followed by the ReLU derivative on the result: `s = W^T d`, then
/// `s[j] *= 0.0` wherever `!(a[j] > 0)` (a NaN `a[j]` is not above zero), over
/// `zip(s, a)`, i.e. `s[j] = (W^T d)[j] * relu'(a[j])` with `relu'(a) = 1` for `a > 0`,
/// else 0.
///
/// The masked terms are multiplied by zero rather than stored as +0, as
/// `delta *= f'(a)` does: a negative term becomes -0, a NaN or infinite one NaN. On
/// Cortex-M cores with a single-precision FPU both steps run in one assembly block with
/// the same bits (see `kernels/vfp.rs`).
#[inline]
pub fn transposed_relu(w: &[f32], d: &[f32], s: &mut [f32], a: &[f32]) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::transposed_relu(w, d, s, a);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        transposed(w, d, s);
        for (sj, aj) in s.iter_mut().zip(a) {
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            if !(*aj > 0.0) {
                *sj *= 0.0;
            }
        }
    }
}

/// `dst[i] = src[i]` over the common length (a plain copy). On Cortex-M cores with a
/// single-precision FPU it moves four floats per instruction without linking `memcpy`
/// (about 900 bytes of flash), which a copy loop otherwise becomes.
#[inline]
pub fn copy(dst: &mut [f32], src: &[f32]) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::copy(dst, src);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
}

/// `v[i] = value` for every `i`. On Cortex-M cores with a single-precision FPU, a
/// short store loop instead of a call to `memset` (about 170 bytes of flash), which a
/// fill loop otherwise becomes.
#[inline]
pub fn fill(v: &mut [f32], value: f32) {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    vfp::fill(v, value);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    v.iter_mut().for_each(|s| *s = value);
}

/// The largest element, `-inf` for an empty slice, by plain comparisons
/// ([`crate::math::max`] folded from `-inf`: a NaN never wins). On Cortex-M cores with
/// a single-precision FPU, a short loop the compiler does not unroll (flash).
#[inline]
pub fn max_of(v: &[f32]) -> f32 {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    return vfp::max_of(v);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    v.iter().fold(f32::NEG_INFINITY, |m, x| crate::math::max(m, *x))
}

/// The largest `|v[i]|` (0 for an empty slice; NaN never wins a comparison). Written
/// with comparisons: `f32::max` is a library call on FPUs without `VMAXNM`.
#[inline]
pub fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| {
        let a = x.abs();
        if a > m {
            a
        } else {
            m
        }
    })
}

/// `sum(|v[i]|)` in `f32`: a bound on every `|v[i]|` that is infinite or NaN as soon
/// as one element is (and infinite when the sum overflows). One cheap pass that both
/// bounds and checks a slice. Summed in four partial sums that start from the first
/// four magnitudes, combined `(s0 + s1) + (s2 + s3)` (+0 when there are fewer than
/// four), then the remainder in order (the same bits on every target; one assembly
/// loop on Cortex-M cores with a single-precision FPU).
#[inline]
pub fn sum_abs(v: &[f32]) -> f32 {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    return vfp::sum_abs(v);
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        let mut chunks = v.chunks_exact(4);
        // The lanes start from the first four magnitudes (`0 + |v|` is `|v|`, but an
        // addition would quiet a signaling NaN: start as the FPU kernel does).
        let head = match chunks.next() {
            Some(&[a, b, c, d]) => {
                let mut s = [a.abs(), b.abs(), c.abs(), d.abs()];
                for c in &mut chunks {
                    if let [a, b, c, d] = c {
                        s[0] += a.abs();
                        s[1] += b.abs();
                        s[2] += c.abs();
                        s[3] += d.abs();
                    }
                }
                (s[0] + s[1]) + (s[2] + s[3])
            }
            _ => 0.0,
        };
        chunks.remainder().iter().fold(head, |acc, x| acc + x.abs())
    }
}

/// The largest gradient magnitude a step accepts: `2^61` (about 2.3e18), exclusive.
///
/// A gradient this large means training has diverged, and accepting it could make the
/// optimizer's own arithmetic overflow (`g^2` in Adam, RMSprop and Adagrad; a momentum
/// buffer) and leave infinite parameters after a step that looked fine. Below it,
/// `g^2 < 2^122` stays far from `f32::MAX` (about `2^128`).
pub const GRADIENT_LIMIT: f32 = 2_305_843_009_213_693_952.0;

/// `None` when every element is finite and below [`GRADIENT_LIMIT`] in magnitude;
/// otherwise the index of the first that is not.
///
/// The fast path sums `0 * (v[i] * 2^67)`: scaling by a power of two is exact, and
/// overflows to infinity exactly when `|v[i]| >= 2^61`, so the sum is NaN as soon as
/// one element is out of range or not finite, and zero otherwise.
#[inline]
pub fn first_out_of_range(v: &[f32]) -> Option<usize> {
    const SCALE: f32 = 147_573_952_589_676_412_928.0; // 2^67
    let mut chunks = v.chunks_exact(4);
    let mut s = [0.0f32; 4];
    for c in &mut chunks {
        if let [a, b, c, d] = c {
            s[0] += 0.0 * (a * SCALE);
            s[1] += 0.0 * (b * SCALE);
            s[2] += 0.0 * (c * SCALE);
            s[3] += 0.0 * (d * SCALE);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |acc, x| acc + 0.0 * (x * SCALE));
    if ((s[0] + s[1]) + (s[2] + s[3]) + tail).is_nan() {
        v.iter().position(|x| x.is_nan() || x.abs() >= GRADIENT_LIMIT)
    } else {
        None
    }
}

/// `None` when every element is finite; otherwise the index of the first that is not.
///
/// The fast path sums `0 * v[i]`: zero for every finite value, NaN as soon as one is
/// infinite or NaN (IEEE 754: `0 * inf` and `0 * NaN` are NaN, and NaN propagates
/// through the sum). Only when that sum is NaN is the index searched for.
#[inline(never)]
pub fn first_non_finite(v: &[f32]) -> Option<usize> {
    let mut chunks = v.chunks_exact(4);
    let mut s = [0.0f32; 4];
    for c in &mut chunks {
        if let [a, b, c, d] = c {
            s[0] += 0.0 * a;
            s[1] += 0.0 * b;
            s[2] += 0.0 * c;
            s[3] += 0.0 * d;
        }
    }
    let tail = chunks.remainder().iter().fold(0.0f32, |acc, x| acc + 0.0 * x);
    if ((s[0] + s[1]) + (s[2] + s[3]) + tail).is_nan() {
        find_non_finite(v)
    } else {
        None
    }
}

/// The index of the first element that is not finite, by a plain search in a loop kept
/// rolled: [`first_non_finite`]'s second pass, and all a caller needs that already knows
/// one element is not finite (a non-finite `sum|x|`). Out of line: one copy.
#[inline(never)]
pub(crate) fn find_non_finite(v: &[f32]) -> Option<usize> {
    v.iter().position(|x| {
        keep_rolled();
        !x.is_finite()
    })
}

/// `sqrt(sum(v[i]^2))` accumulated in `f32`.
#[inline]
pub fn l2_norm(v: &[f32]) -> f32 {
    crate::math::sqrt(dot(v, v))
}

/// `v[i] *= s`.
#[inline]
pub fn scale(v: &mut [f32], s: f32) {
    v.iter_mut().for_each(|x| *x *= s);
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
