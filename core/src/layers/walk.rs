//! The walk over a stack of dense layers, written once: for each layer, where its
//! parameters, its output, its error term and its input lie in the flat buffers.
//!
//! Every pass over a model (the forward pass, the error propagation, the gradient, the
//! fused update, the trainer's gradient check, the FPU update kernel's walk) is a loop
//! over [`walk`], from the first layer or (`.rev()`) from the last, that turns a
//! [`LayerView`]'s places into slices. A place is an offset (`usize`), cut into a
//! slice with a checked `get`, or, in the trainer's passes over buffers checked once
//! against the shape, a raw pointer into the buffer ([`Place`]): the same walk, with
//! no offset-to-pointer arithmetic left in the hot loops.
//!
//! The buffers' layout: the parameters are, per layer, `W` (`outputs x inputs`,
//! row-major) then `b`; the optimizer state and the gradients follow the parameters
//! (`state_per_param` floats per parameter); the activation buffer is
//! `[a_1 .. a_L | delta_1 .. delta_L]` ([`layout`](super::layout)), so a layer's output
//! and its error term have the same offset in their halves, and its input is the
//! output of the layer below (the sample for the first layer).

use crate::shape::{Dense, Trainability};
use core::ops::Range;

/// A layer's weight count: with `KINDS`, by its kind ([`Dense::weights_len`]);
/// without, by the dense formula `outputs * inputs` alone, so that a dense-only pass
/// does not branch on the kind (the walks of the trainer's dense passes).
#[inline(always)]
fn weights_len<const KINDS: bool>(l: &Dense) -> usize {
    if KINDS {
        l.weights_len()
    } else {
        l.outputs.wrapping_mul(l.inputs)
    }
}

/// A layer's parameter count (see [`weights_len`]).
#[inline(always)]
fn params_len<const KINDS: bool>(l: &Dense) -> usize {
    if KINDS {
        l.params_len()
    } else {
        weights_len::<false>(l).saturating_add(l.outputs)
    }
}

/// A layer's count of parameters that train (see [`weights_len`]).
#[inline(always)]
fn trainable_len<const KINDS: bool>(l: &Dense) -> usize {
    if KINDS {
        l.trainable_params_len()
    } else {
        match l.train {
            Trainability::Trainable => params_len::<false>(l),
            Trainability::BiasOnly => l.outputs,
            Trainability::Frozen => 0,
        }
    }
}

/// A place in a flat buffer: an offset, or a raw pointer into the buffer. Moving a
/// place is wrapping arithmetic (for a pointer, `wrapping_add`/`wrapping_sub`, which
/// are safe); only dereferencing a pointer needs the shape's guarantee.
pub(crate) trait Place: Copy {
    /// `n` floats further.
    fn forward(self, n: usize) -> Self;
    /// `n` floats back.
    fn back(self, n: usize) -> Self;
}

impl Place for usize {
    #[inline(always)]
    fn forward(self, n: usize) -> Self {
        self.wrapping_add(n)
    }
    #[inline(always)]
    fn back(self, n: usize) -> Self {
        self.wrapping_sub(n)
    }
}

/// A raw pointer into a buffer moves by `wrapping_add`/`wrapping_sub`.
macro_rules! pointer_place {
    ($($t:ty),+) => {$(
        impl Place for $t {
            #[inline(always)]
            fn forward(self, n: usize) -> Self {
                self.wrapping_add(n)
            }
            #[inline(always)]
            fn back(self, n: usize) -> Self {
                self.wrapping_sub(n)
            }
        }
    )+};
}

pointer_place!(*const f32, *mut f32);

/// One layer of a [`walk`] and its places in the flat buffers: `P` is where the
/// parameters are counted, `O` where the outputs are (offsets, or pointers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerView<'l, P = usize, O = usize, const KINDS: bool = false> {
    /// The layer.
    pub layer: &'l Dense,
    /// The layer below, whose output is this layer's input; `None` for the first
    /// layer, whose input is the sample.
    pub below: Option<&'l Dense>,
    /// Where the layer's parameters (`W`, then `b`) start in the parameter vector.
    pub params_at: P,
    /// Where the layer's output starts among the outputs, and its error term among the
    /// error terms.
    pub output_at: O,
    /// Where the layer's parameters that train start among the parameters that train
    /// (the RAM parameters, gradients and state of a model with frozen parts; the
    /// same as `params_at` when nothing is frozen).
    pub trainable_at: usize,
}

