//! LeakyReLU, ELU and softsign beyond their unit tests: parameters out of range are
//! a [`ConfigError`] naming the layer, the fixed-point trainer refuses them, and a
//! trainer built with them trains (its gradients are checked against finite
//! differences in `gradients.rs`, its steps against PyTorch by the conformance cases).

use microtrain::fixed::{FixedBuffers, FixedTrainer};
use microtrain::{Activation, ConfigError, Dense, Loss, Sgd};

#[test]
fn parameters_out_of_range_name_the_layer() {
    for bad in [
        Activation::leaky_relu(-0.5),
        Activation::leaky_relu(f32::INFINITY),
        Activation::elu(-1.0),
        Activation::elu(f32::NAN),
    ] {
        let layers = [Dense::new(2, 3, Activation::Tanh), Dense::new(3, 1, bad)];
        let err = microtrain::shape::validate(&layers).unwrap_err();
        let ConfigError::ActivationParameter { layer, error } = err else {
            panic!("{bad:?}: {err:?}");
        };
        assert_eq!(layer, 1);
        assert_eq!(Some(error.name), bad.param_name());
        let text = err.to_string();
        assert!(text.contains("layer 1") && text.contains(error.name), "{text}");
    }
    for good in [
        Activation::leaky_relu(0.0),
        Activation::elu(0.0),
        Activation::elu(3.0),
    ] {
        assert!(microtrain::shape::validate(&[Dense::new(2, 1, good)]).is_ok());
    }
}

#[test]
fn the_fixed_point_path_refuses_them() {
    for act in [Activation::LEAKY_RELU, Activation::ELU, Activation::Softsign] {
        let layers = [Dense::new(4, 8, act), Dense::new(8, 3, Activation::Identity)];
        let (mut p, mut g, mut a) = (vec![0i32; 67], vec![0i32; 67], vec![0i32; 22]);
        let buffers = FixedBuffers {
            params: &mut p,
            grads: &mut g,
            state: &mut [],
            acts: &mut a,
        };
        let Err(err) = FixedTrainer::new(&layers, buffers, Sgd::new(0.1), Loss::SoftmaxCrossEntropy) else {
            panic!("{act:?} was taken on the fixed-point path");
        };
        assert!(matches!(err, ConfigError::Unsupported { .. }), "{err:?}");
        assert!(err.to_string().contains(act.name()), "{err}");
    }
}

#[test]
fn an_activation_parameter_is_off_default_only_when_it_differs_from_pytorch() {
    assert!(!Activation::LEAKY_RELU.param_off_default());
    assert!(!Activation::ELU.param_off_default());
    assert!(!Activation::Relu.param_off_default());
    assert!(Activation::leaky_relu(0.02).param_off_default());
    assert!(Activation::elu(0.5).param_off_default());
}
