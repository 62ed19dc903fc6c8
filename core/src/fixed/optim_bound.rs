//! Tests of the per-step error bounds of the fixed-point optimizers written in
//! [`FixedOptimizer::rule`](super::FixedOptimizer::rule)'s docs: one fixed-point update
//! through the trainer's own calls ([`Rule::update`], [`adam_layer`], [`adam_biases`],
//! [`Rule::update_sgd`]) against the float update computed in `f64` with PyTorch's
//! formulas, from the same state and the same gradient, over random states, gradients,
//! steps and hyperparameters. Every bound is computed here from the documented formula
//! with the case's values; every in-scope case must be within it.

extern crate std;

use super::super::trainer::pow_q30;
use super::*;
use crate::Rng;
use std::vec::Vec;

const U16: f64 = 1.0 / 65536.0; // Q16.16 unit
const U24: f64 = 1.0 / 16_777_216.0; // Q8.24 unit
const U28: f64 = 1.0 / 268_435_456.0; // Q4.28 unit

/// The relative error of Adam's per-parameter `1/sqrt(v)` (the `RSQRT14` table with its
/// interpolation), as documented: within `[-2.3e-5, 4.1e-4]`.
const E_RSQRT: f64 = 4.1e-4;

/// A uniform `f64` in `[0, 1)`.
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Log-uniform in `[lo, hi]`.
fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    libm::exp(libm::log(lo) + unit(rng) * (libm::log(hi) - libm::log(lo)))
}

