//! The passes of a model with layers other than dense ones ([`Kind`]): convolution,
//! max and average pooling, flatten, global average pooling, and dense layers among
//! them. The same walk and the same activation layout as [`dense`](super::dense)'s
//! (`[a_1 .. a_L | delta_1 .. delta_L]`, `delta_l = dL/dz_l`), one function per kind.
//!
//! A convolution's weight gradient is not an outer product `delta x^T`: such a model
//! has no fused single-sample update. Its gradient is always accumulated in the
//! gradient buffer, checked, and then applied by the optimizer's `step` on the flat
//! slices (the batch path, a batch of one for `train_sample`), so it needs one
//! (`OnlineStorage` is refused).
//!
//! Per kind, with `x` the layer's input (`[C_in][L]`), `z` its result before the
//! activation, `d = dL/dz` its error term and `s = dL/dx` what it passes down (to which
//! the layer below then applies its activation's derivative):
//!
//! ```text
//! conv1d:  z[o][t] = b[o] + sum_i sum_j W[o][i][j] x[i][t s + j - p]
//!          dW[o][i][j] += sum_t d[o][t] x[i][t s + j - p]    db[o] += sum_t d[o][t]
//!          s[i][t s + j - p] += sum_o W[o][i][j] d[o][t]     (positions inside 0 .. L)
//! maxpool: z[c][t] = max_j x[c][t s + j]       s[c][argmax] += d[c][t] (first maximum)
//! avgpool: z[c][t] = (1/k) sum_j x[c][t s + j] s[c][t s + j] += d[c][t] / k
//! flatten: z = x                               s = d
//! gap:     z[c] = (1/L) sum_t x[c][t]          s[c][t] = d[c] / L
//! ```
//!
//! Every slice is cut with checked accessors: lengths that do not fit the shape stop
//! the pass where they stop fitting, and nothing panics.

use super::dense::apply_derivative;
use super::layout;
use super::walk::walk_kinds;
use crate::kernels;
use crate::shape::{Dense, Kind, Padding};

/// A convolution's sizes: in channels, kernel, stride, left padding, input and output
/// length (the output channels are the bias's length).
#[derive(Clone, Copy)]
struct Conv {
    cin: usize,
    k: usize,
    s: usize,
    pad: usize,
    len: usize,
    out_len: usize,
}

impl Conv {
    fn of(l: &Dense) -> Option<Self> {
        let Kind::Conv1d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
        } = l.kind
        else {
            return None;
        };
        let (cin, k) = (usize::from(in_channels), usize::from(kernel));
        let len = l.inputs.checked_div(cin)?;
        let out_len = l.outputs.checked_div(usize::from(out_channels))?;
        let pad = match padding {
            Padding::None => 0,
            Padding::Same => k.saturating_sub(1) / 2,
        };
        Some(Conv {
            cin,
            k,
            s: usize::from(stride),
            pad,
            len,
            out_len,
        })
    }

    /// For tap `j`: the outputs `t0 .. t1` whose input position `t s + j - p` lies
    /// inside the input, and the first of those positions (`t0 s + j - p`); the others
    /// follow `s` apart. An empty range when none does.
    #[inline(always)]
    fn taps(&self, j: usize) -> (usize, usize, usize) {
        let s = self.s.max(1);
        // t s + j >= p: t >= ceil((p - j) / s).
        let t0 = self.pad.saturating_sub(j).div_ceil(s);
        // t s + j - p <= len - 1: t <= (len - 1 + p - j) / s.
        let t1 = match (self.len + self.pad).checked_sub(j + 1) {
            Some(last) => (last / s + 1).min(self.out_len),
            None => 0,
        };
        let p0 = (t0 * s + j).saturating_sub(self.pad);
        (t0, t1.max(t0), p0)
    }
}

/// A pool's sizes: `(channels, kernel, stride, input length, output length)`.
fn pool_sizes(
    l: &Dense,
    channels: u8,
    kernel: u8,
    stride: u8,
) -> Option<(usize, usize, usize, usize, usize)> {
    let c = usize::from(channels);
    Some((
        c,
        usize::from(kernel),
        usize::from(stride),
        l.inputs.checked_div(c)?,
        l.outputs.checked_div(c)?,
    ))
}

