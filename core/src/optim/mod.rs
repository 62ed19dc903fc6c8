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
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
mod vfp;

pub(crate) use hyper::hyperparameters;
pub use hyper::{Config, Hyper, SetHyperError};
pub use optimizers::*;
pub use registry::Registered;

use crate::error::HyperparameterError;
use crate::shape::Dense;
use crate::storage::Buffers;

/// Scalars an optimizer computes once per step from the learning rate `lr_t` and the
/// 1-based step `k` (bias corrections, Adagrad's decayed rate, RAdam's
/// rectification...), so that the loop over the parameters is pure `f32` arithmetic.
/// Each optimizer's docs say what its fields hold.
///
/// `repr(C)`: the six floats are contiguous in this order, so that an FPU kernel can
/// load them with one instruction (Adam's, see its docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct StepScalars {
    /// The step size applied to the update.
    pub lr: f32,
    /// First optimizer-specific scalar.
    pub a: f32,
    /// Second optimizer-specific scalar.
    pub b: f32,
    /// Third optimizer-specific scalar.
    pub c: f32,
    /// Fourth optimizer-specific scalar.
    pub d: f32,
    /// Fifth optimizer-specific scalar.
    pub e: f32,
    /// Optimizer-specific flag (SGD: first step; RAdam: rectified).
    pub flag: bool,
}

