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
    /// (replaces --hidden and --activation).
    #[arg(long, conflicts_with_all = ["hidden", "activation"])]
    pub layers: Option<String>,
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
            for (i, part) in spec_text.split(',').enumerate() {
                let (n, act) = part.split_once(':').ok_or_else(|| {
                    format!("--layers: layer {}: {part:?} is not OUTPUTS:ACTIVATION", i + 1)
                })?;
                let n = size(n, "--layers")?;
                let act = by_name::activation(act.trim(), &format!("--layers: layer {}", i + 1))?;
                layers.push(Dense::new(prev, n, act));
                prev = n;
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
