//! The optimizer and schedule options of `train` and `memory` (and the optimizer of
//! `compare`'s learning-rate sweep), turned into core configs through [`crate::by_name`]
//! and the core's optimizer registry, so names, defaults and validation live in one
//! place (PyTorch's names and defaults).

use crate::by_name;
use microtrain::{AnyOptimizer, Hyper, Schedule};
use serde_json::{Map, Value};

/// Names accepted by `--optimizer`, from the core's registry: every optimizer's name,
/// with `momentum` and `nesterov` after `sgd` (SGD with (Nesterov) momentum 0.9 unless
/// `--momentum` says otherwise).
pub fn names() -> String {
    let mut names = Vec::new();
    for r in microtrain::optim::OPTIMIZERS {
        names.push(r.name);
        if r.name == "sgd" {
            names.extend(["momentum", "nesterov"]);
        }
    }
    names.join(", ")
}

/// The help of `--optimizer`.
fn optimizer_help() -> String {
    format!(
        "Optimizer: {} (momentum: SGD with momentum 0.9; nesterov: SGD with Nesterov momentum 0.9)",
        names()
    )
}

/// Optimizer and hyperparameters (PyTorch's names; unset ones take PyTorch's defaults).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OptimizerArgs {
    /// Optimizer, by its name in the core's registry (see `names`).
    #[arg(long, default_value = "adam", help = optimizer_help())]
    pub optimizer: String,
    /// Learning rate (default: the optimizer's; PyTorch's where it has one, 0.01 for SGD).
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f32>,
    /// SGD / RMSprop momentum factor.
    #[arg(long, allow_hyphen_values = true)]
    pub momentum: Option<f32>,
    /// SGD dampening.
    #[arg(long, allow_hyphen_values = true)]
    pub dampening: Option<f32>,
    /// SGD: use Nesterov momentum.
    #[arg(long)]
    pub nesterov: bool,
    /// Weight decay (L2 penalty; decoupled for AdamW).
    #[arg(long, allow_hyphen_values = true)]
    pub weight_decay: Option<f32>,
    /// Adam / AdamW / RAdam: decay of the first moment, in [0, 1).
    #[arg(long, allow_hyphen_values = true)]
    pub beta1: Option<f32>,
    /// Adam / AdamW / RAdam: decay of the second moment, in [0, 1).
    #[arg(long, allow_hyphen_values = true)]
    pub beta2: Option<f32>,
    /// Term added to denominators for numerical stability.
    #[arg(long, allow_hyphen_values = true)]
    pub eps: Option<f32>,
    /// Adam / AdamW: use the AMSGrad variant.
    #[arg(long)]
    pub amsgrad: bool,
    /// RMSprop: smoothing constant.
    #[arg(long, allow_hyphen_values = true)]
    pub alpha: Option<f32>,
    /// RMSprop: centered variant (normalizes by the estimated variance).
    #[arg(long)]
    pub centered: bool,
    /// Adadelta: decay of the running averages.
    #[arg(long, allow_hyphen_values = true)]
    pub rho: Option<f32>,
    /// Adagrad: learning-rate decay.
    #[arg(long, allow_hyphen_values = true)]
    pub lr_decay: Option<f32>,
    /// Adagrad: initial value of the accumulator.
    #[arg(long, allow_hyphen_values = true)]
    pub initial_accumulator_value: Option<f32>,
}

