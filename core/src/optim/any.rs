//! [`AnyOptimizer`]: one of the optimizers, picked at run time (the host tool reads it
//! from a file or the command line). A firmware that knows its optimizer at compile
//! time uses the concrete type instead and links only that one.

use super::{Adadelta, Adagrad, Adam, AdamW, Optimizer, RAdam, RMSprop, Sgd, StepScalars};
use crate::error::HyperparameterError;

/// Any of the crate's optimizers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AnyOptimizer {
    /// [`Sgd`] (plain, momentum or Nesterov).
    Sgd(Sgd),
    /// [`Adagrad`].
    Adagrad(Adagrad),
    /// [`Adadelta`].
    Adadelta(Adadelta),
    /// [`RMSprop`].
    RMSprop(RMSprop),
    /// [`Adam`].
    Adam(Adam),
    /// [`AdamW`].
    AdamW(AdamW),
    /// [`RAdam`].
    RAdam(RAdam),
}

macro_rules! dispatch {
    ($self:expr, $o:ident => $e:expr) => {
        match $self {
            AnyOptimizer::Sgd($o) => $e,
            AnyOptimizer::Adagrad($o) => $e,
            AnyOptimizer::Adadelta($o) => $e,
            AnyOptimizer::RMSprop($o) => $e,
            AnyOptimizer::Adam($o) => $e,
            AnyOptimizer::AdamW($o) => $e,
            AnyOptimizer::RAdam($o) => $e,
        }
    };
}

impl AnyOptimizer {
    /// The optimizer's name as in the conformance format (`"sgd"`, `"adam"`, ...).
    pub const fn name(&self) -> &'static str {
        match self {
            AnyOptimizer::Sgd(_) => "sgd",
            AnyOptimizer::Adagrad(_) => "adagrad",
            AnyOptimizer::Adadelta(_) => "adadelta",
            AnyOptimizer::RMSprop(_) => "rmsprop",
            AnyOptimizer::Adam(_) => "adam",
            AnyOptimizer::AdamW(_) => "adamw",
            AnyOptimizer::RAdam(_) => "radam",
        }
    }

    /// The base learning rate of the optimizer's config.
    pub const fn lr(&self) -> f32 {
        match self {
            AnyOptimizer::Sgd(o) => o.lr,
            AnyOptimizer::Adagrad(o) => o.lr,
            AnyOptimizer::Adadelta(o) => o.lr,
            AnyOptimizer::RMSprop(o) => o.lr,
            AnyOptimizer::Adam(o) => o.lr,
            AnyOptimizer::AdamW(o) => o.lr,
            AnyOptimizer::RAdam(o) => o.lr,
        }
    }

    /// State floats per parameter, as a `const fn`.
    pub const fn state_per_param(&self) -> usize {
        match self {
            AnyOptimizer::Sgd(o) => o.state_per_param(),
            AnyOptimizer::Adagrad(o) => o.state_per_param(),
            AnyOptimizer::Adadelta(o) => o.state_per_param(),
            AnyOptimizer::RMSprop(o) => o.state_per_param(),
            AnyOptimizer::Adam(o) => o.state_per_param(),
            AnyOptimizer::AdamW(o) => o.state_per_param(),
            AnyOptimizer::RAdam(o) => o.state_per_param(),
        }
    }
}

impl Optimizer for AnyOptimizer {
    fn lr(&self) -> f32 {
        AnyOptimizer::lr(self)
    }

    fn state_per_param(&self) -> usize {
        AnyOptimizer::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        dispatch!(self, o => o.validate())
    }

    fn init_state(&self, state: &mut [f32]) {
        dispatch!(self, o => o.init_state(state))
    }

    fn scalars(&self, lr: f64, k: u32) -> StepScalars {
        dispatch!(self, o => o.scalars(lr, k))
    }

    fn scalars_f32(&self, lr: f32, k: u32) -> StepScalars {
        dispatch!(self, o => o.scalars_f32(lr, k))
    }

    fn scalars_constant(&self) -> bool {
        dispatch!(self, o => o.scalars_constant())
    }

    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    ) {
        dispatch!(self, o => o.update(sc, params, grads, state))
    }

    fn update_outer(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        state: &mut [f32],
        grads: &mut [f32],
        d: &[f32],
        x: &[f32],
    ) {
        dispatch!(self, o => o.update_outer(sc, params, state, grads, d, x))
    }

    fn update_layer(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        state: &mut [f32],
        grads: &mut [f32],
        d: &[f32],
        x: &[f32],
    ) {
        dispatch!(self, o => o.update_layer(sc, params, state, grads, d, x))
    }

    fn update_model(
        &self,
        sc: &StepScalars,
        layers: &[crate::shape::Dense],
        b: &mut crate::Buffers<'_>,
        x: &[f32],
    ) {
        dispatch!(self, o => o.update_model(sc, layers, b, x))
    }
}

macro_rules! from_config {
    ($($t:ident),*) => {$(
        impl From<$t> for AnyOptimizer {
            fn from(o: $t) -> Self {
                AnyOptimizer::$t(o)
            }
        }
    )*};
}
from_config!(Sgd, Adagrad, Adadelta, RMSprop, Adam, AdamW, RAdam);
