//! Error types, one small enum per kind of operation.
//!
//! Every fallible call of the core returns one of these. When a call returns an error,
//! the parameters and the optimizer state are bit-for-bit what they were before it.

/// A model, optimizer or buffer that cannot be put together (returned when a
/// [`Trainer`](crate::Trainer) is built).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigError {
    /// The model has no layers.
    NoLayers,
    /// Layer `layer` has zero inputs or zero outputs.
    EmptyLayer {
        /// Index of the layer (0 = first).
        layer: usize,
    },
    /// The model's sizes overflow the address space from layer `layer` on.
    TooLarge {
        /// Index of the layer.
        layer: usize,
    },
    /// Layer `layer` takes `inputs` values but the layer before it gives `expected`.
    LayerMismatch {
        /// Index of the layer whose input size is wrong.
        layer: usize,
        /// Outputs of the previous layer.
        expected: usize,
        /// Inputs declared by this layer.
        inputs: usize,
    },
    /// A buffer is smaller than the shape needs.
    BufferTooSmall {
        /// Which buffer.
        buffer: Buffer,
        /// Number of `f32` the shape needs.
        needed: usize,
        /// Number of `f32` provided.
        provided: usize,
    },
    /// The loss needs another activation on the last layer (binary cross-entropy needs
    /// `Sigmoid`, softmax cross-entropy needs `Identity` logits).
    LossActivation {
        /// The loss.
        loss: crate::Loss,
        /// The activation it found on the last layer.
        found: crate::Activation,
    },
    /// A hyperparameter is out of its range.
    Hyperparameter(HyperparameterError),
    /// Layer `layer`'s kind (convolution, pooling, ...) does not fit its sizes, or
    /// the trainer cannot take it (`problem` says which).
    LayerKind {
        /// Index of the layer.
        layer: usize,
        /// What is wrong, e.g. "the kernel is longer than the (padded) input".
        problem: &'static str,
    },
    /// Layer `layer`'s activation has a parameter out of its range (LeakyReLU's
    /// `negative_slope` or ELU's `alpha`; see [`Activation::check`](crate::Activation::check)).
    ActivationParameter {
        /// Index of the layer.
        layer: usize,
        /// The parameter, its value and its rule.
        error: HyperparameterError,
    },
    /// The whole model's parameters given for its frozen parts
    /// ([`Buffers::frozen`](crate::Buffers::frozen)) hold a value that is not finite, at
    /// `index`.
    NonFiniteFrozen {
        /// Index of the first value that is not finite.
        index: usize,
    },
    /// The fixed-point path ([`crate::fixed`]) does not support `what`.
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// The trainer's fixed [`Plan`](crate::trainer::Plan) does not fit its
    /// configuration (see [`PlanMismatch`](crate::trainer::PlanMismatch)).
    Plan(crate::trainer::PlanMismatch),
}

/// Which caller-owned buffer an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Buffer {
    /// The parameters (weights and biases).
    Params,
    /// The gradients.
    Grads,
    /// The optimizer state.
    State,
    /// The activation workspace.
    Activations,
    /// An output buffer given to a prediction.
    Output,
    /// An index buffer given to a shuffling sampler.
    Indices,
    /// The whole model's parameters, read for the frozen layers
    /// ([`Buffers::frozen`](crate::Buffers::frozen)).
    Frozen,
}

/// A hyperparameter outside its valid range, named as in PyTorch.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HyperparameterError {
    /// The hyperparameter's name (`"lr"`, `"beta1"`, ...).
    pub name: &'static str,
    /// The rejected value.
    pub value: f32,
    /// What the value must satisfy, e.g. `"0 <= beta1 < 1"`.
    pub rule: &'static str,
}

impl From<HyperparameterError> for ConfigError {
    fn from(e: HyperparameterError) -> Self {
        ConfigError::Hyperparameter(e)
    }
}

