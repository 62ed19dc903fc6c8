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

#[macro_use]
mod registry;

// The registry: one line per optimizer (its module, type, checkpoint code and name).
registry! {
    sgd::Sgd = 1, "sgd";
    adagrad::Adagrad = 2, "adagrad";
    adadelta::Adadelta = 3, "adadelta";
    rmsprop::RMSprop = 4, "rmsprop";
    adam::Adam = 5, "adam";
    adamw::AdamW = 6, "adamw";
    radam::RAdam = 7, "radam";
}

pub mod any;
pub mod hyper;
mod rule;
// Compiled everywhere (unused on hard-float Arm, where `vfp` stands in its place).
#[allow(unused_macros, unused_imports, dead_code)]
mod no_fpu;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
mod vfp;
// The switch: the optimizers' FPU kernels (`vfp`) on hard-float Arm, none elsewhere.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
use no_fpu as fpu;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use vfp as fpu;

pub use fpu::FPU_KERNELS;
pub(crate) use hyper::hyperparameters;
pub use hyper::{Config, Hyper, SetHyperError};
pub use optimizers::*;
pub use registry::Registered;
pub(crate) use rule::{StepScalars, UpdateRule};

use crate::error::HyperparameterError;

/// A gradient-descent update rule: the public face of every optimizer.
///
/// What a caller needs: the state size, the base learning rate, the hyperparameter
/// check, the state's initial value and [`step`](Optimizer::step), the update of
/// `params` from `grads` on slices. The per-step scalars and the fused single-sample
/// kernels a [`Trainer`](crate::Trainer) uses are crate-private (the sealed supertrait
/// `UpdateRule`, in `optim/rule.rs`): only the crate's optimizers implement this
/// trait, each in its own file, listed in the registry.
pub trait Optimizer: UpdateRule {
    /// Number of `f32` of state this optimizer keeps per parameter.
    fn state_per_param(&self) -> usize;

    /// The base learning rate (the schedule scales it per step).
    fn lr(&self) -> f32;

    /// Checks every hyperparameter against PyTorch's rules.
    fn validate(&self) -> Result<(), HyperparameterError>;

    /// Sets the state to its value before the first step (zero unless said otherwise).
    fn init_state(&self, state: &mut [f32]) {
        crate::kernels::fill(state, 0.0);
    }

    /// One whole step at learning rate `lr` (the schedule's `lr_t`) and 1-based step
    /// `k`: the optimizer's per-step scalars, then the update of every parameter from
    /// its gradient (the gradient of the batch's mean loss; weight decay is added
    /// here) and its `state_per_param()` state floats. The loop stops at the shortest
    /// slice; nothing panics.
    fn step(&self, params: &mut [f32], grads: &[f32], state: &mut [f32], lr: f64, k: u32) {
        let sc = self.scalars(lr, k);
        // One row of the outer-product form with `d = [1.0]` (`1 * g` is exactly `g`),
        // so that an optimizer's FPU kernel, if it has one, serves the batch step too.
        self.update_outer(&sc, params, state, &mut [], &[1.0], grads);
    }
}

/// [`UpdateRule::update_outer`](crate::optim::UpdateRule::update_outer) row by row with [`UpdateRule::update`](crate::optim::UpdateRule::update). Never inlined:
/// where an FPU kernel covers the common case, this portable path stays out of the
/// caller's frame. Every row's gradient comes from one iterator type, [`Gradient`],
/// so that an optimizer's `update` is compiled once for it (flash).
#[inline(never)]
pub(crate) fn outer_rows<O: Optimizer + ?Sized>(
    opt: &O,
    sc: &StepScalars,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) {
    let cols = x.len();
    if cols == 0 {
        return;
    }
    let spp = opt.state_per_param();
    let mut s_rows = state.chunks_exact_mut(cols.saturating_mul(spp).max(1));
    let mut g_rows = grads.chunks_exact_mut(cols);
    for (row, di) in params.chunks_exact_mut(cols).zip(d) {
        let s_row = if spp == 0 {
            &mut [][..]
        } else {
            s_rows.next().unwrap_or(&mut [])
        };
        let g_row = g_rows.next().unwrap_or(&mut []);
        opt.update(sc, row, Gradient::new(*di, x, g_row), s_row);
    }
}

/// [`UpdateRule::update_layer`](crate::optim::UpdateRule::update_layer) as two [`UpdateRule::update_outer`](crate::optim::UpdateRule::update_outer) calls.
pub(crate) fn layer_rows<O: Optimizer + ?Sized>(
    opt: &O,
    sc: &StepScalars,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) {
    let wl = d.len().saturating_mul(x.len());
    let (w, b) = params.split_at_mut(wl.min(params.len()));
    let sl = wl.saturating_mul(opt.state_per_param());
    let (sw, sb) = state.split_at_mut(sl.min(state.len()));
    let (gw, gb) = grads.split_at_mut(wl.min(grads.len()));
    opt.update_outer(sc, w, sw, gw, d, x);
    opt.update_outer(sc, b, sb, gb, &[1.0], d);
}

/// The gradient of a weight row, `g_j = d * x[j]` (with `d = 1`, any gradient slice:
/// `1 * g` is exactly `g`), each value also written to `out` while it lasts (an empty
/// `out` stores nothing). Each product is formed once, whether stored or not.
pub(crate) struct Gradient<'a> {
    d: f32,
    x: core::slice::Iter<'a, f32>,
    out: core::slice::IterMut<'a, f32>,
}

impl<'a> Gradient<'a> {
    /// The row `d * x`, stored into `out` as it is formed.
    #[inline]
    pub(crate) fn new(d: f32, x: &'a [f32], out: &'a mut [f32]) -> Self {
        Gradient {
            d,
            x: x.iter(),
            out: out.iter_mut(),
        }
    }
}

impl Iterator for Gradient<'_> {
    type Item = f32;

    #[inline]
    fn next(&mut self) -> Option<f32> {
        let g = self.d * self.x.next()?;
        if let Some(slot) = self.out.next() {
            *slot = g;
        }
        Some(g)
    }
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
