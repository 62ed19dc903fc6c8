//! Fine-tuning on the device: the model pretrained on the desktop on the first user's
//! data, kept whole in flash, with only its last layer adapting on the device.
//!
//! ```text
//!  desktop: pretrain() ── first user's windows, every one labelled, the whole model
//!           └─► pretrained/stream-9-16-3.mtm (microtrain-sim stream --pretrain FILE)
//!  device:  PRETRAINED = model_file::embed(include_bytes!(..)) ── a static in flash
//!           Learner::fine_tune: layer 0 frozen (read from PRETRAINED),
//!                               layer 1 (16 -> 3) trains in RAM with Adam
//! ```
//!
//! The device needs RAM only for the last layer's parameters, gradients and Adam
//! moments and the activations ([`FineTuneStorage`]); the first layer's weights are
//! read from flash and no error term is propagated to it. The scenario
//! ([`run`](crate::scenario::run)) is the same: the pretrained model is right on the
//! first user from the first window, wrong after the change of user, and its last
//! layer learns the second user.

use crate::app::App;
use crate::model::{Learner, LAYERS, LOSS, OPTIMIZER};
use crate::scenario::{fill_window, RunError};
use crate::sim::{SimAccelerometer, FULL_SCALE_G};
use microtrain::shape::params_len;
use microtrain::{model_file, plan_for, storage_for, ConfigError, Dense, Trainer};

/// The model's layers with the first frozen: the same shape as [`LAYERS`].
pub const FINE_TUNE_LAYERS: [Dense; 2] = [LAYERS[0].frozen(), LAYERS[1]];

/// Parameters of the whole model (the model file's, in flash).
pub const PARAMS: usize = params_len(&LAYERS);

/// The code the fine-tuned model's steps run.
pub type FineTunePlan = plan_for!(&FINE_TUNE_LAYERS, OPTIMIZER, LOSS);

/// Exactly the RAM fine-tuning needs: the last layer's parameters, gradients and Adam
/// moments, and the activations.
pub type FineTuneStorage = storage_for!(&FINE_TUNE_LAYERS, OPTIMIZER);

/// A `const` initializer for [`FineTuneStorage`].
pub const EMPTY_FINE_TUNE_STORAGE: FineTuneStorage =
    FineTuneStorage::sized_for(&FINE_TUNE_LAYERS, OPTIMIZER.state_per_param());

/// The seed of the desktop's pretraining run (the first user's recording).
pub const PRETRAIN_SEED: u64 = 2024;

/// Windows of the first user the desktop pretrains on, each one labelled.
pub const PRETRAIN_WINDOWS: u32 = 600;

/// The pretrained model's file, as `microtrain-sim stream --pretrain` writes it from
/// [`pretrain`]`(PRETRAIN_SEED, PRETRAIN_WINDOWS, ..)`.
pub const PRETRAINED_FILE: &[u8] = include_bytes!("../pretrained/stream-9-16-3.mtm");

/// The pretrained model's parameters, decoded at compile time: a `static` in flash. A
/// file that is not a model of [`LAYERS`] does not compile.
pub static PRETRAINED: [f32; PARAMS] = match model_file::embed(PRETRAINED_FILE, &LAYERS) {
    Ok(p) => p,
    Err(_) => panic!(
        "stream/pretrained/stream-9-16-3.mtm is not a model of LAYERS: run microtrain-sim stream --pretrain"
    ),
};

impl<'a> Learner<'a, FineTunePlan> {
    /// The pretrained model `pretrained` (the whole model's parameters, the model
    /// file's layout; [`PRETRAINED`] on a device) with its first layer frozen, read
    /// from `pretrained` where it is, and its last layer starting from the pretrained
    /// values in `storage`, with a fresh Adam. Refused if `pretrained` is short or not
    /// finite.
    pub fn fine_tune(storage: &'a mut FineTuneStorage, pretrained: &'a [f32]) -> Result<Self, ConfigError> {
        let buffers = storage.buffers().with_frozen(pretrained);
        let trainer = Trainer::with_plan(&FINE_TUNE_LAYERS, buffers, OPTIMIZER, LOSS)?;
        Ok(Learner::from_trainer(trainer))
    }
}

