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
//! [`Batch`](crate::data::Batch)).
//!
//! ## Files
//!
//! This file: the trainer, its set-up and its state. `frozen.rs`: the set-up of a model
//! with frozen layers and its whole parameters. `plan.rs`: the [`Plan`] that says
//! which code a step runs. `step.rs`: the steps (a sample, a batch) and the per-step
//! scalars. `passes.rs`: the forward pass, the loss's error term, the error
//! propagation, prediction. `checks.rs`: the checks of a sample and of a single-sample
//! step's gradients.
//!
//! ## The plan
//!
//! A step chooses code by its configuration: the loss's error term, passes with or
//! without sigmoid and tanh, the optimizer's FPU kernel or portable loops, a schedule
//! and clipping or not. Each choice is a `match` on the trainer's [`Plan`] type
//! parameter, or on the configuration when the plan leaves it open ([`Dynamic`], the
//! default). A firmware names its plan with [`plan_for!`](crate::plan_for), whose
//! constants the compiler folds, so that it links only the code it runs.

use crate::error::{Buffer, ConfigError, StepError};
use crate::loss::Loss;
use crate::optim::{Optimizer, StepScalars};
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::shape::{self, Dense};
use crate::storage::Buffers;
use crate::{kernels, math};

/// A model, its training buffers, its loss and its optimizer; `P` is its [`Plan`], the
/// code its steps run (see the [module docs](self)).
#[derive(Debug)]
pub struct Trainer<'a, O: Optimizer, P: Plan = Dynamic> {
    layers: &'a [Dense],
    /// The buffers, each exactly the shape's size (the gradient buffer may be empty).
    buffers: Buffers<'a>,
    opt: O,
    loss: Loss,
    schedule: Schedule,
    /// The largest global L2 norm of a step's gradient, when clipping is on (set by
    /// [`set_clip_norm`](Self::set_clip_norm)).
    clip_norm: Option<f32>,
    step: u32,
    rejected: u32,
    /// The current step's optimizer scalars. Computed at each step, except for an
    /// optimizer whose scalars are the same at every step with a constant schedule
    /// (`UpdateRule::scalars_constant`): then once, by [`new`](Self::new) and
    /// [`set_schedule`](Self::set_schedule).
    step_scalars: StepScalars,
    /// The model's inputs and outputs (of its first and last layers), kept for the
    /// per-sample checks.
    inputs: usize,
    outputs: usize,
    plan: PhantomData<P>,
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

mod checks;
mod frozen;
mod passes;
pub mod plan;
mod step;

use core::marker::PhantomData;
pub use plan::{Dynamic, Fixed, Plan, PlanMismatch, UpdatePath};

impl<'a, O: Optimizer> Trainer<'a, O> {
    /// Puts a model together over `buffers`, checking the shape, the buffer sizes, the
    /// loss against the last activation and the optimizer's hyperparameters. Its plan
    /// is [`Dynamic`]: any configuration, every option's code linked (for a firmware's
    /// smallest flash, see [`with_plan`](Trainer::with_plan)).
    ///
    /// The parameters are left as they are (load or [`init_params`](Self::init_params)
    /// them); the optimizer state is reset to its initial value and the step count to 0.
    #[inline(always)]
    pub fn new(layers: &'a [Dense], buffers: Buffers<'a>, opt: O, loss: Loss) -> Result<Self, ConfigError> {
        Self::with_plan(layers, buffers, opt, loss)
    }
}

