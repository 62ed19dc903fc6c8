//! The data options of the commands that train on a table (`train`, `compare`): the
//! CSV file, its feature columns and its target column(s). Without `--data`, the
//! bundled Iris data with `species` as the target.
//!
//! `predict` also has `--data` and `--features`, but they mean something else there:
//! the file is required (there is no default table to predict on), and the features
//! are the model's inputs in order, by default the names the model file stores. So
//! `predict` declares its own; `stream` reads a sample stream (`--csv`), not a table.

use crate::data::iris;
use crate::data::table::Table;
use crate::data::Columns;
use std::path::PathBuf;

/// Which table to train on, and which of its columns.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// CSV file with a header line (default: the bundled Iris data, target `species`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Feature columns, comma-separated (default: every column but the target).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Target column (class names: classification; numbers: regression, one or more columns,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub target: Option<Vec<String>>,
}

impl DataArgs {
    /// The `--data` table, else the bundled Iris data.
    pub fn table(&self) -> Result<Table, String> {
        match &self.data {
            Some(p) => Table::read(p),
            None => iris::table(),
        }
    }

    /// The columns before any option names them: Iris's without `--data`, else none.
    pub fn default_columns(&self) -> Columns {
        if self.data.is_none() {
            iris::columns()
        } else {
            Columns::default()
        }
    }

    /// Puts `--features` and `--target`, where given, in place of the columns of `cols`.
    pub fn apply(&self, cols: &mut Columns) {
        if let Some(f) = &self.features {
            cols.features = Some(f.clone());
        }
        if let Some(t) = &self.target {
            cols.targets = t.clone();
        }
    }

    /// The data's name in a title: the `--data` path, else `Iris`.
    pub fn name(&self) -> String {
        self.data
            .as_ref()
            .map_or("Iris".to_string(), |p| p.display().to_string())
    }
}

/// Refuses columns without a target: a `--data` file was given without `--target`
/// (and no model file named one).
pub fn require_target(cols: &Columns) -> Result<(), String> {
    if cols.targets.is_empty() {
        return Err("--target: name the target column of --data".into());
    }
    Ok(())
}
