//! A model's shape and the exact memory it needs, as `const fn`s.
//!
//! A model is a list of layers, each a [`Dense`] value (also named [`Layer`]: the
//! struct describes every kind of layer, its name predates the others) whose
//! [`kind`](Dense::kind) says what it computes ([`Kind`]): fully connected (the
//! default, [`Dense::new`]), a 1-d convolution ([`Dense::conv1d`]), max or average
//! pooling ([`Dense::max_pool1d`], [`Dense::avg_pool1d`]), a flatten
//! ([`Dense::flatten`]) or a global average pool ([`Dense::global_avg_pool1d`]). Every
//! layer has flat `inputs` and `outputs` (a sequence of `C` channels of length `L` is
//! `C * L` values, channel-major `[C][L]` as PyTorch's `[N, C, L]` for one sample), so
//! the layers chain, and the buffers are sized, by the same `inputs` and `outputs`
//! whatever their kinds.
//!
//! The flat parameter vector holds, layer after layer, the weights then the bias:
//! a dense layer's weight matrix (`outputs x inputs`, row-major, one row per output
//! neuron, as `torch.nn.Linear`) and bias (`outputs`); a convolution's weights
//! `[out_channels][in_channels][kernel]` and bias `[out_channels]` (as
//! `torch.nn.Conv1d`); pooling, flatten and global average pooling have none.
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

/// A 1-d convolution's padding (`torch.nn.Conv1d`'s `padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// No padding (`padding=0`, PyTorch's `'valid'`): `L_out = (L - k) / s + 1`
    /// (rounded down).
    None,
    /// Zeros so that `L_out = L` (`padding='same'`, stride 1 only, as PyTorch): `k - 1`
    /// zeros in all, `(k - 1) / 2` (rounded down) on the left and the rest on the right.
    Same,
}

/// What a layer computes. Sizes are `u8` (1 to 254, clamped by the constructors) to
/// keep a [`Dense`] small (20 bytes on a 32-bit target); [`validate`] checks them against `inputs` and `outputs`.
/// For a sequence input of `C` channels and length `L`, `inputs = C * L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// Fully connected: `y = act(W x + b)`, `W` of `outputs x inputs`.
    Dense,
    /// `torch.nn.Conv1d(in_channels, out_channels, kernel, stride, padding)`:
    /// `z[o][t] = b[o] + sum_i sum_j W[o][i][j] x[i][t s + j - p]` (`x` zero outside
    /// `0 .. L`, `p` the left padding), then the activation.
    Conv1d {
        /// Input channels `C_in` (`inputs = C_in * L`).
        in_channels: u8,
        /// Output channels `C_out` (`outputs = C_out * L_out`).
        out_channels: u8,
        /// Kernel size `k >= 1`.
        kernel: u8,
        /// Stride `s >= 1`.
        stride: u8,
        /// Padding.
        padding: Padding,
    },
    /// `torch.nn.MaxPool1d(kernel, stride)` per channel: `y[c][t] = max_j x[c][t s + j]`,
    /// `L_out = (L - k) / s + 1`. The gradient goes to the first maximum of each
    /// window (as PyTorch).
    MaxPool1d {
        /// Channels `C` (`inputs = C * L`, `outputs = C * L_out`).
        channels: u8,
        /// Window `k >= 1`.
        kernel: u8,
        /// Stride `s >= 1` (PyTorch's default: `k`).
        stride: u8,
    },
    /// `torch.nn.AvgPool1d(kernel, stride)` per channel: `y[c][t] = (1/k) sum_j
    /// x[c][t s + j]`, `L_out = (L - k) / s + 1`.
    AvgPool1d {
        /// Channels `C`.
        channels: u8,
        /// Window `k >= 1`.
        kernel: u8,
        /// Stride `s >= 1` (PyTorch's default: `k`).
        stride: u8,
    },
    /// `torch.nn.Flatten()`: `[C][L]` to `C * L` values, the same values in the same
    /// order (the layout is already flat): `outputs = inputs`.
    Flatten,
    /// Global average pooling (`x.mean(dim=-1)`, or `nn.AdaptiveAvgPool1d(1)` then
    /// flatten): `y[c] = (1/L) sum_t x[c][t]`, `outputs = C`.
    GlobalAvgPool1d {
        /// Channels `C` (`inputs = C * L`).
        channels: u8,
    },
}

