//! The few transcendental functions the core needs, in one place.
//!
//! By default they come from `libm`, pure Rust and correctly specified, so they give
//! the same bits on the host and on every Cortex-M. `sqrt` is correctly rounded by
//! IEEE 754; on targets with an FPU square root (`thumbv7em-none-eabihf`) the compiler
//! emits `VSQRT.F32`, which gives the same bits.
//!
//! With the `fast-math` feature, `exp` (and `tanh`, built on it) use `micromath`'s
//! approximation instead. Measured against `f64` references (`core/tests/fast_math.rs`
//! checks these bounds): `exp` within 2.5e-3 relative over `[-20, 20]`, `tanh` within
//! 1.2e-3 absolute. `ln` (used only for loss values) and `sqrt` stay exact: micromath's
//! `ln` is off by up to 0.12 absolute, and its `sqrt` by up to 6 % relative.
//! Results then no longer match PyTorch to the conformance tolerances. Never the
//! default.

/// `e^x`.
#[inline]
pub fn exp(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::exp(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::expf(x)
    }
}

/// The larger of `a` and `b` by a plain comparison (`b` when `b > a`, else `a`).
///
/// `f32::max` becomes a call to `fmaxf` on FPUs without `VMAXNM` (Cortex-M4F, M7); this
/// is a compare and a conditional move. Unlike `fmaxf`, a NaN in `a` is kept; the core
/// only calls it on values already checked to be finite or on infinities.
#[inline]
pub fn max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// Natural logarithm (always `libm`'s, see the module docs). Out of line: `logf` is
/// about 250 B of Thumb code, and it is called once per sample, from two loss paths.
#[inline(never)]
pub fn ln(x: f32) -> f32 {
    libm::logf(x)
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline]
pub fn ln_1p(x: f32) -> f32 {
    libm::log1pf(x)
}

/// Square root, correctly rounded (IEEE 754), so the same bits on every target:
/// [`kernels::sqrt`](crate::kernels::sqrt) (one `VSQRT.F32` on hard-float Cortex-M,
/// `libm::sqrtf` elsewhere).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    crate::kernels::sqrt(x)
}

/// Hyperbolic tangent.
#[inline]
pub fn tanh(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        // tanh(x) = 1 - 2 / (e^{2x} + 1), saturating for large |x|.
        if x > 9.0 {
            1.0
        } else if x < -9.0 {
            -1.0
        } else {
            1.0 - 2.0 / (exp(2.0 * x) + 1.0)
        }
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::tanhf(x)
    }
}

/// `1 - beta^k` in `f32`, accurate to a few ulp even where `beta^k` is close to 1
/// (computed as `-expm1(k * ln(beta))`; `beta` is exact, so `ln(beta)` is as
/// accurate as `ln_1p(-(1 - beta))`, and for `0.5 <= beta < 1` the same bits: a test
/// sweeps that range). Used for Adam's bias corrections: a naive `1 - powf(beta, k)`
/// loses up to three digits to cancellation at small `k`, and a double-precision
/// `pow` costs thousands of instructions on a single-precision FPU. 0 for `k = 0`.
#[inline]
pub fn one_minus_pow(beta: f32, k: u32) -> f32 {
    if k == 0 {
        return 0.0;
    }
    -libm::expm1f(k as f32 * ln_beta(beta))
}

/// `ln(beta)`: for Adam's default betas (0.9, 0.999) the value `libm` gives, stored (a
/// unit test checks it), which saves one `logf` per beta and step. Through [`ln`], not
/// `log1pf`: the loss already links `logf`, and `log1pf` would add about 370 bytes of
/// flash.
#[inline]
fn ln_beta(beta: f32) -> f32 {
    const BETA_0_9: u32 = 0x3f66_6666; // 0.9f32
    const BETA_0_999: u32 = 0x3f7f_be77; // 0.999f32
    match beta.to_bits() {
        BETA_0_9 => f32::from_bits(0xbdd7_c745),
        BETA_0_999 => f32::from_bits(0xba83_22ca),
        _ => ln(beta),
    }
}

/// `base^k` in double precision, for per-step scalars (schedules, RAdam), by
/// exponentiation by squaring: at most `2 log2(k)` multiplications, a relative error
/// below `k` ulps of `f64` (far below `f32` precision for any step count), and no `pow`
/// from `libm` (3 KB of code on a Cortex-M).
#[inline]
pub fn powi64(base: f64, k: u32) -> f64 {
    let mut result = 1.0f64;
    let mut b = base;
    let mut e = k;
    while e > 0 {
        if e & 1 == 1 {
            result *= b;
        }
        b *= b;
        e >>= 1;
    }
    result
}

/// Square root in double precision, for per-step scalars.
#[inline]
pub fn sqrt64(x: f64) -> f64 {
    libm::sqrt(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powi64_matches_pow_closely() {
        for base in [0.9f64, 0.999, 0.97, 0.5, 1.0, 0.0, 1.0000001] {
            for k in [0u32, 1, 2, 3, 7, 40, 1000, 123_456, u32::MAX] {
                let want = libm::pow(base, f64::from(k));
                let got = powi64(base, k);
                // Each squaring doubles the relative error: about k ulps at worst, which
                // is still far below f32 precision for any step count.
                let tol = (f64::from(k) + 8.0) * f64::EPSILON * want.abs() + f64::MIN_POSITIVE;
                assert!((got - want).abs() <= tol, "{base}^{k}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn stored_logs_of_the_default_betas_are_libms() {
        for beta in [0.9f32, 0.999] {
            assert_eq!(ln_beta(beta).to_bits(), libm::logf(beta).to_bits(), "{beta}");
        }
        assert_eq!(0.9f32.to_bits(), 0x3f66_6666);
        assert_eq!(0.999f32.to_bits(), 0x3f7f_be77);
        assert_eq!(ln_beta(0.95).to_bits(), libm::logf(0.95).to_bits());
    }

    /// `ln(beta)` gives the bits `ln_1p(-(1 - beta))` gave (what the bias corrections
    /// used before) on a sweep of every 97th float in `[0.5, 1)`.
    #[test]
    fn ln_beta_matches_ln_1p_of_the_complement() {
        let mut beta = 0.5f32;
        let mut n = 0;
        while beta < 1.0 {
            assert_eq!(ln_beta(beta).to_bits(), ln_1p(-(1.0 - beta)).to_bits(), "{beta}");
            beta = f32::from_bits(beta.to_bits() + 97);
            n += 1;
        }
        assert!(n > 80_000);
    }

    #[test]
    fn one_minus_pow_is_accurate_where_naive_f32_is_not() {
        for (beta, k) in [
            (0.999f32, 1u32),
            (0.999, 2),
            (0.9, 1),
            (0.9, 10),
            (0.999, 1000),
            (0.999, 100_000),
        ] {
            let want = 1.0 - libm::pow(f64::from(beta), f64::from(k));
            let got = f64::from(one_minus_pow(beta, k));
            assert!(
                (got - want).abs() <= 4e-7 * want,
                "1 - {beta}^{k}: {got} vs {want}"
            );
        }
        assert_eq!(one_minus_pow(0.9, 0), 0.0);
    }
}
