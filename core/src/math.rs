//! The few transcendental functions the core needs, in one place.
//!
//! By default they come from `libm`, pure Rust and correctly specified, so they give
//! the same bits on the host and on every Cortex-M. `sqrt` is correctly rounded by
//! IEEE 754; on targets with an FPU square root (`thumbv7em-none-eabihf`) the compiler
//! emits `VSQRT.F32`, which gives the same bits.
//!
//! With the `fast-math` feature, `exp`, `ln` and `tanh` use `micromath`'s
//! approximations instead (`sqrt` stays exact, since the FPU's is already fast and
//! micromath's approximation is off by up to about 6 % relative). Their error bounds as
//! documented by micromath: `exp` and `ln` within about 1e-3 relative over the range
//! training uses; results then no longer match PyTorch bit for bit and the
//! conformance tolerances (1e-4) are not guaranteed. Never the default.

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

/// Natural logarithm.
#[inline]
pub fn ln(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::ln(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::logf(x)
    }
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline]
pub fn ln_1p(x: f32) -> f32 {
    libm::log1pf(x)
}

/// Square root, correctly rounded.
#[inline]
pub fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
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

/// `base^k` in double precision, for per-step scalars (bias corrections, schedules).
#[inline]
pub fn powi64(base: f64, k: u32) -> f64 {
    libm::pow(base, f64::from(k))
}

/// Square root in double precision, for per-step scalars.
#[inline]
pub fn sqrt64(x: f64) -> f64 {
    libm::sqrt(x)
}
