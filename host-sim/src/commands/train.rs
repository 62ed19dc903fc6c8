//! `microtrain-sim train`: trains a model on a CSV file (or the bundled Iris data) with
//! the core's trainer and writes it as a `.mtm` (firmware) and/or `.json` file.
//!
//! Random streams, all from `--seed`: the initial weights ([`microtrain::Trainer::init_params`]),
//! the train/validation split and the per-epoch shuffles each use their own
//! [`microtrain::Rng`], so the same seed gives the same numbers on every machine.

use crate::args::{self, optimizer, DataArgs, FreezeArgs, OptimizerArgs, ShapeArgs};
use crate::by_name;
use crate::data::split::split_and_scale;
use crate::data::{self, standardize, Columns, Task};
use crate::fit::{self, epoch_line, percent, FitOptions};
use crate::model::{describe, HostModel, SavedModel};
use crate::progress::EpochBar;
use microtrain::shape::Trainability;
use microtrain::{Activation, Loss, Order};
use std::path::PathBuf;
use std::process::ExitCode;

/// Row order per epoch.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OrderArg {
    /// A fresh seeded permutation every epoch.
    Shuffled,
    /// File order.
    Sequential,
    /// Rows drawn with replacement.
    WithReplacement,
}

impl From<OrderArg> for Order {
    fn from(o: OrderArg) -> Order {
        match o {
            OrderArg::Shuffled => Order::Shuffled,
            OrderArg::Sequential => Order::Sequential,
            OrderArg::WithReplacement => Order::WithReplacement,
        }
    }
}

/// Options of `train`.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    // `--task` and `--classes` are train's own: they fix what a model file means (and
    // must match the one fine-tuned); `compare` writes none, and detects the task and
    // sorts the classes.
    /// Classification or regression (default: classification if any target value is not a number).
    #[arg(long, value_enum)]
    pub task: Option<Task>,
    /// Class names in model-output order, comma-separated (default: sorted by name).
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Loss: softmax_cross_entropy (default for classification), mse (default for regression),
    /// binary_cross_entropy (sigmoid outputs).
    #[arg(long)]
    pub loss: Option<String>,
    #[command(flatten)]
    pub opt: OptimizerArgs,
    /// Learning-rate schedule over optimizer steps: constant, exponential:gamma=G,
    /// step:step_size=N,gamma=G, inverse_time:decay=D.
    #[arg(long, default_value = "constant")]
    pub schedule: String,
    /// Rows per optimizer step: a number (1 = stochastic gradient descent) or `all` (batch descent).
    #[arg(long, default_value = "16")]
    pub batch_size: String,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Seed of the initial weights, the validation split and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Clip the gradient to this global L2 norm before each step.
    #[arg(long, allow_hyphen_values = true)]
    pub clip_norm: Option<f32>,
    /// Fraction of the rows held out for validation, in [0, 1).
    #[arg(long, default_value_t = 0.2, allow_hyphen_values = true)]
    pub val_split: f64,
    /// Row order in each epoch.
    #[arg(long, value_enum, default_value = "shuffled")]
    pub order: OrderArg,
    /// Do not standardize the features (by default they are scaled to mean 0, standard deviation 1
    /// on the training rows, and the scaling is folded into the saved model's first layer).
    #[arg(long)]
    pub no_standardize: bool,
    /// Write the trained model: FILE.json (JSON, keeps column and class names) or any other name
    /// (the binary .mtm format a firmware loads). Repeat for several files.
    #[arg(long)]
    pub out: Vec<PathBuf>,
    /// Start from this model file (fine-tuning) instead of random weights; its shape is kept.
    #[arg(long)]
    pub init: Option<PathBuf>,
    #[command(flatten)]
    pub freezing: FreezeArgs,
    /// Print the metrics every N epochs (default: every epoch up to 20 epochs, else about 10 lines).
    #[arg(long)]
    pub print_every: Option<usize>,
}

