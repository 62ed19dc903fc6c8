//! [`Trainer`]: a model over caller-owned buffers, trained one optimizer step at a time.
//!
//! One step on a batch of `B` samples:
//!
//! 1. **Check** every sample (input length, finite inputs, target length and range,
//!    label range). On an error nothing has been touched.
//! 2. **Accumulate** the gradient of the batch's mean loss, one sample at a time:
//!    forward pass, loss and its error term (already divided by `B`), backward pass.
//!    Only the gradient and activation buffers are written.
//! 3. **Check** that the loss and every gradient are finite, and every gradient below
//!    [`kernels::GRADIENT_LIMIT`] in magnitude (so the optimizer's arithmetic cannot
//!    overflow); otherwise return an error, with parameters and optimizer state
//!    untouched, and count the step as rejected.
//! 4. Optionally **clip** the gradient by its global L2 norm.
//! 5. **Update** the parameters with the optimizer at the schedule's learning rate.
//!
//! A step on a **single sample** without clipping (online learning) takes a shorter
//! path with the same bits: the error terms of every layer are computed and checked
//! first (step 3's guarantee, through a bound: `sum|delta| * max(1, sum|input|)` below
//! the limit, so every `|delta_i x_j|` is, and nothing NaN; where the bound fails,
//! every gradient is formed and checked), then each parameter is updated as soon as its gradient `delta_i x_j` is formed. With
//! [`OnlineStorage`](crate::OnlineStorage) the gradient is never stored at all.
//!
//! Because samples are processed one at a time, the activation buffer holds one sample
//! whatever the batch size, and a batch need not be contiguous in memory (see
//! [`Batch`]).

use crate::data::Batch;
use crate::error::{Buffer, ConfigError, StepError};
use crate::layers::{dense, layout};
use crate::loss::{Loss, Target};
use crate::optim::{ModelUpdateFn, Optimizer, StepScalars};
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::shape::{self, Dense};
use crate::storage::Buffers;
use crate::{kernels, math};

/// A model, its training buffers, its loss and its optimizer.
#[derive(Debug)]
pub struct Trainer<'a, O: Optimizer> {
    layers: &'a [Dense],
    /// The buffers, each exactly the shape's size (the gradient buffer may be empty).
    buffers: Buffers<'a>,
    opt: O,
    loss: Loss,
    schedule: Schedule,
    clip_norm: Option<f32>,
    step: u32,
    rejected: u32,
    /// The per-step scalars: from the `f32` learning rate for a constant schedule, or
    /// from the schedule's `f64` rate (set by [`set_schedule`](Self::set_schedule)).
    /// `None` when they are the same every step (a constant schedule and
    /// [`UpdateRule::scalars_constant`](crate::optim::UpdateRule::scalars_constant)): `sc` then holds them.
    scalars_fn: Option<fn(&mut Self, u32)>,
    /// The current step's scalars (here rather than in the step's stack frame).
    step_scalars: StepScalars,
    /// The optimizer's whole-model update ([`UpdateRule::model_update_fn`](crate::optim::UpdateRule::model_update_fn)).
    update_fn: ModelUpdateFn<O>,
    /// With clipping on, the step on one sample (the batch path); set by
    /// [`set_clip_norm`](Self::set_clip_norm), so that a firmware without clipping
    /// does not link it, whatever the compiler can prove about `clip_norm`.
    clipped_fn: Option<SampleFn<'a, O>>,
    /// The model's inputs and outputs (of its first and last layers), kept for the
    /// per-sample checks.
    inputs: usize,
    outputs: usize,
    /// The forward pass: without sigmoid and tanh when no layer has them.
    forward_fn: fn(&mut Self, &[f32]),
    /// The error propagation: likewise.
    backward_fn: fn(&mut Self),
    /// The loss's error term and value ([`Trainer::loss_into_delta`]), for the loss
    /// given to [`new`](Self::new) only.
    loss_fn: fn(&mut Self, &Target<'_>, f32) -> f32,
}

/// A single-sample step (see [`Trainer::train_sample`]).
type SampleFn<'a, O> = fn(&mut Trainer<'a, O>, &[f32], Target<'_>) -> Result<f32, StepError>;

/// [`kernels::sum_abs`] out of line, for the checks outside the single-sample step
/// (the input of a prediction or a batch): one copy.
#[inline(never)]
fn sum_abs_cold(v: &[f32]) -> f32 {
    kernels::sum_abs(v)
}

/// A loss fixed at compile time, so that [`Trainer::loss_into_delta_for`] has one copy
/// per loss and a firmware links only the one it trains with.
trait FixedLoss {
    const LOSS: Loss;
}

