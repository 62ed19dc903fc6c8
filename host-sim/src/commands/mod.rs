//! One module per command of the command line, each with its options (a clap `Args`
//! struct, except `conformance`'s one path, declared in `main.rs`) and its `run`.
//! What several commands share lives outside: the option groups in [`crate::args`],
//! the data in [`crate::data`], the models in [`crate::model`], the epoch loop in
//! [`crate::fit`] and the drawing in [`crate::figures`].

pub mod compare;
pub mod conformance;
pub mod demo;
pub mod memory;
pub mod predict;
pub mod stream;
pub mod train;
