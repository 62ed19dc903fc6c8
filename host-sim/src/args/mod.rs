//! Options several commands share, so that each is spelled, documented and checked
//! once: groups of options as clap `Args` structs, flattened into the commands that
//! take them (the data, [`DataArgs`]; the model shape, [`ShapeArgs`]; the optimizer
//! and schedule, [`OptimizerArgs`]), and the parser of `--batch-size`
//! ([`batch_size()`]).

mod batch;
mod data;
mod freeze;
pub mod optimizer;
mod shape;

pub use batch::batch_size;
pub use data::{require_target, DataArgs};
pub use freeze::FreezeArgs;
pub use optimizer::OptimizerArgs;
pub use shape::ShapeArgs;
