//! Optimizers, schedules, losses and activations from their names and hyperparameters
//! (PyTorch's names; absent keys take PyTorch's defaults), as the conformance format and
//! the command line spell them, and a model's layers from a `--layers` spec
//! ([`layers`], the one parser of the simulator and the Python package).

use microtrain::{
    Activation, AnyOptimizer, Config, ConfigError, Dense, Hyper, Loss, Optimizer, Padding, Schedule,
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

/// The layers of a spec as the simulator's `--layers` spells it, the first taking
/// `inputs` inputs, separated by commas:
///
/// - `OUTPUTS:ACTIVATION`: a dense layer (the activation as [`activation`] reads it,
///   e.g. `16:relu`, `8:leaky_relu=0.1`);
/// - `conv1d:OUT:KERNEL:STRIDE:none|same:ACTIVATION`: a 1-d convolution to `OUT`
///   channels (`torch.nn.Conv1d`; padding `same` needs stride 1);
/// - `maxpool:KERNEL[:STRIDE]`, `avgpool:KERNEL[:STRIDE]`: pooling per channel (the
///   stride defaults to the kernel, as PyTorch);
/// - `gap`: global average pooling (one value per channel);
/// - `flatten`: the sequence as a flat vector (nothing moves).
///
/// The sequence layers read inputs of `input_channels` channels (`[channels][length]`
/// per row, channel-major as PyTorch's `[N, C, L]` flattened), and only while the data
/// is a sequence: not after a dense layer, `gap` or `flatten`. E.g.
/// `conv1d:8:5:1:none:relu,maxpool:2,conv1d:16:5:1:none:relu,gap,4:identity` with 3
/// input channels. Errors start with `path` and name the layer (`layer 2: ...`,
/// counted from 1); the whole shape is checked by
/// [`validate`](microtrain::shape::validate).
pub fn layers(inputs: usize, input_channels: usize, spec: &str, path: &str) -> Result<Vec<Dense>, String> {
    let mut out = Vec::new();
    let mut prev = inputs;
    // The sequence's channels while the layers keep one (`None` after a dense layer,
    // global average pooling or flatten).
    let mut channels = Some(input_channels.max(1));
    for (i, part) in spec.split(',').enumerate() {
        let at = format!("{path}: layer {}", i + 1);
        let part = part.trim();
        let l = match sequence_layer(part, prev, &mut channels, &at)? {
            Some(l) => l,
            None => {
                let (n, act) = part.split_once(':').ok_or_else(|| {
                    format!("{at}: {part:?} is not OUTPUTS:ACTIVATION or a sequence layer ({SEQUENCE_KINDS})")
                })?;
                let n = layer_size(n, &at).map_err(|e| match n.trim().parse::<usize>() {
                    Ok(_) => e,
                    Err(_) => format!("{e}, nor a sequence layer ({SEQUENCE_KINDS})"),
                })?;
                let act = activation(act.trim(), &at)?;
                channels = None;
                let l = Dense::new(prev, n, act);
                check_layer(&l, &at)?;
                l
            }
        };
        prev = l.outputs;
        out.push(l);
    }
    // What a layer alone cannot show (the model too large to address), its layer
    // counted from 1 as above.
    microtrain::shape::validate(&out).map_err(|e| match layer_of(&e) {
        Some(i) => format!("{path}: layer {}: {}", i + 1, problem(&e)),
        None => format!("{path}: {e}"),
    })?;
    Ok(out)
}

/// The layer a shape error is about (counted from 0), if any.
fn layer_of(e: &ConfigError) -> Option<usize> {
    match *e {
        ConfigError::EmptyLayer { layer }
        | ConfigError::TooLarge { layer }
        | ConfigError::LayerMismatch { layer, .. }
        | ConfigError::LayerKind { layer, .. }
        | ConfigError::ActivationParameter { layer, .. } => Some(layer),
        _ => None,
    }
}

/// A shape error without its layer number.
fn problem(e: &ConfigError) -> String {
    match e {
        ConfigError::EmptyLayer { .. } => "zero inputs or outputs".into(),
        ConfigError::TooLarge { .. } => "makes the model too large to address".into(),
        ConfigError::LayerMismatch { expected, inputs, .. } => {
            format!("takes {inputs} inputs but the layer before gives {expected}")
        }
        ConfigError::LayerKind { problem, .. } => (*problem).into(),
        ConfigError::ActivationParameter { error, .. } => format!("activation: {error}"),
        other => other.to_string(),
    }
}

/// Checks one layer alone ([`validate`](microtrain::shape::validate)); the error starts
/// with `at`.
fn check_layer(l: &Dense, at: &str) -> Result<(), String> {
    microtrain::shape::validate(core::slice::from_ref(l)).map_err(|e| format!("{at}: {}", problem(&e)))
}

/// The sequence layers' names, for messages.
const SEQUENCE_KINDS: &str = "conv1d, maxpool, avgpool, gap, flatten";

/// A layer size: a whole number up to 2^20.
fn layer_size(text: &str, at: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= 1 << 20)
        .ok_or_else(|| format!("{at}: {:?} is not a layer size (a whole number)", text.trim()))
}

