//! The training steps: one sample (the fused step), a batch (gradient accumulated,
//! checked, clipped, then one update), and the optimizer's per-step scalars.

use super::checks::sum_abs_cold;
use super::plan::{Plan, UpdatePath};
use super::Trainer;
use crate::data::Batch;
use crate::error::StepError;
use crate::kernels;
use crate::layers::dense;
use crate::loss::Target;
use crate::optim::Optimizer;
use crate::schedule::Schedule;

impl<'a, O: Optimizer, P: Plan> Trainer<'a, O, P> {
    /// One optimizer step on one sample as it arrives (stochastic / online learning).
    /// Returns the sample's loss before the update.
    ///
    /// Without clipping this is the fused single-sample step (see the module docs).
    pub fn train_sample(&mut self, x: &[f32], target: Target<'_>) -> Result<f32, StepError> {
        // With clipping, or layers other than dense (no fused update: see
        // `layers::kinds`), a batch of one.
        if self.clipping().is_some() || self.has_kinds() {
            return self.train_sample_clipped(x, target);
        }
        let x_sum = self.check_input_sum(x)?;
        self.loss.check_target(&target, self.outputs(), 0)?;
        self.single_step(x, x_sum, &target)
    }

    /// The clipping norm if clipping is on and the plan allows it (a plan without
    /// clipping folds this to `None`).
    #[inline(always)]
    fn clipping(&self) -> Option<f32> {
        self.clip_norm.filter(|_| P::CLIPS)
    }

    /// Whether the learning rate follows a schedule (then the scalars come from its
    /// `f64` rate; a plan without schedules folds this to `false`).
    #[inline(always)]
    fn scheduled(&self) -> bool {
        P::SCHEDULES && !matches!(self.schedule, Schedule::Constant)
    }

    /// For an optimizer whose scalars are the same at every step of a constant
    /// schedule (`UpdateRule::scalars_constant`), computes them once, here; the
    /// step then leaves them as they are.
    pub(super) fn fix_constant_scalars(&mut self) {
        if !self.scheduled() && self.opt.scalars_constant() {
            self.step_scalars = self.opt.scalars_f32(self.opt.lr(), 1);
        }
    }

    /// The optimizer's scalars for step `k`, into `step_scalars`: at the schedule's
    /// `f64` rate, or from the `f32` learning rate with a constant schedule (the same
    /// values, without `f64` arithmetic), or left as
    /// [`fix_constant_scalars`](Self::fix_constant_scalars) computed them.
    #[inline(always)]
    fn update_scalars(&mut self, k: u32) {
        if self.scheduled() {
            self.scheduled_scalars(k);
        } else if !self.opt.scalars_constant() {
            self.constant_schedule_scalars(k);
        }
    }

    /// The scalars for step `k` with a constant schedule. Out of line: their arithmetic
    /// stays out of the step's frame.
    #[inline(never)]
    fn constant_schedule_scalars(&mut self, k: u32) {
        self.step_scalars = self.opt.scalars_f32(self.opt.lr(), k);
    }

    /// The scalars for step `k` at the schedule's learning rate.
    #[inline(never)]
    fn scheduled_scalars(&mut self, k: u32) {
        self.step_scalars = self.opt.scalars(self.current_lr(), k);
    }

