//! The optimizers of the fixed-point path: SGD (momentum, Nesterov, dampening) and Adam,
//! configured by the float path's [`Sgd`] and [`Adam`], updated in integers.
//!
//! Gradients `g` arrive in Q8.24; parameters are Q16.16 (see [`crate::fixed`]).

use super::math::{mul_shr_u, mul_wide, round_shift};
use super::{GRAD_FRAC, VALUE_MAX};
use crate::error::HyperparameterError;
use crate::{Adam, Optimizer, Sgd};

/// An optimizer configuration the fixed-point path runs. Implemented by [`Sgd`] and
/// [`Adam`]; the formulas are in [`Sgd`]'s and [`Adam`]'s fixed-point sections below
/// (`FixedOptimizer::rule`).
pub trait FixedOptimizer: Copy {
    /// Whether [`rule`](Self::rule) gives the Adam rule (and only then): the trainer
    /// compiles only the updates its optimizer type can take (flash).
    const ADAM: bool = false;

    /// `i32` state words per parameter (the float path's `state_per_param()`: 0 for
    /// plain SGD, 1 with momentum, 2 for Adam).
    fn fixed_state_per_param(&self) -> usize;

    /// The configuration in integers, or why it cannot run in fixed point.
    ///
    /// SGD, with `g` the gradient (Q8.24), `mu` the momentum, `d` the dampening:
    ///
    /// ```text
    /// plain:     p <- p - lr * g
    /// momentum:  b <- g (first step),  b <- mu * b + (1 - d) * g (later)    (b Q8.24)
    ///            p <- p - lr * b              (Nesterov: p <- p - lr * (g + mu * b))
    /// ```
    ///
    /// Adam, with `k` the 1-based step:
    ///
    /// ```text
    /// m <- m + floor(c1 (g - m) / 2^15)                  c1 = round((1 - beta1) 2^15)   (Q8.24)
    /// v <- v + floor(c2 (min(g^2, 16) - v) / 2^s2)       c2 = round((1 - beta2) 2^s2) < 2^16  (Q4.28)
    /// p <- p - s_k * min(m / sqrt(v), 16),   s_k = lr * sqrt(1 - beta2'^k) / (1 - beta1'^k)
    /// ```
    ///
    /// with `beta1' = 1 - c1 2^-15` and `beta2' = 1 - c2 2^-s2` the betas the moments use
    /// (within `2^-16` relative of `1 - beta` at the defaults). This is PyTorch's
    /// `p - lr/(1 - beta1^k) * m / (sqrt(v/(1 - beta2^k)) + eps)` without `eps`:
    /// `sqrt(v)` is at least `2^-14` once `v > 0`, which `eps` changes by `eps sqrt(1 -
    /// beta2^k) / sqrt(v)` relative (below `1.7e-4` at the default `1e-8`); `v = 0` gives
    /// no update; `|m| / sqrt(v)` is at most `(1 - beta1) / sqrt((1 - beta2)(1 - beta1^2 /
    /// beta2))` in exact Adam (7.27 at the default betas), so the clamp at 16 only acts on
    /// gradients beyond `v`'s cap where that is below 16 (not, say, at `beta1 = 0.9`,
    /// `beta2 = 0.99999`, whose first step has `r = 31.6`: the fixed step is clamped to
    /// about half).
    /// Every per-parameter product is a 32-bit `MULS` of pieces of at most 16 bits (no
    /// 64-bit arithmetic on the M0): `m` from 15-bit pieces of `g - m`
    /// (exact floor), `g^2` from 15-bit pieces of `|g|` (within 2 units of `2^-28`), `v`'s
    /// step from 16-bit pieces (within one unit of its floor), `1/sqrt(v)` from a 49-entry
    /// Q2.14 table over `[1/4, 1)` with linear interpolation after a normalisation by a
    /// power of 4 (two halving steps and a byte table; relative error within `[-2.3e-5,
    /// 4.1e-4]`), `m / sqrt(v)` in Q.11 (floor), and `s_k` as a 14-bit mantissa and a
    /// shift (relative `2^-14`), the update rounded. `s_k` itself
    /// comes once per step from `beta1'^k`, `beta2'^k` kept in Q2.30, `sqrt(1 - beta2'^k)`
    /// by the same table with one Newton step (relative error `2e-5`), `lr` as its
    /// `f32`'s own 24-bit mantissa and exponent (exact), and a 32-bit restoring division
    /// of the normalised quotient (30 bits). The gradient `g = delta x` is exact (Q8.24); a step whose
    /// `|delta x|` reaches 32 or `|delta|` 64 is rejected (Adam's check).
    /// Refused: weight decay, AMSGrad, `eps > 1e-4`, `beta2 < 0.5`.
    ///
    /// **Adam's error per step**, against the float Adam (PyTorch's formula in real
    /// arithmetic, with the configured `lr`, betas and `eps`) from the same `m`, `v`, `p`
    /// and a gradient `g` known to the fixed path within `E_g` (derived from the
    /// operations above, not a measured figure). On the right, `m_0`, `v_0` are the
    /// state before the step, `m`, `v` the float moments after it, and `q1 = 1 - beta1^k`,
    /// `q2 = 1 - beta2^k`, `s_k = lr sqrt(q2) / q1` the float ones; `db1 = |beta1' -
    /// beta1|` (at most `2^-16 + 2^-31` while `1 - beta1 >= 2^-16`), `db2 = |beta2' -
    /// beta2| <= 2^-s2`:
    ///
    /// ```text
    /// E_m  <= (1 - beta1') E_g + db1 |g - m_0| + 2^-24
    /// E_v  <= (1 - beta2')(2 |g| E_g + E_g^2 + 2^-27) + db2 |g^2 - v_0| + 2^-27
    /// r = |m| / sqrt(v),   R = (|m| + E_m) / sqrt(v - E_v)
    /// E_r  <= R (1 + 4.1e-4) - r + r eps sqrt(q2) / sqrt(v) + 2^-11
    /// E_qi <= k (dbi max(beta_i, beta_i')^(k-1) + 2^-30)                       (i = 1, 2)
    /// e    = (1 + e_lr)(1 + e_sqrt)(1 + E_q2 / (2 (q2 - E_q2)))(1 + E_q1 / (q1 - E_q1)) - 1
    /// E_s  <= s_k ((1 + e)(1 + 2^-22 / sqrt(q2 - E_q2))(1 + 2^-30)(1 + 2^-14) - 1) + 2^-34
    /// E_p  <= (s_k + E_s) E_r + r E_s + 2^-17
    /// ```
    ///
    /// `2^-24` is the floor of `m`'s step; `2^-27` the two floors of `g^2` and the two of
    /// `v`'s step (each sum of floors is within 2 units of `2^-28`); `R - r` what the
    /// moments' errors do to `|m| / sqrt(v)` (to first order `r (E_m/|m| + E_v/(2v))`);
    /// `4.1e-4` the table's `1/sqrt(v)` (its relative error lies in `[-2.3e-5, 4.1e-4]`);
    /// `r eps sqrt(q2) / sqrt(v)` the `eps` the fixed path leaves out (below `1.7e-4 r`
    /// at the default `1e-8`, as `v >= 2^-28`; up to `eps` over `sqrt(v)` otherwise);
    /// `2^-11` the floor of `r`. `s_k`'s error: `E_qi` that of `1 - beta_i'^k` kept as
    /// truncated products in Q2.30 (`2^-30` each) from `beta'` for `beta`; `e_lr = 0`: `lr`
    /// enters as its `f32` exactly (the float path's `lr`); `e_sqrt = 2e-5 + 2^-29 /
    /// sqrt(q2 - E_q2)` (`4e-4 + ...` when `q2 - E_q2 < 2^-16`, where the Newton step is
    /// skipped); `2^-22 / sqrt(q2 - E_q2)` the floor of `lr`'s 24 bits times `sqrt(q2)`,
    /// `2^-30` the division's floor, `2^-14` the mantissa of `s_k`, `2^-34` the floor of
    /// a mantissa below `2^-34`: `s_k` is known to about `2^-14` relative at any `lr` (it
    /// was formed in Q8.24 before, whose floors left the first step with `lr = 1e-4` and
    /// `beta2 = 0.999` 2 % off, 20 % at `lr = 1e-5`). `2^-17` is the rounding of the
    /// update. Scope: `|g| < 4` (no cap of `g^2`), `v > E_v`, `R (1 + 4.1e-4) + 2^-11
    /// <= 16` (no clamp of `r`), `E_qi < qi`, `s_k + E_s < 64`, no saturation of `p`. So
    /// an Adam step is within a relative `4.1e-4 + 2^-14 + e + eps sqrt(q2/v)` of the float
    /// step, plus `s_k (R - r + 2^-11) + 2^-17`. Where `v` is tiny, `r`
    /// is ill-conditioned on both paths alike.
    ///
    /// (These replace a first-order bound that left out `s_k`'s Q8.24 floors, `beta'` in
    /// the bias corrections and `lr`'s rounding, took `eps` as `1e-4` relative and the
    /// table as `4e-4`, and `v`'s step as one floor; the Adam test below found it exceeded
    /// in 1,658 of its cases, 276 at the default `eps`; with `s_k` formed from `lr`'s own
    /// mantissa since, 1,499 and 156.)
    ///
    /// **Momentum's error per step**, against the float SGD from the same buffer `b` and
    /// parameter `p` and a gradient `g` known within `E_g` (a weight's `g = delta x`
    /// rounded to Q8.24: `E_g = 2^-25` beyond `delta`'s and `x`'s own errors; a bias's
    /// `delta` or a batch's mean as given: 0). The fixed path rounds `lr`, `mu` and `1 - d`
    /// to Q8.24 (`e_lr = |lr_q - lr| <= 2^-25`, `e_mu <= 2^-25`, `e_keep <= 2^-24` for `d`
    /// in `[0, 1]`, as `1 - d` is formed in `f32` first), each of its products `mu b`, `(1 -
    /// d) g`, `mu b'` to Q8.24 (`2^-25` each) and the update to Q16.16 (`2^-17`); with `b'`
    /// the new buffer and `u` the direction (`b'`, or `g + mu b'` with Nesterov), float
    /// values:
    ///
    /// ```text
    /// E_b <= E_g                                                   (first step: b' = g)
    /// E_b <= e_mu |b| + |1 - d| E_g + e_keep (|g| + E_g) + 2^-24    (later)
    /// E_u <= E_b                  (Nesterov: E_g + mu E_b + e_mu (|b'| + E_b) + 2^-25)
    /// E_p <= lr E_u + e_lr (|u| + E_u) + 2^-17
    /// ```
    ///
    /// Plain SGD's update of a given gradient (a batch's mean:
    /// [`FixedTrainer::train_batch`](super::FixedTrainer::train_batch)) is the case `u =
    /// g`, `E_u = E_g`. Scope: `|b'| + E_b` and `|u| + E_u` below 128 (the buffer and the
    /// direction saturate there), no saturation of `p`. So beyond what the gradient's
    /// error brings (`lr E_g`, about `1 + mu` times that with Nesterov), a momentum step is
    /// within about `2^-17`, a relative `2^-25 / lr` of the float step and `lr (2^-25 |b| +
    /// 2^-24 |g| + 2^-24)` (Nesterov: `1 + mu` times the last). Over steps the buffer's
    /// errors add up with weights `mu^j`, as its gradients do.
    ///
    /// **The tests** (`core/src/fixed/optim_bound.rs`; `cargo test -p microtrain --release
    /// --lib optim_bound -- --nocapture` prints the figures) run one update through the
    /// trainer's own calls (`Rule::update`, `adam_layer`, `adam_biases`, `Rule::update_sgd`
    /// with the trainer's gradients: a weight's rounded `delta x`, a bias's `delta`, a
    /// batch's mean) against the float update in `f64`, and compute each bound above with
    /// the case's values. Adam: 30,000 random cases (`lr` `1e-5` to 0.5, `beta1` 0 to
    /// 0.999, `beta2` 0.5 to 0.99999, `eps` 0 to `1e-4`, `k` 1 to `10^5`; states from
    /// fixed-point runs, random, or zero); in scope 21,718 (the others: 973 `|g| >= 4`,
    /// 5,637 `v` within its error of 0, 1,672 a possible clamp of `r`); every `p`, `m`,
    /// `v` and `s_k` within its bound, the worst `p` at 0.998 of it; the median `E_p /
    /// |step|` is 0.021 (0.004 for steps above `1e-3`). Momentum, Nesterov, dampening and
    /// plain SGD: 30,000 cases (`lr` `1e-4` to 1, `mu` up to 1.5, first and later steps),
    /// 29,982 in scope, every `p` and `b` within, the worst at 1.000 of its bound (the
    /// update's rounding alone, with exact `lr` and `g`); median `E_p / |step|` 0.030
    /// (0.0005 for steps above `1e-3`). Both held over 1.6 million more cases each with
    /// other seeds (Adam's worst at 0.996).
    fn rule(&self) -> Result<Rule, HyperparameterError>;
}

