//! Training in integers, for chips without a floating-point unit (Cortex-M0/M0+).
//!
//! On a Cortex-M0 every `f32` operation is a library call: a float training step of the
//! Iris 4-8-3 model costs about 52,500 instructions with SGD and 156,400 with Adam.
//! [`FixedTrainer`] trains the same models, with the same shapes ([`Dense`]), losses
//! ([`Loss`]), targets ([`Target`]), optimizer configurations ([`Sgd`](crate::Sgd),
//! [`Adam`](crate::Adam)) and errors as [`Trainer`](crate::Trainer), in 32-bit integers
//! (measured figures: `firmware/qemu/bench/run-fixed`).
//!
//! ## The number formats (chosen by measurement)
//!
//! | quantity | stored as | range | unit |
//! |---|---|---|---|
//! | parameters, inputs, activations, error terms `delta` | Q16.16 in `i32` | `+-2048` ([`VALUE_MAX`]) | `2^-16` |
//! | gradients `delta_i x_j`, momentum buffers, Adam's first moment | Q8.24 in `i32` | `+-128` | `2^-24` |
//! | Adam's second moment | Q4.28 in `u32` | `[0, 16)` | `2^-28` |
//! | learning rates, betas, momentum | Q8.24 (betas Q2.30) | | `2^-24` |
//!
//! Q16.16 storage keeps the weights' resolution (`1.5e-5`) fine enough for SGD updates
//! of `1e-4` at a learning rate of `0.01`, where Q8.8 (`tinymind`'s small format) loses
//! them. The products are not formed from the stored 32 bits: the Cortex-M0 has only a
//! 32 x 32 -> 32 `MULS`, and an exact 32 x 32 -> 64 product with its 64-bit sum cost
//! about 35 instructions (measured; the step formed about 150 of them). Instead each
//! pass takes **16-bit operands with one shift per tensor** ([`math::quantise`],
//! [`math::weight_shift`]):
//!
//! ```text
//! q_j = round(x_j / 2^sx),  sx = max(0, bits(max_j |x_j|) - 13)   so |q_j| <= 2^13
//! w'  = (w >> sw) + 1/2,     sw = max(0, bits(OR_j |w_j|) - 13)    so w >> sw in [-2^13, 2^13)
//! z_i = round( sum_j w'_ij q_j 2^(sw + sx) ) + b_i        (Q16.16, units 2^-16)
//! ```
//!
//! Each product is one `MULS` below `2^26`; up to [`math::CHUNK`] (16) of them are summed
//! in an `i32` (below `2^30`), wider layers sum the `i32` chunks in an `i64`. The `+1/2`
//! is not an instruction per product: `sum_j (w_ij >> sw + 1/2) q_j = S_i + Q/2` with
//! `Q = sum_j q_j` formed once per layer ([`math::scale_dot_fast`]). The backward pass
//! does the same with the error terms (`delta_{l-1} = W_l^T delta_l`). The plain-SGD
//! update `w -= lr delta_i x_j` takes `lr` to 14 bits, `delta` and `x` to 13 bits with
//! their layer's shift and `lr delta_i` to 13 bits per row: one `MULS` and a rounding
//! shift per weight, and no clamp when the layer's weights and updates cannot reach
//! [`VALUE_MAX`]. Momentum and Adam form the gradient `delta_i x_j` exactly (Q8.24,
//! [`math::mul_round8`]); momentum's products use [`math::mul_wide`], Adam's are 32-bit
//! products of pieces of at most 16 bits (no 64-bit arithmetic: see
//! [`FixedOptimizer::rule`]; the same bits on every target). Operands outside these ranges (shifts beyond 16, layers wider than 16) take
//! exact 64-bit paths; the result is the same formula.
//!
//! ## Overflow is impossible or detected
//!
//! - Every stored value is saturated to `+-VALUE_MAX` (`2^27 - 1` units, `+-2048`), so
//!   the shifts above are at most 14, a 32-bit chunk of products stays below `2^30`, and
//!   the `i64` sums of the wide paths stay below `2^40` (layers wider than
//!   [`MAX_WIDTH`], 256, are refused with [`ConfigError::TooLarge`]).
//! - Inputs and regression targets must be finite and within `+-2048`
//!   ([`StepError::NonFiniteInput`] / [`StepError::BadTarget`] otherwise).
//! - A gradient `delta_i x_j` must be below 128 in magnitude (the Q8.24 range; with
//!   Adam below 32, and `|delta|` below 64, so that its 32-bit update cannot overflow):
//!   the step checks `max|delta| * max|x|` per layer before it changes anything, and
//!   rejects the sample with [`StepError::GradientOutOfRange`] otherwise.
//! - Updates saturate the parameters to `+-VALUE_MAX`; the optimizer states saturate to
//!   their ranges.
//!
//! A rejected sample leaves the parameters, the optimizer state and the step count bit
//! for bit unchanged, as on the float path.
//!
//! ## Error against the float path, per step
//!
//! **Per operation** (worst case; `u = 2^-16`): quantising a tensor `t` costs at most
//! `2^(s-1) u <= max|t| 2^-13` per value (0 when its shift is 0), the weights' `+1/2`
//! at most `max(u/2, max|W| 2^-13)`, and each output is rounded once (`u/2`). So a
//! layer's output `z_i` is within
//!
//! ```text
//! e_z <= u/2 + n_in (max|W| e_x + max|x| e_w + e_x e_w) + sum_j |W_ij| e_in_j
//!        e_x = max|x| 2^-13,  e_w = max(u/2, max|W| 2^-13)
//! ```
//!
//! of the exact `W x + b` (relative `2^-12` of `n_in max|W| max|x|` plus the input's
//! error carried by the weights), and the backward pass likewise with `delta` for `x`.
//! The activations add their table error (sigmoid `2.0e-4`, tanh `4.0e-4`, ReLU and
//! identity none), the softmax about `5 u` (exponential [`math::exp_neg`] and
//! reciprocal [`math::recip_q32`]), MSE one rounding. The plain-SGD update is within
//! `u/2 + 3 * 2^-13 lr max|delta| max|x|` of `lr delta x` (lr to 14 bits, `delta`, `x`
//! and `lr delta` to 13), where `lr max|delta_l| max|x_l|` is the largest float step
//! `S` of the layer, up to the error of `delta` (the wide path: `u` for any step).
//!
//! **The bound checked**: one plain-SGD step from the same parameters (the float ones
//! rounded to Q16.16) and sample gives parameters within
//!
//! ```text
//! |p_fixed - p_float| <= 1.5 u + lr (1 + max|x|) E_delta + 2^-11 S
//! ```
//!
//! with `S` the largest change of any parameter in the float step
//! ([`sgd_step_error_bound`]`(lr, max|x|, S)`). `E_delta`, the error of the error terms,
//! follows from the per-operation bounds for a given model; `tests/fixed.rs` asserts
//! `E_delta = 2^-8` over 300 random models, samples and losses (`|x| <= 4`,
//! `|W| <= 0.5`, widths up to 16, ReLU, SGD at `lr` up to 0.5; the worst case there is
//! 0.51 of the bound). That figure is measured, not proven: aligning every rounding of
//! those models the same way gives up to about `2^-3` (the quantisation errors are
//! relative to each tensor's largest value, `2^-13`, where the exact 64-bit products
//! before this path erred by `2^-17` absolute). Over many steps the paths drift apart
//! like two float runs in different rounding orders; what is kept is the accuracy
//! (Iris and the stream scenario: within one point of the float path over a sweep of
//! seeds).
//!
//! ## Memory
//!
//! Four `i32` buffers, as on the float path: parameters, gradients (Q8.24; only used by
//! [`FixedTrainer::train_batch`]), optimizer state, and the activations, which also
//! hold the sample's converted input and the quantised operands ([`scratch_len`]:
//! every layer's quantised input, kept for the update, and one error term):
//! [`activations_len`] is the float path's plus the model's inputs plus that. [`FixedStorage`] and
//! [`fixed_storage_for!`](crate::fixed_storage_for) size a `static` at compile time.

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
/// same parameters and sample (module docs), where `step` is the largest change of any
/// parameter in the float step: `1.5 * 2^-16 + lr * (1 + max|x|) * 2^-8 + 2^-11 * step`.
pub fn sgd_step_error_bound(lr: f32, max_abs_x: f32, step: f32) -> f32 {
    1.5 / 65536.0 + lr * (1.0 + max_abs_x) / 256.0 + step / 2048.0
}

/// `i32`s of the activation buffer of a fixed-point model: every layer's output and
/// error term (as [`shape::activations_len`]), the converted input, and the scratch of
/// the quantised operands ([`scratch_len`]).
pub const fn activations_len(layers: &[Dense]) -> usize {
    shape::activations_len(layers) + shape::inputs(layers) + scratch_len(layers)
}

/// The `i32`s that hold the quantised operands: every layer's quantised input (kept
/// from the forward pass for the update), then the widest layer's quantised error term
/// (the backward pass): the sum of the layers' inputs plus the largest output count.
pub const fn scratch_len(layers: &[Dense]) -> usize {
    let (mut inputs, mut widest) = (0usize, 0usize);
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        inputs = inputs.saturating_add(first.inputs);
        if first.outputs > widest {
            widest = first.outputs;
        }
        rest = tail;
    }
    inputs.saturating_add(widest)
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
/// // 67 parameters, 67 gradients, no state, 22 activations + 4 inputs + 20 scratch.
/// assert_eq!(core::mem::size_of::<fixed_storage_for!(&LAYERS, OPT)>(), (67 + 67 + 46) * 4);
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
