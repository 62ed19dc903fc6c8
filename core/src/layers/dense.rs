//! Fully connected layers, `a = act(W x + b)`, forward and backward through a stack.
//! (Dense layers only: a model with other kinds of layers takes [`super::kinds`]'
//! passes; given one, these walk it with the dense sizes, give meaningless values and
//! never panic.)
//!
//! Layout: `params` holds, per layer, `W` (`outputs x inputs`, row-major) then `b`.
//! `acts` holds one sample's outputs `a_1 .. a_L`, then the error terms
//! `delta_1 .. delta_L` (`delta_l = dL/dz_l`), the same sizes:
//!
//! ```text
//! dL/dW_l += delta_l a_{l-1}^T        dL/db_l += delta_l
//! delta_{l-1} = f'_{l-1}(a_{l-1}) * (W_l^T delta_l)
//! ```

use super::layout;
use super::walk::{walk, walk_from, LayerView};
use crate::kernels;
use crate::optim::{Optimizer, StepScalars};
use crate::shape::Dense;

/// Runs the forward pass of one sample `x` through all `layers`, writing each layer's
/// output into `acts` (the model's output is the last `outputs` floats of it).
///
/// Lengths must have been checked against the shape (see [`crate::shape`]); with wrong
/// lengths the result is meaningless but nothing panics.
#[inline(always)]
pub fn forward(layers: &[Dense], params: &[f32], x: &[f32], acts: &mut [f32]) {
    forward_by(layers, params.len(), x, acts, |v| {
        Some((
            params.get(v.weights())?,
            params.get(v.weights().end..v.params().end)?,
        ))
    });
}

/// [`forward`] with each layer's weights and bias from `weights_and_bias` (the
/// parameter vector's, or a model with frozen parts' two vectors); `params_len` is
/// the whole model's parameter count.
#[inline(always)]
pub(crate) fn forward_by<'p>(
    layers: &[Dense],
    params_len: usize,
    x: &[f32],
    acts: &mut [f32],
    weights_and_bias: impl Fn(&LayerView<'_>) -> Option<(&'p [f32], &'p [f32])>,
) {
    for v in walk(layers, params_len, acts.len()) {
        let (below, here) = acts.split_at_mut(v.output_at.min(acts.len()));
        let input = match v.input() {
            None => Some(x),
            Some(r) => below.get(r),
        };
        let (Some((w, b)), Some(input), Some(o)) =
            (weights_and_bias(&v), input, here.get_mut(..v.layer.outputs))
        else {
            return;
        };
        if matches!(v.layer.activation, crate::Activation::Relu) {
            kernels::affine_relu(w, b, input, o);
        } else {
            kernels::affine(w, b, input, o);
            v.layer.activation.apply(o);
        }
    }
}

/// [`forward`] without checks, for a [`Trainer`](crate::Trainer), whose buffers were
/// cut to its shape when it was built: each layer's `act(W x + b)` by
/// `kernels::affine_unchecked` on the slices of its exact lengths, with the sigmoid or
/// tanh of a layer after it (`SIGMOID_OR_TANH = false` leaves those out: a model of ReLU and
/// identity layers only, so that sigmoid and tanh are not linked).
///
/// # Safety
/// The layers pass [`crate::shape::validate`], `x` holds the first layer's `inputs`,
/// `params` at least the shape's parameters and `acts` at least its summed outputs.
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) unsafe fn forward_unchecked<const SIGMOID_OR_TANH: bool>(
    layers: &[Dense],
    params: &[f32],
    x: &[f32],
    acts: &mut [f32],
) {
    let (pp, ap) = (params.as_ptr(), acts.as_mut_ptr());
    let end = (pp.wrapping_add(params.len()), ap.wrapping_add(acts.len()));
    // Each layer's input: `x`, then the layer below's output.
    let mut input = x.as_ptr();
    for v in walk_from(layers, (pp, ap), end) {
        let l = v.layer;
        let relu = matches!(l.activation, crate::Activation::Relu);
        // SAFETY: by the caller's guarantee, the walk's places are within the buffers:
        // this layer's `outputs * inputs` weights and then `outputs` biases start at
        // `params_at` in `params` (the layers' sizes add up to at most its length),
        // `input` points to `x` (the first layer's `inputs >= 1` floats) or to the
        // layer below's output in `acts`, before this layer's `outputs >= 1` outputs at
        // `output_at`, which overlap none of the inputs: the slices hold exactly one
        // shape of `outputs x inputs`, as the kernel requires.
        unsafe {
            let w = core::slice::from_raw_parts(v.params_at, l.outputs * l.inputs);
            let b = core::slice::from_raw_parts(v.params_at.add(l.outputs * l.inputs), l.outputs);
            let x = core::slice::from_raw_parts(input, l.inputs);
            let out = core::slice::from_raw_parts_mut(v.output_at, l.outputs);
            kernels::affine_unchecked(w, b, x, out, relu);
            if SIGMOID_OR_TANH && !relu {
                l.activation.apply(out);
            }
        }
        input = v.output_at;
    }
}

