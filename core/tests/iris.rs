//! Learning on Iris: a 4-8-3 MLP (tanh hidden layer, softmax cross-entropy, PyTorch's
//! default initialisation from seed 7) reaches at least 95 % training accuracy with each
//! optimizer, within the stated number of epochs. Features are standardized (mean and
//! population standard deviation of `data/iris.csv`). Minibatches of 16 rows, a fresh
//! shuffle per epoch (`Order::Shuffled`, generator seed 42), constant learning rate;
//! other hyperparameters are PyTorch's defaults.
//!
//! | optimizer | lr | epochs | first epoch at >= 95 % |
//! |---|---|---|---|
//! | SGD | 0.1 | 40 | 17 |
//! | SGD, momentum 0.9 | 0.02 | 30 | 9 |
//! | SGD, Nesterov 0.9 | 0.02 | 30 | 9 |
//! | Adagrad | 0.1 | 20 | 4 |
//! | Adadelta | 1.0 | 60 | 33 |
//! | RMSprop | 0.01 | 20 | 4 |
//! | Adam | 0.02 | 20 | 6 |
//! | AdamW (weight decay 0.01) | 0.02 | 20 | 6 |
//! | RAdam | 0.02 | 40 | 23 |
//!
//! The last column is what the run prints (`cargo test --test iris -- --nocapture`);
//! the test asserts the accuracy after the stated epochs. Descent modes, with Adam at
//! lr 0.02:
//!
//! | mode | batch size | order | epochs | first epoch at >= 95 % |
//! |---|---|---|---|---|
//! | batch | 150 | sequential | 100 | 45 |
//! | stochastic | 1 | shuffled | 10 | 2 |
//! | minibatch | 16 | sequential | 20 | 8 |
//! | minibatch, with replacement | 16 | with replacement | 20 | 6 |

use microtrain::{
    evaluate, fit_epoch, Activation, Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, Buffers, Dataset, Dense,
    Loss, Optimizer, Order, RAdam, RMSprop, Rng, Sgd, Targets, Trainer,
};

const CSV: &str = include_str!("../../data/iris.csv");

const LAYERS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Tanh),
    Dense::new(8, 3, Activation::Identity),
];

/// The standardized features (150 x 4, row-major) and the species labels.
fn iris() -> (Vec<f32>, Vec<u16>) {
    let mut lines = CSV.lines();
    assert_eq!(
        lines.next(),
        Some("sepal_length,sepal_width,petal_length,petal_width,species")
    );
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        assert_eq!(fields.len(), 5, "line {}: {line}", n + 2);
        for f in &fields[..4] {
            x.push(
                f.parse::<f64>()
                    .unwrap_or_else(|e| panic!("line {}: {f}: {e}", n + 2)),
            );
        }
        y.push(match fields[4] {
            "setosa" => 0,
            "versicolor" => 1,
            "virginica" => 2,
            other => panic!("line {}: unknown species {other}", n + 2),
        });
    }
    assert_eq!(y.len(), 150);
    for c in 0..4 {
        let col: Vec<f64> = x.iter().skip(c).step_by(4).copied().collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64).sqrt();
        x.iter_mut()
            .skip(c)
            .step_by(4)
            .for_each(|v| *v = (*v - mean) / std);
    }
    (x.into_iter().map(|v| v as f32).collect(), y)
}

/// Trains for `epochs` and returns the training accuracy after each epoch.
fn train<O: Optimizer>(opt: O, batch_size: usize, order: Order, epochs: usize) -> Vec<f32> {
    let (x, y) = iris();
    let data = Dataset::new(&x, 4, Targets::Classes(&y)).expect("150 rows");
    let p = microtrain::shape::params_len(&LAYERS);
    let (mut params, mut grads) = (vec![0.0; p], vec![0.0; p]);
    let mut state = vec![0.0; p * opt.state_per_param()];
    let mut acts = vec![0.0; microtrain::shape::activations_len(&LAYERS)];
    let buffers = Buffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut state,
        acts: &mut acts,
        frozen: &[],
    };
    let mut t = Trainer::new(&LAYERS, buffers, opt, Loss::SoftmaxCrossEntropy).expect("valid");
    t.init_params(7);
    let mut rng = Rng::new(42);
    let mut idx = vec![0u32; 150];
    let mut acc = Vec::new();
    for _ in 0..epochs {
        let stats = fit_epoch(&mut t, &data, batch_size, order, &mut rng, &mut idx).expect("good data");
        assert!(stats.loss.is_finite());
        assert_eq!(
            stats.steps as usize,
            150usize.div_ceil(batch_size),
            "one step per batch"
        );
        acc.push(evaluate(&mut t, &data).expect("good data").accuracy);
    }
    acc
}