macro_rules! fixed_losses {
    ($($t:ident = $loss:expr;)+) => {$(
        struct $t;
        impl FixedLoss for $t {
            const LOSS: Loss = $loss;
        }
    )+};
}

fixed_losses! {
    FixedMse = Loss::Mse;
    FixedBinaryCrossEntropy = Loss::BinaryCrossEntropy;
    FixedSoftmaxCrossEntropy = Loss::SoftmaxCrossEntropy;
}

/// Checks values meant to replace `buffer` of `len` floats: the same length, all
/// finite.
fn check_replacement(values: &[f32], len: usize, buffer: Buffer) -> Result<(), StepError> {
    if values.len() != len {
        return Err(StepError::ReplacementLength {
            buffer,
            expected: len,
            got: values.len(),
        });
    }
    match kernels::first_non_finite(values) {
        Some(index) => Err(StepError::NonFiniteReplacement { buffer, index }),
        None => Ok(()),
    }
}

/// Takes the first `n` floats of a buffer, or says which buffer is too small.
fn prefix(b: &mut [f32], n: usize, buffer: Buffer) -> Result<&mut [f32], ConfigError> {
    let provided = b.len();
    b.get_mut(..n).ok_or(ConfigError::BufferTooSmall {
        buffer,
        needed: n,
        provided,
    })
}

impl<'a, O: Optimizer> Trainer<'a, O> {
    /// Puts a model together over `buffers`, checking the shape, the buffer sizes, the
    /// loss against the last activation and the optimizer's hyperparameters.
    ///
    /// The parameters are left as they are (load or [`init_params`](Self::init_params)
    /// them); the optimizer state is reset to its initial value and the step count to 0.
    ///
    /// Always inlined: with a constant shape, optimizer and loss (a firmware's), the
    /// choices of code it makes (see [`train_sample`](Self::train_sample)) fold away,
    /// so that only the chosen code is linked.
    #[inline(always)]
    pub fn new(layers: &'a [Dense], buffers: Buffers<'a>, opt: O, loss: Loss) -> Result<Self, ConfigError> {
        shape::validate(layers)?;
        if let (Some(req), Some(last)) = (loss.required_activation(), layers.last()) {
            if last.activation != req {
                return Err(ConfigError::LossActivation {
                    loss,
                    found: last.activation,
                });
            }
        }
        opt.validate()?;
        let p = shape::params_len(layers);
        let s = p.saturating_mul(opt.state_per_param());
        let a = shape::activations_len(layers);
        let params = prefix(buffers.params, p, Buffer::Params)?;
        // An empty gradient buffer is the online-only mode (see `OnlineStorage`).
        let grads = if buffers.grads.is_empty() {
            buffers.grads
        } else {
            prefix(buffers.grads, p, Buffer::Grads)?
        };
        let state = prefix(buffers.state, s, Buffer::State)?;
        let acts = prefix(buffers.acts, a, Buffer::Activations)?;
        opt.init_state(state);
        let update_fn = opt.model_update_fn(!grads.is_empty());
        // The shape decides the code: with ReLU and identity layers only, the step's
        // passes carry no sigmoid or tanh (a firmware's constant layers fold this test).
        let plain = layers.iter().all(|l| {
            matches!(
                l.activation,
                crate::Activation::Relu | crate::Activation::Identity
            )
        });
        let scalars_fn = Self::constant_scalars_fn(&opt);
        let step_scalars = match scalars_fn {
            None => opt.scalars_f32(opt.lr(), 1),
            Some(_) => StepScalars::default(),
        };
        Ok(Trainer {
            layers,
            buffers: Buffers {
                params,
                grads,
                state,
                acts,
            },
            opt,
            loss,
            schedule: Schedule::Constant,
            clip_norm: None,
            step: 0,
            rejected: 0,
            scalars_fn,
            step_scalars,
            update_fn,
            clipped_fn: None,
            inputs: shape::inputs(layers),
            outputs: shape::outputs(layers),
            loss_fn: match loss {
                Loss::Mse => Self::loss_into_delta_for::<FixedMse>,
                Loss::BinaryCrossEntropy => Self::loss_into_delta_for::<FixedBinaryCrossEntropy>,
                Loss::SoftmaxCrossEntropy => Self::loss_into_delta_for::<FixedSoftmaxCrossEntropy>,
            },
            forward_fn: if plain {
                Self::forward_with::<false>
            } else {
                Self::forward_with::<true>
            },
            backward_fn: if plain {
                Self::backward_deltas_with::<false>
            } else {
                Self::backward_deltas_with::<true>
            },
        })
    }