impl OptimizerArgs {
    /// The optimizer, validated; errors name the option (`--beta1: ...`).
    pub fn build(&self) -> Result<AnyOptimizer, String> {
        let (name, momentum, nesterov) = match self.optimizer.as_str() {
            "momentum" => ("sgd", Some(self.momentum.unwrap_or(0.9)), self.nesterov),
            "nesterov" => ("sgd", Some(self.momentum.unwrap_or(0.9)), true),
            other => (other, self.momentum, self.nesterov),
        };
        // The options given, by hyperparameter name; each must be taken by the optimizer.
        let numbers = [
            ("lr", self.lr),
            ("momentum", momentum),
            ("dampening", self.dampening),
            ("weight_decay", self.weight_decay),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("eps", self.eps),
            ("alpha", self.alpha),
            ("rho", self.rho),
            ("lr_decay", self.lr_decay),
            ("initial_accumulator_value", self.initial_accumulator_value),
        ];
        let switches = [
            ("nesterov", nesterov),
            ("amsgrad", self.amsgrad),
            ("centered", self.centered),
        ];
        let flag = |key: &str| format!("--{}", key.replace('_', "-"));
        let mut given: Vec<(&str, Hyper)> = Vec::new();
        for (k, v) in numbers {
            match v {
                Some(v) if !v.is_finite() => return Err(format!("{}: {v} is not a finite number", flag(k))),
                Some(v) => given.push((k, Hyper::Number(v))),
                None => {}
            }
        }
        given.extend(
            switches
                .iter()
                .filter(|(_, on)| *on)
                .map(|(k, _)| (*k, Hyper::Switch(true))),
        );
        let opt = by_name::build_optimizer(
            name,
            |key, _| {
                Ok(given
                    .iter()
                    .position(|(k, _)| *k == key)
                    .map(|i| given.remove(i).1))
            },
            |key, e| match key {
                "name" => format!(
                    "--optimizer: unknown optimizer {:?} (known: {})",
                    self.optimizer,
                    names()
                ),
                _ => format!("{}: {e}", flag(key)),
            },
        )?;
        match given.first() {
            Some((k, _)) => Err(format!("{}: not a hyperparameter of {}", flag(k), self.optimizer)),
            None => Ok(opt),
        }
    }
}

/// Parses `--schedule`: `constant`, `exponential:gamma=G`, `step:step_size=N,gamma=G` or
/// `inverse_time:decay=D` (the learning rate at optimizer step t, counted across epochs).
pub fn schedule(text: &str) -> Result<Schedule, String> {
    let (name, params) = text.split_once(':').unwrap_or((text, ""));
    let mut m = Map::new();
    m.insert("name".into(), name.trim().into());
    for kv in params.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--schedule: {kv:?} is not key=value"))?;
        let value = if let Ok(u) = v.trim().parse::<u64>() {
            Value::from(u)
        } else {
            let f: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("--schedule: {k}={v}: {v:?} is not a number"))?;
            Value::from(f)
        };
        m.insert(k.trim().into(), value);
    }
    by_name::schedule(&Value::Object(m), "@")
        .map_err(|e| e.replace("@.", "--schedule ").replace('@', "--schedule"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(name: &str) -> OptimizerArgs {
        OptimizerArgs {
            optimizer: name.into(),
            ..Default::default()
        }
    }

    /// Every optimizer of the core's registry is an `--optimizer` name, listed in the
    /// help, and builds with its defaults.
    #[test]
    fn every_registered_optimizer_is_a_name() {
        let listed = names();
        for r in microtrain::optim::OPTIMIZERS {
            assert!(
                listed.split(", ").any(|n| n == r.name),
                "{} not in {listed}",
                r.name
            );
            let opt = args(r.name).build().unwrap_or_else(|e| panic!("{}: {e}", r.name));
            assert_eq!(microtrain::Config::name(&opt), r.name);
        }
    }

    #[test]
    fn errors_name_the_option() {
        let mut a = args("adam");
        a.beta1 = Some(1.0);
        let e = a.build().unwrap_err();
        assert!(e.starts_with("--beta1: "), "{e}");
        let mut a = args("adam");
        a.lr = Some(-0.1);
        assert!(a.build().unwrap_err().starts_with("--lr: "));
        let mut a = args("adam");
        a.momentum = Some(0.9);
        assert!(a.build().unwrap_err().contains("not a hyperparameter of adam"));
        assert!(args("adamm")
            .build()
            .unwrap_err()
            .contains("unknown optimizer \"adamm\""));
        assert!(
            matches!(args("nesterov").build(), Ok(AnyOptimizer::Sgd(s)) if s.nesterov && s.momentum == 0.9)
        );
    }

    #[test]
    fn schedules() {
        assert_eq!(schedule("constant"), Ok(Schedule::Constant));
        assert_eq!(
            schedule("step:step_size=10,gamma=0.5"),
            Ok(Schedule::Step {
                step_size: 10,
                gamma: 0.5
            })
        );
        assert!(schedule("exponential:gamma=-1").is_err());
        assert!(schedule("cosine").unwrap_err().contains("unknown schedule"));
    }
}
