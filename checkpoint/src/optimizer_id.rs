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

/// A hyperparameter as an identity word: an `f32`'s bits, a `bool` as 0 or 1.
trait Word {
    fn word(self) -> u32;
}

impl Word for f32 {
    fn word(self) -> u32 {
        self.to_bits()
    }
}

impl Word for bool {
    fn word(self) -> u32 {
        u32::from(self)
    }
}

/// `CheckpointOptimizer` for a config struct: its kind code, then its hyperparameter
/// fields in the order they are stored.
macro_rules! identity {
    ($t:ident, $code:literal, $($field:ident),+) => {
        impl CheckpointOptimizer for $t {
            fn id(&self) -> OptimizerId {
                OptimizerId::new($code, $t::state_per_param(self), &[$(self.$field.word()),+])
            }
        }
    };
}

identity!(Sgd, 1, lr, momentum, dampening, nesterov, weight_decay);
identity!(
    Adagrad,
    2,
    lr,
    lr_decay,
    weight_decay,
    initial_accumulator_value,
    eps
);
identity!(Adadelta, 3, lr, rho, eps, weight_decay);
identity!(RMSprop, 4, lr, alpha, eps, weight_decay, momentum, centered);
identity!(Adam, 5, lr, beta1, beta2, eps, weight_decay, amsgrad);
identity!(AdamW, 6, lr, beta1, beta2, eps, weight_decay, amsgrad);
identity!(RAdam, 7, lr, beta1, beta2, eps, weight_decay);

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
