//! [`OptimizerId`]: what identifies an optimizer in a checkpoint, and
//! [`CheckpointOptimizer`], implemented for every optimizer of the core.
//!
//! The state of one optimizer means nothing to another (Adam's `[m, v]` pairs are not
//! SGD's momentum buffer), and the same optimizer with other hyperparameters would not
//! continue the run that was saved. So a checkpoint records the optimizer's kind (a
//! code), its state floats per parameter and the exact bits of every hyperparameter,
//! and a restore refuses a checkpoint whose identity differs in any of them.

use microtrain::{Config, Hyper, Optimizer};

/// The most hyperparameter words an identity holds.
pub const MAX_HYPER: usize = 8;

/// An optimizer's identity: kind, state per parameter and hyperparameter bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OptimizerId {
    /// The kind: the optimizer's code in the core's registry (1 SGD, 2 Adagrad,
    /// 3 Adadelta, 4 RMSprop, 5 Adam, 6 AdamW, 7 RAdam).
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

/// An optimizer whose state can be checkpointed: it can say who it is. Every optimizer
/// of the core's registry ([`microtrain::optim::OPTIMIZERS`]) is one, and so is
/// [`AnyOptimizer`](microtrain::AnyOptimizer), with the same identity as the concrete
/// optimizer inside (a checkpoint saved by a firmware with `Adam` restores into a host
/// tool with `AnyOptimizer::Adam`).
pub trait CheckpointOptimizer: Optimizer {
    /// This optimizer's identity (kind, state per parameter, hyperparameter bits).
    fn id(&self) -> OptimizerId;
}

/// The identity from the registry: the optimizer's code, then each hyperparameter in
/// the order of its config struct's fields, an `f32` as its bits and a switch as 0 or 1.
impl<O: Optimizer + Config> CheckpointOptimizer for O {
    fn id(&self) -> OptimizerId {
        let mut words = [0u32; MAX_HYPER];
        let mut n = 0;
        for (i, w) in words.iter_mut().enumerate() {
            match self.hyperparameter(i) {
                Some(Hyper::Number(v)) => *w = v.to_bits(),
                Some(Hyper::Switch(b)) => *w = u32::from(b),
                None => break,
            }
            n = i + 1;
        }
        OptimizerId::new(self.code(), self.state_per_param(), words.get(..n).unwrap_or(&[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain::optim::OPTIMIZERS;
    use microtrain::{Adagrad, Adam, AnyOptimizer, Sgd};

    /// The identity a checkpoint stores, word for word (a change here would refuse
    /// every checkpoint already in the field).
    #[test]
    fn identities_are_the_stored_words() {
        let adam = Adam {
            amsgrad: true,
            ..Adam::new(0.01)
        };
        let words = [
            0.01f32.to_bits(),
            0.9f32.to_bits(),
            0.999f32.to_bits(),
            1e-8f32.to_bits(),
            0,
            1,
            0,
            0,
        ];
        assert_eq!(
            adam.id(),
            OptimizerId {
                code: 5,
                state_per_param: 3,
                hyper_len: 6,
                hyper: words
            }
        );
        let sgd = Sgd::nesterov(0.1, 0.9);
        let words = [0.1f32.to_bits(), 0.9f32.to_bits(), 0, 1, 0, 0, 0, 0];
        assert_eq!(
            sgd.id(),
            OptimizerId {
                code: 1,
                state_per_param: 1,
                hyper_len: 5,
                hyper: words
            }
        );
        let ada = Adagrad::new(0.5);
        assert_eq!((ada.id().code, ada.id().hyper_len), (2, 5));
        assert_eq!(ada.id().hyper[4], 1e-10f32.to_bits());
    }

    /// `AnyOptimizer` says the same as the optimizer inside it, for every optimizer.
    #[test]
    fn any_optimizer_has_the_inner_identity() {
        assert_eq!(AnyOptimizer::from(Adam::new(0.01)).id(), Adam::new(0.01).id());
        for (i, r) in OPTIMIZERS.iter().enumerate() {
            let id = (r.default)().id();
            assert_eq!(id.code, r.code);
            assert!(OPTIMIZERS.iter().skip(i + 1).all(|o| o.code != r.code));
        }
    }
}
