//! Training in integers, for chips without a floating-point unit (Cortex-M0/M0+).
//!
//! On a Cortex-M0 every `f32` operation is a library call: a float training step of the
//! Iris 4-8-3 model costs about 47,000 instructions with SGD and 126,000 with Adam.
//! [`FixedTrainer`] trains the same models, with the same shapes ([`Dense`]), losses
//! ([`Loss`]), targets ([`Target`]), optimizer configurations ([`Sgd`](crate::Sgd),
//! [`Adam`](crate::Adam)) and errors as [`Trainer`](crate::Trainer), in 32-bit integers
//! with 64-bit products (measured figures: `firmware/qemu/bench/run-m0`).
//!
//! ## The number formats (chosen by measurement)
//!
//! | quantity | format | range | unit |
//! |---|---|---|---|
//! | parameters, inputs, activations, error terms `delta` | Q16.16 in `i32` | `+-2048` ([`VALUE_MAX`]) | `2^-16` |
//! | gradients `delta_i x_j`, momentum buffers, Adam's first moment | Q8.24 in `i32` | `+-128` | `2^-24` |
//! | Adam's second moment | Q4.28 in `u32` | `[0, 16)` | `2^-28` |
//! | learning rates, betas, momentum | Q8.24 | | `2^-24` |
//!
//! Why: Q16.16 keeps the weights' resolution (`1.5e-5`) fine enough for SGD updates of
//! `1e-4` at a learning rate of `0.01`, where Q8.8 (`tinymind`'s small format) loses
//! them; Q15 with per-tensor scales would need a scale search per layer and step. A
//! product of two Q16.16 values is formed exactly in `i64` ([`math::mul_wide`]; on
//! the M0, which has no `SMULL`, four 16-bit `MULS`: about 20 instructions instead of
//! the library's 64-bit multiply) and a dot product is summed exactly in `i64` and
//! rounded once. Gradients get 8 more fractional bits because they are small.
//!
//! ## Overflow is impossible or detected
//!
//! - Every stored value is saturated to `+-VALUE_MAX` (`2^27 - 1` units, `+-2048`), so
//!   a product is below `2^54` in magnitude and a sum of at most [`MAX_WIDTH`] (256)
//!   products, plus a bias, stays below `2^63`: the `i64` accumulator cannot overflow
//!   (layers wider than 256 are refused with [`ConfigError::TooLarge`]).
//! - Inputs and regression targets must be finite and within `+-2048`
//!   ([`StepError::NonFiniteInput`] / [`StepError::BadTarget`] otherwise).
//! - A gradient `delta_i x_j` must be below 128 in magnitude (the Q8.24 range): the
//!   step checks `max|delta| * max|x|` per layer before it changes anything, and
//!   rejects the sample with [`StepError::GradientOutOfRange`] otherwise.
//! - Updates saturate the parameters to `+-VALUE_MAX`; the optimizer states saturate to
//!   their ranges.
//!
//! A rejected sample leaves the parameters, the optimizer state and the step count bit
//! for bit unchanged, as on the float path.
//!
//! ## Error against the float path, per step
//!
//! From the same parameters (the float ones rounded to Q16.16) and the same sample, one
//! plain-SGD step at learning rate `lr` gives parameters within
//!
//! ```text
//! |p_fixed - p_float| <= 2^-17 + 2^-16 + lr * (1 + max|x|) * E_delta
//! ```
//!
//! where `2^-17` is the rounding of the float parameter on loading, `2^-16` the
//! rounding of the update (formed with 32-bit products by [`math::mul_shift24`]: at
//! most one unit from the exactly rounded value), and `E_delta` bounds the error of the error terms: the
//! forward pass adds at most `2^-17` per layer output (one rounding of an exact `i64`
//! sum) and propagates the input error through `sum_j |W_ij|`; the activations add
//! their table error (sigmoid `2.0e-4`, tanh `4.0e-4`, ReLU and identity none); the
//! softmax adds `4 * 2^-16` (exponential and reciprocal), MSE one rounding. For the
//! models and data of the tests (`|x| <= 4`, `|W| <= 0.5`, widths up to 16, ReLU or
//! identity) `E_delta <= 2^-10`, so one step stays within
//! [`sgd_step_error_bound`]`(lr, max|x|)`, which `tests/fixed.rs` checks over random
//! models, samples and losses. Over many steps the paths drift apart like two float
//! runs in different rounding orders; what is kept is the accuracy (Iris: within one
//! point of the float path, over a sweep of seeds).
//!
//! ## Memory
//!
//! Four `i32` buffers, as on the float path: parameters, gradients (Q8.24; only used by
//! [`FixedTrainer::train_batch`]), optimizer state, and the activations, which also
//! hold the sample's converted input: [`activations_len`] is the float path's plus the
//! model's inputs. [`FixedStorage`] and [`fixed_storage_for!`](crate::fixed_storage_for)
//! size a `static` at compile time.

pub mod math;
mod optim;
mod trainer;

pub use optim::FixedOptimizer;
pub use trainer::FixedTrainer;

use crate::shape::{self, Dense};
#[allow(unused_imports)] // links of the docs
use crate::{ConfigError, Loss, StepError, Target};

