//! Flat loops over slices: the only place where speed is won or lost.
//!
//! Every kernel walks its slices with iterators (`zip`, `chunks_exact`), so there are
//! no bounds checks inside the loops and no way to index out of range. Mismatched
//! lengths cannot panic: the loops stop at the shorter slice (callers validate lengths
//! before they get here).

/// `sum(a[i] * b[i])`, summed from the first element on.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

/// `out[i] = dot(W[i, :], x) + b[i]` for a row-major `W` of `out.len()` rows of
/// `x.len()` columns.
#[inline]
pub fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    let cols = x.len().max(1);
    for ((o, row), bias) in out.iter_mut().zip(w.chunks_exact(cols)).zip(b) {
        *o = dot(row, x) + bias;
    }
}

/// `gw[i, j] += d[i] * x[j]` and `gb[i] += d[i]`: the gradient of one sample added to
/// a dense layer's accumulated gradient.
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

/// `out[j] = sum_i W[i, j] * d[i]` (`W^T d`) for a row-major `W` with `out.len()`
/// columns, combined element-wise with `out`'s old value through `f(old, sum)`.
///
/// Used in place: `out` holds a layer's input activations and receives the error term
/// of that input, `f'(a_j) * (W^T d)_j`.
#[inline]
pub fn transposed_map(w: &[f32], d: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    let cols = out.len().max(1);
    for (j, o) in out.iter_mut().enumerate() {
        let s = w
            .iter()
            .skip(j)
            .step_by(cols)
            .zip(d)
            .fold(0.0, |s, (wij, di)| s + wij * di);
        *o = f(*o, s);
    }
}

/// `true` when every element is finite; otherwise the index of the first that is not.
#[inline]
pub fn first_non_finite(v: &[f32]) -> Option<usize> {
    v.iter().position(|x| !x.is_finite())
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