/// A whole-model single-sample update (see [`Optimizer::model_update_fn`]): the
/// optimizer, the step's scalars, the layers, the buffers and the sample's input.
///
/// # Safety
/// The caller (a [`Trainer`](crate::Trainer)) passes layers that pass
/// [`crate::shape::validate`], an input of the first layer's `inputs` floats, and
/// buffers of exactly the shape's sizes (parameters
/// [`params_len`](crate::shape::params_len), state that times the optimizer's
/// `state_per_param`, gradients as many as parameters or none (as `model_update_fn`
/// was told), activations [`activations_len`](crate::shape::activations_len)), so that
/// a kernel need not check them again each step.
pub type ModelUpdateFn<O> = unsafe fn(&O, &StepScalars, &[Dense], &mut Buffers<'_>, &[f32]);

/// A gradient-descent update rule.
///
/// An update is split in two: [`scalars`](Optimizer::scalars) once per step, then
/// [`update`](Optimizer::update) over any run of parameters with their gradients and
/// state. The trainer calls `update` on the whole parameter vector with the stored
/// gradient, or, for a batch of one sample, row by row with the gradient computed on
/// the fly (`g = delta_i * x_j`), which needs no gradient buffer. Both give the same
/// bits.
pub trait Optimizer {
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

    /// The per-step scalars for 1-based step `k` at learning rate `lr` (the schedule's
    /// `lr_t`). By default just `lr` (as `f32`), for the optimizers whose update has no
    /// other per-step scalar (Adadelta, RMSprop).
    fn scalars(&self, lr: f64, _k: u32) -> StepScalars {
        StepScalars {
            lr: lr as f32,
            ..StepScalars::default()
        }
    }

    /// [`scalars`](Optimizer::scalars) for a learning rate that is already an `f32` (a
    /// constant schedule): the same result as `scalars(f64::from(lr), k)`. Optimizers
    /// whose scalars need no `f64` arithmetic provide it without any, which saves the
    /// software double-precision conversions on an FPU without them.
    fn scalars_f32(&self, lr: f32, k: u32) -> StepScalars {
        self.scalars(f64::from(lr), k)
    }

    /// Whether [`scalars_f32`](Optimizer::scalars_f32)`(lr, k)` is the same for every
    /// step `k` with this configuration (SGD without momentum). A
    /// [`Trainer`](crate::Trainer) with a constant schedule then computes the scalars
    /// once instead of every step. `false` unless an optimizer says otherwise (always
    /// a safe answer).
    fn scalars_constant(&self) -> bool {
        false
    }

    /// Updates each parameter from its gradient (the gradient of the batch's mean loss;
    /// the weight-decay term is added here) and its `state_per_param()` state floats.
    /// The loop stops at the shortest of the three; nothing panics.
    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    );

    /// Updates `d.len()` rows of `x.len()` parameters (row-major) whose gradient is
    /// the outer product `d x^T`: `g[i][j] = d[i] * x[j]`, formed here, in `f32`, and
    /// written to `grads` as well unless `grads` is empty. This is the single-sample
    /// update of a dense layer's weights (`d` its error term, `x` its input); its bias
    /// is the case `d = [1.0]`, `x = delta` (`1 * delta_i` is exactly `delta_i`).
    ///
    /// The same bits as [`update`](Optimizer::update) on the formed gradient. The
    /// default runs `update` row by row; an optimizer may provide a faster kernel.
    fn update_outer(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        state: &mut [f32],
        grads: &mut [f32],
        d: &[f32],
        x: &[f32],
    ) {
        outer_rows(self, sc, params, state, grads, d, x);
    }

    /// Updates one dense layer's parameters `[W | b]` (`W` row-major, `d.len()` rows of
    /// `x.len()` columns) from the single-sample gradient `dL/dW = d x^T`,
    /// `dL/db = d`: [`update_outer`](Optimizer::update_outer) on the weights, then on
    /// the bias as one row with `d = [1.0]` and `x = d`. `state` and `grads` (unless
    /// empty) follow the parameters' layout. An optimizer with a faster kernel may do
    /// both in one call.
    fn update_layer(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        state: &mut [f32],
        grads: &mut [f32],
        d: &[f32],
        x: &[f32],
    ) {
        layer_rows(self, sc, params, state, grads, d, x);
    }

    /// The single-sample update of a whole stack of dense `layers` whose error terms are
    /// known: for each layer, [`update_layer`](Optimizer::update_layer) with its slices
    /// of the parameters, state and gradients (unless that buffer is empty), its error
    /// term `delta_l` and its input (`x`, then the previous layer's output), the
    /// activation buffer being laid out as `[a_1 .. a_L | delta_1 .. delta_L]` (see
    /// [`crate::layers::dense`]; it is only read). The default walks the layers
    /// ([`crate::layers::dense::update_fused`]); an optimizer with a kernel may walk
    /// them in one call. Lengths that do not fit the shape update nothing past the
    /// shortest slice; nothing panics.
    fn update_model(&self, sc: &StepScalars, layers: &[Dense], b: &mut Buffers<'_>, x: &[f32]) {
        crate::layers::dense::update_fused(layers, b.params, b.grads, b.state, x, b.acts, self, sc);
    }

    /// The whole-model single-sample update a [`Trainer`](crate::Trainer) runs, chosen
    /// once when it is built: by default [`update_model`](Optimizer::update_model). An
    /// optimizer whose FPU kernel covers its configuration returns the kernel alone, so
    /// that a firmware whose optimizer the kernel covers does not link the portable
    /// loops (the choice is a function pointer: with a constant configuration the
    /// compiler takes the other's address nowhere). `stores_gradients` says whether
    /// the trainer has a gradient buffer (an online-only trainer has none), so that a
    /// kernel may leave out the code for the other case. The kernel is called only on
    /// buffers the trainer has checked against the shape.
    fn model_update_fn(&self, _stores_gradients: bool) -> ModelUpdateFn<Self>
    where
        Self: Sized,
    {
        Self::update_model
    }

    /// One whole step: [`scalars`](Optimizer::scalars) then the update of all of
    /// `params` with `grads`, as one row of [`update_outer`](Optimizer::update_outer)
    /// with `d = [1.0]` (`1 * g` is exactly `g`), so that an optimizer's FPU kernel,
    /// if it has one, serves the batch step too.
    fn step(&self, params: &mut [f32], grads: &[f32], state: &mut [f32], lr: f64, k: u32) {
        let sc = self.scalars(lr, k);
        self.update_outer(&sc, params, state, &mut [], &[1.0], grads);
    }
}

/// [`Optimizer::update_outer`] row by row with [`Optimizer::update`]. Never inlined:
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

/// [`Optimizer::update_layer`] as two [`Optimizer::update_outer`] calls.
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
