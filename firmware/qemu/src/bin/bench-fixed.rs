//! Instruction, RAM and stack figures of one training step, float and fixed point, for
//! `firmware/qemu/bench/run-fixed`: built for the Cortex-M0 (`thumbv6m-none-eabi`,
//! QEMU `microbit`, soft float) and the Cortex-M4F (`thumbv7em-none-eabihf`,
//! `mps2-an386`).
//!
//! The same protocol as `bench`, from `measure.rs`: per workload a warm-up step, then a
//! region with zero steps and a region with `STEPS` steps; the difference over the
//! steps is the cost of one step. Workloads: the Iris 4-8-3
//! model (ReLU, softmax cross-entropy, one sample per step) with SGD (lr 0.01), SGD
//! with momentum 0.9 and Adam (lr 0.001), and the stream scenario's 9-16-3 model with
//! its Adam (lr 0.02), each on the float [`Trainer`] (with its compile-time plan, as a
//! firmware names it) and on the fixed-point [`FixedTrainer`].
#![no_std]
#![no_main]

#[path = "../stack.rs"]
#[allow(dead_code)] // the bench uses only part of it
mod stack;

#[path = "../halt.rs"]
mod halt;

#[path = "../measure.rs"]
mod measure;

use cortex_m_rt::entry;
use defmt_semihosting as _;
use microtrain::fixed::{FixedOptimizer, FixedStorage, FixedTrainer};
use microtrain::{
    fixed_storage_for, plan_for, storage_for, Activation, Adam, Dense, Loss, Optimizer, Plan, Sgd, Storage,
    Target, Trainer,
};

const IRIS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];
const STREAM: [Dense; 2] = microtrain_stream::model::LAYERS;
const STREAM_OPT: Adam = microtrain_stream::model::OPTIMIZER;
const ADAM: Adam = Adam::new(0.001);
const SGD: Sgd = Sgd::new(0.01);
const MOMENTUM: Sgd = Sgd::momentum(0.01, 0.9);
const LOSS: Loss = Loss::SoftmaxCrossEntropy;
const STEPS: u32 = 20;

/// A sample of `n` inputs (`n <= 16`) and its label.
fn sample(n: usize) -> ([f32; 16], usize) {
    let mut x = [0.0f32; 16];
    for (i, v) in x.iter_mut().take(n).enumerate() {
        *v = ((i * 37 % 101) as f32) / 50.0 - 1.0;
    }
    (x, 1)
}

/// One float step, never inlined (its frame is the step's).
#[inline(never)]
fn float_step<O: Optimizer, P: Plan>(t: &mut Trainer<'_, O, P>, x: &[f32], label: usize) -> bool {
    t.train_sample(x, Target::Class(label)).is_ok()
}

/// One fixed-point step, never inlined.
#[inline(never)]
fn fixed_step<O: FixedOptimizer>(t: &mut FixedTrainer<'_, O>, x: &[f32], label: usize) -> bool {
    t.train_sample(x, Target::Class(label)).is_ok()
}

/// A float workload with the plan `P`.
fn float<O: Optimizer, P: Plan>(
    name: &str,
    layers: &[Dense],
    buffers: microtrain::Buffers<'_>,
    ram: usize,
    opt: O,
) -> bool {
    let Ok(mut t) = Trainer::<O, P>::with_plan(layers, buffers, opt, LOSS) else {
        defmt::error!("{=str}: the storage does not fit the model", name);
        return false;
    };
    t.init_params(1);
    let n = layers.first().map_or(0, |l| l.inputs);
    let (x, label) = sample(n);
    let x = x.get(..n).unwrap_or(&[]);
    measure::measure(name, STEPS, 1, ram, || float_step(&mut t, x, label))
}

/// A fixed-point workload.
fn fixed<O: FixedOptimizer>(
    name: &str,
    layers: &[Dense],
    buffers: microtrain::fixed::FixedBuffers<'_>,
    ram: usize,
    opt: O,
) -> bool {
    let Ok(mut t) = FixedTrainer::new(layers, buffers, opt, LOSS) else {
        defmt::error!("{=str}: the storage does not fit the model", name);
        return false;
    };
    t.init_params(1);
    let n = layers.first().map_or(0, |l| l.inputs);
    let (x, label) = sample(n);
    let x = x.get(..n).unwrap_or(&[]);
    measure::measure(name, STEPS, 1, ram, || fixed_step(&mut t, x, label))
}

#[entry]
fn main() -> ! {
    static mut F_IRIS_SGD: storage_for!(&IRIS, SGD) = Storage::sized_for(&IRIS, SGD.state_per_param());
    static mut F_IRIS_ADAM: storage_for!(&IRIS, ADAM) = Storage::sized_for(&IRIS, ADAM.state_per_param());
    static mut F_STREAM: storage_for!(&STREAM, STREAM_OPT) =
        Storage::sized_for(&STREAM, STREAM_OPT.state_per_param());
    static mut Q_IRIS_SGD: fixed_storage_for!(&IRIS, SGD) = FixedStorage::new();
    static mut Q_IRIS_MOM: fixed_storage_for!(&IRIS, MOMENTUM) = FixedStorage::new();
    static mut Q_IRIS_ADAM: fixed_storage_for!(&IRIS, ADAM) = FixedStorage::new();
    static mut Q_STREAM: fixed_storage_for!(&STREAM, STREAM_OPT) = FixedStorage::new();
    let sizes = [
        core::mem::size_of_val(F_IRIS_SGD),
        core::mem::size_of_val(F_IRIS_ADAM),
        core::mem::size_of_val(F_STREAM),
        core::mem::size_of_val(Q_IRIS_SGD),
        core::mem::size_of_val(Q_IRIS_MOM),
        core::mem::size_of_val(Q_IRIS_ADAM),
        core::mem::size_of_val(Q_STREAM),
    ];
    let mut ok = true;
    ok &= float::<_, plan_for!(&IRIS, SGD, LOSS)>(
        "iris-sgd-b1-float",
        &IRIS,
        F_IRIS_SGD.buffers(),
        sizes[0],
        SGD,
    );
    ok &= float::<_, plan_for!(&IRIS, ADAM, LOSS)>(
        "iris-adam-b1-float",
        &IRIS,
        F_IRIS_ADAM.buffers(),
        sizes[1],
        ADAM,
    );
    ok &= float::<_, plan_for!(&STREAM, STREAM_OPT, LOSS)>(
        "stream-adam-b1-float",
        &STREAM,
        F_STREAM.buffers(),
        sizes[2],
        STREAM_OPT,
    );
    ok &= fixed("iris-sgd-b1-fixed", &IRIS, Q_IRIS_SGD.buffers(), sizes[3], SGD);
    ok &= fixed(
        "iris-momentum-b1-fixed",
        &IRIS,
        Q_IRIS_MOM.buffers(),
        sizes[4],
        MOMENTUM,
    );
    ok &= fixed("iris-adam-b1-fixed", &IRIS, Q_IRIS_ADAM.buffers(), sizes[5], ADAM);
    ok &= fixed(
        "stream-adam-b1-fixed",
        &STREAM,
        Q_STREAM.buffers(),
        sizes[6],
        STREAM_OPT,
    );
    halt::exit(ok)
}