/// One layer's `z` from its input into `out`, then its activation.
fn layer_forward(l: &Dense, w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    match l.kind {
        Kind::Dense => kernels::affine(w, b, x, out),
        Kind::Conv1d { .. } => {
            let Some(c) = Conv::of(l) else {
                return;
            };
            // Per output channel: the bias, then for each input channel and tap one
            // strided multiply-add over the outputs it reaches.
            for (o, (row, bo)) in out.chunks_exact_mut(c.out_len.max(1)).zip(b).enumerate() {
                row.iter_mut().for_each(|z| *z = *bo);
                let wo = w.get(o * c.cin * c.k..(o + 1) * c.cin * c.k).unwrap_or(&[]);
                for (i, wi) in wo.chunks_exact(c.k.max(1)).enumerate() {
                    let xi = x.get(i * c.len..(i + 1) * c.len).unwrap_or(&[]);
                    for (j, wij) in wi.iter().enumerate() {
                        let (t0, t1, p0) = c.taps(j);
                        let (Some(zs), Some(xs)) = (row.get_mut(t0..t1), xi.get(p0..)) else {
                            continue;
                        };
                        if c.s == 1 {
                            kernels::axpy(zs, *wij, xs);
                        } else {
                            zs.iter_mut()
                                .zip(xs.iter().step_by(c.s.max(1)))
                                .for_each(|(z, v)| *z += wij * v);
                        }
                    }
                }
            }
        }
        Kind::MaxPool1d {
            channels,
            kernel,
            stride,
        }
        | Kind::AvgPool1d {
            channels,
            kernel,
            stride,
        } => {
            let Some((_, k, s, len, out_len)) = pool_sizes(l, channels, kernel, stride) else {
                return;
            };
            let max = matches!(l.kind, Kind::MaxPool1d { .. });
            let inv = 1.0 / k as f32;
            for (xc, yc) in x
                .chunks_exact(len.max(1))
                .zip(out.chunks_exact_mut(out_len.max(1)))
            {
                for (t, y) in yc.iter_mut().enumerate() {
                    let win = xc.get(t * s..t * s + k).unwrap_or(&[]);
                    *y = if max {
                        first_max(win).map_or(f32::NAN, |(_, v)| v)
                    } else {
                        win.iter().sum::<f32>() * inv
                    };
                }
            }
        }
        Kind::Flatten => kernels::copy(out, x),
        Kind::GlobalAvgPool1d { channels } => {
            let len = l.inputs.checked_div(usize::from(channels)).unwrap_or(0);
            let inv = 1.0 / len as f32;
            for (xc, y) in x.chunks_exact(len.max(1)).zip(out.iter_mut()) {
                *y = xc.iter().sum::<f32>() * inv;
            }
        }
    }
    l.activation.apply(out);
}

/// The first maximum of a window and its index, as PyTorch's `max_pool1d` picks it (a
/// NaN counts as the maximum).
fn first_max(win: &[f32]) -> Option<(usize, f32)> {
    let (first, rest) = win.split_first()?;
    let mut best = (0, *first);
    for (j, v) in rest.iter().enumerate() {
        if *v > best.1 || v.is_nan() && !best.1.is_nan() {
            best = (j + 1, *v);
        }
    }
    Some(best)
}

/// The forward pass of one sample `x` through `layers` of any kinds, writing each
/// layer's output into `outputs` (the first half of the activation buffer).
pub fn forward(layers: &[Dense], params: &[f32], x: &[f32], outputs: &mut [f32]) {
    for v in walk_kinds(layers, params.len(), outputs.len()) {
        let (below, here) = outputs.split_at_mut(v.output_at.min(outputs.len()));
        let input = match v.input() {
            None => Some(x),
            Some(r) => below.get(r),
        };
        let (Some(w), Some(b), Some(input), Some(o)) = (
            params.get(v.weights()),
            params.get(v.weights().end..v.params().end),
            input,
            here.get_mut(..v.layer.outputs),
        ) else {
            return;
        };
        layer_forward(v.layer, w, b, input, o);
    }
}

