//! The trainer's passes over its own buffers: the forward pass, the loss's error term
//! and the error propagation (each chosen by the trainer's [`Plan`]), prediction and a
//! sample's loss.

use super::plan::Plan;
use super::Trainer;
use crate::error::StepError;
use crate::kernels;
use crate::layers::{dense, layout};
use crate::loss::{Loss, Target};
use crate::optim::Optimizer;

/// A loss as a type, so that [`Trainer::loss_into_delta_for`] has one copy per loss
/// and a firmware links only the one its plan names.
pub(super) trait FixedLoss {
    const LOSS: Loss;
}

macro_rules! fixed_losses {
    ($($t:ident = $loss:expr;)+) => {$(
        pub(super) struct $t;
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

impl<'a, O: Optimizer, P: Plan> Trainer<'a, O, P> {
    /// Whether the output of the last forward pass ([`predict`](Self::predict) or
    /// [`sample_loss`](Self::sample_loss)) classifies `target` right.
    pub fn last_output_matches(&self, target: &Target<'_>) -> bool {
        self.buffers
            .acts
            .get(self.output_range())
            .is_some_and(|y| crate::data::is_correct(y, target))
    }

    /// The slice of the activation buffer that holds the model's output.
    pub(super) fn output_range(&self) -> core::ops::Range<usize> {
        layout::model_output(self.buffers.acts.len(), self.outputs())
    }

    /// Copies the model's output into the last layer's error slot and lets the loss
    /// turn it into `dL/dz` there (scaled by `inv`); softmax cross-entropy with a class
    /// label writes it there straight from the output. Returns the sample's loss.
    #[inline]
    pub(super) fn loss_into_delta(&mut self, target: &Target<'_>, inv: f32) -> f32 {
        match P::LOSS.unwrap_or(self.loss) {
            Loss::Mse => self.loss_into_delta_for::<FixedMse>(target, inv),
            Loss::BinaryCrossEntropy => self.loss_into_delta_for::<FixedBinaryCrossEntropy>(target, inv),
            Loss::SoftmaxCrossEntropy => self.loss_into_delta_for::<FixedSoftmaxCrossEntropy>(target, inv),
        }
    }

    /// [`loss_into_delta`](Self::loss_into_delta) for the loss `L`: one copy per loss.
    /// Out of line: one copy for every caller.
    #[inline(never)]
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

    /// Whether a layer is frozen or bias-only: the plan's answer, or the buffers' (the
    /// whole model's parameters are there exactly then).
    #[inline(always)]
    pub(super) fn has_frozen(&self) -> bool {
        P::FROZEN.unwrap_or(!self.buffers.frozen.is_empty())
    }

    /// Whether a layer is not dense: the plan's answer, or the layers'.
    #[inline(always)]
    pub(super) fn has_kinds(&self) -> bool {
        P::KINDS.unwrap_or_else(|| crate::shape::has_non_dense(self.layers))
    }

    /// The forward pass of a model with layers of other kinds ([`crate::layers::kinds`]).
    #[inline(never)]
    fn forward_kinds(&mut self, x: &[f32]) {
        let b = &mut self.buffers;
        let half = crate::layers::layout::errors_offset(b.acts.len());
        let (outputs, _) = b.acts.split_at_mut(half);
        crate::layers::kinds::forward(self.layers, b.params, x, outputs);
    }

    /// The forward pass of a model with frozen parts ([`crate::layers::partial`]).
    #[inline(never)]
    fn forward_partial(&mut self, x: &[f32]) {
        let b = &mut self.buffers;
        let half = crate::layers::layout::errors_offset(b.acts.len());
        let (outputs, _) = b.acts.split_at_mut(half);
        crate::layers::partial::forward(self.layers, b.frozen, b.params, x, outputs);
    }

    /// The error terms of a model with frozen parts, down to the lowest layer that
    /// trains.
    #[inline(never)]
    fn backward_deltas_partial(&mut self) {
        let b = &mut self.buffers;
        crate::layers::partial::backward_deltas(self.layers, b.frozen, b.params, b.acts);
    }

    /// Whether the passes need sigmoid and tanh: the plan's answer, or the layers'.
    #[inline(always)]
    fn sigmoid_or_tanh(&self) -> bool {
        P::SIGMOID_OR_TANH.unwrap_or_else(|| crate::shape::has_sigmoid_or_tanh(self.layers))
    }

    /// [`dense::forward`] on the trainer's buffers, by the pass for the layers'
    /// activations.
    #[inline]
    pub(super) fn forward(&mut self, x: &[f32]) {
        if self.has_kinds() {
            self.forward_kinds(x);
        } else if self.has_frozen() {
            self.forward_partial(x);
        } else if self.sigmoid_or_tanh() {
            self.forward_with::<true>(x);
        } else {
            self.forward_with::<false>(x);
        }
    }

    /// [`dense::backward_deltas`] on the trainer's buffers (see [`forward`](Self::forward)).
    #[inline]
    pub(super) fn backward_deltas(&mut self) {
        if self.has_frozen() {
            self.backward_deltas_partial();
        } else if self.sigmoid_or_tanh() {
            self.backward_deltas_with::<true>();
        } else {
            self.backward_deltas_with::<false>();
        }
    }

    /// The forward pass (`SIGMOID_OR_TANH = false`: ReLU and identity layers only). Out of
    /// line and with two arguments: one copy for every caller, and no arguments on the
    /// step's stack.
    #[inline(never)]
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
    #[inline(never)]
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
}