impl Kind {
    /// The kind's code and its five size bytes, as the model file (version 3) and a
    /// checkpoint (format version 2) store a layer's kind:
    ///
    /// | code | kind | sizes |
    /// |---:|---|---|
    /// | 0 | dense | `[0, 0, 0, 0, 0]` |
    /// | 1 | conv1d | `[in_channels, out_channels, kernel, stride, padding]` (0 none, 1 same) |
    /// | 2 | max_pool1d | `[channels, kernel, stride, 0, 0]` |
    /// | 3 | avg_pool1d | `[channels, kernel, stride, 0, 0]` |
    /// | 4 | flatten | `[0, 0, 0, 0, 0]` |
    /// | 5 | global_avg_pool1d | `[channels, 0, 0, 0, 0]` |
    pub const fn code(self) -> (u8, [u8; 5]) {
        match self {
            Kind::Dense => (0, [0; 5]),
            Kind::Conv1d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
            } => (
                1,
                [
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    matches!(padding, Padding::Same) as u8,
                ],
            ),
            Kind::MaxPool1d {
                channels,
                kernel,
                stride,
            } => (2, [channels, kernel, stride, 0, 0]),
            Kind::AvgPool1d {
                channels,
                kernel,
                stride,
            } => (3, [channels, kernel, stride, 0, 0]),
            Kind::Flatten => (4, [0; 5]),
            Kind::GlobalAvgPool1d { channels } => (5, [channels, 0, 0, 0, 0]),
        }
    }

    /// The kind of a [`code`](Self::code) and its size bytes: `None` for an unknown
    /// code, a padding byte other than 0 or 1, or a size byte the kind does not use
    /// that is not 0 (so that `from_code(k.code())` is `Some(k)` and nothing else
    /// decodes).
    pub const fn from_code(code: u8, sizes: [u8; 5]) -> Option<Kind> {
        let [a, b, c, d, e] = sizes;
        let kind = match code {
            0 => Kind::Dense,
            1 => Kind::Conv1d {
                in_channels: a,
                out_channels: b,
                kernel: c,
                stride: d,
                padding: match e {
                    0 => Padding::None,
                    1 => Padding::Same,
                    _ => return None,
                },
            },
            2 => Kind::MaxPool1d {
                channels: a,
                kernel: b,
                stride: c,
            },
            3 => Kind::AvgPool1d {
                channels: a,
                kernel: b,
                stride: c,
            },
            4 => Kind::Flatten,
            5 => Kind::GlobalAvgPool1d { channels: a },
            _ => return None,
        };
        // The bytes the kind does not use must be 0 (what `code` writes).
        match kind.code() {
            (_, [a2, b2, c2, d2, e2]) if a2 == a && b2 == b && c2 == c && d2 == d && e2 == e => Some(kind),
            _ => None,
        }
    }

    /// The name of a kind [`code`](Self::code) as the model files spell it (`dense`,
    /// `conv1d`, `max_pool1d`, `avg_pool1d`, `flatten`, `global_avg_pool1d`), `unknown`
    /// for another code.
    pub const fn code_name(code: u32) -> &'static str {
        match code {
            0 => "dense",
            1 => "conv1d",
            2 => "max_pool1d",
            3 => "avg_pool1d",
            4 => "flatten",
            5 => "global_avg_pool1d",
            _ => "unknown",
        }
    }
}

/// One layer of any [`Kind`]: a fully connected layer `y = act(W x + b)` by default.
/// (The name predates the other kinds; [`Layer`] names the same type.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dense {
    /// Number of inputs (columns of `W` for a dense layer; `C_in * L` for a sequence).
    pub inputs: usize,
    /// Number of outputs (rows of `W`, length of `b` for a dense layer; `C_out * L_out`
    /// for a sequence).
    pub outputs: usize,
    /// Activation applied to the layer's result (identity for pooling and flatten).
    pub activation: Activation,
    /// Which parameters train.
    pub train: Trainability,
    /// What the layer computes.
    pub kind: Kind,
}

/// A layer of any kind (the same type as [`Dense`]).
pub type Layer = Dense;

/// `v` as a `u8`, clamped ([`validate`] refuses what does not fit).
const fn clamp8(v: usize) -> u8 {
    if v > u8::MAX as usize {
        u8::MAX
    } else {
        v as u8
    }
}

