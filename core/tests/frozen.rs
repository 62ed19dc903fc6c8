//! Frozen and bias-only layers: the frozen parameters never change and take no RAM
//! for gradients or state; training the layers above a frozen one gives the same bits
//! as training those layers alone on the frozen layer's outputs; a bias-only layer's
//! first step is the full model's on its bias; bad frozen parameters are refused.

use microtrain::shape::{params_len, trainable_params_len, training_bytes};
use microtrain::{
    plan_for, storage_for, Activation, Adam, Buffer, ConfigError, Dataset, Dense, Loss, Sgd, StepError,
    Target, Targets, Trainer,
};

const L0: Dense = Dense::new(3, 6, Activation::Tanh);
const L1: Dense = Dense::new(6, 4, Activation::Relu);
const L2: Dense = Dense::new(4, 2, Activation::Identity);
const FULL: [Dense; 3] = [L0, L1, L2];
const FIRST_FROZEN: [Dense; 3] = [L0.frozen(), L1, L2];
const TOP: [Dense; 2] = [L1, L2];
const BIAS_ONLY: [Dense; 3] = [L0.bias_only(), L1, L2];
const ADAM: Adam = Adam {
    weight_decay: 0.01,
    ..Adam::new(0.02)
};

fn sample(i: usize) -> ([f32; 3], usize) {
    let f = i as f32;
    (
        [(f * 0.37).sin(), (f * 0.11).cos(), 0.5 - (f * 0.23).cos()],
        i % 2,
    )
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The whole model's parameters, drawn once.
fn pretrained() -> Vec<f32> {
    let mut s: Box<storage_for!(&FULL, ADAM)> = Box::default();
    let mut t = Trainer::new(&FULL, s.buffers(), ADAM, Loss::SoftmaxCrossEntropy).unwrap();
    t.init_params(11);
    t.params().to_vec()
}

/// The frozen layer's output for `x`, as the frozen model computes it.
fn features(whole: &[f32], x: &[f32; 3]) -> [f32; 6] {
    let mut s: Box<storage_for!(&FULL, ADAM)> = Box::default();
    let mut t = Trainer::new(&[L0], s.buffers(), ADAM, Loss::Mse).unwrap();
    t.load_params(&whole[..L0.params_len()]).unwrap();
    let mut h = [0.0f32; 6];
    t.predict(x, &mut h).unwrap();
    h
}

#[test]
fn a_frozen_first_layer_trains_the_rest_as_a_model_of_its_own() {
    let whole = pretrained();
    for batch in [1usize, 3] {
        let mut s1: Box<storage_for!(&FIRST_FROZEN, ADAM)> = Box::default();
        let mut frozen = Trainer::new(
            &FIRST_FROZEN,
            s1.buffers().with_frozen(&whole),
            ADAM,
            Loss::SoftmaxCrossEntropy,
        )
        .unwrap();
        let mut s2: Box<storage_for!(&TOP, ADAM)> = Box::default();
        let mut top = Trainer::new(&TOP, s2.buffers(), ADAM, Loss::SoftmaxCrossEntropy).unwrap();
        // The trainable parameters start from the whole model's.
        assert_eq!(bits(frozen.params()), bits(&whole[L0.params_len()..]));
        top.load_params(&whole[L0.params_len()..]).unwrap();
        for step in 0..40 {
            let rows: Vec<([f32; 3], usize)> = (0..batch).map(|k| sample(step * batch + k)).collect();
            let xs: Vec<f32> = rows.iter().flat_map(|(x, _)| *x).collect();
            let hs: Vec<f32> = rows.iter().flat_map(|(x, _)| features(&whole, x)).collect();
            let labels: Vec<u16> = rows.iter().map(|(_, c)| *c as u16).collect();
            let (a, b) = if batch == 1 {
                (
                    frozen.train_sample(&xs, Target::Class(rows[0].1)).unwrap(),
                    top.train_sample(&hs, Target::Class(rows[0].1)).unwrap(),
                )
            } else {
                let d1 = Dataset::new(&xs, 3, Targets::Classes(&labels)).unwrap();
                let d2 = Dataset::new(&hs, 6, Targets::Classes(&labels)).unwrap();
                (frozen.train_batch(&d1).unwrap(), top.train_batch(&d2).unwrap())
            };
            assert_eq!(a.to_bits(), b.to_bits(), "batch {batch}, step {step}");
        }
        assert_eq!(bits(frozen.params()), bits(top.params()), "batch {batch}");
        assert_eq!(bits(frozen.state()), bits(top.state()), "batch {batch}");
        assert_eq!(bits(frozen.grads()), bits(top.grads()), "batch {batch}");
    }
}

#[test]
fn a_bias_only_layer_takes_the_full_models_first_step_on_its_bias() {
    let whole = pretrained();
    let sgd = Sgd::new(0.1);
    let mut s1: Box<storage_for!(&BIAS_ONLY, ADAM)> = Box::default();
    let mut bias = Trainer::new(
        &BIAS_ONLY,
        s1.buffers().with_frozen(&whole),
        sgd,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    let mut s2: Box<storage_for!(&FULL, ADAM)> = Box::default();
    let mut full = Trainer::new(&FULL, s2.buffers(), sgd, Loss::SoftmaxCrossEntropy).unwrap();
    full.load_params(&whole).unwrap();
    let (x, c) = sample(3);
    let a = bias.train_sample(&x, Target::Class(c)).unwrap();
    let b = full.train_sample(&x, Target::Class(c)).unwrap();
    assert_eq!(a.to_bits(), b.to_bits());
    // The RAM parameters: layer 0's bias, then layers 1 and 2 whole.
    let w0 = L0.weights_len();
    let mut expected = full.params()[w0..L0.params_len()].to_vec();
    expected.extend_from_slice(&full.params()[L0.params_len()..]);
    assert_eq!(bits(bias.params()), bits(&expected));
    assert_ne!(
        bits(&expected[..6]),
        bits(&whole[w0..L0.params_len()]),
        "the bias moved"
    );
    assert_eq!(bias.params().len(), trainable_params_len(&BIAS_ONLY));
}

#[test]
fn frozen_parameters_take_no_training_ram() {
    assert_eq!(params_len(&FIRST_FROZEN), params_len(&FULL));
    assert_eq!(trainable_params_len(&FIRST_FROZEN), params_len(&TOP));
    assert_eq!(trainable_params_len(&BIAS_ONLY), params_len(&TOP) + 6);
    // Parameters, gradients, Adam's two moments and the activations.
    let acts = 2 * (6 + 4 + 2);
    let expected = (4 * trainable_params_len(&FIRST_FROZEN) + acts) * 4;
    assert_eq!(training_bytes(&FIRST_FROZEN, ADAM.state_per_param()), expected);
    assert_eq!(
        core::mem::size_of::<storage_for!(&FIRST_FROZEN, ADAM)>(),
        expected
    );
}

#[test]
fn bad_frozen_parameters_are_refused() {
    let mut whole = pretrained();
    let mut s: Box<storage_for!(&FIRST_FROZEN, ADAM)> = Box::default();
    let err = Trainer::new(&FIRST_FROZEN, s.buffers(), ADAM, Loss::SoftmaxCrossEntropy).unwrap_err();
    assert_eq!(
        err,
        ConfigError::BufferTooSmall {
            buffer: Buffer::Frozen,
            needed: params_len(&FIRST_FROZEN),
            provided: 0
        }
    );
    whole[5] = f32::NAN;
    let err = Trainer::new(
        &FIRST_FROZEN,
        s.buffers().with_frozen(&whole),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap_err();
    assert_eq!(err, ConfigError::NonFiniteFrozen { index: 5 });
    assert!(err.to_string().contains("index 5"), "{err}");
}

#[test]
fn a_rejected_sample_changes_nothing() {
    let whole = pretrained();
    let mut s: Box<storage_for!(&BIAS_ONLY, ADAM)> = Box::default();
    let mut t = Trainer::new(
        &BIAS_ONLY,
        s.buffers().with_frozen(&whole),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    for i in 0..5 {
        let (x, c) = sample(i);
        t.train_sample(&x, Target::Class(c)).unwrap();
    }
    let (p, st, k) = (t.params().to_vec(), t.state().to_vec(), t.step_count());
    let bad = t.train_sample(&[f32::NAN, 0.0, 0.0], Target::Class(0));
    assert_eq!(bad, Err(StepError::NonFiniteInput { sample: 0, index: 0 }));
    // A label out of range.
    assert!(t.train_sample(&[0.1, 0.2, 0.3], Target::Class(2)).is_err());
    assert_eq!(
        (bits(t.params()), bits(t.state()), t.step_count()),
        (bits(&p), bits(&st), k)
    );
}

#[test]
fn init_params_draws_as_for_the_whole_model() {
    let whole = pretrained();
    let mut s: Box<storage_for!(&BIAS_ONLY, ADAM)> = Box::default();
    let zeros = vec![0.0f32; params_len(&BIAS_ONLY)];
    let mut t = Trainer::new(
        &BIAS_ONLY,
        s.buffers().with_frozen(&zeros),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    t.init_params(11);
    let w0 = L0.weights_len();
    assert_eq!(bits(t.params()), bits(&whole[w0..]));
}

#[test]
fn a_fixed_plan_with_frozen_layers_takes_the_dynamic_plans_steps() {
    type Frozen = plan_for!(&FIRST_FROZEN, ADAM, Loss::SoftmaxCrossEntropy);
    let whole = pretrained();
    let mut s1: Box<storage_for!(&FIRST_FROZEN, ADAM)> = Box::default();
    let mut s2: Box<storage_for!(&FIRST_FROZEN, ADAM)> = Box::default();
    let mut a = Trainer::<_, Frozen>::with_plan(
        &FIRST_FROZEN,
        s1.buffers().with_frozen(&whole),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    let mut b = Trainer::new(
        &FIRST_FROZEN,
        s2.buffers().with_frozen(&whole),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    for i in 0..20 {
        let (x, c) = sample(i);
        a.train_sample(&x, Target::Class(c)).unwrap();
        b.train_sample(&x, Target::Class(c)).unwrap();
    }
    assert_eq!(bits(a.params()), bits(b.params()));
    // A plan without the frozen passes is refused for a model with frozen parts.
    type Plain = plan_for!(&FULL, ADAM, Loss::SoftmaxCrossEntropy);
    let mut s3: Box<storage_for!(&FIRST_FROZEN, ADAM)> = Box::default();
    let r = Trainer::<_, Plain>::with_plan(
        &FIRST_FROZEN,
        s3.buffers().with_frozen(&whole),
        ADAM,
        Loss::SoftmaxCrossEntropy,
    );
    assert!(matches!(
        r,
        Err(ConfigError::Plan(microtrain::trainer::PlanMismatch::Frozen))
    ));
}
