//! Layers other than dense (`Conv1d`, `MaxPool1d`, `AvgPool1d`, `Flatten`, global
//! average pooling) through the [`Trainer`]: the gradient it stores against central
//! finite differences of the loss, impossible shapes refused by name, the plan and the
//! buffers they need, and training that learns.
//!
//! Gradient method as `gradients.rs`: a step of plain SGD with `lr = 0` leaves the
//! parameters as they were and the sample's gradient in [`Trainer::grads`]; the
//! reference is `D(h) = (L(p + h e_i) - L(p - h e_i)) / 2h` extrapolated from `h` and
//! `h / 2` as `(4 D(h/2) - D(h)) / 3`, and a gradient matches when
//! `|g - fd| <= 2e-4 + 5e-3 max(|g|, |fd|)`. Smooth activations (tanh, ELU at
//! `alpha = 1`, softsign, sigmoid, identity) and max pooling whose windows have no
//! near-ties at these seeds keep every case differentiable.

use microtrain::{
    plan_for, shape, Activation, Adam, Buffers, ConfigError, Dense, Loss, Padding, Rng, Sgd, Target, Trainer,
};

const H: f32 = 1e-2;

struct Bufs {
    params: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
    acts: Vec<f32>,
}

impl Bufs {
    fn new(layers: &[Dense], spp: usize) -> Self {
        let p = shape::params_len(layers);
        Bufs {
            params: vec![0.0; p],
            grads: vec![0.0; p],
            state: vec![0.0; p * spp],
            acts: vec![0.0; shape::activations_len(layers)],
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

/// Checks every parameter's gradient of one sample; returns how many were compared.
fn check_gradients(layers: &[Dense], loss: Loss, seed: u64) -> usize {
    let mut b = Bufs::new(layers, 0);
    let mut t = Trainer::new(layers, b.buffers(), Sgd::new(0.0), loss).unwrap();
    t.init_params(seed);
    let mut rng = Rng::new(seed + 1);
    let x: Vec<f32> = (0..shape::inputs(layers)).map(|_| rng.symmetric(2.0)).collect();
    let outputs = shape::outputs(layers);
    let y: Vec<f32> = match loss {
        Loss::SoftmaxCrossEntropy => (0..outputs).map(|k| if k == 1 { 1.0 } else { 0.0 }).collect(),
        Loss::BinaryCrossEntropy => (0..outputs).map(|_| rng.unit_f32()).collect(),
        Loss::Mse => (0..outputs).map(|_| rng.symmetric(1.0)).collect(),
    };
    let p0 = t.params().to_vec();
    t.train_sample(&x, Target::Values(&y)).unwrap();
    assert_eq!(t.params(), p0.as_slice(), "lr = 0 moved the parameters");
    let g = t.grads().to_vec();
    assert!(g.iter().any(|v| *v != 0.0), "no gradient at all");
    let mut loss_at = |q: &[f32]| -> f64 {
        t.load_params(q).unwrap();
        f64::from(t.sample_loss(&x, &Target::Values(&y)).unwrap())
    };
    for (i, gi) in g.iter().enumerate() {
        let d = |h: f32, loss_at: &mut dyn FnMut(&[f32]) -> f64| {
            let (mut up, mut down) = (p0.clone(), p0.clone());
            up[i] += h;
            down[i] -= h;
            (loss_at(&up) - loss_at(&down)) / (f64::from(up[i]) - f64::from(down[i]))
        };
        let (d1, d2) = (d(H, &mut loss_at), d(H / 2.0, &mut loss_at));
        let fd = (4.0 * d2 - d1) / 3.0;
        let g = f64::from(*gi);
        let tol = 2e-4 + 5e-3 * fd.abs().max(g.abs());
        assert!(
            (g - fd).abs() <= tol,
            "{layers:?}: parameter {i}: backprop {g}, finite differences {fd}"
        );
    }
    g.len()
}

#[test]
fn conv_valid_odd_length_maxpool_gap_dense() {
    let layers = [
        Dense::conv1d(3, 4, 3, 1, Padding::None, 11, Activation::Tanh),
        Dense::max_pool1d(4, 9, 2, 2),
        Dense::global_avg_pool1d(4, 4),
        Dense::new(4, 3, Activation::Identity),
    ];
    assert_eq!(shape::params_len(&layers), 4 * 3 * 3 + 4 + 4 * 3 + 3);
    assert_eq!(check_gradients(&layers, Loss::SoftmaxCrossEntropy, 3), 55);
}

#[test]
fn conv_stride_two_same_padding_avgpool_flatten() {
    let layers = [
        Dense::conv1d(2, 3, 4, 2, Padding::None, 13, Activation::ELU),
        Dense::conv1d(3, 2, 3, 1, Padding::Same, 5, Activation::Softsign),
        Dense::avg_pool1d(2, 5, 2, 1),
        Dense::flatten(8),
        Dense::new(8, 2, Activation::Sigmoid),
    ];
    assert_eq!(
        (layers[0].outputs, layers[1].outputs, layers[2].outputs),
        (15, 10, 8)
    );
    check_gradients(&layers, Loss::BinaryCrossEntropy, 7);
    // An even kernel with same padding: one more zero on the right than on the left.
    let layers = [
        Dense::conv1d(1, 2, 4, 1, Padding::Same, 7, Activation::Identity),
        Dense::max_pool1d(2, 7, 3, 2),
        Dense::flatten(6),
    ];
    check_gradients(&layers, Loss::Mse, 12);
}

/// The bench model's structure, with tanh for ReLU and average for max pooling: 240
/// windows of two leave some near-tie that a perturbation of a first-layer weight
/// flips, and the finite differences would straddle the kink.
#[test]
fn the_bench_model_har_cnn() {
    let mut layers = har_cnn();
    assert_eq!(shape::params_len(&layers), 128 + 656 + 68);
    layers[0].activation = Activation::Tanh;
    layers[1] = Dense::avg_pool1d(8, 60, 2, 2);
    layers[2].activation = Activation::Tanh;
    check_gradients(&layers, Loss::SoftmaxCrossEntropy, 5);
}

/// The `har-cnn-adam-b1` bench model: a 3 x 64 window, Conv1d 3->8 k5, ReLU, MaxPool 2,
/// Conv1d 8->16 k5, ReLU, global average pool, Dense 16->4.
fn har_cnn() -> [Dense; 5] {
    [
        Dense::conv1d(3, 8, 5, 1, Padding::None, 64, Activation::Relu),
        Dense::max_pool1d(8, 60, 2, 2),
        Dense::conv1d(8, 16, 5, 1, Padding::None, 30, Activation::Relu),
        Dense::global_avg_pool1d(16, 26),
        Dense::new(16, 4, Activation::Identity),
    ]
}

#[test]
fn impossible_shapes_name_the_layer() {
    let cases: [(&[Dense], usize, &str); 5] = [
        (
            &[Dense::conv1d(2, 3, 9, 1, Padding::None, 8, Activation::Relu)],
            0,
            "kernel",
        ),
        (
            &[
                Dense::new(4, 6, Activation::Relu),
                Dense::conv1d(2, 3, 3, 2, Padding::Same, 3, Activation::Relu),
            ],
            1,
            "stride 1",
        ),
        (&[Dense::max_pool1d(2, 4, 0, 1), Dense::flatten(4)], 0, "kernel"),
        (
            &[Dense::new(4, 5, Activation::Relu), Dense::global_avg_pool1d(2, 3)],
            1,
            "mismatch",
        ),
        (&[Dense::global_avg_pool1d(0, 3)], 0, "channels"),
    ];
    for (layers, at, words) in cases {
        let err = shape::validate(layers).unwrap_err();
        let text = err.to_string();
        match err {
            ConfigError::LayerKind { layer, .. } | ConfigError::EmptyLayer { layer } => {
                assert_eq!(layer, at, "{text}")
            }
            ConfigError::LayerMismatch { layer, .. } => {
                assert_eq!(layer, at, "{text}");
                assert_eq!(words, "mismatch");
                continue;
            }
            other => panic!("{other:?}"),
        }
        assert!(text.contains(&format!("layer {at}")), "{text}");
        if words != "mismatch" {
            assert!(
                text.contains(words) || matches!(err, ConfigError::EmptyLayer { .. }),
                "{text}"
            );
        }
    }
    // A hand-built layer whose outputs do not follow its kind.
    let mut l = Dense::conv1d(2, 3, 3, 1, Padding::None, 8, Activation::Relu);
    l.outputs += 1;
    let err = shape::validate(&[l]).unwrap_err();
    assert!(err.to_string().contains("outputs do not match"), "{err}");
}

#[test]
fn plans_and_buffers_for_other_kinds() {
    const LAYERS: [Dense; 3] = [
        Dense::conv1d(2, 4, 3, 1, Padding::Same, 6, Activation::Relu),
        Dense::global_avg_pool1d(4, 6),
        Dense::new(4, 2, Activation::Identity),
    ];
    const OPT: Adam = Adam::new(0.01);
    type P = plan_for!(&LAYERS, OPT, Loss::SoftmaxCrossEntropy);
    let mut b = Bufs::new(&LAYERS, 2);
    assert!(Trainer::<_, P>::with_plan(&LAYERS, b.buffers(), OPT, Loss::SoftmaxCrossEntropy).is_ok());
    // A dense-only plan refuses them.
    const DENSE: [Dense; 2] = [
        Dense::new(12, 4, Activation::Relu),
        Dense::new(4, 2, Activation::Identity),
    ];
    type Q = plan_for!(&DENSE, OPT, Loss::SoftmaxCrossEntropy);
    let mut b = Bufs::new(&LAYERS, 2);
    let err = Trainer::<_, Q>::with_plan(&LAYERS, b.buffers(), OPT, Loss::SoftmaxCrossEntropy).err();
    assert_eq!(
        err,
        Some(ConfigError::Plan(microtrain::trainer::PlanMismatch::LayerKinds))
    );
    // No gradient buffer (online-only storage): refused, naming the layer.
    let mut b = Bufs::new(&LAYERS, 2);
    b.grads.clear();
    let err = Trainer::new(&LAYERS, b.buffers(), OPT, Loss::SoftmaxCrossEntropy).err();
    assert!(
        matches!(err, Some(ConfigError::LayerKind { layer: 0, .. })),
        "{err:?}"
    );
    // Frozen layers with other kinds: refused.
    let frozen = [LAYERS[0].frozen(), LAYERS[1], LAYERS[2]];
    let mut b = Bufs::new(&frozen, 2);
    let whole = vec![0.1f32; shape::params_len(&frozen)];
    let bufs = Buffers {
        frozen: &whole,
        ..b.buffers()
    };
    assert!(Trainer::new(&frozen, bufs, OPT, Loss::SoftmaxCrossEntropy).is_err());
    // The model file holds them (version 3) and reads them back.
    let mut out = [0u8; 4096];
    let p: Vec<f32> = (0..shape::params_len(&LAYERS)).map(|i| i as f32).collect();
    let n = microtrain::model_file::encode(&LAYERS, &p, &mut out).unwrap();
    let f = microtrain::model_file::ModelFile::parse(&out[..n]).unwrap();
    assert!(f.matches(&LAYERS));
    // The fixed-point trainer refuses them.
    let (mut fp, mut fa) = (vec![0i32; 64], vec![0i32; 64]);
    let fb = microtrain::fixed::FixedBuffers {
        params: &mut fp,
        grads: &mut [],
        state: &mut [],
        acts: &mut fa,
    };
    let err =
        microtrain::fixed::FixedTrainer::new(&LAYERS, fb, Sgd::new(0.1), Loss::SoftmaxCrossEntropy).err();
    assert!(matches!(err, Some(ConfigError::Unsupported { .. })), "{err:?}");
}

/// Adam learns a sequence task (is the bump in the first or the second half of the
/// window?), and a rejected sample changes nothing.
#[test]
fn adam_learns_and_bad_samples_change_nothing() {
    let layers = har_cnn();
    let mut b = Bufs::new(&layers, 2);
    let mut t = Trainer::new(&layers, b.buffers(), Adam::new(0.01), Loss::SoftmaxCrossEntropy).unwrap();
    t.init_params(1);
    let mut rng = Rng::new(9);
    let sample = |rng: &mut Rng| {
        let class = rng.below(4) as usize;
        let mut x = vec![0.0f32; 3 * 64];
        for (i, v) in x.iter_mut().enumerate() {
            let (c, pos) = (i / 64, i % 64);
            let bump = if pos / 16 == class && c == class % 3 {
                1.5
            } else {
                0.0
            };
            *v = bump + rng.symmetric(0.3);
        }
        (x, class)
    };
    let mut first = 0.0;
    let mut last = 0.0;
    for step in 0..600 {
        let (x, c) = sample(&mut rng);
        let loss = t.train_sample(&x, Target::Class(c)).unwrap();
        if step < 50 {
            first += loss;
        }
        if step >= 550 {
            last += loss;
        }
    }
    assert!(last < first * 0.5, "loss {first} -> {last} over 50 steps");
    let before = (t.params().to_vec(), t.state().to_vec(), t.step_count());
    let (mut x, _) = sample(&mut rng);
    x[100] = f32::NAN;
    assert!(t.train_sample(&x, Target::Class(0)).is_err());
    assert!(t.train_sample(&x[..10], Target::Class(0)).is_err());
    assert_eq!((t.params().to_vec(), t.state().to_vec(), t.step_count()), before);
}

/// The kind codes that the model file and the checkpoint store: every kind round-trips,
/// and nothing else decodes (an unknown code, a padding byte other than 0 or 1, a
/// non-zero byte the kind does not use).
#[test]
fn kind_codes_round_trip_and_nothing_else_decodes() {
    use microtrain::shape::{Kind, Padding};
    let kinds = [
        Kind::Dense,
        Kind::Conv1d {
            in_channels: 3,
            out_channels: 8,
            kernel: 5,
            stride: 2,
            padding: Padding::None,
        },
        Kind::Conv1d {
            in_channels: 1,
            out_channels: 2,
            kernel: 4,
            stride: 1,
            padding: Padding::Same,
        },
        Kind::MaxPool1d {
            channels: 8,
            kernel: 2,
            stride: 2,
        },
        Kind::AvgPool1d {
            channels: 4,
            kernel: 3,
            stride: 1,
        },
        Kind::Flatten,
        Kind::GlobalAvgPool1d { channels: 16 },
    ];
    for k in kinds {
        let (code, sizes) = k.code();
        assert_eq!(Kind::from_code(code, sizes), Some(k));
        assert_ne!(Kind::code_name(u32::from(code)), "unknown");
        // Any other value of an unused byte, or of the padding byte, is refused.
        for i in 0..5 {
            let mut bad = sizes;
            bad[i] = bad[i].wrapping_add(7);
            let back = Kind::from_code(code, bad);
            assert!(back.is_none() || back != Some(k), "{k:?} byte {i}");
            if back.is_some() {
                // Only a used size may change, and then the kind differs.
                assert_eq!(back.map(|b| b.code()), Some((code, bad)));
            }
        }
    }
    assert_eq!(Kind::from_code(6, [0; 5]), None);
    assert_eq!(Kind::code_name(6), "unknown");
    assert_eq!(Kind::from_code(1, [3, 8, 5, 1, 2]), None, "padding byte 2");
    assert_eq!(Kind::from_code(0, [0, 0, 0, 0, 1]), None, "dense with a size");
    assert_eq!(Kind::from_code(5, [4, 0, 1, 0, 0]), None, "gap with a kernel");
}