/// `(len - k) / s + 1` when `len >= k >= 1` and `s >= 1`, else 0 (an empty layer,
/// which [`validate`] names).
const fn window_outputs(len: usize, k: usize, s: usize) -> usize {
    if k == 0 || s == 0 || len < k {
        0
    } else {
        (len - k) / s + 1
    }
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
            kind: Kind::Dense,
        }
    }

    /// `torch.nn.Conv1d(in_channels, out_channels, kernel, stride, padding)` on an
    /// input of `length` per channel, then `activation`: `inputs = in_channels *
    /// length`, `outputs = out_channels * L_out` (see [`Padding`]).
    pub const fn conv1d(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        length: usize,
        activation: Activation,
    ) -> Self {
        let out_len = match padding {
            Padding::None => window_outputs(length, kernel, stride),
            Padding::Same => length,
        };
        Dense {
            inputs: in_channels.saturating_mul(length),
            outputs: out_channels.saturating_mul(out_len),
            activation,
            train: Trainability::Trainable,
            kind: Kind::Conv1d {
                in_channels: clamp8(in_channels),
                out_channels: clamp8(out_channels),
                kernel: clamp8(kernel),
                stride: clamp8(stride),
                padding,
            },
        }
    }

    /// `torch.nn.MaxPool1d(kernel, stride)` over `channels` channels of `length`.
    pub const fn max_pool1d(channels: usize, length: usize, kernel: usize, stride: usize) -> Self {
        Self::pool(channels, length, kernel, stride, true)
    }

    /// `torch.nn.AvgPool1d(kernel, stride)` over `channels` channels of `length`.
    pub const fn avg_pool1d(channels: usize, length: usize, kernel: usize, stride: usize) -> Self {
        Self::pool(channels, length, kernel, stride, false)
    }

    const fn pool(channels: usize, length: usize, kernel: usize, stride: usize, max: bool) -> Self {
        let (c, k, s) = (clamp8(channels), clamp8(kernel), clamp8(stride));
        Dense {
            inputs: channels.saturating_mul(length),
            outputs: channels.saturating_mul(window_outputs(length, kernel, stride)),
            activation: Activation::Identity,
            train: Trainability::Trainable,
            kind: if max {
                Kind::MaxPool1d {
                    channels: c,
                    kernel: k,
                    stride: s,
                }
            } else {
                Kind::AvgPool1d {
                    channels: c,
                    kernel: k,
                    stride: s,
                }
            },
        }
    }

    /// `torch.nn.Flatten()` of `values` values (nothing moves).
    pub const fn flatten(values: usize) -> Self {
        Dense {
            inputs: values,
            outputs: values,
            activation: Activation::Identity,
            train: Trainability::Trainable,
            kind: Kind::Flatten,
        }
    }

    /// The mean over the length of each of `channels` channels of `length`.
    pub const fn global_avg_pool1d(channels: usize, length: usize) -> Self {
        Dense {
            inputs: channels.saturating_mul(length),
            outputs: channels,
            activation: Activation::Identity,
            train: Trainability::Trainable,
            kind: Kind::GlobalAvgPool1d {
                channels: clamp8(channels),
            },
        }
    }

    /// Whether the layer is fully connected.
    pub const fn is_dense(&self) -> bool {
        matches!(self.kind, Kind::Dense)
    }

    /// The `fan_in` of PyTorch's default initialisation (`U(+-1/sqrt(fan_in))` for
    /// weights and bias): `inputs` for a dense layer, `in_channels * kernel` for a
    /// convolution, `inputs` for the others (which have no parameters).
    pub const fn fan_in(&self) -> usize {
        match self.kind {
            Kind::Conv1d {
                in_channels, kernel, ..
            } => (in_channels as usize).saturating_mul(kernel as usize),
            _ => self.inputs,
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
            Trainability::BiasOnly => self.bias_len(),
            Trainability::Frozen => 0,
        }
    }

    /// Number of weights: `outputs * inputs` for a dense layer, `out_channels *
    /// in_channels * kernel` for a convolution, 0 for the others (wrapping on overflow,
    /// which [`validate`] rejects: a trainer only ever sees shapes whose sizes fit).
    pub const fn weights_len(&self) -> usize {
        match self.kind {
            Kind::Dense => self.outputs.wrapping_mul(self.inputs),
            Kind::Conv1d {
                in_channels,
                out_channels,
                kernel,
                ..
            } => (out_channels as usize)
                .wrapping_mul(in_channels as usize)
                .wrapping_mul(kernel as usize),
            _ => 0,
        }
    }

    /// Number of biases: `outputs` for a dense layer, `out_channels` for a
    /// convolution, 0 for the others.
    pub const fn bias_len(&self) -> usize {
        match self.kind {
            Kind::Dense => self.outputs,
            Kind::Conv1d { out_channels, .. } => out_channels as usize,
            _ => 0,
        }
    }

    /// Number of parameters, weights and biases (`outputs * inputs + outputs` for a
    /// dense layer).
    pub const fn params_len(&self) -> usize {
        self.weights_len().saturating_add(self.bias_len())
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

/// Whether any layer is not fully connected (then the trainer takes the passes of
/// [`crate::layers::kinds`], see [`Plan`](crate::trainer::Plan)).
pub const fn has_non_dense(layers: &[Dense]) -> bool {
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        if !first.is_dense() {
            return true;
        }
        rest = tail;
    }
    false
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
        // The kind first: a kernel longer than its input makes an empty layer, and the
        // kind's reason is the better message.
        check_kind(l).map_err(|problem| ConfigError::LayerKind { layer: i, problem })?;
        if l.inputs == 0 || l.outputs == 0 {
            return Err(ConfigError::EmptyLayer { layer: i });
        }
        l.activation
            .check()
            .map_err(|error| ConfigError::ActivationParameter { layer: i, error })?;
        let weights = match l.kind {
            Kind::Dense => l.outputs.checked_mul(l.inputs),
            _ => Some(l.weights_len()),
        };
        total = weights
            .and_then(|w| w.checked_add(l.bias_len()))
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

/// Checks a layer's kind against its `inputs` and `outputs`: the sizes that make the
/// layer impossible, named.
fn check_kind(l: &Dense) -> Result<(), &'static str> {
    let per_channel = |c: u8| -> Result<usize, &'static str> {
        let c = usize::from(c);
        if c == 0 || c == usize::from(u8::MAX) {
            return Err("channels must be 1 to 254");
        }
        if l.inputs % c != 0 {
            return Err("inputs are not channels x length");
        }
        Ok(l.inputs / c)
    };
    let window = |len: usize, k: u8, s: u8| -> Result<usize, &'static str> {
        if k == 0 || s == 0 || k == u8::MAX || s == u8::MAX {
            return Err("kernel and stride must be 1 to 254");
        }
        if len < usize::from(k) {
            return Err("the kernel is longer than the (padded) input");
        }
        Ok(window_outputs(len, usize::from(k), usize::from(s)))
    };
    let want = match l.kind {
        Kind::Dense => return Ok(()),
        Kind::Conv1d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
        } => {
            let len = per_channel(in_channels)?;
            if out_channels == 0 || out_channels == u8::MAX {
                return Err("out_channels must be 1 to 254");
            }
            let out_len = match padding {
                Padding::None => window(len, kernel, stride)?,
                Padding::Same => {
                    if stride != 1 {
                        return Err("padding 'same' needs stride 1 (as PyTorch)");
                    }
                    // `k - 1` zeros in all: the padded input is never shorter than `k`.
                    window(
                        len.saturating_add(usize::from(kernel)).saturating_sub(1),
                        kernel,
                        1,
                    )?;
                    len
                }
            };
            usize::from(out_channels).checked_mul(out_len)
        }
        Kind::MaxPool1d {
            channels,
            kernel,
            stride,
        }
        | Kind::AvgPool1d {
            channels,
            kernel,
            stride,
        } => {
            let len = per_channel(channels)?;
            usize::from(channels).checked_mul(window(len, kernel, stride)?)
        }
        Kind::Flatten => Some(l.inputs),
        Kind::GlobalAvgPool1d { channels } => {
            per_channel(channels)?;
            Some(usize::from(channels))
        }
    };
    if want != Some(l.outputs) {
        return Err("outputs do not match the kind's sizes");
    }
    if !matches!(l.kind, Kind::Conv1d { .. }) && l.train == Trainability::BiasOnly {
        return Err("a layer without parameters cannot be bias-only");
    }
    Ok(())
}