/// `delta_{l-1} = f'_{l-1}(a_{l-1}) * s` in place, where `delta_prev` holds `s`.
#[inline]
pub(crate) fn apply_derivative(delta_prev: &mut [f32], a_prev: &[f32], act: crate::Activation) {
    let pairs = delta_prev.iter_mut().zip(a_prev);
    // One loop per activation, so the choice is made once, not per element.
    match act {
        crate::Activation::Identity => {}
        // `d * 1` is `d`: only an inactive unit's term is touched (`d * 0`).
        // NaN is not above zero: its term becomes `d * 0`, as the derivative says.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        crate::Activation::Relu => pairs.for_each(|(d, a)| {
            if !(*a > 0.0) {
                *d *= 0.0;
            }
        }),
        crate::Activation::Sigmoid => {
            pairs.for_each(|(d, a)| *d *= crate::Activation::Sigmoid.derivative_from_output(*a))
        }
        crate::Activation::Tanh => {
            pairs.for_each(|(d, a)| *d *= crate::Activation::Tanh.derivative_from_output(*a))
        }
        // LeakyReLU, ELU, softsign: the derivative from the output, one loop for all.
        other => pairs.for_each(|(d, a)| *d *= other.derivative_from_output(*a)),
    }
}

/// `delta_prev = f'(a_prev) * (W^T delta)` for an activation other than ReLU (which
/// has its own kernel). Out of line: a model with ReLU hidden layers does not carry
/// it in its step.
#[inline(never)]
fn transposed_derivative(
    w: &[f32],
    delta: &[f32],
    d_prev: &mut [f32],
    a_prev: &[f32],
    act: crate::Activation,
) {
    kernels::transposed(w, delta, d_prev);
    apply_derivative(d_prev, a_prev, act);
}

/// Runs the backward pass of one sample and adds its gradient to `grads`.
///
/// On entry, `acts` holds the forward pass's activations `a_l` and, in the last
/// layer's error slot, `delta_L = dL/dz_L` for this sample (the loss writes it). `x`
/// is the sample's input. For each layer, one pass over the rows of `W` adds
/// `delta_i x` to the weight gradient and `delta_i W[i, :]` into the previous layer's
/// error slot, which then becomes `delta_{l-1} = f'(a_{l-1}) * (W^T delta_l)`.
#[inline(never)]
pub fn backward(layers: &[Dense], params: &[f32], grads: &mut [f32], x: &[f32], acts: &mut [f32]) {
    let outputs = layout::errors_offset(acts.len());
    let (a_all, d_all) = layout::outputs_and_errors_mut(acts);
    for v in walk(layers, params.len(), outputs).rev() {
        let (d_below, d_here) = d_all.split_at_mut(v.output_at.min(d_all.len()));
        let (Some(w), Some(gwb), Some(delta)) = (
            params.get(v.weights()),
            grads.get_mut(v.params()),
            d_here.get(..v.layer.outputs),
        ) else {
            return;
        };
        let (gw, gb) = gwb.split_at_mut(v.weights().len().min(gwb.len()));
        match (v.below, v.input()) {
            (Some(below), Some(r)) => {
                let (Some(a_prev), Some(d_prev)) = (a_all.get(r.clone()), d_below.get_mut(r)) else {
                    return;
                };
                kernels::outer_acc_and_back(gw, gb, w, delta, a_prev, d_prev);
                apply_derivative(d_prev, a_prev, below.activation);
            }
            _ => kernels::outer_acc(gw, gb, delta, x),
        }
    }
}