/// Trains and asserts >= 95 % training accuracy after `epochs`.
fn reaches_95<O: Optimizer>(name: &str, opt: O, batch_size: usize, order: Order, epochs: usize) {
    let acc = train(opt, batch_size, order, epochs);
    let first = acc.iter().position(|a| *a >= 0.95).map(|e| e + 1);
    println!(
        "{name}: first epoch at >= 95 %: {first:?}, final accuracy {:.3}",
        acc[epochs - 1]
    );
    assert!(
        acc[epochs - 1] >= 0.95,
        "{name}: training accuracy {:.3} after {epochs} epochs (history {acc:?})",
        acc[epochs - 1]
    );
}

/// `(name, optimizer, epochs)` for the table in the module docs.
fn table() -> Vec<(&'static str, AnyOptimizer, usize)> {
    vec![
        ("SGD", Sgd::new(0.1).into(), 40),
        ("SGD momentum", Sgd::momentum(0.02, 0.9).into(), 30),
        ("SGD Nesterov", Sgd::nesterov(0.02, 0.9).into(), 30),
        ("Adagrad", Adagrad::new(0.1).into(), 20),
        ("Adadelta", Adadelta::new(1.0).into(), 60),
        ("RMSprop", RMSprop::new(0.01).into(), 20),
        ("Adam", Adam::new(0.02).into(), 20),
        ("AdamW", AdamW::new(0.02).into(), 20),
        ("RAdam", RAdam::new(0.02).into(), 40),
    ]
}

macro_rules! optimizer_test {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let (name, opt, epochs) = table()
                .into_iter()
                .find(|(n, _, _)| *n == $name)
                .expect("in the table");
            reaches_95(name, opt, 16, Order::Shuffled, epochs);
        }
    };
}

optimizer_test!(sgd, "SGD");
optimizer_test!(sgd_momentum, "SGD momentum");
optimizer_test!(sgd_nesterov, "SGD Nesterov");
optimizer_test!(adagrad, "Adagrad");
optimizer_test!(adadelta, "Adadelta");
optimizer_test!(rmsprop, "RMSprop");
optimizer_test!(adam, "Adam");
optimizer_test!(adamw, "AdamW");
optimizer_test!(radam, "RAdam");

#[test]
fn batch_descent() {
    reaches_95("Adam batch", Adam::new(0.02), 150, Order::Sequential, 100);
}

#[test]
fn stochastic_descent() {
    reaches_95("Adam stochastic", Adam::new(0.02), 1, Order::Shuffled, 10);
}

#[test]
fn minibatch_descent_sequential() {
    reaches_95(
        "Adam minibatch sequential",
        Adam::new(0.02),
        16,
        Order::Sequential,
        20,
    );
}

#[test]
fn minibatches_with_replacement() {
    reaches_95(
        "Adam with replacement",
        Adam::new(0.02),
        16,
        Order::WithReplacement,
        20,
    );
}

#[test]
fn the_data_is_standardized() {
    let (x, y) = iris();
    for c in 0..4 {
        let col: Vec<f64> = x.iter().skip(c).step_by(4).map(|v| f64::from(*v)).collect();
        let mean = col.iter().sum::<f64>() / 150.0;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 150.0;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-5,
            "column {c}: {mean}, {var}"
        );
    }
    assert_eq!(y.iter().filter(|c| **c == 2).count(), 50);
}

#[test]
fn an_untrained_model_is_not_already_at_95() {
    // Zero epochs of training: the accuracy is far from the target, so the tests above
    // measure learning.
    let (x, y) = iris();
    let data = Dataset::new(&x, 4, Targets::Classes(&y)).expect("150 rows");
    let (mut params, mut grads, mut acts) = (vec![0.0; 67], vec![0.0; 67], vec![0.0; 22]);
    let buffers = Buffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut [],
        acts: &mut acts,
        frozen: &[],
    };
    let mut t = Trainer::new(&LAYERS, buffers, Sgd::new(0.1), Loss::SoftmaxCrossEntropy).expect("valid");
    t.init_params(7);
    let m = evaluate(&mut t, &data).expect("good data");
    assert!(m.accuracy < 0.8, "untrained accuracy {}", m.accuracy);
}
