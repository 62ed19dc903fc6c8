//! The error bound of one plain-SGD step of the fixed-point path against the float
//! path, derived from the per-operation bounds of [`crate::fixed`] (the formulas are in
//! its module docs, "Error against the float path, per step") for a given model,
//! sample and learning rate: [`sgd_step_bounds`].
//!
//! Host-side arithmetic in `f64` (a check, not a training step: a device never calls
//! it).

use super::math::{self, quant_shift};
use super::{MAX_WIDTH, VALUE_MAX};
use crate::shape::{self, Dense};
use crate::{Activation, Loss, Target};

/// `2^-16`, the unit of Q16.16.
const U: f64 = 1.0 / 65536.0;
/// `2^-24`, the unit roundoff of `f32`.
const EPS: f64 = 1.0 / 16_777_216.0;
/// The largest value the bound's scope allows anywhere (below [`VALUE_MAX`], where the
/// fixed-point path would saturate).
const LIMIT: f64 = VALUE_MAX as f64 * U;
/// The table errors of the fixed-point sigmoid and tanh ([`math::sigmoid`], [`math::tanh`]).
const SIGMOID_TABLE: f64 = 2.0e-4;
const TANH_TABLE: f64 = 4.0e-4;
/// The error of the float path's `sigmoid` / `tanh` (`libm`, a few ulp of values `<= 1`).
const FLOAT_SQUASH: f64 = 1.0 / 2_097_152.0; // 2^-21
/// Per-layer scalars kept in the scratch: input error (fixed, float), output error of
/// `z` (fixed, float), the input's quantisation shift, the error of `delta` (fixed,
/// float), and the output error of `a` (fixed, float).
const SLOTS: usize = 9;

/// `f64`s of scratch that [`sgd_step_bounds`] needs: three per layer output (`z`, `a`,
/// `delta` of the exact step) and nine per layer.
pub const fn bound_scratch_len(layers: &[Dense]) -> usize {
    3 * shape::all_layer_outputs(layers) + SLOTS * layers.len()
}

fn abs(v: f64) -> f64 {
    if v < 0.0 {
        -v
    } else {
        v
    }
}

fn fmax(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// `gamma_n = n eps / (1 - n eps)`: the relative error bound of an `f32` sum or product
/// of `n + 1` terms (`n` roundings).
fn gamma(n: usize) -> f64 {
    let t = n as f64 * EPS;
    t / (1.0 - t)
}

/// `2^e` for `|e| < 1000`.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e.clamp(-1000, 1000)) as u64) << 52)
}

/// The quantisation error of a tensor with shift `s`: `2^(s-1) u`, 0 for `s = 0`.
fn e_quant(s: u32) -> f64 {
    if s == 0 {
        0.0
    } else {
        pow2(s as i32 - 1) * U
    }
}

/// An upper bound of the shift [`math::quantise`] picks for a tensor of magnitudes up
/// to `m` (the shift grows with the magnitude).
fn shift_for(m: f64) -> Option<u32> {
    // (NaN fails the comparison too.)
    if m.partial_cmp(&LIMIT) != Some(core::cmp::Ordering::Less) {
        return None;
    }
    Some(quant_shift((m / U) as u32 + 1))
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| fmax(m, abs(*x)))
}

/// The exact activation.
fn activate(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Relu => fmax(z, 0.0),
        Activation::Sigmoid => 1.0 / (1.0 + libm::exp(-z)),
        Activation::Tanh => libm::tanh(z),
        _ => z,
    }
}

/// An activation's output error from its input error `ez` (fixed, float).
fn activation_error(act: Activation, ez: (f64, f64)) -> (f64, f64) {
    match act {
        Activation::Sigmoid => (ez.0 / 4.0 + SIGMOID_TABLE, ez.1 / 4.0 + FLOAT_SQUASH),
        Activation::Tanh => (ez.0 + TANH_TABLE, ez.1 + FLOAT_SQUASH),
        _ => ez,
    }
}

