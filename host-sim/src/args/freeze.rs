//! Which layers train (`--freeze`, `--train-layers`, `--bias-only`), for `train`
//! (fine-tuning a pretrained model) and `memory` (what such training needs).

use microtrain::shape::Trainability;
use microtrain::Dense;

/// Layers to freeze or to train only the bias of.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FreezeArgs {
    /// Freeze these layers (0 = first, comma-separated): their weights and biases stay
    /// as they are, with no gradient and no optimizer state, read from the model's
    /// parameters (in flash on a device). `train` needs `--init` for it.
    #[arg(long, value_delimiter = ',')]
    pub freeze: Vec<usize>,
    /// Train only these layers (`last`, or indices, comma-separated) and freeze the
    /// others.
    #[arg(long)]
    pub train_layers: Option<String>,
    /// Train only the biases of these layers (comma-separated; `all` for every layer
    /// not frozen): TinyTL's bias-only fine-tuning.
    #[arg(long)]
    pub bias_only: Option<String>,
}

impl FreezeArgs {
    /// Marks `layers` frozen or bias-only as the options say. An index past the last
    /// layer, or every layer frozen, is an error naming the option.
    pub fn apply(&self, layers: &mut [Dense]) -> Result<(), String> {
        let n = layers.len();
        let index = |flag: &str, text: &str| -> Result<usize, String> {
            let i: usize = text
                .trim()
                .parse()
                .map_err(|_| format!("{flag}: {text:?} is not a layer index (0 = first)"))?;
            if i >= n {
                return Err(format!(
                    "{flag}: layer {i}, the model has {n} layers (0 to {})",
                    n.saturating_sub(1)
                ));
            }
            Ok(i)
        };
        let list = |flag: &str, spec: &str, all: &str, every: Vec<usize>| -> Result<Vec<usize>, String> {
            if spec == all {
                Ok(every)
            } else {
                spec.split(',').map(|t| index(flag, t)).collect()
            }
        };
        for &i in &self.freeze {
            let i = index("--freeze", &i.to_string())?;
            if let Some(l) = layers.get_mut(i) {
                *l = l.frozen();
            }
        }
        if let Some(spec) = &self.train_layers {
            let train = list("--train-layers", spec, "last", vec![n.saturating_sub(1)])?;
            for (i, l) in layers.iter_mut().enumerate() {
                if !train.contains(&i) {
                    *l = l.frozen();
                }
            }
        }
        if let Some(spec) = &self.bias_only {
            for i in list("--bias-only", spec, "all", (0..n).collect())? {
                if let Some(l) = layers.get_mut(i).filter(|l| l.train == Trainability::Trainable) {
                    *l = l.bias_only();
                }
            }
        }
        if layers.iter().all(|l| l.train == Trainability::Frozen) {
            return Err("--freeze/--train-layers: every layer is frozen, nothing would train".into());
        }
        Ok(())
    }
}