impl<'a, O: Optimizer, P: Plan> Trainer<'a, O, P> {
    /// [`new`](Trainer::new) with the plan `P` named by the caller's type, usually
    /// [`plan_for!`](crate::plan_for) of the same `const`s: also checks that the plan
    /// fits the configuration.
    ///
    /// Always inlined: with a constant shape, optimizer and loss (a firmware's), its
    /// checks fold away.
    #[inline(always)]
    pub fn with_plan(
        layers: &'a [Dense],
        buffers: Buffers<'a>,
        opt: O,
        loss: Loss,
    ) -> Result<Self, ConfigError> {
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
        let p = shape::trainable_params_len(layers);
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
        let frozen = frozen::checked_whole(layers, buffers.frozen)?;
        // Layers other than dense: no fused update (their gradient goes through the
        // gradient buffer) and no frozen passes.
        if let Some(layer) = layers.iter().position(|l| !l.is_dense()) {
            if grads.is_empty() {
                return Err(ConfigError::LayerKind {
                    layer,
                    problem:
                        "a model with layers other than dense needs a gradient buffer (not OnlineStorage)",
                });
            }
            if shape::has_frozen(layers) {
                return Err(ConfigError::LayerKind {
                    layer,
                    problem:
                        "frozen or bias-only layers in a model with layers other than dense are not supported",
                });
            }
        }
        plan::check::<P, O>(layers, &opt, loss, !grads.is_empty())?;
        frozen::start_from_whole(layers, frozen, params);
        opt.init_state(state);
        let mut trainer = Trainer {
            layers,
            buffers: Buffers {
                params,
                grads,
                state,
                acts,
                frozen,
            },
            opt,
            loss,
            schedule: Schedule::Constant,
            clip_norm: None,
            step: 0,
            rejected: 0,
            step_scalars: StepScalars::default(),
            inputs: shape::inputs(layers),
            outputs: shape::outputs(layers),
            plan: PhantomData,
        };
        trainer.fix_constant_scalars();
        Ok(trainer)
    }

    /// Sets the learning-rate schedule (checked first; on error nothing changes).
    /// A plan without schedules ([`plan_for!`](crate::plan_for) without `schedule`)
    /// takes only [`Schedule::Constant`].
    pub fn set_schedule(&mut self, schedule: Schedule) -> Result<(), ConfigError> {
        schedule.validate()?;
        plan::check_schedule::<P>(schedule)?;
        self.schedule = schedule;
        self.fix_constant_scalars();
        Ok(())
    }

    /// Clips the gradient to at most `max_norm` in global L2 norm before each update
    /// (`None` turns clipping off). As `torch.nn.utils.clip_grad_norm_`: the gradient is
    /// multiplied by `max_norm / (norm + 1e-6)` when that is below 1. A plan without
    /// clipping ([`plan_for!`](crate::plan_for) without `clipping`) takes only `None`.
    pub fn set_clip_norm(&mut self, max_norm: Option<f32>) -> Result<(), ConfigError> {
        if let Some(m) = max_norm {
            crate::optim::check("max_norm", m, m > 0.0, "max_norm > 0")?;
            if !P::CLIPS {
                return Err(ConfigError::Plan(PlanMismatch::Clipping));
            }
        }
        self.clip_norm = max_norm;
        Ok(())
    }

    /// Initialises the parameters as PyTorch's `nn.Linear` and `nn.Conv1d` do by
    /// default: every weight and bias of a layer uniform in `[-1/sqrt(fan_in),
    /// 1/sqrt(fan_in)]` ([`Dense::fan_in`]: `inputs`, or `in_channels * kernel`),
    /// drawn from a generator seeded with `seed`. Resets the optimizer state.
    pub fn init_params(&mut self, seed: u64) {
        if P::FROZEN.unwrap_or(!self.buffers.frozen.is_empty()) {
            self.init_trainable_params(seed);
            return;
        }
        let mut rng = Rng::new(seed);
        let mut rest: &mut [f32] = self.buffers.params;
        for l in self.layers {
            let bound = 1.0 / math::sqrt(l.fan_in() as f32);
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

    /// The parameters that train (per layer: `W` row-major, then `b`; a bias-only
    /// layer's `b`); with no frozen part, every parameter. See also
    /// [`whole_params`](Self::whole_params).
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
}
