//! The model: a 9-16-3 multilayer perceptron over the window features, trained online
//! with Adam and softmax cross-entropy, one optimizer step per labelled window.

use crate::features::FEATURES;
#[cfg(not(feature = "fixed"))]
use microtrain::{plan_for, storage_for, Trainer};
use microtrain::{Activation, Adam, ConfigError, Dense, Loss, Plan, StepError, Target};

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
#[cfg(not(feature = "fixed"))]
pub type ModelPlan = plan_for!(&LAYERS, OPTIMIZER, LOSS);

/// The plan type parameter of a fixed-point [`Learner`] (feature `fixed`): unused, the
/// fixed-point trainer has no plans.
#[cfg(feature = "fixed")]
pub type ModelPlan = microtrain::Dynamic;

/// The trainer of a model whose steps run plan `P` ([`ModelPlan`] for [`LAYERS`],
/// [`FineTunePlan`](crate::fine_tune::FineTunePlan) for the fine-tuned model).
#[cfg(not(feature = "fixed"))]
pub type ModelTrainer<'a, P = ModelPlan> = Trainer<'a, Adam, P>;

/// The trainer of the model: fixed point (feature `fixed`, for chips without an FPU).
#[cfg(feature = "fixed")]
pub type ModelTrainer<'a> = microtrain::fixed::FixedTrainer<'a, Adam>;

/// Exactly the training memory of [`LAYERS`] with [`OPTIMIZER`]; a `static` on a device.
#[cfg(not(feature = "fixed"))]
pub type ModelStorage = storage_for!(&LAYERS, OPTIMIZER);

/// Exactly the training memory of [`LAYERS`] with [`OPTIMIZER`] in fixed point.
#[cfg(feature = "fixed")]
pub type ModelStorage = microtrain::fixed_storage_for!(&LAYERS, OPTIMIZER);

/// A `const` initializer for [`ModelStorage`], checked against the shape at compile time.
#[cfg(not(feature = "fixed"))]
pub const EMPTY_STORAGE: ModelStorage = ModelStorage::sized_for(&LAYERS, OPTIMIZER.state_per_param());

/// A `const` initializer for [`ModelStorage`] (zeroed).
#[cfg(feature = "fixed")]
pub const EMPTY_STORAGE: ModelStorage = ModelStorage::new();

/// A parameter as the model stores it: `f32`, or Q16.16 in `i32` with the feature `fixed`.
#[cfg(not(feature = "fixed"))]
pub type Param = f32;

/// A parameter as the model stores it: `f32`, or Q16.16 in `i32` with the feature `fixed`.
#[cfg(feature = "fixed")]
pub type Param = i32;

/// The classifier: a [`microtrain::Trainer`] (or, with the feature `fixed`, a
/// [`microtrain::fixed::FixedTrainer`]) over caller-owned storage. `P` is the code its
/// steps run: [`ModelPlan`] for the model that trains whole ([`Learner::new`]),
/// [`FineTunePlan`](crate::fine_tune::FineTunePlan) for the pretrained model whose last
/// layer alone adapts ([`Learner::fine_tune`]), or a firmware's own
/// ([`Learner::with_model`]). `INPUTS` and `CLASSES` are the model's inputs and
/// outputs: the demo's [`FEATURES`] and [`CLASSES`] by default.
#[derive(Debug)]
pub struct Learner<'a, P: Plan = ModelPlan, const INPUTS: usize = FEATURES, const CLASSES_: usize = CLASSES> {
    #[cfg(not(feature = "fixed"))]
    trainer: ModelTrainer<'a, P>,
    #[cfg(feature = "fixed")]
    trainer: ModelTrainer<'a>,
    /// The fixed-point trainer has no plans: `P` is only a marker.
    #[cfg(feature = "fixed")]
    plan: core::marker::PhantomData<P>,
}

/// Index of the largest value (the first one on ties; 0 for an empty slice): the core's.
pub use microtrain::data::argmax;

impl<'a> Learner<'a> {
    /// A freshly initialised model (weights drawn from `seed`) over `storage`.
    pub fn new(storage: &'a mut ModelStorage, seed: u64) -> Result<Self, ConfigError> {
        #[cfg(not(feature = "fixed"))]
        let mut trainer = Trainer::with_plan(&LAYERS, storage.buffers(), OPTIMIZER, LOSS)?;
        #[cfg(feature = "fixed")]
        let mut trainer = ModelTrainer::new(&LAYERS, storage.buffers(), OPTIMIZER, LOSS)?;
        trainer.init_params(seed);
        Ok(Learner {
            trainer,
            #[cfg(feature = "fixed")]
            plan: core::marker::PhantomData,
        })
    }
}

