//! The preparation every training command shares: a seeded train/validation split and
//! feature standardization computed on the training rows only.

use super::standardize::Standardizer;
use super::Prepared;
use microtrain::Rng;

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
    let (ti, vi) = split(p.rows(), val_split, seed)?;
    let mut train = p.subset(&ti);
    let mut val = p.subset(&vi);
    let scaler = standardize.then(|| Standardizer::fit(&train.x, train.inputs()));
    if let Some(s) = &scaler {
        s.apply(&mut train.x);
        s.apply(&mut val.x);
    }
    Ok(Split { train, val, scaler })
}

/// Splits `0..n` after a seeded shuffle: the last `round(n * val_fraction)` indices
/// go to validation. `val_fraction` must be in `[0, 1)`.
fn split(n: usize, val_fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>), String> {
    if !(0.0..1.0).contains(&val_fraction) {
        return Err(format!("--val-split: {val_fraction} is not in [0, 1)"));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed ^ 0x5EED_0000_0000_0001).shuffle(&mut idx);
    let nval = (n as f64 * val_fraction).round() as usize;
    if n - nval == 0 {
        return Err(format!(
            "--val-split: {val_fraction} leaves no training rows of {n}"
        ));
    }
    let val = idx.split_off(n - nval);
    Ok((idx, val))
}
