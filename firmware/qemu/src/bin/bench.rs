//! Instruction, RAM and stack figures of one training step, for `firmware/qemu/bench/run`.
//!
//! Each workload is counted by `measure.rs` (shared with `bench-fixed`): a warm-up
//! step, a region with zero steps and one with the workload's steps; the difference, divided
//! by the steps (and by the batch for batched workloads), is the cost of a step with
//! nothing else in it. The firmware logs each workload's training RAM (the bytes of its
//! storage) and the peak stack of its steps.
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
use microtrain::{
    online_storage_for, plan_for, storage_for, Activation, Adam, Buffers, Dataset, Dense, Loss,
    OnlineStorage, Optimizer, Padding, Plan, Sgd, StepError, Storage, Target, Targets, Trainer,
};

const IRIS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];
const MLP64: [Dense; 2] = [
    Dense::new(64, 128, Activation::Relu),
    Dense::new(128, 10, Activation::Identity),
];
/// The 64-128-10 MLP with its first layer frozen: only the last layer trains.
const MLP64_LAST: [Dense; 2] = [MLP64[0].frozen(), MLP64[1]];
/// The Iris MLP with only its biases trained (TinyTL).
const IRIS_BIAS: [Dense; 2] = [IRIS[0].bias_only(), IRIS[1].bias_only()];
/// A small 1-d CNN for activity recognition: a window of 3 channels x 64 samples,
/// Conv1d 3->8 k5, ReLU, MaxPool 2, Conv1d 8->16 k5, ReLU, global average pool,
/// Dense 16->4 (852 parameters).
const HAR_CNN: [Dense; 5] = [
    Dense::conv1d(3, 8, 5, 1, Padding::None, 64, Activation::Relu),
    Dense::max_pool1d(8, 60, 2, 2),
    Dense::conv1d(8, 16, 5, 1, Padding::None, 30, Activation::Relu),
    Dense::global_avg_pool1d(16, 26),
    Dense::new(16, 4, Activation::Identity),
];
/// A dense model of about the same parameter count on the same window: 192-4-4 (792).
const HAR_DENSE: [Dense; 2] = [
    Dense::new(192, 4, Activation::Relu),
    Dense::new(4, 4, Activation::Identity),
];
/// BasicMotions as the README trains it (windows of 20 readings of 6 axes, 4
/// activities): the 18-16-4 MLP on the 18 features the device computes, and the CNN
/// of `microtrain-sim stream --model cnn` on the raw window (channel-major).
const BM_MLP: [Dense; 2] = [
    Dense::new(18, 16, Activation::Relu),
    Dense::new(16, 4, Activation::Identity),
];
const BM_CNN: [Dense; 5] = [
    Dense::conv1d(6, 8, 5, 1, Padding::None, 20, Activation::Relu),
    Dense::max_pool1d(8, 16, 2, 2),
    Dense::conv1d(8, 16, 5, 1, Padding::None, 8, Activation::Relu),
    Dense::global_avg_pool1d(16, 4),
    Dense::new(16, 4, Activation::Identity),
];
const ADAM: Adam = Adam::new(0.001);
const SGD: Sgd = Sgd::new(0.01);
const ROWS: usize = 32;
const LOSS: Loss = Loss::SoftmaxCrossEntropy;

