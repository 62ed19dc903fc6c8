//! Datasets in caller memory (flash or RAM), batches, and the descent modes.
//!
//! A [`Dataset`] is a view of `n` rows of inputs (row-major, `inputs` floats each) and
//! their targets (one row of values each, or one class label each). It is never
//! copied: batches are lists of row indices into it, so a `const` dataset in flash
//! trains without a byte of RAM for the data.
//!
//! Descent modes, all through [`fit_epoch`]: **batch** (`batch_size = n`, one step per
//! epoch), **stochastic** (`batch_size = 1`), **minibatch** (anything between). The row
//! [`Order`] is sequential, a fresh seeded permutation per epoch (without
//! replacement), or rows drawn with replacement. For streams, see
//! [`Trainer::train_sample`] and [`Trainer::train_batch`]: a device never needs a
//! dataset at all.

use crate::error::{Buffer, ConfigError, StepError};
use crate::loss::Target;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::Trainer;

/// A batch of samples: anything that can hand out its `i`-th input and target, twice
/// (once to check them, once to train).
pub trait Batch {
    /// Number of samples.
    fn len(&self) -> usize;

    /// `true` when there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th sample's input and target.
    fn sample(&self, i: usize) -> Result<(&[f32], Target<'_>), StepError>;
}

/// A batch of one sample.
#[derive(Debug, Clone, Copy)]
pub struct SingleSample<'a> {
    /// The input.
    pub x: &'a [f32],
    /// The target.
    pub target: Target<'a>,
}

impl Batch for SingleSample<'_> {
    fn len(&self) -> usize {
        1
    }

    fn sample(&self, i: usize) -> Result<(&[f32], Target<'_>), StepError> {
        if i == 0 {
            Ok((self.x, self.target))
        } else {
            Err(StepError::IndexOutOfRange { index: i, len: 1 })
        }
    }
}

/// The targets of a dataset.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// `width` values per row, row-major.
    Values {
        /// All rows' values.
        y: &'a [f32],
        /// Values per row (the model's outputs).
        width: usize,
    },
    /// One class label per row.
    Classes(&'a [u16]),
}

/// `n` rows of inputs and targets in caller memory.
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    x: &'a [f32],
    inputs: usize,
    targets: Targets<'a>,
    rows: usize,
}

/// The rows of a dataset given by a list of indices, as one batch.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'d, 'i> {
    data: &'d Dataset<'d>,
    indices: &'i [u32],
}

/// A contiguous range of rows of a dataset, as one batch.
#[derive(Debug, Clone, Copy)]
pub struct Range<'d> {
    data: &'d Dataset<'d>,
    start: usize,
    len: usize,
}