/// `delta = f'(a) v` of the exact step and its error bound on one path, from the
/// exact `z`, `a`, `v` and the path's errors `ez`, `ea`, `ev`; `r` is the path's
/// absolute rounding of a product (`u/2` fixed, 0 float) and `rel` its relative one.
#[allow(clippy::too_many_arguments)]
fn derivative(
    act: Activation,
    z: f64,
    ez: f64,
    a: f64,
    ea: f64,
    v: f64,
    ev: f64,
    r: f64,
    rel: f64,
) -> (f64, f64) {
    let local = rel * (abs(v) + ev);
    match act {
        Activation::Relu => {
            let d = if z > 0.0 { v } else { 0.0 };
            // The sign of z may differ between the paths only within its error.
            let e = if z > ez {
                ev
            } else if z < -ez {
                0.0
            } else {
                abs(v) + ev
            };
            (d, e)
        }
        Activation::Sigmoid => {
            let d = a * (1.0 - a);
            (v * d, ev * (d + ea + r) + abs(v) * (ea + r) + r + local)
        }
        Activation::Tanh => {
            let d = 1.0 - a * a;
            (
                v * d,
                ev * (d + 2.0 * ea + r) + abs(v) * (2.0 * ea + r) + r + local,
            )
        }
        _ => (v, ev),
    }
}

/// The Q16.16 weight shift [`math::weight_shift`] of float weights rounded to Q16.16.
fn weight_shift_of(w: &[f32]) -> Option<u32> {
    let mut bits = 0u32;
    for v in w {
        let q = math::from_f32(*v, 16, VALUE_MAX)?;
        bits |= (q ^ (q >> 31)) as u32;
    }
    Some(quant_shift(bits))
}

