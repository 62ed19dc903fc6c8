//! [`FixedTrainer`]: the float [`Trainer`](crate::Trainer)'s API over integer passes.

use super::math::{self, exp_neg, ln_ge1, max_abs, mul, mul_wide, round_shift, sat};
use super::optim::{self, Rule, Scalars};
use super::{FixedBuffers, FixedOptimizer, MAX_WIDTH, ONE, VALUE_MAX};
use crate::data::Batch;
use crate::error::{Buffer, ConfigError, HyperparameterError, StepError};
use crate::shape::{self, Dense};
use crate::{Activation, Loss, Rng, Target};

/// A model trained in fixed point (see [`crate::fixed`] for the formats, the overflow
/// rules and the error bound against the float path).
///
/// ```
/// use microtrain::fixed::{FixedStorage, FixedTrainer};
/// use microtrain::{fixed_storage_for, Activation, Dense, Loss, Sgd, Target};
///
/// const LAYERS: [Dense; 2] = [Dense::new(2, 8, Activation::Relu), Dense::new(8, 2, Activation::Identity)];
/// const OPT: Sgd = Sgd::new(0.1);
/// let mut storage: fixed_storage_for!(&LAYERS, OPT) = FixedStorage::new();
/// let mut net = FixedTrainer::new(&LAYERS, storage.buffers(), OPT, Loss::SoftmaxCrossEntropy)?;
/// net.init_params(3);
/// for i in 0..400 {
///     let c = i % 2;
///     let x = if c == 0 { [1.0, -0.5] } else { [-1.0, 0.5] };
///     net.train_sample(&x, Target::Class(c))?;
/// }
/// let mut out = [0.0; 2];
/// net.predict(&[1.0, -0.5], &mut out)?;
/// assert!(out[0] > out[1]);
/// // A bad sample is rejected and changes nothing.
/// let before = net.params().to_vec();
/// assert!(net.train_sample(&[f32::NAN, 0.0], Target::Class(0)).is_err());
/// assert_eq!(before, net.params());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FixedTrainer<'a, O: FixedOptimizer> {
    layers: &'a [Dense],
    params: &'a mut [i32],
    grads: &'a mut [i32],
    state: &'a mut [i32],
    acts: &'a mut [i32],
    /// The quantised operands of one dot-product pass ([`super::scratch_len`]).
    scratch: &'a mut [i32],
    /// The weight shifts ([`math::weight_shift`]) of the first [`CACHED_LAYERS`] layers,
    /// set by each forward pass and used by the backward pass and the update of the
    /// same step (the weights do not change between them).
    wshift: [u8; CACHED_LAYERS],
    /// The input shifts of the same layers; their quantised inputs stay in `scratch`.
    xshift: [u8; CACHED_LAYERS],
    /// The quantisation shifts ([`math::quant_shift`]) of the error terms of the same
    /// layers, from the gradient check of the sample the update uses.
    dshift: [u8; CACHED_LAYERS],
    /// `max |x|` of the same layers' inputs, from the forward pass (for the quantisation
    /// and the gradient check).
    xmax: [u32; CACHED_LAYERS],
    /// `max |delta|` of the same layers' error terms, from the backward pass.
    dmax: [u32; CACHED_LAYERS],
    opt: O,
    rule: Rule,
    loss: Loss,
    step: u32,
    rejected: u32,
    /// `(beta1^k, beta2^k)` in Q2.30 (Adam).
    pow: (i32, i32),
    /// `1 / outputs` in Q16.16 (MSE).
    inv_outputs: i32,
    /// Where the error terms start in the activations: after the input and every
    /// layer's output.
    e_at: usize,
    /// The model's inputs and outputs.
    n_in: usize,
    /// See `n_in`.
    n_out: usize,
}

fn prefix(buf: &mut [i32], n: usize, buffer: Buffer) -> Result<&mut [i32], ConfigError> {
    let provided = buf.len();
    buf.get_mut(..n).ok_or(ConfigError::BufferTooSmall {
        buffer,
        needed: n,
        provided,
    })
}

/// The derivative of `act` at its output `a` (Q16.16), times `v`.
#[inline(never)] // one copy (flash); ReLU and identity do not call it per value
fn times_derivative(act: Activation, a: i32, v: i32) -> i32 {
    match act {
        Activation::Identity => v,
        Activation::Relu => {
            if a > 0 {
                v
            } else {
                0
            }
        }
        Activation::Sigmoid => mul(v, mul(a, ONE - a)),
        Activation::Tanh => mul(v, ONE - mul(a, a)),
        // Refused by `FixedTrainer::new` (`ConfigError::Unsupported`).
        Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Softsign => v,
    }
}

/// [`math::mul`]`(v, t)` for the loss: `v` itself, saturated, for `t = 1` (a class
/// target: the same value, `round(v 2^16 / 2^16) = v`, without the product), else one
/// out-of-line copy of the product (flash: inlined it is about 100 bytes a use on the
/// M0).
#[inline(always)]
fn mul_by(v: i32, t: i32) -> i32 {
    if t == ONE {
        sat(i64::from(v))
    } else {
        mul_once(v, t)
    }
}

/// [`math::mul`], not inlined.
#[inline(never)]
fn mul_once(v: i32, t: i32) -> i32 {
    mul(v, t)
}

/// `a = f(z)` over a layer's outputs, in place.
#[inline(never)]
fn activate_all(act: Activation, out: &mut [i32]) {
    match act {
        Activation::Identity => {}
        Activation::Relu => out.iter_mut().for_each(|z| *z = (*z).max(0)),
        Activation::Sigmoid => out.iter_mut().for_each(|z| *z = math::sigmoid(*z)),
        Activation::Tanh => out.iter_mut().for_each(|z| *z = math::tanh(*z)),
        // Refused by `FixedTrainer::new` (`ConfigError::Unsupported`).
        Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Softsign => {}
    }
}