/// Why a training step or a prediction was rejected. Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StepError {
    /// The batch has no samples.
    EmptyBatch,
    /// Sample `sample` has `got` input values; the model takes `expected`.
    InputLength {
        /// Index of the sample in the batch.
        sample: usize,
        /// Inputs of the model.
        expected: usize,
        /// Values provided.
        got: usize,
    },
    /// Sample `sample` has `got` target values; the model has `expected` outputs.
    TargetLength {
        /// Index of the sample in the batch.
        sample: usize,
        /// Outputs of the model.
        expected: usize,
        /// Values provided.
        got: usize,
    },
    /// Input `index` of sample `sample` is NaN or infinite.
    NonFiniteInput {
        /// Index of the sample in the batch.
        sample: usize,
        /// Index of the value in the sample.
        index: usize,
    },
    /// Target `index` of sample `sample` is NaN, infinite, or outside what the loss
    /// accepts (binary cross-entropy: `0 <= y <= 1`; softmax cross-entropy: `y >= 0`).
    BadTarget {
        /// Index of the sample in the batch.
        sample: usize,
        /// Index of the value in the target.
        index: usize,
    },
    /// Sample `sample` has class label `label`, but the model has `classes` outputs.
    LabelOutOfRange {
        /// Index of the sample in the batch.
        sample: usize,
        /// The label.
        label: usize,
        /// Number of classes (outputs).
        classes: usize,
    },
    /// The batch's loss is not finite.
    NonFiniteLoss,
    /// A gradient is NaN, infinite, or so large (`|g| >= 2^61`, see
    /// [`GRADIENT_LIMIT`](crate::kernels::GRADIENT_LIMIT)) that training has diverged
    /// and the optimizer's own arithmetic could overflow.
    GradientOutOfRange {
        /// Index, in the flat parameter vector, of the first gradient out of range.
        index: usize,
    },
    /// Values given to replace a buffer ([`Trainer::load_params`](crate::Trainer::load_params),
    /// [`Trainer::restore`](crate::Trainer::restore)) have the wrong length.
    ReplacementLength {
        /// The buffer they were meant for ([`Buffer::Params`] or [`Buffer::State`]).
        buffer: Buffer,
        /// Floats the buffer holds.
        expected: usize,
        /// Floats given.
        got: usize,
    },
    /// Value `index` of those given to replace a buffer is NaN or infinite.
    NonFiniteReplacement {
        /// The buffer they were meant for ([`Buffer::Params`] or [`Buffer::State`]).
        buffer: Buffer,
        /// Index of the first non-finite value.
        index: usize,
    },
    /// A step on `batch` samples (or with gradient clipping on) needs a gradient
    /// buffer, and this trainer was built without one (online-only storage takes one
    /// sample per step).
    NeedsGradientBuffer {
        /// Samples in the batch.
        batch: usize,
    },
    /// The output buffer given to a prediction holds `provided` floats; the model has
    /// `needed` outputs.
    OutputTooSmall {
        /// Outputs of the model.
        needed: usize,
        /// Floats in the buffer.
        provided: usize,
    },
    /// The sample index `index` is past the end of the dataset (`len` rows).
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// Rows in the dataset.
        len: usize,
    },
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::NoLayers => write!(f, "the model has no layers"),
            ConfigError::EmptyLayer { layer } => {
                write!(f, "layer {layer} has zero inputs or outputs")
            }
            ConfigError::TooLarge { layer } => {
                write!(f, "layer {layer} makes the model too large to address")
            }
            ConfigError::LayerMismatch {
                layer,
                expected,
                inputs,
            } => write!(
                f,
                "layer {layer} takes {inputs} inputs but the layer before gives {expected}"
            ),
            ConfigError::BufferTooSmall {
                buffer,
                needed,
                provided,
            } => write!(
                f,
                "{buffer:?} buffer holds {provided} floats, the shape needs {needed}"
            ),
            ConfigError::LossActivation { loss, found } => {
                write!(f, "loss {loss:?} cannot follow a {found:?} output layer")
            }
            ConfigError::Hyperparameter(h) => write!(f, "{h}"),
            ConfigError::LayerKind { layer, problem } => write!(f, "layer {layer}: {problem}"),
            ConfigError::ActivationParameter { layer, error } => {
                write!(f, "layer {layer}'s activation: {error}")
            }
            ConfigError::Plan(m) => write!(f, "the trainer's plan does not fit: {m}"),
            ConfigError::Unsupported { what } => write!(f, "not supported on the fixed-point path: {what}"),
            ConfigError::NonFiniteFrozen { index } => {
                write!(
                    f,
                    "the model's frozen parameters hold a value that is not finite at index {index}"
                )
            }
        }
    }
}

impl core::fmt::Display for HyperparameterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} = {} is invalid: need {}", self.name, self.value, self.rule)
    }
}

impl core::fmt::Display for StepError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StepError::EmptyBatch => write!(f, "the batch is empty"),
            StepError::InputLength {
                sample,
                expected,
                got,
            } => {
                write!(f, "sample {sample}: {got} inputs, the model takes {expected}")
            }
            StepError::TargetLength {
                sample,
                expected,
                got,
            } => {
                write!(f, "sample {sample}: {got} targets, the model gives {expected}")
            }
            StepError::NonFiniteInput { sample, index } => {
                write!(f, "sample {sample}: input {index} is not finite")
            }
            StepError::BadTarget { sample, index } => write!(
                f,
                "sample {sample}: target {index} is not finite or out of the loss's range"
            ),
            StepError::LabelOutOfRange {
                sample,
                label,
                classes,
            } => write!(f, "sample {sample}: label {label} is out of range (0..{classes})"),
            StepError::NonFiniteLoss => write!(f, "the loss is not finite"),
            StepError::GradientOutOfRange { index } => {
                write!(f, "gradient {index} is not finite or beyond 2^61 (diverged)")
            }
            StepError::ReplacementLength {
                buffer,
                expected,
                got,
            } => write!(
                f,
                "{got} values given for the {buffer:?} buffer, which holds {expected}"
            ),
            StepError::NonFiniteReplacement { buffer, index } => {
                write!(f, "value {index} given for the {buffer:?} buffer is not finite")
            }
            StepError::NeedsGradientBuffer { batch } => write!(
                f,
                "a step on {batch} samples or with clipping needs a gradient buffer (online-only storage)"
            ),
            StepError::OutputTooSmall { needed, provided } => {
                write!(
                    f,
                    "output buffer holds {provided} floats, the model has {needed} outputs"
                )
            }
            StepError::IndexOutOfRange { index, len } => {
                write!(f, "row {index} is past the end of the dataset ({len} rows)")
            }
        }
    }
}

impl core::error::Error for ConfigError {}
impl core::error::Error for StepError {}
impl core::error::Error for HyperparameterError {}
