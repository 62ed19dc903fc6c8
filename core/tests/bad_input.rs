//! Bad input is rejected with the expected error, and changes nothing: parameters,
//! optimizer state and step count are bit for bit (`to_bits`) what they were.
//!
//! Every test first takes a few good Adam steps, so the optimizer state is not zero
//! and a stray write to it would show.

use microtrain::{
    fit_epoch, Activation, Adam, Buffer, Buffers, ConfigError, Dataset, Dense, EpochError, Loss, Optimizer,
    Order, Rng, Schedule, Sgd, StepError, Target, Targets, Trainer,
};
use proptest::prelude::*;

/// 3 inputs, 4 tanh hidden units, 2 outputs (identity for MSE and softmax
/// cross-entropy, sigmoid for binary cross-entropy).
fn layers(loss: Loss) -> [Dense; 2] {
    let last = loss.required_activation().unwrap_or(Activation::Identity);
    [Dense::new(3, 4, Activation::Tanh), Dense::new(4, 2, last)]
}

/// Owned buffers for a shape and an optimizer.
struct Bufs {
    p: Vec<f32>,
    g: Vec<f32>,
    s: Vec<f32>,
    a: Vec<f32>,
}

impl Bufs {
    fn new<O: Optimizer>(layers: &[Dense], opt: &O) -> Self {
        let p = microtrain::shape::params_len(layers);
        Bufs {
            p: vec![0.0; p],
            g: vec![0.0; p],
            s: vec![0.0; p * opt.state_per_param()],
            a: vec![0.0; microtrain::shape::activations_len(layers)],
        }
    }

    fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.p,
            grads: &mut self.g,
            state: &mut self.s,
            acts: &mut self.a,
            frozen: &[],
        }
    }
}

/// A good target for output width 2 and `loss`.
fn good_target(loss: Loss) -> [f32; 2] {
    match loss {
        Loss::Mse => [0.3, -0.7],
        Loss::BinaryCrossEntropy => [1.0, 0.25],
        Loss::SoftmaxCrossEntropy => [0.0, 1.0],
    }
}

/// Initialises and takes three good steps.
fn warm_up<O: Optimizer>(t: &mut Trainer<'_, O>, loss: Loss) {
    t.init_params(11);
    let y = good_target(loss);
    for x in [[0.5, -0.2, 1.0], [-1.0, 0.3, 0.1], [0.2, 0.2, -0.4]] {
        t.train_sample(&x, Target::Values(&y)).expect("a good sample");
    }
    assert_eq!(t.step_count(), 3);
    assert!(t.state().iter().any(|s| *s != 0.0));
}

/// Parameters and state as bits, and the step count.
type Snapshot = (Vec<u32>, Vec<u32>, u32);

fn snapshot<O: Optimizer>(t: &Trainer<'_, O>) -> Snapshot {
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect();
    (bits(t.params()), bits(t.state()), t.step_count())
}

