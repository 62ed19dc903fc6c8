//! The fixed-point path (`microtrain::fixed`) against the float path: the documented
//! per-step error bound, rejected samples that change nothing, and Iris accuracy over a
//! sweep of seeds (single-sample steps, as a device learning from a stream runs them).
//!
//! `cargo test -p microtrain --test fixed -- --nocapture` prints the accuracies.

use microtrain::fixed::{self, FixedBuffers, FixedOptimizer, FixedTrainer};
use microtrain::{Activation, Adam, Buffers, Dense, Loss, Optimizer, Rng, Sgd, StepError, Target, Trainer};

const CSV: &str = include_str!("../../data/iris.csv");

struct FloatBufs {
    params: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
    acts: Vec<f32>,
}

impl FloatBufs {
    fn new(layers: &[Dense], spp: usize) -> Self {
        let p = microtrain::shape::params_len(layers);
        FloatBufs {
            params: vec![0.0; p],
            grads: vec![0.0; p],
            state: vec![0.0; p * spp],
            acts: vec![0.0; microtrain::shape::activations_len(layers)],
        }
    }
    fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: &[],
        }
    }
}

struct FixedBufs {
    params: Vec<i32>,
    grads: Vec<i32>,
    state: Vec<i32>,
    acts: Vec<i32>,
}

impl FixedBufs {
    fn new(layers: &[Dense], spp: usize) -> Self {
        let p = microtrain::shape::params_len(layers);
        FixedBufs {
            params: vec![0; p],
            grads: vec![0; p],
            state: vec![0; p * spp],
            acts: vec![0; fixed::activations_len(layers)],
        }
    }
    fn buffers(&mut self) -> FixedBuffers<'_> {
        FixedBuffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
        }
    }
}

