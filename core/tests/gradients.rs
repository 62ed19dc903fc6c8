//! The gradient the [`Trainer`] computes by backpropagation against central finite
//! differences of the batch loss, for random shapes (1-3 layers, widths 1-6), random
//! activations, every loss, random parameters, inputs, targets and batch sizes 1-4.
//!
//! Method: a step of plain SGD with `lr = 0` leaves the parameters as they were and
//! leaves the batch's gradient in [`Trainer::grads`]. The reference is
//! `D(h) = (L(p + h e_i) - L(p - h e_i)) / 2h`, where `L` is the mean over the batch of
//! [`Trainer::sample_loss`] (each computed in `f32`, summed in `f64`), extrapolated
//! from `h = 1e-2` and `h / 2` as `(4 D(h/2) - D(h)) / 3` (Richardson), which cancels
//! the `h^2 f''' / 6` truncation term: without it, a strongly curved tanh output made
//! the reference itself miss by more than the tolerance (a case proptest found).
//! A gradient matches when `|g - fd| <= 2e-4 + 5e-3 * max(|g|, |fd|)`: the reference's
//! own error is a few `1e-5` here (rounding `~1e-7 L / h`, truncation `O(h^4)`), while
//! a wrong factor (a missing `1/B`, `2`, `1/K`, an activation derivative) is off by
//! far more.
//!
//! ReLU, LeakyReLU and ELU (alpha != 1) are not differentiable at 0, and ELU (alpha = 1)
//! and softsign not twice (which the extrapolation below assumes): a case where some
//! such pre-activation changes sign
//! (or is within 1e-4 of 0) between `p - h e_i` and `p + h e_i` for some `i` is
//! rejected, as is a binary cross-entropy case whose sigmoid output saturates (`|z| > 8`,
//! where `log(1 - p)` has too few digits left in `f32`). The pre-activations for these
//! checks come from an `f64` forward pass written here. Parameters are drawn by
//! [`Trainer::init_params`] (uniform in `+-1/sqrt(inputs)`), inputs in `[-2, 2)`.

use microtrain::{Activation, Dataset, Dense, Loss, Rng, Sgd, Targets, Trainer};
use proptest::prelude::*;

const H: f32 = 1e-2;

/// One randomly drawn gradient check.
#[derive(Debug, Clone)]
struct Case {
    layers: Vec<Dense>,
    loss: Loss,
    batch: usize,
    /// Softmax cross-entropy only: targets as class labels rather than one-hot rows.
    labels: bool,
    seed: u64,
}

enum Outcome {
    /// Every gradient matched; this many were compared.
    Checked(usize),
    /// A ReLU kink or a saturated sigmoid was too close: no verdict.
    Rejected(&'static str),
}

fn act_f64(a: Activation, z: f64) -> f64 {
    match a {
        Activation::Identity => z,
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Tanh => z.tanh(),
        Activation::Relu => z.max(0.0),
        Activation::LeakyRelu(s) => {
            if z > 0.0 {
                z
            } else {
                f64::from(s.get()) * z
            }
        }
        Activation::Elu(alpha) => {
            if z > 0.0 {
                z
            } else {
                f64::from(alpha.get()) * z.exp_m1()
            }
        }
        Activation::Softsign => z / (1.0 + z.abs()),
    }
}

/// Every pre-activation of every layer for input `x`, in `f64`.
fn pre_activations(layers: &[Dense], params: &[f32], x: &[f32]) -> Vec<f64> {
    let mut zs = Vec::new();
    let mut input: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
    let mut off = 0;
    for l in layers {
        let w = &params[off..off + l.weights_len()];
        let b = &params[off + l.weights_len()..off + l.params_len()];
        off += l.params_len();
        let z: Vec<f64> = (0..l.outputs)
            .map(|r| {
                let row = &w[r * l.inputs..(r + 1) * l.inputs];
                row.iter()
                    .zip(&input)
                    .map(|(w, x)| f64::from(*w) * x)
                    .sum::<f64>()
                    + f64::from(b[r])
            })
            .collect();
        input = z.iter().map(|z| act_f64(l.activation, *z)).collect();
        zs.extend_from_slice(&z);
    }
    zs
}

/// The activation of each entry of [`pre_activations`].
fn activations_of(layers: &[Dense]) -> Vec<Activation> {
    layers
        .iter()
        .flat_map(|l| std::iter::repeat_n(l.activation, l.outputs))
        .collect()
}

/// Data for a case: inputs in `[-2, 2)`, targets as the loss needs them.
fn data(case: &Case, rng: &mut Rng) -> (Vec<f32>, Vec<f32>, Vec<u16>) {
    let inputs = case.layers[0].inputs;
    let outputs = case.layers.last().map_or(0, |l| l.outputs);
    let xs: Vec<f32> = (0..case.batch * inputs).map(|_| rng.symmetric(2.0)).collect();
    let mut ys = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..case.batch {
        match case.loss {
            Loss::Mse => ys.extend((0..outputs).map(|_| rng.symmetric(1.5))),
            Loss::BinaryCrossEntropy => ys.extend((0..outputs).map(|_| rng.unit_f32())),
            Loss::SoftmaxCrossEntropy => {
                let c = rng.below(outputs as u32) as usize;
                labels.push(c as u16);
                ys.extend((0..outputs).map(|k| if k == c { 1.0 } else { 0.0 }));
            }
        }
    }
    (xs, ys, labels)
}

/// How far a gradient may be from its finite difference.
fn tolerance(fd: f64, g: f64) -> f64 {
    2e-4 + 5e-3 * fd.abs().max(g.abs())
}

/// Runs one case; `Err` describes a gradient that does not match.
fn check(case: &Case) -> Result<Outcome, String> {
    let layers = &case.layers;
    let p = microtrain::shape::params_len(layers);
    let a = microtrain::shape::activations_len(layers);
    let (mut params, mut grads, mut acts) = (vec![0.0; p], vec![0.0; p], vec![0.0; a]);
    let buffers = microtrain::Buffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut [],
        acts: &mut acts,
        frozen: &[],
    };
    let mut t = Trainer::new(layers, buffers, Sgd::new(0.0), case.loss).map_err(|e| e.to_string())?;
    t.init_params(case.seed);
    let mut rng = Rng::new(case.seed ^ 0x5eed);
    let (xs, ys, labels) = data(case, &mut rng);
    let inputs = layers[0].inputs;
    let outputs = t.outputs();
    let targets = if case.loss == Loss::SoftmaxCrossEntropy && case.labels {
        Targets::Classes(&labels)
    } else {
        Targets::Values {
            y: &ys,
            width: outputs,
        }
    };
    let set = Dataset::new(&xs, inputs, targets).ok_or("dataset")?;
    let p0 = t.params().to_vec();