/// Runs `f`, which must fail, and checks that nothing changed.
fn rejected<O: Optimizer, T: std::fmt::Debug, E>(
    t: &mut Trainer<'_, O>,
    f: impl FnOnce(&mut Trainer<'_, O>) -> Result<T, E>,
) -> E {
    let before = snapshot(t);
    let result = f(t);
    assert!(snapshot(t) == before, "a rejected call changed the model");
    match result {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => e,
    }
}

/// A warmed-up Adam trainer for `loss`, handed to `f`.
fn with_trainer(loss: Loss, f: impl FnOnce(&mut Trainer<'_, Adam>)) {
    let l = layers(loss);
    let opt = Adam::new(0.05);
    let mut b = Bufs::new(&l, &opt);
    let mut t = Trainer::new(&l, b.buffers(), opt, loss).expect("valid model");
    warm_up(&mut t, loss);
    f(&mut t);
}

fn non_finite() -> impl Strategy<Value = f32> {
    prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -f32::NAN])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A NaN or infinite input anywhere in a batch: `NonFiniteInput` naming the sample
    /// and the index, nothing changed (not even by the good samples before it).
    #[test]
    fn non_finite_input_anywhere_in_a_batch(
        loss in prop::sample::select(Loss::ALL.to_vec()),
        rows in 1usize..=5,
        bad_row_seed in any::<usize>(),
        index in 0usize..3,
        v in non_finite(),
    ) {
        let bad_row = bad_row_seed % rows;
        let mut xs: Vec<f32> = (0..rows * 3).map(|i| (i as f32 * 0.37).sin()).collect();
        xs[bad_row * 3 + index] = v;
        let y: Vec<f32> = (0..rows).flat_map(|_| good_target(loss)).collect();
        let data = Dataset::new(&xs, 3, Targets::Values { y: &y, width: 2 }).expect("consistent");
        with_trainer(loss, |t| {
            let e = rejected(t, |t| t.train_batch(&data));
            assert_eq!(e, StepError::NonFiniteInput { sample: bad_row, index });
            assert_eq!(t.rejected_steps(), 0, "caught by the input checks, not counted");
        });
    }

    /// Huge finite inputs may be accepted, but then the model stays finite; if the loss
    /// or the gradient overflows, the step is rejected and nothing changes.
    #[test]
    fn huge_finite_inputs_never_poison_the_model(
        loss in prop::sample::select(Loss::ALL.to_vec()),
        x in prop::array::uniform3(prop_oneof![-3.4e38f32..-1e15, 1e15f32..3.4e38, -10.0f32..10.0]),
    ) {
        with_trainer(loss, |t| {
            let before = snapshot(t);
            match t.train_sample(&x, Target::Values(&good_target(loss))) {
                Ok(l) => {
                    assert!(l.is_finite());
                    assert!(t.params().iter().chain(t.state()).all(|p| p.is_finite()));
                    assert_eq!(t.step_count(), 4);
                }
                Err(e) => {
                    assert!(
                        matches!(e, StepError::NonFiniteLoss | StepError::GradientOutOfRange { .. }),
                        "unexpected {e:?}"
                    );
                    assert!(snapshot(t) == before);
                    assert_eq!(t.rejected_steps(), 1);
                }
            }
        });
    }

    /// Subnormal inputs and targets are valid numbers: the step is taken, and the model
    /// and its state stay finite.
    #[test]
    fn subnormal_inputs_and_targets_are_ordinary_data(
        loss in prop::sample::select(Loss::ALL.to_vec()),
        bits in prop::array::uniform3(1u32..0x0080_0000),
        neg in prop::array::uniform3(any::<bool>()),
        target_bits in 1u32..0x0080_0000,
    ) {
        let sub = |b: u32, n: bool| f32::from_bits(b | if n { 0x8000_0000 } else { 0 });
        let x = [sub(bits[0], neg[0]), sub(bits[1], neg[1]), sub(bits[2], neg[2])];
        assert!(x.iter().all(|v| v.is_subnormal()));
        with_trainer(loss, |t| {
            let mut y = good_target(loss);
            if loss != Loss::SoftmaxCrossEntropy {
                y[1] = f32::from_bits(target_bits);
            }
            let l = t.train_sample(&x, Target::Values(&y)).expect("subnormals are data");
            assert!(l.is_finite());
            assert!(t.params().iter().chain(t.state()).all(|p| p.is_finite()));
            assert_eq!(t.step_count(), 4);
        });
    }

    /// A NaN, infinite or out-of-range target value: `BadTarget` naming sample and index.
    #[test]
    fn bad_target_values(
        loss in prop::sample::select(Loss::ALL.to_vec()),
        index in 0usize..2,
        v in prop_oneof![non_finite(), 1.0001f32..1e6, -1e6f32..-0.0001],
    ) {
        // MSE takes any finite value; softmax cross-entropy any finite value >= 0.
        let bad = match loss {
            Loss::Mse => !v.is_finite(),
            Loss::BinaryCrossEntropy => true,
            Loss::SoftmaxCrossEntropy => !v.is_finite() || v < 0.0,
        };
        prop_assume!(bad);
        let mut y = good_target(loss);
        y[index] = v;
        with_trainer(loss, |t| {
            let e = rejected(t, |t| t.train_sample(&[0.1, 0.2, 0.3], Target::Values(&y)));
            assert_eq!(e, StepError::BadTarget { sample: 0, index });
        });
    }

    /// An input or target of the wrong length, anywhere in a batch of separate samples.
    #[test]
    fn wrong_lengths(x_len in 0usize..8, y_len in 0usize..5) {
        prop_assume!(x_len != 3 || y_len != 2);
        let x = vec![0.5f32; x_len];
        let y = vec![0.0f32; y_len];
        with_trainer(Loss::Mse, |t| {
            let e = rejected(t, |t| t.train_sample(&x, Target::Values(&y)));
            if x_len != 3 {
                assert_eq!(e, StepError::InputLength { sample: 0, expected: 3, got: x_len });
            } else {
                assert_eq!(e, StepError::TargetLength { sample: 0, expected: 2, got: y_len });
            }
        });
    }

    /// A class label past the last output.
    #[test]
    fn label_out_of_range(label in 2usize..1000, rows in 1usize..4) {
        let xs = vec![0.25f32; rows * 3];
        let mut labels = vec![1u16; rows];
        labels[rows - 1] = label as u16;
        let data = Dataset::new(&xs, 3, Targets::Classes(&labels)).expect("consistent");
        with_trainer(Loss::SoftmaxCrossEntropy, |t| {
            let e = rejected(t, |t| t.train_batch(&data));
            assert_eq!(e, StepError::LabelOutOfRange { sample: rows - 1, label, classes: 2 });
            let e = rejected(t, |t| t.train_sample(&[0.0; 3], Target::Class(label)));
            assert_eq!(e, StepError::LabelOutOfRange { sample: 0, label, classes: 2 });
        });
    }
}

