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

/// Natural logarithm (always `libm`'s, see the module docs).
#[inline]
pub fn ln(x: f32) -> f32 {
    libm::logf(x)
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline]
pub fn ln_1p(x: f32) -> f32 {
    libm::log1pf(x)
}

/// Square root, correctly rounded (IEEE 754), so the same bits on every target.
///
/// On Arm hard-float targets (`thumbv7em-none-eabihf`, `thumbv8m.main-none-eabihf`:
/// every FPU of an M4F, M7 or M33 has `VSQRT.F32`) this is that one instruction; `libm`
/// has no Arm path and would run a software square root of about a hundred
/// instructions. Elsewhere it is `libm::sqrtf` (an SSE instruction on x86-64).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    {
        hw_sqrt(x)
    }
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        libm::sqrtf(x)
    }
}

/// `VSQRT.F32` on an Arm FPU.
///
/// Written with core registers and `s0` saved around it, because stable Rust does not
/// yet let inline assembly name single-precision registers on Arm (the `vfp2` target
/// feature is unstable). Five instructions instead of one, and still some twenty
/// times cheaper than a software square root.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[inline]
#[allow(unsafe_code)]
fn hw_sqrt(x: f32) -> f32 {
    let r: u32;
    // SAFETY: the block moves `x` into `s0`, takes its square root there, moves the
    // result out, and puts `s0`'s previous contents back from a scratch core register
    // (`t`, declared as an output so the compiler gives it a register of its own), so
    // no register the compiler relies on changes. It touches no memory and no stack
    // (`nomem`, `nostack`), leaves the APSR condition flags alone (`preserves_flags`;
    // VSQRT may only set FPSCR's sticky exception bits, as any float operation the
    // compiler emits does), and its result depends only on `x` (`pure`). An interrupt
    // in between saves and restores `s0` with the rest of the FP context. The
    // hard-float ABI guarantees an FPU with VSQRT that is enabled before `main`.
    unsafe {
        core::arch::asm!(
            "vmov {t}, s0",
            "vmov s0, {x}",
            "vsqrt.f32 s0, s0",
            "vmov {r}, s0",
            "vmov s0, {t}",
            x = in(reg) x.to_bits(),
            r = lateout(reg) r,
            t = out(reg) _,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    f32::from_bits(r)
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
/// (computed as `-expm1(k * ln_1p(-(1 - beta)))`; `1 - beta` is exact for
/// `0.5 <= beta <= 1`). Used for Adam's bias corrections: a naive `1 - powf(beta, k)`
/// loses up to three digits to cancellation at small `k`, and a double-precision
/// `pow` costs thousands of instructions on a single-precision FPU. 0 for `k = 0`.
#[inline]
pub fn one_minus_pow(beta: f32, k: u32) -> f32 {
    if k == 0 {
        return 0.0;
    }
    -libm::expm1f(k as f32 * libm::log1pf(-(1.0 - beta)))
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
