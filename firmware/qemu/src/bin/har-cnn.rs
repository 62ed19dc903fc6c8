//! BasicMotions replayed through semihosting (`csv=PATH seed=N`, see `src/har.rs`)
//! into a 1-d CNN on the raw window, channel-major (one row of 20 readings per axis):
//! Conv1d 6->8 kernel 5, ReLU, MaxPool 2, Conv1d 8->16 kernel 5, ReLU, global average
//! pool, Dense 16->4 (972 parameters), trained with Adam (0.002) one step per labelled
//! window, predicted before. The log ends with the checksum of `microtrain-sim stream
//! --source csv --csv PATH --window 20 --hop 10 --range 40 --input raw --model cnn
//! --lr 0.002 --seed N` (`firmware/replay-test --har-cnn`). About 18 KB of model
//! memory: more than the Cortex-M0 machine's 16 KB of RAM.
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
use har::{AXES, CLASSES, LEN};
use microtrain::shape::Padding;
use microtrain::{plan_for, storage_for, Activation, Adam, Dense, Storage};
use microtrain_stream::model::LOSS;

/// The raw window: `LEN` readings of each axis.
const INPUTS: usize = LEN * AXES;
/// The simulator's `--model cnn` for this window (its `cnn_layers(6, 20, 4)`).
const LAYERS: [Dense; 5] = [
    Dense::conv1d(AXES, 8, 5, 1, Padding::None, LEN, Activation::Relu),
    Dense::max_pool1d(8, LEN - 4, 2, 2),
    Dense::conv1d(8, 16, 5, 1, Padding::None, (LEN - 4) / 2, Activation::Relu),
    Dense::global_avg_pool1d(16, (LEN - 4) / 2 - 4),
    Dense::new(16, CLASSES, Activation::Identity),
];
const OPT: Adam = Adam::new(0.002);
type Plan = plan_for!(&LAYERS, OPT, LOSS);
type ModelStorage = storage_for!(&LAYERS, OPT);

#[entry]
fn main() -> ! {
    // All model memory: parameters, gradients, Adam moments, activations.
    static mut STORAGE: ModelStorage = Storage::new();
    static mut ARGS: [u8; 256] = [0; 256];
    stack::paint();
    let ok = har::run::<Plan, INPUTS>("CNN on the raw window", &LAYERS, STORAGE.buffers(), OPT, ARGS);
    info!(
        "stack peak {=u32} bytes (of {=u32} free for the stack)",
        stack::peak(),
        stack::size()
    );
    halt::exit(ok)
}