#[test]
fn overflowing_loss_is_rejected() {
    // A linear model and MSE: an input of 1e30 makes the output ~1e29 and its square
    // overflows.
    let l = [Dense::new(3, 2, Activation::Identity)];
    let opt = Adam::new(0.05);
    let mut b = Bufs::new(&l, &opt);
    let mut t = Trainer::new(&l, b.buffers(), opt, Loss::Mse).expect("valid");
    warm_up(&mut t, Loss::Mse);
    let e = rejected(&mut t, |t| {
        t.train_sample(&[1e30, 1e30, 1e30], Target::Values(&[0.0, 0.0]))
    });
    assert_eq!(e, StepError::NonFiniteLoss);
    assert_eq!(t.rejected_steps(), 1);
}

/// A finite but huge gradient (beyond 2^61) is divergence: rejected before the
/// optimizer's arithmetic can overflow (here `0.9 b + g` in a momentum buffer, which
/// used to leave `-inf` parameters after an accepted step), both on the single-sample
/// path and on the batch path.
#[test]
fn huge_finite_gradients_are_rejected_before_they_overflow_the_optimizer() {
    let l = [Dense::new(1, 1, Activation::Identity)];
    for batch in [1usize, 2] {
        let opt = Sgd::momentum(1e-40, 0.9);
        let mut b = Bufs::new(&l, &opt);
        let mut t = Trainer::new(&l, b.buffers(), opt, Loss::Mse).expect("valid");
        t.load_params(&[1.0, 0.0]).expect("finite");
        // A warm-up step with a sane sample so the momentum buffer is in use.
        t.train_sample(&[1.0], Target::Values(&[0.0]))
            .expect("a good sample");
        let xs = vec![1.3e19f32; batch];
        let ys = vec![0.0f32; batch];
        let data = Dataset::new(&xs, 1, Targets::Values { y: &ys, width: 1 }).expect("consistent");
        let e = rejected(&mut t, |t| t.train_batch(&data));
        assert!(
            matches!(e, StepError::GradientOutOfRange { .. }),
            "batch {batch}: {e:?}"
        );
        assert!(t.params().iter().all(|p| p.is_finite()));
        assert_eq!(t.rejected_steps(), 1);
    }
}

#[test]
fn empty_batch() {
    let data = Dataset::new(&[], 3, Targets::Classes(&[])).expect("an empty dataset is a dataset");
    with_trainer(Loss::SoftmaxCrossEntropy, |t| {
        assert_eq!(rejected(t, |t| t.train_batch(&data)), StepError::EmptyBatch);
        let full = Dataset::new(&[0.0; 3], 3, Targets::Classes(&[0])).expect("one row");
        assert_eq!(
            rejected(t, |t| t.train_batch(&full.rows(&[]))),
            StepError::EmptyBatch
        );
        assert_eq!(
            rejected(t, |t| t.train_batch(&full.range(0, 0))),
            StepError::EmptyBatch
        );
    });
}

