//! `microtrain-sim compare`: every optimizer of the [`lineup`](mod@lineup) on the
//! same data, model, initial weights and batches; a table and a loss-curve figure. It
//! also draws the optimizers' paths on a 2-D test [`surface`] and one optimizer at
//! several learning rates ([`lr_sweep`]).

mod lineup;
mod lr_sweep;
mod surface;

use crate::args::{self, DataArgs, ShapeArgs};
use crate::data::split::split_and_scale;
use crate::data::{self, Prepared};
use crate::figures;
use crate::figures::line_chart::{Curve, LineChart};
use crate::fit::{self, percent, FitOptions, Run};
use crate::model::{describe, HostModel};
use lineup::{fmt_lr, lineup, Entry};
use microtrain::{Activation, AnyOptimizer, Dense, Loss, Order};
use std::path::PathBuf;
use surface::SurfaceArg;

/// Options of `compare`.
#[derive(clap::Args, Debug, Clone)]
pub struct CompareArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Rows per optimizer step: a number or `all`.
    #[arg(long, default_value = "16")]
    pub batch_size: String,
    /// Epochs per optimizer.
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    /// Seed of the (shared) initial weights and shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Learning rate of SGD, Momentum and Nesterov (momentum 0.9).
    #[arg(long, default_value_t = 0.1)]
    pub sgd_lr: f32,
    /// Learning rate of RMSprop, Adam, AdamW and RAdam (Adagrad gets ten times this).
    #[arg(long, default_value_t = 0.01)]
    pub adaptive_lr: f32,
    /// Learning rate of Adadelta.
    #[arg(long, default_value_t = 1.0)]
    pub adadelta_lr: f32,
    /// The loss whose first crossing the table reports ("steps to reach").
    #[arg(long, default_value_t = 0.1)]
    pub target_loss: f64,
    /// Directory for the figures (created if missing).
    #[arg(long, default_value = "compare-plots")]
    pub out_dir: PathBuf,
    /// Test surface for the 2-D view of the optimizers' paths (PNG, SVG and an animated GIF each).
    #[arg(long, value_enum, default_value = "rosenbrock")]
    pub surface: SurfaceArg,
    /// Fix one optimizer's learning rate on the test surfaces, NAME=VALUE (repeatable or
    /// comma-separated; NAME one of sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam,
    /// adamw, radam, in any case). Without it each optimizer's rate is searched per surface over
    /// 71 rates from 1e-5 to 100: on Rosenbrock and Beale, the one whose path stays in the view
    /// and reaches the minimum first among the paths at most 1.3 times as long as the shortest
    /// that reaches it (calm lines over the last bit of speed); on the saddle, the one whose
    /// first step is 0.05 long, so that all start alike. The Iris runs keep --sgd-lr,
    /// --adaptive-lr and --adadelta-lr: a surface's rates do not suit a network.
    #[arg(long = "lr", value_name = "NAME=VALUE", value_delimiter = ',')]
    pub lr: Vec<String>,
    /// Optimizer of the "which learning rate?" figure (sgd, momentum, nesterov, adagrad, adadelta,
    /// rmsprop, adam, adamw, radam).
    #[arg(long, default_value = "sgd")]
    pub sweep_optimizer: String,
    /// Learning rates of that figure, comma-separated (default: 0.01x, 1x, 10x and 100x the optimizer's
    /// rate above: too small, good, too large, divergent).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub sweep_lrs: Option<Vec<f32>>,
}

/// Training data and model, shared by every run.
pub struct Setup {
    /// Training rows (standardized).
    pub train: Prepared,
    /// The layers.
    pub layers: Vec<Dense>,
    /// The loss.
    pub loss: Loss,
    /// Epochs, batch size, order, seed.
    pub fit: FitOptions,
    /// Seed of the initial weights.
    pub seed: u64,
    /// `Iris, 4-8-3 (relu, identity), batch 16`.
    pub description: String,
}

impl Setup {
    /// Reads the data and builds the shape from the options.
    pub fn new(a: &CompareArgs) -> Result<Setup, String> {
        let table = a.data.table()?;
        let mut cols = a.data.default_columns();
        a.data.apply(&mut cols);
        args::require_target(&cols)?;
        let prepared = data::prepare(&table, &cols)?;
        let loss = if prepared.classes.is_some() {
            Loss::SoftmaxCrossEntropy
        } else {
            Loss::Mse
        };
        let layers = a
            .shape
            .build(prepared.inputs(), prepared.outputs(), Activation::Identity)?;
        let split = split_and_scale(&prepared, 0.0, a.seed, true)?;
        let batch_size = args::batch_size(&a.batch_size, split.train.rows())?;
        Ok(Setup {
            description: format!("{}, {}, batch {batch_size}", a.data.name(), describe(&layers)),
            train: split.train,
            layers,
            loss,
            fit: FitOptions {
                epochs: a.epochs,
                batch_size,
                order: Order::Shuffled,
                seed: a.seed,
            },
            seed: a.seed,
        })
    }

