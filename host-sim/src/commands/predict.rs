//! `microtrain-sim predict`: runs a saved model on the rows of a CSV file and prints
//! every output with its exact bits, to compare with a device or another run.

use crate::data;
use crate::data::table::Table;
use crate::model::{HostModel, SavedModel};
use microtrain::data::argmax;
use microtrain::{AnyOptimizer, Loss, Sgd};
use std::path::PathBuf;

/// Options of `predict`.
///
/// `--data` and `--features` are not [`crate::args::DataArgs`]: here the file is
/// required (there is no default table to predict on), there is no target, and the
/// features are the model's inputs in order, by default the names its file stores.
#[derive(clap::Args, Debug, Clone)]
pub struct PredictArgs {
    /// The model file (.mtm or .json).
    #[arg(long)]
    pub model: PathBuf,
    /// CSV file with a header line; the model's feature columns are read by name (JSON models),
    /// else --features, else every column.
    #[arg(long)]
    pub data: PathBuf,
    /// Feature columns in model-input order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
}

/// Runs `predict`: one line per row, `line N: [outputs] bits [hex] class`.
pub fn run(a: &PredictArgs) -> Result<(), String> {
    let m = SavedModel::load(&a.model)?;
    let table = Table::read(&a.data)?;
    let inputs = microtrain::shape::inputs(&m.layers);
    let names: Vec<String> = match (&a.features, m.features.is_empty()) {
        (Some(f), _) => f.clone(),
        (None, false) => m.features.clone(),
        (None, true) => table.header.clone(),
    };
    if names.len() != inputs {
        return Err(format!(
            "{}: {} feature columns ({}), the model takes {inputs} inputs; name them with --features",
            table.source,
            names.len(),
            names.join(", ")
        ));
    }
    let x = data::features(&table, &names)?;
    // Prediction needs no optimizer state; MSE accepts any output layer.
    let opt = AnyOptimizer::from(Sgd::new(0.0));
    let mut model = HostModel::new(m.layers.clone(), &opt);
    let mut t = model
        .trainer(opt, Loss::Mse)
        .map_err(|e| format!("{}: {e}", a.model.display()))?;
    t.load_params(&m.params)
        .map_err(|e| format!("{}: {e}", a.model.display()))?;
    let mut out = vec![0.0f32; t.outputs()];
    for (row, xr) in table.rows.iter().zip(x.chunks_exact(inputs)) {
        t.predict(xr, &mut out)
            .map_err(|e| format!("{}: line {}: {e}", table.source, row.line))?;
        let bits: Vec<String> = out.iter().map(|v| format!("{:08x}", v.to_bits())).collect();
        let class = m
            .classes
            .as_ref()
            .and_then(|c| c.get(argmax(&out)))
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        println!("line {}: {out:?} bits [{}]{class}", row.line, bits.join(", "));
    }
    Ok(())
}