#[test]
fn dataset_index_out_of_range() {
    let xs: Vec<f32> = (0..15).map(|i| i as f32 * 0.1).collect();
    let labels = [0u16, 1, 0, 1, 1];
    let data = Dataset::new(&xs, 3, Targets::Classes(&labels)).expect("5 rows");
    assert_eq!(
        data.row(5).err(),
        Some(StepError::IndexOutOfRange { index: 5, len: 5 })
    );
    assert_eq!(
        data.row(usize::MAX).err(),
        Some(StepError::IndexOutOfRange {
            index: usize::MAX,
            len: 5
        })
    );
    with_trainer(Loss::SoftmaxCrossEntropy, |t| {
        let e = rejected(t, |t| t.train_batch(&data.rows(&[0, 1, 7])));
        assert_eq!(e, StepError::IndexOutOfRange { index: 7, len: 5 });
        let e = rejected(t, |t| t.train_batch(&data.range(3, 4)));
        assert_eq!(e, StepError::IndexOutOfRange { index: 5, len: 5 });
    });
    // Ragged data is refused when the dataset is made.
    assert!(Dataset::new(&xs[..14], 3, Targets::Classes(&labels)).is_none());
    assert!(Dataset::new(&xs, 3, Targets::Classes(&labels[..4])).is_none());
    assert!(Dataset::new(&xs, 0, Targets::Classes(&labels)).is_none());
    assert!(Dataset::new(&xs, 3, Targets::Values { y: &xs, width: 2 }).is_none());
}

#[test]
fn too_small_buffers_name_the_buffer() {
    let l = layers(Loss::Mse);
    let opt = Adam::new(0.01);
    let full = Bufs::new(&l, &opt);
    let (p, s, a) = (full.p.len(), full.s.len(), full.a.len());
    for (which, expect) in [
        (Buffer::Params, p),
        (Buffer::Grads, p),
        (Buffer::State, s),
        (Buffer::Activations, a),
    ] {
        let mut b = Bufs::new(&l, &opt);
        match which {
            Buffer::Params => b.p.pop(),
            Buffer::Grads => b.g.pop(),
            Buffer::State => b.s.pop(),
            _ => b.a.pop(),
        };
        match Trainer::new(&l, b.buffers(), opt, Loss::Mse) {
            Err(e) => assert_eq!(
                e,
                ConfigError::BufferTooSmall {
                    buffer: which,
                    needed: expect,
                    provided: expect - 1
                }
            ),
            Ok(_) => panic!("{which:?} one float short was accepted"),
        }
    }
    // Larger buffers are fine: the trainer uses a prefix.
    let mut b = Bufs::new(&l, &opt);
    b.p.push(9.0);
    b.s.push(9.0);
    assert!(Trainer::new(&l, b.buffers(), opt, Loss::Mse).is_ok());
}

#[test]
fn loss_activation_mismatch() {
    let opt = Sgd::new(0.1);
    for (loss, last) in [
        (Loss::BinaryCrossEntropy, Activation::Identity),
        (Loss::BinaryCrossEntropy, Activation::Tanh),
        (Loss::SoftmaxCrossEntropy, Activation::Sigmoid),
        (Loss::SoftmaxCrossEntropy, Activation::Relu),
    ] {
        let l = [Dense::new(3, 2, last)];
        let mut b = Bufs::new(&l, &opt);
        match Trainer::new(&l, b.buffers(), opt, loss) {
            Err(e) => assert_eq!(e, ConfigError::LossActivation { loss, found: last }),
            Ok(_) => panic!("{loss:?} after {last:?} was accepted"),
        }
    }
}