/// Adds one layer's gradient (`gw`, `gb`) for error term `d` and input `x`, and when
/// `s` is given writes `dL/dx` into it.
fn layer_backward(
    l: &Dense,
    w: &[f32],
    gw: &mut [f32],
    gb: &mut [f32],
    d: &[f32],
    x: &[f32],
    s: Option<&mut [f32]>,
) {
    match l.kind {
        Kind::Dense => match s {
            Some(s) => kernels::outer_acc_and_back(gw, gb, w, d, x, s),
            None => kernels::outer_acc(gw, gb, d, x),
        },
        Kind::Conv1d { .. } => {
            let Some(c) = Conv::of(l) else {
                return;
            };
            let mut s = s;
            if let Some(s) = s.as_deref_mut() {
                kernels::fill(s, 0.0);
            }
            let n = c.cin * c.k;
            let step = c.s.max(1);
            for (o, (drow, g)) in d.chunks_exact(c.out_len.max(1)).zip(gb.iter_mut()).enumerate() {
                *g += drow.iter().sum::<f32>();
                let (Some(wo), Some(gwo)) = (w.get(o * n..(o + 1) * n), gw.get_mut(o * n..(o + 1) * n))
                else {
                    return;
                };
                let taps = wo.chunks_exact(c.k.max(1)).zip(gwo.chunks_exact_mut(c.k.max(1)));
                for (i, (wi, gwi)) in taps.enumerate() {
                    let xi = x.get(i * c.len..(i + 1) * c.len).unwrap_or(&[]);
                    for (j, (wij, gij)) in wi.iter().zip(gwi.iter_mut()).enumerate() {
                        let (t0, t1, p0) = c.taps(j);
                        let Some(ds) = drow.get(t0..t1) else {
                            continue;
                        };
                        // dW[o][i][j] += sum_t d[o][t] x[i][t s + j - p].
                        let xs = xi.get(p0..).unwrap_or(&[]);
                        *gij += if step == 1 {
                            kernels::dot(ds, xs)
                        } else {
                            ds.iter()
                                .zip(xs.iter().step_by(step))
                                .map(|(dt, v)| dt * v)
                                .sum::<f32>()
                        };
                        // s[i][t s + j - p] += W[o][i][j] d[o][t].
                        let at = i * c.len + p0..(i + 1) * c.len;
                        match s.as_deref_mut().and_then(|s| s.get_mut(at)) {
                            Some(ss) if step == 1 => kernels::axpy(ss, *wij, ds),
                            Some(ss) => ss
                                .iter_mut()
                                .step_by(step)
                                .zip(ds)
                                .for_each(|(sp, dt)| *sp += wij * dt),
                            None => {}
                        }
                    }
                }
            }
        }
        Kind::MaxPool1d {
            channels,
            kernel,
            stride,
        }
        | Kind::AvgPool1d {
            channels,
            kernel,
            stride,
        } => {
            let (Some(s), Some((_, k, st, len, out_len))) = (s, pool_sizes(l, channels, kernel, stride))
            else {
                return;
            };
            kernels::fill(s, 0.0);
            let max = matches!(l.kind, Kind::MaxPool1d { .. });
            let inv = 1.0 / k as f32;
            let chans = x.chunks_exact(len.max(1)).zip(s.chunks_exact_mut(len.max(1)));
            for ((xc, sc), dc) in chans.zip(d.chunks_exact(out_len.max(1))) {
                for (t, dt) in dc.iter().enumerate() {
                    let Some(sw) = sc.get_mut(t * st..t * st + k) else {
                        return;
                    };
                    if max {
                        let win = xc.get(t * st..t * st + k).unwrap_or(&[]);
                        if let Some(sj) = first_max(win).and_then(|(j, _)| sw.get_mut(j)) {
                            *sj += dt;
                        }
                    } else {
                        sw.iter_mut().for_each(|v| *v += dt * inv);
                    }
                }
            }
        }
        Kind::Flatten => {
            if let Some(s) = s {
                kernels::copy(s, d);
            }
        }
        Kind::GlobalAvgPool1d { channels } => {
            let Some(s) = s else {
                return;
            };
            let len = l.inputs.checked_div(usize::from(channels)).unwrap_or(0);
            let inv = 1.0 / len as f32;
            for (sc, dc) in s.chunks_exact_mut(len.max(1)).zip(d) {
                sc.iter_mut().for_each(|v| *v = dc * inv);
            }
        }
    }
}

