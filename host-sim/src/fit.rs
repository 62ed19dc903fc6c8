//! The epoch loop shared by `train`, the demo and `compare`: [`microtrain::fit_epoch`]
//! per epoch, then [`microtrain::evaluate`] on the training (and validation) rows;
//! and the lines that report it.

use microtrain::{evaluate, fit_epoch, AnyOptimizer, Dataset, EpochError, Metrics, Order, Rng, Trainer};

/// How to train.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    /// Epochs to run.
    pub epochs: usize,
    /// Rows per optimizer step (1: stochastic; the row count: full batch).
    pub batch_size: usize,
    /// Row order per epoch.
    pub order: Order,
    /// Seed of the shuffling generator.
    pub seed: u64,
}

/// The state after one epoch.
#[derive(Debug, Clone, Copy)]
pub struct EpochLog {
    /// 1-based epoch number (0: before training).
    pub epoch: usize,
    /// Optimizer steps taken so far.
    pub steps: u64,
    /// Loss and accuracy on the training rows after the epoch.
    pub train: Metrics,
    /// Loss and accuracy on the validation rows after the epoch.
    pub val: Option<Metrics>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Run {
    /// One entry per epoch, starting with epoch 0 (before any step).
    pub logs: Vec<EpochLog>,
    /// `Some(why)` when training diverged (a non-finite loss or gradient was
    /// rejected, or the loss became non-finite); `logs` ends at the last good epoch.
    pub diverged: Option<String>,
}

/// Trains for `o.epochs` epochs, calling `each` after every epoch (and for epoch 0).
pub fn fit(
    t: &mut Trainer<'_, AnyOptimizer>,
    train: &Dataset<'_>,
    val: Option<&Dataset<'_>>,
    o: &FitOptions,
    mut each: impl FnMut(&EpochLog),
) -> Result<Run, String> {
    let mut rng = Rng::new(o.seed ^ 0x0DE5_0000_0000_0002);
    let mut indices = vec![0u32; o.order.indices_needed(train.len(), o.batch_size)];
    let mut logs = Vec::with_capacity(o.epochs + 1);
    let mut steps = 0u64;
    let mut log = measure(t, train, val, 0, 0)?;
    each(&log);
    logs.push(log);
    for epoch in 1..=o.epochs {
        match fit_epoch(t, train, o.batch_size, o.order, &mut rng, &mut indices) {
            Ok(stats) => steps += u64::from(stats.steps),
            Err(EpochError::Step { step, error }) => {
                return Ok(Run {
                    logs,
                    diverged: Some(format!("epoch {epoch}, step {}: {error}", step + 1)),
                })
            }
            Err(e) => return Err(format!("training: {e}")),
        }
        log = measure(t, train, val, epoch, steps)?;
        if !log.train.loss.is_finite() {
            return Ok(Run {
                logs,
                diverged: Some(format!("epoch {epoch}: the training loss is not finite")),
            });
        }
        each(&log);
        logs.push(log);
    }
    Ok(Run { logs, diverged: None })
}

fn measure(
    t: &mut Trainer<'_, AnyOptimizer>,
    train: &Dataset<'_>,
    val: Option<&Dataset<'_>>,
    epoch: usize,
    steps: u64,
) -> Result<EpochLog, String> {
    let train_m = evaluate(t, train).map_err(|e| format!("evaluation: {e}"))?;
    let val_m = match val {
        Some(v) if !v.is_empty() => Some(evaluate(t, v).map_err(|e| format!("evaluation: {e}"))?),
        _ => None,
    };
    Ok(EpochLog {
        epoch,
        steps,
        train: train_m,
        val: val_m,
    })
}

/// Root-mean-square error of the model's outputs against the targets of `data`
/// (regression).
pub fn rmse(t: &mut Trainer<'_, AnyOptimizer>, data: &Dataset<'_>) -> Result<f64, String> {
    let mut out = vec![0.0f32; t.outputs()];
    let (mut sum, mut count) = (0.0f64, 0usize);
    for i in 0..data.len() {
        let (x, target) = data.row(i).map_err(|e| e.to_string())?;
        t.predict(x, &mut out).map_err(|e| e.to_string())?;
        for (k, y) in out.iter().enumerate() {
            sum += (f64::from(*y) - f64::from(target.value(k))).powi(2);
            count += 1;
        }
    }
    Ok((sum / count.max(1) as f64).sqrt())
}

/// One epoch's line of output (`train`, the demo).
pub fn epoch_line(log: &EpochLog, epochs: usize, classify: bool, val_rows: usize) -> String {
    let w = epochs.to_string().len();
    let mut s = format!("epoch {:>w$}/{epochs}  loss {:.4}", log.epoch, log.train.loss);
    if classify {
        s.push_str(&format!(
            "  accuracy {:5.1} %",
            f64::from(log.train.accuracy) * 100.0
        ));
    }
    if let Some(v) = log.val.filter(|_| val_rows > 0) {
        s.push_str(&format!("  | validation loss {:.4}", v.loss));
        if classify {
            s.push_str(&format!("  accuracy {:5.1} %", f64::from(v.accuracy) * 100.0));
        }
    }
    s
}

/// An accuracy with the rows it counts: `98.3 % (118/120)`.
pub fn percent(accuracy: f32, rows: usize) -> String {
    let right = (f64::from(accuracy) * rows as f64).round() as usize;
    format!("{:.1} % ({right}/{rows})", f64::from(accuracy) * 100.0)
}
