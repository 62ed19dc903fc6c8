//! [`AnyOptimizer`]: one of the optimizers of the registry (`optim/mod.rs`), picked at
//! run time (the host tool reads it from a file or the command line). A firmware that
//! knows its optimizer at compile time uses the concrete type instead and links only
//! that one.

use super::{AnyOptimizer, Config, Hyper, Optimizer, SetHyperError, StepScalars, UpdateRule, OPTIMIZERS};
use crate::error::HyperparameterError;

impl AnyOptimizer {
    /// The optimizer named `name` in the registry, with its defaults; `None` for a
    /// name the registry does not know.
    pub fn from_name(name: &str) -> Option<AnyOptimizer> {
        OPTIMIZERS.iter().find(|r| r.name == name).map(|r| (r.default)())
    }

    /// The optimizer's name as in the conformance format (`"sgd"`, `"adam"`, ...).
    pub fn name(&self) -> &'static str {
        dispatch!(self, o => o.name())
    }

    /// The base learning rate of the optimizer's config.
    pub const fn lr(&self) -> f32 {
        dispatch!(self, o => o.lr)
    }

    /// State floats per parameter, as a `const fn`.
    pub const fn state_per_param(&self) -> usize {
        dispatch!(self, o => o.state_per_param())
    }

    /// Whether the optimizer's FPU kernel covers its configuration, as a `const fn`
    /// (see each optimizer's).
    pub const fn fpu_kernel_covers(&self) -> bool {
        dispatch!(self, o => o.fpu_kernel_covers())
    }
}

impl Config for AnyOptimizer {
    fn name(&self) -> &'static str {
        AnyOptimizer::name(self)
    }
    fn code(&self) -> u8 {
        dispatch!(self, o => o.code())
    }
    fn hyperparameter_names(&self) -> &'static [&'static str] {
        dispatch!(self, o => o.hyperparameter_names())
    }
    fn hyperparameter(&self, i: usize) -> Option<Hyper> {
        dispatch!(self, o => o.hyperparameter(i))
    }
    fn set_hyperparameter(&mut self, name: &str, value: Hyper) -> Result<(), SetHyperError> {
        dispatch!(self, o => o.set_hyperparameter(name, value))
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
}

impl UpdateRule for AnyOptimizer {
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

    fn fpu_kernel_covers(&self) -> bool {
        dispatch!(self, o => UpdateRule::fpu_kernel_covers(o))
    }

    #[allow(unsafe_code)]
    unsafe fn fpu_update_model<const STORE: bool>(
        &self,
        sc: &StepScalars,
        layers: &[crate::shape::Dense],
        b: &mut crate::Buffers<'_>,
        x: &[f32],
    ) {
        // SAFETY: the caller's guarantee, passed on.
        dispatch!(self, o => unsafe { o.fpu_update_model::<STORE>(sc, layers, b, x) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Adam;

    /// Every registered optimizer is found by its name, with PyTorch's defaults; names
    /// and codes are unique; each hyperparameter reads back what was set by name, and
    /// a wrong name or kind is refused with nothing changed.
    #[test]
    fn the_registry_reads_and_writes_every_hyperparameter() {
        for (i, r) in OPTIMIZERS.iter().enumerate() {
            let opt = AnyOptimizer::from_name(r.name).unwrap();
            assert_eq!((opt.name(), opt.code()), (r.name, r.code));
            assert_eq!(opt.validate(), Ok(()), "{}", r.name);
            for other in &OPTIMIZERS[i + 1..] {
                assert!(other.name != r.name && other.code != r.code, "{}", r.name);
            }
            let names = opt.hyperparameter_names();
            assert_eq!(names[0], "lr", "{}", r.name);
            assert_eq!(opt.hyperparameter(names.len()), None);
            for (k, name) in names.iter().enumerate() {
                let mut o = opt;
                let new = match o.hyperparameter(k).unwrap() {
                    Hyper::Number(v) => Hyper::Number(v + 0.25),
                    Hyper::Switch(b) => Hyper::Switch(!b),
                };
                o.set_hyperparameter(name, new).unwrap();
                assert_eq!(o.hyperparameter(k), Some(new), "{}.{name}", r.name);
                for j in (0..names.len()).filter(|&j| j != k) {
                    assert_eq!(o.hyperparameter(j), opt.hyperparameter(j), "{}.{name}", r.name);
                }
                let wrong = match new {
                    Hyper::Number(_) => (Hyper::Switch(true), SetHyperError::NotANumber),
                    Hyper::Switch(_) => (Hyper::Number(1.0), SetHyperError::NotASwitch),
                };
                let before = o;
                assert_eq!(o.set_hyperparameter(name, wrong.0), Err(wrong.1));
                assert_eq!(o, before);
            }
            let mut o = opt;
            assert_eq!(
                o.set_hyperparameter("learning_rate", Hyper::Number(0.1)),
                Err(SetHyperError::Unknown)
            );
            assert_eq!(o, opt);
        }
        assert_eq!(AnyOptimizer::from_name("adamm"), None);
        let adam = AnyOptimizer::from_name("adam").unwrap();
        assert_eq!(adam, AnyOptimizer::Adam(Adam::default()));
        assert_eq!(
            adam.hyperparameter_names(),
            ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"]
        );
    }
}