/// A sequence layer of a [`layers`] spec after `inputs` values of `channels`
/// channels (updated to the layer's output); `Ok(None)` for a dense layer.
fn sequence_layer(
    part: &str,
    inputs: usize,
    channels: &mut Option<usize>,
    at: &str,
) -> Result<Option<Dense>, String> {
    let fields: Vec<&str> = part.split(':').map(str::trim).collect();
    let Some((&kind, rest)) = fields.split_first() else {
        return Ok(None);
    };
    if !matches!(kind, "conv1d" | "maxpool" | "avgpool" | "gap" | "flatten") {
        return Ok(None);
    }
    let c = channels.ok_or_else(|| {
        format!("{at}: {kind} needs a sequence input (not after a dense layer, gap or flatten)")
    })?;
    let len = inputs / c;
    if len * c != inputs {
        return Err(format!(
            "{at}: {inputs} inputs are not {c} channels of one length (input channels)"
        ));
    }
    let num = |i: usize, what: &str| -> Result<usize, String> {
        rest.get(i)
            .ok_or_else(|| format!("{at}: {kind} needs its {what}"))
            .and_then(|t| layer_size(t, &format!("{at}: {what}")))
    };
    let most = match kind {
        "conv1d" => usize::MAX,
        "maxpool" | "avgpool" => 2,
        _ => 0,
    };
    if rest.len() > most {
        return Err(format!("{at}: {part:?}: too many fields for {kind}"));
    }
    let l = match kind {
        "conv1d" => {
            let (out, k, s) = (num(0, "out channels")?, num(1, "kernel")?, num(2, "stride")?);
            let padding = match rest.get(3).copied() {
                Some("none") => Padding::None,
                Some("same") => Padding::Same,
                other => return Err(format!("{at}: conv1d padding {other:?}: none or same")),
            };
            let act = rest
                .get(4..)
                .map(|a| a.join(":"))
                .filter(|a| !a.is_empty())
                .ok_or_else(|| format!("{at}: conv1d needs its activation"))?;
            let act = activation(&act, at)?;
            *channels = Some(out);
            Dense::conv1d(c, out, k, s, padding, len, act)
        }
        "maxpool" | "avgpool" => {
            let k = num(0, "kernel")?;
            let s = if rest.len() > 1 { num(1, "stride")? } else { k };
            if kind == "maxpool" {
                Dense::max_pool1d(c, len, k, s)
            } else {
                Dense::avg_pool1d(c, len, k, s)
            }
        }
        "gap" => {
            *channels = None;
            Dense::global_avg_pool1d(c, len)
        }
        _ => {
            *channels = None;
            Dense::flatten(inputs)
        }
    };
    check_layer(&l, at)?;
    Ok(Some(l))
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

    #[test]
    fn layer_specs_dense_and_sequence() {
        let l = layers(9, 1, "16:relu, 3:identity", "layers").unwrap();
        assert_eq!(
            l,
            vec![
                Dense::new(9, 16, Activation::Relu),
                Dense::new(16, 3, Activation::Identity)
            ]
        );
        let spec = "conv1d:8:5:1:none:relu,maxpool:2,conv1d:16:5:1:none:leaky_relu=0.1,gap,4:identity";
        let l = layers(192, 3, spec, "--layers").unwrap();
        assert_eq!(l.len(), 5);
        assert_eq!(
            l[0],
            Dense::conv1d(3, 8, 5, 1, Padding::None, 64, Activation::Relu)
        );
        assert_eq!(l[1], Dense::max_pool1d(8, 60, 2, 2));
        assert_eq!(
            (l[0].outputs, l[1].outputs, l[2].outputs, l[3].outputs),
            (480, 240, 416, 16)
        );
        assert_eq!(l[2].activation, Activation::leaky_relu(0.1));
        assert_eq!(l[3], Dense::global_avg_pool1d(16, 26));
        let l = layers(
            12,
            2,
            "avgpool:3:1, conv1d:4:3:1:same:tanh, flatten, 2:sigmoid",
            "x",
        )
        .unwrap();
        assert_eq!(l[0], Dense::avg_pool1d(2, 6, 3, 1));
        assert_eq!(
            l[1],
            Dense::conv1d(2, 4, 3, 1, Padding::Same, 4, Activation::Tanh)
        );
        assert_eq!(l[2], Dense::flatten(16));
        assert_eq!(l[3], Dense::new(16, 2, Activation::Sigmoid));
    }

    #[test]
    fn layer_spec_errors_name_the_layer() {
        let err = |inputs, channels, spec: &str| layers(inputs, channels, spec, "--layers").unwrap_err();
        let e = err(192, 3, "4:relu,maxpool:2,3:identity");
        assert!(
            e.starts_with("--layers: layer 2: maxpool needs a sequence input"),
            "{e}"
        );
        let e = err(192, 3, "conv1d:8:80:1:none:relu,4:identity");
        assert!(
            e.starts_with("--layers: layer 1: ") && e.contains("kernel"),
            "{e}"
        );
        let e = err(10, 3, "conv1d:8:3:1:none:relu");
        assert!(e.contains("layer 1: 10 inputs are not 3 channels"), "{e}");
        let e = err(12, 1, "conv1d:8:3:1:valid:relu");
        assert!(e.contains("layer 1: conv1d padding Some(\"valid\")"), "{e}");
        let e = err(12, 1, "conv1d:8:3:1:none");
        assert!(e.contains("layer 1: conv1d needs its activation"), "{e}");
        let e = err(12, 1, "conv1d:8:3");
        assert!(e.contains("layer 1: conv1d needs its stride"), "{e}");
        let e = err(12, 1, "conv1d:8:3:1:none:swish");
        assert!(e.contains("layer 1: unknown activation \"swish\""), "{e}");
        let e = err(12, 1, "gap,flatten");
        assert!(
            e.starts_with("--layers: layer 2: flatten needs a sequence input"),
            "{e}"
        );
        let e = err(12, 1, "maxpool:2:2:2");
        assert!(e.contains("layer 1: \"maxpool:2:2:2\": too many fields"), "{e}");
        let e = err(12, 1, "maxpool:x");
        assert!(e.contains("layer 1: kernel: \"x\" is not a layer size"), "{e}");
        let e = err(9, 1, "16:relu,3");
        assert!(
            e.starts_with("--layers: layer 2: \"3\" is not OUTPUTS:ACTIVATION"),
            "{e}"
        );
        let e = err(9, 1, "16:relu,0:identity");
        assert_eq!(e, "--layers: layer 2: zero inputs or outputs");
        let e = err(9, 1, "16:leaky_relu=-1");
        assert!(e.starts_with("--layers: layer 1: "), "{e}");
        let e = err(9, 1, "16:swish");
        assert!(e.contains("layer 1: unknown activation \"swish\""), "{e}");
        let e = err(9, 1, "conv2d:3:3:1:none:relu");
        assert_eq!(
            e,
            "--layers: layer 1: \"conv2d\" is not a layer size (a whole number), nor a sequence \
             layer (conv1d, maxpool, avgpool, gap, flatten)"
        );
        let e = err(9, 1, "conv2d");
        assert!(
            e.contains("layer 1: \"conv2d\" is not OUTPUTS:ACTIVATION or a sequence layer"),
            "{e}"
        );
        let e = err(9, 1, "99999999:relu");
        assert!(
            e.ends_with("\"99999999\" is not a layer size (a whole number)"),
            "{e}"
        );
    }
}
