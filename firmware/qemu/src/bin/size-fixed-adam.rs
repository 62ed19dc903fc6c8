//! Flash probe: training in fixed point (`microtrain::fixed`) with Adam (see
//! `size_probe.rs`).
#![no_std]
#![no_main]

#[path = "../halt.rs"]
mod halt;
#[path = "../size_probe.rs"]
#[macro_use]
mod size_probe;

use defmt_semihosting as _;
use microtrain::fixed::{FixedStorage, FixedTrainer};
use microtrain::{fixed_storage_for, Adam};
use size_probe::{LAYERS, LOSS};

const OPT: Adam = Adam::new(0.01);

size_probe!(
    fixed_storage_for!(&LAYERS, OPT) = FixedStorage::new(),
    |m: &'static mut fixed_storage_for!(&LAYERS, OPT)| FixedTrainer::new(&LAYERS, m.buffers(), OPT, LOSS)
);