    // Reject kinks and saturated sigmoid outputs before looking at any gradient.
    let acts_of = activations_of(layers);
    for i in 0..p {
        for sign in [-1.0f32, 0.0, 1.0] {
            let mut q = p0.clone();
            q[i] += sign * H;
            for r in 0..case.batch {
                let zs = pre_activations(layers, &q, &xs[r * inputs..(r + 1) * inputs]);
                let zs0 = pre_activations(layers, &p0, &xs[r * inputs..(r + 1) * inputs]);
                for ((z, z0), act) in zs.iter().zip(&zs0).zip(&acts_of) {
                    let kinked = matches!(
                        act,
                        Activation::Relu
                            | Activation::LeakyRelu(_)
                            | Activation::Elu(_)
                            | Activation::Softsign
                    );
                    if kinked && (z.abs() < 1e-4 || (z > &0.0) != (z0 > &0.0)) {
                        return Ok(Outcome::Rejected("relu, leaky_relu, elu or softsign kink"));
                    }
                }
                let last = &zs[zs.len() - outputs..];
                if case.loss == Loss::BinaryCrossEntropy && last.iter().any(|z| z.abs() > 8.0) {
                    return Ok(Outcome::Rejected("saturated sigmoid"));
                }
            }
        }
    }

    t.train_batch(&set).map_err(|e| format!("step rejected: {e}"))?;
    if t.params() != p0.as_slice() {
        return Err("lr = 0 changed the parameters".into());
    }
    let g = t.grads().to_vec();

    let batch_loss = |t: &mut Trainer<'_, Sgd>, q: &[f32]| -> Result<f64, String> {
        t.load_params(q).map_err(|e| e.to_string())?;
        let mut s = 0.0f64;
        for r in 0..case.batch {
            let (x, target) = set.row(r).map_err(|e| e.to_string())?;
            s += f64::from(t.sample_loss(x, &target).map_err(|e| e.to_string())?);
        }
        Ok(s / case.batch as f64)
    };
    for i in 0..p {
        // The central difference at steps `h` and `h / 2`, each with the step actually
        // taken (as the f32 sums rounded it), then Richardson's extrapolation, which
        // cancels the `h^2` truncation term: a strongly curved tanh or sigmoid would
        // otherwise make the reference itself miss by more than the tolerance.
        let mut central = |h: f32| -> Result<f64, String> {
            let mut q = p0.clone();
            q[i] = p0[i] + h;
            let up = batch_loss(&mut t, &q)?;
            q[i] = p0[i] - h;
            let down = batch_loss(&mut t, &q)?;
            Ok((up - down) / (f64::from(p0[i] + h) - f64::from(p0[i] - h)))
        };
        let (wide, narrow) = (central(H)?, central(H / 2.0)?);
        let fd = (4.0 * narrow - wide) / 3.0;
        let gi = f64::from(g[i]);
        let tol = tolerance(fd, gi);
        if (gi - fd).abs() > tol {
            return Err(format!(
                "{case:?}: gradient {i} is {gi}, finite differences give {fd} (tolerance {tol:.2e})"
            ));
        }
    }
    Ok(Outcome::Checked(p))
}