    /// Sets the learning-rate schedule (checked first; on error nothing changes).
    pub fn set_schedule(&mut self, schedule: Schedule) -> Result<(), ConfigError> {
        schedule.validate()?;
        self.schedule = schedule;
        self.scalars_fn = match schedule {
            Schedule::Constant => Self::constant_scalars_fn(&self.opt),
            _ => Some(Self::scheduled_scalars),
        };
        if self.scalars_fn.is_none() {
            self.step_scalars = self.opt.scalars_f32(self.opt.lr(), 1);
        }
        Ok(())
    }

    /// Clips the gradient to at most `max_norm` in global L2 norm before each update
    /// (`None` turns clipping off). As `torch.nn.utils.clip_grad_norm_`: the gradient is
    /// multiplied by `max_norm / (norm + 1e-6)` when that is below 1.
    pub fn set_clip_norm(&mut self, max_norm: Option<f32>) -> Result<(), ConfigError> {
        if let Some(m) = max_norm {
            crate::optim::check("max_norm", m, m > 0.0, "max_norm > 0")?;
        }
        self.clip_norm = max_norm;
        self.clipped_fn = match max_norm {
            None => None,
            Some(_) => Some(Self::train_sample_clipped),
        };
        Ok(())
    }

    /// Initialises the parameters as PyTorch's `nn.Linear` does by default: every
    /// weight and bias of a layer uniform in `[-1/sqrt(inputs), 1/sqrt(inputs)]`,
    /// drawn from a generator seeded with `seed`. Resets the optimizer state.
    pub fn init_params(&mut self, seed: u64) {
        let mut rng = Rng::new(seed);
        let mut rest: &mut [f32] = self.buffers.params;
        for l in self.layers {
            let bound = 1.0 / math::sqrt(l.inputs as f32);
            // The count is opaque: with a constant shape, LLVM would otherwise unroll
            // every draw (about 1 KB of flash for a 4-8-3 model).
            let n = core::hint::black_box(l.params_len().min(rest.len()));
            let (layer, tail) = core::mem::take(&mut rest).split_at_mut(n);
            layer.iter_mut().for_each(|p| *p = rng.symmetric(bound));
            rest = tail;
        }
        self.reset_optimizer();
    }

    /// Replaces the parameters by `params` (same layout). Rejected, with nothing
    /// changed, if the length is wrong or a value is not finite.
    pub fn load_params(&mut self, params: &[f32]) -> Result<(), StepError> {
        check_replacement(params, self.buffers.params.len(), Buffer::Params)?;
        self.buffers.params.copy_from_slice(params);
        Ok(())
    }

    /// Resets the optimizer state and the step count (a fresh optimizer).
    pub fn reset_optimizer(&mut self) {
        self.opt.init_state(self.buffers.state);
        self.step = 0;
    }

    /// The layers.
    pub fn layers(&self) -> &[Dense] {
        self.layers
    }

    /// The parameters (per layer: `W` row-major, then `b`).
    pub fn params(&self) -> &[f32] {
        self.buffers.params
    }

    /// The gradient of the last step (after clipping); empty for a trainer built
    /// without a gradient buffer (online-only, see [`OnlineStorage`](crate::OnlineStorage)).
    pub fn grads(&self) -> &[f32] {
        self.buffers.grads
    }

    /// `true` when the trainer has no gradient buffer and so takes only single-sample
    /// steps without clipping (see [`OnlineStorage`](crate::OnlineStorage)).
    pub fn is_online_only(&self) -> bool {
        self.buffers.grads.is_empty()
    }

    /// The optimizer state.
    pub fn state(&self) -> &[f32] {
        self.buffers.state
    }

