//! The model: a 9-16-3 multilayer perceptron over the window features, trained online
//! with Adam and softmax cross-entropy, one optimizer step per labelled window.

use crate::features::FEATURES;
use microtrain::{
    plan_for, storage_for, Activation, Adam, ConfigError, Dense, Loss, StepError, Target, Trainer,
};

/// Number of classes (activities) the model tells apart.
pub const CLASSES: usize = 3;

/// The layers: features -> 16 ReLU -> class logits.
pub const LAYERS: [Dense; 2] = [
    Dense::new(FEATURES, 16, Activation::Relu),
    Dense::new(16, CLASSES, Activation::Identity),
];

/// The optimizer.
pub const OPTIMIZER: Adam = Adam::new(0.02);

/// The loss.
pub const LOSS: Loss = Loss::SoftmaxCrossEntropy;

/// The code the model's steps run, fixed at compile time (a firmware links only it).
pub type ModelPlan = plan_for!(&LAYERS, OPTIMIZER, LOSS);

/// The trainer of the model.
pub type ModelTrainer<'a> = Trainer<'a, Adam, ModelPlan>;

/// Exactly the training memory of [`LAYERS`] with [`OPTIMIZER`]; a `static` on a device.
pub type ModelStorage = storage_for!(&LAYERS, OPTIMIZER);

/// A `const` initializer for [`ModelStorage`], checked against the shape at compile time.
pub const EMPTY_STORAGE: ModelStorage = ModelStorage::sized_for(&LAYERS, OPTIMIZER.state_per_param());

/// The classifier: a [`Trainer`] over caller-owned storage.
#[derive(Debug)]
pub struct Learner<'a> {
    trainer: ModelTrainer<'a>,
}

/// Index of the largest value (the first one on ties; 0 for an empty slice): the core's.
pub use microtrain::data::argmax;

impl<'a> Learner<'a> {
    /// A freshly initialised model (weights drawn from `seed`) over `storage`.
    pub fn new(storage: &'a mut ModelStorage, seed: u64) -> Result<Self, ConfigError> {
        let mut trainer = Trainer::with_plan(&LAYERS, storage.buffers(), OPTIMIZER, LOSS)?;
        trainer.init_params(seed);
        Ok(Learner { trainer })
    }

    /// The predicted class of a feature vector.
    pub fn predict(&mut self, x: &[f32; FEATURES]) -> Result<usize, StepError> {
        let mut logits = [0.0f32; CLASSES];
        self.trainer.predict(x, &mut logits)?;
        Ok(argmax(&logits))
    }

    /// One optimizer step towards `label`; returns the loss before the step.
    pub fn learn(&mut self, x: &[f32; FEATURES], label: usize) -> Result<f32, StepError> {
        self.trainer.train_sample(x, Target::Class(label))
    }

    /// The predicted class of `x` with the model as it was, then one optimizer step
    /// towards `label`: the same as [`predict`](Self::predict) followed by
    /// [`learn`](Self::learn), with one forward pass instead of two (the step's
    /// forward pass is the prediction). Returns the class and the loss.
    pub fn predict_then_learn(
        &mut self,
        x: &[f32; FEATURES],
        label: usize,
    ) -> Result<(usize, f32), StepError> {
        let loss = self.trainer.train_sample(x, Target::Class(label))?;
        Ok((argmax(self.trainer.last_output()), loss))
    }

    /// The parameters.
    pub fn params(&self) -> &[f32] {
        self.trainer.params()
    }

    /// The optimizer state.
    pub fn optimizer_state(&self) -> &[f32] {
        self.trainer.state()
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> u32 {
        self.trainer.step_count()
    }

    /// The trainer (to save a checkpoint of it).
    pub fn trainer(&self) -> &ModelTrainer<'a> {
        &self.trainer
    }

    /// The trainer, mutably (to restore a checkpoint into it).
    pub fn trainer_mut(&mut self) -> &mut ModelTrainer<'a> {
        &mut self.trainer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_largest() {
        assert_eq!(argmax(&[0.1, 0.3, 0.3]), 1);
        assert_eq!(argmax(&[2.0, -1.0]), 0);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn learns_a_fixed_sample_and_rejects_bad_labels() {
        let mut s = EMPTY_STORAGE;
        let mut m = Learner::new(&mut s, 1).unwrap();
        let x = [0.0, 0.0, 1.0, 0.1, 0.1, 0.1, 0.0, 0.0, 0.0];
        for _ in 0..50 {
            m.learn(&x, 2).unwrap();
        }
        assert_eq!(m.predict(&x).unwrap(), 2);
        let before = m.params().to_vec();
        assert!(m.learn(&x, CLASSES).is_err());
        assert_eq!(before, m.params());
        assert_eq!(m.steps(), 50);
    }
}