/// A pretrained model's parameters, as a firmware keeps them in flash: deterministic
/// values in about [-0.1, 0.1] (a `static` of `N` floats in `.rodata`).
const fn pretrained<const N: usize>() -> [f32; N] {
    let mut out = [0.0f32; N];
    let mut state = 0x2545_f491u32;
    let mut i = 0;
    while i < N {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out[i] = ((state >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 0.2;
        i += 1;
    }
    out
}
static MLP64_WHOLE: [f32; microtrain::shape::params_len(&MLP64)] = pretrained();
static IRIS_WHOLE: [f32; microtrain::shape::params_len(&IRIS)] = pretrained();

/// One single-sample step, as a streaming device runs it.
#[inline(never)]
fn one_sample<O: Optimizer, P: Plan>(
    t: &mut Trainer<'_, O, P>,
    x: &[f32],
    label: usize,
) -> Result<f32, StepError> {
    t.train_sample(x, Target::Class(label))
}

/// One step on a batch.
#[inline(never)]
fn one_batch<O: Optimizer, P: Plan>(t: &mut Trainer<'_, O, P>, data: &Dataset<'_>) -> Result<f32, StepError> {
    t.train_batch(data)
}

/// Runs one workload: `steps` optimizer steps of `batch` rows, with the plan `P` (the
/// workload's `plan_for!`, as a firmware names it).
#[allow(clippy::too_many_arguments)]
fn workload<O: Optimizer, P: Plan>(
    name: &str,
    layers: &[Dense],
    buffers: Buffers<'_>,
    ram: usize,
    opt: O,
    x: &[f32],
    labels: &[u16],
    batch: usize,
    steps: u32,
) -> bool {
    let Ok(mut t) = Trainer::<O, P>::with_plan(layers, buffers, opt, LOSS) else {
        defmt::error!("{=str}: the storage does not fit the model", name);
        return false;
    };
    t.init_params(1);
    let inputs = layers[0].inputs;
    let Some(data) = Dataset::new(&x[..inputs * batch], inputs, Targets::Classes(&labels[..batch])) else {
        defmt::error!("{=str}: bad dataset", name);
        return false;
    };
    // A batch of one is what a device learning from a stream runs: `train_sample`. The
    // two calls live in separate functions, so that the batch path's stack frame is
    // not charged to the single-sample step.
    let sample = &x[..inputs];
    let label = usize::from(labels[0]);
    let step = |t: &mut Trainer<'_, O, P>| {
        if batch == 1 {
            one_sample(t, sample, label)
        } else {
            one_batch(t, &data)
        }
    };
    measure::measure(name, steps, batch as u32, ram, || step(&mut t).is_ok())
}

// `#[entry]` passes each `static mut` below to `main` as an argument.
#[allow(clippy::too_many_arguments)]
#[entry]
fn main() -> ! {
    static mut IRIS_ADAM: storage_for!(&IRIS, ADAM) = Storage::sized_for(&IRIS, ADAM.state_per_param());
    static mut IRIS_SGD: storage_for!(&IRIS, SGD) = Storage::sized_for(&IRIS, SGD.state_per_param());
    static mut IRIS_ADAM_ONLINE: online_storage_for!(&IRIS, ADAM) =
        OnlineStorage::sized_for(&IRIS, ADAM.state_per_param());
    static mut MLP_ADAM_ONLINE: online_storage_for!(&MLP64, ADAM) =
        OnlineStorage::sized_for(&MLP64, ADAM.state_per_param());
    static mut MLP_ADAM: storage_for!(&MLP64, ADAM) = Storage::sized_for(&MLP64, ADAM.state_per_param());
    static mut MLP_LAST: storage_for!(&MLP64_LAST, ADAM) =
        Storage::sized_for(&MLP64_LAST, ADAM.state_per_param());
    static mut IRIS_BIAS_ADAM: storage_for!(&IRIS_BIAS, ADAM) =
        Storage::sized_for(&IRIS_BIAS, ADAM.state_per_param());
    static mut HAR_CNN_ADAM: storage_for!(&HAR_CNN, ADAM) =
        Storage::sized_for(&HAR_CNN, ADAM.state_per_param());
    static mut HAR_DENSE_ADAM: storage_for!(&HAR_DENSE, ADAM) =
        Storage::sized_for(&HAR_DENSE, ADAM.state_per_param());
    static mut BM_MLP_ADAM: online_storage_for!(&BM_MLP, ADAM) =
        OnlineStorage::sized_for(&BM_MLP, ADAM.state_per_param());
    static mut BM_CNN_ADAM: storage_for!(&BM_CNN, ADAM) = Storage::sized_for(&BM_CNN, ADAM.state_per_param());
    static mut X: [f32; 64 * ROWS] = [0.0; 64 * ROWS];
    static mut LABELS: [u16; ROWS] = [0; ROWS];
    for (i, v) in X.iter_mut().enumerate() {
        *v = ((i * 37 % 101) as f32) / 50.0 - 1.0;
    }
    for (i, l) in LABELS.iter_mut().enumerate() {
        *l = (i % 3) as u16;
    }
    let (x, labels): (&[f32], &[u16]) = (X, LABELS);
    let sizes = [
        core::mem::size_of_val(IRIS_ADAM),
        core::mem::size_of_val(IRIS_SGD),
        core::mem::size_of_val(MLP_ADAM),
        core::mem::size_of_val(IRIS_ADAM_ONLINE),
        core::mem::size_of_val(MLP_ADAM_ONLINE),
        core::mem::size_of_val(MLP_LAST),
        core::mem::size_of_val(IRIS_BIAS_ADAM),
        core::mem::size_of_val(HAR_CNN_ADAM),
        core::mem::size_of_val(HAR_DENSE_ADAM),
        core::mem::size_of_val(BM_MLP_ADAM),
        core::mem::size_of_val(BM_CNN_ADAM),
    ];
    let mut ok = true;
    ok &= workload::<_, plan_for!(&IRIS, ADAM, LOSS)>(
        "iris-adam-b1",
        &IRIS,
        IRIS_ADAM.buffers(),
        sizes[0],
        ADAM,
        x,
        labels,
        1,
        20,
    );
    ok &= workload::<_, plan_for!(&IRIS, SGD, LOSS)>(
        "iris-sgd-b1",
        &IRIS,
        IRIS_SGD.buffers(),
        sizes[1],
        SGD,
        x,
        labels,
        1,
        20,
    );
    ok &= workload::<_, plan_for!(&MLP64, ADAM, LOSS)>(
        "mlp64-adam-b1",
        &MLP64,
        MLP_ADAM.buffers(),
        sizes[2],
        ADAM,
        x,
        labels,
        1,
        3,
    );
    ok &= workload::<_, plan_for!(&IRIS, ADAM, LOSS; online)>(
        "iris-adam-b1-online",
        &IRIS,
        IRIS_ADAM_ONLINE.buffers(),
        sizes[3],
        ADAM,
        x,
        labels,
        1,
        20,
    );
    ok &= workload::<_, plan_for!(&MLP64, ADAM, LOSS; online)>(
        "mlp64-adam-b1-online",
        &MLP64,
        MLP_ADAM_ONLINE.buffers(),
        sizes[4],
        ADAM,
        x,
        labels,
        1,
        3,
    );
    ok &= workload::<_, plan_for!(&MLP64, ADAM, LOSS)>(
        "mlp64-adam-b32",
        &MLP64,
        MLP_ADAM.buffers(),
        sizes[2],
        ADAM,
        x,
        labels,
        ROWS,
        1,
    );
    // Fine-tuning: the frozen parameters are read from flash (`Buffers::frozen`).
    ok &= workload::<_, plan_for!(&MLP64_LAST, ADAM, LOSS)>(
        "mlp64-adam-b1-last",
        &MLP64_LAST,
        MLP_LAST.buffers().with_frozen(&MLP64_WHOLE),
        sizes[5],
        ADAM,
        x,
        labels,
        1,
        3,
    );
    ok &= workload::<_, plan_for!(&IRIS_BIAS, ADAM, LOSS)>(
        "iris-adam-b1-bias",
        &IRIS_BIAS,
        IRIS_BIAS_ADAM.buffers().with_frozen(&IRIS_WHOLE),
        sizes[6],
        ADAM,
        x,
        labels,
        1,
        20,
    );
    // A 1-d CNN (convolution and pooling: the gradient buffer's path, a batch of one)
    // beside a dense model of about the same parameter count.
    ok &= workload::<_, plan_for!(&HAR_CNN, ADAM, LOSS)>(
        "har-cnn-adam-b1",
        &HAR_CNN,
        HAR_CNN_ADAM.buffers(),
        sizes[7],
        ADAM,
        x,
        labels,
        1,
        3,
    );
    ok &= workload::<_, plan_for!(&HAR_DENSE, ADAM, LOSS)>(
        "har-dense-adam-b1",
        &HAR_DENSE,
        HAR_DENSE_ADAM.buffers(),
        sizes[8],
        ADAM,
        x,
        labels,
        1,
        20,
    );
    // BasicMotions' two models (README, "Real recorded data").
    ok &= workload::<_, plan_for!(&BM_MLP, ADAM, LOSS; online)>(
        "bm-mlp-adam-b1-online",
        &BM_MLP,
        BM_MLP_ADAM.buffers(),
        sizes[9],
        ADAM,
        x,
        labels,
        1,
        20,
    );
    ok &= workload::<_, plan_for!(&BM_CNN, ADAM, LOSS)>(
        "bm-cnn-adam-b1",
        &BM_CNN,
        BM_CNN_ADAM.buffers(),
        sizes[10],
        ADAM,
        x,
        labels,
        1,
        3,
    );
    halt::exit(ok)
}