/// Fractional bits of the value format Q16.16.
pub const FRAC: u32 = 16;
/// `1.0` in Q16.16.
pub const ONE: i32 = 1 << FRAC;
/// The largest magnitude of a stored value, in units of `2^-16`: `2^27 - 1` (just
/// under 2048.0). Every value saturates here; inputs beyond it are rejected.
pub const VALUE_MAX: i32 = (1 << 27) - 1;
/// The largest layer width (inputs or outputs) the `i64` accumulator serves without
/// overflow (see the module docs).
pub const MAX_WIDTH: usize = 256;
/// Fractional bits of gradients, momentum buffers, Adam's first moment and the
/// hyperparameters (Q8.24).
pub const GRAD_FRAC: u32 = 24;

/// The documented bound on `|p_fixed - p_float|` after one plain-SGD step from the
/// same parameters and sample (module docs), for a parameter whose float step moved it
/// by `step`: `1.5 * 2^-16 + lr * (1 + max|x|) * 2^-8 + 2^-11 * step`.
pub fn sgd_step_error_bound(lr: f32, max_abs_x: f32, step: f32) -> f32 {
    1.5 / 65536.0 + lr * (1.0 + max_abs_x) / 256.0 + step / 2048.0
}

/// `i32`s of the activation buffer of a fixed-point model: every layer's output and
/// error term (as [`shape::activations_len`]), the converted input, and the scratch of
/// the quantised operands ([`scratch_len`]).
pub const fn activations_len(layers: &[Dense]) -> usize {
    shape::activations_len(layers) + shape::inputs(layers) + scratch_len(layers)
}

/// The widest side (inputs or outputs) of any layer: the `i32`s that hold one pass's
/// quantised operands (a layer's input in the forward pass, its error term in the
/// backward pass).
pub const fn scratch_len(layers: &[Dense]) -> usize {
    let mut n = 0usize;
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        if first.inputs > n {
            n = first.inputs;
        }
        if first.outputs > n {
            n = first.outputs;
        }
        rest = tail;
    }
    n
}

/// Bytes of a fixed-point model's training RAM: parameters, gradients, `state_per_param`
/// state words per parameter and the activations, 4 bytes each.
pub const fn training_bytes(layers: &[Dense], state_per_param: usize) -> usize {
    let p = shape::params_len(layers);
    (p * (2 + state_per_param) + activations_len(layers)) * 4
}

/// The caller-owned buffers of a [`FixedTrainer`], one `i32` per value (see the
/// module docs for the formats).
#[derive(Debug)]
pub struct FixedBuffers<'a> {
    /// Parameters, Q16.16, in the float path's layout (per layer the weights row by
    /// row, then the biases).
    pub params: &'a mut [i32],
    /// Gradient accumulator of a batch, Q8.24 (may be empty: then only single-sample
    /// steps run).
    pub grads: &'a mut [i32],
    /// Optimizer state, `state_per_param()` words per parameter.
    pub state: &'a mut [i32],
    /// Input, activations and error terms of one sample ([`activations_len`]).
    pub acts: &'a mut [i32],
}

/// Storage of a fixed-point model, sized by its const parameters (`P` parameters, `S`
/// state words, `A` activation words); a `static` on a device. Name its type with
/// [`fixed_storage_for!`](crate::fixed_storage_for).
#[derive(Debug)]
pub struct FixedStorage<const P: usize, const S: usize, const A: usize> {
    params: [i32; P],
    grads: [i32; P],
    state: [i32; S],
    acts: [i32; A],
}

impl<const P: usize, const S: usize, const A: usize> FixedStorage<P, S, A> {
    /// Zeroed storage (a `const fn`, for `static`s).
    pub const fn new() -> Self {
        Self {
            params: [0; P],
            grads: [0; P],
            state: [0; S],
            acts: [0; A],
        }
    }

    /// The buffers, for [`FixedTrainer::new`].
    pub fn buffers(&mut self) -> FixedBuffers<'_> {
        FixedBuffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
        }
    }
}

impl<const P: usize, const S: usize, const A: usize> Default for FixedStorage<P, S, A> {
    fn default() -> Self {
        Self::new()
    }
}

/// The type of a [`FixedStorage`](crate::fixed::FixedStorage) of exactly the size a
/// shape and an optimizer configuration need.
///
/// ```
/// use microtrain::{fixed_storage_for, Activation, Dense, Sgd};
/// const LAYERS: [Dense; 2] = [Dense::new(4, 8, Activation::Relu), Dense::new(8, 3, Activation::Identity)];
/// const OPT: Sgd = Sgd::new(0.05);
/// static mut MODEL: fixed_storage_for!(&LAYERS, OPT) = microtrain::fixed::FixedStorage::new();
/// // 67 parameters, 67 gradients, no state, 22 activations + 4 inputs + 8 scratch.
/// assert_eq!(core::mem::size_of::<fixed_storage_for!(&LAYERS, OPT)>(), (67 + 67 + 34) * 4);
/// ```
#[macro_export]
macro_rules! fixed_storage_for {
    ($layers:expr, $opt:expr) => {
        $crate::fixed::FixedStorage<
            { $crate::shape::params_len($layers) },
            { $crate::shape::params_len($layers) * $opt.state_per_param() },
            { $crate::fixed::activations_len($layers) },
        >
    };
}