/// The plain-SGD update of a layer's rows beyond the 32-bit path: `lr delta` in
/// Q8.24 (saturated to `|lr delta| < 8`, so that each update `|lr delta x| < 2^30`
/// units and `w - u` stays in an `i32`), `u` by [`math::mul_shift24`], clamped.
#[inline(never)]
fn sgd_rows_exact<'r>(
    rows: impl Iterator<Item = ((&'r mut [i32], &'r mut i32), &'r i32)>,
    x: &[i32],
    lr: i32,
) {
    for ((row, bias), dv) in rows {
        let ld = round_shift(mul_wide(lr, *dv), 16).clamp(-LD_MAX, LD_MAX) as i32;
        for (wv, xv) in row.iter_mut().zip(x) {
            crate::kernels::keep_rolled(); // flash: a path Iris-sized steps do not take
            *wv = clamp_value(*wv - math::mul_shift24(ld, *xv));
        }
        *bias = clamp_value(*bias - ((ld + (1 << 7)) >> 8));
    }
}

/// `sum_k (w[at + k stride] >> sw) q_k` exactly: [`math::CHUNK`] products summed in an
/// `i32` (the operand ranges of [`math::dot_q`]), the chunks in an `i64`; weights past
/// the end of `w` count as 0. The one dot product of both wide fallbacks (a row of `W`
/// with stride 1, a column with the row length), rolled (flash: a path Iris-sized
/// layers do not take).
#[inline(never)]
fn dot_wide(w: &[i32], mut at: usize, stride: usize, q: &[i32], sw: u32) -> i64 {
    let mut acc: i64 = 0;
    for qc in q.chunks(math::CHUNK) {
        let mut s = 0i32;
        for qv in qc {
            crate::kernels::keep_rolled();
            if let Some(wv) = w.get(at) {
                s = s.wrapping_add((wv >> sw).wrapping_mul(*qv));
            }
            at += stride;
        }
        acc += i64::from(s);
    }
    acc
}

/// `v_j = sum_i W_ij q_i 2^(sw + sd)` of the backward pass beyond the 32-bit path.
#[inline(never)]
fn backward_wide(d_prev: &mut [i32], w: &[i32], q: &[i32], inputs: usize, (sw, sd, q_sum): (u32, u32, i32)) {
    for (j, dp) in d_prev.iter_mut().enumerate() {
        *dp = sat(math::scale_dot(dot_wide(w, j, inputs, q, sw), q_sum, sw, sd));
    }
}

/// `delta = f'(a) * v` over a layer's error terms (`v` in place), from its outputs `a`.
#[inline(never)]
fn derivative_all(act: Activation, a: &[i32], d: &mut [i32]) {
    match act {
        Activation::Identity => {}
        Activation::Relu => d.iter_mut().zip(a).for_each(|(v, a)| {
            if *a <= 0 {
                *v = 0;
            }
        }),
        act => d
            .iter_mut()
            .zip(a)
            .for_each(|(v, a)| *v = times_derivative(act, *a, *v)),
    }
}

/// The outputs `z = W q 2^(sw + sx) + b` of a layer beyond the 32-bit path (wider than
/// [`math::CHUNK`], or shifts beyond 16): `i64` sums of `i32` chunks, saturated.
#[inline(never)]
fn dense_wide(out: &mut [i32], w: &[i32], b: &[i32], q: &[i32], (sw, sx, q_sum): (u32, u32, i32)) {
    let n_in = q.len();
    for (i, (o, bias)) in out.iter_mut().zip(b).enumerate() {
        let z = math::scale_dot(dot_wide(w, i * n_in, 1, q, sw), q_sum, sw, sx) + i64::from(*bias);
        *o = sat(z);
    }
}

/// The error terms `v = W^T delta 2^(sw + sd)` of a layer's input, from its error terms
/// `d` (quantised into `q`, with `md = max |d|`) and weights `w` (shift `sw`), before the
/// derivative of the input's activation.
#[inline(always)]
fn dense_backward(d: &[i32], q: &mut [i32], w: &[i32], d_prev: &mut [i32], sw: u32, md: u32) {
    let (sd, q_sum) = math::quantise_with(d, q, md);
    let q = q.get(..d.len()).unwrap_or(&[]);
    if d.len() <= math::CHUNK && sw + sd <= 16 {
        let m = 16 - sw - sd;
        let c = math::fast_constant(q_sum, m);
        // Row by row (contiguous weights): d_prev_j accumulates (w_ij >> sw) q_i
        // in place, at most CHUNK products each (below 2^30), then scaled.
        d_prev.iter_mut().for_each(|v| *v = 0);
        for (row, qv) in Rows(w, d_prev.len().max(1)).zip(q.iter()) {
            for (acc, wv) in d_prev.iter_mut().zip(row) {
                *acc = acc.wrapping_add((wv >> sw).wrapping_mul(*qv));
            }
        }
        d_prev
            .iter_mut()
            .for_each(|v| *v = clamp_value(math::scale_dot_fast(*v, c, m)));
    } else {
        let n = d_prev.len();
        backward_wide(d_prev, w, q, n, (sw, sd, q_sum));
    }
}

