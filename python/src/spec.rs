//! Shapes, losses and optimizers from their names, spelt as the simulator spells them
//! (`--layers 16:relu,3:identity` or `conv1d:8:5:1:none:relu,gap,3:identity`, `--loss`, `--optimizer adam --lr 0.02`): the core's
//! registry names, PyTorch's hyperparameter names and defaults.

use microtrain::{Activation, AnyOptimizer, Config, Dense, Hyper, Loss, Optimizer, Schedule};

/// A hyperparameter value given by name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given {
    /// A number (`lr=0.02`, `beta1=0.9`).
    Number(f64),
    /// A switch (`nesterov=True`).
    Switch(bool),
}

/// The layers of `spec` as the simulator's `--layers` spells them (the same parser,
/// [`microtrain_files::by_name::layers`]): `OUTPUTS:ACTIVATION` for a dense layer,
/// `conv1d:OUT:KERNEL:STRIDE:none|same:ACTIVATION`, `maxpool:K[:S]`, `avgpool:K[:S]`,
/// `gap` and `flatten` for sequence layers, separated by commas; the first takes
/// `inputs` inputs of `input_channels` channels (`[channels][length]` per row). The
/// shape is checked by the core; errors name the layer.
pub fn layers(inputs: usize, input_channels: usize, spec: &str) -> Result<Vec<Dense>, String> {
    microtrain_files::by_name::layers(inputs, input_channels, spec, "layers")
}

/// An activation from its name (the simulator's parser, `microtrain-files`).
pub fn activation(name: &str, what: &str) -> Result<Activation, String> {
    microtrain_files::by_name::activation(name, what)
}

/// A loss from its name.
pub fn loss(name: &str) -> Result<Loss, String> {
    microtrain_files::by_name::loss(name, "loss")
}

/// The optimizer `name` of the core's registry with PyTorch's defaults, each
/// hyperparameter in `given` set by name, then validated. An unknown name or a
/// hyperparameter the optimizer does not have is an error naming it.
pub fn optimizer(name: &str, given: &[(String, Given)]) -> Result<AnyOptimizer, String> {
    let mut opt = AnyOptimizer::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = microtrain::optim::OPTIMIZERS.iter().map(|r| r.name).collect();
        format!(
            "optimizer: unknown optimizer {name:?} (known: {})",
            known.join(", ")
        )
    })?;
    for (key, value) in given {
        let v = match *value {
            Given::Number(x) => Hyper::Number(x as f32),
            Given::Switch(b) => Hyper::Switch(b),
        };
        opt.set_hyperparameter(key, v).map_err(|e| {
            format!(
                "{key}: {e} of optimizer {name} (its hyperparameters: {})",
                opt.hyperparameter_names().join(", ")
            )
        })?;
    }
    opt.validate().map_err(|e| format!("{}: {e}", e.name))?;
    Ok(opt)
}

/// A learning-rate schedule spelt as the simulator's `--schedule`: `constant`,
/// `exponential:gamma=G`, `step:step_size=N,gamma=G` or `inverse_time:decay=D`.
pub fn schedule(text: &str) -> Result<Schedule, String> {
    let (name, rest) = text.split_once(':').unwrap_or((text, ""));
    let mut gamma = None;
    let mut step_size = None;
    let mut decay = None;
    for kv in rest.split(',').map(str::trim).filter(|kv| !kv.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("schedule: {kv:?} is not key=value"))?;
        let bad = || format!("schedule: {k}={v}: {v:?} is not a number");
        match k {
            "gamma" => gamma = Some(v.parse::<f32>().map_err(|_| bad())?),
            "decay" => decay = Some(v.parse::<f32>().map_err(|_| bad())?),
            "step_size" => step_size = Some(v.parse::<u32>().map_err(|_| bad())?),
            _ => {
                return Err(format!(
                    "schedule: unknown key {k:?} (known: gamma, step_size, decay)"
                ))
            }
        }
    }
    let need = |v: Option<f32>, k: &str| v.ok_or_else(|| format!("schedule {name}: {k}= missing"));
    let s = match name.trim() {
        "constant" => Schedule::Constant,
        "exponential" => Schedule::Exponential {
            gamma: need(gamma, "gamma")?,
        },
        "step" => Schedule::Step {
            step_size: step_size.ok_or_else(|| format!("schedule {name}: step_size= missing"))?,
            gamma: need(gamma, "gamma")?,
        },
        "inverse_time" => Schedule::InverseTime {
            decay: need(decay, "decay")?,
        },
        other => {
            return Err(format!(
                "schedule: unknown schedule {other:?} (known: constant, exponential, step, inverse_time)"
            ))
        }
    };
    s.validate().map_err(|e| format!("schedule: {e}"))?;
    Ok(s)
}

