//! The model-shape options (`--hidden`, `--activation`, `--layers`) shared by `train`,
//! `compare` and `memory`.

use crate::by_name;
use microtrain::{Activation, Dense};

/// Model shape options.
#[derive(clap::Args, Debug, Clone)]
pub struct ShapeArgs {
    /// Hidden layer sizes, comma-separated, e.g. `8` or `16,8`; `0` for none (a linear model).
    #[arg(long, default_value = "8")]
    pub hidden: String,
    /// Activation of the hidden layers: identity, sigmoid, tanh, relu, leaky_relu, elu,
    /// softsign; leaky_relu=S and elu=A set LeakyReLU's negative_slope (default 0.01)
    /// and ELU's alpha (default 1.0).
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Every layer as OUTPUTS:ACTIVATION, the last one the output layer, e.g. `16:relu,8:tanh,3:identity`
    /// (replaces --hidden and --activation). Sequence layers over inputs of
    /// --input-channels channels (`[channels][length]` per row): `conv1d:OUT:KERNEL:STRIDE:none|same:ACTIVATION`,
    /// `maxpool:KERNEL[:STRIDE]`, `avgpool:KERNEL[:STRIDE]`, `gap` (global average pool), `flatten`,
    /// e.g. `conv1d:8:5:1:none:relu,maxpool:2,conv1d:16:5:1:none:relu,gap,4:identity`.
    #[arg(long, conflicts_with_all = ["hidden", "activation"])]
    pub layers: Option<String>,
    /// Channels of the input for --layers' sequence layers: each row is `[channels][length]`
    /// (channel-major, as PyTorch's `[N, C, L]` flattened).
    #[arg(long, default_value_t = 1)]
    pub input_channels: usize,
}

impl ShapeArgs {
    /// The layers for `inputs` inputs and `outputs` outputs; the output layer gets
    /// `output_activation` unless `--layers` names it.
    pub fn build(
        &self,
        inputs: usize,
        outputs: usize,
        output_activation: Activation,
    ) -> Result<Vec<Dense>, String> {
        let mut layers = Vec::new();
        let mut prev = inputs;
        if let Some(spec_text) = &self.layers {
            // The sequence's channels while the layers keep one (`None` after a dense
            // layer, global average pooling or flatten).
            let mut channels = Some(self.input_channels.max(1));
            for (i, part) in spec_text.split(',').enumerate() {
                let at = format!("--layers: layer {}", i + 1);
                let l = sequence_layer(part.trim(), prev, &mut channels, &at)?;
                let l = match l {
                    Some(l) => l,
                    None => {
                        let (n, act) = part
                            .split_once(':')
                            .ok_or_else(|| format!("{at}: {part:?} is not OUTPUTS:ACTIVATION"))?;
                        let n = size(n, "--layers")?;
                        let act = by_name::activation(act.trim(), &at)?;
                        channels = None;
                        Dense::new(prev, n, act)
                    }
                };
                prev = l.outputs;
                layers.push(l);
            }
            if prev != outputs {
                return Err(format!(
                    "--layers: the last layer has {prev} outputs, the data needs {outputs} (one per class or target)"
                ));
            }
        } else {
            let act = by_name::activation(self.activation.trim(), "--activation")?;
            for part in self.hidden.split(',') {
                let n = size(part, "--hidden")?;
                if n > 0 {
                    layers.push(Dense::new(prev, n, act));
                    prev = n;
                }
            }
            layers.push(Dense::new(prev, outputs, output_activation));
        }
        microtrain::shape::validate(&layers).map_err(|e| format!("model shape: {e}"))?;
        Ok(layers)
    }
}

fn size(text: &str, option: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= 1 << 20)
        .ok_or_else(|| format!("{option}: {:?} is not a layer size (a whole number)", text.trim()))
}

/// A sequence layer of `--layers` (see [`ShapeArgs::layers`]) after `inputs` values of
/// `channels` channels (updated to the layer's output); `Ok(None)` for a dense layer.
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
            "{at}: {inputs} inputs are not {c} channels of one length (--input-channels)"
        ));
    }
    let num = |i: usize, what: &str| -> Result<usize, String> {
        rest.get(i)
            .ok_or_else(|| format!("{at}: {kind} needs its {what}"))
            .and_then(|t| size(t, &format!("{at}: {what}")))
    };
    let l = match kind {
        "conv1d" => {
            let padding = match rest.get(3).copied() {
                Some("none") => microtrain::Padding::None,
                Some("same") => microtrain::Padding::Same,
                other => return Err(format!("{at}: conv1d padding {other:?}: none or same")),
            };
            let act = rest
                .get(4..)
                .map(|a| a.join(":"))
                .filter(|a| !a.is_empty())
                .ok_or_else(|| format!("{at}: conv1d needs its activation"))?;
            let act = by_name::activation(&act, at)?;
            let (out, k, s) = (num(0, "out channels")?, num(1, "kernel")?, num(2, "stride")?);
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
    microtrain::shape::validate(core::slice::from_ref(&l)).map_err(|e| format!("{at}: {e}"))?;
    Ok(Some(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_layers_from_the_option() {
        let a = ShapeArgs {
            hidden: "8".into(),
            activation: "relu".into(),
            layers: Some(
                "conv1d:8:5:1:none:relu,maxpool:2,conv1d:16:5:1:none:leaky_relu=0.1,gap,4:identity".into(),
            ),
            input_channels: 3,
        };
        let l = a.build(192, 4, Activation::Identity).unwrap();
        assert_eq!(l.len(), 5);
        assert_eq!(
            (l[0].outputs, l[1].outputs, l[2].outputs, l[3].outputs),
            (480, 240, 416, 16)
        );
        assert_eq!(l[2].activation, Activation::leaky_relu(0.1));
        let bad = ShapeArgs {
            layers: Some("4:relu,maxpool:2,3:identity".into()),
            ..a.clone()
        };
        assert!(bad
            .build(192, 3, Activation::Identity)
            .unwrap_err()
            .contains("layer 2"));
        let bad = ShapeArgs {
            layers: Some("conv1d:8:80:1:none:relu,4:identity".into()),
            ..a
        };
        let e = bad.build(192, 4, Activation::Identity).unwrap_err();
        assert!(e.contains("layer 1") && e.contains("kernel"), "{e}");
    }
}
