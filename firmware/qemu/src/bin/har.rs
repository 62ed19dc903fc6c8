//! Human-activity recognition from a recorded 6-axis stream, replayed through
//! semihosting (`csv=PATH seed=N`): the BasicMotions pipeline of the README (a smart
//! watch's accelerometer and gyroscope, 4 activities), built for the device with the
//! stream crate's const generics. Windows of 20 readings every 10, range 40, per axis
//! mean, standard deviation and jerk (18 features), an 18-16-4 MLP trained with Adam
//! (0.005) one step per labelled window, predicted before. The log ends with the
//! checksum of `microtrain-sim stream --source csv --csv PATH --window 20 --hop 10
//! --range 40 --hidden 16 --lr 0.005 --seed N` (`firmware/replay-test --har`).
#![no_std]
#![no_main]

#[path = "../cmdline.rs"]
mod cmdline;
#[path = "../halt.rs"]
mod halt;
// Only reading: the writing half is the checkpoints' and the fleet device's.
#[allow(dead_code)]
#[path = "../hostfile.rs"]
mod hostfile;
#[path = "../replay.rs"]
mod replay;
#[path = "../stack.rs"]
mod stack;

use cortex_m_rt::entry;
use defmt::{error, info};
use defmt_semihosting as _;
use microtrain::{plan_for, storage_for, Activation, Adam, Dense, Storage};
use microtrain_stream::model::LOSS;
use microtrain_stream::{App, Learner};

/// Readings per window and between two windows' starts.
const LEN: usize = 20;
const HOP: usize = 10;
/// Axes per reading: accelerometer x, y, z, gyroscope x, y, z.
const AXES: usize = 6;
/// Mean, standard deviation and jerk per axis.
const INPUTS: usize = 3 * AXES;
/// The activities, in the order the simulator sorts their names.
const CLASS_NAMES: [&str; 4] = ["Badminton", "Running", "Standing", "Walking"];
const CLASSES: usize = CLASS_NAMES.len();
/// The sensor's full scale in the recording's units (the gyroscope reaches about 30).
const RANGE: f32 = 40.0;

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
    let ok = run(STORAGE, ARGS);
    info!(
        "stack peak {=u32} bytes (of {=u32} free for the stack)",
        stack::peak(),
        stack::size()
    );
    halt::exit(ok)
}

fn run(storage: &'static mut ModelStorage, args: &'static mut [u8]) -> bool {
    let line = cmdline::read(args).unwrap_or("");
    let (mut csv, mut seed) = (None, 42u64);
    for word in line.split_ascii_whitespace() {
        match word.split_once('=') {
            Some(("csv", p)) if !p.is_empty() => csv = Some(p),
            Some(("seed", v)) => match v.parse() {
                Ok(s) => seed = s,
                Err(_) => {
                    error!("seed= takes a whole number, not {=str}", v);
                    return false;
                }
            },
            Some((k, _)) => {
                error!("unknown setting {=str} (expected csv=PATH and seed=N)", k);
                return false;
            }
            None => {}
        }
    }
    let Some(path) = csv else {
        error!("no recording: csv=PATH");
        return false;
    };
    info!(
        "har: {=usize} axes, windows of {=usize} every {=usize}, range {=f32}, MLP {=usize}-16-{=usize}, seed {=u64}",
        AXES, LEN, HOP, RANGE, INPUTS, CLASSES, seed
    );
    let learner = match Learner::<Plan, INPUTS, CLASSES>::with_model(&LAYERS, storage.buffers(), OPT, seed) {
        Ok(l) => l,
        Err(e) => {
            error!("model: {}", e);
            return false;
        }
    };
    let app = App::<'_, LEN, HOP, Plan, AXES, INPUTS, CLASSES>::with_window(learner, RANGE);
    replay::run(path, &CLASS_NAMES, app) == replay::Replayed::Done
}
