//! RMSprop (`torch.optim.RMSprop`): gradients divided by a running RMS of their recent
//! magnitudes, optionally centered and with momentum.
//!
//! With `g_k` the gradient at step `k` (plus `weight_decay * p` when set):
//!
//! ```text
//! v_k = alpha v_{k-1} + (1 - alpha) g_k^2
//! centered:  m_k = alpha m_{k-1} + (1 - alpha) g_k,   d_k = sqrt(v_k - m_k^2) + eps
//! otherwise: d_k = sqrt(v_k) + eps
//! momentum > 0: b_k = momentum b_{k-1} + g_k / d_k,   p <- p - lr * b_k
//! otherwise:                                          p <- p - lr * g_k / d_k
//! ```
//!
//! The course's slide writes `E[g^2]_t = 0.9 E[g^2]_{t-1} + 0.1 g_t^2` and
//! `p <- p - eta / sqrt(E[g^2]_t + eps) g_t`: the same rule with `alpha = 0.9` and `eps`
//! inside the square root; PyTorch (and this crate) put it outside and default `alpha`
//! to 0.99.

use super::{check, check_common, lerp, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;
use crate::math;

/// RMSprop hyperparameters, PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RMSprop {
    /// Learning rate (default 0.01).
    pub lr: f32,
    /// Decay of the running averages (default 0.99).
    pub alpha: f32,
    /// Added to the denominator, outside the square root (default 1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
    /// Momentum factor (default 0).
    pub momentum: f32,
    /// Divide by the running standard deviation instead of the RMS (default false).
    pub centered: bool,
}

super::hyperparameters!(RMSprop {
    lr,
    alpha,
    eps,
    weight_decay,
    momentum,
    centered
});

impl Default for RMSprop {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl RMSprop {
    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    pub const fn new(lr: f32) -> Self {
        RMSprop {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }

    /// State floats per parameter: `v`, plus the momentum buffer when `momentum > 0`,
    /// plus the mean gradient when centered.
    pub const fn state_per_param(&self) -> usize {
        1 + (self.momentum > 0.0) as usize + self.centered as usize
    }

    /// Whether an FPU kernel covers this configuration: no, this optimizer has none
    /// (it runs its portable loop everywhere). See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        false
    }
}

impl Optimizer for RMSprop {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        RMSprop::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        check_common(self.lr, Some(self.eps), self.weight_decay)?;
        check("alpha", self.alpha, self.alpha >= 0.0, "alpha >= 0")?;
        check("momentum", self.momentum, self.momentum >= 0.0, "momentum >= 0")
    }
}

impl UpdateRule for RMSprop {
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
        let lr = sc.lr;
        let (alpha, eps, wd, mu) = (self.alpha, self.eps, self.weight_decay, self.momentum);
        let one_m_alpha = 1.0 - alpha;
        let has_mom = mu > 0.0;
        let n = RMSprop::state_per_param(self);
        for ((p, g), s) in params.iter_mut().zip(grads).zip(state.chunks_exact_mut(n)) {
            let g = if wd != 0.0 { g + wd * *p } else { g };
            let (v, rest) = match s.split_first_mut() {
                Some(x) => x,
                None => continue,
            };
            *v = *v * alpha + one_m_alpha * (g * g);
            let (buf, rest) = if has_mom {
                match rest.split_first_mut() {
                    Some((b, r)) => (Some(b), r),
                    None => continue,
                }
            } else {
                (None, rest)
            };
            let avg = match rest.first_mut() {
                Some(m) if self.centered => {
                    *m = lerp(*m, g, one_m_alpha);
                    math::sqrt(*v - *m * *m) + eps
                }
                _ => math::sqrt(*v) + eps,
            };
            match buf {
                Some(b) => {
                    *b = *b * mu + g / avg;
                    *p -= lr * *b;
                }
                None => *p -= lr * (g / avg),
            }
        }
    }
}
