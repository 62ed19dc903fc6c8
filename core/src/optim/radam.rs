//! RAdam (`torch.optim.RAdam`): Adam with a rectified adaptive learning rate, which
//! takes plain momentum steps while the variance of the adaptive term is not yet
//! tractable.
//!
//! With `g_k` the gradient at step `k` (plus `weight_decay * p` when set):
//!
//! ```text
//! m_k = beta1 m_{k-1} + (1 - beta1) g_k,     m_hat = m_k / (1 - beta1^k)
//! v_k = beta2 v_{k-1} + (1 - beta2) g_k^2
//! rho_inf = 2 / (1 - beta2) - 1
//! rho_k   = rho_inf - 2 k beta2^k / (1 - beta2^k)
//! if rho_k > 5:
//!     r_k = sqrt((rho_k - 4)(rho_k - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_k))
//!     p <- p - lr * m_hat * sqrt(1 - beta2^k) / (sqrt(v_k) + eps) * r_k
//! else:
//!     p <- p - lr * m_hat
//! ```
//!
//! `rho_k` and `r_k` are per-step scalars computed in `f64`: in `f32` the subtraction
//! in `rho_k` cancels badly near the threshold. With `beta2 = 0.999`, steps 1 to 5 are
//! not rectified.

use super::adam::validate_betas;
use super::{lerp, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;
use crate::math;

/// RAdam hyperparameters, PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RAdam {
    /// Learning rate (default 0.001).
    pub lr: f32,
    /// Decay of the first moment (default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (default 0.999).
    pub beta2: f32,
    /// Added to the denominator (default 1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
}

super::hyperparameters!(RAdam {
    lr,
    beta1,
    beta2,
    eps,
    weight_decay
});

impl Default for RAdam {
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl RAdam {
    /// RAdam with learning rate `lr` and PyTorch's other defaults.
    pub const fn new(lr: f32) -> Self {
        RAdam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// Two floats of state per parameter: `m` and `v`.
    pub const fn state_per_param(&self) -> usize {
        2
    }

    /// Whether an FPU kernel covers this configuration: no, this optimizer has none
    /// (it runs its portable loop everywhere). See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        false
    }

    /// The rectification factor `r_k` at step `k`, or `None` while `rho_k <= 5`.
    pub fn rectification(&self, k: u32) -> Option<f64> {
        let b2 = f64::from(self.beta2);
        let b2k = math::powi64(b2, k);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_k = rho_inf - 2.0 * f64::from(k) * b2k / (1.0 - b2k);
        (rho_k > 5.0).then(|| {
            math::sqrt64(
                (rho_k - 4.0) * (rho_k - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_k),
            )
        })
    }
}

impl Optimizer for RAdam {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        RAdam::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        validate_betas(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

impl UpdateRule for RAdam {
    /// `lr` = `lr_t`, `a` = `1 - beta1^k`, `b` = `sqrt(1 - beta2^k)`, `c` = `r_k`,
    /// `flag` = rectified (`rho_k > 5`). Computed in `f64` (see the module docs).
    fn scalars(&self, lr: f64, k: u32) -> StepScalars {
        let bc1 = (1.0 - math::powi64(f64::from(self.beta1), k)) as f32;
        let bc2_sqrt = math::sqrt64(1.0 - math::powi64(f64::from(self.beta2), k)) as f32;
        let rect = self.rectification(k);
        StepScalars {
            lr: lr as f32,
            a: bc1,
            b: bc2_sqrt,
            c: rect.unwrap_or(0.0) as f32,
            flag: rect.is_some(),
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
        let (lr, bc1, bc2_sqrt, r) = (sc.lr, sc.a, sc.b, sc.c);
        let (b2, eps, wd) = (self.beta2, self.eps, self.weight_decay);
        let w1 = 1.0 - self.beta1;
        let w2 = 1.0 - b2;
        for ((p, g), s) in params.iter_mut().zip(grads).zip(state.chunks_exact_mut(2)) {
            let [m, v] = s else { continue };
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *m = lerp(*m, g, w1);
            *v = *v * b2 + w2 * (g * g);
            let m_hat = *m / bc1;
            if sc.flag {
                let adaptive = bc2_sqrt / (math::sqrt(*v) + eps);
                *p -= m_hat * lr * adaptive * r;
            } else {
                *p -= m_hat * lr;
            }
        }
    }
}
