//! The trainer's checks: a sample's input before a step, and before a single-sample
//! update that every gradient it will form is finite and in range.

use super::plan::Plan;
use super::Trainer;
use crate::error::StepError;
use crate::kernels;
use crate::layers::layout;
use crate::layers::walk::walk;
use crate::loss::Target;
use crate::optim::Optimizer;

/// [`kernels::sum_abs`] out of line, for the checks outside the single-sample step
/// (the input of a prediction or a batch): one copy.
#[inline(never)]
pub(super) fn sum_abs_cold(v: &[f32]) -> f32 {
    kernels::sum_abs(v)
}

impl<'a, O: Optimizer, P: Plan> Trainer<'a, O, P> {
    /// [`check_input`](Self::check_input) for a single-sample step, with the sum
    /// inlined, returning `sum|x|` for the gradient check.
    #[inline]
    pub(super) fn check_input_sum(&self, x: &[f32]) -> Result<f32, StepError> {
        self.checked_input_sum_by(x, 0, kernels::sum_abs)
    }

    /// Checks input `sample` (its length, finite values) and returns `sum|x|` as `sum`
    /// computes it: a finite sum shows every input finite, so the search for the first
    /// bad one runs only when it is not (an overflowing sum of finite inputs passes).
    #[inline(always)]
    pub(super) fn checked_input_sum_by(
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
    pub(super) fn check_input(&self, x: &[f32], sample: usize) -> Result<(), StepError> {
        self.checked_input_sum_by(x, sample, sum_abs_cold).map(|_| ())
    }

    /// Checks one sample against the model and the loss, as a training step would.
    pub fn check_sample(&self, x: &[f32], target: &Target<'_>) -> Result<(), StepError> {
        self.check_input(x, 0)?;
        self.loss.check_target(target, self.outputs(), 0)
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
    pub(super) fn check_fused_gradient(&self, x: &[f32], x_sum: f32) -> Result<(), StepError> {
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
    pub(super) fn gradient_bound_holds(deltas: f32, inputs: f32) -> bool {
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
    pub(super) fn check_each_gradient(&self, x: &[f32]) -> Result<(), StepError> {
        if self.has_frozen() {
            let b = &self.buffers;
            return match crate::layers::partial::first_gradient_out_of_range(
                self.layers,
                b.frozen.len(),
                x,
                b.acts,
            ) {
                Some(index) => Err(StepError::GradientOutOfRange { index }),
                None => Ok(()),
            };
        }
        let in_range = |g: f32| g.abs() < kernels::GRADIENT_LIMIT;
        let (a, d) = layout::outputs_and_errors(self.buffers.acts);
        for v in walk(self.layers, self.buffers.params.len(), a.len()) {
            let input = match v.input() {
                None => x,
                Some(r) => a.get(r).unwrap_or(&[]),
            };
            let delta = d.get(v.output()).unwrap_or(&[]);
            // The parameter whose gradient is checked next: `new` cut every buffer to
            // the shape, so the loops visit the layer's parameters in order, one each.
            let mut index = v.params_at;
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
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Dense;
    use crate::storage::Buffers;
    use crate::{Activation, Loss, Sgd};

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
            frozen: &[],
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
}
