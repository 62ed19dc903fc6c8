//! The portable loops: every kernel in plain Rust over slices, on every target.
//!
//! These define the kernels' results bit for bit. Where no FPU version exists (the
//! host, Cortex-M0 and M3, and the kernels without one), the public functions of
//! [`super`] run these. On hard-float Cortex-M, the FPU versions (`kernels/arm_vfp.rs`)
//! must give the same bits, and the firmware self-test (`firmware/qemu`, binary
//! `kernels`) calls both on the same data and compares every output with `to_bits`:
//! these functions are its reference.
//!
//! Each loop walks its slices with iterators (`zip`, `chunks_exact`): no bounds checks
//! inside the loops and no way to index out of range. Mismatched lengths cannot panic:
//! a loop stops at the shorter slice.

use super::{keep_rolled, GRADIENT_LIMIT};

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

/// `out[i] = bias_dot(b[i], W[i, :], x)` for a row-major `W` of rows of `x.len()`
/// floats (one float when `x` is empty), over as many rows as `out`, `b` and `W` all
/// hold.
#[inline]
pub fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    let cols = x.len().max(1);
    for ((o, row), bias) in out.iter_mut().zip(w.chunks_exact(cols)).zip(b) {
        *o = bias_dot(*bias, row, x);
    }
}

/// [`affine`], then ReLU on the rows it wrote: `out[i] = math::max(out[i], 0)` (a
/// negative value becomes +0; NaN and -0 stay), as `Activation::Relu` applies it.
#[inline]
pub fn affine_relu(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    affine(w, b, x, out);
    // Only the rows `affine` wrote (all of them when the lengths fit the shape).
    let rows = out.len().min(b.len()).min(w.len() / x.len().max(1));
    for v in out.get_mut(..rows).unwrap_or(&mut []) {
        *v = crate::math::max(*v, 0.0);
    }
}

/// `gw[i, j] += d[i] * x[j]` and `gb[i] += d[i]`, for rows of `x.len()` floats (one
/// when `x` is empty), over as many rows as `gw`, `gb` and `d` all hold.
#[inline]
pub fn outer_acc(gw: &mut [f32], gb: &mut [f32], d: &[f32], x: &[f32]) {
    let cols = x.len().max(1);
    for ((row, g_b), di) in gw.chunks_exact_mut(cols).zip(gb.iter_mut()).zip(d) {
        for (g, xj) in row.iter_mut().zip(x) {
            *g += di * xj;
        }
        *g_b += di;
    }
}

/// [`outer_acc`] and [`transposed`] in one pass over the rows: for each row `i`,
/// `gw[i, :] += d[i] * x`, `gb[i] += d[i]` and `s += d[i] * W[i, :]`, with `s` zeroed
/// first (the same bits as the two loops).
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

/// `s = W^T d`: `s` zeroed, then `s[j] += W[i, j] * d[i]` row by row in order, for
/// rows of `s.len()` floats (one when `s` is empty), over as many rows as `W` and `d`
/// both hold.
#[inline]
pub fn transposed(w: &[f32], d: &[f32], s: &mut [f32]) {
    let cols = s.len().max(1);
    s.iter_mut().for_each(|v| *v = 0.0);
    for (w_row, di) in w.chunks_exact(cols).zip(d) {
        for (sj, wij) in s.iter_mut().zip(w_row) {
            *sj += wij * di;
        }
    }
}

/// [`transposed`], then `s[j] *= 0.0` wherever `!(a[j] > 0)`, over `zip(s, a)`: the
/// product, as `delta *= f'(a)` forms it, so a masked negative term becomes -0 and a
/// masked NaN or infinite one NaN.
#[inline]
pub fn transposed_relu(w: &[f32], d: &[f32], s: &mut [f32], a: &[f32]) {
    transposed(w, d, s);
    for (sj, aj) in s.iter_mut().zip(a) {
        // NaN is not above zero: its term is masked.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(*aj > 0.0) {
            *sj *= 0.0;
        }
    }
}

/// `y[i] += a * x[i]` over the common length (the product rounded, then the sum).
#[inline]
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(v, xi)| *v += a * xi);
}

/// `dst[i] = src[i]` over the common length.
#[inline]
pub fn copy(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
}

/// `v[i] = value` for every `i`.
#[inline]
pub fn fill(v: &mut [f32], value: f32) {
    v.iter_mut().for_each(|s| *s = value);
}

/// `fold(-inf, math::max)`: the largest element by plain comparisons (a NaN never
/// wins), `-inf` for an empty slice.
#[inline]
pub fn max_of(v: &[f32]) -> f32 {
    v.iter().fold(f32::NEG_INFINITY, |m, x| crate::math::max(m, *x))
}

/// The largest `|v[i]|` by comparisons, 0 for an empty slice (NaN never wins).
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

/// `sum(|v[i]|)`: four partial sums that start from the first four magnitudes,
/// combined as `(s0 + s1) + (s2 + s3)` (+0 with fewer than four elements), then the
/// remainder in order.
#[inline]
pub fn sum_abs(v: &[f32]) -> f32 {
    let mut chunks = v.chunks_exact(4);
    // The lanes start from the first four magnitudes rather than from `0 + |v|`: the
    // same value, but an addition would quiet a signaling NaN.
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
/// through the sum). Only when that sum is NaN is the index searched for. Out of line:
/// one copy for every caller.
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
/// rolled: [`first_non_finite`]'s second pass. Out of line: one copy.
#[inline(never)]
pub fn find_non_finite(v: &[f32]) -> Option<usize> {
    v.iter().position(|x| {
        keep_rolled();
        !x.is_finite()
    })
}

/// `sqrt(dot(v, v))`: the L2 norm accumulated in `f32`.
#[inline]
pub fn l2_norm(v: &[f32]) -> f32 {
    crate::math::sqrt(dot(v, v))
}

/// `v[i] *= s`.
#[inline]
pub fn scale(v: &mut [f32], s: f32) {
    v.iter_mut().for_each(|x| *x *= s);
}

/// [`affine_relu`] when `relu`, else [`affine`]: the portable side of the kernels'
/// unchecked entry point (see the `kernels` module docs). These loops need none of its
/// contract (they stop at the shorter slice), so this side is a safe function. Unused
/// where the FPU versions are active.
#[allow(dead_code)]
#[inline(always)]
pub(crate) fn affine_unchecked(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32], relu: bool) {
    if relu {
        affine_relu(w, b, x, out);
    } else {
        affine(w, b, x, out);
    }
}

/// [`transposed_relu`] when `relu`, else [`transposed`]: the portable side of the
/// kernels' unchecked entry point, as [`affine_unchecked`]; `UNMASKED` only matters to
/// the FPU version.
#[allow(dead_code)]
#[inline(always)]
pub(crate) fn transposed_unchecked<const UNMASKED: bool>(
    w: &[f32],
    d: &[f32],
    s: &mut [f32],
    a: &[f32],
    relu: bool,
) {
    if relu {
        transposed_relu(w, d, s, a);
    } else {
        transposed(w, d, s);
    }
}

/// Square root, correctly rounded (IEEE 754): `libm::sqrtf` (an SSE instruction on
/// x86-64; a software square root of about a hundred instructions on an Arm core
/// without the FPU, which `libm` has no hardware path for).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}
