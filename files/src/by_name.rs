//! Optimizers, schedules, losses and activations from their names and hyperparameters
//! (PyTorch's names; absent keys take PyTorch's defaults), as the conformance format and
//! the command line spell them.

use microtrain::{Activation, AnyOptimizer, Config, Hyper, Loss, Optimizer, Schedule};
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

/// The JSON object at `path`: its `name`, and a reader of its other fields.
fn named_object<'a>(v: &'a Value, path: &'a str) -> Result<(&'a str, Fields<'a>), String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object"))?;
    let name = name_of(map, path)?;
    Ok((
        name,
        Fields {
            map,
            path,
            used: Vec::new(),
        },
    ))
}

/// The optimizers' names (the core's registry), in the order the course presents them.
pub fn optimizer_names() -> Vec<&'static str> {
    microtrain::optim::OPTIMIZERS.iter().map(|r| r.name).collect()
}

/// The optimizer `name` of the core's registry with PyTorch's defaults, each
/// hyperparameter replaced by `given(name, default)` where that returns a value, then
/// validated. Errors of its own go through `error(hyperparameter, message)`; an
/// unknown optimizer is `error("name", ...)`.
pub fn build_optimizer<E>(
    name: &str,
    mut given: impl FnMut(&'static str, Hyper) -> Result<Option<Hyper>, E>,
    error: impl Fn(&str, String) -> E,
) -> Result<AnyOptimizer, E> {
    let mut opt = AnyOptimizer::from_name(name).ok_or_else(|| {
        error(
            "name",
            format!(
                "unknown optimizer {name:?} (known: {})",
                optimizer_names().join(", ")
            ),
        )
    })?;
    let names = opt.hyperparameter_names();
    for (i, key) in names.iter().enumerate() {
        let Some(default) = opt.hyperparameter(i) else {
            break;
        };
        if let Some(v) = given(key, default)? {
            opt.set_hyperparameter(key, v)
                .map_err(|e| error(key, e.to_string()))?;
        }
    }
    opt.validate().map_err(|e| error(e.name, e.to_string()))?;
    Ok(opt)
}

/// An optimizer from a JSON object `{"name": ..., hyperparameters...}` at `path`: the
/// registry's hyperparameters, PyTorch's names; absent ones take PyTorch's defaults,
/// an unknown key is an error.
pub fn optimizer(v: &Value, path: &str) -> Result<AnyOptimizer, String> {
    let (name, mut f) = named_object(v, path)?;
    let map = f.map;
    let opt = build_optimizer(
        name,
        |key, default| {
            Ok(match default {
                Hyper::Number(d) if map.contains_key(key) => Some(Hyper::Number(f.f32(key, d)?)),
                Hyper::Switch(d) if map.contains_key(key) => Some(Hyper::Switch(f.bool(key, d)?)),
                _ => {
                    f.used.push(key);
                    None
                }
            })
        },
        |key, e| format!("{path}.{key}: {e}"),
    )?;
    f.finish()?;
    Ok(opt)
}

/// A schedule from a JSON object `{"name": ..., parameters...}` at `path`.
pub fn schedule(v: &Value, path: &str) -> Result<Schedule, String> {
    let (name, mut f) = named_object(v, path)?;
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
        let known: Vec<&str> = Loss::ALL.iter().map(|l| l.name()).collect();
        format!("{path}: unknown loss {name:?} (known: {})", known.join(", "))
    })
}

/// An activation from its name, `NAME` or, for one with a parameter, `NAME=VALUE`:
/// `relu`, `leaky_relu` (PyTorch's default `negative_slope` 0.01),
/// `leaky_relu=0.2`, `elu` (`alpha` 1.0), `elu=0.5`, `softsign`. The value is read
/// as an `f32` and checked ([`Activation::check`]).
pub fn activation(name: &str, path: &str) -> Result<Activation, String> {
    let (kind, value) = match name.split_once('=') {
        Some((k, v)) => (k.trim(), Some(v.trim())),
        None => (name, None),
    };
    let act = Activation::from_name(kind).ok_or_else(|| {
        let known: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
        format!(
            "{path}: unknown activation {name:?} (known: {}; leaky_relu and elu take =VALUE)",
            known.join(", ")
        )
    })?;
    let Some(value) = value else {
        return Ok(act);
    };
    let Some(param) = act.param_name() else {
        return Err(format!("{path}: {kind} takes no parameter (got {name:?})"));
    };
    let v: f32 = value
        .parse()
        .map_err(|_| format!("{path}: {kind}'s {param} {value:?} is not a number"))?;
    let act = act.with_param(v);
    act.check().map_err(|e| format!("{path}: {kind}: {e}"))?;
    Ok(act)
}

/// An activation's name as [`activation`] reads it: `NAME`, or `NAME=VALUE` for one
/// with a parameter (always written out, as the shortest decimal that reads back to
/// the same `f32`).
pub fn activation_name(a: Activation) -> String {
    match a.param() {
        Some(v) => format!("{}={v}", a.name()),
        None => a.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_read_with_and_without_their_parameter() {
        assert_eq!(activation("leaky_relu", "x"), Ok(Activation::leaky_relu(0.01)));
        assert_eq!(activation("leaky_relu=0.2", "x"), Ok(Activation::leaky_relu(0.2)));
        assert_eq!(activation("elu", "x"), Ok(Activation::elu(1.0)));
        assert_eq!(activation("elu=0.5", "x"), Ok(Activation::elu(0.5)));
        assert_eq!(activation("softsign", "x"), Ok(Activation::Softsign));
        let e = activation("relu=0.1", "--layers").unwrap_err();
        assert!(e.contains("--layers") && e.contains("no parameter"), "{e}");
        let e = activation("elu=-1", "--activation").unwrap_err();
        assert!(e.contains("alpha") && e.contains(">= 0"), "{e}");
        let e = activation("leaky_relu=abc", "x").unwrap_err();
        assert!(e.contains("negative_slope") && e.contains("not a number"), "{e}");
        assert!(activation("swish", "x")
            .unwrap_err()
            .contains("unknown activation"));
        // Written out and read back to the same bits.
        for a in [
            Activation::leaky_relu(0.1),
            Activation::elu(1.7),
            Activation::Softsign,
            Activation::Tanh,
        ] {
            assert_eq!(activation(&activation_name(a), "x"), Ok(a));
        }
        assert_eq!(activation_name(Activation::LEAKY_RELU), "leaky_relu=0.01");
    }
}