/// An optimizer in integers (hyperparameters in Q8.24), made by
/// [`FixedOptimizer::rule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Plain SGD.
    Sgd {
        /// Learning rate.
        lr: i32,
    },
    /// SGD with momentum.
    Momentum {
        /// Learning rate.
        lr: i32,
        /// Momentum factor.
        mu: i32,
        /// `1 - dampening`.
        keep: i32,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Adam.
    Adam {
        /// The learning rate's 24-bit mantissa: `lr = lr_m 2^-lr_s`, exactly the `f32`.
        lr_m: u32,
        /// See `lr_m`.
        lr_s: u32,
        /// `beta1` in Q2.30, as the moments use it: `1 - c1 2^-15`.
        beta1: i32,
        /// `beta2` in Q2.30, as the moments use it: `1 - c2 2^-s2`.
        beta2: i32,
        /// `1 - beta1` in Q0.15 (rounded).
        c1: i32,
        /// `1 - beta2` as `c2 2^-s2`, `c2 < 2^16` (rounded).
        c2: u32,
        /// The shift of `c2`, in `16..=30`.
        s2: u32,
    },
}

fn q24(name: &'static str, v: f32, rule: &'static str) -> Result<i32, HyperparameterError> {
    super::math::from_f32(v, GRAD_FRAC, i32::MAX).ok_or(HyperparameterError { name, value: v, rule })
}

