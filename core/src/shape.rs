//! A model's shape and the exact memory it needs, as `const fn`s.
//!
//! A model is a list of fully connected layers, [`Dense`]. Its flat parameter vector
//! holds, layer after layer, the weight matrix (`outputs x inputs`, row-major, one row
//! per output neuron, as `torch.nn.Linear`) followed by the bias (`outputs`).
//!
//! A layer is [`Trainable`](Trainability::Trainable) (the default),
//! [`Frozen`](Trainability::Frozen) (its weights and bias never change) or
//! [`BiasOnly`](Trainability::BiasOnly) (only its bias trains, as TinyTL). The parameters
//! that train live in RAM, with their gradients and optimizer state; the frozen ones
//! are read from the model's whole parameter vector, which may stay in flash (see
//! [`Buffers::frozen`](crate::Buffers::frozen)).
//!
//! The functions here give the number of `f32` each buffer needs, so a firmware can
//! size `static` storage at compile time:
//!
//! | buffer | floats |
//! |---|---|
//! | parameters (RAM) | [`trainable_params_len`]: every layer's `outputs * inputs + outputs`, a bias-only layer's `outputs`, a frozen layer's nothing; with no frozen part, [`params_len`] |
//! | gradients | [`trainable_params_len`] (same layout) |
//! | optimizer state | [`trainable_params_len`] x the optimizer's `state_per_param` |
//! | activations | [`activations_len`] = `2 sum(outputs)`: one sample's outputs and error terms, whatever the batch size |
//! | the whole model (flash, when a part is frozen) | [`params_len`] = `sum(outputs * inputs + outputs)` |

use crate::error::ConfigError;
use crate::Activation;

/// Which of a layer's parameters train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Trainability {
    /// Weights and bias train (the default).
    #[default]
    Trainable,
    /// Nothing trains: no gradient, no optimizer state, and no error term is
    /// propagated below the lowest layer that trains (as `requires_grad_(False)` on
    /// both of PyTorch's parameters).
    Frozen,
    /// Only the bias trains; the weights stay as they are (TinyTL's bias-only
    /// fine-tuning).
    BiasOnly,
}

impl Trainability {
    /// The number files store for it (checkpoints): 0 trainable, 1 frozen, 2 bias only.
    pub const fn code(self) -> u8 {
        match self {
            Trainability::Trainable => 0,
            Trainability::Frozen => 1,
            Trainability::BiasOnly => 2,
        }
    }

    /// The trainability with [`code`](Self::code) `code`, if any.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Trainability::Trainable),
            1 => Some(Trainability::Frozen),
            2 => Some(Trainability::BiasOnly),
            _ => None,
        }
    }

    /// Its name: `trainable`, `frozen`, `bias-only`.
    pub const fn name(self) -> &'static str {
        match self {
            Trainability::Trainable => "trainable",
            Trainability::Frozen => "frozen",
            Trainability::BiasOnly => "bias-only",
        }
    }
}

/// One fully connected layer, `y = act(W x + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dense {
    /// Number of inputs (columns of `W`).
    pub inputs: usize,
    /// Number of outputs (rows of `W`, length of `b`).
    pub outputs: usize,
    /// Activation applied to `W x + b`.
    pub activation: Activation,
    /// Which parameters train.
    pub train: Trainability,
}

impl Dense {
    /// A trainable layer with `inputs` inputs, `outputs` outputs and the given
    /// activation.
    pub const fn new(inputs: usize, outputs: usize, activation: Activation) -> Self {
        Dense {
            inputs,
            outputs,
            activation,
            train: Trainability::Trainable,
        }
    }

    /// The same layer, frozen (see [`Trainability::Frozen`]).
    pub const fn frozen(self) -> Self {
        self.trained(Trainability::Frozen)
    }

    /// The same layer with only its bias trained (see [`Trainability::BiasOnly`]).
    pub const fn bias_only(self) -> Self {
        self.trained(Trainability::BiasOnly)
    }

    /// The same layer with `train` as its trainability.
    pub const fn trained(self, train: Trainability) -> Self {
        Dense { train, ..self }
    }

    /// Number of parameters that train: all of them, the bias, or none.
    pub const fn trainable_params_len(&self) -> usize {
        match self.train {
            Trainability::Trainable => self.params_len(),
            Trainability::BiasOnly => self.outputs,
            Trainability::Frozen => 0,
        }
    }

    /// Number of weights, `outputs * inputs` (wrapping on overflow, which
    /// [`validate`] rejects: a trainer only ever sees shapes whose sizes fit).
    pub const fn weights_len(&self) -> usize {
        self.outputs.wrapping_mul(self.inputs)
    }