/// One dense layer's outputs `z = W q 2^(sw + sx) + b` before the activation, from
/// its input `x` (quantised into `q`, see [`crate::fixed`]); returns `max |x|` and the
/// two shifts for the backward pass, the check and the update.
#[inline(always)]
fn dense_forward(x: &[i32], q: &mut [i32], w: &[i32], b: &[i32], out: &mut [i32]) -> (u32, u32, u32) {
    let mx = max_abs(x);
    let (sx, q_sum) = math::quantise_with(x, q, mx);
    let sw = math::weight_shift(w);
    let n_in = q.len();
    if n_in <= math::CHUNK && sw + sx <= 16 {
        let m = 16 - sw - sx;
        let c = math::fast_constant(q_sum, m);
        super::kernels::dense_rows(out, w, b, q, (sw, c, m));
    } else {
        dense_wide(out, w, b, q, (sw, sx, q_sum));
    }
    (mx, sx, sw)
}

impl<'a, O: FixedOptimizer> FixedTrainer<'a, O> {
    /// A trainer over caller-owned buffers (each at least as long as the shape needs;
    /// `grads` may be empty, then [`train_batch`](Self::train_batch) is refused).
    ///
    /// Refused: what [`Trainer::new`](crate::Trainer::new) refuses; a layer wider than
    /// [`MAX_WIDTH`]; [`Loss::BinaryCrossEntropy`] (not on the fixed-point path); an
    /// optimizer setting [`FixedOptimizer::rule`] refuses.
    pub fn new(
        layers: &'a [Dense],
        buffers: FixedBuffers<'a>,
        opt: O,
        loss: Loss,
    ) -> Result<Self, ConfigError> {
        shape::validate(layers)?;
        if let Some(layer) = layers
            .iter()
            .position(|l| l.inputs > MAX_WIDTH || l.outputs > MAX_WIDTH)
        {
            return Err(ConfigError::TooLarge { layer });
        }
        if let (Some(req), Some(last)) = (loss.required_activation(), layers.last()) {
            if last.activation != req {
                return Err(ConfigError::LossActivation {
                    loss,
                    found: last.activation,
                });
            }
        }
        if loss == Loss::BinaryCrossEntropy {
            return Err(ConfigError::Hyperparameter(HyperparameterError {
                name: "loss",
                value: 1.0,
                rule: "mse or softmax_cross_entropy on the fixed-point path",
            }));
        }
        if shape::has_frozen(layers) {
            return Err(ConfigError::Unsupported {
                what: "frozen or bias-only layers",
            });
        }
        if shape::has_non_dense(layers) {
            return Err(ConfigError::Unsupported {
                what: "layers other than dense",
            });
        }
        if layers.iter().any(|l| {
            matches!(
                l.activation,
                Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Softsign
            )
        }) {
            return Err(ConfigError::Unsupported {
                what: "leaky_relu, elu and softsign activations",
            });
        }
        let rule = opt.rule()?;
        let p = shape::params_len(layers);
        let params = prefix(buffers.params, p, Buffer::Params)?;
        let grads = if buffers.grads.is_empty() {
            buffers.grads
        } else {
            prefix(buffers.grads, p, Buffer::Grads)?
        };
        let state = prefix(
            buffers.state,
            p.saturating_mul(opt.fixed_state_per_param()),
            Buffer::State,
        )?;
        let acts = prefix(buffers.acts, super::activations_len(layers), Buffer::Activations)?;
        let (acts, scratch) = acts.split_at_mut(acts.len().saturating_sub(super::scratch_len(layers)));
        let k = shape::outputs(layers).max(1) as i32;
        let mut t = FixedTrainer {
            layers,
            params,
            grads,
            state,
            acts,
            scratch,
            wshift: [0; CACHED_LAYERS],
            xshift: [0; CACHED_LAYERS],
            dshift: [0; CACHED_LAYERS],
            xmax: [0; CACHED_LAYERS],
            dmax: [0; CACHED_LAYERS],
            opt,
            rule,
            loss,
            step: 0,
            rejected: 0,
            pow: (1 << 30, 1 << 30),
            inv_outputs: (ONE + k / 2) / k,
            e_at: shape::inputs(layers) + shape::all_layer_outputs(layers),
            n_in: shape::inputs(layers),
            n_out: shape::outputs(layers),
        };
        t.reset_optimizer();
        Ok(t)
    }

    /// Draws every parameter from `U(-1/sqrt(inputs), 1/sqrt(inputs))` per layer with
    /// the float [`Trainer::init_params`](crate::Trainer::init_params)'s generator and
    /// order (the same values, rounded to Q16.16), and resets the optimizer.
    pub fn init_params(&mut self, seed: u64) {
        let mut rng = Rng::new(seed);
        let mut rest: &mut [i32] = self.params;
        for l in self.layers {
            let bound = 1.0 / crate::math::sqrt(l.inputs as f32);
            let n = core::hint::black_box(l.params_len().min(rest.len()));
            let (layer, tail) = core::mem::take(&mut rest).split_at_mut(n);
            layer
                .iter_mut()
                .for_each(|p| *p = math::from_f32(rng.symmetric(bound), 16, VALUE_MAX).unwrap_or(0));
            rest = tail;
        }
        self.reset_optimizer();
    }

    /// Replaces the parameters by float ones (same layout), rounded to Q16.16. Rejected,
    /// with nothing changed, if the length is wrong or a value is not finite or beyond
    /// `+-2048`.
    pub fn load_params(&mut self, params: &[f32]) -> Result<(), StepError> {
        if params.len() != self.params.len() {
            return Err(StepError::ReplacementLength {
                buffer: Buffer::Params,
                expected: self.params.len(),
                got: params.len(),
            });
        }
        if let Some(index) = params
            .iter()
            .position(|v| math::from_f32(*v, 16, VALUE_MAX).is_none())
        {
            return Err(StepError::NonFiniteReplacement {
                buffer: Buffer::Params,
                index,
            });
        }
        for (q, v) in self.params.iter_mut().zip(params) {
            *q = math::from_f32(*v, 16, VALUE_MAX).unwrap_or(0);
        }
        Ok(())
    }