/// The desktop's pretraining: a fresh model (weights from `seed`) trained online on
/// `windows` windows of the first user only (the simulated stream of `seed` without
/// its change), every window labelled. Returns the whole model's parameters.
pub fn pretrain(seed: u64, windows: u32) -> Result<[f32; PARAMS], RunError> {
    let mut storage = crate::EMPTY_STORAGE;
    let learner = Learner::new(&mut storage, seed).map_err(RunError::Model)?;
    let mut app = App::new(learner, FULL_SCALE_G);
    let mut sim = SimAccelerometer::new(seed, u32::MAX);
    for w in 0..windows {
        fill_window(&mut app, &mut sim, w)?;
        let truth = sim.truth();
        app.finish_window(Some(truth), Some(truth))
            .map_err(RunError::Step)?;
    }
    let mut out = [0.0; PARAMS];
    out.copy_from_slice(app.learner().params());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{run, Bounds};
    use crate::{Config, ModelStorage};

    fn run_seed(seed: u64, pretrained: &[f32]) -> (crate::Report, std::vec::Vec<f32>) {
        let mut s = EMPTY_FINE_TUNE_STORAGE;
        let mut app = App::new(Learner::fine_tune(&mut s, pretrained).unwrap(), FULL_SCALE_G);
        let cfg = Config {
            seed,
            ..Config::DEFAULT
        };
        let r = run(&cfg, &mut app, |_| {}).unwrap();
        let mut whole = std::vec![0.0; PARAMS];
        app.learner().trainer().whole_params(&mut whole).unwrap();
        (r, whole)
    }

    #[test]
    fn the_embedded_model_is_what_pretraining_gives() {
        let p = pretrain(PRETRAIN_SEED, PRETRAIN_WINDOWS).unwrap();
        assert_eq!(
            p.map(f32::to_bits),
            PRETRAINED.map(f32::to_bits),
            "stream/pretrained/stream-9-16-3.mtm is stale: microtrain-sim stream --pretrain it again"
        );
    }

    #[test]
    fn the_last_layer_alone_relearns_the_second_user_on_many_seeds() {
        let first = LAYERS[0].params_len();
        for seed in (0..20).chain([42]) {
            let (r, whole) = run_seed(seed, &PRETRAINED);
            assert_eq!(r.check(&Bounds::DEFAULT), Ok(()), "seed {seed}: {r:?}");
            // The pretrained model is right on the first user, and its first layer
            // ends the run as it was pretrained.
            assert!(r.before.percent() >= 96, "seed {seed}: {r:?}");
            assert_eq!(
                whole[..first],
                PRETRAINED[..first],
                "seed {seed}: the frozen layer changed"
            );
            assert_ne!(
                whole[first..],
                PRETRAINED[first..],
                "seed {seed}: the last layer did not train"
            );
            assert_eq!(r.steps, 300);
        }
        // The simulator's and the firmware's (firmware/run-tests) final weights.
        assert_eq!(run_seed(42, &PRETRAINED).0.checksum, 0x8fed_8350);
    }

    #[test]
    fn a_fresh_model_with_a_frozen_random_layer_does_worse() {
        // What the pretraining buys: the same last-layer training on top of a random
        // first layer ends lower on some seeds and is never better overall.
        let mut s = crate::EMPTY_STORAGE;
        let random = Learner::new(&mut s, 7).unwrap().params().to_vec();
        let (mut pre, mut rnd) = (0, 0);
        for seed in 0..10 {
            pre += run_seed(seed, &PRETRAINED).0.overall.correct;
            rnd += run_seed(seed, &random).0.overall.correct;
        }
        assert!(pre > rnd, "pretrained {pre} vs random {rnd} correct windows");
    }

    #[test]
    fn training_needs_less_ram_than_the_whole_model() {
        let fine = core::mem::size_of::<FineTuneStorage>();
        let whole = core::mem::size_of::<ModelStorage>();
        // Last layer: 51 parameters, 51 gradients, 102 Adam moments; activations 38.
        assert_eq!(fine, 4 * (51 + 51 + 102 + 38));
        assert!(fine * 3 < whole, "{fine} vs {whole}");
    }

    #[test]
    fn a_bad_pretrained_model_is_refused() {
        let mut s = EMPTY_FINE_TUNE_STORAGE;
        assert!(Learner::fine_tune(&mut s, &PRETRAINED[..PARAMS - 1]).is_err());
        let mut nan = PRETRAINED;
        nan[3] = f32::NAN;
        let mut s = EMPTY_FINE_TUNE_STORAGE;
        assert!(matches!(
            Learner::fine_tune(&mut s, &nan),
            Err(microtrain::ConfigError::NonFiniteFrozen { index: 3 })
        ));
    }
}