    /// The single-sample update of every parameter (see
    /// [`fused_step`](Self::fused_step)), by the plan's update path. Out of line: the
    /// step's frame does not carry the update's arguments.
    #[inline(never)]
    fn update_model(&mut self, x: &[f32]) {
        if self.has_frozen() {
            let b = &mut self.buffers;
            crate::layers::partial::update_fused(
                self.layers,
                b.frozen.len(),
                b.params,
                b.grads,
                b.state,
                x,
                b.acts,
                &self.opt,
                &self.step_scalars,
            );
            return;
        }
        let stores_gradients = !self.buffers.grads.is_empty();
        let path = P::UPDATE.unwrap_or_else(|| UpdatePath::of(&self.opt, stores_gradients));
        let (opt, sc, layers, b) = (&self.opt, &self.step_scalars, self.layers, &mut self.buffers);
        match path {
            UpdatePath::Portable => opt.update_model(sc, layers, b, x),
            // SAFETY: `new` checked the layers (`shape::validate`), cut every buffer to
            // exactly the shape's size, and checked that a fixed plan's kernel covers
            // the optimizer and stores gradients exactly when there is a gradient
            // buffer (a dynamic plan's path was just read from both); no buffer changes
            // size afterwards, and the sample's input was checked to hold the model's
            // inputs.
            #[allow(unsafe_code)]
            UpdatePath::FpuKernel {
                stores_gradients: true,
            } => unsafe { opt.fpu_update_model::<true>(sc, layers, b, x) },
            #[allow(unsafe_code)]
            UpdatePath::FpuKernel {
                stores_gradients: false,
            } => unsafe { opt.fpu_update_model::<false>(sc, layers, b, x) },
        }
    }

    /// A sample with clipping, or of a model with layers other than dense: the batch
    /// path (kept out of line, so that the common single-sample step does not carry its
    /// stack frame).
    #[inline(never)]
    pub(super) fn train_sample_clipped(&mut self, x: &[f32], target: Target<'_>) -> Result<f32, StepError> {
        self.train_batch(&crate::data::SingleSample { x, target })
    }

    /// A checked sample, no clipping: the fused step, counted. Inlined into
    /// [`train_sample`](Self::train_sample), so that the step has no frame of its own.
    #[inline(always)]
    pub(super) fn single_step(&mut self, x: &[f32], x_sum: f32, t: &Target<'_>) -> Result<f32, StepError> {
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
        if n == 1 && self.clipping().is_none() && !self.has_kinds() {
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
        if let Some(max_norm) = self.clipping() {
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

    pub(super) fn count_rejected(&mut self) {
        self.rejected = self.rejected.saturating_add(1);
    }

    /// One sample, no clipping: the error terms of every layer first, all checked, then
    /// each parameter updated as its gradient `delta_i x_j` is formed (and written to
    /// `grads`). The same bits as accumulating the gradient first.
    pub(super) fn fused_step(
        &mut self,
        x: &[f32],
        x_sum: f32,
        t: &Target<'_>,
        k: u32,
    ) -> Result<f32, StepError> {
        self.forward(x);
        let loss = self.loss_into_delta(t, 1.0);
        if !loss.is_finite() {
            return Err(StepError::NonFiniteLoss);
        }
        self.backward_deltas();
        self.check_fused_gradient(x, x_sum)?;
        self.update_scalars(k);
        self.update_model(x);
        Ok(loss)
    }

    /// Steps 2 of the module docs: the batch's gradient into `grads`, and its loss.
    pub(super) fn accumulate<B: Batch + ?Sized>(&mut self, batch: &B, n: usize) -> Result<f32, StepError> {
        crate::kernels::fill(self.buffers.grads, 0.0);
        let inv = 1.0 / n as f32;
        let mut total = 0.0f32;
        for i in 0..n {
            let (x, t) = batch.sample(i)?;
            self.forward(x);
            total += self.loss_into_delta(&t, inv);
            let (frozen, kinds) = (self.has_frozen(), self.has_kinds());
            let b = &mut self.buffers;
            if kinds {
                crate::layers::kinds::backward(self.layers, b.params, b.grads, x, b.acts);
            } else if frozen {
                crate::layers::partial::backward(self.layers, b.frozen, b.params, b.grads, x, b.acts);
            } else {
                dense::backward(self.layers, b.params, b.grads, x, b.acts);
            }
        }
        Ok(total * inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Dense;
    use crate::storage::Buffers;
    use crate::{Activation, Loss, Schedule};

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
                frozen: &[],
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