    /// Trains a fresh model (same initial weights every time) with `opt`.
    pub fn run(&self, opt: AnyOptimizer) -> Result<Run, String> {
        let ds = self.train.dataset()?;
        let mut model = HostModel::new(self.layers.clone(), &opt);
        let mut t = model.trainer(opt, self.loss).map_err(|e| format!("model: {e}"))?;
        t.init_params(self.seed);
        fit::fit(&mut t, &ds, None, &self.fit, |_| {})
    }
}

/// The learning rate of an optimizer config.
pub fn lr_of(opt: &AnyOptimizer) -> f32 {
    opt.lr()
}

/// Runs `compare`.
pub fn run(a: &CompareArgs) -> Result<(), String> {
    if a.target_loss.is_nan() || a.target_loss <= 0.0 {
        return Err(format!("--target-loss: {} must be > 0", a.target_loss));
    }
    let fixed = lineup::parse_lr_overrides(&a.lr)?;
    let setup = Setup::new(a)?;
    let entries = lineup(a.sgd_lr, a.adaptive_lr, a.adadelta_lr);
    for e in &entries {
        microtrain::Optimizer::validate(&e.opt).map_err(|err| format!("{} learning rate: {err}", e.name))?;
    }
    std::fs::create_dir_all(&a.out_dir)
        .map_err(|e| format!("{}: cannot create: {e}", a.out_dir.display()))?;
    println!(
        "{}, {} epochs, seed {}: the same initial weights and batches for every optimizer",
        setup.description, a.epochs, a.seed
    );
    let mut curves = Vec::new();
    let classify = setup.train.classes.is_some();
    println!(
        "{:<9} {:>8} {:>11} {:>16} {:>19} {:>12} {:>12}",
        "optimizer",
        "lr",
        "final loss",
        if classify { "train accuracy" } else { "train RMSE" },
        format!("steps to loss<={}", a.target_loss),
        "state/param",
        "state bytes"
    );
    for Entry { name, opt } in &entries {
        let run = setup.run(*opt)?;
        curves.push(curve(name, opt, &run));
        println!("{}", row(name, opt, &run, &setup, a.target_loss)?);
    }
    let chart = LineChart {
        title: format!("{} optimizers on {}", entries.len(), setup.description),
        x_label: "epoch".into(),
        y_label: format!("training loss ({}, log scale)", setup.loss.name()),
        curves,
    };
    let files = figures::save(&chart, &a.out_dir.join("optimizers"))?;
    print_files(&files);
    surface::run(a.surface, &fixed, &a.out_dir)?;
    lr_sweep::run(
        &setup,
        &a.sweep_optimizer,
        a.sweep_lrs.as_deref(),
        &entries,
        &a.out_dir,
    )?;
    Ok(())
}

/// Prints `wrote PATH` lines.
pub fn print_files(files: &[PathBuf]) {
    for f in files {
        println!("wrote {}", f.display());
    }
}

fn curve(name: &str, opt: &AnyOptimizer, run: &Run) -> Curve {
    Curve {
        label: format!("{name} (lr {})", fmt_lr(lr_of(opt))),
        points: run
            .logs
            .iter()
            .map(|l| (l.epoch as u64, f64::from(l.train.loss)))
            .collect(),
        diverged: run.diverged.is_some(),
    }
}

fn row(name: &str, opt: &AnyOptimizer, run: &Run, setup: &Setup, target: f64) -> Result<String, String> {
    let last = run.logs.last().ok_or("no epochs")?;
    let rows = setup.train.rows();
    let quality = if setup.train.classes.is_some() {
        percent(last.train.accuracy, rows)
    } else {
        // MSE loss: the root of the mean squared error.
        format!("{:.4}", f64::from(last.train.loss).sqrt())
    };
    let reached = run
        .logs
        .iter()
        .find(|l| f64::from(l.train.loss) <= target)
        .map_or("not reached".to_string(), |l| l.steps.to_string());
    let spp = opt.state_per_param();
    let state_bytes = microtrain::shape::params_len(&setup.layers) * spp * 4;
    let final_loss = match &run.diverged {
        Some(_) => "diverged".to_string(),
        None => format!("{:.4}", last.train.loss),
    };
    Ok(format!(
        "{name:<9} {:>8} {final_loss:>11} {quality:>16} {reached:>19} {:>12} {state_bytes:>12}",
        fmt_lr(lr_of(opt)),
        format!("{spp} ({} B)", spp * 4),
    ))
}
