//! Fully connected layers, `a = act(W x + b)`, forward and backward through a stack.
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
use crate::kernels;
use crate::optim::{Optimizer, StepScalars};
use crate::shape::Dense;

/// Splits off the first `n` elements of a mutable slice without panicking.
#[inline]
fn take_mut<'a>(s: &mut &'a mut [f32], n: usize) -> &'a mut [f32] {
    let whole = core::mem::take(s);
    let n = n.min(whole.len());
    let (head, tail) = whole.split_at_mut(n);
    *s = tail;
    head
}

/// Splits off the first `n` elements of a slice without panicking.
#[inline]
fn take<'a>(s: &mut &'a [f32], n: usize) -> &'a [f32] {
    let n = n.min(s.len());
    let (head, tail) = s.split_at(n);
    *s = tail;
    head
}

/// Runs the forward pass of one sample `x` through all `layers`, writing each layer's
/// output into `acts` (the model's output is the last `outputs` floats of it).
///
/// Lengths must have been checked against the shape (see [`crate::shape`]); with wrong
/// lengths the result is meaningless but nothing panics.
#[inline(always)]
pub fn forward(layers: &[Dense], params: &[f32], x: &[f32], acts: &mut [f32]) {
    let mut p = params;
    let mut rest: &mut [f32] = acts;
    let mut input: &[f32] = x;
    for l in layers {
        let w = take(&mut p, l.weights_len());
        let b = take(&mut p, l.outputs);
        let o = take_mut(&mut rest, l.outputs);
        if l.activation == crate::Activation::Relu {
            kernels::affine_relu(w, b, input, o);
        } else {
            kernels::affine(w, b, input, o);
            l.activation.apply(o);
        }
        input = o;
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
    let mut wp = params.as_ptr();
    let mut input = x.as_ptr();
    let mut op = acts.as_mut_ptr();
    for l in layers {
        let relu = l.activation == crate::Activation::Relu;
        // SAFETY: by the caller's guarantee, this layer's `outputs * inputs` weights and
        // then `outputs` biases start at `wp` within `params` (the layers' sizes add up
        // to at most its length), `input` points to its `inputs >= 1` floats (`x`, or
        // the previous layer's outputs in `acts`, before `op`), and its `outputs >= 1`
        // outputs start at `op` within `acts`, overlapping none of the inputs: the
        // slices hold exactly one shape of `outputs x inputs`, as the kernel requires.
        unsafe {
            let bp = wp.add(l.outputs * l.inputs);
            let w = core::slice::from_raw_parts(wp, l.outputs * l.inputs);
            let b = core::slice::from_raw_parts(bp, l.outputs);
            let x = core::slice::from_raw_parts(input, l.inputs);
            let out = core::slice::from_raw_parts_mut(op, l.outputs);
            kernels::affine_unchecked(w, b, x, out, relu);
            if SIGMOID_OR_TANH && !relu {
                l.activation.apply(out);
            }
            wp = bp.add(l.outputs);
            input = op;
            op = op.add(l.outputs);
        }
    }
}

/// The per-layer slices of the flat buffers, walked from the last layer to the first.
struct LayerSlices<'p, 'a> {
    /// The layer.
    layer: &'p Dense,
    /// Offset of the layer's parameters in the flat parameter vector.
    p_start: usize,
    /// The layer's error term `delta_l` (`outputs` floats).
    delta: &'a [f32],
    /// The previous layer's activation `a_{l-1}` and error term `delta_{l-1}`, for
    /// hidden layers.
    prev: Option<(&'a [f32], &'a mut [f32], crate::Activation)>,
}

/// Calls `f` for each layer from the last to the first with its slices of `acts`
/// (laid out as `[a_1 .. a_L | delta_1 .. delta_L]`, exactly
/// [`crate::shape::activations_len`] long) and its parameter offset (`p_total` is
/// [`crate::shape::params_len`]; the trainer passes its exact buffer lengths, so no shape sum is
/// recomputed per step).
fn for_each_layer_rev<'p>(
    layers: &'p [Dense],
    p_total: usize,
    acts: &mut [f32],
    mut f: impl FnMut(LayerSlices<'p, '_>),
) {
    let outs = layout::errors_offset(acts.len());
    let (a_all, d_all) = layout::outputs_and_errors_mut(acts);
    let mut p_end = p_total;
    let mut o_end = outs;
    let mut rest = layers;
    while let Some((l, before)) = rest.split_last() {
        rest = before;
        let p_start = p_end.saturating_sub(l.params_len());
        let o_start = o_end.saturating_sub(l.outputs);
        let (d_before, d_here) = d_all.split_at_mut(o_start.min(d_all.len()));
        let Some(delta) = d_here.get(..l.outputs) else {
            return;
        };
        let prev = match before.last() {
            None => None,
            Some(pl) => {
                let prev_start = o_start.saturating_sub(l.inputs);
                let (Some(a_prev), Some(d_prev)) =
                    (a_all.get(prev_start..o_start), d_before.get_mut(prev_start..))
                else {
                    return;
                };
                Some((a_prev, d_prev, pl.activation))
            }
        };
        f(LayerSlices {
            layer: l,
            p_start,
            delta,
            prev,
        });
        p_end = p_start;
        o_end = o_start;
    }
}

