//! Loss functions, mean-reduced as PyTorch's defaults.
//!
//! Each loss gives, for one sample of a batch of `B`, its share of the batch loss and
//! the error term `dL/dz` of the last layer's pre-activations `z`, already divided by
//! `B`, so summing over the batch gives the gradient of the batch mean.
//!
//! - [`mse`]: `nn.MSELoss`, any last activation.
//! - [`binary_cross_entropy`]: `nn.BCELoss` on a sigmoid output layer (logistic
//!   regression with one output, one sigmoid per class with `K`).
//! - [`softmax_cross_entropy`]: `nn.CrossEntropyLoss` on identity (logit) outputs with
//!   one-hot or probability targets.

pub mod binary_cross_entropy;
pub mod mse;
pub mod softmax_cross_entropy;

use crate::error::StepError;
use crate::Activation;

/// Which loss a model is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Loss {
    /// Mean squared error, see [`mse`].
    Mse,
    /// Binary cross-entropy on sigmoid outputs, see [`binary_cross_entropy`].
    BinaryCrossEntropy,
    /// Softmax cross-entropy on logits, see [`softmax_cross_entropy`].
    SoftmaxCrossEntropy,
}

/// The target of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Target<'a> {
    /// One value per output (one-hot rows for classification).
    Values(&'a [f32]),
    /// A class label: the same as a one-hot row with a 1 at this index.
    Class(usize),
}

impl Target<'_> {
    /// The target's value for output `k` of `outputs`.
    #[inline]
    pub fn value(&self, k: usize) -> f32 {
        match self {
            Target::Values(v) => v.get(k).copied().unwrap_or(0.0),
            Target::Class(c) => {
                if *c == k {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

impl Loss {
    /// Every loss, in declaration order.
    pub const ALL: [Loss; 3] = [Loss::Mse, Loss::BinaryCrossEntropy, Loss::SoftmaxCrossEntropy];

    /// The loss's name as the conformance format and the CLI spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::BinaryCrossEntropy => "binary_cross_entropy",
            Loss::SoftmaxCrossEntropy => "softmax_cross_entropy",
        }
    }

    /// Parses a name written as by [`Loss::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The loss's code in checkpoints (never reused).
    pub const fn code(self) -> u8 {
        match self {
            Loss::Mse => 0,
            Loss::BinaryCrossEntropy => 1,
            Loss::SoftmaxCrossEntropy => 2,
        }
    }

    /// The loss with [`code`](Loss::code) `code`, if any.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Loss::Mse),
            1 => Some(Loss::BinaryCrossEntropy),
            2 => Some(Loss::SoftmaxCrossEntropy),
            _ => None,
        }
    }

    /// The last-layer activation this loss requires, if any.
    pub const fn required_activation(self) -> Option<Activation> {
        match self {
            Loss::Mse => None,
            Loss::BinaryCrossEntropy => Some(Activation::Sigmoid),
            Loss::SoftmaxCrossEntropy => Some(Activation::Identity),
        }
    }

    /// Checks one sample's target: its length (or label) against the `outputs` of the
    /// model, and every value against what the loss accepts.
    pub fn check_target(self, target: &Target<'_>, outputs: usize, sample: usize) -> Result<(), StepError> {
        match target {
            Target::Class(label) => {
                if *label >= outputs {
                    return Err(StepError::LabelOutOfRange {
                        sample,
                        label: *label,
                        classes: outputs,
                    });
                }
            }
            Target::Values(v) => {
                if v.len() != outputs {
                    return Err(StepError::TargetLength {
                        sample,
                        expected: outputs,
                        got: v.len(),
                    });
                }
                let ok = |y: f32| match self {
                    Loss::Mse => y.is_finite(),
                    Loss::BinaryCrossEntropy => (0.0..=1.0).contains(&y),
                    Loss::SoftmaxCrossEntropy => y.is_finite() && y >= 0.0,
                };
                if let Some(index) = v.iter().position(|y| !ok(*y)) {
                    return Err(StepError::BadTarget { sample, index });
                }
            }
        }
        Ok(())
    }

    /// For one sample: replaces the model's output `out` (last activation `act`) by
    /// `dL/dz` scaled by `inv_batch = 1/B`, and returns the sample's loss (the batch loss
    /// is the mean of these over the batch).
    #[inline]
    pub fn loss_and_delta(
        self,
        act: Activation,
        out: &mut [f32],
        target: &Target<'_>,
        inv_batch: f32,
    ) -> f32 {
        match self {
            Loss::Mse => mse::loss_and_delta(act, out, target, inv_batch),
            Loss::BinaryCrossEntropy => binary_cross_entropy::loss_and_delta(out, target, inv_batch),
            Loss::SoftmaxCrossEntropy => softmax_cross_entropy::loss_and_delta(out, target, inv_batch),
        }
    }

    /// The loss of one sample from the model's output `out`, without a gradient.
    pub fn value(self, out: &[f32], target: &Target<'_>) -> f32 {
        match self {
            Loss::Mse => mse::value(out, target),
            Loss::BinaryCrossEntropy => binary_cross_entropy::value(out, target),
            Loss::SoftmaxCrossEntropy => softmax_cross_entropy::value(out, target),
        }
    }
}
