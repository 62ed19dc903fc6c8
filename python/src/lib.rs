//! # microtrain-py
//!
//! The Python package `microtrain`: the core's training runtime, bit for bit, from
//! Python (PyO3; built by maturin, see `python/pyproject.toml` and `python/README.md`).
//! The Flower app in `fleet/` runs every simulated device through it.
//!
//! The crate is plain Rust unless the `python` feature is on (maturin turns it on):
//!
//! - [`net`]: [`net::Net`], a model of any shape, loss and optimizer on heap buffers,
//!   trained through the core's `Trainer`;
//! - [`spec`]: shapes, losses and optimizers from the simulator's names;
//! - [`sim`]: the stream scenario's simulated sensor as feature windows;
//! - [`json`]: the simulator's JSON model format;
//! - `bindings` (feature `python`): the Python classes and functions over these.
#![deny(missing_docs)]

pub mod json;
pub mod net;
pub mod sim;
pub mod spec;

#[cfg(feature = "python")]
mod bindings;
