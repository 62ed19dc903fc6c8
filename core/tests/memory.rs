//! The exact memory figures of two shapes, as the crate docs and the README state them:
//! parameter, state and activation counts, `shape::training_bytes`, and the size of the
//! `storage_for!` type a firmware would put in a `static`.

use microtrain::shape::{activations_len, params_len, training_bytes};
use microtrain::{
    storage_for, Activation, Adadelta, Adagrad, Adam, AdamW, Dense, Loss, RAdam, RMSprop, Sgd, Trainer,
};

const IRIS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Tanh),
    Dense::new(8, 3, Activation::Identity),
];
const MNIST_LIKE: [Dense; 2] = [
    Dense::new(64, 128, Activation::Relu),
    Dense::new(128, 10, Activation::Identity),
];
const ADAM: Adam = Adam::new(0.01);
const SGD: Sgd = Sgd::new(0.1);

#[test]
fn iris_shape_counts() {
    // 4*8 + 8 = 40 in the hidden layer, 8*3 + 3 = 27 in the output layer.
    assert_eq!(params_len(&IRIS), 67);
    // One sample's outputs (8 + 3) and as many error terms.
    assert_eq!(activations_len(&IRIS), 22);
    assert_eq!(params_len(&IRIS) * ADAM.state_per_param(), 134);
    assert_eq!(ADAM.state_per_param(), 2);
    assert_eq!(SGD.state_per_param(), 0);
}

#[test]
fn iris_training_bytes() {
    // (67 params + 67 grads + 134 moments + 22 activations) * 4 bytes.
    assert_eq!(training_bytes(&IRIS, ADAM.state_per_param()), 1160);
    // (67 + 67 + 0 + 22) * 4.
    assert_eq!(training_bytes(&IRIS, SGD.state_per_param()), 624);
}

#[test]
fn large_shape_counts_and_bytes() {
    // 64*128 + 128 = 8320, 128*10 + 10 = 1290.
    assert_eq!(params_len(&MNIST_LIKE), 9610);
    assert_eq!(activations_len(&MNIST_LIKE), 276);
    // (9610 * 4 + 276) * 4 with Adam, (9610 * 2 + 276) * 4 with plain SGD.
    assert_eq!(training_bytes(&MNIST_LIKE, ADAM.state_per_param()), 154_864);
    assert_eq!(training_bytes(&MNIST_LIKE, SGD.state_per_param()), 77_984);
}

/// `size_of` of the storage type holds the buffers, with at most 16 bytes of padding.
fn assert_storage_size(size: usize, bytes: usize) {
    assert!(
        size >= bytes,
        "storage of {size} B cannot hold {bytes} B of buffers"
    );
    assert!(
        size <= bytes + 16,
        "storage of {size} B wastes more than 16 B over {bytes} B"
    );
}

#[test]
fn storage_for_is_exactly_the_training_bytes() {
    assert_storage_size(core::mem::size_of::<storage_for!(&IRIS, ADAM)>(), 1160);
    assert_storage_size(core::mem::size_of::<storage_for!(&IRIS, SGD)>(), 624);
    assert_storage_size(core::mem::size_of::<storage_for!(&MNIST_LIKE, ADAM)>(), 154_864);
    assert_storage_size(core::mem::size_of::<storage_for!(&MNIST_LIKE, SGD)>(), 77_984);
}

#[test]
fn state_per_param_of_every_optimizer() {
    assert_eq!(Sgd::momentum(0.1, 0.9).state_per_param(), 1);
    assert_eq!(Sgd::nesterov(0.1, 0.9).state_per_param(), 1);
    assert_eq!(Adagrad::new(0.1).state_per_param(), 1);
    assert_eq!(Adadelta::new(1.0).state_per_param(), 2);
    assert_eq!(RMSprop::new(0.01).state_per_param(), 1);
    let rms_full = RMSprop {
        momentum: 0.9,
        centered: true,
        ..RMSprop::new(0.01)
    };
    assert_eq!(rms_full.state_per_param(), 3);
    let amsgrad = Adam {
        amsgrad: true,
        ..Adam::new(0.01)
    };
    assert_eq!(amsgrad.state_per_param(), 3);
    assert_eq!(AdamW::new(0.01).state_per_param(), 2);
    assert_eq!(RAdam::new(0.01).state_per_param(), 2);
}

#[test]
fn a_trainer_fits_in_exactly_the_storage_for_its_shape() {
    let mut storage: storage_for!(&IRIS, ADAM) = microtrain::Storage::new();
    let net = Trainer::new(&IRIS, storage.buffers(), ADAM, Loss::SoftmaxCrossEntropy)
        .expect("the storage_for! type is big enough");
    assert_eq!(net.params().len(), 67);
    assert_eq!(net.grads().len(), 67);
    assert_eq!(net.state().len(), 134);

    let mut big: Box<storage_for!(&MNIST_LIKE, SGD)> = Box::default();
    let net = Trainer::new(&MNIST_LIKE, big.buffers(), SGD, Loss::SoftmaxCrossEntropy)
        .expect("the storage_for! type is big enough");
    assert_eq!(net.params().len(), 9610);
    assert!(net.state().is_empty());
}
