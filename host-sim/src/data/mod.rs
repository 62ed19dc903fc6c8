//! The data a model trains on, from a CSV file to the core's [`Dataset`]: the file
//! ([`table`], or the bundled [`iris`] data), its columns turned into numbers (here:
//! feature columns, and targets as class labels or numeric values for regression),
//! the seeded train/validation [`split`] and the feature [`standardize`]ation.
//!
//! Class names are mapped to labels in **sorted** (byte-wise) order, unless a model
//! being fine-tuned (or `--classes`) fixes the order; a label is the index of the
//! model output that stands for the class (one-hot target).

pub mod iris;
pub mod split;
pub mod standardize;
pub mod table;

use microtrain::{Dataset, Targets};
use table::Table;

/// What the target column(s) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Task {
    /// One column of class names (or numbers used as names); one output per class.
    Classify,
    /// Numeric columns; one output per target column.
    Regress,
}

/// Which columns to use, and how.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// Feature columns; `None`: every column that is not a target.
    pub features: Option<Vec<String>>,
    /// Target columns (one for classification).
    pub targets: Vec<String>,
    /// The task; `None`: classification if any target value is not a number.
    pub task: Option<Task>,
    /// The class order, when fixed by a model or the user.
    pub classes: Option<Vec<String>>,
}

/// Numbers ready for the core.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Names of the input columns, in model input order.
    pub feature_names: Vec<String>,
    /// Names of the target columns.
    pub target_names: Vec<String>,
    /// Class names in label order (classification) or `None` (regression).
    pub classes: Option<Vec<String>>,
    /// Inputs, row-major.
    pub x: Vec<f32>,
    /// Class labels, one per row (classification).
    pub labels: Vec<u16>,
    /// Target values, row-major (regression).
    pub y: Vec<f32>,
}

impl Prepared {
    /// Inputs per row.
    pub fn inputs(&self) -> usize {
        self.feature_names.len()
    }

    /// Model outputs needed: one per class, or one per target column.
    pub fn outputs(&self) -> usize {
        self.classes.as_ref().map_or(self.target_names.len(), Vec::len)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.x.len().checked_div(self.inputs()).unwrap_or(0)
    }

    /// The rows `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Prepared {
        let (k, w) = (self.inputs(), self.target_names.len());
        let mut out = Prepared {
            x: Vec::with_capacity(idx.len() * k),
            labels: Vec::new(),
            y: Vec::new(),
            ..self.clone_meta()
        };
        for &i in idx {
            out.x.extend_from_slice(&self.x[i * k..(i + 1) * k]);
            if self.classes.is_some() {
                out.labels.push(self.labels[i]);
            } else {
                out.y.extend_from_slice(&self.y[i * w..(i + 1) * w]);
            }
        }
        out
    }

    fn clone_meta(&self) -> Prepared {
        Prepared {
            feature_names: self.feature_names.clone(),
            target_names: self.target_names.clone(),
            classes: self.classes.clone(),
            x: Vec::new(),
            labels: Vec::new(),
            y: Vec::new(),
        }
    }

    /// A core dataset over these rows.
    pub fn dataset(&self) -> Result<Dataset<'_>, String> {
        let targets = match &self.classes {
            Some(_) => Targets::Classes(&self.labels),
            None => Targets::Values {
                y: &self.y,
                width: self.target_names.len(),
            },
        };
        Dataset::new(&self.x, self.inputs(), targets).ok_or_else(|| "internal: inconsistent dataset".into())
    }
}

/// Reads the feature columns `names` of every row as finite numbers.
pub fn features(table: &Table, names: &[String]) -> Result<Vec<f32>, String> {
    let cols = names
        .iter()
        .map(|n| table.column(n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut x = Vec::with_capacity(table.rows.len() * cols.len());
    for row in &table.rows {
        for &c in &cols {
            x.push(table.number(row, c)?);
        }
    }
    Ok(x)
}

/// Picks the columns, parses every value and maps classes to labels.
pub fn prepare(table: &Table, cols: &Columns) -> Result<Prepared, String> {
    if cols.targets.is_empty() {
        return Err("--target: give the target column".into());
    }
    let tcols = cols
        .targets
        .iter()
        .map(|n| table.column(n))
        .collect::<Result<Vec<_>, _>>()?;
    let feature_names: Vec<String> = match &cols.features {
        Some(f) => {
            if let Some(t) = f.iter().find(|n| cols.targets.contains(n)) {
                return Err(format!("--features: {t:?} is also the target"));
            }
            f.clone()
        }
        None => table
            .header
            .iter()
            .filter(|h| !cols.targets.contains(h))
            .cloned()
            .collect(),
    };
    if feature_names.is_empty() {
        return Err(format!(
            "{}: no feature columns left besides the target",
            table.source
        ));
    }
    let x = features(table, &feature_names)?;
    let task = cols.task.unwrap_or_else(|| {
        let all_numeric = table
            .rows
            .iter()
            .all(|r| tcols.iter().all(|&c| table.number(r, c).is_ok()));
        if cols.classes.is_some() || !all_numeric {
            Task::Classify
        } else {
            Task::Regress
        }
    });
    let mut p = Prepared {
        feature_names,
        target_names: cols.targets.clone(),
        classes: None,
        x,
        labels: Vec::new(),
        y: Vec::new(),
    };
    match task {
        Task::Regress => {
            for row in &table.rows {
                for &c in &tcols {
                    p.y.push(table.number(row, c)?);
                }
            }
        }
        Task::Classify => {
            let [c] = tcols[..] else {
                return Err("--target: classification takes exactly one target column".into());
            };
            let (classes, labels) = label(table, c, cols.classes.as_deref())?;
            p.classes = Some(classes);
            p.labels = labels;
        }
    }
    Ok(p)
}

fn label(table: &Table, col: usize, fixed: Option<&[String]>) -> Result<(Vec<String>, Vec<u16>), String> {
    let classes: Vec<String> = match fixed {
        Some(f) => f.to_vec(),
        None => {
            let mut c: Vec<String> = table.rows.iter().map(|r| r.fields[col].clone()).collect();
            c.sort();
            c.dedup();
            c
        }
    };
    if classes.len() > usize::from(u16::MAX) {
        return Err(format!("{}: too many classes ({})", table.source, classes.len()));
    }
    let mut labels = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let name = &row.fields[col];
        let i = classes.iter().position(|c| c == name).ok_or_else(|| {
            format!(
                "{}: unknown class {name:?} (the model's classes: {})",
                table.at(row, col),
                classes.join(", ")
            )
        })?;
        labels.push(i as u16);
    }
    Ok((classes, labels))
}
