//! A model whose shape is known only at run time, on `Vec` buffers, driven through the
//! same [`microtrain::Trainer`] as a device.

use microtrain::shape::{activations_len, has_frozen, params_len, trainable_params_len};
use microtrain::{AnyOptimizer, Buffers, ConfigError, Dense, Loss, Trainer};

/// Heap-allocated buffers sized for a shape and an optimizer.
#[derive(Debug, Clone)]
pub struct HostModel {
    /// The layers.
    pub layers: Vec<Dense>,
    /// The parameters that train (per layer `W` row-major then `b`; every parameter
    /// when no layer is frozen or bias-only).
    pub params: Vec<f32>,
    /// The whole model's parameters, from which frozen layers read theirs (empty when
    /// none is frozen); see `microtrain::Buffers::frozen`.
    pub whole: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
    acts: Vec<f32>,
}

impl HostModel {
    /// Buffers for `layers` trained with `opt`; parameters zero.
    pub fn new(layers: Vec<Dense>, opt: &AnyOptimizer) -> Self {
        let p = trainable_params_len(&layers);
        let a = activations_len(&layers);
        let whole = if has_frozen(&layers) {
            vec![0.0; params_len(&layers)]
        } else {
            Vec::new()
        };
        HostModel {
            params: vec![0.0; p],
            whole,
            grads: vec![0.0; p],
            state: vec![0.0; p * opt.state_per_param()],
            acts: vec![0.0; a],
            layers,
        }
    }

    /// A trainer over these buffers (the optimizer state starts fresh).
    pub fn trainer(
        &mut self,
        opt: AnyOptimizer,
        loss: Loss,
    ) -> Result<Trainer<'_, AnyOptimizer>, ConfigError> {
        let need = self.params.len() * opt.state_per_param();
        if self.state.len() < need {
            self.state.resize(need, 0.0);
        }
        let buffers = Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: &self.whole,
        };
        Trainer::new(&self.layers, buffers, opt, loss)
    }
}