impl<'a> Dataset<'a> {
    /// A dataset of `x.len() / inputs` rows. `None` when `inputs` is 0, when `x` is not
    /// a whole number of rows, or when the targets do not have one row (or label) per
    /// input row.
    pub fn new(x: &'a [f32], inputs: usize, targets: Targets<'a>) -> Option<Self> {
        if inputs == 0 || x.len() % inputs != 0 {
            return None;
        }
        let rows = x.len() / inputs;
        let ok = match targets {
            Targets::Values { y, width } => width > 0 && y.len() == rows.checked_mul(width)?,
            Targets::Classes(c) => c.len() == rows,
        };
        ok.then_some(Dataset {
            x,
            inputs,
            targets,
            rows,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// `true` when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Inputs per row.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Row `i`'s input and target.
    pub fn row(&self, i: usize) -> Result<(&'a [f32], Target<'a>), StepError> {
        let oob = StepError::IndexOutOfRange {
            index: i,
            len: self.rows,
        };
        let start = i.checked_mul(self.inputs).ok_or(oob)?;
        let x = self.x.get(start..start.saturating_add(self.inputs)).ok_or(oob)?;
        let t = match self.targets {
            Targets::Values { y, width } => {
                let s = i.checked_mul(width).ok_or(oob)?;
                Target::Values(y.get(s..s.saturating_add(width)).ok_or(oob)?)
            }
            Targets::Classes(c) => Target::Class(usize::from(*c.get(i).ok_or(oob)?)),
        };
        Ok((x, t))
    }

    /// The rows `indices` as one batch.
    pub fn rows<'d, 'i>(&'d self, indices: &'i [u32]) -> Rows<'d, 'i> {
        Rows { data: self, indices }
    }

    /// Rows `start..start + len` as one batch.
    pub fn range(&'a self, start: usize, len: usize) -> Range<'a> {
        Range {
            data: self,
            start,
            len,
        }
    }
}

impl Batch for Rows<'_, '_> {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn sample(&self, i: usize) -> Result<(&[f32], Target<'_>), StepError> {
        let idx = self.indices.get(i).ok_or(StepError::IndexOutOfRange {
            index: i,
            len: self.indices.len(),
        })?;
        self.data.row(*idx as usize)
    }
}

impl Batch for Range<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn sample(&self, i: usize) -> Result<(&[f32], Target<'_>), StepError> {
        if i >= self.len {
            return Err(StepError::IndexOutOfRange {
                index: i,
                len: self.len,
            });
        }
        self.data.row(self.start.saturating_add(i))
    }
}

impl Batch for Dataset<'_> {
    fn len(&self) -> usize {
        self.rows
    }

    fn sample(&self, i: usize) -> Result<(&[f32], Target<'_>), StepError> {
        self.row(i)
    }
}

/// The order in which an epoch visits the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Order {
    /// Rows in dataset order, consecutive batches (the last may be smaller).
    Sequential,
    /// A fresh uniformly random permutation per epoch (sampling without replacement):
    /// every row once per epoch. Needs an index buffer of `n` entries.
    Shuffled,
    /// `n` rows drawn uniformly with replacement per epoch. Needs an index buffer of
    /// `batch_size` entries.
    WithReplacement,
}

impl Order {
    /// Entries of the index buffer [`fit_epoch`] needs for `rows` rows.
    pub const fn indices_needed(self, rows: usize, batch_size: usize) -> usize {
        match self {
            Order::Sequential => 0,
            Order::Shuffled => rows,
            Order::WithReplacement => batch_size,
        }
    }
}

/// Why an epoch stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EpochError {
    /// The batch size is 0.
    ZeroBatchSize,
    /// The dataset has no rows (or more than `u32::MAX`).
    DatasetSize {
        /// Rows in the dataset.
        rows: usize,
    },
    /// The index buffer is too small for the order (see [`Order::indices_needed`]).
    Config(ConfigError),
    /// Row `row` of the dataset is invalid (checked before any step: nothing changed).
    BadRow {
        /// The row.
        row: usize,
        /// What is wrong with it.
        error: StepError,
    },
    /// Step `step` of the epoch was rejected (its loss or gradient was not finite).
    /// That step changed nothing; the epoch's earlier steps were applied.
    Step {
        /// Index of the step within the epoch.
        step: usize,
        /// Why.
        error: StepError,
    },
}

/// What an epoch did.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EpochStats {
    /// Mean over the epoch's samples of the loss (each batch's loss before its step).
    pub loss: f32,
    /// Optimizer steps taken.
    pub steps: u32,
}

/// Loss and accuracy of a model on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Metrics {
    /// Mean loss.
    pub loss: f32,
    /// Fraction of rows classified right: the largest output against the target's
    /// largest value (or label); with one output, `output >= 0.5` (sigmoid) against
    /// `target >= 0.5`.
    pub accuracy: f32,
}