/// A standard normal `f64`.
fn normal(rng: &mut Rng) -> f64 {
    let (u1, u2) = (1.0 - unit(rng), unit(rng));
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

fn pick<T: Copy>(rng: &mut Rng, options: &[T]) -> T {
    options[rng.below(options.len() as u32) as usize]
}

/// `x` rounded to `frac` fractional bits, saturated to `+-limit` units.
fn fix(x: f64, frac: u32, limit: i64) -> i32 {
    (libm::round(x * (1u64 << frac) as f64) as i64).clamp(-limit, limit) as i32
}

/// `1 - b^k` in `f64`, without cancellation.
fn one_minus_pow(b: f64, k: u32) -> f64 {
    if b == 0.0 {
        return 1.0;
    }
    -libm::expm1(f64::from(k) * libm::log(b))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The hyperparameters as both paths see them: the float path's (`f64` of the `f32`s)
/// and the fixed path's (the rule's integers as reals).
#[derive(Debug, Clone, Copy)]
struct AdamParams {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    lr_q: f64,
    beta1_q: f64,
    beta2_q: f64,
}

/// Why a case is outside the documented bound's scope.
#[derive(Debug, Clone, Copy)]
enum OutOfScope {
    /// `|g| >= 4`: `g^2` capped at 16.
    GradientCap = 0,
    /// `v` within its error bound of 0.
    TinyV = 1,
    /// `m / sqrt(v)` may reach the clamp at 16.
    Clamp = 2,
    /// `1 - beta^k` within its error of 0, or `s_k` near its saturation.
    StepSize = 3,
}

/// The documented bounds of one Adam step.
#[derive(Debug, Clone, Copy)]
struct AdamBound {
    e_m: f64,
    e_v: f64,
    e_s: f64,
    e_p: f64,
}

/// The formulas of `FixedOptimizer::rule`'s "Adam's error per step", with this case's
/// values: state `m`, `v`, float gradient `g` known to the fixed path within `e_g`
/// (`g_fixed` its fixed value), 1-based step `k`.
fn adam_bound(
    h: &AdamParams,
    k: u32,
    m: f64,
    v: f64,
    g: f64,
    g_fixed: f64,
    e_g: f64,
) -> Result<AdamBound, OutOfScope> {
    let AdamParams {
        lr,
        beta1,
        beta2,
        eps,
        lr_q,
        beta1_q,
        beta2_q,
    } = *h;
    // No cap of g^2 at 16.
    if g_fixed.abs() >= 4.0 {
        return Err(OutOfScope::GradientCap);
    }
    let (db1, db2) = ((beta1_q - beta1).abs(), (beta2_q - beta2).abs());
    let e_m = (1.0 - beta1_q) * e_g + db1 * (g - m).abs() + U24;
    let e_v =
        (1.0 - beta2_q) * (2.0 * g.abs() * e_g + e_g * e_g + 2.0 * U28) + db2 * (g * g - v).abs() + 2.0 * U28;
    let mf = beta1 * m + (1.0 - beta1) * g;
    let vf = beta2 * v + (1.0 - beta2) * g * g;
    if vf <= e_v {
        return Err(OutOfScope::TinyV);
    }
    let (bc1, bc2) = (one_minus_pow(beta1, k), one_minus_pow(beta2, k));
    let r = mf.abs() / libm::sqrt(vf);
    let big_r = (mf.abs() + e_m) / libm::sqrt(vf - e_v);
    // No clamp of m / sqrt(v) at 16.
    if big_r * (1.0 + E_RSQRT) + 1.0 / 2048.0 > 16.0 {
        return Err(OutOfScope::Clamp);
    }
    let e_r = big_r * (1.0 + E_RSQRT) - r + r * eps * libm::sqrt(bc2) / libm::sqrt(vf) + 1.0 / 2048.0;
    let kf = f64::from(k);
    let pmax = |a: f64, b: f64| libm::pow(a.max(b), kf - 1.0);
    let e_b1 = kf * (db1 * pmax(beta1, beta1_q) + 1.0 / (1u64 << 30) as f64);
    let e_b2 = kf * (db2 * pmax(beta2, beta2_q) + 1.0 / (1u64 << 30) as f64);
    if e_b1 >= bc1 || e_b2 >= bc2 {
        return Err(OutOfScope::StepSize);
    }
    let e_lr = (lr_q - lr).abs() / lr;
    let e_sqrt = if bc2 - e_b2 >= 1.0 / 65536.0 { 2e-5 } else { 4e-4 }
        + 1.0 / (1u64 << 29) as f64 / libm::sqrt(bc2 - e_b2);
    let rel =
        (1.0 + e_lr) * (1.0 + e_sqrt) * (1.0 + e_b2 / (2.0 * (bc2 - e_b2))) * (1.0 + e_b1 / (bc1 - e_b1))
            - 1.0;
    let s = lr * libm::sqrt(bc2) / bc1;
    // The floor of lr's 24 bits times sqrt(q2), the division's floor, the 14-bit mantissa;
    // the floor of a mantissa below 2^-34.
    let e_floor = 1.0 / (1u64 << 22) as f64 / libm::sqrt(bc2 - e_b2);
    let e_s = s
        * ((1.0 + rel) * (1.0 + e_floor) * (1.0 + 1.0 / (1u64 << 30) as f64) * (1.0 + 1.0 / 16384.0) - 1.0)
        + 1.0 / (1u64 << 34) as f64;
    // No saturation of s_k (below 128 in Q8.24).
    if s + e_s >= 64.0 {
        return Err(OutOfScope::StepSize);
    }
    let e_p = (s + e_s) * e_r + r * e_s + U16 / 2.0;
    Ok(AdamBound { e_m, e_v, e_s, e_p })
}

/// The bound as the docs wrote it before this test (first order; `4e-4`, `1e-4` for
/// `eps`, `2^-28` for `v`'s step, `s_k` relative `2^-14 + 2e-5`): counted, not asserted.
fn adam_bound_old(h: &AdamParams, k: u32, m: f64, v: f64, g: f64, e_g: f64) -> f64 {
    let (db1, db2) = ((h.beta1_q - h.beta1).abs(), (h.beta2_q - h.beta2).abs());
    let e_m = (1.0 - h.beta1) * e_g + db1 * (g - m).abs() + U24;
    let e_v = (1.0 - h.beta2) * (2.0 * g.abs() * e_g + e_g * e_g + 2.0 * U28) + db2 * (g * g - v).abs() + U28;
    let mf = h.beta1 * m + (1.0 - h.beta1) * g;
    let vf = h.beta2 * v + (1.0 - h.beta2) * g * g;
    let r = mf.abs() / libm::sqrt(vf);
    let e_r = r * (e_m / mf.abs().max(1e-300) + e_v / (2.0 * vf) + 4e-4 + 1e-4) + 1.0 / 2048.0;
    let s = h.lr * libm::sqrt(one_minus_pow(h.beta2, k)) / one_minus_pow(h.beta1, k);
    s * (e_r + r * (1.0 / 16384.0 + 2e-5)) + U16 / 2.0
}

/// One Adam step of PyTorch's formula in `f64`: `(m, v, update)`.
fn adam_f64(h: &AdamParams, k: u32, m: f64, v: f64, g: f64) -> (f64, f64, f64) {
    let m = m + (1.0 - h.beta1) * (g - m);
    let v = h.beta2 * v + (1.0 - h.beta2) * g * g;
    let step_size = h.lr / one_minus_pow(h.beta1, k);
    let denom = libm::sqrt(v) / libm::sqrt(one_minus_pow(h.beta2, k)) + h.eps;
    (m, v, step_size * m / denom)
}

/// Which of the trainer's calls makes the update.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AdamPath {
    /// `Rule::update` (a batch's mean gradient, any Q8.24).
    Update,
    /// `adam_biases` with shift 8 (a bias: `g = delta` from Q16.16).
    Biases,
    /// `adam_layer` (a weight: `g = delta x` rounded to Q8.24, `E_g = 2^-25`).
    Layer,
}

/// Adam's documented per-step bound, checked against `f64` Adam: 30,000 random cases
/// (every third through each of `Rule::update`, `adam_biases` and `adam_layer`; `lr`
/// from `1e-5` to 0.5, `beta1` from 0 to 0.999, `beta2` from 0.5 to 0.99999, `eps` 0 to
/// `1e-4`, steps `k` from 1 to `10^5`, states from fixed-point runs of up to 300 steps,
/// random, or zero). Measured: 21,718 cases in scope (the rest: 973 with `|g| >= 4`,
/// 5,637 with `v` within its error of 0, 1,672 where `m / sqrt(v)` may reach the clamp);
/// every `|p_fixed - p_float|` within `E_p`, the worst at 0.998 of it; `m`, `v` and
/// `s_k` within `E_m`, `E_v`, `E_s` (worst 1.000, 1.000, 0.989: `s_k`'s 14-bit mantissa).
/// Not vacuous: the median `E_p / |step|` is 0.021 over all 21,696 nonzero steps, 0.0038
/// over the 12,179 steps above `1e-3`. The former first-order bound (`adam_bound_old`)
/// is exceeded in 1,499 of these cases, 156 of them at `eps <= 1e-8` (1,658 and 276 while
/// `s_k` was formed in Q8.24). With other seeds, 1.6 million more cases (400,000 a seed)
/// stayed within the bound of that time, the worst at 0.996.
#[test]
fn one_adam_step_is_within_the_documented_bound() {
    let mut rng = Rng::new(0xADA3);
    let cases = 30_000;
    let (mut in_scope, mut old_violations, mut old_default_eps) = (0usize, 0usize, 0usize);
    let mut out_of_scope = [0usize; 4];
    let (mut worst_p, mut worst_m, mut worst_v, mut worst_s) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut ratio_all, mut ratio_big) = (Vec::new(), Vec::new());
    for case in 0..cases {
        let lr = log_uniform(&mut rng, 1e-5, 0.5) as f32;
        let beta1 = match rng.below(9) {
            0..=2 => 0.9,
            3 => 0.8,
            4 => 0.95,
            5 => 0.99,
            6 => 0.0,
            7 => 0.5,
            _ => (unit(&mut rng) * 0.999) as f32,
        };
        let beta2 = match rng.below(8) {
            0..=2 => 0.999,
            3 => 0.99,
            4 => 0.9999,
            5 => 0.99999,
            6 => 0.9,
            _ => (0.5 + unit(&mut rng) * 0.4999) as f32,
        };
        let eps = pick(&mut rng, &[1e-8f32, 1e-8, 1e-8, 1e-8, 0.0, 1e-6, 1e-4]);
        let opt = Adam {
            lr,
            beta1,
            beta2,
            eps,
            ..Adam::new(lr)
        };
        let rule = opt.rule().unwrap();
        let Rule::Adam {
            lr_m,
            lr_s,
            beta1: b1q,
            beta2: b2q,
            c1,
            c2,
            s2,
        } = rule
        else {
            panic!("Adam gives Rule::Adam")
        };
        let h = AdamParams {
            lr: f64::from(lr),
            beta1: f64::from(beta1),
            beta2: f64::from(beta2),
            eps: f64::from(eps),
            lr_q: f64::from(lr_m) / libm::pow(2.0, f64::from(lr_s)),
            beta1_q: f64::from(b1q) / (1u64 << 30) as f64,
            beta2_q: f64::from(b2q) / (1u64 << 30) as f64,
        };
        let k = if case % 5 == 0 {
            1
        } else {
            libm::round(log_uniform(&mut rng, 1.0, 1e5)) as u32
        };
        let sigma = log_uniform(&mut rng, 1e-4, 2.0);
        let grad = |rng: &mut Rng| fix(sigma * normal(rng), 24, (1 << 30) - 1);
        let (mut m, mut v) = (0i32, 0i32);
        let mut pow = (pow_q30(b1q, k - 1), pow_q30(b2q, k - 1));
        match rng.below(3) {
            // A fixed-point run of k - 1 steps from zero, as the trainer makes them.
            0 if k <= 300 => {
                let mut p = 0;
                pow = (1 << 30, 1 << 30);
                for j in 1..k {
                    let sc = rule.scalars(j, &mut pow);
                    adam_update(&sc, (c1, c2, s2), &mut p, grad(&mut rng), &mut m, &mut v);
                }
                assert_eq!(pow, (pow_q30(b1q, k - 1), pow_q30(b2q, k - 1)));
            }
            // Zero moments (a parameter whose gradient was always 0).
            2 => {}
            // A random state: v around sigma^2, |m| / sqrt(v) up to 10.
            _ => {
                let vf = sigma * sigma * (0.05 + 1.5 * unit(&mut rng));
                v = (libm::round(vf / U28) as i64).clamp(0, (16i64 << 28) - 1) as u32 as i32;
                let mf = libm::sqrt(f64::from(v as u32) * U28) * 10.0 * (2.0 * unit(&mut rng) - 1.0);
                m = fix(mf, 24, i64::from(i32::MAX));
            }
        }
        let sc = rule.scalars(k, &mut pow);
        let path = [AdamPath::Update, AdamPath::Biases, AdamPath::Layer][case % 3];
        let gf = sigma * log_uniform(&mut rng, 0.05, 20.0) * normal(&mut rng);
        let p0 = fix(16.0 * unit(&mut rng) - 8.0, 16, i64::from(VALUE_MAX));
        let (mut p, mut m1, mut v1) = (p0, m, v);
        // The gradient each path takes, exactly (`g`), and what the fixed path makes of
        // it (`g_fixed`).
        let (g, g_fixed, e_g) = match path {
            AdamPath::Update => {
                let gq = fix(gf, 24, (1 << 30) - 1);
                let mut st = [m1, v1];
                rule.update(&sc, &mut p, gq, &mut st);
                [m1, v1] = st;
                (f64::from(gq) * U24, gq, 0.0)
            }
            AdamPath::Biases => {
                let d = fix(gf, 16, (1 << 22) - 1);
                let mut st = [m1, v1];
                adam_biases(&sc, (c1, c2, s2), core::slice::from_mut(&mut p), &[d], 8, &mut st);
                [m1, v1] = st;
                (f64::from(d) * U16, d << 8, 0.0)
            }
            AdamPath::Layer => {
                let x = fix(
                    log_uniform(&mut rng, 0.25, 4.0) * pick(&mut rng, &[1.0, -1.0]),
                    16,
                    1 << 20,
                );
                // Below 32: the trainer's gradient check (Adam's) rejects the rest.
                let d = fix(gf.clamp(-31.0, 31.0) / (f64::from(x) * U16), 16, (1 << 22) - 1);
                let mut st = [m1, v1];
                adam_layer(
                    &sc,
                    (c1, c2, s2),
                    core::slice::from_mut(&mut p),
                    &[x],
                    &[d],
                    &mut st,
                );
                [m1, v1] = st;
                let exact = f64::from(d) * f64::from(x) * U16 * U16;
                (exact, super::super::math::mul_round8(d, x), U24 / 2.0)
            }
        };
        let (mf, vf, uf) = adam_f64(&h, k, f64::from(m) * U24, f64::from(v as u32) * U28, g);
        let g_x = f64::from(g_fixed) * U24;
        let b = match adam_bound(&h, k, f64::from(m) * U24, f64::from(v as u32) * U28, g, g_x, e_g) {
            Ok(b) => b,
            Err(why) => {
                out_of_scope[why as usize] += 1;
                continue;
            }
        };
        // p_fixed - p_float with p_float = p0 - uf: (p - p0) is exact in f64.
        let err_p = (f64::from(p - p0) * U16 + uf).abs();
        let err_m = (f64::from(m1) * U24 - mf).abs();
        let err_v = (f64::from(v1 as u32) * U28 - vf).abs();
        let s_fixed = f64::from(sc.s_mant) / (1u64 << (sc.u_shift + 5)) as f64;
        let s_float = h.lr * libm::sqrt(one_minus_pow(h.beta2, k)) / one_minus_pow(h.beta1, k);
        let err_s = (s_fixed - s_float).abs();
        let what = || {
            std::format!(
                "case {case} ({path:?}, k {k}, lr {lr}, betas {beta1} {beta2}, eps {eps}, m {m}, v {v}, g {g}): \
                 p {p} (from {p0}) vs float step {uf}; m {m1} vs {mf}; v {v1} vs {vf}; s {s_fixed} vs {s_float}; {b:?}"
            )
        };
        assert!(err_m <= b.e_m, "E_m: {}", what());
        assert!(err_v <= b.e_v, "E_v: {}", what());
        assert!(err_s <= b.e_s, "E_s: {}", what());
        assert!(err_p <= b.e_p, "E_p: {}", what());
        in_scope += 1;
        worst_p = worst_p.max(err_p / b.e_p);
        worst_m = worst_m.max(err_m / b.e_m);
        worst_v = worst_v.max(err_v / b.e_v);
        worst_s = worst_s.max(err_s / b.e_s);
        if err_p > adam_bound_old(&h, k, f64::from(m) * U24, f64::from(v as u32) * U28, g, e_g) {
            old_violations += 1;
            if eps <= 1e-8 {
                old_default_eps += 1;
            }
        }
        if uf != 0.0 {
            ratio_all.push(b.e_p / uf.abs());
            if uf.abs() >= 1e-3 {
                ratio_big.push(b.e_p / uf.abs());
            }
        }
    }
    let (med_all, med_big) = (median(&mut ratio_all), median(&mut ratio_big));
    std::println!(
        "Adam: {in_scope} of {cases} cases in scope; worst error / bound: p {worst_p:.3}, m {worst_m:.3}, \
         v {worst_v:.3}, s_k {worst_s:.3}; median E_p / |step| {med_all:.4} ({} steps), {med_big:.4} for \
         steps >= 1e-3 ({}); out of scope (|g| >= 4, v ~ 0, clamp, s_k): {out_of_scope:?}; the former \
         first-order bound exceeded in {old_violations} cases ({old_default_eps} at eps <= 1e-8)",
        ratio_all.len(),
        ratio_big.len()
    );
    assert!(in_scope * 10 >= cases * 7, "{in_scope} of {cases} in scope");
    assert!(
        med_all < 0.05 && med_big < 0.02,
        "median bound / step {med_all}, {med_big}"
    );
    // The errors reach a fair part of the bound.
    assert!(worst_p > 0.5, "worst error / bound {worst_p}");
}