/// Runs `train`.
pub fn run(a: &TrainArgs) -> Result<ExitCode, String> {
    let table = a.data.table()?;
    let init = a.init.as_ref().map(|p| SavedModel::load(p)).transpose()?;
    let init_name = a
        .init
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let cols = columns(a, init.as_ref(), &init_name)?;
    let prepared = data::prepare(&table, &cols)?;
    if let Some(m) = &init {
        check_init_fits(m, &prepared, &init_name, a.classes.is_some())?;
    }
    let loss = match (&a.loss, &init) {
        (Some(l), _) => by_name::loss(l, "--loss")?,
        (None, Some(SavedModel { loss: Some(l), .. })) => *l,
        _ if prepared.classes.is_some() => Loss::SoftmaxCrossEntropy,
        _ => Loss::Mse,
    };
    let mut layers = match &init {
        Some(m) => m.layers.clone(),
        None => {
            let out_act = loss.required_activation().unwrap_or(Activation::Identity);
            a.shape.build(prepared.inputs(), prepared.outputs(), out_act)?
        }
    };
    a.freezing.apply(&mut layers)?;
    let frozen = microtrain::shape::has_frozen(&layers);
    if frozen && init.is_none() {
        return Err(
            "--freeze, --train-layers and --bias-only fine-tune a pretrained model: give it with --init"
                .into(),
        );
    }
    let opt = a.opt.build()?;
    let schedule = optimizer::schedule(&a.schedule)?;
    // The scaling is folded into the first layer's weights: a first layer that does
    // not train keeps the weights it has, so its inputs are not rescaled.
    let first_trains = layers.first().is_some_and(|l| l.train == Trainability::Trainable);
    // A convolution or pooling layer shares its weights across positions: a scaling
    // per input cannot be folded into it.
    let first_dense = layers.first().is_some_and(microtrain::Dense::is_dense);
    if !a.no_standardize && !first_trains {
        println!("the first layer does not train: its inputs are not standardized (as --no-standardize)");
    } else if !a.no_standardize && !first_dense {
        println!("the first layer is not dense: its inputs are not standardized (as --no-standardize)");
    }
    let scale = !a.no_standardize && first_trains && first_dense;
    let split = split_and_scale(&prepared, a.val_split, a.seed, scale)?;
    let batch_size = args::batch_size(&a.batch_size, split.train.rows())?;
    let train_ds = split.train.dataset()?;
    let val_ds = split.val.dataset()?;

    let mut model = HostModel::new(layers.clone(), &opt);
    let start = init.as_ref().map(|m| {
        let mut p = m.params.clone();
        if let Some(s) = &split.scaler {
            standardize::unfold(&layers, &mut p, s);
        }
        p
    });
    if let (true, Some(p)) = (frozen, &start) {
        // The frozen parameters are read from the whole model's; the others start there.
        model.whole.clone_from(p);
    }
    let mut t = model.trainer(opt, loss).map_err(|e| format!("model: {e}"))?;
    t.set_schedule(schedule).map_err(|e| format!("--schedule: {e}"))?;
    t.set_clip_norm(a.clip_norm)
        .map_err(|e| format!("--clip-norm: {e}"))?;
    match &start {
        Some(_) if frozen => {}
        Some(p) => t.load_params(p).map_err(|e| format!("{init_name}: {e}"))?,
        None => t.init_params(a.seed),
    }

    let source = &table.source;
    println!(
        "{source}: {} rows ({} training, {} validation), {} features -> {}",
        prepared.rows(),
        split.train.rows(),
        split.val.rows(),
        prepared.inputs(),
        match &prepared.classes {
            Some(c) => format!(
                "{} classes, one output each, in {} order: {}",
                c.len(),
                if cols.classes.is_some() {
                    "the given"
                } else {
                    "sorted"
                },
                c.join(", ")
            ),
            None => format!("{} regression target(s)", prepared.outputs()),
        }
    );
    println!(
        "model {}, {} parameters ({} trained); {} loss; {:?}; batch {batch_size}, {} epochs, seed {}",
        describe(&layers),
        microtrain::shape::params_len(&layers),
        microtrain::shape::trainable_params_len(&layers),
        loss.name(),
        opt,
        a.epochs,
        a.seed
    );
    let every = a
        .print_every
        .unwrap_or(if a.epochs <= 20 { 1 } else { a.epochs.div_ceil(10) })
        .max(1);
    let opts = FitOptions {
        epochs: a.epochs,
        batch_size,
        order: a.order.into(),
        seed: a.seed,
    };
    let classify = prepared.classes.is_some();
    let bar = EpochBar::new(a.epochs);
    let val_rows = split.val.rows();
    let run = fit::fit(&mut t, &train_ds, Some(&val_ds), &opts, |log| {
        if log.epoch > 0 {
            bar.epoch_done(format!("loss {:.4}", log.train.loss));
        }
        if log.epoch % every == 0 || log.epoch == a.epochs {
            bar.println(&epoch_line(log, a.epochs, classify, val_rows));
        }
    })?;
    bar.finish();
    if let Some(why) = &run.diverged {
        eprintln!("error: training diverged at {why}; try a smaller --lr or --clip-norm. No model written.");
        return Ok(ExitCode::FAILURE);
    }
    println!("final:");
    print_final(&mut t, &train_ds, "training", classify, split.train.rows())?;
    if val_rows > 0 {
        print_final(&mut t, &val_ds, "validation", classify, val_rows)?;
    }
    let mut params = vec![0.0f32; microtrain::shape::params_len(&layers)];
    t.whole_params(&mut params).map_err(|e| format!("model: {e}"))?;
    if let Some(s) = &split.scaler {
        standardize::fold(&layers, &mut params, s);
    }
    let saved = SavedModel {
        layers: layers
            .iter()
            .map(|l| l.trained(Trainability::Trainable))
            .collect(),
        params,
        loss: Some(loss),
        features: prepared.feature_names.clone(),
        targets: prepared.target_names.clone(),
        classes: prepared.classes.clone(),
    };
    for p in &a.out {
        saved.save(p)?;
        println!("wrote {}", p.display());
    }
    println!(
        "on a device: {} bytes of RAM to train this model with {} ({} to run it){}",
        microtrain::shape::training_bytes(&layers, opt.state_per_param()),
        a.opt.optimizer,
        (microtrain::shape::params_len(&saved.layers) + microtrain::shape::activations_len(&saved.layers))
            * 4,
        if frozen {
            format!(
                ", with the {} B of the whole model's parameters in flash",
                microtrain::shape::params_len(&layers) * 4
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The columns to read: the options, else the model's names, else the defaults.
fn columns(a: &TrainArgs, init: Option<&SavedModel>, init_name: &str) -> Result<Columns, String> {
    let mut cols = a.data.default_columns();
    if let Some(m) = init {
        if !m.features.is_empty() {
            cols.features = Some(m.features.clone());
        }
        if !m.targets.is_empty() {
            cols.targets = m.targets.clone();
        }
        if m.classes.is_some() {
            cols.classes = m.classes.clone();
            cols.task = Some(Task::Classify);
        }
    }
    a.data.apply(&mut cols);
    if let Some(task) = a.task {
        cols.task = Some(task);
    }
    if let Some(c) = &a.classes {
        if let Some(mc) = init.and_then(|m| m.classes.as_ref()) {
            if mc != c {
                return Err(format!(
                    "--classes: {} does not match the classes of {init_name}: {}",
                    c.join(","),
                    mc.join(",")
                ));
            }
        }
        cols.classes = Some(c.clone());
        cols.task = Some(Task::Classify);
    }
    args::require_target(&cols)?;
    Ok(cols)
}

fn check_init_fits(
    m: &SavedModel,
    p: &data::Prepared,
    name: &str,
    classes_given: bool,
) -> Result<(), String> {
    let (inputs, outputs) = (
        microtrain::shape::inputs(&m.layers),
        microtrain::shape::outputs(&m.layers),
    );
    if p.classes.is_some() && m.classes.is_none() && !classes_given {
        return Err(format!(
            "{name}: this model file stores no class names; give --classes in the model's output order, \
             or fine-tune from the .json model file"
        ));
    }
    if inputs != p.inputs() {
        return Err(format!(
            "{name}: the model takes {inputs} inputs, the data has {} features",
            p.inputs()
        ));
    }
    if outputs != p.outputs() {
        return Err(format!(
            "{name}: the model has {outputs} outputs, the data needs {} (one per class or target)",
            p.outputs()
        ));
    }
    Ok(())
}

fn print_final(
    t: &mut microtrain::Trainer<'_, microtrain::AnyOptimizer>,
    ds: &microtrain::Dataset<'_>,
    what: &str,
    classify: bool,
    rows: usize,
) -> Result<(), String> {
    let m = microtrain::evaluate(t, ds).map_err(|e| e.to_string())?;
    if classify {
        println!(
            "  {what:<10} loss {:.4}  accuracy {}",
            m.loss,
            percent(m.accuracy, rows)
        );
    } else {
        println!("  {what:<10} loss {:.4}  RMSE {:.4}", m.loss, fit::rmse(t, ds)?);
    }
    Ok(())
}
