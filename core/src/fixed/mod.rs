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
//! **Speed on the Cortex-M0.** Each pass cuts its layers' slices once, walking through
//! the buffers; `max |v|` of every operand is kept from the pass that forms it (the
//! quantisation and the gradient check use it); the plain-SGD row update and the
//! forward pass's dense layer are Thumb-1 assembly on the M0 ([`kernels`], beside the
//! portable loops every other target runs, checked word for word against them by the
//! `fixed-kernels` firmware). An Iris SGD step takes 5,679 M0 instructions, Adam 14,335
//! (soft float: 52,514 and 156,445).
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
//! [`sgd_step_bounds`] computes, for a given model, sample and learning rate, a bound
//! on `|p_fixed - p_float|` for every parameter after one plain-SGD step of both paths
//! from the same `f32` parameters. It is derived, not measured: each path's error
//! against the exact step (real arithmetic from the same parameters) is propagated
//! through the pass from the per-operation bounds below, with the exact values of this
//! sample (`z`, `a`, `delta`), the weights' shifts and upper bounds of the operands'
//! shifts (a shift grows with its tensor's magnitude, bounded by the exact value plus
//! its error bound); the bound is the sum of the two paths' bounds. Notation: `u =
//! 2^-16`; `e_q(s) = 2^(s-1) u` (0 for `s = 0`), the error of a tensor quantised with
//! shift `s`; `E_a`, `E_z`, `E_delta` the error bounds of a layer's input, output and
//! error term (the largest over the layer; fixed-point values first, float second).
//!
//! **Fixed point, per operation**: inputs and parameters rounded to Q16.16 (`u/2`);
//! a weight taken as `(w >> sw) + 1/2` (`e_w = u/2 + e_q(sw)` from the float weight);
//! a layer's input quantised with its shift `sx` (`e_q(sx)`); the sum of products exact
//! and rounded once (`u/2`), the bias rounded (`u/2`); sigmoid and tanh tables `2.0e-4`
//! and `4.0e-4`; each exponential of the softmax `3 u`, the reciprocal and rounding of
//! `p` `2 u`; every other product rounded (`u/2`). **Float**: a sum of `n` terms
//! `gamma_n = n 2^-24 / (1 - n 2^-24)` of the sum of magnitudes; `libm`'s functions
//! within `2^-21`; each product `2^-24` relative.
//!
//! **Propagation** (fixed point; the float path the same with its own terms):
//!
//! ```text
//! forward    E_z,i <= u + sum_j |W_ij| (E_a + e_q(sx)) + e_w sum_j (|a_j| + E_a + e_q(sx))
//!            E_a(next) = E_z (ReLU, identity), E_z/4 + 2.0e-4 (sigmoid), E_z + 4.0e-4 (tanh)
//! softmax    E_delta,k <= (min(1, p_k (e^(2 E_z) - 1)) + (3K + 2) u) (|T| + K u/2) + p_k K u/2 + u
//!            (T = sum of the targets; one-hot: 1)
//! MSE        E_v,k <= (E_a + u/2)(2/K + u) + |a_k - t_k| u + u/2
//! backward   E_v,j <= u/2 + sum_i |W_ij| (E_delta + e_q(sd)) + e_w sum_i (|delta_i| + E_delta + e_q(sd))
//! f'(a) v    ReLU: E_v where |z| > E_z, |v| + E_v where it is not (the sign may differ)
//!            sigmoid (d = a(1-a)): E_v (d + E_a + u/2) + |v| (E_a + u/2) + u/2
//!            tanh (d = 1 - a^2): E_v (d + 2 E_a + u/2) + |v| (2 E_a + u/2) + u/2
//! update     E_w,ij <= u/2 + max(fast, exact), with lr~ = lr16 2^(slr-24) and e_lr = |lr~ - lr|:
//!            fast  = E_l (|x_j| + E_a + e_q(sx)) + lr |delta_i| (E_a + e_q(sx)) + u/2
//!                    E_l = 2^(slr+sd-11) u + e_lr (|delta_i| + E_delta + e_q(sd)) + lr (E_delta + e_q(sd))
//!            exact = E_l' (|x_j| + E_a) + lr |delta_i| E_a + 1.5 u   (the 64-bit path)
//!                    E_l' = 2^-25 + |lr_q24 - lr| (|delta_i| + E_delta) + lr E_delta
//!            biases: the same with x = 1 and no input error
//! ```
//!
//! The first-order terms are the familiar ones (relative `2^-13` of each tensor's
//! largest value per quantised operand, carried by the weights); the second-order
//! products are kept, so the bound is an upper bound, not an estimate. Its scope:
//! identity, ReLU, sigmoid and tanh; MSE and softmax cross-entropy; no value that could
//! reach the saturation at `+-2048`, no gradient the step could reject, `|lr delta| <
//! 7.9` (`None` otherwise).
//!
//! **The test** (`one_sgd_step_is_within_the_derived_bound` in `tests/fixed.rs`): 2,000
//! random models (one to three layers, widths up to 24, so both the 32-bit and the
//! 64-bit paths; every activation; both losses; `lr` from 0.001 to 0.5; weights up to
//! `2/sqrt(inputs)`, inputs up to 4): every one of 284,014 parameters is within its
//! bound; the largest error reaches 0.79 of its bound. The bound is not vacuous: the
//! bounds sum to 0.14 of the parameters' changes, and for changes above `1e-3` the
//! bound is a median 0.026 of the change (ReLU and identity models 0.016; the larger
//! ratios are the tables' `2e-4` against small steps and ReLU units within their error
//! of 0). Over many steps the paths drift apart like two float runs in different
//! rounding orders; what is kept is the accuracy (Iris and the stream scenario: within
//! one point of the float path over a sweep of seeds).
//!
//! Adam's and momentum's updates (and plain SGD's of a given gradient, a batch's mean),
//! given the gradient and its error bound `E_g`, are bounded in
//! [`FixedOptimizer::rule`]'s docs (per step, against the float update from the same
//! state), and checked by tests (`core/src/fixed/optim_bound.rs`): one update through
//! the trainer's own calls against PyTorch's formulas in `f64`. Adam: 21,718 random
//! cases in scope of 30,000 (`lr` from `1e-5` to 0.5, `beta2` up to 0.99999, `eps` up
//! to `1e-4`, `k` up to `10^5`), all within, the worst error at 0.998 of its bound, the median bound 0.021 of
//! the step (0.004 for steps above `1e-3`); the first-order bound those docs gave before
//! was exceeded (it left out the Q8.24 floors `s_k` then had, `beta'` in the bias corrections and
//! the size of `eps` and of `v`'s errors). Momentum, Nesterov and plain SGD: 29,982 of
//! 30,000, all within, the worst at 1.000 (the update's rounding), the median bound
//! 0.030 of the step (0.0005 above `1e-3`).
//!
//! ## Memory
//!
//! Four `i32` buffers, as on the float path: parameters, gradients (Q8.24; only used by
//! [`FixedTrainer::train_batch`]), optimizer state, and the activations, which also
//! hold the sample's converted input and the quantised operands ([`scratch_len`]:
//! every layer's quantised input, kept for the update, and one error term):
//! [`activations_len`] is the float path's plus the model's inputs plus that. [`FixedStorage`] and
//! [`fixed_storage_for!`](crate::fixed_storage_for) size a `static` at compile time.

mod bound;
pub mod kernels;
pub mod math;
mod optim;
mod trainer;

pub use bound::{bound_scratch_len, sgd_step_bounds};
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