    /// Writes the parameters as `f32` into `out` (at least [`params_len`](Self::params_len)
    /// long).
    pub fn params_f32(&self, out: &mut [f32]) -> Result<(), StepError> {
        if out.len() < self.params.len() {
            return Err(StepError::OutputTooSmall {
                needed: self.params.len(),
                provided: out.len(),
            });
        }
        for (o, p) in out.iter_mut().zip(self.params.iter()) {
            *o = math::to_f32(*p, 16);
        }
        Ok(())
    }

    /// The parameters in Q16.16.
    pub fn params(&self) -> &[i32] {
        self.params
    }

    /// Replaces the parameters (Q16.16), the optimizer state and the step count, as a
    /// checkpoint restores them (Adam's `beta^k` are recomputed from `steps`, with the
    /// same bits as the steps formed them). Rejected,
    /// with nothing changed, if a length is wrong.
    pub fn restore(&mut self, params: &[i32], state: &[i32], steps: u32) -> Result<(), StepError> {
        for (buffer, have, got) in [
            (Buffer::Params, self.params.len(), params.len()),
            (Buffer::State, self.state.len(), state.len()),
        ] {
            if have != got {
                return Err(StepError::ReplacementLength {
                    buffer,
                    expected: have,
                    got,
                });
            }
        }
        self.params.copy_from_slice(params);
        self.state.copy_from_slice(state);
        self.step = steps;
        self.pow = (1 << 30, 1 << 30);
        if let Rule::Adam { beta1, beta2, .. } = self.rule {
            self.pow = (pow_q30(beta1, steps), pow_q30(beta2, steps));
        }
        Ok(())
    }

    /// The model's output (Q16.16) of the last forward pass: of the last step's sample
    /// before its update, or of the last prediction.
    pub fn last_output(&self) -> &[i32] {
        let k = self.outputs();
        let e_at = self.errors_at();
        self.acts.get(e_at.saturating_sub(k)..e_at).unwrap_or(&[])
    }

    /// The optimizer state words (see [`FixedOptimizer::rule`] for their formats).
    pub fn state(&self) -> &[i32] {
        self.state
    }

    /// The number of parameters.
    pub fn params_len(&self) -> usize {
        self.params.len()
    }

