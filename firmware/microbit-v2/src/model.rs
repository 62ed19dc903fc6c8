//! Which model the board trains (cargo feature `fine-tune`): by default the 9-16-3 MLP
//! from random weights, every parameter in RAM; with `fine-tune`, the model pretrained
//! on the desktop (`stream/pretrained/`, a `static` in flash) whose last layer alone
//! adapts to the wearer. `firmware/qemu/src/model.rs` makes the same choice for QEMU.

use microtrain::ConfigError;
use microtrain_stream::Learner;

#[cfg(not(feature = "fine-tune"))]
pub use microtrain_stream::model::{ModelPlan as Plan, ModelStorage as Storage, EMPTY_STORAGE as EMPTY};

#[cfg(feature = "fine-tune")]
pub use microtrain_stream::fine_tune::{
    FineTunePlan as Plan, FineTuneStorage as Storage, EMPTY_FINE_TUNE_STORAGE as EMPTY,
};

/// The model over `storage`: drawn from `seed`, or the pretrained one (`fine-tune`).
pub fn learner(storage: &'static mut Storage, seed: u64) -> Result<Learner<'static, Plan>, ConfigError> {
    #[cfg(feature = "fine-tune")]
    return {
        let _ = seed;
        Learner::fine_tune(storage, &microtrain_stream::fine_tune::PRETRAINED)
    };
    #[cfg(not(feature = "fine-tune"))]
    Learner::new(storage, seed)
}