#[test]
fn bad_shapes() {
    let opt = Sgd::new(0.1);
    let mut b = Bufs::new(&[], &opt);
    assert_eq!(
        Trainer::new(&[], b.buffers(), opt, Loss::Mse).err(),
        Some(ConfigError::NoLayers)
    );
    let l = [
        Dense::new(3, 4, Activation::Tanh),
        Dense::new(5, 2, Activation::Identity),
    ];
    let mut b = Bufs::new(&l, &opt);
    assert_eq!(
        Trainer::new(&l, b.buffers(), opt, Loss::Mse).err(),
        Some(ConfigError::LayerMismatch {
            layer: 1,
            expected: 4,
            inputs: 5
        })
    );
    let l = [Dense::new(3, 0, Activation::Tanh)];
    let mut b = Bufs::new(&l, &opt);
    assert_eq!(
        Trainer::new(&l, b.buffers(), opt, Loss::Mse).err(),
        Some(ConfigError::EmptyLayer { layer: 0 })
    );
    // Sizes that overflow the address space are refused before any buffer is looked at.
    let l = [
        Dense::new(3, 4, Activation::Tanh),
        Dense::new(4, usize::MAX / 2, Activation::Identity),
    ];
    let (mut p, mut g, mut a) = ([0.0f32; 8], [0.0f32; 8], [0.0f32; 8]);
    let buffers = Buffers {
        params: &mut p,
        grads: &mut g,
        state: &mut [],
        acts: &mut a,
        frozen: &[],
    };
    assert_eq!(
        Trainer::new(&l, buffers, opt, Loss::Mse).err(),
        Some(ConfigError::TooLarge { layer: 1 })
    );
}

#[test]
fn bad_hyperparameters_at_construction_and_later() {
    let l = layers(Loss::Mse);
    let bad = Adam {
        beta1: 1.0,
        ..Adam::new(0.01)
    };
    let mut b = Bufs::new(&l, &bad);
    match Trainer::new(&l, b.buffers(), bad, Loss::Mse) {
        Err(ConfigError::Hyperparameter(h)) => assert_eq!(h.name, "beta1"),
        other => panic!("expected a beta1 error, got {other:?}"),
    }
    with_trainer(Loss::Mse, |t| {
        t.set_schedule(Schedule::Exponential { gamma: 0.5 })
            .expect("valid");
        let lr = t.current_lr();
        let e = rejected(t, |t| {
            t.set_schedule(Schedule::Step {
                step_size: 0,
                gamma: 0.5,
            })
        });
        assert!(matches!(e, ConfigError::Hyperparameter(h) if h.name == "step_size"));
        assert_eq!(t.current_lr(), lr, "the old schedule stays");
        let e = rejected(t, |t| t.set_clip_norm(Some(0.0)));
        assert!(matches!(e, ConfigError::Hyperparameter(h) if h.name == "max_norm"));
        let e = rejected(t, |t| t.set_clip_norm(Some(f32::NAN)));
        assert!(matches!(e, ConfigError::Hyperparameter(h) if h.name == "max_norm"));
    });
}

#[test]
fn bad_parameters_to_load() {
    with_trainer(Loss::Mse, |t| {
        let n = t.params().len();
        let e = rejected(t, |t| t.load_params(&vec![0.0; n - 1]));
        assert_eq!(
            e,
            StepError::ReplacementLength {
                buffer: Buffer::Params,
                expected: n,
                got: n - 1
            }
        );
        let mut p = vec![0.5; n];
        p[7] = f32::NAN;
        let e = rejected(t, |t| t.load_params(&p));
        assert_eq!(
            e,
            StepError::NonFiniteReplacement {
                buffer: Buffer::Params,
                index: 7
            }
        );
    });
}

#[test]
fn bad_restore_names_the_buffer() {
    with_trainer(Loss::Mse, |t| {
        let params = t.params().to_vec();
        let s = t.state().len();
        let e = rejected(t, |t| t.restore(&params, &vec![0.0; s + 1], 5));
        assert_eq!(
            e,
            StepError::ReplacementLength {
                buffer: Buffer::State,
                expected: s,
                got: s + 1
            }
        );
        let mut state = vec![0.0; s];
        state[s - 1] = f32::INFINITY;
        let e = rejected(t, |t| t.restore(&params, &state, 5));
        assert_eq!(
            e,
            StepError::NonFiniteReplacement {
                buffer: Buffer::State,
                index: s - 1
            }
        );
        let e = rejected(t, |t| t.restore(&params[1..], &vec![0.0; s], 5));
        assert!(matches!(
            e,
            StepError::ReplacementLength {
                buffer: Buffer::Params,
                ..
            }
        ));
        assert!(e.to_string().contains("Params buffer"), "{e}");
    });
}