fn zero(name: &'static str, v: f32) -> Result<(), HyperparameterError> {
    if v == 0.0 {
        Ok(())
    } else {
        Err(HyperparameterError {
            name,
            value: v,
            rule: "0 on the fixed-point path",
        })
    }
}

impl FixedOptimizer for Sgd {
    fn fixed_state_per_param(&self) -> usize {
        self.state_per_param()
    }

    fn rule(&self) -> Result<Rule, HyperparameterError> {
        self.validate()?;
        zero("weight_decay", self.weight_decay)?;
        let lr = q24("lr", self.lr, "below 128 on the fixed-point path")?;
        if self.momentum == 0.0 {
            return Ok(Rule::Sgd { lr });
        }
        Ok(Rule::Momentum {
            lr,
            mu: q24("momentum", self.momentum, "below 128")?,
            keep: q24("dampening", 1.0 - self.dampening, "within 1 of 0")?,
            nesterov: self.nesterov,
        })
    }
}

impl FixedOptimizer for Adam {
    const ADAM: bool = true;

    fn fixed_state_per_param(&self) -> usize {
        2
    }

    fn rule(&self) -> Result<Rule, HyperparameterError> {
        self.validate()?;
        zero("weight_decay", self.weight_decay)?;
        if self.amsgrad {
            return Err(HyperparameterError {
                name: "amsgrad",
                value: 1.0,
                rule: "false on the fixed-point path",
            });
        }
        if self.eps > 1e-4 {
            return Err(HyperparameterError {
                name: "eps",
                value: self.eps,
                rule: "at most 1e-4 on the fixed-point path",
            });
        }
        if self.beta2 < 0.5 {
            return Err(HyperparameterError {
                name: "beta2",
                value: self.beta2,
                rule: "at least 0.5 on the fixed-point path",
            });
        }
        let q30 = |name, v| {
            super::math::from_f32(v, 30, 1 << 30).ok_or(HyperparameterError {
                name,
                value: v,
                rule: "in [0, 1)",
            })
        };
        // 1 - beta1 in Q0.15 and 1 - beta2 = c2 2^-s2 with c2 < 2^16 (beta2 >= 0.5: s2 >= 16),
        // both rounded from the Q2.30 of beta: the betas the moments use.
        let one_minus = |b: i32| ((1u32 << 30) - b as u32).max(1);
        let c1 = ((one_minus(q30("beta1", self.beta1)?) + (1 << 14)) >> 15).max(1) as i32;
        let d2 = one_minus(q30("beta2", self.beta2)?); // <= 2^29
        let mut s2 = 30;
        while s2 > 16 && d2 >= 1 << (46 - s2) {
            s2 -= 1;
        }
        let c2 = ((d2 + ((1 << (30 - s2)) >> 1)) >> (30 - s2)).clamp(1, 0xFFFF);
        // The range check only: Adam's step size takes lr's f32 bits exactly.
        q24("lr", self.lr, "below 128 on the fixed-point path")?;
        let (lr_m, lr_s) = mantissa24(self.lr);
        Ok(Rule::Adam {
            lr_m,
            lr_s,
            beta1: (1 << 30) - (c1 << 15),
            beta2: (1 << 30) - (c2 << (30 - s2)) as i32,
            c1,
            c2,
            s2,
        })
    }
}

