//! Adadelta (`torch.optim.Adadelta`): steps scaled by the ratio of two running RMS
//! values, of past updates and of past gradients, so no learning rate is needed in
//! principle (`lr` multiplies the result; the paper's method is `lr = 1`).
//!
//! With `g_k` the gradient at step `k` (plus `weight_decay * p` when set):
//!
//! ```text
//! v_k  = rho v_{k-1} + (1 - rho) g_k^2
//! dx_k = sqrt(u_{k-1} + eps) / sqrt(v_k + eps) * g_k
//! u_k  = rho u_{k-1} + (1 - rho) dx_k^2
//! p   <- p - lr * dx_k
//! ```
//!
//! The course's slide writes `RMS[x] = sqrt(E[x^2] + eps)`, the same as above with `eps`
//! inside both square roots.

use super::{check, check_common, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;
use crate::math;

/// Adadelta hyperparameters, PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adadelta {
    /// Factor applied to the update (default 1.0).
    pub lr: f32,
    /// Decay of both running averages (default 0.9).
    pub rho: f32,
    /// Added inside both square roots (default 1e-6).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
}

super::hyperparameters!(Adadelta {
    lr,
    rho,
    eps,
    weight_decay
});

impl Default for Adadelta {
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl Adadelta {
    /// Adadelta with factor `lr` and PyTorch's other defaults.
    pub const fn new(lr: f32) -> Self {
        Adadelta {
            lr,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
        }
    }

    /// Two floats of state per parameter: `v` (squared gradients) and `u` (squared
    /// updates).
    pub const fn state_per_param(&self) -> usize {
        2
    }

    /// Whether an FPU kernel covers this configuration: no, this optimizer has none
    /// (it runs its portable loop everywhere). See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        false
    }
}

impl Optimizer for Adadelta {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        Adadelta::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        check_common(self.lr, Some(self.eps), self.weight_decay)?;
        check("rho", self.rho, (0.0..=1.0).contains(&self.rho), "0 <= rho <= 1")
    }
}

impl UpdateRule for Adadelta {
    /// The default scalars: `lr` alone.
    fn scalars_constant(&self) -> bool {
        true
    }

    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    ) {
        let (lr, rho, eps, wd) = (sc.lr, self.rho, self.eps, self.weight_decay);
        let one_m_rho = 1.0 - rho;
        for ((p, g), s) in params.iter_mut().zip(grads).zip(state.chunks_exact_mut(2)) {
            let [v, u] = s else { continue };
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *v = *v * rho + one_m_rho * (g * g);
            let std = math::sqrt(*v + eps);
            let dx = math::sqrt(*u + eps) / std * g;
            *u = *u * rho + one_m_rho * (dx * dx);
            *p -= lr * dx;
        }
    }
}