/// `delta_{l-1} = f'_{l-1}(a_{l-1}) * s` in place, where `delta_prev` holds `s`.
#[inline]
fn apply_derivative(delta_prev: &mut [f32], a_prev: &[f32], act: crate::Activation) {
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
    for_each_layer_rev(layers, params.len(), acts, |ls| {
        let l = ls.layer;
        let range = ls.p_start..ls.p_start.saturating_add(l.params_len());
        let (Some(wb), Some(gwb)) = (params.get(range.clone()), grads.get_mut(range)) else {
            return;
        };
        let (w, _) = wb.split_at(l.weights_len().min(wb.len()));
        let (gw, gb) = gwb.split_at_mut(l.weights_len().min(gwb.len()));
        match ls.prev {
            None => kernels::outer_acc(gw, gb, ls.delta, x),
            Some((a_prev, d_prev, act)) => {
                kernels::outer_acc_and_back(gw, gb, w, ls.delta, a_prev, d_prev);
                apply_derivative(d_prev, a_prev, act);
            }
        }
    });
}

/// The error terms of every layer for one sample, without touching any gradient:
/// `delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)` from the last layer down.
///
/// One walk from the last layer with the offsets computed as it goes (a few
/// instructions per layer besides the kernels).
pub fn backward_deltas(layers: &[Dense], params: &[f32], acts: &mut [f32]) {
    let half = layout::errors_offset(acts.len());
    let (a_all, d_all) = layout::outputs_and_errors_mut(acts);
    let mut p_end = params.len();
    let mut o_end = half;
    // `l` is the layer whose error term is known; `pl` the one below it.
    for pair in layers.windows(2).rev() {
        let [pl, l] = pair else {
            return;
        };
        let (Some(p_start), Some(o_start)) =
            (p_end.checked_sub(l.params_len()), o_end.checked_sub(l.outputs))
        else {
            return;
        };
        let Some(prev_start) = o_start.checked_sub(l.inputs) else {
            return;
        };
        let (Some((d_prev_all, d_here)), Some(a_prev), Some(w)) = (
            d_all.split_at_mut_checked(o_start),
            a_all.get(prev_start..o_start),
            params.get(p_start..p_start + l.weights_len()),
        ) else {
            return;
        };
        let (Some(delta), Some(d_prev)) = (d_here.get(..l.outputs), d_prev_all.get_mut(prev_start..)) else {
            return;
        };
        if pl.activation == crate::Activation::Relu {
            kernels::transposed_relu(w, delta, d_prev, a_prev);
        } else {
            transposed_derivative(w, delta, d_prev, a_prev, pl.activation);
        }
        p_end = p_start;
        o_end = o_start;
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
    let base = acts.as_mut_ptr();
    // The layer whose error term is known, from the last: its parameters end at `p_end`
    // and its outputs at `o_end` (within each half of `acts`).
    let (mut p_end, mut o_end) = (params.len(), half);
    for pair in layers.windows(2).rev() {
        let [pl, l] = pair else {
            return;
        };
        let p_start = p_end.wrapping_sub(l.params_len());
        let o_start = o_end.wrapping_sub(l.outputs);
        let prev = o_start.wrapping_sub(l.inputs);
        let relu = pl.activation == crate::Activation::Relu;
        // SAFETY: by the caller's guarantee the indices stay within the buffers: the
        // layer's weights are `params[p_start..p_start + outputs * inputs]`, its error
        // term `acts[half + o_start..half + o_end]`, the layer below's activations
        // `acts[prev..o_start]` and its error term `acts[half + prev..half + o_start]`,
        // which overlaps neither the error term read nor the activations; all of
        // `outputs, inputs >= 1` floats, the exact lengths the kernel requires.
        unsafe {
            let w = core::slice::from_raw_parts(params.as_ptr().add(p_start), l.outputs * l.inputs);
            let delta = core::slice::from_raw_parts(base.add(half + o_start), l.outputs);
            let d_prev = core::slice::from_raw_parts_mut(base.add(half + prev), l.inputs);
            let a_prev = core::slice::from_raw_parts(base.add(prev), l.inputs);
            kernels::transposed_unchecked::<SIGMOID_OR_TANH>(w, delta, d_prev, a_prev, relu);
            if SIGMOID_OR_TANH && !relu {
                apply_derivative(d_prev, a_prev, pl.activation);
            }
        }
        p_end = p_start;
        o_end = o_start;
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
    let (mut a, mut d) = layout::outputs_and_errors(acts);
    let (mut p, mut g, mut s) = (params, grads, state);
    let mut input = x;
    for l in layers {
        let n = l.params_len();
        let lp = take_mut(&mut p, n);
        let lg = take_mut(&mut g, n);
        let ls = take_mut(&mut s, n.saturating_mul(spp));
        let delta = take(&mut d, l.outputs);
        opt.update_layer(sc, lp, ls, lg, delta, input);
        input = take(&mut a, l.outputs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation::{Identity, Relu, Sigmoid, Tanh};

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
        let all = [Relu, Identity, Sigmoid, Tanh];
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
