//! The sealed half of every optimizer: the per-step scalars and the fused
//! single-sample kernels a [`Trainer`](crate::Trainer) runs. `UpdateRule` is the
//! supertrait of [`Optimizer`], declared in this private module: code outside the
//! crate can neither name nor implement it (so only the registry's optimizers are
//! optimizers, and these methods are not part of the documented API), though a generic
//! caller bound by `Optimizer` can still call them, as the firmware's kernel self-test
//! does to compare the FPU kernels with the portable ones.

use super::{layer_rows, outer_rows, Optimizer};
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

/// The update rule and its kernels, split in two: [`scalars`](UpdateRule::scalars) once
/// per step, then [`update`](UpdateRule::update) over any run of parameters with their
/// gradients and state. The trainer calls `update` on the whole parameter vector with
/// the stored gradient, or, for a batch of one sample, row by row with the gradient
/// computed on the fly (`g = delta_i * x_j`), which needs no gradient buffer. Both give
/// the same bits. Methods that need the state size are available on every
/// [`Optimizer`] (`where Self: Optimizer`).
pub trait UpdateRule {
    /// The per-step scalars for 1-based step `k` at learning rate `lr` (the schedule's
    /// `lr_t`). By default just `lr` (as `f32`), for the optimizers whose update has no
    /// other per-step scalar (Adadelta, RMSprop).
    fn scalars(&self, lr: f64, _k: u32) -> StepScalars {
        StepScalars {
            lr: lr as f32,
            ..StepScalars::default()
        }
    }

    /// [`scalars`](UpdateRule::scalars) for a learning rate that is already an `f32` (a
    /// constant schedule): the same result as `scalars(f64::from(lr), k)`. Optimizers
    /// whose scalars need no `f64` arithmetic provide it without any, which saves the
    /// software double-precision conversions on an FPU without them.
    fn scalars_f32(&self, lr: f32, k: u32) -> StepScalars {
        self.scalars(f64::from(lr), k)
    }

    /// Whether [`scalars_f32`](UpdateRule::scalars_f32)`(lr, k)` is the same for every
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
    /// The same bits as [`update`](UpdateRule::update) on the formed gradient. The
    /// default runs `update` row by row; an optimizer may provide a faster kernel.
    fn update_outer(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        state: &mut [f32],
        grads: &mut [f32],
        d: &[f32],
        x: &[f32],
    ) where
        Self: Optimizer,
    {
        outer_rows(self, sc, params, state, grads, d, x);
    }

