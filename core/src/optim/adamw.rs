//! AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay.
//!
//! At step `k`, before the moment updates, the weights decay on their own:
//!
//! ```text
//! p <- p * (1 - lr * weight_decay)
//! ```
//!
//! then the [Adam](super::adam) update runs with the plain gradient (no L2 term). The
//! decay is thus not scaled by Adam's adaptive denominator, which is the point of the
//! method (Loshchilov & Hutter). PyTorch's default `weight_decay` here is 0.01.

use super::adam::{adam_scalars, adam_update, validate_betas};
use super::{Adam, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;

/// AdamW hyperparameters, PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdamW {
    /// Learning rate (default 0.001).
    pub lr: f32,
    /// Decay of the first moment (default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (default 0.999).
    pub beta2: f32,
    /// Added to the denominator (default 1e-8).
    pub eps: f32,
    /// Decoupled weight decay (default 0.01).
    pub weight_decay: f32,
    /// Use the running maximum of the second moment (default false).
    pub amsgrad: bool,
}

super::hyperparameters!(AdamW {
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad
});

impl Default for AdamW {
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl AdamW {
    /// AdamW with learning rate `lr` and PyTorch's other defaults.
    pub const fn new(lr: f32) -> Self {
        AdamW {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            amsgrad: false,
        }
    }

    /// State floats per parameter, as [`Adam`].
    pub const fn state_per_param(&self) -> usize {
        2 + self.amsgrad as usize
    }

    /// Whether an FPU kernel covers this configuration: no, this optimizer has none
    /// (it runs its portable loop everywhere). See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        false
    }

    const fn as_adam(&self) -> Adam {
        Adam {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: 0.0,
            amsgrad: self.amsgrad,
        }
    }
}

impl Optimizer for AdamW {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        AdamW::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        validate_betas(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

impl UpdateRule for AdamW {
    /// As [`Adam`], plus `b` = `1 - lr_t * weight_decay`, the decay factor.
    fn scalars(&self, lr: f64, k: u32) -> StepScalars {
        let keep = (1.0 - lr * f64::from(self.weight_decay)) as f32;
        StepScalars {
            b: keep,
            ..adam_scalars(self.beta1, self.beta2, lr as f32, k)
        }
    }

    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    ) {
        if self.weight_decay != 0.0 {
            // Decay first (PyTorch's order); the gradient was taken before the step, so
            // it does not depend on the decayed value.
            params.iter_mut().for_each(|p| *p *= sc.b);
        }
        adam_update(&self.as_adam(), 0.0, sc, params, grads, state);
    }
}
