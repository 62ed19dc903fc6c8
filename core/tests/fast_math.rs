//! The error bounds of the `fast-math` feature, as `core/src/math.rs` documents them.
//! Run with `cargo test -p microtrain --features fast-math --test fast_math`.
#![cfg(feature = "fast-math")]

use microtrain::math;

#[test]
fn exp_is_within_its_documented_relative_bound() {
    let mut worst = 0.0f64;
    let mut x = -20.0f32;
    while x <= 20.0 {
        let want = libm::exp(f64::from(x));
        let err = (f64::from(math::exp(x)) - want).abs() / want;
        worst = worst.max(err);
        x += 0.0007;
    }
    assert!(worst <= 2.5e-3, "exp: worst relative error {worst:e}");
    assert!(
        worst > 1e-6,
        "fast-math exp should be the approximation, got error {worst:e}"
    );
}

#[test]
fn tanh_is_within_its_documented_absolute_bound() {
    let mut worst = 0.0f64;
    let mut x = -12.0f32;
    while x <= 12.0 {
        let err = (f64::from(math::tanh(x)) - libm::tanh(f64::from(x))).abs();
        worst = worst.max(err);
        x += 0.0007;
    }
    assert!(worst <= 1.2e-3, "tanh: worst absolute error {worst:e}");
}

#[test]
fn ln_and_sqrt_stay_exact() {
    for x in [1e-6f32, 0.0117, 0.5, 1.0, 2.0, 1234.5] {
        assert_eq!(math::ln(x).to_bits(), libm::logf(x).to_bits());
        assert_eq!(math::sqrt(x).to_bits(), libm::sqrtf(x).to_bits());
    }
}
