//! Adagrad (`torch.optim.Adagrad`): a per-parameter learning rate that shrinks with the
//! sum of the squared gradients seen so far.
//!
//! With `g_k` the gradient at step `k` (plus `weight_decay * p` when set) and
//! `s_0 = initial_accumulator_value`:
//!
//! ```text
//! lr_k = lr / (1 + (k - 1) * lr_decay)
//! s_k  = s_{k-1} + g_k^2
//! p   <- p - lr_k * g_k / (sqrt(s_k) + eps)
//! ```
//!
//! The course writes the same rule as `p <- p - eta / sqrt(G + eps) * g` with `eps`
//! inside the square root; PyTorch (and this crate) add `eps` outside it. The two differ
//! only while `G` is of the order of `eps`.

use super::{check, check_common, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;
use crate::math;

/// Adagrad hyperparameters, PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adagrad {
    /// Learning rate (default 0.01).
    pub lr: f32,
    /// Decay of the learning rate per step (default 0).
    pub lr_decay: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
    /// Starting value of the sum of squares (default 0).
    pub initial_accumulator_value: f32,
    /// Added to the denominator (default 1e-10).
    pub eps: f32,
}

super::hyperparameters!(Adagrad {
    lr,
    lr_decay,
    weight_decay,
    initial_accumulator_value,
    eps
});

impl Default for Adagrad {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and PyTorch's other defaults.
    pub const fn new(lr: f32) -> Self {
        Adagrad {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }

    /// One float of state per parameter: the sum of squared gradients.
    pub const fn state_per_param(&self) -> usize {
        1
    }

    /// Whether an FPU kernel covers this configuration: no, this optimizer has none
    /// (it runs its portable loop everywhere). See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        false
    }
}

impl Optimizer for Adagrad {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        Adagrad::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        check_common(self.lr, Some(self.eps), self.weight_decay)?;
        check("lr_decay", self.lr_decay, self.lr_decay >= 0.0, "lr_decay >= 0")?;
        let iav = self.initial_accumulator_value;
        check(
            "initial_accumulator_value",
            iav,
            iav >= 0.0,
            "initial_accumulator_value >= 0",
        )
    }

    fn init_state(&self, state: &mut [f32]) {
        crate::kernels::fill(state, self.initial_accumulator_value);
    }
}

impl UpdateRule for Adagrad {
    /// `lr` = `lr_t / (1 + (k - 1) lr_decay)`.
    fn scalars(&self, lr: f64, k: u32) -> StepScalars {
        let clr = lr / (1.0 + f64::from(k.saturating_sub(1)) * f64::from(self.lr_decay));
        StepScalars {
            lr: clr as f32,
            ..StepScalars::default()
        }
    }

    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    ) {
        let (clr, wd, eps) = (sc.lr, self.weight_decay, self.eps);
        for ((p, g), s) in params.iter_mut().zip(grads).zip(state.iter_mut()) {
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *s += g * g;
            *p -= clr * (g / (math::sqrt(*s) + eps));
        }
    }
}
