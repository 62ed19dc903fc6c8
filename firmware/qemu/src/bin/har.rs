//! BasicMotions replayed through semihosting (`csv=PATH seed=N`, see `src/har.rs`)
//! into an 18-16-4 MLP on the window's features (per axis mean, standard deviation and
//! jerk), trained with Adam (0.005) one step per labelled window, predicted before. The
//! log ends with the checksum of `microtrain-sim stream --source csv --csv PATH
//! --window 20 --hop 10 --range 40 --hidden 16 --lr 0.005 --seed N`
//! (`firmware/replay-test --har`).
#![no_std]
#![no_main]

#[path = "../cmdline.rs"]
mod cmdline;
#[path = "../halt.rs"]
mod halt;
#[path = "../har.rs"]
mod har;
// Only reading: the writing half is the checkpoints' and the fleet device's.
#[allow(dead_code)]
#[path = "../hostfile.rs"]
mod hostfile;
#[path = "../replay.rs"]
mod replay;
#[path = "../stack.rs"]
mod stack;

use cortex_m_rt::entry;
use defmt::info;
use defmt_semihosting as _;
use har::{AXES, CLASSES};
use microtrain::{plan_for, storage_for, Activation, Adam, Dense, Storage};
use microtrain_stream::model::LOSS;

/// Mean, standard deviation and jerk per axis.
const INPUTS: usize = 3 * AXES;
const LAYERS: [Dense; 2] = [
    Dense::new(INPUTS, 16, Activation::Relu),
    Dense::new(16, CLASSES, Activation::Identity),
];
const OPT: Adam = Adam::new(0.005);
type Plan = plan_for!(&LAYERS, OPT, LOSS);
type ModelStorage = storage_for!(&LAYERS, OPT);

#[entry]
fn main() -> ! {
    // All model memory: parameters, gradients, Adam moments, activations.
    static mut STORAGE: ModelStorage = Storage::new();
    static mut ARGS: [u8; 256] = [0; 256];
    stack::paint();
    let ok = har::run::<Plan, INPUTS>("MLP 18-16-4 on features", &LAYERS, STORAGE.buffers(), OPT, ARGS);
    info!(
        "stack peak {=u32} bytes (of {=u32} free for the stack)",
        stack::peak(),
        stack::size()
    );
    halt::exit(ok)
}