    /// Number of parameters, `outputs * inputs + outputs`.
    pub const fn params_len(&self) -> usize {
        self.weights_len().saturating_add(self.outputs)
    }
}

/// Number of parameters that train (and of gradients): see
/// [`Dense::trainable_params_len`]; [`params_len`] when no part is frozen.
pub const fn trainable_params_len(layers: &[Dense]) -> usize {
    let mut n = 0usize;
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        n = n.saturating_add(first.trainable_params_len());
        rest = tail;
    }
    n
}

/// Whether any parameter of the model is frozen (a frozen or bias-only layer).
pub const fn has_frozen(layers: &[Dense]) -> bool {
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        if !matches!(first.train, Trainability::Trainable) {
            return true;
        }
        rest = tail;
    }
    false
}

/// Number of parameters of a model: `sum(outputs * (inputs + 1))`.
pub const fn params_len(layers: &[Dense]) -> usize {
    let mut n = 0usize;
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        n = n.saturating_add(first.params_len());
        rest = tail;
    }
    n
}

/// Number of activation floats for one sample: `2 * sum(outputs)`.
///
/// The forward pass keeps each layer's output `a_l`; the backward pass puts each
/// layer's error term `delta_l` beside it. One sample whatever the batch size, since a
/// batch is accumulated one sample at a time.
pub const fn activations_len(layers: &[Dense]) -> usize {
    all_layer_outputs(layers).saturating_mul(2)
}

/// Sum of the layers' outputs: the floats of one sample's activations (and as many of
/// its error terms).
pub const fn all_layer_outputs(layers: &[Dense]) -> usize {
    let mut n = 0usize;
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        n = n.saturating_add(first.outputs);
        rest = tail;
    }
    n
}

/// Number of inputs of the model (of its first layer), 0 for an empty model.
pub const fn inputs(layers: &[Dense]) -> usize {
    match layers {
        [first, ..] => first.inputs,
        [] => 0,
    }
}

/// Number of outputs of the model (of its last layer), 0 for an empty model.
pub const fn outputs(layers: &[Dense]) -> usize {
    match layers {
        [.., last] => last.outputs,
        [] => 0,
    }
}

/// Whether any layer has a sigmoid or tanh activation, or any other than ReLU and
/// identity: the passes then need the general code (see
/// [`Plan`](crate::trainer::Plan)).
pub const fn has_sigmoid_or_tanh(layers: &[Dense]) -> bool {
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        if !matches!(first.activation, Activation::Relu | Activation::Identity) {
            return true;
        }
        rest = tail;
    }
    false
}

/// Bytes of the training RAM of a model: parameters, gradients, optimizer state and
/// activations, all `f32`.
pub const fn training_bytes(layers: &[Dense], state_per_param: usize) -> usize {
    let p = trainable_params_len(layers);
    let floats = p
        .saturating_mul(2usize.saturating_add(state_per_param))
        .saturating_add(activations_len(layers));
    floats.saturating_mul(core::mem::size_of::<f32>())
}

/// Bytes of the training RAM of a model trained online only (one sample per step, see
/// [`OnlineStorage`](crate::OnlineStorage)): [`training_bytes`] without the gradient.
pub const fn online_training_bytes(layers: &[Dense], state_per_param: usize) -> usize {
    training_bytes(layers, state_per_param).saturating_sub(trainable_params_len(layers).saturating_mul(4))
}

/// Checks that consecutive layers fit together, that none is empty and that every
/// activation's parameter is in its range ([`Activation::check`]).
pub fn validate(layers: &[Dense]) -> Result<(), ConfigError> {
    if layers.is_empty() {
        return Err(ConfigError::NoLayers);
    }
    let mut prev: Option<usize> = None;
    let mut total = 0usize;
    for (i, l) in layers.iter().enumerate() {
        if l.inputs == 0 || l.outputs == 0 {
            return Err(ConfigError::EmptyLayer { layer: i });
        }
        l.activation
            .check()
            .map_err(|error| ConfigError::ActivationParameter { layer: i, error })?;
        total = l
            .outputs
            .checked_mul(l.inputs)
            .and_then(|w| w.checked_add(l.outputs))
            .and_then(|n| n.checked_add(total))
            .and_then(|n| n.checked_mul(16)) // room for 4 buffers of 4-byte floats
            .map(|n| n / 16)
            .ok_or(ConfigError::TooLarge { layer: i })?;
        if let Some(p) = prev {
            if p != l.inputs {
                return Err(ConfigError::LayerMismatch {
                    layer: i,
                    expected: p,
                    inputs: l.inputs,
                });
            }
        }
        prev = Some(l.outputs);
    }
    Ok(())
}
