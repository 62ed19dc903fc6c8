//! One training step (`Trainer::train_batch`) on the host: two shapes (4-8-3 and
//! 64-128-10, tanh hidden layer, softmax cross-entropy), plain SGD and Adam, batches of
//! 1 and 32 rows of a fixed synthetic dataset.
//!
//! The learning rate is 0: the step does all its work (forward and backward passes,
//! checks, the optimizer's full update arithmetic) but the parameters stay put, so every
//! iteration measures the same step. With a positive rate the model would fit the few
//! benchmark rows within the millions of iterations, and its gradients and Adam moments
//! would sink into subnormal numbers, which x86 computes some hundred times slower: the
//! benchmark would then measure the underflow, not the step.
//!
//! `cargo bench -p microtrain --bench step -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use microtrain::shape::{activations_len, params_len};
use microtrain::{Activation, Adam, Buffers, Dataset, Dense, Loss, Optimizer, Rng, Sgd, Targets, Trainer};
use std::hint::black_box;

const IRIS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Tanh),
    Dense::new(8, 3, Activation::Identity),
];
const DIGITS: [Dense; 2] = [
    Dense::new(64, 128, Activation::Tanh),
    Dense::new(128, 10, Activation::Identity),
];
const ROWS: usize = 32;

/// `ROWS` rows of standard normal inputs and uniformly drawn class labels.
fn synthetic(layers: &[Dense]) -> (Vec<f32>, Vec<u16>) {
    let mut rng = Rng::new(2024);
    let inputs = microtrain::shape::inputs(layers);
    let classes = microtrain::shape::outputs(layers) as u32;
    let x = (0..ROWS * inputs).map(|_| rng.normal()).collect();
    let y = (0..ROWS).map(|_| rng.below(classes) as u16).collect();
    (x, y)
}

fn bench_one<O: Optimizer + Copy>(c: &mut Criterion, shape: &str, layers: &[Dense], opt_name: &str, opt: O) {
    let (x, y) = synthetic(layers);
    let data = Dataset::new(&x, microtrain::shape::inputs(layers), Targets::Classes(&y)).expect("consistent");
    let p = params_len(layers);
    let (mut params, mut grads) = (vec![0.0; p], vec![0.0; p]);
    let mut state = vec![0.0; p * opt.state_per_param()];
    let mut acts = vec![0.0; activations_len(layers)];
    let buffers = Buffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut state,
        acts: &mut acts,
        frozen: &[],
    };
    let mut t = Trainer::new(layers, buffers, opt, Loss::SoftmaxCrossEntropy).expect("valid model");
    t.init_params(1);
    let mut group = c.benchmark_group(format!("step/{shape}/{opt_name}"));
    for batch in [1usize, 32] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, &batch| {
            let rows = data.range(0, batch);
            b.iter(|| black_box(t.train_batch(black_box(&rows))))
        });
        assert!(
            t.train_batch(&data.range(0, batch)).is_ok(),
            "every measured step was a real step"
        );
    }
    group.finish();
}

fn steps(c: &mut Criterion) {
    bench_one(c, "4-8-3", &IRIS, "sgd", Sgd::new(0.0));
    bench_one(c, "4-8-3", &IRIS, "adam", Adam::new(0.0));
    bench_one(c, "64-128-10", &DIGITS, "sgd", Sgd::new(0.0));
    bench_one(c, "64-128-10", &DIGITS, "adam", Adam::new(0.0));
}

criterion_group!(benches, steps);
criterion_main!(benches);