/// The backward pass of one sample through layers of any kinds: adds its gradient to
/// `grads` and leaves every layer's error term in `acts` (see the module docs). On
/// entry the last layer's error slot holds `dL/dz_L` (the loss writes it).
pub fn backward(layers: &[Dense], params: &[f32], grads: &mut [f32], x: &[f32], acts: &mut [f32]) {
    let outputs = layout::errors_offset(acts.len());
    let (a_all, d_all) = layout::outputs_and_errors_mut(acts);
    for v in walk_kinds(layers, params.len(), outputs).rev() {
        let (d_below, d_here) = d_all.split_at_mut(v.output_at.min(d_all.len()));
        let (Some(w), Some(gwb), Some(delta)) = (
            params.get(v.weights()),
            grads.get_mut(v.params()),
            d_here.get(..v.layer.outputs),
        ) else {
            return;
        };
        let (gw, gb) = gwb.split_at_mut(v.layer.weights_len().min(gwb.len()));
        match (v.below, v.input()) {
            (Some(below), Some(r)) => {
                let (Some(a_prev), Some(d_prev)) = (a_all.get(r.clone()), d_below.get_mut(r)) else {
                    return;
                };
                layer_backward(v.layer, w, gw, gb, delta, a_prev, Some(&mut *d_prev));
                apply_derivative(d_prev, a_prev, below.activation);
            }
            _ => layer_backward(v.layer, w, gw, gb, delta, x, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    /// A 2-channel convolution, written out by hand: valid, then same padding.
    #[test]
    fn conv_matches_a_hand_computation() {
        // x: 2 channels of 4; w: 1 output channel, 2 inputs, k = 3; stride 1.
        let x = [1.0, 2.0, 3.0, 4.0, -1.0, 0.5, 0.0, 2.0];
        let w = [1.0, 0.0, -1.0, 0.5, 0.5, 0.5];
        let b = [0.25];
        let l = Dense::conv1d(2, 1, 3, 1, Padding::None, 4, Activation::Identity);
        assert_eq!((l.inputs, l.outputs, l.params_len()), (8, 2, 7));
        let mut out = [0.0; 2];
        layer_forward(&l, &w, &b, &x, &mut out);
        // t=0: (1-3) + 0.5(-1+0.5+0) + .25 = -2 - 0.25 + .25; t=1: (2-4) + 0.5(0.5+0+2) + .25
        assert_eq!(out, [-2.0, -0.5]);
        let l = Dense::conv1d(2, 1, 3, 1, Padding::Same, 4, Activation::Identity);
        let mut out = [0.0; 4];
        layer_forward(&l, &w, &b, &x, &mut out);
        // t=0 reads positions -1, 0, 1: (0 - 2) + 0.5(0 - 1 + 0.5) + .25
        assert_eq!(out, [-2.0, -2.0, -0.5, 4.25]);
    }

    #[test]
    fn pools_pick_the_first_maximum_and_average() {
        let x = [1.0, 3.0, 3.0, 0.0, 5.0, -1.0];
        let l = Dense::max_pool1d(1, 6, 2, 2);
        let mut out = [0.0; 3];
        layer_forward(&l, &[], &[], &x, &mut out);
        assert_eq!(out, [3.0, 3.0, 5.0]);
        let mut s = [9.0; 6];
        layer_backward(&l, &[], &mut [], &mut [], &[1.0, 2.0, 3.0], &x, Some(&mut s));
        assert_eq!(s, [0.0, 1.0, 2.0, 0.0, 3.0, 0.0]);
        // Overlapping windows (stride 1) add up; the first of equal maxima takes it.
        let l = Dense::max_pool1d(1, 4, 2, 1);
        let mut s = [0.0; 4];
        layer_backward(
            &l,
            &[],
            &mut [],
            &mut [],
            &[1.0, 1.0, 1.0],
            &[1.0, 3.0, 3.0, 0.0],
            Some(&mut s),
        );
        assert_eq!(s, [0.0, 2.0, 1.0, 0.0]);
        let l = Dense::avg_pool1d(2, 3, 2, 1);
        let mut out = [0.0; 4];
        layer_forward(&l, &[], &[], &x, &mut out);
        assert_eq!(out, [2.0, 3.0, 2.5, 2.0]);
        let l = Dense::global_avg_pool1d(2, 3);
        let mut out = [0.0; 2];
        layer_forward(&l, &[], &[], &x, &mut out);
        assert!((out[0] - 7.0 / 3.0).abs() < 1e-6 && (out[1] - 4.0 / 3.0).abs() < 1e-6);
    }
}