/// Bounds `|p_fixed - p_float|` for every parameter after one plain-SGD step
/// ([`Sgd`](crate::Sgd) with only `lr` set) of [`FixedTrainer`](super::FixedTrainer)
/// and [`Trainer`](crate::Trainer) from the same `f32` parameters and sample: writes
/// the bound of parameter `p` into `out[p]` and returns the largest.
///
/// Derived from the per-operation bounds (see the module docs of [`crate::fixed`]):
/// each path's error against the exact step is propagated through the forward pass,
/// the loss, the backward pass and the update, from the model's actual values (the
/// exact `z`, `a` and `delta` of this sample, the weights' shifts, upper bounds of the
/// operands' shifts and the quantised learning rate); the bound is the sum of the two
/// paths' bounds. `None` when the model is outside the bound's scope: shapes or buffer
/// lengths that do not match, activations other than identity, ReLU, sigmoid and
/// tanh, binary cross-entropy, a value that could reach the saturation at `+-2048`, a
/// gradient that the fixed-point step could reject, or `|lr delta| >= 7.9`.
/// `scratch` holds [`bound_scratch_len`] values.
#[allow(clippy::too_many_arguments)]
pub fn sgd_step_bounds(
    layers: &[Dense],
    params: &[f32],
    x: &[f32],
    target: &Target<'_>,
    loss: Loss,
    lr: f32,
    scratch: &mut [f64],
    out: &mut [f64],
) -> Option<f64> {
    let n_layers = layers.len();
    let t_len = shape::all_layer_outputs(layers);
    if n_layers == 0
        || params.len() != shape::params_len(layers)
        || out.len() < params.len()
        || x.len() != shape::inputs(layers)
        || scratch.len() < bound_scratch_len(layers)
        || loss == Loss::BinaryCrossEntropy
        || layers.iter().any(|l| {
            l.inputs > MAX_WIDTH
                || l.outputs > MAX_WIDTH
                || !matches!(
                    l.activation,
                    Activation::Identity | Activation::Relu | Activation::Sigmoid | Activation::Tanh
                )
        })
    {
        return None;
    }
    let (zs, rest) = scratch.split_at_mut(t_len);
    let (acts, rest) = rest.split_at_mut(t_len);
    let (ds, rest) = rest.split_at_mut(t_len);
    let sc = rest.get_mut(..SLOTS * n_layers)?;
    let mut input = [0.0f64; MAX_WIDTH];

    // Forward: z = W a + b per layer. Fixed: inputs rounded to Q16.16 (u/2), weights
    // rounded (u/2) and taken as (w >> sw) + 1/2 (2^(sw-1) u), operands quantised with
    // their shift (2^(sx-1) u), the bias rounded (u/2) and the sum rounded once (u/2).
    // Float: the f32 sum of n + 1 terms (gamma_(n+1)).
    let (mut p_off, mut o_off) = (0usize, 0usize);
    let mut ea = (U / 2.0, 0.0);
    for (li, l) in layers.iter().enumerate() {
        let (n, k) = (l.inputs, l.outputs);
        let inp = input.get_mut(..n)?;
        let sx = if li == 0 {
            let mut m = 0u32;
            for (d, v) in inp.iter_mut().zip(x) {
                *d = f64::from(*v);
                m = m.max(math::from_f32(*v, 16, VALUE_MAX)?.unsigned_abs());
            }
            quant_shift(m)
        } else {
            inp.copy_from_slice(acts.get(o_off - n..o_off)?);
            shift_for(max_abs(inp) + ea.0)?
        };
        let inp: &[f64] = inp;
        let n_w = n * k;
        let w = params.get(p_off..p_off + n_w)?;
        let b = params.get(p_off + n_w..p_off + n_w + k)?;
        let e_w = U / 2.0 + e_quant(weight_shift_of(w)?);
        let e_q = e_quant(sx);
        let sum_a: f64 = inp.iter().map(|v| abs(*v)).sum();
        let mut ez = (0.0f64, 0.0f64);
        for (i, bias) in b.iter().enumerate() {
            let row = w.get(i * n..i * n + n)?;
            let (mut z, mut s_w, mut s_wa) = (f64::from(*bias), 0.0, 0.0);
            for (wv, av) in row.iter().zip(inp) {
                let wv = f64::from(*wv);
                z += wv * av;
                s_w += abs(wv);
                s_wa += abs(wv) * (abs(*av) + ea.1);
            }
            let fx = U + s_w * (ea.0 + e_q) + e_w * (sum_a + n as f64 * (ea.0 + e_q));
            let fl = s_w * ea.1 + gamma(n + 1) * (s_wa + abs(f64::from(*bias)));
            if abs(z) + fx >= LIMIT {
                return None;
            }
            ez = (fmax(ez.0, fx), fmax(ez.1, fl));
            *zs.get_mut(o_off + i)? = z;
            *acts.get_mut(o_off + i)? = activate(l.activation, z);
        }
        let s = sc.get_mut(SLOTS * li..SLOTS * li + SLOTS)?;
        let ea_out = activation_error(l.activation, ez);
        s.copy_from_slice(&[
            ea.0,
            ea.1,
            ez.0,
            ez.1,
            f64::from(sx),
            0.0,
            0.0,
            ea_out.0,
            ea_out.1,
        ]);
        ea = ea_out;
        p_off += n_w + k;
        o_off += k;
    }

    // The loss's error term at the output.
    let last = layers.last()?;
    let k = last.outputs;
    let o_last = t_len - k;
    let ls = SLOTS * (n_layers - 1);
    let (ez, ea_out) = ((*sc.get(ls + 2)?, *sc.get(ls + 3)?), ea);
    let t_of = |i: usize| -> f64 {
        match target {
            Target::Class(c) => f64::from(u8::from(*c == i)),
            Target::Values(v) => v.get(i).map_or(0.0, |y| f64::from(*y)),
        }
    };
    let kf = k as f64;
    let mut ed = (0.0f64, 0.0f64);
    if loss == Loss::SoftmaxCrossEntropy {
        let z = zs.get(o_last..)?;
        let m = z.iter().fold(f64::MIN, |m, v| fmax(m, *v));
        let s: f64 = z.iter().map(|v| libm::exp(v - m)).sum();
        let t_sum: f64 = (0..k).map(t_of).sum();
        for i in 0..k {
            let p = libm::exp(*z.get(i)? - m) / s;
            let t = t_of(i);
            // p moves by at most p (e^(2 ez) - 1) when every logit moves by ez. Fixed:
            // each exponential within 3u, the reciprocal and the rounding 2u, the
            // targets rounded (u/2 each), the product with their sum rounded (u/2).
            let ep_fx = fmax(0.0, p * libm::expm1(2.0 * ez.0)).min(1.0) + (3.0 * kf + 2.0) * U;
            let fx = ep_fx * (abs(t_sum) + kf * U / 2.0) + p * kf * U / 2.0 + U;
            let ep_fl = fmax(0.0, p * libm::expm1(2.0 * ez.1)).min(1.0) + (kf + 5.0) * EPS;
            let fl = ep_fl * abs(t_sum) * (1.0 + kf * EPS) + (kf + 6.0) * EPS * (abs(t_sum) + abs(t));
            *ds.get_mut(o_last + i)? = p * t_sum - t;
            ed = (fmax(ed.0, fx), fmax(ed.1, fl));
        }
    } else {
        for i in 0..k {
            let (z, a) = (*zs.get(o_last + i)?, *acts.get(o_last + i)?);
            let diff = a - t_of(i);
            let v = 2.0 / kf * diff;
            // Fixed: the target rounded (u/2), 2/K to Q16.16 (u), the product rounded.
            let ev_fx = (ea_out.0 + U / 2.0) * (2.0 / kf + U) + abs(diff) * U + U / 2.0;
            let ev_fl = ea_out.1 * 2.0 / kf + 3.0 * EPS * (abs(v) + ea_out.1 * 2.0 / kf);
            let (d, fx) = derivative(last.activation, z, ez.0, a, ea_out.0, v, ev_fx, U / 2.0, 0.0);
            let (_, fl) = derivative(last.activation, z, ez.1, a, ea_out.1, v, ev_fl, 0.0, 4.0 * EPS);
            *ds.get_mut(o_last + i)? = d;
            ed = (fmax(ed.0, fx), fmax(ed.1, fl));
        }
    }
    *sc.get_mut(ls + 5)? = ed.0;
    *sc.get_mut(ls + 6)? = ed.1;

    // Backward: v_j = sum_i W_ij delta_i, quantised like the forward pass (delta with its
    // shift sd); then delta_(l-1) = f'(a_(l-1)) v.
    let mut p_end = params.len();
    let mut o_end = t_len;
    for li in (1..n_layers).rev() {
        let (l, prev) = (layers.get(li)?, layers.get(li - 1)?);
        let (n, k) = (l.inputs, l.outputs);
        let p_off = p_end - n * k - k;
        let o_off = o_end - k;
        let w = params.get(p_off..p_off + n * k)?;
        let (ds_low, ds_high) = ds.split_at_mut(o_off);
        let d = ds_high.get(..k)?;
        let s = sc.get(SLOTS * li..SLOTS * li + SLOTS)?;
        let ed = (*s.get(5)?, *s.get(6)?);
        let m_d = max_abs(d);
        let e_d = e_quant(shift_for(m_d + ed.0)?);
        let e_w = U / 2.0 + e_quant(weight_shift_of(w)?);
        let sum_d: f64 = d.iter().map(|v| abs(*v)).sum();
        let ps = sc.get(SLOTS * (li - 1)..SLOTS * li)?;
        let (ez_p, ea_p) = ((*ps.get(2)?, *ps.get(3)?), (*ps.get(7)?, *ps.get(8)?));
        let mut ed_p = (0.0f64, 0.0f64);
        for j in 0..n {
            let (mut v, mut s_w, mut s_wd) = (0.0f64, 0.0f64, 0.0f64);
            for (i, dv) in d.iter().enumerate() {
                let wv = f64::from(*w.get(i * n + j)?);
                v += wv * dv;
                s_w += abs(wv);
                s_wd += abs(wv) * (abs(*dv) + ed.1);
            }
            let ev_fx = U / 2.0 + s_w * (ed.0 + e_d) + e_w * (sum_d + k as f64 * (ed.0 + e_d));
            let ev_fl = s_w * ed.1 + gamma(k) * s_wd;
            if abs(v) + ev_fx >= LIMIT {
                return None;
            }
            let at = o_off - n + j;
            let (z, a) = (*zs.get(at)?, *acts.get(at)?);
            let (dp, fx) = derivative(prev.activation, z, ez_p.0, a, ea_p.0, v, ev_fx, U / 2.0, 0.0);
            let (_, fl) = derivative(prev.activation, z, ez_p.1, a, ea_p.1, v, ev_fl, 0.0, 4.0 * EPS);
            *ds_low.get_mut(at)? = dp;
            ed_p = (fmax(ed_p.0, fx), fmax(ed_p.1, fl));
        }
        let ps = sc.get_mut(SLOTS * (li - 1)..SLOTS * li)?;
        *ps.get_mut(5)? = ed_p.0;
        *ps.get_mut(6)? = ed_p.1;
        p_end = p_off;
        o_end = o_off;
    }

    // The update w -= lr delta_i x_j. Fixed, 32-bit path: lr to 14 bits (lr16 2^(slr-24)),
    // delta quantised with its shift sd, l16 = lr delta rounded to units of
    // 2^(slr+sd-10) u, times the quantised input, rounded (u/2). Fixed, exact path:
    // lr delta in Q8.24 (2^-25), times x within 1.5u. Both start from the parameter
    // rounded to Q16.16 (u/2). Float: two products and a difference in f32.
    let lr_q24 = math::from_f32(lr, 24, i32::MAX)?;
    let (lr16, slr) = math::normalise14(lr_q24);
    let lrf = f64::from(lr);
    let e_lr16 = abs(f64::from(lr16) * pow2(slr - 24) - lrf);
    let e_lr24 = abs(f64::from(lr_q24) * pow2(-24) - lrf);
    let (mut p_off, mut o_off) = (0usize, 0usize);
    let mut worst = 0.0f64;
    for (li, l) in layers.iter().enumerate() {
        let (n, k) = (l.inputs, l.outputs);
        let s = sc.get(SLOTS * li..SLOTS * li + SLOTS)?;
        let (ea, ed) = ((*s.first()?, *s.get(1)?), (*s.get(5)?, *s.get(6)?));
        let e_q = e_quant(*s.get(4)? as u32);
        let inp = input.get_mut(..n)?;
        if li == 0 {
            inp.iter_mut().zip(x).for_each(|(d, v)| *d = f64::from(*v));
        } else {
            inp.copy_from_slice(acts.get(o_off - n..o_off)?);
        }
        let inp: &[f64] = inp;
        let m_x = max_abs(inp);
        let d = ds.get(o_off..o_off + k)?;
        let m_d = max_abs(d);
        // The gradient check of the fixed-point step must pass.
        if m_d + ed.0 >= 127.0 || (m_d + ed.0) * (m_x + ea.0) >= 127.0 {
            return None;
        }
        let sd = shift_for(m_d + ed.0)?;
        let e_d = e_quant(sd);
        let n_w = n * k;
        for (i, dv) in d.iter().enumerate() {
            let ad = abs(*dv);
            if lrf * (ad + ed.0) >= 7.9 {
                return None;
            }
            let el_fast = pow2(slr + sd as i32 - 11) * U + e_lr16 * (ad + ed.0 + e_d) + lrf * (ed.0 + e_d);
            let el_exact = pow2(-25) + e_lr24 * (ad + ed.0) + lrf * ed.0;
            for j in 0..=n {
                let (xv, at) = match inp.get(j) {
                    Some(xv) => (abs(*xv), p_off + i * n + j),
                    None => (1.0, p_off + n_w + i), // the bias: "x = 1", exact on both paths
                };
                let (ex, eq) = if j < n { (ea, e_q) } else { ((0.0, 0.0), 0.0) };
                let fast = el_fast * (xv + ex.0 + eq) + lrf * ad * (ex.0 + eq) + U / 2.0;
                let exact = el_exact * (xv + ex.0) + lrf * ad * ex.0 + 1.5 * U;
                let fx = U / 2.0 + fmax(fast, exact);
                let step = lrf * (ad + ed.1) * (xv + ex.1);
                let p0 = abs(f64::from(*params.get(at)?));
                let fl = lrf * (ed.1 * xv + ad * ex.1 + ed.1 * ex.1) + gamma(2) * step + EPS * (p0 + step);
                if p0 + lrf * (ad + ed.0) * (xv + ex.0) + fx >= LIMIT {
                    return None;
                }
                // f64 arithmetic of this function: a relative 2^-40 is far above it.
                let bound = (fx + fl) * (1.0 + pow2(-40));
                *out.get_mut(at)? = bound;
                worst = fmax(worst, bound);
            }
        }
        p_off += n_w + k;
        o_off += k;
    }
    Some(worst)
}