/// The error terms of every layer for one sample, without touching any gradient:
/// `delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)` from the last layer down.
///
/// One walk from the last layer with the offsets computed as it goes (a few
/// instructions per layer besides the kernels).
pub fn backward_deltas(layers: &[Dense], params: &[f32], acts: &mut [f32]) {
    let outputs = layout::errors_offset(acts.len());
    let (a_all, d_all) = layout::outputs_and_errors_mut(acts);
    let mut walk = walk(layers, params.len(), outputs);
    // Every layer but the first passes its error term down: the first is left out.
    walk.next();
    for v in walk.rev() {
        let (Some(below), Some(r)) = (v.below, v.input()) else {
            return;
        };
        let (d_below, d_here) = d_all.split_at_mut(v.output_at.min(d_all.len()));
        let (Some(w), Some(delta), Some(a_prev), Some(d_prev)) = (
            params.get(v.weights()),
            d_here.get(..v.layer.outputs),
            a_all.get(r.clone()),
            d_below.get_mut(r),
        ) else {
            return;
        };
        if matches!(below.activation, crate::Activation::Relu) {
            kernels::transposed_relu(w, delta, d_prev, a_prev);
        } else {
            transposed_derivative(w, delta, d_prev, a_prev, below.activation);
        }
    }
}

/// [`backward_deltas`] without checks, for a [`Trainer`](crate::Trainer) (see
/// [`forward_unchecked`]): `delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)` from the last
/// layer down by `kernels::transposed_unchecked`, ReLU's derivative in the same kernel
/// call; with `SIGMOID_OR_TANH`, sigmoid and tanh through [`apply_derivative`] (without, any
/// activation other than ReLU is taken as the identity, and the kernel's unmasked
/// register paths are not linked).
///
/// # Safety
/// The layers pass [`crate::shape::validate`], `params` holds exactly the shape's
/// parameters and `acts` exactly twice its summed outputs (`[a_1 .. a_L | d_1 .. d_L]`).
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) unsafe fn backward_deltas_unchecked<const SIGMOID_OR_TANH: bool>(
    layers: &[Dense],
    params: &[f32],
    acts: &mut [f32],
) {
    let half = layout::errors_offset(acts.len());
    let (pp, ap) = (params.as_ptr(), acts.as_mut_ptr());
    // The walk's output places are the error terms (the second half of `acts`); the
    // layer below's activations are `half` floats before its error term.
    let dp = ap.wrapping_add(half);
    let mut walk = walk_from(
        layers,
        (pp, dp),
        (pp.wrapping_add(params.len()), dp.wrapping_add(half)),
    );
    // Every layer but the first passes its error term down: the first is left out.
    walk.next();
    for v in walk.rev() {
        let Some(below) = v.below else {
            return;
        };
        let l = v.layer;
        let relu = matches!(below.activation, crate::Activation::Relu);
        // SAFETY: by the caller's guarantee the walk's places stay within the buffers:
        // the layer's weights are the `outputs * inputs` floats at `params_at`, its
        // error term the `outputs` at `output_at` (in the second half of `acts`), the
        // layer below's error term the `inputs` floats just before it and that layer's
        // activations the same `half` floats earlier, which overlaps neither the error
        // term read nor the error term written; all of `outputs, inputs >= 1` floats,
        // the exact lengths the kernel requires.
        unsafe {
            let w = core::slice::from_raw_parts(v.params_at, l.outputs * l.inputs);
            let delta = core::slice::from_raw_parts(v.output_at, l.outputs);
            let d_below = v.output_at.sub(l.inputs);
            let d_prev = core::slice::from_raw_parts_mut(d_below, l.inputs);
            let a_prev = core::slice::from_raw_parts(d_below.sub(half), l.inputs);
            // Two calls with the flag a constant: each inlines only its own paths.
            if relu {
                kernels::transposed_unchecked::<SIGMOID_OR_TANH>(w, delta, d_prev, a_prev, true);
            } else {
                kernels::transposed_unchecked::<SIGMOID_OR_TANH>(w, delta, d_prev, a_prev, false);
            }
            if SIGMOID_OR_TANH && !relu {
                apply_derivative(d_prev, a_prev, below.activation);
            }
        }
    }
}