    /// Updates one dense layer's parameters `[W | b]` (`W` row-major, `d.len()` rows of
    /// `x.len()` columns) from the single-sample gradient `dL/dW = d x^T`,
    /// `dL/db = d`: [`update_outer`](UpdateRule::update_outer) on the weights, then on
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
    ) where
        Self: Optimizer,
    {
        layer_rows(self, sc, params, state, grads, d, x);
    }

    /// The single-sample update of a whole stack of dense `layers` whose error terms are
    /// known: for each layer, [`update_layer`](UpdateRule::update_layer) with its slices
    /// of the parameters, state and gradients (unless that buffer is empty), its error
    /// term `delta_l` and its input (`x`, then the previous layer's output), the
    /// activation buffer being laid out as `[a_1 .. a_L | delta_1 .. delta_L]` (see
    /// [`crate::layers::dense`]; it is only read). The default walks the layers
    /// ([`crate::layers::dense::update_fused`]); an optimizer with a kernel may walk
    /// them in one call. Lengths that do not fit the shape update nothing past the
    /// shortest slice; nothing panics.
    fn update_model(&self, sc: &StepScalars, layers: &[Dense], b: &mut Buffers<'_>, x: &[f32])
    where
        Self: Optimizer,
    {
        crate::layers::dense::update_fused(layers, b.params, b.grads, b.state, x, b.acts, self, sc);
    }

    /// Whether this optimizer's FPU kernel covers its configuration on this target
    /// (never where the target has no kernels). The optimizer's inherent
    /// `fpu_kernel_covers`, a `const fn` that [`plan_for!`](crate::plan_for) calls, says
    /// which configurations a kernel covers; this is `false` unless an optimizer's
    /// kernel overrides it.
    fn fpu_kernel_covers(&self) -> bool {
        false
    }

    /// The whole-model single-sample update by the optimizer's FPU kernel, for a
    /// configuration it covers ([`fpu_kernel_covers`](UpdateRule::fpu_kernel_covers)),
    /// writing the gradient to `b.grads` when `STORE`: what
    /// [`update_model`](UpdateRule::update_model) does, without its checks and without
    /// the portable loops, so that a firmware whose plan is the kernel does not link
    /// them. By default (no kernel) `update_model` itself.
    ///
    /// # Safety
    /// The caller (a [`Trainer`](crate::Trainer)) passes layers that pass
    /// [`crate::shape::validate`], an input of the first layer's `inputs` floats, and
    /// buffers of exactly the shape's sizes (parameters
    /// [`params_len`](crate::shape::params_len), state that times the optimizer's
    /// `state_per_param`, gradients as many as parameters when `STORE` and none
    /// otherwise, activations [`activations_len`](crate::shape::activations_len)), so
    /// that a kernel need not check them again each step.
    #[allow(unsafe_code)]
    unsafe fn fpu_update_model<const STORE: bool>(
        &self,
        sc: &StepScalars,
        layers: &[Dense],
        b: &mut Buffers<'_>,
        x: &[f32],
    ) where
        Self: Optimizer,
    {
        self.update_model(sc, layers, b, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, RAdam, RMSprop, Sgd};

    #[test]
    fn scalars_f32_equal_scalars_at_the_same_rate() {
        let opts: [AnyOptimizer; 9] = [
            Sgd::new(0.01).into(),
            Sgd::nesterov(0.3, 0.9).into(),
            Adam::new(0.001).into(),
            Adam {
                beta1: 0.5,
                beta2: 0.9,
                ..Adam::new(0.05)
            }
            .into(),
            AdamW::new(0.01).into(),
            RAdam::new(0.01).into(),
            Adagrad::new(0.1).into(),
            RMSprop::new(0.01).into(),
            Adadelta::new(1.0).into(),
        ];
        for opt in &opts {
            for lr in [0.001f32, 0.01, 0.3, 1.0, 7.5e-5] {
                for k in [1u32, 2, 3, 10, 1000, 123_456] {
                    let a = opt.scalars_f32(lr, k);
                    let b = opt.scalars(f64::from(lr), k);
                    assert_eq!(
                        [a.lr, a.a, a.b, a.c].map(f32::to_bits),
                        [b.lr, b.a, b.b, b.c].map(f32::to_bits),
                        "{opt:?} lr {lr} k {k}"
                    );
                    assert_eq!(a.flag, b.flag, "{opt:?} lr {lr} k {k}");
                }
            }
        }
    }

    /// An optimizer that says its scalars are constant (`UpdateRule::scalars_constant`, so
    /// that a trainer computes them once) gives the same scalars at every step, for any
    /// learning rate; SGD with momentum does not say so (its first step differs).
    #[test]
    fn constant_scalars_are_the_same_at_every_step() {
        let bits = |s: StepScalars| {
            let [lr, a, b, c, d, e] = [s.lr, s.a, s.b, s.c, s.d, s.e].map(f32::to_bits);
            [lr, a, b, c, d, e, u32::from(s.flag)]
        };
        let opts: [AnyOptimizer; 4] = [
            Sgd::new(0.05).into(),
            Sgd {
                weight_decay: 0.01,
                nesterov: false,
                ..Sgd::new(0.3)
            }
            .into(),
            RMSprop::new(0.01).into(),
            Adadelta::new(1.0).into(),
        ];
        for opt in &opts {
            assert!(opt.scalars_constant(), "{opt:?}");
            for lr in [1e-4f32, 0.05, 3.0] {
                let first = bits(opt.scalars_f32(lr, 1));
                for k in [2u32, 3, 10, 1000, u32::MAX] {
                    assert_eq!(bits(opt.scalars_f32(lr, k)), first, "{opt:?} lr {lr} step {k}");
                }
            }
        }
        let not_constant: [AnyOptimizer; 5] = [
            Sgd {
                momentum: 0.9,
                ..Sgd::new(0.05)
            }
            .into(),
            Adam::new(0.01).into(),
            AdamW::new(0.01).into(),
            RAdam::new(0.01).into(),
            Adagrad::new(0.01).into(),
        ];
        for opt in &not_constant {
            assert!(!opt.scalars_constant(), "{opt:?}");
        }
    }
}