/// Per-step constants of a rule.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scalars {
    /// SGD's and momentum's `lr` (Q8.24); Adam: 0 (its `s_k` is `s_mant`, `u_shift`).
    pub step: i32,
    /// First step of momentum (the buffer starts at `g`).
    pub first: bool,
    /// Adam: `s_k = s_mant 2^-(u_shift + 5)` with `s_mant < 2^14` (14 bits of `s_k`'s
    /// top, rounded; `u_shift` in `1..=29`); the update `u = (rho s_mant + u_round) >>
    /// u_shift` ([`adam_update`]).
    pub s_mant: i32,
    /// See `s_mant`.
    pub u_shift: u32,
    /// `2^(u_shift - 1)`, or 0.
    pub u_round: i32,
}

/// `floor(n 2^30 / d)` for `0 < d <= 2^30`, saturated to `i32::MAX`: 30 steps of
/// restoring division in 32 bits (no 64-bit division: a library call on the M0).
fn div_q30(n: u32, d: u32) -> u32 {
    let d = d.clamp(1, 1 << 30);
    if n >= 2 * d {
        return i32::MAX as u32;
    }
    let (mut q, mut rem) = if n >= d { (1u32, n - d) } else { (0, n) };
    for _ in 0..30 {
        // rem < d <= 2^30: 2 rem < 2^31.
        rem <<= 1;
        q <<= 1;
        if rem >= d {
            rem -= d;
            q |= 1;
        }
    }
    q.min(i32::MAX as u32)
}

/// `lr = lr_m 2^-lr_s` with `lr_m` the `f32`'s 24-bit mantissa (`[2^23, 2^24)` for a
/// normal number): exactly the configured value. `(0, 0)` for 0 or a negative `lr`.
fn mantissa24(lr: f32) -> (u32, u32) {
    if lr.is_nan() || lr <= 0.0 {
        return (0, 0);
    }
    let bits = lr.to_bits();
    let exp = (bits >> 23) & 0xFF;
    let frac = bits & 0x7F_FFFF;
    if exp == 0 {
        (frac, 149) // subnormal: frac 2^-149
    } else {
        (frac | 0x80_0000, 150u32.saturating_sub(exp))
    }
}