/// For one sample whose error terms are all in `acts` (after [`backward_deltas`]):
/// updates every parameter with `opt` as its gradient is formed (`g = delta_i x_j`
/// for a weight, `delta_i` for a bias; see [`UpdateRule::update_layer`](crate::optim::UpdateRule::update_layer)), writing each
/// gradient into `grads` as well (unless `grads` is empty: online-only storage).
/// No gradient buffer is read, and each weight is loaded once. The layers are walked
/// from the first: every error term is already known, so the order does not matter.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(crate) fn update_fused<O: Optimizer + ?Sized>(
    layers: &[Dense],
    params: &mut [f32],
    grads: &mut [f32],
    state: &mut [f32],
    x: &[f32],
    acts: &[f32],
    opt: &O,
    sc: &StepScalars,
) {
    let spp = opt.state_per_param();
    let (a, d) = layout::outputs_and_errors(acts);
    for v in walk(layers, params.len(), a.len()) {
        let input = match v.input() {
            None => Some(x),
            Some(r) => a.get(r),
        };
        let (Some(lp), Some(ls), Some(delta), Some(input)) = (
            params.get_mut(v.params()),
            state.get_mut(v.state(spp)),
            d.get(v.output()),
            input,
        ) else {
            return;
        };
        // No gradient buffer (online-only storage): the update writes no gradient.
        let lg = grads.get_mut(v.params()).unwrap_or(&mut []);
        opt.update_layer(sc, lp, ls, lg, delta, input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation::{Identity, Relu, Sigmoid, Softsign, Tanh};

    /// Deterministic values in about [-2, 2] with zeros of both signs mixed in.
    fn fill(v: &mut [f32], seed: u32) {
        for (i, f) in (0u32..).zip(v.iter_mut()) {
            let h = i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 8;
            *f = match h % 11 {
                0 => 0.0,
                1 => -0.0,
                _ => (h % 4001) as f32 / 1000.0 - 2.0,
            };
        }
    }

    /// The trainer's unchecked passes give the checked passes' bits, for hidden layers
    /// of every activation and row lengths around the FPU kernels' register paths.
    #[test]
    fn unchecked_passes_are_the_checked_passes() {
        let all = [
            Relu,
            Identity,
            Sigmoid,
            Tanh,
            crate::Activation::leaky_relu(0.1),
            crate::Activation::ELU,
            Softsign,
        ];
        let mut seed = 0u32;
        for a0 in all {
            for a1 in all {
                for (inputs, hidden) in [(4, 8), (8, 4), (3, 5), (1, 9)] {
                    seed += 1;
                    let layers = [
                        Dense::new(inputs, hidden, a0),
                        Dense::new(hidden, 4, a1),
                        Dense::new(4, 3, Identity),
                    ];
                    let n = crate::shape::params_len(&layers);
                    let a = crate::shape::activations_len(&layers);
                    let (mut params, mut x) = ([0.0f32; 160], [0.0f32; 8]);
                    fill(&mut params[..n], seed);
                    fill(&mut x[..inputs], 1000 + seed);
                    let (params, x) = (&params[..n], &x[..inputs]);
                    let mut want = [0.0f32; 40];
                    fill(&mut want[..a], 2000 + seed);
                    let mut got = want;
                    forward(&layers, params, x, &mut want[..a / 2]);
                    backward_deltas(&layers, params, &mut want[..a]);
                    // SAFETY: the layers are valid and every buffer has the shape's size.
                    #[allow(unsafe_code)]
                    unsafe {
                        forward_unchecked::<true>(&layers, params, x, &mut got[..a / 2]);
                        backward_deltas_unchecked::<true>(&layers, params, &mut got[..a]);
                    }
                    assert_eq!(
                        got.map(f32::to_bits),
                        want.map(f32::to_bits),
                        "{a0:?} {a1:?} {inputs}-{hidden}"
                    );
                    // Without sigmoid and tanh, the passes that leave them out agree too.
                    if [a0, a1].iter().all(|a| matches!(a, Relu | Identity)) {
                        let mut plain = [0.0f32; 40];
                        fill(&mut plain[..a], 2000 + seed);
                        // SAFETY: as above.
                        #[allow(unsafe_code)]
                        unsafe {
                            forward_unchecked::<false>(&layers, params, x, &mut plain[..a / 2]);
                            backward_deltas_unchecked::<false>(&layers, params, &mut plain[..a]);
                        }
                        assert_eq!(plain.map(f32::to_bits), want.map(f32::to_bits), "{a0:?} {a1:?}");
                    }
                }
            }
        }
    }
}
