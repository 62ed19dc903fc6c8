//! # microtrain-stream
//!
//! Online learning from a 3-axis accelerometer stream, independent of any board:
//! the firmware (QEMU and the BBC micro:bit v2) and the simulator's `stream` command
//! run this crate's code, so the host can test everything the device does, down to the
//! bits of the final weights.
//!
//! ```text
//!  Accelerometer::read ──► Validator ──► Window (32 readings, heapless)
//!   (sensor trait)       (bad data is      │ full
//!                         counted, dropped) ▼
//!                              features (9) ──► Learner::predict ──► prediction / metrics
//!                                          └──► Learner::learn (one Adam step) if labelled
//! ```
//!
//! - [`sensor`]: the application's sensor trait and readings.
//! - [`validate`]: NaN, saturated, stuck readings and bus errors, counted and skipped.
//! - [`window`], [`features`]: fixed-rate windows and their features.
//! - [`model`]: the 9-16-3 MLP, its static storage type, the [`Learner`].
//! - `fine_tune` (float builds): the model pretrained on the desktop, in flash, with
//!   only its last layer adapting on the device.
//! - [`app`]: the whole per-window loop, [`App`]: window length and hop, axes, model
//!   inputs and classes are its const generics (the demo's by default), the model a
//!   [`Learner`] of any layers ([`Learner::with_model`]).
//! - [`metrics`]: sliding and overall accuracy, mean loss.
//! - [`sim`]: the seeded simulated accelerometer with its concept change.
//! - [`pipeline`]: the pipeline's shape as configuration (window, hop, rate, classes, range, axes, input).
//! - [`config`], [`scenario`]: the simulated run, its bounds and its [`Report`].
//! - [`standardize`]: running mean and variance of the inputs.
//! - [`checksum`]: FNV-1a over the weights' bits.
//! - [`csv_row`]: a recorded stream's CSV rows, for a firmware that replays one.
//!
//! No allocator, no `unsafe`; with the `defmt` feature every report type is
//! `defmt::Format`.
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod app;
pub mod checksum;
pub mod config;
pub mod csv_row;
pub mod features;
#[cfg(not(feature = "fixed"))]
pub mod fine_tune;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod scenario;
pub mod sensor;
pub mod sim;
pub mod standardize;
pub mod validate;
pub mod window;

pub use app::{App, WindowOutcome};
pub use checksum::weights_checksum;
pub use config::Config;
pub use model::{Learner, ModelStorage, EMPTY_STORAGE};
pub use pipeline::{InputKind, Pipeline};
pub use scenario::{run, Bounds, Event, Report};
pub use sensor::{Accelerometer, Reading, SensorError};
pub use sim::SimAccelerometer;