impl<const KINDS: bool> LayerView<'_, usize, usize, KINDS> {
    /// The layer's weights `W` in the parameter vector (and the gradients).
    #[inline(always)]
    pub fn weights(&self) -> Range<usize> {
        self.params_at..self.params_at.saturating_add(weights_len::<KINDS>(self.layer))
    }

    /// All the layer's parameters, `W` then `b`.
    #[inline(always)]
    pub fn params(&self) -> Range<usize> {
        self.params_at..self.params_at.saturating_add(params_len::<KINDS>(self.layer))
    }

    /// The layer's optimizer state, `per_param` floats per parameter.
    #[inline(always)]
    pub fn state(&self, per_param: usize) -> Range<usize> {
        let p = self.params();
        p.start.saturating_mul(per_param)..p.end.saturating_mul(per_param)
    }

    /// The layer's output `a_l` among the outputs (its error term `delta_l` among the
    /// error terms).
    #[inline(always)]
    pub fn output(&self) -> Range<usize> {
        self.output_at..self.output_at.saturating_add(self.layer.outputs)
    }

    /// The layer's parameters that train among the parameters that train: all of
    /// them, the bias of a bias-only layer, none of a frozen one.
    #[inline(always)]
    pub fn trainable(&self) -> Range<usize> {
        self.trainable_at
            ..self
                .trainable_at
                .saturating_add(trainable_len::<KINDS>(self.layer))
    }

    /// The layer's weights and bias, from the RAM parameters (`trainable`) where they
    /// train and from the whole model's parameters (`whole`) where they are frozen;
    /// `None` where a slice is too short.
    #[inline(always)]
    pub fn weights_and_bias<'b>(
        &self,
        whole: &'b [f32],
        trainable: &'b [f32],
    ) -> Option<(&'b [f32], &'b [f32])> {
        let (wl, n) = (weights_len::<KINDS>(self.layer), self.layer.outputs);
        match self.layer.train {
            Trainability::Trainable => {
                let p = trainable.get(self.trainable())?;
                Some(p.split_at_checked(wl)?)
            }
            Trainability::BiasOnly => Some((
                whole.get(self.weights())?,
                trainable.get(self.trainable_at..self.trainable_at.saturating_add(n))?,
            )),
            Trainability::Frozen => whole.get(self.params())?.split_at_checked(wl),
        }
    }

    /// The layer's input among the outputs: the output of the layer below; `None` for
    /// the first layer (its input is the sample).
    #[inline(always)]
    pub fn input(&self) -> Option<Range<usize>> {
        self.below
            .map(|b| self.output_at.saturating_sub(b.outputs)..self.output_at)
    }
}

/// The walk over `layers` with the offsets of each (see [`LayerView`]), from the first
/// layer, or from the last with `.rev()`; `params_len` and `outputs_len` are the
/// parameter vector's length and the layers' summed outputs (the half of the
/// activation buffer), where a walk from the last layer starts.
#[inline(always)]
pub(crate) fn walk(layers: &[Dense], params_len: usize, outputs_len: usize) -> Walk<'_> {
    walk_from(layers, (0, 0), (params_len, outputs_len))
}

/// [`walk`] with places of any kind: the first layer's parameters and output at
/// `start`, the last layer's ending at `end`.
#[inline(always)]
pub(crate) fn walk_from<P: Place, O: Place>(layers: &[Dense], start: (P, O), end: (P, O)) -> Walk<'_, P, O> {
    walk_any(layers, start, end)
}

/// [`walk`] over layers of any kind (the sizes by [`Dense::params_len`], which branches
/// on the kind), for [`kinds`](super::kinds)' passes.
#[inline(always)]
pub(crate) fn walk_kinds(
    layers: &[Dense],
    params_len: usize,
    outputs_len: usize,
) -> Walk<'_, usize, usize, true> {
    walk_any(layers, (0, 0), (params_len, outputs_len))
}