/// Layers wider than the 32-bit path's 16 products (the `i64` paths of the forward and
/// backward passes) and sigmoid / tanh layers: one SGD step stays within the same bound.
#[test]
fn wide_and_squashing_layers_stay_within_the_bound() {
    let mut rng = Rng::new(23);
    let mut worst = 0.0f64;
    for case in 0..64 {
        let n_in = 17 + rng.below(40) as usize;
        // The last cases: one layer with weights of hundreds, beyond the 32-bit paths
        // (shifts above 16, weights beyond 2^25 units: the exact update).
        let scale = if case >= 60 { 5000.0 } else { 1.0 };
        let hidden = 17 + rng.below(24) as usize;
        let act = [Activation::Relu, Activation::Tanh, Activation::Sigmoid][case % 3];
        let layers = if case >= 60 {
            vec![Dense::new(n_in, 3, Activation::Identity)]
        } else {
            vec![
                Dense::new(n_in, hidden, act),
                Dense::new(hidden, 20, Activation::Relu),
                Dense::new(20, 3, Activation::Identity),
            ]
        };
        let lr = [0.01f32, 0.1][case % 2];
        let opt = Sgd::new(lr);
        // Weights scaled like an initialisation (1/sqrt(inputs)).
        let params: Vec<f32> = layers
            .iter()
            .flat_map(|l| vec![scale / (l.inputs as f32).sqrt(); l.params_len()])
            .map(|b| rng.symmetric(b))
            .collect();
        let x: Vec<f32> = (0..n_in).map(|_| rng.symmetric(2.0)).collect();
        let target = Target::Class(rng.below(3) as usize);
        let mut fb = FloatBufs::new(&layers, 0);
        let mut ft = Trainer::new(&layers, fb.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
        ft.load_params(&params).unwrap();
        ft.train_sample(&x, target).unwrap();
        let mut qb = FixedBufs::new(&layers, 0);
        let mut qt = FixedTrainer::new(&layers, qb.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
        qt.load_params(&params).unwrap();
        qt.train_sample(&x, target).unwrap();
        let mut q = vec![0.0; params.len()];
        qt.params_f32(&mut q).unwrap();
        let mut scratch = vec![0.0f64; fixed::bound_scratch_len(&layers)];
        let mut bounds = vec![0.0f64; params.len()];
        let loss = Loss::SoftmaxCrossEntropy;
        let scope =
            fixed::sgd_step_bounds(&layers, &params, &x, &target, loss, lr, &mut scratch, &mut bounds);
        if scope.is_none() {
            // Outside the bound's scope (weights of thousands: logits that could
            // saturate). What is checked: no overflow, the step of the exact path within
            // 2 lr max|x| (|delta| <= 1 on either path).
            let max_x = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            bounds
                .iter_mut()
                .for_each(|b| *b = f64::from(2.0 * lr * max_x) + 2.0 / 65536.0);
            assert!(case >= 60, "case {case} out of the bound's scope");
        }
        for (i, (a, b)) in ft.params().iter().zip(&q).enumerate() {
            let err = (f64::from(*a) - f64::from(*b)).abs();
            worst = worst.max(err / bounds[i]);
            assert!(
                err <= bounds[i],
                "case {case} ({act:?}, {n_in}-{hidden}-20-3, lr {lr}), param {i}: {a} vs {b}, bound {}",
                bounds[i]
            );
        }
    }
    println!("wide and squashing layers: worst error / bound {worst:.3}");
}

/// A one-step Adam and momentum update from the same start agree with the float path to
/// within a small fraction of the learning rate.
#[test]
fn adam_and_momentum_steps_follow_the_float_path() {
    let layers = [
        Dense::new(4, 8, Activation::Relu),
        Dense::new(8, 3, Activation::Identity),
    ];
    fn run<O: Optimizer + FixedOptimizer + std::fmt::Debug>(layers: &[Dense], opt: O, lr: f32) {
        let mut rng = Rng::new(5);
        let params: Vec<f32> = (0..67).map(|_| rng.symmetric(0.5)).collect();
        let mut fb = FloatBufs::new(layers, opt.state_per_param());
        let mut ft = Trainer::new(layers, fb.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
        ft.load_params(&params).unwrap();
        let mut qb = FixedBufs::new(layers, opt.fixed_state_per_param());
        let mut qt = FixedTrainer::new(layers, qb.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
        qt.load_params(&params).unwrap();
        for step in 0..20 {
            let x: Vec<f32> = (0..4).map(|_| rng.symmetric(2.0)).collect();
            let c = rng.below(3) as usize;
            ft.train_sample(&x, Target::Class(c)).unwrap();
            qt.train_sample(&x, Target::Class(c)).unwrap();
            let mut q = vec![0.0; 67];
            qt.params_f32(&mut q).unwrap();
            let moved: f32 = ft
                .params()
                .iter()
                .zip(&params)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            for (i, (a, b)) in ft.params().iter().zip(&q).enumerate() {
                assert!(
                    (a - b).abs() <= 0.02 * lr * (step + 1) as f32 + 4.0 / 65536.0,
                    "{opt:?} step {step} param {i}: {a} vs {b} (moved {moved})"
                );
            }
            assert!(moved > lr * 0.5, "the parameters moved");
        }
    }
    run(&layers, Adam::new(0.01), 0.01);
    run(&layers, Sgd::momentum(0.05, 0.9), 0.05);
    run(&layers, Sgd::nesterov(0.05, 0.9), 0.05);
}

/// Bad samples are rejected and change nothing: parameters, state, step count.
#[test]
fn a_rejected_sample_changes_nothing() {
    let layers = [
        Dense::new(3, 5, Activation::Tanh),
        Dense::new(5, 2, Activation::Identity),
    ];
    fn check<O: FixedOptimizer + std::fmt::Debug>(layers: &[Dense], opt: O) {
        for loss in [Loss::SoftmaxCrossEntropy, Loss::Mse] {
            let mut qb = FixedBufs::new(layers, opt.fixed_state_per_param());
            let mut t = FixedTrainer::new(layers, qb.buffers(), opt, loss).unwrap();
            t.init_params(3);
            let good_t = [0.5f32, -0.5];
            let good = if loss == Loss::Mse {
                Target::Values(&good_t)
            } else {
                Target::Class(1)
            };
            for _ in 0..3 {
                t.train_sample(&[0.1, 0.2, 0.3], good).unwrap();
            }
            let (p, s, k) = (t.params().to_vec(), t.state().to_vec(), t.step_count());
            let huge = [1e6f32, 1e6];
            let bad: Vec<(Vec<f32>, Target<'_>)> = vec![
                (vec![f32::NAN, 0.0, 0.0], good),
                (vec![0.0, f32::INFINITY, 0.0], good),
                (vec![3000.0, 0.0, 0.0], good),
                (vec![0.0, 0.0], good),
                (vec![0.1, 0.2, 0.3], Target::Class(7)),
                (vec![0.1, 0.2, 0.3], Target::Values(&[f32::NAN, 0.0])),
                (vec![0.1, 0.2, 0.3], Target::Values(&[0.0])),
                // A gradient beyond the Q8.24 range (MSE to a far target, large inputs).
                (
                    vec![2000.0, -2000.0, 2000.0],
                    if loss == Loss::Mse {
                        Target::Values(&huge)
                    } else {
                        Target::Class(9)
                    },
                ),
            ];
            for (x, target) in &bad {
                let r = t.train_sample(x, *target);
                assert!(r.is_err(), "{opt:?} {loss:?}: {x:?} {target:?} accepted");
                assert_eq!(
                    t.params(),
                    &p[..],
                    "{opt:?} {loss:?}: {x:?} changed the parameters"
                );
                assert_eq!(t.state(), &s[..]);
                assert_eq!(t.step_count(), k);
            }
            // The batch path: one bad sample in the batch changes nothing either.
            let xs = [0.1f32, 0.2, 0.3, f32::NAN, 0.0, 0.0];
            let labels = [0u16, 1];
            let data = microtrain::Dataset::new(&xs, 3, microtrain::Targets::Classes(&labels)).unwrap();
            if loss == Loss::SoftmaxCrossEntropy {
                assert!(t.train_batch(&data).is_err());
                assert_eq!(t.params(), &p[..]);
                assert_eq!(t.state(), &s[..]);
            }
        }
    }
    check(&layers, Sgd::new(0.1));
    check(&layers, Sgd::momentum(0.1, 0.9));
    check(&layers, Adam::new(0.01));
    // A gradient out of range is reported as such and counted.
    let single = [Dense::new(3, 5, Activation::Identity)];
    let mut qb2 = FixedBufs::new(&single, 0);
    let mut t = FixedTrainer::new(&single, qb2.buffers(), Sgd::new(0.1), Loss::Mse).unwrap();
    t.init_params(1);
    let p = t.params().to_vec();
    let r = t.train_sample(&[2000.0, 2000.0, 2000.0], Target::Values(&[-2000.0; 5]));
    assert!(matches!(r, Err(StepError::GradientOutOfRange { .. })), "{r:?}");
    assert_eq!(t.rejected_steps(), 1);
    assert_eq!(t.params(), &p[..]);
}

/// Configurations the fixed-point path cannot run are refused, not approximated.
#[test]
fn unsupported_configurations_are_refused() {
    let layers = [Dense::new(2, 2, Activation::Identity)];
    let mut b = FixedBufs::new(&layers, 3);
    assert!(FixedTrainer::new(
        &layers,
        b.buffers(),
        Adam {
            amsgrad: true,
            ..Adam::new(0.01)
        },
        Loss::Mse
    )
    .is_err());
    let mut b = FixedBufs::new(&layers, 0);
    assert!(FixedTrainer::new(
        &layers,
        b.buffers(),
        Sgd {
            weight_decay: 0.1,
            ..Sgd::new(0.01)
        },
        Loss::Mse
    )
    .is_err());
    let wide = [Dense::new(300, 2, Activation::Identity)];
    let mut b = FixedBufs::new(&wide, 0);
    assert!(FixedTrainer::new(&wide, b.buffers(), Sgd::new(0.01), Loss::Mse).is_err());
    let mut b = FixedBufs::new(&layers, 0);
    b.acts.pop();
    assert!(FixedTrainer::new(&layers, b.buffers(), Sgd::new(0.01), Loss::Mse).is_err());
}

/// The storage macro gives exactly the bytes the buffers need.
#[test]
fn storage_sizes_follow_the_shape() {
    const L: [Dense; 2] = [
        Dense::new(4, 8, Activation::Relu),
        Dense::new(8, 3, Activation::Identity),
    ];
    const ADAM: Adam = Adam::new(0.01);
    type S = microtrain::fixed_storage_for!(&L, ADAM);
    assert_eq!(core::mem::size_of::<S>(), (67 * 4 + 22 + 4 + 20) * 4);
    assert_eq!(fixed::training_bytes(&L, 2), core::mem::size_of::<S>());
    let mut s = S::new();
    assert!(FixedTrainer::new(&L, s.buffers(), ADAM, Loss::SoftmaxCrossEntropy).is_ok());
}

/// The standardized Iris features (150 x 4) and labels.
fn iris() -> (Vec<f32>, Vec<usize>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for line in CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.trim().split(',').collect();
        for v in &f[..4] {
            x.push(v.parse::<f64>().unwrap());
        }
        y.push(match f[4] {
            "setosa" => 0,
            "versicolor" => 1,
            _ => 2,
        });
    }
    assert_eq!(y.len(), 150);
    for c in 0..4 {
        let col: Vec<f64> = x.iter().skip(c).step_by(4).copied().collect();
        let mean = col.iter().sum::<f64>() / 150.0;
        let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 150.0).sqrt();
        x.iter_mut()
            .skip(c)
            .step_by(4)
            .for_each(|v| *v = (*v - mean) / std);
    }
    (x.into_iter().map(|v| v as f32).collect(), y)
}

const IRIS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];

/// Training accuracy after `epochs` of shuffled single-sample steps, float and fixed,
/// from the same seed (initial parameters and order).
fn iris_both<O: Optimizer + FixedOptimizer>(opt: O, seed: u64, epochs: usize) -> (f32, f32) {
    let (x, y) = iris();
    let mut order: Vec<usize> = (0..150).collect();
    let mut fb = FloatBufs::new(&IRIS, opt.state_per_param());
    let mut ft = Trainer::new(&IRIS, fb.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
    ft.init_params(seed);
    let mut qb = FixedBufs::new(&IRIS, opt.fixed_state_per_param());
    let mut qt = FixedTrainer::new(&IRIS, qb.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
    qt.init_params(seed);
    let mut rng = Rng::new(seed ^ 0x5eed);
    for _ in 0..epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let xi = &x[4 * i..4 * i + 4];
            ft.train_sample(xi, Target::Class(y[i])).unwrap();
            qt.train_sample(xi, Target::Class(y[i])).unwrap();
        }
    }
    let (mut cf, mut cq) = (0, 0);
    for i in 0..150 {
        let xi = &x[4 * i..4 * i + 4];
        let mut out = [0.0f32; 3];
        ft.predict(xi, &mut out).unwrap();
        let pf = (0..3).fold(0, |b, k| if out[k] > out[b] { k } else { b });
        cf += usize::from(pf == y[i]);
        cq += usize::from(qt.predict_class(xi).unwrap() == y[i]);
    }
    (cf as f32 / 150.0, cq as f32 / 150.0)
}

fn sweep<O: Optimizer + FixedOptimizer>(name: &str, opt: O, epochs: usize) {
    let seeds = 0..12u64;
    let n = seeds.clone().count() as f32;
    let (mut sf, mut sq) = (0.0, 0.0);
    for seed in seeds {
        let (f, q) = iris_both(opt, seed, epochs);
        println!(
            "{name} seed {seed}: float {:.1} %, fixed {:.1} %",
            f * 100.0,
            q * 100.0
        );
        sf += f;
        sq += q;
        // Each run trains: far above the 33 % of chance.
        assert!(q >= 0.85, "{name} seed {seed}: fixed-point accuracy {q}");
    }
    let (mf, mq) = (sf / n, sq / n);
    println!(
        "{name}: mean accuracy over 12 seeds: float {:.2} %, fixed {:.2} %",
        mf * 100.0,
        mq * 100.0
    );
    assert!(
        (mf - mq).abs() <= 0.01,
        "{name}: float {mf} vs fixed {mq}: more than 1 point apart"
    );
}

#[test]
fn iris_sgd_fixed_within_one_point_of_float_over_seeds() {
    sweep("SGD lr 0.05", Sgd::new(0.05), 15);
}

#[test]
fn iris_momentum_fixed_within_one_point_of_float_over_seeds() {
    sweep("SGD momentum 0.9 lr 0.01", Sgd::momentum(0.01, 0.9), 15);
}

#[test]
fn iris_adam_fixed_within_one_point_of_float_over_seeds() {
    sweep("Adam lr 0.01", Adam::new(0.01), 15);
}

/// A trainer restored from another's parameters, state and step count continues with
/// the same bits (Adam's `beta^k` recomputed as the steps formed them).
#[test]
fn a_restored_trainer_continues_with_the_same_bits() {
    let layers = [
        Dense::new(3, 6, Activation::Relu),
        Dense::new(6, 3, Activation::Identity),
    ];
    let opt = Adam::new(0.02);
    let mut a = FixedBufs::new(&layers, 2);
    let mut b = FixedBufs::new(&layers, 2);
    let mut ta = FixedTrainer::new(&layers, a.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
    let mut tb = FixedTrainer::new(&layers, b.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
    ta.init_params(4);
    tb.init_params(9);
    let mut rng = Rng::new(2);
    let mut sample = move || {
        let x: Vec<f32> = (0..3).map(|_| rng.symmetric(1.5)).collect();
        (x, rng.below(3) as usize)
    };
    for _ in 0..37 {
        let (x, c) = sample();
        ta.train_sample(&x, Target::Class(c)).unwrap();
    }
    tb.restore(ta.params(), ta.state(), ta.step_count()).unwrap();
    for _ in 0..20 {
        let (x, c) = sample();
        ta.train_sample(&x, Target::Class(c)).unwrap();
        tb.train_sample(&x, Target::Class(c)).unwrap();
        assert_eq!(ta.params(), tb.params());
    }
    assert!(tb.restore(&[0; 3], &[], 1).is_err());
}

/// Frozen and bias-only layers are the float path's: the fixed-point trainer refuses
/// them by name.
#[test]
fn frozen_layers_are_refused_on_the_fixed_point_path() {
    use microtrain::fixed::{FixedBuffers, FixedTrainer};
    let layers = [
        microtrain::Dense::new(4, 8, microtrain::Activation::Relu).frozen(),
        microtrain::Dense::new(8, 3, microtrain::Activation::Identity),
    ];
    let (mut p, mut g, mut a) = (vec![0i32; 67], vec![0i32; 67], vec![0i32; 22]);
    let buffers = FixedBuffers {
        params: &mut p,
        grads: &mut g,
        state: &mut [],
        acts: &mut a,
    };
    let Err(err) = FixedTrainer::new(
        &layers,
        buffers,
        microtrain::Sgd::new(0.1),
        microtrain::Loss::SoftmaxCrossEntropy,
    ) else {
        panic!("a frozen layer was taken");
    };
    assert_eq!(
        err,
        microtrain::ConfigError::Unsupported {
            what: "frozen or bias-only layers"
        }
    );
    assert!(err.to_string().contains("frozen"), "{err}");
}

/// The derived per-step bound ([`fixed::sgd_step_bounds`]): one plain-SGD step from the
/// same parameters and sample on both paths, over random shapes (one to three layers,
/// widths up to 24, so both the 32-bit and the 64-bit paths), activations, losses,
/// learning rates, weights and data: every parameter within its own bound, computed
/// from the model's values and shifts. Not vacuous: the bounds are far below the
/// step's size (checked in aggregate), and the errors reach a fair part of them.
/// One plain-SGD step of the float and the fixed-point trainer from the same `f32`
/// parameters, and the derived bound per parameter (`None` if the sample is outside its
/// scope): the float parameters, the fixed-point ones (Q16.16) and the bounds. Asserts
/// that both steps were taken and that their losses agree.
fn one_step_both_paths(
    layers: &[Dense],
    params: &[f32],
    x: &[f32],
    target: Target<'_>,
    loss: Loss,
    lr: f32,
    case: usize,
) -> Option<(Vec<f32>, Vec<i32>, Vec<f64>)> {
    let mut scratch = vec![0.0f64; fixed::bound_scratch_len(layers)];
    let mut bounds = vec![0.0f64; params.len()];
    fixed::sgd_step_bounds(layers, params, x, &target, loss, lr, &mut scratch, &mut bounds)?;
    let opt = Sgd::new(lr);
    let mut fb = FloatBufs::new(layers, 0);
    let mut ft = Trainer::new(layers, fb.buffers(), opt, loss).unwrap();
    ft.load_params(params).unwrap();
    let fl = ft.train_sample(x, target).unwrap();
    let mut qb = FixedBufs::new(layers, 0);
    let mut qt = FixedTrainer::new(layers, qb.buffers(), opt, loss).unwrap();
    qt.load_params(params).unwrap();
    let ql = qt.train_sample(x, target).unwrap();
    assert!(
        (fl - ql).abs() <= 1e-3 * (1.0 + fl.abs()),
        "case {case}: loss {fl} vs {ql}"
    );
    assert_eq!(qt.step_count(), 1);
    Some((ft.params().to_vec(), qt.params().to_vec(), bounds))
}

/// Models deeper than the trainer's per-layer cache of shifts and maxima (8 layers):
/// the layers beyond it take the uncached paths (maxima recomputed, the exact 64-bit
/// SGD update), and every parameter still stays within the derived bound.
#[test]
fn deep_models_beyond_the_cached_layers_stay_within_the_bound() {
    let mut rng = Rng::new(0xDEE9);
    let (mut in_scope, mut checked, mut worst) = (0usize, 0usize, 0.0f64);
    for case in 0..120 {
        let depth = 9 + rng.below(4) as usize;
        let mut widths: Vec<usize> = (0..depth).map(|_| 2 + rng.below(6) as usize).collect();
        widths.push(3);
        let layers: Vec<Dense> = (0..depth)
            .map(|l| {
                let act = if l + 1 == depth {
                    Activation::Identity
                } else {
                    [Activation::Relu, Activation::Tanh][rng.below(2) as usize]
                };
                Dense::new(widths[l], widths[l + 1], act)
            })
            .collect();
        let params: Vec<f32> = layers
            .iter()
            .flat_map(|l| vec![1.0 / (l.inputs as f32).sqrt(); l.params_len()])
            .map(|b| rng.symmetric(b))
            .collect();
        let x: Vec<f32> = (0..widths[0]).map(|_| rng.symmetric(2.0)).collect();
        let target = Target::Class(rng.below(3) as usize);
        let lr = [0.01f32, 0.1][case % 2];
        let Some((ft, qt, bounds)) =
            one_step_both_paths(&layers, &params, &x, target, Loss::SoftmaxCrossEntropy, lr, case)
        else {
            continue;
        };
        in_scope += 1;
        for (i, ((fl, fx), bound)) in ft.iter().zip(&qt).zip(&bounds).enumerate() {
            let err = (f64::from(*fl) - f64::from(*fx) / 65536.0).abs();
            assert!(
                err <= *bound,
                "case {case} ({depth} layers), param {i}: error {err}, bound {bound}"
            );
            worst = worst.max(err / bound);
            checked += 1;
        }
    }
    println!("deep models: {in_scope} of 120 in scope, {checked} parameters, worst error / bound {worst:.3}");
    assert!(in_scope >= 100, "{in_scope} of 120 in scope");
    assert!(worst > 0.01, "worst error / bound {worst}");
}

#[test]
fn one_sgd_step_is_within_the_derived_bound() {
    let mut rng = Rng::new(0xB0B);
    let (mut worst, mut in_scope, mut params_checked) = (0.0f64, 0usize, 0usize);
    let (mut sum_bound, mut sum_step) = (0.0f64, 0.0f64);
    let (mut rel, mut rel_relu): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let cases = 2000;
    for case in 0..cases {
        let acts = [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Identity,
        ];
        let depth = 1 + rng.below(3) as usize;
        let mut widths = vec![1 + rng.below(8) as usize];
        for _ in 1..depth {
            widths.push(1 + rng.below(24) as usize);
        }
        let n_out = 2 + rng.below(4) as usize;
        widths.push(n_out);
        let loss = if case % 2 == 0 {
            Loss::SoftmaxCrossEntropy
        } else {
            Loss::Mse
        };
        let layers: Vec<Dense> = (0..depth)
            .map(|l| {
                let act = if l + 1 == depth {
                    if loss == Loss::Mse {
                        acts[rng.below(4) as usize]
                    } else {
                        Activation::Identity
                    }
                } else {
                    acts[rng.below(4) as usize]
                };
                Dense::new(widths[l], widths[l + 1], act)
            })
            .collect();
        let lr = [0.001f32, 0.01, 0.05, 0.1, 0.5][case % 5];
        let w_scale = [0.1f32, 0.5, 1.0, 2.0][rng.below(4) as usize];
        let x_scale = [0.5f32, 2.0, 4.0][rng.below(3) as usize];
        let params: Vec<f32> = layers
            .iter()
            .flat_map(|l| vec![w_scale / (l.inputs as f32).sqrt(); l.params_len()])
            .map(|b| rng.symmetric(b))
            .collect();
        let x: Vec<f32> = (0..widths[0]).map(|_| rng.symmetric(x_scale)).collect();
        let values: Vec<f32> = (0..n_out).map(|_| rng.symmetric(1.0)).collect();
        let label = rng.below(n_out as u32) as usize;
        let target = if loss == Loss::Mse {
            Target::Values(&values)
        } else {
            Target::Class(label)
        };
        let Some((ft, qt, bounds)) = one_step_both_paths(&layers, &params, &x, target, loss, lr, case) else {
            continue;
        };
        in_scope += 1;
        for (i, ((fl, fx), bound)) in ft.iter().zip(&qt).zip(&bounds).enumerate() {
            let err = (f64::from(*fl) - f64::from(*fx) / 65536.0).abs();
            let step = (f64::from(*fl) - f64::from(params[i])).abs();
            assert!(
                err <= *bound,
                "case {case} ({layers:?}, {loss:?}, lr {lr}), param {i}: float {fl}, fixed {}, bound {bound}",
                f64::from(*fx) / 65536.0
            );
            worst = worst.max(err / bound);
            sum_bound += bound;
            sum_step += step;
            if step > 1e-3 {
                rel.push(bound / step);
                if layers
                    .iter()
                    .all(|l| matches!(l.activation, Activation::Relu | Activation::Identity))
                {
                    rel_relu.push(bound / step);
                }
            }
            params_checked += 1;
        }
    }
    rel.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rel_relu.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = rel[rel.len() / 2];
    let p90 = rel[rel.len() * 9 / 10];
    let (median_relu, p90_relu) = (rel_relu[rel_relu.len() / 2], rel_relu[rel_relu.len() * 9 / 10]);
    println!("ReLU / identity models: bound / step median {median_relu:.4}, 90th percentile {p90_relu:.4}");
    println!(
        "derived bound: {in_scope} of {cases} cases in scope, {params_checked} parameters; worst error / bound {worst:.3}; \
         sum of bounds / sum of steps {:.4}; bound / step for steps above 1e-3: median {median:.4}, 90th percentile {p90:.4}",
        sum_bound / sum_step
    );
    assert!(in_scope * 10 >= cases * 9, "{in_scope} of {cases} in scope");
    // Not vacuous: the bound is a small part of what one step changes...
    assert!(sum_bound < 0.2 * sum_step, "{sum_bound} vs {sum_step}");
    assert!(median < 0.05 && p90 < 0.5, "median {median}, p90 {p90}");
    assert!(
        median_relu < 0.03 && p90_relu < 0.3,
        "ReLU: median {median_relu}, p90 {p90_relu}"
    );
    // ...and the errors reach a fair part of it.
    assert!(worst > 0.05, "worst error / bound {worst}");
}