/// The relative error of Adam's per-parameter `1/sqrt(v)` (table `RSQRT14`, linear
/// interpolation over 10 bits, as `adam_update` computes it), over every top 16 bits of
/// the normalised `v`, against the exact value anywhere in their range: within
/// `[-2.3e-5, E_RSQRT]`.
#[test]
fn adam_rsqrt_table_error_is_as_documented() {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for top in (1u32 << 14)..(1 << 16) {
        let i = (top >> 10) as usize;
        let frac = (top & 0x3FF) as i32;
        let (y0, y1) = (i32::from(RSQRT14[i]), i32::from(RSQRT14[i + 1]));
        let y = f64::from(y0 - (((y0 - y1) * frac) >> 10)) / 16384.0;
        // x / 2^32 over [top 2^-16, (top + 1) 2^-16): 1/sqrt is largest at the start.
        let (x0, x1) = (f64::from(top) / 65536.0, f64::from(top + 1) / 65536.0);
        lo = lo.min(y * libm::sqrt(x0) - 1.0);
        hi = hi.max(y * libm::sqrt(x1) - 1.0);
    }
    assert!(lo >= -2.3e-5 && hi <= E_RSQRT, "[{lo}, {hi}]");
    assert!(hi > 4.0e-4, "{hi}");
}