/// Adam's step size `s_k = (num 2^-lr_s) / (d 2^-30)` as `(s_mant, u_shift)` with `s_k =
/// s_mant 2^-(u_shift + 5)`: the quotient normalised into `[2^30, 2^31)` by shifts
/// (exact) and one 32-bit restoring division (`floor`, relative `2^-30`), its top 14
/// bits rounded to `s_mant` in `[2^13, 2^14)` (relative `2^-14`), `u_shift` in `1..=29`:
/// below `2^-34` `s_mant` loses its low bits (floor), from 256 on it saturates there.
fn step_size(num: u32, d: u32, lr_s: u32) -> (i32, u32) {
    if num == 0 {
        return (0, 29);
    }
    // num / d = (n / d') 2^e with n / d' in [1, 2): n < 2^31 (d <= 2^30), d' < 2^24.
    let (mut n, mut d, mut e) = (num, d.clamp(1, 1 << 30), 0i32);
    while n < d {
        n <<= 1;
        e -= 1;
    }
    while n >= 2 * d {
        d <<= 1;
        e += 1;
    }
    let q = div_q30(n, d); // [2^30, 2^31): s_k = q 2^(e - lr_s)
    let mut mant = (q + (1 << 16)) >> 17; // [2^13, 2^14]: s_k = mant 2^(17 + e - lr_s)
    let mut shift = lr_s as i32 - e - 22;
    if mant >= 1 << 14 {
        mant >>= 1;
        shift -= 1;
    }
    if shift < 1 {
        return ((1 << 14) - 1, 1);
    }
    if shift > 29 {
        return ((mant >> (shift - 29).min(31)) as i32, 29);
    }
    (mant as i32, shift as u32)
}

/// `1/sqrt(x)` at `x = i / 64`, `i = 16..=64`, in Q2.14 (from 2 down to 1; entries below
/// 16 unused): the table of Adam's per-parameter `1/sqrt(v)` ([`adam_update`]).
#[allow(clippy::indexing_slicing)] // evaluated at compile time: a bad index fails the build
const RSQRT14: [u16; 65] = {
    let mut t = [0u16; 65];
    let mut i = 0;
    while i < 49 {
        t[i + 16] = ((RSQRT[i] + (1 << 15)) >> 16) as u16;
        i += 1;
    }
    t
};

/// The largest `|m| / sqrt(v)` Adam's update takes, in Q.11 (16): Adam's own bound,
/// `(1 - beta1) / sqrt((1 - beta2)(1 - beta1^2 / beta2))`, is 7.27 at the default betas.
const RHO_MAX: i32 = 1 << 15;

/// `(v 2^(2h), h)` with the result in `[2^30, 2^32)`, for `v > 0`: an even normalisation
/// in two steps of 16 and 8 bits and a table of the top byte for the last 0-6 bits (the
/// Cortex-M0 has no `CLZ`; the table saves about 3 instructions per parameter over two
/// more steps).
#[inline(always)]
fn norm4(v: u32) -> (u32, u32) {
    // Two halving steps, then the last two by a table of the top byte (in 1..=255 then).
    let (mut x, mut h) = (v, 0);
    if x >> 16 == 0 {
        x <<= 16;
        h = 8;
    }
    if x >> 24 == 0 {
        x <<= 8;
        h += 4;
    }
    let t = match NORM_TOP.get((x >> 24) as usize) {
        Some(t) => u32::from(*t),
        None => 0,
    };
    (x << (2 * t), h + t)
}

/// The even normalisation's last two steps: for a top byte `b` in `1..=255`, the `t`
/// (`0..=3`) with `b 4^t` in `[64, 256)`.
#[allow(clippy::indexing_slicing)] // evaluated at compile time: a bad index fails the build
const NORM_TOP: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 1;
    while b < 256 {
        let mut s = 0;
        while (b << (2 * s)) < 64 {
            s += 1;
        }
        t[b] = s as u8;
        b += 1;
    }
    t
};

/// `floor(d c2 2^-s2)` for `d < 2^32`, `c2 < 2^16`, `s2` in `16..=30`: two 16 x 16-bit
/// products (the sum of their floors, at most one unit below the exact floor).
#[inline(always)]
fn mul_c2(d: u32, c2: u32, s2: u32) -> u32 {
    (((d >> 16) * c2) >> (s2 - 16)) + (((d & 0xFFFF) * c2) >> s2)
}

/// Adam over the weights `w` of a whole layer in one call (the set-up once per layer,
/// not per row: about 70 M0 instructions a row less): `x.len()` weights per row, row
/// `i`'s gradient `g = d_i x_j` exactly in Q8.24
/// ([`math::mul_round8`](super::math::mul_round8)), `sw` holding `[m, v]` per weight.
#[inline(never)]
pub(crate) fn adam_layer(
    sc: &Scalars,
    k: (i32, u32, u32),
    w: &mut [i32],
    x: &[i32],
    d: &[i32],
    sw: &mut [i32],
) {
    let n_in = x.len();
    if n_in == 0 {
        return;
    }
    for ((row, srow), dv) in w.chunks_exact_mut(n_in).zip(sw.chunks_exact_mut(2 * n_in)).zip(d) {
        for ((p, xv), mv) in row.iter_mut().zip(x).zip(srow.chunks_exact_mut(2)) {
            if let [m, v] = mv {
                adam_update(sc, k, p, super::math::mul_round8(*dv, *xv), m, v);
            }
        }
    }
}

