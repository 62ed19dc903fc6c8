//! [`OptimizerId`]: what identifies an optimizer in a checkpoint, and
//! [`CheckpointOptimizer`], implemented for every optimizer of the core.
//!
//! The state of one optimizer means nothing to another (Adam's `[m, v]` pairs are not
//! SGD's momentum buffer), and the same optimizer with other hyperparameters would not
//! continue the run that was saved. So a checkpoint records the optimizer's kind (a
//! code), its state floats per parameter and the exact bits of every hyperparameter,
//! and a restore refuses a checkpoint whose identity differs in any of them.

use microtrain::{Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, Optimizer, RAdam, RMSprop, Sgd};

/// The most hyperparameter words an identity holds.
pub const MAX_HYPER: usize = 8;

/// An optimizer's identity: kind, state per parameter and hyperparameter bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OptimizerId {
    /// The kind: 1 SGD, 2 Adagrad, 3 Adadelta, 4 RMSprop, 5 Adam, 6 AdamW, 7 RAdam.
    pub code: u8,
    /// State floats per parameter.
    pub state_per_param: u8,
    /// Number of meaningful words in `hyper`.
    pub hyper_len: u8,
    /// The hyperparameters as `f32::to_bits` (booleans as 0 or 1), in the order of
    /// the config struct's fields; words past `hyper_len` are 0.
    pub hyper: [u32; MAX_HYPER],
}

impl OptimizerId {
    /// An identity from a kind code, a state size and up to [`MAX_HYPER`] words (more
    /// are ignored).
    pub fn new(code: u8, state_per_param: usize, words: &[u32]) -> Self {
        let mut hyper = [0u32; MAX_HYPER];
        let n = words.len().min(MAX_HYPER);
        hyper.iter_mut().zip(words).for_each(|(h, w)| *h = *w);
        OptimizerId {
            code,
            state_per_param: u8::try_from(state_per_param).unwrap_or(u8::MAX),
            hyper_len: n as u8,
            hyper,
        }
    }
}

/// An optimizer whose state can be checkpointed: it can say who it is.
pub trait CheckpointOptimizer: Optimizer {
    /// This optimizer's identity (kind, state per parameter, hyperparameter bits).
    fn id(&self) -> OptimizerId;
}

fn b(x: bool) -> u32 {
    u32::from(x)
}

impl CheckpointOptimizer for Sgd {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.momentum.to_bits(),
            self.dampening.to_bits(),
            b(self.nesterov),
            self.weight_decay.to_bits(),
        ];
        OptimizerId::new(1, Sgd::state_per_param(self), &w)
    }
}

impl CheckpointOptimizer for Adagrad {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.lr_decay.to_bits(),
            self.weight_decay.to_bits(),
            self.initial_accumulator_value.to_bits(),
            self.eps.to_bits(),
        ];
        OptimizerId::new(2, Adagrad::state_per_param(self), &w)
    }
}

impl CheckpointOptimizer for Adadelta {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.rho.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
        ];
        OptimizerId::new(3, Adadelta::state_per_param(self), &w)
    }
}

impl CheckpointOptimizer for RMSprop {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.alpha.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
            self.momentum.to_bits(),
            b(self.centered),
        ];
        OptimizerId::new(4, RMSprop::state_per_param(self), &w)
    }
}

impl CheckpointOptimizer for Adam {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.beta1.to_bits(),
            self.beta2.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
            b(self.amsgrad),
        ];
        OptimizerId::new(5, Adam::state_per_param(self), &w)
    }
}

impl CheckpointOptimizer for AdamW {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.beta1.to_bits(),
            self.beta2.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
            b(self.amsgrad),
        ];
        OptimizerId::new(6, AdamW::state_per_param(self), &w)
    }
}

impl CheckpointOptimizer for RAdam {
    fn id(&self) -> OptimizerId {
        let w = [
            self.lr.to_bits(),
            self.beta1.to_bits(),
            self.beta2.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
        ];
        OptimizerId::new(7, RAdam::state_per_param(self), &w)
    }
}

/// The same identity as the concrete optimizer inside, so a checkpoint saved by a
/// firmware with `Adam` restores into a host tool with `AnyOptimizer::Adam`.
impl CheckpointOptimizer for AnyOptimizer {
    fn id(&self) -> OptimizerId {
        match self {
            AnyOptimizer::Sgd(o) => o.id(),
            AnyOptimizer::Adagrad(o) => o.id(),
            AnyOptimizer::Adadelta(o) => o.id(),
            AnyOptimizer::RMSprop(o) => o.id(),
            AnyOptimizer::Adam(o) => o.id(),
            AnyOptimizer::AdamW(o) => o.id(),
            AnyOptimizer::RAdam(o) => o.id(),
        }
    }
}