/// The walk with or without `KINDS` (see [`weights_len`]).
#[inline(always)]
fn walk_any<P: Place, O: Place, const KINDS: bool>(
    layers: &[Dense],
    start: (P, O),
    end: (P, O),
) -> Walk<'_, P, O, KINDS> {
    Walk {
        rest: layers,
        below: None,
        front: start,
        back: end,
        trainable_front: 0,
        // By the walk's own sizes: a dense walk's total does not branch on the kind
        // (and is dropped where no walk from the back needs it).
        trainable_back: layers
            .iter()
            .fold(0usize, |n, l| n.wrapping_add(trainable_len::<KINDS>(l))),
    }
}

/// The iterator of [`walk`].
#[derive(Debug, Clone)]
pub(crate) struct Walk<'l, P = usize, O = usize, const KINDS: bool = false> {
    /// The layers not walked yet.
    rest: &'l [Dense],
    /// The last layer walked from the front.
    below: Option<&'l Dense>,
    /// Where the next layer from the front starts (parameters, output).
    front: (P, O),
    /// Where the next layer from the back ends.
    back: (P, O),
    /// Where the next layer's parameters that train start (from the front) and end
    /// (from the back).
    trainable_front: usize,
    trainable_back: usize,
}

impl<'l, P: Place, O: Place, const KINDS: bool> Iterator for Walk<'l, P, O, KINDS> {
    type Item = LayerView<'l, P, O, KINDS>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let (layer, rest) = self.rest.split_first()?;
        let (params_at, output_at) = self.front;
        let view = LayerView {
            layer,
            below: self.below,
            params_at,
            output_at,
            trainable_at: self.trainable_front,
        };
        self.trainable_front = self.trainable_front.wrapping_add(trainable_len::<KINDS>(layer));
        self.rest = rest;
        self.below = Some(layer);
        self.front = (
            params_at.forward(params_len::<KINDS>(layer)),
            output_at.forward(layer.outputs),
        );
        Some(view)
    }
}

impl<P: Place, O: Place, const KINDS: bool> DoubleEndedIterator for Walk<'_, P, O, KINDS> {
    #[inline(always)]
    fn next_back(&mut self) -> Option<Self::Item> {
        let (layer, rest) = self.rest.split_last()?;
        self.rest = rest;
        let (params_end, output_end) = self.back;
        self.back = (
            params_end.back(params_len::<KINDS>(layer)),
            output_end.back(layer.outputs),
        );
        self.trainable_back = self.trainable_back.wrapping_sub(trainable_len::<KINDS>(layer));
        Some(LayerView {
            layer,
            below: rest.last().or(self.below),
            params_at: self.back.0,
            output_at: self.back.1,
            trainable_at: self.trainable_back,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation::{Identity, Relu, Tanh};

    #[test]
    fn both_directions_give_the_same_places() {
        let layers = [
            Dense::new(3, 4, Relu),
            Dense::new(4, 5, Tanh),
            Dense::new(5, 2, Identity),
        ];
        let (p, o) = (
            crate::shape::params_len(&layers),
            crate::shape::all_layer_outputs(&layers),
        );
        let fwd: [_; 3] = core::array::from_fn(|i| walk(&layers, p, o).nth(i).unwrap());
        let mut back: [_; 3] = core::array::from_fn(|i| walk(&layers, p, o).rev().nth(i).unwrap());
        back.reverse();
        for (f, b) in fwd.iter().zip(&back) {
            assert_eq!((f.params_at, f.output_at), (b.params_at, b.output_at));
            assert_eq!(f.below.map(|l| l.outputs), b.below.map(|l| l.outputs));
        }
        // Layer 1 (4 -> 5): parameters after layer 0's 16, output after its 4.
        let v = fwd[1];
        assert_eq!((v.weights(), v.params(), v.state(2)), (16..36, 16..41, 32..82));
        assert_eq!((v.output(), v.input()), (4..9, Some(0..4)));
        assert_eq!(fwd[0].input(), None);
        assert_eq!(fwd[2].params().end, p);
        assert_eq!(fwd[2].output().end, o);
        // A walk met from both ends visits each layer once.
        let mut w = walk(&layers, p, o);
        assert_eq!(w.next().map(|v| v.output_at), Some(0));
        assert_eq!(
            w.next_back().map(|v| (v.output_at, v.below.map(|l| l.outputs))),
            Some((9, Some(5)))
        );
        assert_eq!(
            w.next().map(|v| (v.output_at, v.below.map(|l| l.outputs))),
            Some((4, Some(4)))
        );
        assert!(w.next().is_none() && w.next_back().is_none());
    }
}
