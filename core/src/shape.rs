//! A model's shape and the exact memory it needs, as `const fn`s.
//!
//! A model is a list of fully connected layers, [`Dense`]. Its flat parameter vector
//! holds, layer after layer, the weight matrix (`outputs x inputs`, row-major, one row
//! per output neuron, as `torch.nn.Linear`) followed by the bias (`outputs`).
//!
//! The functions here give the number of `f32` each buffer needs, so a firmware can
//! size `static` storage at compile time:
//!
//! | buffer | floats |
//! |---|---|
//! | parameters | [`params_len`] = `sum(outputs * inputs + outputs)` |
//! | gradients | [`params_len`] (same layout) |
//! | optimizer state | [`params_len`] x the optimizer's `state_per_param` |
//! | activations | [`activations_len`] = `2 sum(outputs)`: one sample's outputs and error terms, whatever the batch size |

use crate::error::ConfigError;
use crate::Activation;

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
}

impl Dense {
    /// A layer with `inputs` inputs, `outputs` outputs and the given activation.
    pub const fn new(inputs: usize, outputs: usize, activation: Activation) -> Self {
        Dense {
            inputs,
            outputs,
            activation,
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

/// Number of parameters (and of gradients) of a model: `sum(outputs * (inputs + 1))`.
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
    let p = params_len(layers);
    let floats = p
        .saturating_mul(2usize.saturating_add(state_per_param))
        .saturating_add(activations_len(layers));
    floats.saturating_mul(core::mem::size_of::<f32>())
}

/// Bytes of the training RAM of a model trained online only (one sample per step, see
/// [`OnlineStorage`](crate::OnlineStorage)): [`training_bytes`] without the gradient.
pub const fn online_training_bytes(layers: &[Dense], state_per_param: usize) -> usize {
    training_bytes(layers, state_per_param).saturating_sub(params_len(layers).saturating_mul(4))
}

/// Checks that consecutive layers fit together and that none is empty.
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
