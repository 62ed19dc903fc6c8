//! The activation buffer's layout, written once.
//!
//! One sample's activations are `[a_1 .. a_L | delta_1 .. delta_L]`: every layer's
//! output in order, then every layer's error term in the same order, so layer `l`'s
//! error term sits exactly [`errors_offset`] floats after its output. The model's
//! output is the end of the first half. The walk over the layers
//! ([`walk`](super::walk)) and the trainer's loss and checks cut the buffer with these
//! functions.

/// Where the error terms start in an activation buffer of `len` floats (the outputs
/// take the first half).
#[inline(always)]
pub(crate) const fn errors_offset(len: usize) -> usize {
    len / 2
}

/// The outputs `a_1 .. a_L` and the error terms `delta_1 .. delta_L`.
#[inline(always)]
pub(crate) fn outputs_and_errors(acts: &[f32]) -> (&[f32], &[f32]) {
    acts.split_at(errors_offset(acts.len()))
}

/// [`outputs_and_errors`], writable.
#[inline(always)]
pub(crate) fn outputs_and_errors_mut(acts: &mut [f32]) -> (&mut [f32], &mut [f32]) {
    let at = errors_offset(acts.len());
    acts.split_at_mut(at)
}

/// Where the model's output (its last layer's `model_outputs` floats) lies in an
/// activation buffer of `len` floats; its error term lies [`errors_offset`] further.
#[inline(always)]
pub(crate) fn model_output(len: usize, model_outputs: usize) -> core::ops::Range<usize> {
    let end = errors_offset(len);
    end.saturating_sub(model_outputs)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_layer_buffer_is_cut_where_the_layout_says() {
        // 2 hidden + 3 outputs: [a1 a1 | a2 a2 a2 | d1 d1 | d2 d2 d2].
        let acts = [1.0, 2.0, 3.0, 4.0, 5.0, -1.0, -2.0, -3.0, -4.0, -5.0];
        let (a, d) = outputs_and_errors(&acts);
        assert_eq!((a, d), (&acts[..5], &acts[5..]));
        assert_eq!(model_output(acts.len(), 3), 2..5);
        assert_eq!(&acts[model_output(acts.len(), 3)], &[3.0, 4.0, 5.0]);
        assert_eq!(errors_offset(acts.len()), 5);
    }
}