/// Adam over the biases `b` of a layer from its error terms `d` (Q16.16; `g = d` in
/// Q8.24), or over any parameters from gradients `d` already in Q8.24 when `shift` is 0.
#[inline(never)]
pub(crate) fn adam_biases(
    sc: &Scalars,
    k: (i32, u32, u32),
    b: &mut [i32],
    d: &[i32],
    shift: u32,
    st: &mut [i32],
) {
    for ((p, dv), mv) in b.iter_mut().zip(d).zip(st.chunks_exact_mut(2)) {
        if let [m, v] = mv {
            // A batch's mean gradient (shift 0) is clamped; error terms are checked.
            let g = (dv << shift).clamp(-(1 << 30) + 1, (1 << 30) - 1);
            adam_update(sc, k, p, g, m, v);
        }
    }
}

/// One Adam update of parameter `p` (Q16.16) from its gradient `g` (Q8.24, `|g| < 2^30`
/// units: the step's gradient check) and its moments `m` (Q8.24) and `v` (Q4.28,
/// unsigned), in 32-bit products only (the formulas: [`FixedOptimizer::rule`]).
#[inline(always)]
pub(crate) fn adam_update(
    sc: &Scalars,
    (c1, c2, s2): (i32, u32, u32),
    p: &mut i32,
    g: i32,
    m: &mut i32,
    v: &mut i32,
) {
    // m += floor(c1 (g - m) / 2^15): |g - m| < 2^31, split at bit 15 (exact floor).
    let dm = g.wrapping_sub(*m);
    let inc = (dm >> 15).wrapping_mul(c1) + (((dm & 0x7FFF) * c1) >> 15);
    let mn = m.wrapping_add(inc); // between m and g
    *m = mn;
    // g^2 in Q4.28 from |g| < 4 (2^26 units): 15-bit pieces, three products.
    let ga = g.unsigned_abs().min((1 << 26) - 1);
    let (gh, gl) = (ga >> 15, ga & 0x7FFF);
    let g2 = ((gh * gh) << 10) + ((gh * gl) >> 4) + ((gl * gl) >> 20);
    // v += (1 - beta2)(g^2 - v), toward g^2 from either side.
    let vu = *v as u32;
    let vn = if g2 >= vu {
        vu + mul_c2(g2 - vu, c2, s2)
    } else {
        vu - mul_c2(vu - g2, c2, s2)
    };
    *v = vn as i32;
    if vn == 0 {
        return;
    }
    // 1/sqrt(v 2^-28) = y 2^-14 2^(h - 16), y in Q2.14 from the table (x = v 2^(2h) in
    // [2^30, 2^32)), linear interpolation over 10 bits.
    let (x, h) = norm4(vn);
    let i = (x >> 26) as usize; // 16..=63
    let frac = ((x >> 16) & 0x3FF) as i32;
    let (y0, y1) = match (RSQRT14.get(i), RSQRT14.get(i + 1)) {
        (Some(&a), Some(&b)) => (i32::from(a), i32::from(b)),
        _ => (1 << 14, 1 << 14),
    };
    let y = y0 - (((y0 - y1) * frac) >> 10);
    // rho = m / sqrt(v) in Q.11 = m y 2^(h - 29) (m in Q8.24): t = floor(m y / 2^14)
    // from m's 14-bit pieces (|m| < 2^30, y <= 2^15), shifted right by 15 - h >= 0.
    let t = (mn >> 14).wrapping_mul(y) + (((mn & 0x3FFF) * y) >> 14);
    let mut rho = t >> (15 - h);
    if (rho.wrapping_add(RHO_MAX) as u32) > 2 * RHO_MAX as u32 {
        rho = clamp_cold(rho, RHO_MAX);
    }
    // u = s_k rho in Q16.16 = rho s_mant 2^-u_shift (|rho s_mant| < 2^29), rounded.
    let u = (rho * sc.s_mant + sc.u_round) >> sc.u_shift;
    let np = *p - u; // |p| < 2^27, |u| < 2^28
    *p = if (np.wrapping_add(VALUE_MAX) as u32) <= 2 * VALUE_MAX as u32 {
        np
    } else {
        clamp_cold(np, VALUE_MAX)
    };
}

/// `v` clamped to `[-max, max]`: out of line, so that the common path of
/// [`adam_update`] only tests the range (the compiler otherwise computes the clamp on
/// every parameter).
#[cold]
#[inline(never)]
fn clamp_cold(v: i32, max: i32) -> i32 {
    v.max(-max).min(max)
}

/// `p - u` with `u` in Q16.16, saturated.
#[inline(always)]
fn sub_sat(p: &mut i32, u: i64) {
    *p = super::math::sat(i64::from(*p) - u);
}

