//! Stochastic gradient descent, with optional momentum, dampening, Nesterov momentum
//! and weight decay (`torch.optim.SGD`).
//!
//! With `g_k` the gradient at step `k` (plus `weight_decay * p` when set):
//!
//! ```text
//! plain:     p <- p - lr * g_k
//! momentum:  b_1 = g_1,   b_k = momentum * b_{k-1} + (1 - dampening) * g_k
//!            p <- p - lr * b_k                      (classical, "heavy ball")
//! Nesterov:  p <- p - lr * (g_k + momentum * b_k)
//! ```
//!
//! How this relates to the course's slides: they write momentum as
//! `v <- gamma v + eta g; p <- p - v`, i.e. with the learning rate inside the velocity.
//! With a constant learning rate the two give the same iterates (`v = lr * b`, `gamma
//! = momentum`); they differ only when the learning rate changes during training.
//! The slides' Nesterov evaluates the gradient at the look-ahead point `p - gamma v`;
//! PyTorch's form above is the same method rewritten in terms of the current point.
//!
//! Batch, stochastic and minibatch descent are all this optimizer: the difference is
//! only how many samples make each gradient (see [`crate::data`]).

use super::{check, check_common, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;

/// SGD hyperparameters. Defaults as PyTorch, except `lr`, which PyTorch requires and
/// here defaults to 0.01.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sgd {
    /// Learning rate (default 0.01).
    pub lr: f32,
    /// Momentum factor; 0 is plain SGD and keeps no state (default 0).
    pub momentum: f32,
    /// Dampening of the momentum's new gradient (default 0).
    pub dampening: f32,
    /// Nesterov momentum; needs `momentum > 0` and `dampening = 0` (default false).
    pub nesterov: bool,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
}

super::hyperparameters!(Sgd {
    lr,
    momentum,
    dampening,
    nesterov,
    weight_decay
});

impl Default for Sgd {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub const fn new(lr: f32) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// SGD with classical momentum.
    pub const fn momentum(lr: f32, momentum: f32) -> Self {
        Sgd {
            momentum,
            ..Self::new(lr)
        }
    }

    /// SGD with Nesterov momentum.
    pub const fn nesterov(lr: f32, momentum: f32) -> Self {
        Sgd {
            momentum,
            nesterov: true,
            ..Self::new(lr)
        }
    }

    /// State floats per parameter: 0 for plain SGD, 1 (the momentum buffer) otherwise.
    pub const fn state_per_param(&self) -> usize {
        if self.momentum != 0.0 {
            1
        } else {
            0
        }
    }

    /// Whether the FPU kernel (hard-float Arm) covers this configuration: plain SGD,
    /// no momentum and no weight decay. See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        self.momentum == 0.0 && self.weight_decay == 0.0
    }
}

impl Optimizer for Sgd {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        Sgd::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        check_common(self.lr, None, self.weight_decay)?;
        check("momentum", self.momentum, self.momentum >= 0.0, "momentum >= 0")?;
        check("dampening", self.dampening, true, "a finite number")?;
        if self.nesterov {
            check(
                "momentum",
                self.momentum,
                self.momentum > 0.0,
                "momentum > 0 with nesterov",
            )?;
            check(
                "dampening",
                self.dampening,
                self.dampening == 0.0,
                "dampening = 0 with nesterov",
            )?;
        }
        Ok(())
    }
}

impl UpdateRule for Sgd {
    /// `lr` = `lr_t`; `flag` = first step with momentum (the momentum buffer starts as
    /// the gradient); without momentum there is no buffer and `flag` is `false`.
    fn scalars(&self, lr: f64, k: u32) -> StepScalars {
        self.scalars_f32(lr as f32, k)
    }

    fn scalars_f32(&self, lr: f32, k: u32) -> StepScalars {
        StepScalars {
            lr,
            flag: k <= 1 && self.momentum != 0.0,
            ..StepScalars::default()
        }
    }

    /// Without momentum, `lr` is all there is.
    fn scalars_constant(&self) -> bool {
        self.momentum == 0.0
    }

    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    ) {
        let (lr, wd) = (sc.lr, self.weight_decay);
        if self.momentum == 0.0 {
            for (p, g) in params.iter_mut().zip(grads) {
                let d = if wd != 0.0 { g + wd * *p } else { g };
                *p -= lr * d;
            }
            return;
        }
        let (mu, keep, first, nesterov) = (self.momentum, 1.0 - self.dampening, sc.flag, self.nesterov);
        for ((p, g), b) in params.iter_mut().zip(grads).zip(state.iter_mut()) {
            let d = if wd != 0.0 { g + wd * *p } else { g };
            *b = if first { d } else { mu * *b + keep * d };
            let dir = if nesterov { d + mu * *b } else { *b };
            *p -= lr * dir;
        }
    }

    // The FPU kernels where they cover the configuration (on hard-float Arm only).
    super::fpu::kernel_overrides!();
}