    /// Resets the optimizer state and the step count.
    pub fn reset_optimizer(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0);
        self.step = 0;
        self.pow = (1 << 30, 1 << 30);
    }

    /// The layers.
    pub fn layers(&self) -> &[Dense] {
        self.layers
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The optimizer configuration.
    pub fn optimizer(&self) -> &O {
        &self.opt
    }

    /// Optimizer steps taken.
    pub fn step_count(&self) -> u32 {
        self.step
    }

    /// Samples rejected because a gradient was out of range.
    pub fn rejected_steps(&self) -> u32 {
        self.rejected
    }

    fn inputs(&self) -> usize {
        self.n_in
    }

    fn outputs(&self) -> usize {
        self.n_out
    }

    /// Where the error terms start: after the input and every layer's output.
    fn errors_at(&self) -> usize {
        self.e_at
    }

    /// Converts `x` into the input slot of the activations.
    #[inline(never)] // one copy (flash)
    fn load_input(&mut self, x: &[f32], sample: usize) -> Result<(), StepError> {
        let n = self.inputs();
        if x.len() != n {
            return Err(StepError::InputLength {
                sample,
                expected: n,
                got: x.len(),
            });
        }
        for (index, (q, v)) in self.acts.iter_mut().zip(x).enumerate() {
            *q = math::from_f32(*v, 16, VALUE_MAX).ok_or(StepError::NonFiniteInput { sample, index })?;
        }
        Ok(())
    }

    /// Checks the target: the float path's rules, and regression values within `+-2048`.
    #[inline(never)] // one copy (flash)
    fn check_target(&self, target: &Target<'_>, sample: usize) -> Result<(), StepError> {
        self.loss.check_target(target, self.outputs(), sample)?;
        if let Target::Values(v) = target {
            if let Some(index) = v.iter().position(|y| math::from_f32(*y, 16, VALUE_MAX).is_none()) {
                return Err(StepError::BadTarget { sample, index });
            }
        }
        Ok(())
    }

    /// `a = f(W a_prev + b)` per layer, from 16-bit operands (see [`crate::fixed`]):
    /// the input quantised with its shift, the weights shifted by theirs, the products
    /// summed exactly and the sum rounded once.
    #[inline(never)] // one copy: called from several steps
    fn forward(&mut self) {
        let Some(acts) = self.acts.get_mut(..self.e_at) else {
            return;
        };
        // Each slice walks forward: the rest of the parameters, of the scratch and of
        // the activations from this layer's input on.
        let mut params: &[i32] = self.params;
        let mut qs: &mut [i32] = self.scratch;
        let mut acts: &mut [i32] = acts;
        for (li, l) in self.layers.iter().enumerate() {
            let (n_in, n_out) = (l.inputs, l.outputs);
            let Some((w, rest)) = params.split_at_checked(n_in * n_out) else {
                return;
            };
            let Some((b, rest)) = rest.split_at_checked(n_out) else {
                return;
            };
            params = rest;
            let Some((q, rest)) = core::mem::take(&mut qs).split_at_mut_checked(n_in) else {
                return;
            };
            qs = rest;
            let Some((x, rest)) = core::mem::take(&mut acts).split_at_mut_checked(n_in) else {
                return;
            };
            let Some(out) = rest.get_mut(..n_out) else {
                return;
            };
            let (mx, sx, sw) = dense_forward(x, q, w, b, out);
            activate_all(l.activation, out);
            if let (Some(a), Some(b), Some(c)) = (
                self.xmax.get_mut(li),
                self.xshift.get_mut(li),
                self.wshift.get_mut(li),
            ) {
                (*a, *b, *c) = (mx, sx as u8, sw as u8);
            }
            acts = rest;
        }
    }

    /// The loss (Q16.16) and the last layer's error term `dL/dz`.
    #[inline(never)] // one copy: called from several steps
    fn loss_and_delta(&mut self, target: &Target<'_>) -> i32 {
        let k = self.outputs();
        let e_at = self.errors_at();
        let total = self.acts.len();
        let (outs, errs) = self.acts.split_at_mut(e_at.min(total));
        let (Some(z), Some(d)) = (
            outs.get(e_at.saturating_sub(k)..),
            errs.get_mut(total.saturating_sub(e_at + k)..),
        ) else {
            return 0;
        };
        let t_of = |i: usize| match target {
            Target::Class(c) => i32::from(*c == i) * ONE,
            Target::Values(v) => v
                .get(i)
                .and_then(|y| math::from_f32(*y, 16, VALUE_MAX))
                .unwrap_or(0),
        };
        match self.loss {
            Loss::SoftmaxCrossEntropy => {
                let m = z.iter().copied().max().unwrap_or(0);
                let mut s: i32 = 0;
                for (e, zk) in d.iter_mut().zip(z) {
                    *e = exp_neg(zk - m);
                    s = s.saturating_add(*e);
                }
                // 1/s in Q16.16 (s >= 1: the largest logit contributes exactly 1).
                let recip = math::recip_q32(s.max(ONE) as u32);
                let lse = ln_ge1(s);
                let mut loss: i64 = 0;
                let mut t_sum: i32 = 0;
                for i in 0..k {
                    t_sum = t_sum.saturating_add(t_of(i));
                }
                for (i, (e, zk)) in d.iter_mut().zip(z).enumerate() {
                    let t = t_of(i);
                    // e <= 2^16 and recip < 2^16: e recip + 2^15 < 2^32, a u32 product.
                    let p = (((*e as u32).min(1 << 16) * recip + (1 << 15)) >> 16) as i32;
                    *e = sat(i64::from(mul_by(p, t_sum)) - i64::from(t));
                    if t != 0 {
                        loss += i64::from(mul_by(lse - (zk - m), t));
                    }
                }
                sat(loss)
            }
            _ => {
                // MSE: L = 1/K sum (a - t)^2, dL/dz = 2/K (a - t) f'(a).
                let act = self
                    .layers
                    .last()
                    .map(|l| l.activation)
                    .unwrap_or(Activation::Identity);
                let mut loss: i64 = 0;
                for (i, (e, a)) in d.iter_mut().zip(z).enumerate() {
                    let diff = sat(i64::from(*a) - i64::from(t_of(i)));
                    loss += i64::from(mul_by(diff, diff));
                    *e = times_derivative(act, *a, mul_by(diff, 2 * self.inv_outputs));
                }
                mul_by(sat(loss), self.inv_outputs)
            }
        }
    }

    /// `delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)`, from the last layer down.
    #[inline(never)] // one copy: called from several steps
    fn backward(&mut self) {
        let n0 = self.n_in;
        let Some((outs, errs)) = self.acts.split_at_mut_checked(self.e_at) else {
            return;
        };
        // The slices walk backward: the parameters, the layers' outputs and the error
        // terms up to the end of the current layer's.
        let (mut params, mut outs) = (&*self.params, outs.get(n0..).unwrap_or(&[]));
        let mut errs: &mut [i32] = errs.get_mut(..outs.len()).unwrap_or(&mut []);
        let q_at = self
            .scratch
            .len()
            .saturating_sub(self.layers.iter().map(|l| l.outputs).max().unwrap_or(0));
        let Some(qs) = self.scratch.get_mut(q_at..) else {
            return;
        };
        let mut layers = self.layers.iter().enumerate().rev();
        let Some((mut li, mut l)) = layers.next() else {
            return;
        };
        if let (Some(c), Some(d)) = (
            self.dmax.get_mut(li),
            errs.get(errs.len().saturating_sub(l.outputs)..),
        ) {
            *c = max_abs(d);
        }
        for (pi, prev) in layers {
            let (n_out, n_w) = (l.outputs, l.inputs * l.outputs);
            let Some((rest, w)) = params.split_at_checked(params.len().saturating_sub(n_w + n_out)) else {
                return;
            };
            params = rest;
            let w = w.get(..n_w).unwrap_or(&[]);
            let at = errs.len().saturating_sub(n_out);
            let Some((lower, d)) = core::mem::take(&mut errs).split_at_mut_checked(at) else {
                return;
            };
            let Some((rest, _)) = outs.split_at_checked(outs.len().saturating_sub(n_out)) else {
                return;
            };
            outs = rest;
            let a_prev = outs.get(outs.len().saturating_sub(prev.outputs)..).unwrap_or(&[]);
            let at = lower.len().saturating_sub(prev.outputs);
            let Some(d_prev) = lower.get_mut(at..) else {
                return;
            };
            let md = match self.dmax.get(li) {
                Some(m) => *m,
                None => max_abs(d),
            };
            let sw = cached_shift(&self.wshift, li, w);
            dense_backward(d, qs, w, d_prev, sw, md);
            derivative_all(prev.activation, a_prev, d_prev);
            if let Some(c) = self.dmax.get_mut(pi) {
                *c = max_abs(d_prev);
            }
            errs = lower;
            (li, l) = (pi, prev);
        }
    }

    /// Each layer's `(input, error term)` slices and first parameter index, in order;
    /// keeps the error terms' shifts of the first [`CACHED_LAYERS`] layers (SGD).
    #[inline(never)] // one copy (flash)
    fn check_gradients(&mut self) -> Result<(), StepError> {
        let adam = u32::from(O::ADAM);
        let n0 = self.inputs();
        let e_at = self.errors_at();
        let (outs, errs) = self.acts.split_at(e_at.min(self.acts.len()));
        let (mut in_off, mut p_off) = (0usize, 0usize);
        for (li, l) in self.layers.iter().enumerate() {
            // The maxima the passes kept, or computed (layers beyond the cache).
            let (md, mx) = match (self.dmax.get(li), self.xmax.get(li)) {
                (Some(md), Some(mx)) => (*md, *mx),
                _ => {
                    let x = outs.get(in_off..in_off + l.inputs).unwrap_or(&[]);
                    let d_off = in_off + l.inputs - n0;
                    let d = errs.get(d_off..d_off + l.outputs).unwrap_or(&[]);
                    (max_abs(d), max_abs(x))
                }
            };
            if !O::ADAM && matches!(self.rule, Rule::Sgd { .. }) {
                // For plain SGD's update of the same sample (`sgd_update`).
                if let Some(c) = self.dshift.get_mut(li) {
                    *c = math::quant_shift(md) as u8;
                }
            }
            // g = delta x in Q8.24 needs |delta x| < 128; the bias gradient |delta| < 128.
            // md < 2^23 here and mx <= VALUE_MAX < 2^27: both fit an i32.
            // With md < 2^23, a 32-bit test first: md mx < ((md >> 8) + 1)((mx >> 12) + 1)
            // 2^20, below 2^39 when the product of the two (at most 2^30) is below 2^19.
            // Adam: |delta x| < 32 and |delta| < 64 (its 32-bit update: `optim::adam_update`).
            let mx = mx.min(VALUE_MAX as u32);
            if md >= 1 << (23 - adam)
                || (((md >> 8) + 1) * ((mx >> 12) + 1) >= 1 << (19 - 2 * adam)
                    && mul_wide(md as i32, mx as i32) >= 1 << (39 - 2 * adam))
            {
                return Err(StepError::GradientOutOfRange { index: p_off });
            }
            in_off += l.inputs;
            p_off += l.params_len();
        }
        Ok(())
    }

    /// The forward pass, loss and error terms of one checked sample; the gradient check.
    fn sample_pass(&mut self, x: &[f32], target: &Target<'_>, sample: usize) -> Result<i32, StepError> {
        self.load_input(x, sample)?;
        self.check_target(target, sample)?;
        self.forward();
        let loss = self.loss_and_delta(target);
        self.backward();
        if let Err(e) = self.check_gradients() {
            self.rejected = self.rejected.saturating_add(1);
            return Err(e);
        }
        Ok(loss)
    }

    /// The per-step constants of step `step + 1`, without committing them.
    fn next_scalars(&self) -> (Scalars, (i32, i32)) {
        let mut pow = self.pow;
        let sc = if O::ADAM {
            self.rule.scalars(self.step.saturating_add(1), &mut pow)
        } else {
            Scalars::sgd(&self.rule, self.step.saturating_add(1))
        };
        (sc, pow)
    }

    /// One optimizer step on one sample; returns the sample's loss. On an error nothing
    /// has changed (parameters, state, step count).
    pub fn train_sample(&mut self, x: &[f32], target: Target<'_>) -> Result<f32, StepError> {
        let loss = self.sample_pass(x, &target, 0)?;
        let (sc, pow) = self.next_scalars();
        match self.rule {
            // Plain SGD beside the other rules' update (its own frame, not theirs).
            Rule::Sgd { lr } if !O::ADAM => self.sgd_update(lr),
            _ => self.update_from_sample(&sc),
        }
        self.pow = pow;
        self.step = self.step.saturating_add(1);
        Ok(math::to_f32(loss, 16))
    }

    /// Every parameter updated from the gradient of the sample in the activations.
    #[inline(never)] // one copy: called from several steps
    fn update_from_sample(&mut self, sc: &Scalars) {
        let n0 = self.inputs();
        let e_at = self.errors_at();
        let spp = self.opt.fixed_state_per_param();
        let (outs, errs) = self.acts.split_at(e_at.min(self.acts.len()));
        let (mut in_off, mut p_off) = (0usize, 0usize);
        for l in self.layers {
            let (n_in, n_out) = (l.inputs, l.outputs);
            let n_w = n_in * n_out;
            let x = outs.get(in_off..in_off + n_in).unwrap_or(&[]);
            let d_off = in_off + n_in - n0;
            let d = errs.get(d_off..d_off + n_out).unwrap_or(&[]);
            let Some(p) = self.params.get_mut(p_off..p_off + n_w + n_out) else {
                return;
            };
            let (w, b) = p.split_at_mut(n_w.min(p.len()));
            match self.rule {
                Rule::Adam { c1, c2, s2, .. } if O::ADAM => {
                    // Two state words per parameter, [m, v]; |g| < 2^30 units: checked.
                    let st = self
                        .state
                        .get_mut(p_off * 2..(p_off + n_w + n_out) * 2)
                        .unwrap_or(&mut []);
                    let (sw, sb) = st.split_at_mut((2 * n_w).min(st.len()));
                    optim::adam_layer(sc, (c1, c2, s2), w, x, d, sw);
                    optim::adam_biases(sc, (c1, c2, s2), b, d, 8, sb);
                }
                rule if !O::ADAM => {
                    let st = self
                        .state
                        .get_mut(p_off * spp..(p_off + n_w + n_out) * spp)
                        .unwrap_or(&mut []);
                    let (sw, sb) = st.split_at_mut((n_w * spp).min(st.len()));
                    let mut sw = RowsMut(sw, spp.max(1));
                    let mut sb = RowsMut(sb, spp.max(1));
                    for ((row, bias), dv) in RowsMut(w, n_in.max(1)).zip(b.iter_mut()).zip(d) {
                        for (wv, xv) in row.iter_mut().zip(x) {
                            let g = math::mul_round8(*dv, *xv);
                            rule.update_sgd(sc, wv, g, sw.next().unwrap_or(&mut []));
                        }
                        rule.update_sgd(sc, bias, *dv << 8, sb.next().unwrap_or(&mut []));
                    }
                }
                _ => {}
            }
            in_off += n_in;
            p_off += n_w + n_out;
        }
    }

    /// Plain SGD's update of every parameter from the sample in the activations: per
    /// layer, from its quantised input (kept by the forward pass) and its error terms
    /// with the shifts the step has cached (see [`super::kernels::sgd_rows`]).
    #[inline(never)] // one copy
    fn sgd_update(&mut self, lr: i32) {
        let (lr16, slr) = math::normalise14(lr);
        let Some((outs, errs)) = self.acts.split_at_checked(self.errors_at()) else {
            return;
        };
        let mut params: &mut [i32] = self.params;
        let (mut xs, mut qs, mut ds) = (outs, &*self.scratch, errs);
        for (li, l) in self.layers.iter().enumerate() {
            let (n_in, n_out) = (l.inputs, l.outputs);
            let Some((w, rest)) = core::mem::take(&mut params).split_at_mut_checked(n_in * n_out) else {
                return;
            };
            let Some((b, rest)) = rest.split_at_mut_checked(n_out) else {
                return;
            };
            params = rest;
            let (Some((x, x_rest)), Some((q, q_rest)), Some((d, d_rest))) = (
                xs.split_at_checked(n_in),
                qs.split_at_checked(n_in),
                ds.split_at_checked(n_out),
            ) else {
                return;
            };
            (xs, qs, ds) = (x_rest, q_rest, d_rest);
            let (Some(sx), Some(sd), Some(sw)) =
                (self.xshift.get(li), self.dshift.get(li), self.wshift.get(li))
            else {
                sgd_rows_exact(RowsMut(w, n_in.max(1)).zip(b.iter_mut()).zip(d), x, lr);
                continue;
            };
            let (sx, sd, sw) = (i32::from(*sx), i32::from(*sd), i32::from(*sw));
            // lr = lr16 2^(slr - 24) with lr16 in [2^13, 2^14]; delta = d16 2^(sd - 16)
            // with |d16| <= 2^13 (md < 2^23: checked); l16 = round(lr16 d16 / 2^14)
            // so that lr delta = l16 2^(slr + sd - 26), and the update of a weight
            // u = l16 q 2^(slr + sd + sx - 26) in Q16.16: one MULS and a rounding
            // shift by m; the bias's l16 2^(slr + sd - 10).
            let m = 26 - slr - sd - sx;
            let mb = 10 - slr - sd;
            if (1..=27).contains(&m) && mb >= -13 && sw <= 12 {
                let k = super::kernels::SgdRow {
                    sd: sd as u32,
                    lr16,
                    m1: (m - 1) as u32,
                    mb,
                };
                super::kernels::sgd_rows(w, b, d, q, k);
            } else {
                sgd_rows_exact(RowsMut(w, n_in.max(1)).zip(b.iter_mut()).zip(d), x, lr);
            }
        }
    }

    /// One optimizer step on the mean gradient of a batch; returns the batch's mean
    /// loss. Needs the gradient buffer. On an error (any sample) nothing has changed.
    pub fn train_batch<B: Batch + ?Sized>(&mut self, batch: &B) -> Result<f32, StepError> {
        let n = batch.len();
        if n == 0 {
            return Err(StepError::EmptyBatch);
        }
        if self.grads.is_empty() {
            return Err(StepError::NeedsGradientBuffer { batch: n });
        }
        self.grads.iter_mut().for_each(|g| *g = 0);
        let mut loss: i64 = 0;
        for i in 0..n {
            let (x, target) = batch.sample(i)?;
            loss += i64::from(self.sample_pass(x, &target, i)?);
            self.accumulate();
        }
        let (sc, pow) = self.next_scalars();
        let spp = self.opt.fixed_state_per_param();
        let nn = n.min(i32::MAX as usize) as i64;
        let mut states = RowsMut(self.state, spp.max(1));
        for (p, g) in self.params.iter_mut().zip(self.grads.iter()) {
            let mean = sat_i32((i64::from(*g) * 2 + nn).div_euclid(2 * nn));
            let st = if spp == 0 {
                &mut [][..]
            } else {
                states.next().unwrap_or(&mut [])
            };
            if O::ADAM {
                self.rule.update(&sc, p, mean, st);
            } else {
                self.rule.update_sgd(&sc, p, mean, st);
            }
        }
        self.pow = pow;
        self.step = self.step.saturating_add(1);
        Ok(math::to_f32(sat(loss / nn), 16))
    }

    /// Adds the sample's gradient (Q8.24, saturating) to the gradient buffer.
    #[inline(never)] // one copy: called from several steps
    fn accumulate(&mut self) {
        let n0 = self.inputs();
        let e_at = self.errors_at();
        let (outs, errs) = self.acts.split_at(e_at.min(self.acts.len()));
        let (mut in_off, mut p_off) = (0usize, 0usize);
        for l in self.layers {
            let (n_in, n_out) = (l.inputs, l.outputs);
            let n_w = n_in * n_out;
            let x = outs.get(in_off..in_off + n_in).unwrap_or(&[]);
            let d_off = in_off + n_in - n0;
            let d = errs.get(d_off..d_off + n_out).unwrap_or(&[]);
            let Some(g) = self.grads.get_mut(p_off..p_off + n_w + n_out) else {
                return;
            };
            let (gw, gb) = g.split_at_mut(n_w.min(g.len()));
            for ((row, gbias), dv) in RowsMut(gw, n_in.max(1)).zip(gb.iter_mut()).zip(d) {
                for (gv, xv) in row.iter_mut().zip(x) {
                    *gv = gv.saturating_add(math::mul_round8(*dv, *xv));
                }
                *gbias = gbias.saturating_add(*dv << 8);
            }
            in_off += n_in;
            p_off += n_w + n_out;
        }
    }

    /// The model's output for `x` (as `f32`, into the first `outputs` of `out`).
    pub fn predict(&mut self, x: &[f32], out: &mut [f32]) -> Result<(), StepError> {
        self.load_input(x, 0)?;
        let k = self.outputs();
        if out.len() < k {
            return Err(StepError::OutputTooSmall {
                needed: k,
                provided: out.len(),
            });
        }
        self.forward();
        let e_at = self.errors_at();
        let z = self.acts.get(e_at.saturating_sub(k)..e_at).unwrap_or(&[]);
        for (o, v) in out.iter_mut().zip(z) {
            *o = math::to_f32(*v, 16);
        }
        Ok(())
    }

    /// The class with the largest output for `x`.
    pub fn predict_class(&mut self, x: &[f32]) -> Result<usize, StepError> {
        self.load_input(x, 0)?;
        self.forward();
        let k = self.outputs();
        let e_at = self.errors_at();
        let z = self.acts.get(e_at.saturating_sub(k)..e_at).unwrap_or(&[]);
        let mut best = 0;
        for (i, v) in z.iter().enumerate() {
            if z.get(best).is_some_and(|b| v > b) {
                best = i;
            }
        }
        Ok(best)
    }

    /// The loss of one sample, without training.
    pub fn sample_loss(&mut self, x: &[f32], target: &Target<'_>) -> Result<f32, StepError> {
        self.load_input(x, 0)?;
        self.check_target(target, 0)?;
        self.forward();
        Ok(math::to_f32(self.loss_and_delta(target), 16))
    }
}