#[cfg(not(feature = "fixed"))]
impl<'a, P: Plan, const INPUTS: usize, const CLASSES_: usize> Learner<'a, P, INPUTS, CLASSES_> {
    /// A freshly initialised model of `layers` (weights drawn from `seed`) over
    /// `buffers`, trained with Adam `opt` and softmax cross-entropy, its steps running
    /// plan `P` (`plan_for!(&LAYERS, OPT, Loss::SoftmaxCrossEntropy)`): a firmware's
    /// own pipeline, e.g. 6 axes and 4 classes. The layers must take `INPUTS` values
    /// and give `CLASSES_`; otherwise [`ConfigError::LayerMismatch`] names the first
    /// layer (0) or, for the classes, the layer after the last.
    pub fn with_model(
        layers: &'a [Dense],
        buffers: microtrain::Buffers<'a>,
        opt: Adam,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        let (first, last) = match (layers.first(), layers.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(ConfigError::NoLayers),
        };
        if first.inputs != INPUTS {
            return Err(ConfigError::LayerMismatch {
                layer: 0,
                expected: INPUTS,
                inputs: first.inputs,
            });
        }
        if last.outputs != CLASSES_ {
            return Err(ConfigError::LayerMismatch {
                layer: layers.len(),
                expected: last.outputs,
                inputs: CLASSES_,
            });
        }
        let mut trainer = Trainer::with_plan(layers, buffers, opt, LOSS)?;
        trainer.init_params(seed);
        Ok(Learner { trainer })
    }
}

impl<'a, P: Plan, const INPUTS: usize, const CLASSES_: usize> Learner<'a, P, INPUTS, CLASSES_> {
    /// The learner of a trainer set up by the caller, such as
    /// [`Learner::fine_tune`]'s. Its layers must take `INPUTS` inputs and give
    /// `CLASSES_` outputs: the trainer refuses any other sample at each step.
    #[cfg(not(feature = "fixed"))]
    pub fn from_trainer(trainer: ModelTrainer<'a, P>) -> Self {
        Learner { trainer }
    }

    /// The predicted class of a feature vector.
    pub fn predict(&mut self, x: &[f32; INPUTS]) -> Result<usize, StepError> {
        #[cfg(not(feature = "fixed"))]
        {
            let mut logits = [0.0f32; CLASSES_];
            self.trainer.predict(x, &mut logits)?;
            Ok(argmax(&logits))
        }
        #[cfg(feature = "fixed")]
        self.trainer.predict_class(x)
    }

    /// One optimizer step towards `label`; returns the loss before the step.
    pub fn learn(&mut self, x: &[f32; INPUTS], label: usize) -> Result<f32, StepError> {
        self.trainer.train_sample(x, Target::Class(label))
    }

    /// The predicted class of `x` with the model as it was, then one optimizer step
    /// towards `label`: the same as [`predict`](Self::predict) followed by
    /// [`learn`](Self::learn), with one forward pass instead of two (the step's
    /// forward pass is the prediction). Returns the class and the loss.
    pub fn predict_then_learn(&mut self, x: &[f32; INPUTS], label: usize) -> Result<(usize, f32), StepError> {
        let loss = self.trainer.train_sample(x, Target::Class(label))?;
        #[cfg(not(feature = "fixed"))]
        let predicted = argmax(self.trainer.last_output());
        #[cfg(feature = "fixed")]
        let predicted = {
            // The first largest, as `argmax`.
            let out = self.trainer.last_output();
            (0..out.len()).fold(0, |b, i| if out.get(i) > out.get(b) { i } else { b })
        };
        Ok((predicted, loss))
    }

    /// The parameters.
    pub fn params(&self) -> &[Param] {
        self.trainer.params()
    }

    /// The optimizer state.
    pub fn optimizer_state(&self) -> &[Param] {
        self.trainer.state()
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> u32 {
        self.trainer.step_count()
    }

    /// The trainer (to save a checkpoint of it).
    #[cfg(not(feature = "fixed"))]
    pub fn trainer(&self) -> &ModelTrainer<'a, P> {
        &self.trainer
    }

    /// The trainer, mutably (to restore a checkpoint into it).
    #[cfg(not(feature = "fixed"))]
    pub fn trainer_mut(&mut self) -> &mut ModelTrainer<'a, P> {
        &mut self.trainer
    }

    /// The trainer (to save a checkpoint of it).
    #[cfg(feature = "fixed")]
    pub fn trainer(&self) -> &ModelTrainer<'a> {
        &self.trainer
    }

    /// The trainer, mutably (to restore a checkpoint into it).
    #[cfg(feature = "fixed")]
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