/// One epoch of descent over `data` in batches of `batch_size` rows.
///
/// Every row is checked first (a bad row stops the epoch before any step). `indices`
/// must hold [`Order::indices_needed`] entries; `rng` draws the order.
pub fn fit_epoch<O: Optimizer>(
    trainer: &mut Trainer<'_, O>,
    data: &Dataset<'_>,
    batch_size: usize,
    order: Order,
    rng: &mut Rng,
    indices: &mut [u32],
) -> Result<EpochStats, EpochError> {
    let n = data.len();
    if batch_size == 0 {
        return Err(EpochError::ZeroBatchSize);
    }
    if n == 0 || n > u32::MAX as usize {
        return Err(EpochError::DatasetSize { rows: n });
    }
    let needed = order.indices_needed(n, batch_size);
    let provided = indices.len();
    let indices = indices
        .get_mut(..needed)
        .ok_or(EpochError::Config(ConfigError::BufferTooSmall {
            buffer: Buffer::Indices,
            needed,
            provided,
        }))?;
    for row in 0..n {
        let (x, t) = data.row(row).map_err(|error| EpochError::BadRow { row, error })?;
        trainer
            .check_sample(x, &t)
            .map_err(|error| EpochError::BadRow { row, error })?;
    }
    if order == Order::Shuffled {
        indices.iter_mut().enumerate().for_each(|(i, v)| *v = i as u32);
        rng.shuffle(indices);
    }
    let mut total = 0.0f32;
    let mut steps = 0u32;
    let mut start = 0usize;
    while start < n {
        let len = batch_size.min(n - start);
        let result = match order {
            Order::Sequential => trainer.train_batch(&data.range(start, len)),
            Order::Shuffled => {
                let idx = indices.get(start..start + len).unwrap_or(&[]);
                trainer.train_batch(&data.rows(idx))
            }
            Order::WithReplacement => {
                let idx = indices.get_mut(..len).unwrap_or(&mut []);
                idx.iter_mut().for_each(|v| *v = rng.below(n as u32));
                trainer.train_batch(&data.rows(idx))
            }
        };
        let loss = result.map_err(|error| EpochError::Step {
            step: steps as usize,
            error,
        })?;
        total += loss * len as f32;
        steps += 1;
        start += len;
    }
    Ok(EpochStats {
        loss: total / n as f32,
        steps,
    })
}

/// Loss and accuracy of the model on every row of `data` (no training).
pub fn evaluate<O: Optimizer>(
    trainer: &mut Trainer<'_, O>,
    data: &Dataset<'_>,
) -> Result<Metrics, StepError> {
    let n = data.len();
    if n == 0 {
        return Err(StepError::EmptyBatch);
    }
    let mut loss = 0.0f32;
    let mut right = 0usize;
    for i in 0..n {
        let (x, t) = data.row(i)?;
        loss += trainer.sample_loss(x, &t)?;
        if trainer.last_output_matches(&t) {
            right += 1;
        }
    }
    Ok(Metrics {
        loss: loss / n as f32,
        accuracy: right as f32 / n as f32,
    })
}

/// Index of the largest value (the first one on ties); 0 for an empty slice.
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    let mut best_v = f32::NEG_INFINITY;
    for (i, x) in v.iter().enumerate() {
        if *x > best_v {
            best = i;
            best_v = *x;
        }
    }
    best
}

/// Whether a model output classifies a target right (see [`Metrics::accuracy`]).
pub fn is_correct(output: &[f32], target: &Target<'_>) -> bool {
    if let [p] = output {
        return (*p >= 0.5) == (target.value(0) >= 0.5);
    }
    let want = match target {
        Target::Class(c) => *c,
        Target::Values(v) => argmax(v),
    };
    argmax(output) == want
}

impl core::fmt::Display for EpochError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EpochError::ZeroBatchSize => write!(f, "the batch size is 0"),
            EpochError::DatasetSize { rows } => write!(f, "the dataset has {rows} rows"),
            EpochError::Config(e) => write!(f, "{e}"),
            EpochError::BadRow { row, error } => write!(f, "row {row}: {error}"),
            EpochError::Step { step, error } => write!(f, "step {step} of the epoch rejected: {error}"),
        }
    }
}

impl core::error::Error for EpochError {}
