//! Learning-rate schedules: the learning rate used at optimizer step `t`
//! (`t = 0, 1, 2, ...`, counted across epochs), from the optimizer's base rate `lr`.
//!
//! | schedule | `lr_t` | PyTorch |
//! |---|---|---|
//! | [`Schedule::Constant`] | `lr` | no scheduler |
//! | [`Schedule::Exponential`] | `lr * gamma^t` | `ExponentialLR` |
//! | [`Schedule::Step`] | `lr * gamma^floor(t / step_size)` | `StepLR` |
//! | [`Schedule::InverseTime`] | `lr / (1 + decay * t)` | `LambdaLR(lambda t: 1 / (1 + decay t))` |
//!
//! Computed in `f64` once per step (as PyTorch does with Python floats).

use crate::error::HyperparameterError;
use crate::math;
use crate::optim::check;

/// A learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Schedule {
    /// `lr_t = lr`.
    #[default]
    Constant,
    /// `lr_t = lr * gamma^t`.
    Exponential {
        /// Factor per step, `0 < gamma <= 1` for a decay.
        gamma: f32,
    },
    /// `lr_t = lr * gamma^floor(t / step_size)`.
    Step {
        /// Steps between two decays (at least 1).
        step_size: u32,
        /// Factor per decay.
        gamma: f32,
    },
    /// `lr_t = lr / (1 + decay * t)`.
    InverseTime {
        /// Decay rate, `>= 0`.
        decay: f32,
    },
}

impl Schedule {
    /// The learning rate at step `t` for base rate `lr`.
    pub fn lr_at(&self, lr: f32, t: u32) -> f64 {
        let lr = f64::from(lr);
        match *self {
            Schedule::Constant => lr,
            Schedule::Exponential { gamma } => lr * math::powi64(f64::from(gamma), t),
            Schedule::Step { step_size, gamma } => {
                lr * math::powi64(f64::from(gamma), t.checked_div(step_size).unwrap_or(0))
            }
            Schedule::InverseTime { decay } => lr / (1.0 + f64::from(decay) * f64::from(t)),
        }
    }

    /// Checks the schedule's parameters.
    pub fn validate(&self) -> Result<(), HyperparameterError> {
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Exponential { gamma } => check("gamma", gamma, gamma > 0.0, "gamma > 0"),
            Schedule::Step { step_size, gamma } => {
                check("step_size", step_size as f32, step_size >= 1, "step_size >= 1")?;
                check("gamma", gamma, gamma > 0.0, "gamma > 0")
            }
            Schedule::InverseTime { decay } => check("decay", decay, decay >= 0.0, "decay >= 0"),
        }
    }
}
