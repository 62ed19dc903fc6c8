//! Online-only storage (no gradient buffer): the same bits as the full storage for
//! single-sample steps, a quarter less RAM with Adam, and batches refused with nothing
//! changed.

use microtrain::shape::{online_training_bytes, training_bytes};
use microtrain::{
    online_storage_for, storage_for, Activation, Adam, Dataset, Dense, Loss, OnlineStorage, Optimizer, Sgd,
    StepError, Storage, Target, Targets, Trainer,
};

const IRIS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];
const ADAM: Adam = Adam::new(0.01);
const MOMENTUM: Sgd = Sgd::momentum(0.05, 0.9);

fn sample(i: usize) -> ([f32; 4], usize) {
    let f = i as f32;
    (
        [
            (f * 0.37).sin(),
            (f * 0.11).cos(),
            (f * 0.05).sin() * 2.0,
            0.5 - (f * 0.23).cos(),
        ],
        i % 3,
    )
}

fn same_bits_as_full_storage<O: Optimizer + Copy>(opt: O) {
    let mut full: Box<storage_for!(&IRIS, ADAM)> = Box::default();
    let mut online: Box<online_storage_for!(&IRIS, ADAM)> = Box::default();
    let mut a = Trainer::new(&IRIS, full.buffers(), opt, Loss::SoftmaxCrossEntropy).expect("fits");
    let mut b = Trainer::new(&IRIS, online.buffers(), opt, Loss::SoftmaxCrossEntropy).expect("fits");
    assert!(b.is_online_only() && !a.is_online_only());
    a.init_params(5);
    b.init_params(5);
    for i in 0..300 {
        let (x, c) = sample(i);
        let la = a.train_sample(&x, Target::Class(c)).expect("a good sample");
        let lb = b.train_sample(&x, Target::Class(c)).expect("a good sample");
        assert_eq!(la.to_bits(), lb.to_bits(), "loss at step {i}");
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(a.params()), bits(b.params()));
    assert_eq!(bits(a.state()), bits(b.state()));
    assert!(b.grads().is_empty());
}

#[test]
fn online_steps_give_the_same_bits_as_full_storage() {
    same_bits_as_full_storage(ADAM);
    same_bits_as_full_storage(MOMENTUM);
}

#[test]
fn online_storage_saves_the_gradient() {
    // 67 parameters: 268 bytes of gradient fewer than the 1160 of full storage.
    assert_eq!(training_bytes(&IRIS, ADAM.state_per_param()), 1160);
    assert_eq!(online_training_bytes(&IRIS, ADAM.state_per_param()), 892);
    assert_eq!(core::mem::size_of::<online_storage_for!(&IRIS, ADAM)>(), 892);
    const BIG: [Dense; 2] = [
        Dense::new(64, 128, Activation::Relu),
        Dense::new(128, 10, Activation::Identity),
    ];
    assert_eq!(
        online_training_bytes(&BIG, ADAM.state_per_param()),
        154_864 - 38_440
    );
    let _checked: online_storage_for!(&IRIS, ADAM) = OnlineStorage::sized_for(&IRIS, ADAM.state_per_param());
    let _full: storage_for!(&IRIS, ADAM) = Storage::sized_for(&IRIS, ADAM.state_per_param());
}

#[test]
fn batches_and_clipping_need_the_gradient_buffer() {
    let mut online: online_storage_for!(&IRIS, ADAM) = OnlineStorage::new();
    let mut t = Trainer::new(&IRIS, online.buffers(), ADAM, Loss::SoftmaxCrossEntropy).expect("fits");
    t.init_params(1);
    t.train_sample(&[0.1, 0.2, 0.3, 0.4], Target::Class(1))
        .expect("a good sample");
    let before = (t.params().to_vec(), t.state().to_vec(), t.step_count());
    let x = [0.1f32, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4];
    let y = [0u16, 2];
    let data = Dataset::new(&x, 4, Targets::Classes(&y)).expect("consistent");
    assert_eq!(
        t.train_batch(&data),
        Err(StepError::NeedsGradientBuffer { batch: 2 })
    );
    t.set_clip_norm(Some(1.0)).expect("valid");
    assert_eq!(
        t.train_sample(&[0.1, 0.2, 0.3, 0.4], Target::Class(0)),
        Err(StepError::NeedsGradientBuffer { batch: 1 })
    );
    assert_eq!(before, (t.params().to_vec(), t.state().to_vec(), t.step_count()));
    t.set_clip_norm(None).expect("valid");
    t.train_sample(&[0.1, 0.2, 0.3, 0.4], Target::Class(0))
        .expect("a good sample");
    assert_eq!(t.step_count(), 2);
}
