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
    // Parsed by `microtrain_files::by_name::layers`, as the Python package's `layers`.
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
        if let Some(spec_text) = &self.layers {
            // The parser the Python package shares (`microtrain_files::by_name::layers`).
            let layers = by_name::layers(inputs, self.input_channels, spec_text, "--layers")?;
            let last = microtrain::shape::outputs(&layers);
            if last != outputs {
                return Err(format!(
                    "--layers: the last layer has {last} outputs, the data needs {outputs} (one per class or target)"
                ));
            }
            return Ok(layers);
        }
        let mut layers = Vec::new();
        let mut prev = inputs;
        let act = by_name::activation(self.activation.trim(), "--activation")?;
        for part in self.hidden.split(',') {
            let n = size(part, "--hidden")?;
            if n > 0 {
                layers.push(Dense::new(prev, n, act));
                prev = n;
            }
        }
        layers.push(Dense::new(prev, outputs, output_activation));
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
        let wrong_outputs = ShapeArgs {
            layers: Some("conv1d:8:5:1:none:relu,gap,3:identity".into()),
            input_channels: 3,
            ..ShapeArgs::clone(&bad)
        };
        let e = wrong_outputs.build(192, 4, Activation::Identity).unwrap_err();
        assert!(
            e.contains("the last layer has 3 outputs, the data needs 4"),
            "{e}"
        );
    }
}