/// The hyperparameters of `opt`, by name, in the registry's order.
pub fn hyperparameters(opt: &AnyOptimizer) -> Vec<(&'static str, Given)> {
    opt.hyperparameter_names()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            opt.hyperparameter(i).map(|h| {
                (
                    *n,
                    match h {
                        Hyper::Number(x) => Given::Number(f64::from(x)),
                        Hyper::Switch(b) => Given::Switch(b),
                    },
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_simulators_spelling() {
        let l = layers(9, 1, "16:relu, 3:identity").unwrap();
        assert_eq!(l, microtrain_stream::model::LAYERS.to_vec());
        let cnn = layers(24, 3, "conv1d:4:3:1:none:relu,maxpool:2,gap,2:identity").unwrap();
        assert_eq!(cnn.len(), 4);
        assert!(!cnn[0].is_dense() && cnn[3].is_dense());
        assert_eq!((cnn[0].outputs, cnn[1].outputs, cnn[2].outputs), (24, 12, 4));
        let o = optimizer("adam", &[("lr".into(), Given::Number(0.02))]).unwrap();
        assert_eq!(o, AnyOptimizer::from(microtrain_stream::model::OPTIMIZER));
        assert_eq!(loss("softmax_cross_entropy").unwrap(), Loss::SoftmaxCrossEntropy);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert!(layers(9, 1, "16:swish")
            .unwrap_err()
            .contains("layer 1: unknown activation \"swish\""));
        assert!(layers(9, 1, "16").unwrap_err().contains("OUTPUTS:ACTIVATION"));
        assert!(layers(9, 1, "x:relu")
            .unwrap_err()
            .contains("\"x\" is not a layer size"));
        let e = layers(24, 3, "conv1d:4:9:1:none:relu,gap,2:identity").unwrap_err();
        assert!(e.starts_with("layers: layer 1: ") && e.contains("kernel"), "{e}");
        assert!(optimizer("adamx", &[])
            .unwrap_err()
            .contains("unknown optimizer \"adamx\""));
        let e = optimizer("sgd", &[("beta1".into(), Given::Number(0.9))]).unwrap_err();
        assert!(e.starts_with("beta1: no such hyperparameter"), "{e}");
        let e = optimizer("adam", &[("lr".into(), Given::Number(-1.0))]).unwrap_err();
        assert!(e.starts_with("lr: "), "{e}");
        assert!(loss("hinge").unwrap_err().contains("unknown loss \"hinge\""));
        assert_eq!(
            schedule("step:step_size=10,gamma=0.5").unwrap(),
            Schedule::Step {
                step_size: 10,
                gamma: 0.5
            }
        );
        assert_eq!(schedule("constant").unwrap(), Schedule::Constant);
        assert!(schedule("cosine")
            .unwrap_err()
            .contains("unknown schedule \"cosine\""));
        assert!(schedule("exponential").unwrap_err().contains("gamma= missing"));
        assert!(schedule("exponential:gamma=x")
            .unwrap_err()
            .contains("is not a number"));
        assert!(schedule("exponential:gamma=-1")
            .unwrap_err()
            .starts_with("schedule: "));
    }
}
