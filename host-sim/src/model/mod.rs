//! Models on the host: [`HostModel`], a shape known only at run time on heap buffers,
//! trained through the core's `Trainer`, and [`SavedModel`], a trained model in a file
//! (`.mtm` for a firmware, `.json` with column and class names; from `microtrain-files`).

mod host_model;

pub use host_model::HostModel;
pub use microtrain_files::{describe, SavedModel};