#[test]
fn prediction_rejects_bad_input_and_short_output() {
    with_trainer(Loss::Mse, |t| {
        let mut out = [0.0f32; 2];
        let e = rejected(t, |t| t.predict(&[0.0, f32::INFINITY, 0.0], &mut out));
        assert_eq!(e, StepError::NonFiniteInput { sample: 0, index: 1 });
        let mut short = [0.0f32; 1];
        let e = rejected(t, |t| t.predict(&[0.0; 3], &mut short));
        assert_eq!(
            e,
            StepError::OutputTooSmall {
                needed: 2,
                provided: 1
            }
        );
        let e = rejected(t, |t| t.sample_loss(&[0.0; 4], &Target::Values(&[0.0, 0.0])));
        assert_eq!(
            e,
            StepError::InputLength {
                sample: 0,
                expected: 3,
                got: 4
            }
        );
    });
}

#[test]
fn an_epoch_with_a_bad_row_takes_no_step() {
    let mut xs: Vec<f32> = (0..30).map(|i| (i as f32).cos()).collect();
    xs[22] = f32::NAN; // row 7, input 1
    let y: Vec<f32> = (0..10).flat_map(|_| good_target(Loss::Mse)).collect();
    let data = Dataset::new(&xs, 3, Targets::Values { y: &y, width: 2 }).expect("10 rows");
    with_trainer(Loss::Mse, |t| {
        for order in [Order::Sequential, Order::Shuffled, Order::WithReplacement] {
            let mut rng = Rng::new(3);
            let mut idx = [0u32; 10];
            let e = rejected(t, |t| fit_epoch(t, &data, 2, order, &mut rng, &mut idx));
            assert_eq!(
                e,
                EpochError::BadRow {
                    row: 7,
                    error: StepError::NonFiniteInput { sample: 0, index: 1 }
                }
            );
        }
        let mut rng = Rng::new(3);
        let mut idx = [0u32; 10];
        let e = rejected(t, |t| {
            fit_epoch(t, &data, 0, Order::Sequential, &mut rng, &mut idx)
        });
        assert_eq!(e, EpochError::ZeroBatchSize);
        let empty = Dataset::new(&[], 3, Targets::Values { y: &[], width: 2 }).expect("empty");
        let e = rejected(t, |t| {
            fit_epoch(t, &empty, 2, Order::Sequential, &mut rng, &mut idx)
        });
        assert_eq!(e, EpochError::DatasetSize { rows: 0 });
        let mut short = [0u32; 9];
        let good: Vec<f32> = (0..30).map(|i| (i as f32).cos()).collect();
        let data = Dataset::new(&good, 3, Targets::Values { y: &y, width: 2 }).expect("10 rows");
        let e = rejected(t, |t| {
            fit_epoch(t, &data, 2, Order::Shuffled, &mut rng, &mut short)
        });
        assert_eq!(
            e,
            EpochError::Config(ConfigError::BufferTooSmall {
                buffer: Buffer::Indices,
                needed: 10,
                provided: 9
            })
        );
    });
}

/// After a step, `last_output` is the sample's output before the update: the same bits
/// as `predict` gave with the old parameters.
#[test]
fn last_output_is_the_prediction_before_the_update() {
    for loss in [Loss::Mse, Loss::BinaryCrossEntropy, Loss::SoftmaxCrossEntropy] {
        with_trainer(loss, |t| {
            let x = [0.3, -0.7, 0.2];
            let mut before = [0.0f32; 2];
            t.predict(&x, &mut before).expect("finite input");
            t.train_sample(&x, Target::Values(&good_target(loss)))
                .expect("a good sample");
            assert_eq!(t.last_output(), &before[..], "{loss:?}");
            let mut after = [0.0f32; 2];
            t.predict(&x, &mut after).expect("finite input");
            assert_ne!(after, before, "{loss:?}: the step changed the model");
        });
    }
}
