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
    /// m <- m + (1 - beta1) * (g - m)                               (Q8.24)
    /// v <- v + (1 - beta2) * (min(g^2, 16) - v)                     (Q4.28, unsigned)
    /// p <- p - s_k * m / sqrt(v),   s_k = lr * sqrt(1 - beta2^k) / (1 - beta1^k)
    /// ```
    ///
    /// which is PyTorch's `p - lr/(1 - beta1^k) * m / (sqrt(v/(1 - beta2^k)) + eps)`
    /// without `eps`: `sqrt(v)` is at least `2^-14` once `v > 0`, which `eps` (`1e-8`
    /// by default) changes by less than `1e-4` relative; `v = 0` gives no update. `1/sqrt`
    /// comes from a 49-entry table over `[1/4, 1)` with linear interpolation after
    /// normalising by a power of 4 (relative error `3.8e-4`); `s_k` from `beta1^k`,
    /// `beta2^k` kept in Q2.30, `sqrt(1 - beta2^k)` from the same table and one Newton
    /// step (relative error `2e-5`) and one division per step. Every product is exact
    /// ([`mul_shr_u`](super::math::mul_shr_u): 32-bit pieces on the M0) and truncated
    /// toward zero, the moments' `(1 - beta) (g - m)` in Q2.30.
    /// Refused: weight decay, AMSGrad, `eps > 1e-4`, `beta2 < 0.5`.
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
        /// Learning rate.
        lr: i32,
        /// `beta1` in Q2.30.
        beta1: i32,
        /// `beta2` in Q2.30.
        beta2: i32,
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
        Ok(Rule::Adam {
            lr: q24("lr", self.lr, "below 128 on the fixed-point path")?,
            beta1: q30("beta1", self.beta1)?,
            beta2: q30("beta2", self.beta2)?,
        })
    }
}

/// Per-step constants of a rule.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scalars {
    /// Adam's `s_k` in Q8.24; SGD's `lr`.
    pub step: i32,
    /// First step of momentum (the buffer starts at `g`).
    pub first: bool,
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

impl Rule {
    /// The per-step constants at 1-based step `k`, with `pow` holding `(beta1^(k-1),
    /// beta2^(k-1))` in Q2.30 and advanced to `k` here (Adam).
    pub(crate) fn scalars(&self, k: u32, pow: &mut (i32, i32)) -> Scalars {
        match *self {
            Rule::Sgd { lr } => Scalars {
                step: lr,
                first: k <= 1,
            },
            Rule::Momentum { lr, .. } => Scalars {
                step: lr,
                first: k <= 1,
            },
            Rule::Adam { lr, beta1, beta2 } => {
                let b1 = (mul_wide(pow.0, beta1) >> 30) as i32;
                let b2 = (mul_wide(pow.1, beta2) >> 30) as i32;
                *pow = (b1, b2);
                let bc1 = (1i64 << 30) - i64::from(b1); // > 0: beta1 < 1
                let bc2 = (1i64 << 30) - i64::from(b2);
                let sqrt_bc2 = i64::from(sqrt_q30(bc2.clamp(0, 1 << 30) as u32)); // Q30
                let step = (i64::from(lr) * sqrt_bc2) / bc1.max(1); // Q24
                Scalars {
                    step: step.clamp(0, i64::from(i32::MAX)) as i32,
                    first: k <= 1,
                }
            }
        }
    }

    /// Updates one parameter `p` (Q16.16) from its gradient `g` (Q8.24) and its state.
    #[inline(always)]
    pub(crate) fn update(&self, sc: &Scalars, p: &mut i32, g: i32, state: &mut [i32]) {
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
            Rule::Adam { beta1, beta2, .. } => {
                let [m, v, ..] = state else { return };
                // Every product below is `mul_shr_u` of magnitudes: four 32-bit MULS.
                // m += (1 - beta1)(g - m), (1 - beta1) in Q2.30 (truncated toward 0).
                let dm = g.saturating_sub(*m);
                let c1 = (1u32 << 30) - beta1 as u32;
                let inc = mul_shr_u(dm.unsigned_abs().min(i32::MAX as u32), c1, 30) as i32;
                *m = m.saturating_add(if dm < 0 { -inc } else { inc });
                // v += (1 - beta2)(min(g^2, 16) - v) in Q4.28; the difference halved to
                // stay below 2^31 (the lost bit is below 2^-28).
                let ga = g.unsigned_abs().min(i32::MAX as u32);
                let g2 = mul_shr_u(ga, ga, 20); // Q4.28, saturated
                let c2 = (1u32 << 30) - beta2 as u32; // <= 2^29: beta2 >= 0.5
                let vu = *v as u32;
                *v = if g2 >= vu {
                    vu + mul_shr_u((g2 - vu) >> 1, c2, 29)
                } else {
                    vu - mul_shr_u((vu - g2) >> 1, c2, 29)
                } as i32;
                let r = rsqrt_q28(*v as u32); // Q16.16, up to 2^30
                                              // s_k * m * r: Q24 * Q24 * Q16 -> Q16, |m| r first (Q24, saturated).
                let mr = mul_shr_u(m.unsigned_abs().min(i32::MAX as u32), r, 16).min(i32::MAX as u32);
                let u = ((mul_shr_u(mr, sc.step as u32, 31) + 1) >> 1) as i32; // < 2^30
                                                                               // |p| <= VALUE_MAX < 2^27 and u < 2^30: p - u fits an i32.
                let np = *p - if *m < 0 { -u } else { u };
                *p = np.clamp(-VALUE_MAX, VALUE_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
