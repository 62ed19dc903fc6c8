//! The passes of a model with frozen parts (frozen or bias-only layers, see
//! [`Trainability`](crate::shape::Trainability)): the same arithmetic as
//! [`dense`](super::dense)'s, with each layer's weights and bias read from the RAM
//! parameters where they train and from the whole model's parameters (`whole`, which
//! may stay in flash) where they are frozen; gradients, optimizer state and updates
//! only for the parameters that train, and error terms only down to the lowest layer
//! that trains.
//!
//! `trainable`, `grads` and `state` follow the layout of the parameters that train
//! ([`shape::trainable_params_len`](crate::shape::trainable_params_len)); `whole` the
//! model file's. Lengths that do not fit the shape stop the pass where they stop
//! fitting; nothing panics.

use super::layout;
use super::walk::walk;
use crate::kernels;
use crate::optim::{Optimizer, StepScalars};
use crate::shape::{Dense, Trainability};

/// Index of the lowest layer whose parameters train (`layers.len()` if none does):
/// error terms are needed from the last layer down to it, and no further.
pub(crate) fn lowest_trainable(layers: &[Dense]) -> usize {
    layers
        .iter()
        .position(|l| l.train != Trainability::Frozen)
        .unwrap_or(layers.len())
}

/// The forward pass of one sample `x` (see [`dense::forward`](super::dense::forward)).
pub(crate) fn forward(layers: &[Dense], whole: &[f32], trainable: &[f32], x: &[f32], acts: &mut [f32]) {
    super::dense::forward_by(layers, whole.len(), x, acts, |v| {
        v.weights_and_bias(whole, trainable)
    });
}

/// The error terms for one sample from the last layer's (written by the loss) down to
/// the lowest layer that trains: `delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)`. With
/// `grads`, also adds the sample's gradient of every parameter that trains (`delta_l
/// a_{l-1}^T` and `delta_l`, or `delta_l` alone for a bias-only layer).
fn backward_with(
    layers: &[Dense],
    whole: &[f32],
    trainable: &[f32],
    mut grads: Option<&mut [f32]>,
    x: &[f32],
    acts: &mut [f32],
) {
    let lowest = lowest_trainable(layers);
    let outputs = layout::errors_offset(acts.len());
    let (a_all, d_all) = layout::outputs_and_errors_mut(acts);
    for (i, v) in (0..layers.len())
        .rev()
        .zip(walk(layers, whole.len(), outputs).rev())
    {
        if i < lowest {
            return;
        }
        let (d_below, d_here) = d_all.split_at_mut(v.output_at.min(d_all.len()));
        let (Some((w, _)), Some(delta)) = (
            v.weights_and_bias(whole, trainable),
            d_here.get(..v.layer.outputs),
        ) else {
            return;
        };
        let input = match v.input() {
            None => Some(x),
            Some(r) => a_all.get(r),
        };
        let Some(input) = input else {
            return;
        };
        if let Some(g) = grads.as_deref_mut().and_then(|g| g.get_mut(v.trainable())) {
            match v.layer.train {
                Trainability::Trainable => {
                    let (gw, gb) = g.split_at_mut(v.weights().len().min(g.len()));
                    kernels::outer_acc(gw, gb, delta, input);
                }
                // `gb += delta`, as the bias part of `outer_acc`.
                Trainability::BiasOnly => g.iter_mut().zip(delta).for_each(|(g, d)| *g += d),
                Trainability::Frozen => {}
            }
        }
        // The layer below needs its error term only if it, or a layer under it, trains.
        if let (Some(below), Some(r)) = (v.below, v.input()) {
            if i > lowest {
                let (Some(a_prev), Some(d_prev)) = (a_all.get(r.clone()), d_below.get_mut(r)) else {
                    return;
                };
                kernels::transposed(w, delta, d_prev);
                super::dense::apply_derivative(d_prev, a_prev, below.activation);
            }
        }
    }
}

/// [`dense::backward`](super::dense::backward) for a model with frozen parts: adds the
/// sample's gradient of every parameter that trains to `grads`.
pub(crate) fn backward(
    layers: &[Dense],
    whole: &[f32],
    trainable: &[f32],
    grads: &mut [f32],
    x: &[f32],
    acts: &mut [f32],
) {
    backward_with(layers, whole, trainable, Some(grads), x, acts);
}

/// The error terms only (see [`backward`]), for the single-sample step.
pub(crate) fn backward_deltas(layers: &[Dense], whole: &[f32], trainable: &[f32], acts: &mut [f32]) {
    backward_with(layers, whole, trainable, None, &[], acts);
}

/// The single-sample update of every parameter that trains, as its gradient is formed
/// (see [`dense::update_fused`](super::dense::update_fused)): a trainable layer by
/// [`UpdateRule::update_layer`](crate::optim::UpdateRule::update_layer), a bias-only
/// layer's bias as one row of gradient `delta` (`d = [1]`, `x = delta`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn update_fused<O: Optimizer + ?Sized>(
    layers: &[Dense],
    whole_len: usize,
    trainable: &mut [f32],
    grads: &mut [f32],
    state: &mut [f32],
    x: &[f32],
    acts: &[f32],
    opt: &O,
    sc: &StepScalars,
) {
    let spp = opt.state_per_param();
    let (a, d) = layout::outputs_and_errors(acts);
    for v in walk(layers, whole_len, a.len()) {
        let t = v.trainable();
        let s = t.start.saturating_mul(spp)..t.end.saturating_mul(spp);
        let input = match v.input() {
            None => Some(x),
            Some(r) => a.get(r),
        };
        let (Some(p), Some(st), Some(delta), Some(input)) = (
            trainable.get_mut(t.clone()),
            state.get_mut(s),
            d.get(v.output()),
            input,
        ) else {
            return;
        };
        let g = grads.get_mut(t).unwrap_or(&mut []);
        match v.layer.train {
            Trainability::Trainable => opt.update_layer(sc, p, st, g, delta, input),
            Trainability::BiasOnly => opt.update_outer(sc, p, st, g, &[1.0], delta),
            Trainability::Frozen => {}
        }
    }
}

/// The index (among the parameters that train) of the first gradient of a
/// single-sample step that is NaN, infinite or at least
/// [`kernels::GRADIENT_LIMIT`] in magnitude, formed as [`update_fused`] forms them;
/// `None` if every one is in range.
pub(crate) fn first_gradient_out_of_range(
    layers: &[Dense],
    whole_len: usize,
    x: &[f32],
    acts: &[f32],
) -> Option<usize> {
    let in_range = |g: f32| g.abs() < kernels::GRADIENT_LIMIT;
    let (a, d) = layout::outputs_and_errors(acts);
    for v in walk(layers, whole_len, a.len()) {
        let input = match v.input() {
            None => x,
            Some(r) => a.get(r).unwrap_or(&[]),
        };
        let delta = d.get(v.output()).unwrap_or(&[]);
        let mut index = v.trainable_at;
        if v.layer.train == Trainability::Trainable {
            for di in delta {
                for xj in input {
                    if !in_range(di * xj) {
                        return Some(index);
                    }
                    index += 1;
                }
            }
        }
        if v.layer.train != Trainability::Frozen {
            for di in delta {
                if !in_range(*di) {
                    return Some(index);
                }
                index += 1;
            }
        }
    }
    None
}