/// `b^k` in Q2.30 as [`Rule::scalars`] forms it, one truncated product per step, so
/// that a restored run continues with the same bits as one never stopped (`k`
/// products: about 20 instructions each on the M0, only when restoring).
pub(super) fn pow_q30(b: i32, k: u32) -> i32 {
    let mut result = 1i32 << 30;
    for _ in 0..k {
        result = (mul_wide(result, b) >> 30) as i32;
        if result == 0 {
            break;
        }
    }
    result
}

/// The largest `|lr * delta|` of a plain-SGD row update, Q8.24 (just under 8).
const LD_MAX: i64 = (1 << 27) - 1;

/// The consecutive rows of `n` values of a slice (`chunks_exact` without its set-up's
/// division, a library call on the M0); `n > 0`. Also the kernels' ([`super::kernels`]).
pub(super) struct Rows<'s>(pub(super) &'s [i32], pub(super) usize);

impl<'s> Iterator for Rows<'s> {
    type Item = &'s [i32];
    #[inline(always)]
    fn next(&mut self) -> Option<&'s [i32]> {
        let (row, rest) = self.0.split_at_checked(self.1)?;
        self.0 = rest;
        Some(row)
    }
}

/// [`Rows`] of a mutable slice.
pub(super) struct RowsMut<'s>(pub(super) &'s mut [i32], pub(super) usize);

