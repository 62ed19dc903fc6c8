//! "Which learning rate is best?": one optimizer at several learning rates on the same
//! data and initial weights, the training loss per epoch of each. A run whose loss
//! becomes non-finite, or exceeds ten times its starting loss, has diverged; its curve
//! stops there, marked with a cross.

use super::lineup::{fmt_lr, with_lr, Entry};
use super::{print_files, Setup};
use crate::args::OptimizerArgs;
use crate::figures;
use crate::figures::line_chart::{Curve, LineChart};
use std::path::Path;

/// Multiples of the optimizer's usual rate tried by default: too small, good, too
/// large, divergent.
pub const FACTORS: [f32; 4] = [0.01, 1.0, 30.0, 100.0];

/// Runs the sweep and writes `lr-<optimizer>.png` / `.svg` in `dir`.
pub fn run(
    setup: &Setup,
    name: &str,
    lrs: Option<&[f32]>,
    entries: &[Entry],
    dir: &Path,
) -> Result<(), String> {
    let base = OptimizerArgs {
        optimizer: name.to_string(),
        ..Default::default()
    }
    .build()
    .map_err(|e| e.replace("--optimizer", "--sweep-optimizer"))?;
    // The lineup's config (and usual rate) for this name, else PyTorch's defaults.
    let base = entries
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(name))
        .map_or(base, |e| e.opt);
    let usual = base.lr();
    let lrs: Vec<f32> = match lrs {
        Some(l) => l.to_vec(),
        None => FACTORS
            .iter()
            .map(|f| (f64::from(usual) * f64::from(*f)) as f32)
            .collect(),
    };
    println!("learning rates for {name}:");
    let mut curves = Vec::new();
    let mut best: Option<(usize, f32)> = None;
    for &lr in &lrs {
        let opt = with_lr(base, lr);
        microtrain::Optimizer::validate(&opt).map_err(|e| format!("--sweep-lrs: {e}"))?;
        let run = setup.run(opt)?;
        let start = run.logs.first().map_or(f32::INFINITY, |l| l.train.loss);
        let cut = run.logs.iter().position(|l| l.train.loss > 10.0 * start);
        let logs = &run.logs[..cut.unwrap_or(run.logs.len())];
        let diverged_at = match (cut, &run.diverged) {
            (Some(i), _) => Some(i),
            (None, Some(_)) => Some(logs.len()),
            _ => None,
        };
        let last = logs.last().map_or(f32::NAN, |l| l.train.loss);
        let label = match diverged_at {
            Some(e) => format!("lr {}: diverged at epoch {e}", fmt_lr(lr)),
            None => format!("lr {}: final loss {last:.4}", fmt_lr(lr)),
        };
        println!("  {label}");
        if diverged_at.is_none() && best.is_none_or(|(_, b)| last < b) {
            best = Some((curves.len(), last));
        }
        curves.push(Curve {
            label,
            points: logs
                .iter()
                .map(|l| (l.epoch as u64, f64::from(l.train.loss)))
                .collect(),
            diverged: diverged_at.is_some(),
        });
    }
    if let Some((i, _)) = best {
        curves[i].label.push_str(" (best)");
        println!("  best: {}", curves[i].label);
    }
    let chart = LineChart {
        title: format!("Which learning rate? {name} on {}", setup.description),
        x_label: "epoch".into(),
        y_label: format!("training loss ({}, log scale)", setup.loss.name()),
        curves,
    };
    print_files(&figures::save(&chart, &dir.join(format!("lr-{name}")))?);
    Ok(())
}
