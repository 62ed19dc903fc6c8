//! Fully connected layers, `a = act(W x + b)`, forward and backward through a stack.
//!
//! Layout: `params` holds, per layer, `W` (`outputs x inputs`, row-major) then `b`.
//! `acts` holds, per layer, its output `a_l` (one sample). The backward pass overwrites
//! each `a_l` with the layer's error term `delta_l = dL/dz_l`, in place:
//!
//! ```text
//! dL/dW_l += delta_l a_{l-1}^T        dL/db_l += delta_l
//! delta_{l-1} = f'_{l-1}(a_{l-1}) * (W_l^T delta_l)
//! ```
//!
//! The weight gradient of layer `l` is taken before `a_{l-1}` is overwritten.

use crate::kernels;
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
pub fn forward<'a>(layers: &[Dense], params: &[f32], x: &'a [f32], acts: &'a mut [f32]) {
    let mut p = params;
    let mut rest: &'a mut [f32] = acts;
    let mut input: &'a [f32] = x;
    for l in layers {
        let w = take(&mut p, l.weights_len());
        let b = take(&mut p, l.outputs);
        let o = take_mut(&mut rest, l.outputs);
        kernels::affine(w, b, input, o);
        l.activation.apply(o);
        input = o;
    }
}

/// Runs the backward pass of one sample and adds its gradient to `grads`.
///
/// On entry, `acts` holds the forward pass's outputs, except the last layer's slice,
/// which holds `dL/dz_L` for this sample (the loss writes it). `x` is the sample's
/// input. On return, `acts` holds garbage (the error terms).
pub fn backward(layers: &[Dense], params: &[f32], grads: &mut [f32], x: &[f32], acts: &mut [f32]) {
    // Walk the layers from the last to the first, keeping for each its parameter
    // offset and activation offset (computed forward once, then used backwards).
    let mut p_end = crate::shape::params_len(layers)
        .min(params.len())
        .min(grads.len());
    let mut a_end = crate::shape::activations_len(layers).min(acts.len());
    for (idx, l) in layers.iter().enumerate().rev() {
        let p_start = p_end.saturating_sub(l.params_len());
        let a_start = a_end.saturating_sub(l.outputs);
        let (Some(w_and_b), Some(g_w_and_b)) = (params.get(p_start..p_end), grads.get_mut(p_start..p_end))
        else {
            return;
        };
        let (w, _) = w_and_b.split_at(l.weights_len().min(w_and_b.len()));
        let (gw, gb) = g_w_and_b.split_at_mut(l.weights_len().min(g_w_and_b.len()));
        let (before, here) = acts.split_at_mut(a_start.min(acts.len()));
        let Some(delta) = here.get(..l.outputs) else {
            return;
        };
        if idx == 0 {
            kernels::outer_acc(gw, gb, delta, x);
        } else {
            let prev_act = layers.get(idx - 1).map(|p| p.activation);
            let prev_start = a_start.saturating_sub(l.inputs);
            let Some(input) = before.get_mut(prev_start..) else {
                return;
            };
            kernels::outer_acc(gw, gb, delta, input);
            if let Some(act) = prev_act {
                kernels::transposed_map(w, delta, input, |a, s| act.derivative_from_output(a) * s);
            }
        }
        p_end = p_start;
        a_end = a_start;
    }
}
