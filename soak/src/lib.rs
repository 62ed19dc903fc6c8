//! # microtrain-soak
//!
//! A long run of online training (batch 1, [`Trainer::train_sample`](microtrain::Trainer::train_sample))
//! on a synthetic stream whose target function changes every so many steps, to check
//! what only shows after millions of steps: counters that overflow (the step count is
//! a saturating `u32`; Adam's bias corrections at large `k`; Adagrad's accumulator
//! that only grows), NaN or infinity creeping into the parameters, and memory growth
//! (the training storage is one fixed-size `Storage`; the binary counts heap
//! allocations during the run: there are none).
//!
//! The binary `microtrain-soak` runs 10 million steps per optimizer (Adam, Adagrad,
//! SGD with momentum) by default, `--short` 100 000 for CI.
#![deny(missing_docs)]

pub mod run;
pub mod stream;

pub use run::{run, RegimeLoss, Report, Which};