/// `1 / sqrt(x)` at `x = (16 + i) / 64`, `i = 0..=48`, in Q2.30 (from 2 down to 1).
const RSQRT: [u32; 49] = [
    2_147_483_648,
    2_083_365_155,
    2_024_667_000,
    1_970_666_148,
    1_920_767_767,
    1_874_477_404,
    1_831_380_208,
    1_791_125_178,
    1_753_413_056,
    1_717_986_918,
    1_684_624_773,
    1_653_133_683,
    1_623_345_051,
    1_595_110_809,
    1_568_300_315,
    1_542_797_797,
    1_518_500_250,
    1_495_315_679,
    1_473_161_629,
    1_451_963_954,
    1_431_655_765,
    1_412_176_548,
    1_393_471_397,
    1_375_490_368,
    1_358_187_913,
    1_341_522_400,
    1_325_455_684,
    1_309_952_745,
    1_294_981_364,
    1_280_511_845,
    1_266_516_759,
    1_252_970_736,
    1_239_850_262,
    1_227_133_513,
    1_214_800_200,
    1_202_831_433,
    1_191_209_601,
    1_179_918_260,
    1_168_942_037,
    1_158_266_544,
    1_147_878_294,
    1_137_764_631,
    1_127_913_670,
    1_118_314_230,
    1_108_955_787,
    1_099_828_424,
    1_090_922_784,
    1_082_230_034,
    1_073_741_824,
];

/// `1/sqrt(v * 2^-28)` in Q16.16 for `v > 0` (Q4.28): normalise by a power of 4 into
/// `[1/4, 1)`, then the table with linear interpolation (position within a step to
/// `2^-10`, the difference to `2^-24`: 32-bit products only). Relative error
/// `<= 3.8e-4`.
#[inline]
pub(crate) fn rsqrt_q28(v: u32) -> u32 {
    if v == 0 {
        return 0;
    }
    let s = super::math::leading_zeros(v) & !1; // even shift
    let x = v << s; // in [2^30, 2^32): x / 2^32 in [1/4, 1)
                    // Index over [1/4, 1) in steps of 1/64, and the position within the step (Q0.10).
    let i = ((x >> 26) - 16) as usize;
    let frac = (x >> 16) & 0x3FF;
    let (y0, y1) = match (RSQRT.get(i), RSQRT.get(i + 1)) {
        (Some(&a), Some(&b)) => (a, b),
        _ => (1 << 30, 1 << 30),
    };
    // y0 >= y1 (1/sqrt decreases); the step (y0 - y1) < 2^26 in Q2.30, >> 6 in Q2.24.
    let y = y0 - ((((y0 - y1) >> 6) * frac) >> 4); // Q2.30
                                                   // 1/sqrt(v 2^-28) = y 2^-30 * 2^(s/2 - 2); to Q16.16: y >> (16 - s/2).
    y >> (16 - s / 2)
}

/// `sqrt(x)` for `x` in Q2.30, `0 <= x <= 1`, in Q2.30: `1/sqrt(x)` from the table
/// ([`rsqrt_q28`], relative error `3.8e-4`), one Newton step `r (3 - x r^2) / 2`
/// (relative error then below `2e-5`, from the Q16.16 of `r` and `x r^2`; skipped when
/// `x < 2^-16`, where the table's `3.8e-4` stays), and `x r`. In 32-bit products only (the bit-serial `u64` square root it
/// replaces cost about 700 M0 instructions per step).
fn sqrt_q30(x: u32) -> u32 {
    // x read as Q4.28 is 4x: 1/sqrt(x) = 2 rsqrt_q28(x) (no bit of x lost).
    let mut r = rsqrt_q28(x) << 1; // Q16.16
    if r < 1 << 24 {
        let r2 = mul_shr_u(r, r, 16); // Q16.16, < 2^32
        let xr2 = mul_shr_u(x, r2, 30); // about 1.0 in Q16.16
        r = mul_shr_u(r, (3u32 << 16).saturating_sub(xr2), 17);
    }
    mul_shr_u(x, r, 16).min(1 << 30)
}

impl Scalars {
    /// The constants of plain SGD and momentum at 1-based step `k`.
    pub(crate) fn sgd(rule: &Rule, k: u32) -> Scalars {
        let step = match *rule {
            Rule::Sgd { lr } | Rule::Momentum { lr, .. } => lr,
            Rule::Adam { .. } => 0,
        };
        Scalars {
            step,
            first: k <= 1,
            ..Scalars::default()
        }
    }
}

