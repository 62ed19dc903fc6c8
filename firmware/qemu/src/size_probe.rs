//! What every flash probe (`size-adam`, `size-sgd`, `size-fixed-sgd`, `size-fixed-adam`)
//! runs: a 4-8-3 MLP, softmax cross-entropy, set-up, initialisation, one step on one
//! sample and a prediction, on the same skeleton as `size-base`. `bench/run` and
//! `bench/run-fixed` report the difference of a probe's `.text` and `size-base`'s: the
//! flash that this training adds to a firmware.

use microtrain::{Activation, Dense, Loss};

/// The probes' model.
pub const LAYERS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];
/// The probes' loss.
pub const LOSS: Loss = Loss::SoftmaxCrossEntropy;

/// The probe's `main`: `$storage` is the type of the model's `static`, `$init` its
/// initializer, and `$trainer` a closure from the storage to a trainer (`Trainer` or
/// `FixedTrainer`: the same calls).
macro_rules! size_probe {
    ($storage:ty = $init:expr, $trainer:expr) => {
        #[cortex_m_rt::entry]
        fn main() -> ! {
            static mut MODEL: $storage = $init;
            let x = core::hint::black_box([0.5f32, -0.25, 1.0, 0.125]);
            let label = core::hint::black_box(2usize);
            let mut ok = false;
            if let Ok(mut t) = ($trainer)(MODEL) {
                t.init_params(1);
                ok = t.train_sample(&x, microtrain::Target::Class(label)).is_ok();
                let mut out = [0.0f32; 3];
                ok &= t.predict(&x, &mut out).is_ok();
                core::hint::black_box(out);
            }
            defmt::println!("done {=bool}", ok);
            halt::exit(ok)
        }
    };
}
