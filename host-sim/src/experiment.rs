//! The preparation every training command shares: a seeded train/validation split and
//! feature standardization computed on the training rows only.

use crate::data::{self, Prepared};
use crate::standardize::Standardizer;

/// Training and validation rows, standardized if asked.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training rows.
    pub train: Prepared,
    /// Validation rows (possibly none).
    pub val: Prepared,
    /// The standardization applied to both, if any.
    pub scaler: Option<Standardizer>,
}

/// Splits `p` (validation fraction `val_split`, shuffled with `seed`) and
/// standardizes the features with the training rows' statistics.
pub fn split_and_scale(p: &Prepared, val_split: f64, seed: u64, standardize: bool) -> Result<Split, String> {
    let (ti, vi) = data::split(p.rows(), val_split, seed)?;
    let mut train = p.subset(&ti);
    let mut val = p.subset(&vi);
    let scaler = standardize.then(|| Standardizer::fit(&train.x, train.inputs()));
    if let Some(s) = &scaler {
        s.apply(&mut train.x);
        s.apply(&mut val.x);
    }
    Ok(Split { train, val, scaler })
}

/// `98.3 % (118/120)`.
pub fn percent(accuracy: f32, rows: usize) -> String {
    let right = (f64::from(accuracy) * rows as f64).round() as usize;
    format!("{:.1} % ({right}/{rows})", f64::from(accuracy) * 100.0)
}
