//! Optimizers with `torch.optim` semantics, one file each.
//!
//! Each optimizer is a config struct with PyTorch's hyperparameter names and defaults
//! and a flat loop over `(param, grad, state)`:
//!
//! | optimizer | file | state floats per parameter |
//! |---|---|---|
//! | SGD (plain, momentum, Nesterov) | [`sgd`] | 0 (plain) or 1 |
//! | Adagrad | [`adagrad`] | 1 |
//! | Adadelta | [`adadelta`] | 2 |
//! | RMSprop | [`rmsprop`] | 1, +1 with momentum, +1 centered |
//! | Adam (and AMSGrad) | [`adam`] | 2 (3 with AMSGrad) |
//! | AdamW | [`adamw`] | 2 (3 with AMSGrad) |
//! | RAdam | [`radam`] | 2 |
//!
//! State is interleaved per parameter (`[m_0, v_0, m_1, v_1, ...]` for Adam), starts
//! at zero (Adagrad: at `initial_accumulator_value`, see [`Optimizer::init_state`]),
//! and its length is `params * state_per_param`, a `const fn` of the config.
//!
//! The step count `k` is 1-based (PyTorch's `state['step']` after its increment). The
//! learning rate passed in is the schedule's `lr_t` for this step. Scalars that depend
//! only on the step (bias corrections, RAdam's rectification) are computed once per
//! step in `f64`, as PyTorch does with Python floats, then rounded to `f32`; the loop
//! over the parameters is pure `f32`.

pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod adamw;
pub mod any;
pub mod radam;
pub mod rmsprop;
pub mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use any::AnyOptimizer;
pub use radam::RAdam;
pub use rmsprop::RMSprop;
pub use sgd::Sgd;

use crate::error::HyperparameterError;

/// A gradient-descent update rule.
pub trait Optimizer {
    /// Number of `f32` of state this optimizer keeps per parameter.
    fn state_per_param(&self) -> usize;

    /// The base learning rate (the schedule scales it per step).
    fn lr(&self) -> f32;

    /// Checks every hyperparameter against PyTorch's rules.
    fn validate(&self) -> Result<(), HyperparameterError>;

    /// Sets the state to its value before the first step (zero unless said otherwise).
    fn init_state(&self, state: &mut [f32]) {
        state.iter_mut().for_each(|s| *s = 0.0);
    }

    /// Updates `params` from `grads` (the gradient of the batch's mean loss) at 1-based
    /// step `k` with learning rate `lr`. `state` holds `params.len() *
    /// state_per_param()` floats. Lengths are checked by the caller; with wrong
    /// lengths the loop stops at the shortest slice and nothing panics.
    fn step(&self, params: &mut [f32], grads: &[f32], state: &mut [f32], lr: f64, k: u32);
}

/// Returns an error naming `name` and its `rule` unless `ok` holds and `value` is
/// finite.
pub(crate) fn check(
    name: &'static str,
    value: f32,
    ok: bool,
    rule: &'static str,
) -> Result<(), HyperparameterError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(HyperparameterError { name, value, rule })
    }
}

/// `lr >= 0`, `eps >= 0` (if given) and `weight_decay >= 0`, the rules every
/// optimizer shares.
pub(crate) fn check_common(lr: f32, eps: Option<f32>, weight_decay: f32) -> Result<(), HyperparameterError> {
    check("lr", lr, lr >= 0.0, "lr >= 0")?;
    if let Some(eps) = eps {
        check("eps", eps, eps >= 0.0, "eps >= 0")?;
    }
    check(
        "weight_decay",
        weight_decay,
        weight_decay >= 0.0,
        "weight_decay >= 0",
    )
}

/// `x + (w - x) * a` the way `torch.lerp` computes it for a weight `a` (`a < 0.5`: from
/// `x`; otherwise from `w`), so moving averages round as PyTorch's.
#[inline]
pub(crate) fn lerp(x: f32, w: f32, a: f32) -> f32 {
    if a.abs() < 0.5 {
        x + a * (w - x)
    } else {
        w - (w - x) * (1.0 - a)
    }
}
