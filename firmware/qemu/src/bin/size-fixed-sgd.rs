//! Flash probe, fixed point: the same skeleton as `size-base`, plus a 4-8-3 MLP
//! trained in fixed point (`microtrain::fixed`) with plain SGD and softmax cross-entropy,
//! one step per sample, and a prediction. `bench/run-fixed` reports the difference of
//! the two `.text` sizes: the flash that fixed-point training adds to a firmware.
#![no_std]
#![no_main]

#[path = "../halt.rs"]
mod halt;

use cortex_m_rt::entry;
use defmt_semihosting as _;
use microtrain::fixed::{FixedStorage, FixedTrainer};
use microtrain::{fixed_storage_for, Activation, Dense, Loss, Sgd, Target};

const LAYERS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];
const OPT: Sgd = Sgd::new(0.01);
const LOSS: Loss = Loss::SoftmaxCrossEntropy;

#[entry]
fn main() -> ! {
    static mut MODEL: fixed_storage_for!(&LAYERS, OPT) = FixedStorage::new();
    let x = core::hint::black_box([0.5f32, -0.25, 1.0, 0.125]);
    let label = core::hint::black_box(2usize);
    let mut ok = false;
    if let Ok(mut t) = FixedTrainer::new(&LAYERS, MODEL.buffers(), OPT, LOSS) {
        t.init_params(1);
        ok = t.train_sample(&x, Target::Class(label)).is_ok();
        let mut out = [0.0f32; 3];
        ok &= t.predict(&x, &mut out).is_ok();
        core::hint::black_box(out);
    }
    defmt::println!("done {=bool}", ok);
    halt::exit(ok)
}