impl Rule {
    /// The per-step constants at 1-based step `k`, with `pow` holding `(beta1^(k-1),
    /// beta2^(k-1))` in Q2.30 and advanced to `k` here (Adam).
    pub(crate) fn scalars(&self, k: u32, pow: &mut (i32, i32)) -> Scalars {
        match *self {
            Rule::Sgd { lr } | Rule::Momentum { lr, .. } => Scalars {
                step: lr,
                first: k <= 1,
                ..Scalars::default()
            },
            Rule::Adam {
                lr_m,
                lr_s,
                beta1,
                beta2,
                ..
            } => {
                let b1 = (mul_wide(pow.0, beta1) >> 30) as i32;
                let b2 = (mul_wide(pow.1, beta2) >> 30) as i32;
                *pow = (b1, b2);
                let bc1 = ((1i32 << 30) - b1).max(1) as u32; // > 0: beta1 < 1
                let bc2 = ((1i32 << 30) - b2).clamp(0, 1 << 30) as u32;
                // lr sqrt(1 - beta2'^k) = num 2^-lr_s, from lr's own 24 bits (num < 2^24).
                let num = mul_shr_u(lr_m, sqrt_q30(bc2), 30);
                let (s_mant, u_shift) = step_size(num, bc1, lr_s);
                Scalars {
                    step: 0,
                    first: k <= 1,
                    s_mant,
                    u_shift,
                    u_round: (1 << u_shift) >> 1,
                }
            }
        }
    }

    /// Updates one parameter `p` (Q16.16) from its gradient `g` (Q8.24) and its state.
    #[inline(always)]
    pub(crate) fn update(&self, sc: &Scalars, p: &mut i32, g: i32, state: &mut [i32]) {
        match *self {
            Rule::Adam { c1, c2, s2, .. } => {
                let [m, v, ..] = state else { return };
                let mut mv = [*m, *v];
                adam_biases(sc, (c1, c2, s2), core::slice::from_mut(p), &[g], 0, &mut mv);
                [*m, *v] = mv;
            }
            _ => self.update_sgd(sc, p, g, state),
        }
    }

    /// [`update`](Self::update) for plain SGD and momentum (nothing for Adam).
    #[inline(always)]
    pub(crate) fn update_sgd(&self, sc: &Scalars, p: &mut i32, g: i32, state: &mut [i32]) {
        match *self {
            Rule::Sgd { .. } => sub_sat(p, round_shift(mul_wide(sc.step, g), 32)),
            Rule::Momentum {
                mu, keep, nesterov, ..
            } => {
                let Some(b) = state.first_mut() else { return };
                let nb = if sc.first {
                    i64::from(g)
                } else {
                    round_shift(mul_wide(mu, *b), 24) + round_shift(mul_wide(keep, g), 24)
                };
                *b = nb.clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32;
                let u = if nesterov {
                    (i64::from(g) + round_shift(mul_wide(mu, *b), 24))
                        .clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32
                } else {
                    *b
                };
                sub_sat(p, round_shift(mul_wide(sc.step, u), 32));
            }
            Rule::Adam { .. } => {}
        }
    }
}

#[cfg(test)]
#[path = "optim_bound.rs"]
mod optim_bound;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_is_exact() {
        for (n, d) in [
            (0u32, 1u32),
            (1, 1),
            (5, 7),
            (1 << 30, 1 << 30),
            (123_456_789, 987_654),
            (3, 1 << 30),
        ]
        .into_iter()
        .chain((1..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 2, (i * 7919) % (1 << 30) + 1)))
        {
            let want = ((u64::from(n) << 30) / u64::from(d)).min(i32::MAX as u64) as u32;
            assert_eq!(div_q30(n, d), want, "{n} / {d}");
        }
    }

    #[test]
    fn square_root_is_close() {
        for i in 0..=20_000u32 {
            let x = (i * 53_687) >> (i % 13); // over (0, 1] in Q2.30, and smaller
            let got = f64::from(sqrt_q30(x)) / f64::from(1u32 << 30);
            let want = (f64::from(x) / f64::from(1u32 << 30)).sqrt();
            assert!(
                (got - want).abs() <= 2e-5 * want + 2e-9 + if x < 1 << 14 { 4e-4 * want } else { 0.0 },
                "sqrt({x}) = {got} vs {want}"
            );
        }
    }

    #[test]
    fn normalisation_is_even_and_in_range() {
        for i in 0..200_000u32 {
            let v = (i.wrapping_mul(2_654_435_761) >> (i % 32)).max(1);
            let (x, h) = norm4(v);
            let want_h = v.leading_zeros() / 2;
            assert_eq!((x, h), (v << (2 * want_h), want_h), "v = {v}");
            assert!(x >= 1 << 30, "v = {v}");
        }
    }

    #[test]
    fn rsqrt_table_is_right() {
        for (i, y) in RSQRT.iter().enumerate() {
            let x = (16 + i) as f64 / 64.0;
            assert!(
                ((*y as f64) / (1u64 << 30) as f64 - 1.0 / x.sqrt()).abs() < 1e-9,
                "{i}"
            );
        }
        for i in 1..20000u64 {
            let v = (i * i * 7919 + 3) as u32;
            let want = 1.0 / ((v as f64) / (1u64 << 28) as f64).sqrt();
            let got = rsqrt_q28(v) as f64 / 65536.0;
            assert!(
                (got - want).abs() <= want * 3.8e-4 + 1.0 / 65536.0,
                "v = {v}: {got} vs {want}"
            );
        }
    }
}