/// The last layer's activation: what the loss needs, or `free` for MSE.
fn last_activation(loss: Loss, free: Activation) -> Activation {
    loss.required_activation().unwrap_or(free)
}

fn shape(widths: &[usize], hidden: &[Activation], loss: Loss, last_free: Activation) -> Vec<Dense> {
    let n = widths.len() - 1;
    (0..n)
        .map(|i| {
            let act = if i + 1 == n {
                last_activation(loss, last_free)
            } else {
                hidden[i % hidden.len()]
            };
            Dense::new(widths[i], widths[i + 1], act)
        })
        .collect()
}

/// Every activation, and LeakyReLU and ELU also with parameters other than PyTorch's
/// defaults (a slope that makes the negative side visible, an ELU with a kink at 0).
fn some_activations() -> Vec<Activation> {
    let mut v = Activation::ALL.to_vec();
    v.extend([
        Activation::leaky_relu(0.3),
        Activation::elu(0.5),
        Activation::elu(2.0),
    ]);
    v
}

fn any_activation() -> impl Strategy<Value = Activation> {
    prop::sample::select(some_activations())
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(1usize..=6, 2..=4),
        prop::collection::vec(any_activation(), 2),
        any_activation(),
        prop::sample::select(Loss::ALL.to_vec()),
        1usize..=4,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(mut widths, hidden, last, loss, batch, labels, seed)| {
            if loss == Loss::SoftmaxCrossEntropy {
                // One class makes the loss identically 0: use at least two.
                let n = widths.len();
                widths[n - 1] = widths[n - 1].max(2);
            }
            Case {
                layers: shape(&widths, &hidden, loss, last),
                loss,
                batch,
                labels,
                seed,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_global_rejects: 4096, ..ProptestConfig::default() })]

    #[test]
    fn backprop_matches_finite_differences(case in any_case()) {
        match check(&case) {
            Ok(Outcome::Checked(n)) => prop_assert!(n > 0),
            Ok(Outcome::Rejected(why)) => prop_assume!(false, "{}", why),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}

/// Every loss with every allowed last activation and every hidden activation, each
/// checked on several seeds (so no combination is left to chance).
#[test]
fn every_activation_and_loss_is_covered() {
    for loss in Loss::ALL {
        for hidden in some_activations() {
            for last in some_activations() {
                if loss.required_activation().is_some_and(|r| r != last) {
                    continue;
                }
                let mut checked = 0;
                for seed in 0..40u64 {
                    let batch = 1 + (seed % 4) as usize;
                    let widths = [3, 5, 4, 3];
                    let case = Case {
                        layers: shape(&widths[..2 + (seed % 3) as usize], &[hidden], loss, last),
                        loss,
                        batch,
                        labels: seed % 2 == 0,
                        seed,
                    };
                    match check(&case) {
                        Ok(Outcome::Checked(_)) => checked += 1,
                        Ok(Outcome::Rejected(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                    if checked == 6 {
                        break;
                    }
                }
                assert_eq!(
                    checked, 6,
                    "{loss:?} hidden {hidden:?} last {last:?}: too many rejected"
                );
            }
        }
    }
}

/// The check itself can fail: a gradient 10 % too large is caught.
#[test]
fn the_tolerance_catches_a_wrong_gradient() {
    let layers = shape(&[3, 4, 2], &[Activation::Tanh], Loss::Mse, Activation::Sigmoid);
    let p = microtrain::shape::params_len(&layers);
    let a = microtrain::shape::activations_len(&layers);
    let (mut params, mut grads, mut acts) = (vec![0.0; p], vec![0.0; p], vec![0.0; a]);
    let buffers = microtrain::Buffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut [],
        acts: &mut acts,
        frozen: &[],
    };
    let mut t = Trainer::new(&layers, buffers, Sgd::new(0.0), Loss::Mse).expect("valid");
    t.init_params(3);
    let x = [0.5, -1.0, 1.5];
    let y = [0.9, 0.1];
    t.train_sample(&x, microtrain::Target::Values(&y))
        .expect("finite");
    let g = t.grads().to_vec();
    let p0 = t.params().to_vec();
    let mut worst_scaled = 0.0f64;
    for i in 0..p {
        let mut q = p0.clone();
        q[i] += H;
        t.load_params(&q).expect("finite");
        let up = f64::from(t.sample_loss(&x, &microtrain::Target::Values(&y)).expect("ok"));
        q[i] = p0[i] - H;
        t.load_params(&q).expect("finite");
        let down = f64::from(t.sample_loss(&x, &microtrain::Target::Values(&y)).expect("ok"));
        let fd = (up - down) / (2.0 * f64::from(H));
        let wrong = 1.1 * f64::from(g[i]);
        let tol = tolerance(fd, wrong);
        worst_scaled = worst_scaled.max((wrong - fd).abs() / tol);
    }
    assert!(
        worst_scaled > 1.0,
        "a 10 % error went unnoticed (worst ratio {worst_scaled})"
    );
}
