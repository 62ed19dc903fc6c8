//! Which model the firmware trains, chosen by a cargo feature:
//!
//! - default: the 9-16-3 MLP from random weights, every parameter trained in RAM;
//! - `fine-tune`: the model pretrained on the desktop on the first user
//!   (`stream/pretrained/stream-9-16-3.mtm`, decoded at compile time into a `static`
//!   in flash), its first layer frozen there and only its last layer adapting in RAM;
//! - `fixed`: the 9-16-3 MLP in fixed point (for chips without an FPU).

use microtrain::ConfigError;
use microtrain_stream::Learner;

#[cfg(all(feature = "fixed", feature = "fine-tune"))]
compile_error!(
    "features `fixed` and `fine-tune` exclude each other: the fixed-point trainer has no frozen layers"
);

#[cfg(not(feature = "fine-tune"))]
pub use microtrain_stream::model::{ModelPlan as Plan, ModelStorage as Storage, EMPTY_STORAGE as EMPTY};

#[cfg(feature = "fine-tune")]
pub use microtrain_stream::fine_tune::{
    FineTunePlan as Plan, FineTuneStorage as Storage, EMPTY_FINE_TUNE_STORAGE as EMPTY,
};

/// What the log says of the model.
pub const NAME: &str = if cfg!(feature = "fine-tune") {
    "f32, pretrained (first layer frozen in flash, last layer adapting)"
} else if cfg!(feature = "fixed") {
    "fixed point (Q16.16)"
} else {
    "f32"
};

/// The model over `storage`: drawn from `seed`, or the pretrained one (`fine-tune`).
pub fn learner(storage: &'static mut Storage, seed: u64) -> Result<Learner<'static, Plan>, ConfigError> {
    #[cfg(feature = "fine-tune")]
    {
        let _ = seed;
        Learner::fine_tune(storage, &microtrain_stream::fine_tune::PRETRAINED)
    }
    #[cfg(not(feature = "fine-tune"))]
    Learner::new(storage, seed)
}