    /// The optimizer config.
    pub fn optimizer(&self) -> &O {
        &self.opt
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The learning-rate schedule.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// The gradient clipping norm, if clipping is on.
    pub fn clip_norm(&self) -> Option<f32> {
        self.clip_norm
    }

    /// The model's output from the last forward pass: after
    /// [`predict`](Self::predict) or [`sample_loss`](Self::sample_loss), or after a
    /// training step the output for its last sample **with the parameters before the
    /// update** — so a device can score its prediction and learn from the same sample
    /// with one forward pass (prequential evaluation).
    pub fn last_output(&self) -> &[f32] {
        self.buffers.acts.get(self.output_range()).unwrap_or(&[])
    }

    /// The number of optimizer steps taken (the schedule's `t` of the next step).
    pub fn step_count(&self) -> u32 {
        self.step
    }

    /// Sets the step count (to resume from a checkpoint, with the matching state; see
    /// also [`restore`](Self::restore)).
    pub fn set_step_count(&mut self, step: u32) {
        self.step = step;
    }

    /// Number of training steps rejected so far because their loss or gradient was not
    /// finite (bad data caught by the input checks is not counted here; it never got
    /// that far). Saturates at `u32::MAX`.
    pub fn rejected_steps(&self) -> u32 {
        self.rejected
    }

    /// Restores parameters, optimizer state and step count together (from a
    /// checkpoint). All three are checked first (lengths, finite values); on an error
    /// nothing changes.
    pub fn restore(&mut self, params: &[f32], state: &[f32], step: u32) -> Result<(), StepError> {
        check_replacement(params, self.buffers.params.len(), Buffer::Params)?;
        check_replacement(state, self.buffers.state.len(), Buffer::State)?;
        self.buffers.params.copy_from_slice(params);
        self.buffers.state.copy_from_slice(state);
        self.step = step;
        Ok(())
    }

    /// Number of model inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of model outputs.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// The learning rate the next step will use.
    pub fn current_lr(&self) -> f64 {
        self.schedule.lr_at(self.opt.lr(), self.step)
    }

    /// [`check_input`](Self::check_input) for a single-sample step, with the sum
    /// inlined, returning `sum|x|` for the gradient check.
    #[inline]
    fn check_input_sum(&self, x: &[f32]) -> Result<f32, StepError> {
        self.checked_input_sum_by(x, 0, kernels::sum_abs)
    }

    /// Checks input `sample` (its length, finite values) and returns `sum|x|` as `sum`
    /// computes it: a finite sum shows every input finite, so the search for the first
    /// bad one runs only when it is not (an overflowing sum of finite inputs passes).
    #[inline(always)]
    fn checked_input_sum_by(
        &self,
        x: &[f32],
        sample: usize,
        sum: impl Fn(&[f32]) -> f32,
    ) -> Result<f32, StepError> {
        let expected = self.inputs();
        if x.len() != expected {
            return Err(StepError::InputLength {
                sample,
                expected,
                got: x.len(),
            });
        }
        let sum = sum(x);
        if !sum.is_finite() {
            // The sum did the fast pass: only the search is left.
            if let Some(index) = kernels::find_non_finite(x) {
                return Err(StepError::NonFiniteInput { sample, index });
            }
        }
        Ok(sum)
    }

    /// Checks an input outside the single-sample step (prediction, evaluation, a
    /// batch): the same checks, with the sum out of line (flash).
    fn check_input(&self, x: &[f32], sample: usize) -> Result<(), StepError> {
        self.checked_input_sum_by(x, sample, sum_abs_cold).map(|_| ())
    }

    /// Checks one sample against the model and the loss, as a training step would.
    pub fn check_sample(&self, x: &[f32], target: &Target<'_>) -> Result<(), StepError> {
        self.check_input(x, 0)?;
        self.loss.check_target(target, self.outputs(), 0)
    }

    /// Whether the output of the last forward pass ([`predict`](Self::predict) or
    /// [`sample_loss`](Self::sample_loss)) classifies `target` right.
    pub fn last_output_matches(&self, target: &Target<'_>) -> bool {
        self.buffers
            .acts
            .get(self.output_range())
            .is_some_and(|y| crate::data::is_correct(y, target))
    }

    /// The slice of the activation buffer that holds the model's output.
    fn output_range(&self) -> core::ops::Range<usize> {
        layout::model_output(self.buffers.acts.len(), self.outputs())
    }

    /// Copies the model's output into the last layer's error slot and lets the loss
    /// turn it into `dL/dz` there (scaled by `inv`); softmax cross-entropy with a class
    /// label writes it there straight from the output. Returns the sample's loss.
    #[inline]
    fn loss_into_delta(&mut self, target: &Target<'_>, inv: f32) -> f32 {
        (self.loss_fn)(self, target, inv)
    }

    /// [`loss_into_delta`](Self::loss_into_delta) for the loss `L`: one copy per loss,
    /// chosen by [`new`](Self::new), so that a firmware links only the loss it trains
    /// with.
    fn loss_into_delta_for<L: FixedLoss>(&mut self, target: &Target<'_>, inv: f32) -> f32 {
        let loss = L::LOSS;
        // The model's output, and its error term at the same place among the errors.
        let range = layout::model_output(self.buffers.acts.len(), self.outputs);
        let (a, d) = layout::outputs_and_errors_mut(self.buffers.acts);
        match (a.get(range.clone()), d.get_mut(range)) {
            (Some(y), Some(delta)) => {
                use crate::loss::softmax_cross_entropy as softmax;
                match (loss, target) {
                    // Softmax cross-entropy with a class label (classification's common
                    // case) reads the logits where they are (a label out of range was
                    // rejected with the sample; here it would make the loss NaN).
                    (Loss::SoftmaxCrossEntropy, Target::Class(c)) => {
                        softmax::class_loss_and_delta(y, delta, *c, inv).unwrap_or(f32::NAN)
                    }
                    // With target values, through the values alone: the code for the
                    // class case is not carried twice.
                    (Loss::SoftmaxCrossEntropy, Target::Values(v)) => {
                        kernels::copy(delta, y);
                        softmax::weighted_loss_and_delta(delta, |k| v.get(k).copied().unwrap_or(0.0), inv)
                    }
                    _ => {
                        kernels::copy(delta, y);
                        let last = self
                            .layers
                            .last()
                            .map_or(crate::Activation::Identity, |l| l.activation);
                        loss.loss_and_delta(last, delta, target, inv)
                    }
                }
            }
            _ => f32::NAN,
        }
    }

    /// [`dense::forward`] on the trainer's buffers, by the pass [`new`](Self::new)
    /// chose for the layers' activations.
    #[inline]
    fn forward(&mut self, x: &[f32]) {
        (self.forward_fn)(self, x);
    }

    /// [`dense::backward_deltas`] on the trainer's buffers (see [`forward`](Self::forward)).
    #[inline]
    fn backward_deltas(&mut self) {
        (self.backward_fn)(self);
    }

    /// The forward pass (`SIGMOID_OR_TANH = false`: ReLU and identity layers only). Out of
    /// line and with two arguments: one copy for every caller, and no arguments on the
    /// step's stack.
    fn forward_with<const SIGMOID_OR_TANH: bool>(&mut self, x: &[f32]) {
        // SAFETY: `new` checked the layers and cut the buffers to the shape's sizes, and
        // every caller checked `x` against the model's inputs first.
        #[allow(unsafe_code)]
        unsafe {
            dense::forward_unchecked::<SIGMOID_OR_TANH>(
                self.layers,
                self.buffers.params,
                x,
                self.buffers.acts,
            )
        };
    }

    /// The error propagation (see [`forward_with`](Self::forward_with)).
    fn backward_deltas_with<const SIGMOID_OR_TANH: bool>(&mut self) {
        // SAFETY: `new` checked the layers and cut the buffers to the shape's sizes.
        #[allow(unsafe_code)]
        unsafe {
            dense::backward_deltas_unchecked::<SIGMOID_OR_TANH>(
                self.layers,
                self.buffers.params,
                self.buffers.acts,
            )
        };
    }

    /// Runs the model on one input and writes its output (after the last activation;
    /// for softmax cross-entropy these are the logits) into `out`.
    pub fn predict(&mut self, x: &[f32], out: &mut [f32]) -> Result<(), StepError> {
        self.check_input(x, 0)?;
        let o = self.outputs();
        let got = out.len();
        let out = out.get_mut(..o).ok_or(StepError::OutputTooSmall {
            needed: o,
            provided: got,
        })?;
        self.forward(x);
        if let Some(y) = self.buffers.acts.get(self.output_range()) {
            kernels::copy(out, y);
        }
        Ok(())
    }

    /// The loss of one sample with the current parameters (no training).
    pub fn sample_loss(&mut self, x: &[f32], target: &Target<'_>) -> Result<f32, StepError> {
        self.check_input(x, 0)?;
        self.loss.check_target(target, self.outputs(), 0)?;
        self.forward(x);
        let range = self.output_range();
        Ok(self
            .buffers
            .acts
            .get(range)
            .map_or(f32::NAN, |y| self.loss.value(y, target)))
    }

    /// One optimizer step on one sample as it arrives (stochastic / online learning).
    /// Returns the sample's loss before the update.
    ///
    /// Without clipping this is the fused single-sample step (see the module docs). It
    /// reaches the schedule's `f64` arithmetic and the optimizer's portable loops
    /// through function pointers set by [`set_schedule`](Self::set_schedule) and
    /// [`new`](Self::new) (`UpdateRule::model_update_fn`): a firmware that never needs
    /// them does not link them.
    pub fn train_sample(&mut self, x: &[f32], target: Target<'_>) -> Result<f32, StepError> {
        if let Some(clipped) = self.clipped_fn {
            return clipped(self, x, target);
        }
        let x_sum = self.check_input_sum(x)?;
        self.loss.check_target(&target, self.outputs(), 0)?;
        self.single_step(x, x_sum, &target)
    }

    /// The scalars function for a constant schedule: none when the optimizer's
    /// scalars do not change from step to step (they are then computed once).
    fn constant_scalars_fn(opt: &O) -> Option<fn(&mut Self, u32)> {
        if opt.scalars_constant() {
            None
        } else {
            Some(Self::constant_scalars)
        }
    }

    /// The optimizer's scalars for step `k` with a constant schedule, into `sc`: no
    /// `f64` arithmetic (the same values as [`scheduled_scalars`](Self::scheduled_scalars)).
    fn constant_scalars(&mut self, k: u32) {
        self.step_scalars = self.opt.scalars_f32(self.opt.lr(), k);
    }

    /// The optimizer's scalars for step `k` at the schedule's learning rate, into `sc`.
    fn scheduled_scalars(&mut self, k: u32) {
        self.step_scalars = self.opt.scalars(self.current_lr(), k);
    }

    /// A sample with clipping: the batch path (kept out of line, so that the common
    /// single-sample step does not carry its stack frame).
    #[inline(never)]
    fn train_sample_clipped(&mut self, x: &[f32], target: Target<'_>) -> Result<f32, StepError> {
        self.train_batch(&crate::data::SingleSample { x, target })
    }

    /// A checked sample, no clipping: the fused step, counted. Inlined into
    /// [`train_sample`](Self::train_sample), so that the step has no frame of its own.
    #[inline(always)]
    fn single_step(&mut self, x: &[f32], x_sum: f32, t: &Target<'_>) -> Result<f32, StepError> {
        let k = self.step.saturating_add(1);
        let loss = self
            .fused_step(x, x_sum, t, k)
            .inspect_err(|_| self.count_rejected())?;
        self.step = k;
        Ok(loss)
    }

    /// One optimizer step on a batch. Returns the batch's mean loss before the update.
    /// On an error, parameters, optimizer state and step count are unchanged.
    #[inline(never)]
    pub fn train_batch<B: Batch + ?Sized>(&mut self, batch: &B) -> Result<f32, StepError> {
        let n = batch.len();
        if n == 0 {
            return Err(StepError::EmptyBatch);
        }
        let outputs = self.outputs();
        if n == 1 && self.clip_norm.is_none() {
            // One sample, checked as `train_sample` checks it: its input's `sum|x|` is
            // computed once and feeds the gradient check.
            let (x, t) = batch.sample(0)?;
            let x_sum = self.checked_input_sum_by(x, 0, sum_abs_cold)?;
            self.loss.check_target(&t, outputs, 0)?;
            return self.single_step(x, x_sum, &t);
        }
        for i in 0..n {
            let (x, t) = batch.sample(i)?;
            self.check_input(x, i)?;
            self.loss.check_target(&t, outputs, i)?;
        }
        if self.buffers.grads.is_empty() {
            return Err(StepError::NeedsGradientBuffer { batch: n });
        }
        let lr = self.current_lr();
        let k = self.step.saturating_add(1);
        let loss = self.accumulate(batch, n)?;
        let verdict = if !loss.is_finite() {
            Err(StepError::NonFiniteLoss)
        } else if let Some(index) = kernels::first_out_of_range(self.buffers.grads) {
            Err(StepError::GradientOutOfRange { index })
        } else {
            Ok(())
        };
        verdict.inspect_err(|_| self.count_rejected())?;
        if let Some(max_norm) = self.clip_norm {
            let norm = kernels::l2_norm(self.buffers.grads);
            let coef = max_norm / (norm + 1e-6);
            if coef < 1.0 {
                kernels::scale(self.buffers.grads, coef);
            }
        }
        self.opt
            .step(self.buffers.params, self.buffers.grads, self.buffers.state, lr, k);
        self.step = k;
        Ok(loss)
    }

    fn count_rejected(&mut self) {
        self.rejected = self.rejected.saturating_add(1);
    }

    /// One sample, no clipping: the error terms of every layer first, all checked, then
    /// each parameter updated as its gradient `delta_i x_j` is formed (and written to
    /// `grads`). The same bits as accumulating the gradient first.
    fn fused_step(&mut self, x: &[f32], x_sum: f32, t: &Target<'_>, k: u32) -> Result<f32, StepError> {
        self.forward(x);
        let loss = self.loss_into_delta(t, 1.0);
        if !loss.is_finite() {
            return Err(StepError::NonFiniteLoss);
        }
        self.backward_deltas();
        self.check_fused_gradient(x, x_sum)?;
        if let Some(scalars) = self.scalars_fn {
            scalars(self, k);
        }
        // SAFETY: `new` checked the layers (`shape::validate`) and cut every buffer to
        // exactly the shape's size (the gradient buffer to that or nothing, as
        // `model_update_fn` was told); none of them changes size afterwards, and the
        // sample's input was checked to hold the model's inputs.
        #[allow(unsafe_code)]
        unsafe {
            (self.update_fn)(&self.opt, &self.step_scalars, self.layers, &mut self.buffers, x)
        };
        Ok(loss)
    }

    /// Before a fused update: every gradient the update will form, `delta_i x_j` for a
    /// weight and `delta_i` for a bias, is finite and below [`kernels::GRADIENT_LIMIT`]
    /// in magnitude, as the batch path checks its stored gradient. `x` was checked
    /// finite with the sample.
    ///
    /// First one bound for the whole model, from three sums: `sum|delta| * max(1,
    /// sum|input|)` over all error terms and the input plus all hidden activations. It
    /// bounds every `|delta_i x_j|` and `|delta_i|` of every layer, and a NaN or infinite
    /// term makes it NaN or infinite: when it is below the limit, every gradient is in
    /// range. Only otherwise are the gradients formed and checked one by one
    /// ([`check_each_gradient`](Self::check_each_gradient)). Out of
    /// line: its sums stay out of the step's frame.
    #[inline(never)]
    fn check_fused_gradient(&self, x: &[f32], x_sum: f32) -> Result<(), StepError> {
        let (a, d) = layout::outputs_and_errors(self.buffers.acts);
        let hidden = a.len().saturating_sub(self.outputs());
        let inputs = x_sum + kernels::sum_abs(a.get(..hidden).unwrap_or(&[]));
        if Self::gradient_bound_holds(kernels::sum_abs(d), inputs) {
            return Ok(());
        }
        self.check_each_gradient(x)
    }

    /// `deltas * max(1, inputs) < GRADIENT_LIMIT`, false when either is NaN.
    #[inline]
    fn gradient_bound_holds(deltas: f32, inputs: f32) -> bool {
        // `s < 1` is false for NaN, which then carries into the bound.
        let scale = if inputs < 1.0 { 1.0 } else { inputs };
        let bound = deltas * scale;
        !bound.is_nan() && bound < kernels::GRADIENT_LIMIT
    }

    /// Forms every gradient of a single-sample step as the update forms it (per layer
    /// the weights `delta_i x_j` row by row, then the biases `delta_i`) and names the
    /// first that is NaN, infinite or at least [`kernels::GRADIENT_LIMIT`] in
    /// magnitude by its index in the flat parameter vector. Out of line: it runs only
    /// where the whole-model bound of [`check_fused_gradient`](Self::check_fused_gradient)
    /// fails.
    #[inline(never)]
    fn check_each_gradient(&self, x: &[f32]) -> Result<(), StepError> {
        let in_range = |g: f32| g.abs() < kernels::GRADIENT_LIMIT;
        let (mut a, mut d) = layout::outputs_and_errors(self.buffers.acts);
        let mut input = x;
        // The parameter whose gradient is checked next: `new` cut every buffer to the
        // shape, so the loops below visit the parameters in order, one each.
        let mut index = 0usize;
        for l in self.layers {
            let (delta, rest) = d.split_at(l.outputs.min(d.len()));
            d = rest;
            for di in delta {
                for xj in input {
                    kernels::keep_rolled();
                    if !in_range(di * xj) {
                        return Err(StepError::GradientOutOfRange { index });
                    }
                    index += 1;
                }
            }
            for di in delta {
                kernels::keep_rolled();
                if !in_range(*di) {
                    return Err(StepError::GradientOutOfRange { index });
                }
                index += 1;
            }
            (input, a) = a.split_at(l.outputs.min(a.len()));
        }
        Ok(())
    }

    /// Steps 2 of the module docs: the batch's gradient into `grads`, and its loss.
    fn accumulate<B: Batch + ?Sized>(&mut self, batch: &B, n: usize) -> Result<f32, StepError> {
        crate::kernels::fill(self.buffers.grads, 0.0);
        let inv = 1.0 / n as f32;
        let mut total = 0.0f32;
        for i in 0..n {
            let (x, t) = batch.sample(i)?;
            self.forward(x);
            total += self.loss_into_delta(&t, inv);
            dense::backward(
                self.layers,
                self.buffers.params,
                self.buffers.grads,
                x,
                self.buffers.acts,
            );
        }
        Ok(total * inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Sgd};

    /// The whole-model bound only filters: where it fails but every gradient is in
    /// range, the step is accepted; otherwise the first gradient out of range is named.
    #[test]
    fn fused_check_is_the_per_layer_check() {
        let layers = [
            Dense::new(2, 2, Activation::Relu),
            Dense::new(2, 2, Activation::Identity),
        ];
        let (mut p, mut g, mut a) = ([0.0f32; 12], [0.0f32; 12], [0.0f32; 8]);
        let buffers = Buffers {
            params: &mut p,
            grads: &mut g,
            state: &mut [],
            acts: &mut a,
        };
        let t = Trainer::new(&layers, buffers, Sgd::new(0.1), Loss::Mse).unwrap();
        let x = [1.0f32, 0.0];
        let big = 1.0e9f32;
        // acts = [a1 (2) | a2 (2) | delta1 (2) | delta2 (2)].
        // Layer 1: deltas 1e9 x input 1 = 1e9. Layer 2: deltas 1 x input 1e10 = 1e10.
        // All deltas x (input + hidden) is about 1e19, above the limit (2.3e18).
        t.buffers
            .acts
            .copy_from_slice(&[big, 9.0 * big, 0.5, 0.5, big, 0.0, 1.0, 0.0]);
        assert!(!Trainer::<Sgd>::gradient_bound_holds(big + 1.0, 1.0 + 10.0 * big));
        assert_eq!(t.check_fused_gradient(&x, kernels::sum_abs(&x)), Ok(()));
        // Layer 2 (parameters 6..12: W row-major 6..10, b 10..12): delta2[0] = 1e9
        // times a1 = (1e9, 9e9): W[0][0]'s gradient 1e18 is in range, W[0][1]'s 9e18
        // (parameter 7) is not.
        t.buffers
            .acts
            .copy_from_slice(&[big, 9.0 * big, 0.5, 0.5, 1.0, 0.0, big, 0.0]);
        assert_eq!(
            t.check_fused_gradient(&x, kernels::sum_abs(&x)),
            Err(StepError::GradientOutOfRange { index: 7 })
        );
        // Every weight gradient in range, the bias gradient delta2[1] = 3e18 is not
        // (parameter 11).
        t.buffers
            .acts
            .copy_from_slice(&[0.0, 0.0, 0.5, 0.5, 1.0, 0.0, 1.0, 3.0 * big * big]);
        assert_eq!(
            t.check_fused_gradient(&x, kernels::sum_abs(&x)),
            Err(StepError::GradientOutOfRange { index: 11 })
        );
        // A NaN error term in layer 1 (row 0): its first gradient, parameter 0.
        t.buffers
            .acts
            .copy_from_slice(&[0.0, 0.0, 0.5, 0.5, f32::NAN, 0.0, 1.0, 0.0]);
        assert_eq!(
            t.check_fused_gradient(&x, kernels::sum_abs(&x)),
            Err(StepError::GradientOutOfRange { index: 0 })
        );
        // Row 1 of layer 1: x = (1, 0), so W[1][0] (parameter 2) is the first.
        t.buffers
            .acts
            .copy_from_slice(&[0.0, 0.0, 0.5, 0.5, 0.0, f32::INFINITY, 1.0, 0.0]);
        assert_eq!(
            t.check_fused_gradient(&x, kernels::sum_abs(&x)),
            Err(StepError::GradientOutOfRange { index: 2 })
        );
        // Small values everywhere: the fast path.
        t.buffers
            .acts
            .copy_from_slice(&[1.0, 2.0, 0.5, 0.5, 0.1, 0.2, 0.3, 0.4]);
        assert_eq!(t.check_fused_gradient(&x, kernels::sum_abs(&x)), Ok(()));
    }

    /// The scalars follow the schedule set last: a schedule set and then replaced by
    /// the constant one trains as a trainer that never had one, and a decaying
    /// schedule changes the steps.
    #[test]
    fn the_schedule_set_last_picks_the_scalars() {
        let layers = [
            Dense::new(2, 3, Activation::Relu),
            Dense::new(3, 2, Activation::Identity),
        ];
        let run = |schedules: &[Schedule]| {
            let (mut p, mut g, mut a) = ([0.0f32; 17], [0.0f32; 17], [0.0f32; 10]);
            let mut s = [0.0f32; 34];
            let buffers = Buffers {
                params: &mut p,
                grads: &mut g,
                state: &mut s,
                acts: &mut a,
            };
            let mut t = Trainer::new(
                &layers,
                buffers,
                crate::Adam::new(0.05),
                Loss::SoftmaxCrossEntropy,
            )
            .unwrap();
            t.init_params(3);
            for sch in schedules {
                t.set_schedule(*sch).unwrap();
            }
            for i in 0..5 {
                t.train_sample(&[0.5, -1.0 + i as f32], Target::Class(i % 2))
                    .unwrap();
            }
            p
        };
        let decay = Schedule::Exponential { gamma: 0.5 };
        assert_eq!(run(&[]), run(&[decay, Schedule::Constant]));
        assert_ne!(run(&[]), run(&[decay]));
    }
}
