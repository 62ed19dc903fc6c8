//! The trainer's set-up and files for a model with frozen parts (frozen or bias-only
//! layers): the whole model's parameters checked, the parameters that train started
//! from them, drawn as for the whole model, and written back in the file's layout.

use super::plan::Plan;
use super::Trainer;
use crate::error::{Buffer, ConfigError, StepError};
use crate::layers::walk::walk;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::shape::{self, Dense, Trainability};
use crate::{kernels, math};

/// The whole model's parameters a model with frozen parts reads them from: `whole`
/// cut to [`shape::params_len`] and checked finite; empty for a model without frozen
/// parts (which reads none).
pub(super) fn checked_whole<'a>(layers: &[Dense], whole: &'a [f32]) -> Result<&'a [f32], ConfigError> {
    if !shape::has_frozen(layers) {
        return Ok(&[]);
    }
    let needed = shape::params_len(layers);
    let provided = whole.len();
    let whole = whole.get(..needed).ok_or(ConfigError::BufferTooSmall {
        buffer: Buffer::Frozen,
        needed,
        provided,
    })?;
    match kernels::first_non_finite(whole) {
        Some(index) => Err(ConfigError::NonFiniteFrozen { index }),
        None => Ok(whole),
    }
}

/// Where a layer's parameters that train lie in the whole model's: all of them, or a
/// bias-only layer's bias.
fn trained_part(v: &crate::layers::walk::LayerView<'_>) -> core::ops::Range<usize> {
    match v.layer.train {
        Trainability::Trainable => v.params(),
        _ => v.weights().end..v.params().end,
    }
}

/// Copies the parameters that train from the whole model's (`whole`, empty for a
/// model without frozen parts: then nothing is copied) into `params`.
pub(super) fn start_from_whole(layers: &[Dense], whole: &[f32], params: &mut [f32]) {
    if whole.is_empty() {
        return;
    }
    for v in walk(layers, whole.len(), 0) {
        if let (Some(dst), Some(src)) = (params.get_mut(v.trainable()), whole.get(trained_part(&v))) {
            kernels::copy(dst, src);
        }
    }
}

impl<O: Optimizer, P: Plan> Trainer<'_, O, P> {
    /// [`init_params`](Self::init_params) for a model with frozen parts: the same draws
    /// as for the whole model, in the same order, kept for the parameters that train.
    #[inline(never)]
    pub(super) fn init_trainable_params(&mut self, seed: u64) {
        let mut rng = Rng::new(seed);
        for v in walk(self.layers, self.buffers.frozen.len(), 0) {
            let l = v.layer;
            let bound = 1.0 / math::sqrt(l.inputs as f32);
            let keep_weights = l.train == Trainability::Trainable;
            let keep_bias = l.train != Trainability::Frozen;
            let mut t = self
                .buffers
                .params
                .get_mut(v.trainable())
                .unwrap_or(&mut [])
                .iter_mut();
            for _ in 0..l.weights_len() {
                let w = rng.symmetric(bound);
                if keep_weights {
                    if let Some(p) = t.next() {
                        *p = w;
                    }
                }
            }
            for _ in 0..l.outputs {
                let b = rng.symmetric(bound);
                if keep_bias {
                    if let Some(p) = t.next() {
                        *p = b;
                    }
                }
            }
        }
        self.reset_optimizer();
    }

    /// Writes the whole model's parameters, in the model file's layout (per layer `W`
    /// row-major, then `b`), into `out`: the frozen ones as given, the ones that train
    /// as they are now. Without frozen parts, the same as [`params`](Self::params).
    /// `out` must hold [`shape::params_len`] floats.
    pub fn whole_params(&self, out: &mut [f32]) -> Result<(), StepError> {
        let whole = shape::params_len(self.layers);
        let provided = out.len();
        let out = out.get_mut(..whole).ok_or(StepError::OutputTooSmall {
            needed: whole,
            provided,
        })?;
        let b = &self.buffers;
        if b.frozen.is_empty() {
            kernels::copy(out, b.params);
            return Ok(());
        }
        kernels::copy(out, b.frozen);
        for v in walk(self.layers, whole, 0) {
            if let (Some(dst), Some(src)) = (out.get_mut(trained_part(&v)), b.params.get(v.trainable())) {
                kernels::copy(dst, src);
            }
        }
        Ok(())
    }
}
