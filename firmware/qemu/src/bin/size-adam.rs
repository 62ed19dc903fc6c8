//! Flash probe: training with Adam (see `size_probe.rs`), with the firmware's plan.
#![no_std]
#![no_main]

#[path = "../halt.rs"]
mod halt;
#[path = "../size_probe.rs"]
#[macro_use]
mod size_probe;

use defmt_semihosting as _;
use microtrain::{plan_for, storage_for, Adam, Storage, Trainer};
use size_probe::{LAYERS, LOSS};

const OPT: Adam = Adam::new(0.01);
/// The code this configuration runs, fixed at compile time: only it is linked.
type Plan = plan_for!(&LAYERS, OPT, LOSS);

size_probe!(
    storage_for!(&LAYERS, OPT) = Storage::sized_for(&LAYERS, OPT.state_per_param()),
    |m: &'static mut storage_for!(&LAYERS, OPT)| Trainer::<_, Plan>::with_plan(
        &LAYERS,
        m.buffers(),
        OPT,
        LOSS
    )
);