impl<'s> Iterator for RowsMut<'s> {
    type Item = &'s mut [i32];
    #[inline(always)]
    fn next(&mut self) -> Option<&'s mut [i32]> {
        let (row, rest) = core::mem::take(&mut self.0).split_at_mut_checked(self.1)?;
        self.0 = rest;
        Some(row)
    }
}

/// Layers whose weight shift a [`FixedTrainer`] keeps between the passes of a step.
const CACHED_LAYERS: usize = 8;

/// The weight shift of layer `li` (weights `w`) from the cache, or computed.
#[inline(always)]
fn cached_shift(cache: &[u8; CACHED_LAYERS], li: usize, w: &[i32]) -> u32 {
    match cache.get(li) {
        Some(s) => u32::from(*s),
        None => math::weight_shift(w),
    }
}

/// `v` saturated to `+-VALUE_MAX`, with one comparison in the common case (the clamp
/// out of line: inlined, the compiler computes it for every value).
#[inline(always)]
pub(super) fn clamp_value(v: i32) -> i32 {
    if (v.wrapping_add(VALUE_MAX) as u32) <= 2 * VALUE_MAX as u32 {
        v
    } else {
        clamp_value_cold(v)
    }
}

/// The clamp of [`clamp_value`].
#[cold]
#[inline(never)]
fn clamp_value_cold(v: i32) -> i32 {
    v.clamp(-VALUE_MAX, VALUE_MAX)
}

#[inline(always)]
fn sat_i32(v: i64) -> i32 {
    v.clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32
}
