//! `microtrain-sim` with no arguments: the course's Iris MLP (4-8-3, ReLU, softmax
//! cross-entropy) trained with Adam on the bundled data, one line per epoch; then the
//! short online-learning scenario of `stream` ([`stream::demo`]).

use super::stream;
use crate::data::split::split_and_scale;
use crate::data::{self, iris};
use crate::fit::{self, epoch_line, percent, FitOptions};
use crate::model::{describe, HostModel};
use crate::progress::EpochBar;
use microtrain::{Activation, Adam, AnyOptimizer, Dense, Loss, Order};

/// The demo's model.
pub const LAYERS: [Dense; 2] = [
    Dense::new(4, 8, Activation::Relu),
    Dense::new(8, 3, Activation::Identity),
];
const EPOCHS: usize = 30;
const BATCH: usize = 8;
const SEED: u64 = 0;
const LR: f32 = 0.01;

/// Runs the demo: Iris, then the stream scenario.
pub fn run() -> Result<(), String> {
    iris_classifier()?;
    stream::demo()
}

/// Trains the Iris classifier, one line per epoch.
fn iris_classifier() -> Result<(), String> {
    let table = iris::table()?;
    let prepared = data::prepare(&table, &iris::columns())?;
    let split = split_and_scale(&prepared, 0.2, SEED, true)?;
    let (train, val) = (split.train.dataset()?, split.val.dataset()?);
    let opt = AnyOptimizer::from(Adam::new(LR));
    let mut model = HostModel::new(LAYERS.to_vec(), &opt);
    let mut t = model
        .trainer(opt, Loss::SoftmaxCrossEntropy)
        .map_err(|e| format!("model: {e}"))?;
    t.init_params(SEED);
    println!(
        "microtrain demo: the Iris classifier of the course, trained by the same core code a device runs."
    );
    println!(
        "data: {} ({} rows: {} training, {} validation; features standardized)",
        table.source,
        prepared.rows(),
        split.train.rows(),
        split.val.rows()
    );
    println!(
        "model: {}, {} parameters; softmax cross-entropy; Adam lr {LR}; batch {BATCH}; {EPOCHS} epochs; seed {SEED}",
        describe(&LAYERS),
        microtrain::shape::params_len(&LAYERS)
    );
    let bar = EpochBar::new(EPOCHS);
    let opts = FitOptions {
        epochs: EPOCHS,
        batch_size: BATCH,
        order: Order::Shuffled,
        seed: SEED,
    };
    let run = fit::fit(&mut t, &train, Some(&val), &opts, |log| {
        if log.epoch > 0 {
            bar.epoch_done(format!("loss {:.4}", log.train.loss));
        }
        bar.println(&epoch_line(log, EPOCHS, true, val.len()));
    })?;
    bar.finish();
    if let Some(why) = run.diverged {
        return Err(format!("the demo diverged at {why}"));
    }
    if let Some(last) = run.logs.last() {
        println!(
            "done: training accuracy {}, validation accuracy {}",
            percent(last.train.accuracy, train.len()),
            last.val.map_or("-".into(), |v| percent(v.accuracy, val.len()))
        );
    }
    let bytes = microtrain::shape::training_bytes(&LAYERS, opt.state_per_param());
    println!("on a device this model trains in {bytes} bytes of RAM (see `microtrain-sim memory`).");
    println!(
        "next: `microtrain-sim train --help`, `microtrain-sim compare`, `microtrain-sim memory --ram 16K`"
    );
    Ok(())
}
