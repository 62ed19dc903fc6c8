//! `microtrain-sim memory`: the exact RAM a device needs to train a model with an
//! optimizer, from the core's `const fn` sizes, and whether it fits a given RAM size.

use crate::args::{FreezeArgs, OptimizerArgs, ShapeArgs};
use crate::by_name;
use crate::model::{describe, SavedModel};
use microtrain::shape::Trainability;
use microtrain::shape::{activations_len, has_frozen, params_len, trainable_params_len, training_bytes};
use microtrain::{Activation, Dense};
use std::path::PathBuf;

/// Options of `memory`.
#[derive(clap::Args, Debug, Clone)]
pub struct MemoryArgs {
    /// Number of model inputs (features).
    #[arg(long, default_value_t = 4)]
    pub inputs: usize,
    /// Number of model outputs (classes or targets).
    #[arg(long, default_value_t = 3)]
    pub outputs: usize,
    /// Activation of the output layer: identity (softmax cross-entropy, regression) or sigmoid.
    #[arg(long, default_value = "identity")]
    pub output_activation: String,
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Take the shape from this model file (.mtm or .json) instead.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub opt: OptimizerArgs,
    #[command(flatten)]
    pub freezing: FreezeArgs,
    /// The device's RAM for the check, e.g. 16K, 64K, 256K, 1M or a number of bytes (K = 1024 bytes).
    /// Without it, the common sizes are listed.
    #[arg(long)]
    pub ram: Option<String>,
}

/// Parses `16K`, `64KiB`, `1M`, `2048`.
pub fn parse_ram(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let (digits, mult) = if let Some(d) = upper.strip_suffix("KIB").or_else(|| upper.strip_suffix("KB")) {
        (d, 1024)
    } else if let Some(d) = upper.strip_suffix("MIB").or_else(|| upper.strip_suffix("MB")) {
        (d, 1024 * 1024)
    } else if let Some(d) = upper.strip_suffix('K') {
        (d, 1024)
    } else if let Some(d) = upper.strip_suffix('M') {
        (d, 1024 * 1024)
    } else {
        (upper.strip_suffix('B').unwrap_or(&upper), 1)
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("--ram: {text:?} is not a size such as 16K, 64K, 256K or 20480"))
}

/// Runs `memory`.
pub fn run(a: &MemoryArgs) -> Result<(), String> {
    let ram = a
        .ram
        .as_deref()
        .map(|r| parse_ram(r).map(|b| (r, b)))
        .transpose()?;
    let mut layers: Vec<Dense> = match &a.model {
        Some(p) => SavedModel::load(p)?.layers,
        None => {
            let act: Activation = by_name::activation(&a.output_activation, "--output-activation")?;
            if a.inputs == 0 || a.outputs == 0 {
                return Err("--inputs and --outputs must be at least 1".into());
            }
            a.shape.build(a.inputs, a.outputs, act)?
        }
    };
    a.freezing.apply(&mut layers)?;
    let opt = a.opt.build()?;
    let spp = opt.state_per_param();
    let whole = params_len(&layers);
    let p = trainable_params_len(&layers);
    let acts = activations_len(&layers);
    let total = training_bytes(&layers, spp);
    println!("model {} with {}", describe(&layers), a.opt.optimizer);
    if has_frozen(&layers) {
        let kinds: Vec<String> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let kind = match l.train {
                    Trainability::Trainable => "trains",
                    Trainability::Frozen => "frozen",
                    Trainability::BiasOnly => "bias only",
                };
                format!("{i} {kind}")
            })
            .collect();
        println!("  layers {}; {p} of {whole} parameters train", kinds.join(", "));
    }
    println!("  {:<18} {:>8} floats {:>9} bytes", "parameters", p, p * 4);
    println!("  {:<18} {:>8} floats {:>9} bytes", "gradients", p, p * 4);
    println!(
        "  {:<18} {:>8} floats {:>9} bytes   ({spp} per parameter)",
        "optimizer state",
        p * spp,
        p * spp * 4
    );
    println!(
        "  {:<18} {:>8} floats {:>9} bytes   (one sample, any batch size)",
        "activations",
        acts,
        acts * 4
    );
    println!(
        "  {:<18} {:>8} floats {:>9} bytes",
        "total for training",
        total / 4,
        total
    );
    println!(
        "  online only (one sample per step, no gradient buffer, `OnlineStorage`): {} bytes",
        microtrain::shape::online_training_bytes(&layers, spp)
    );
    if has_frozen(&layers) {
        println!(
            "  flash: the whole model's parameters, {whole} floats, {} bytes, read for the frozen layers",
            whole * 4
        );
    }
    println!(
        "  inference only (parameters + activations): {} bytes",
        (whole + acts) * 4
    );
    println!("  (the core's exact buffers; the firmware's stack, sensor buffers and code come on top)");
    match ram {
        Some((label, bytes)) => println!("{}", verdict(total, bytes, label)),
        None => {
            for r in ["16K", "64K", "256K"] {
                println!("{}", verdict(total, parse_ram(r)?, r));
            }
        }
    }
    Ok(())
}

fn verdict(total: usize, ram: usize, label: &str) -> String {
    let pct = total as f64 * 100.0 / ram as f64;
    if total <= ram {
        format!(
            "FITS in {label} ({ram} bytes): uses {pct:.1} %, leaves {} bytes for everything else",
            ram - total
        )
    } else {
        format!(
            "DOES NOT FIT in {label} ({ram} bytes): needs {pct:.0} % of it, {} bytes too many",
            total - ram
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_sizes() {
        assert_eq!(parse_ram("16K"), Ok(16384));
        assert_eq!(parse_ram("64kib"), Ok(65536));
        assert_eq!(parse_ram("1M"), Ok(1 << 20));
        assert_eq!(parse_ram("2048"), Ok(2048));
        assert!(parse_ram("lots").is_err());
        assert!(parse_ram("0").is_err());
    }
}