/// Momentum's (and plain SGD's batch update's) documented per-step bound, against
/// `f64` SGD (PyTorch's formula): 30,000 random cases (classical momentum, Nesterov,
/// dampening, every tenth plain SGD; `lr` from `1e-4` to 1, `mu` up to 1.5, first and
/// later steps, buffers and gradients from `1e-4` to about 100; every third through a
/// weight's rounded `delta x`, a bias's `delta`, a batch's mean). Measured: 29,982 in
/// scope (the rest could saturate the buffer, the direction or `p`); every `p` and buffer within
/// its bound, the worst at 1.000 of it (the update's rounding to Q16.16 alone, with
/// exact `lr` and `g`, reaches `2^-17`). Not vacuous: the median `E_p / |step|` is 0.030
/// over all 29,841 nonzero steps, 0.0005 over the 11,591 steps above `1e-3`. With other
/// seeds, 1.6 million more cases stayed within.
#[test]
fn one_momentum_step_is_within_the_documented_bound() {
    let mut rng = Rng::new(0x3011);
    let cases = 30_000;
    let mut in_scope = 0usize;
    let (mut worst_p, mut worst_b) = (0.0f64, 0.0f64);
    let (mut ratio_all, mut ratio_big) = (Vec::new(), Vec::new());
    for case in 0..cases {
        let lr = log_uniform(&mut rng, 1e-4, 1.0) as f32;
        let plain = case % 10 == 9;
        let nesterov = !plain && rng.below(2) == 0;
        let momentum = if plain {
            0.0
        } else {
            match rng.below(6) {
                0 | 1 => 0.9,
                2 => 0.99,
                3 => 0.5,
                4 => (unit(&mut rng) * 1.5) as f32,
                _ => unit(&mut rng) as f32,
            }
        };
        let dampening = if nesterov || rng.below(2) == 0 {
            0.0
        } else {
            let u = unit(&mut rng) as f32;
            pick(&mut rng, &[0.1f32, 0.5, 0.9, u])
        };
        let opt = Sgd {
            lr,
            momentum,
            dampening,
            nesterov,
            ..Sgd::new(lr)
        };
        let Ok(rule) = opt.rule() else { continue };
        let (lr_q, mu_q, keep_q) = match rule {
            Rule::Sgd { lr } => (lr, 0, 0),
            Rule::Momentum { lr, mu, keep, .. } => (lr, mu, keep),
            Rule::Adam { .. } => panic!("SGD gives no Rule::Adam"),
        };
        let (lrf, mu, keep) = (f64::from(lr), f64::from(momentum), 1.0 - f64::from(dampening));
        let (e_lr, e_mu, e_keep) = (
            (f64::from(lr_q) * U24 - lrf).abs(),
            (f64::from(mu_q) * U24 - mu).abs(),
            (f64::from(keep_q) * U24 - keep).abs(),
        );
        let k = if case % 4 == 0 { 1 } else { 2 + rng.below(1000) };
        let sc = Scalars::sgd(&rule, k);
        let sigma = log_uniform(&mut rng, 1e-4, 8.0);
        let b0 = fix(sigma * normal(&mut rng), 24, i64::from(i32::MAX));
        let gf = sigma * log_uniform(&mut rng, 0.05, 20.0) * normal(&mut rng);
        let p0 = fix(16.0 * unit(&mut rng) - 8.0, 16, i64::from(VALUE_MAX));
        let (mut p, mut st) = (p0, [b0]);
        let state: &mut [i32] = if plain { &mut [] } else { &mut st };
        // As the trainer calls it: a weight (g = delta x rounded to Q8.24), a bias
        // (g = delta << 8), a batch's mean gradient (any Q8.24).
        let (g, e_g) = match case % 3 {
            0 => {
                let x = fix(
                    log_uniform(&mut rng, 0.25, 4.0) * pick(&mut rng, &[1.0, -1.0]),
                    16,
                    1 << 20,
                );
                // Below 128: the trainer's gradient check rejects the rest.
                let d = fix(gf.clamp(-127.0, 127.0) / (f64::from(x) * U16), 16, (1 << 22) - 1);
                let gq = super::super::math::mul_round8(d, x);
                rule.update_sgd(&sc, &mut p, gq, state);
                (f64::from(d) * f64::from(x) * U16 * U16, U24 / 2.0)
            }
            1 => {
                let d = fix(gf, 16, (1 << 22) - 1);
                rule.update_sgd(&sc, &mut p, d << 8, state);
                (f64::from(d) * U16, 0.0)
            }
            _ => {
                let gq = fix(gf, 24, (1 << 30) - 1);
                rule.update_sgd(&sc, &mut p, gq, state);
                (f64::from(gq) * U24, 0.0)
            }
        };
        let b = f64::from(b0) * U24;
        // Float (PyTorch): b' = g (first step) or mu b + (1 - dampening) g; the
        // direction b' or g + mu b' (Nesterov), g without momentum.
        let (bf, e_b) = if plain {
            (0.0, 0.0)
        } else if k <= 1 {
            (g, e_g)
        } else {
            (
                mu * b + keep * g,
                e_mu * b.abs() + keep.abs() * e_g + e_keep * (g.abs() + e_g) + U24,
            )
        };
        let (dir, e_d) = if plain {
            (g, e_g)
        } else if nesterov {
            (g + mu * bf, e_g + mu * e_b + e_mu * (bf.abs() + e_b) + U24 / 2.0)
        } else {
            (bf, e_b)
        };
        let e_p = lrf * e_d + e_lr * (dir.abs() + e_d) + U16 / 2.0;
        let uf = lrf * dir;
        // Scope: no saturation of the buffer, the direction or the parameter.
        let limit = f64::from(i32::MAX) * U24;
        if bf.abs() + e_b >= limit
            || dir.abs() + e_d >= limit
            || (f64::from(p0) * U16 - uf).abs() + e_p >= f64::from(VALUE_MAX) * U16
        {
            continue;
        }
        let err_p = (f64::from(p - p0) * U16 + uf).abs();
        let what = || {
            std::format!(
                "case {case} (k {k}, lr {lr}, mu {momentum}, dampening {dampening}, nesterov {nesterov}, b {b0}, g {g}): \
                 p {p} (from {p0}) vs float step {uf}, buffer {st:?} vs {bf}; E_b {e_b}, E_p {e_p}"
            )
        };
        if !plain {
            let err_b = (f64::from(st[0]) * U24 - bf).abs();
            assert!(err_b <= e_b, "E_b: {}", what());
            worst_b = worst_b.max(err_b / e_b);
        }
        assert!(err_p <= e_p, "E_p: {}", what());
        in_scope += 1;
        worst_p = worst_p.max(err_p / e_p);
        if uf != 0.0 {
            ratio_all.push(e_p / uf.abs());
            if uf.abs() >= 1e-3 {
                ratio_big.push(e_p / uf.abs());
            }
        }
    }
    let (med_all, med_big) = (median(&mut ratio_all), median(&mut ratio_big));
    std::println!(
        "momentum / SGD: {in_scope} of {cases} cases in scope; worst error / bound: p {worst_p:.3}, \
         buffer {worst_b:.3}; median E_p / |step| {med_all:.4} ({} steps), {med_big:.4} for steps >= 1e-3 ({})",
        ratio_all.len(),
        ratio_big.len()
    );
    assert!(in_scope * 10 >= cases * 9, "{in_scope} of {cases} in scope");
    assert!(
        med_all < 0.05 && med_big < 0.02,
        "median bound / step {med_all}, {med_big}"
    );
    assert!(worst_p > 0.5, "worst error / bound {worst_p}");
}
