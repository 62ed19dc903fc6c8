//! Optimizers, schedules, losses and activations from their names and hyperparameters
//! (PyTorch's names; absent keys take PyTorch's defaults), as the conformance format and
//! the command line spell them.

use microtrain::{
    Activation, Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, Loss, Optimizer, RAdam, RMSprop, Schedule, Sgd,
};
use serde_json::{Map, Value};

/// Reads typed values out of a JSON object, naming the field on error.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
    used: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    fn f32(&mut self, key: &'static str, default: f32) -> Result<f32, String> {
        self.used.push(key);
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| format!("{}.{key}: expected a number, found {v}", self.path)),
        }
    }

    fn bool(&mut self, key: &'static str, default: bool) -> Result<bool, String> {
        self.used.push(key);
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| format!("{}.{key}: expected true or false, found {v}", self.path)),
        }
    }

    fn u32(&mut self, key: &'static str) -> Result<u32, String> {
        self.used.push(key);
        let v = self
            .map
            .get(key)
            .ok_or_else(|| format!("{}.{key}: missing", self.path))?;
        // An integer, or a number with no fractional part (`10.0`).
        v.as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|x| x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(x))
                    .map(|x| x as u64)
            })
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| format!("{}.{key}: expected a whole number, found {v}", self.path))
    }

    fn required_f32(&mut self, key: &'static str) -> Result<f32, String> {
        if !self.map.contains_key(key) {
            return Err(format!("{}.{key}: missing", self.path));
        }
        self.f32(key, 0.0)
    }

    /// Fails on a key that was never read (a misspelt hyperparameter must not be
    /// silently ignored).
    fn finish(self) -> Result<(), String> {
        for k in self.map.keys() {
            if k != "name" && !self.used.contains(&k.as_str()) {
                return Err(format!(
                    "{}.{k}: unknown key (known: {})",
                    self.path,
                    self.used.join(", ")
                ));
            }
        }
        Ok(())
    }
}

fn name_of<'a>(map: &'a Map<String, Value>, path: &str) -> Result<&'a str, String> {
    map.get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path}.name: missing or not a string"))
}

/// The optimizers' names, in the order the course presents them.
pub const OPTIMIZER_NAMES: [&str; 7] = ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "radam"];

/// An optimizer from a JSON object `{"name": ..., hyperparameters...}` at `path`.
pub fn optimizer(v: &Value, path: &str) -> Result<AnyOptimizer, String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object"))?;
    let name = name_of(map, path)?;
    let mut f = Fields {
        map,
        path,
        used: Vec::new(),
    };
    let opt: AnyOptimizer = match name {
        "sgd" => {
            let d = Sgd::default();
            Sgd {
                lr: f.f32("lr", d.lr)?,
                momentum: f.f32("momentum", d.momentum)?,
                dampening: f.f32("dampening", d.dampening)?,
                nesterov: f.bool("nesterov", d.nesterov)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
            }
            .into()
        }
        "adagrad" => {
            let d = Adagrad::default();
            Adagrad {
                lr: f.f32("lr", d.lr)?,
                lr_decay: f.f32("lr_decay", d.lr_decay)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
                initial_accumulator_value: f.f32("initial_accumulator_value", d.initial_accumulator_value)?,
                eps: f.f32("eps", d.eps)?,
            }
            .into()
        }
        "adadelta" => {
            let d = Adadelta::default();
            Adadelta {
                lr: f.f32("lr", d.lr)?,
                rho: f.f32("rho", d.rho)?,
                eps: f.f32("eps", d.eps)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
            }
            .into()
        }
        "rmsprop" => {
            let d = RMSprop::default();
            RMSprop {
                lr: f.f32("lr", d.lr)?,
                alpha: f.f32("alpha", d.alpha)?,
                eps: f.f32("eps", d.eps)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
                momentum: f.f32("momentum", d.momentum)?,
                centered: f.bool("centered", d.centered)?,
            }
            .into()
        }
        "adam" => {
            let d = Adam::default();
            Adam {
                lr: f.f32("lr", d.lr)?,
                beta1: f.f32("beta1", d.beta1)?,
                beta2: f.f32("beta2", d.beta2)?,
                eps: f.f32("eps", d.eps)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
                amsgrad: f.bool("amsgrad", d.amsgrad)?,
            }
            .into()
        }
        "adamw" => {
            let d = AdamW::default();
            AdamW {
                lr: f.f32("lr", d.lr)?,
                beta1: f.f32("beta1", d.beta1)?,
                beta2: f.f32("beta2", d.beta2)?,
                eps: f.f32("eps", d.eps)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
                amsgrad: f.bool("amsgrad", d.amsgrad)?,
            }
            .into()
        }
        "radam" => {
            let d = RAdam::default();
            RAdam {
                lr: f.f32("lr", d.lr)?,
                beta1: f.f32("beta1", d.beta1)?,
                beta2: f.f32("beta2", d.beta2)?,
                eps: f.f32("eps", d.eps)?,
                weight_decay: f.f32("weight_decay", d.weight_decay)?,
            }
            .into()
        }
        other => {
            return Err(format!(
                "{path}.name: unknown optimizer {other:?} (known: {})",
                OPTIMIZER_NAMES.join(", ")
            ))
        }
    };
    f.finish()?;
    opt.validate().map_err(|e| format!("{path}.{}: {e}", e.name))?;
    Ok(opt)
}

/// A schedule from a JSON object `{"name": ..., parameters...}` at `path`.
pub fn schedule(v: &Value, path: &str) -> Result<Schedule, String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object"))?;
    let name = name_of(map, path)?;
    let mut f = Fields {
        map,
        path,
        used: Vec::new(),
    };
    let s = match name {
        "constant" => Schedule::Constant,
        "exponential" => Schedule::Exponential {
            gamma: f.required_f32("gamma")?,
        },
        "step" => Schedule::Step {
            step_size: f.u32("step_size")?,
            gamma: f.required_f32("gamma")?,
        },
        "inverse_time" => Schedule::InverseTime {
            decay: f.required_f32("decay")?,
        },
        other => {
            return Err(format!(
                "{path}.name: unknown schedule {other:?} (known: constant, exponential, step, inverse_time)"
            ))
        }
    };
    f.finish()?;
    s.validate().map_err(|e| format!("{path}.{}: {e}", e.name))?;
    Ok(s)
}

/// A loss from its name.
pub fn loss(name: &str, path: &str) -> Result<Loss, String> {
    Loss::from_name(name).ok_or_else(|| {
        format!("{path}: unknown loss {name:?} (known: mse, binary_cross_entropy, softmax_cross_entropy)")
    })
}

/// An activation from its name.
pub fn activation(name: &str, path: &str) -> Result<Activation, String> {
    Activation::from_name(name)
        .ok_or_else(|| format!("{path}: unknown activation {name:?} (known: identity, sigmoid, tanh, relu)"))
}
