//! Models on the host: [`HostModel`], a shape known only at run time on heap buffers,
//! trained through the core's `Trainer`, and [`SavedModel`], a trained model in a file
//! (`.mtm` for a firmware, `.json` with column and class names).

mod host_model;
mod saved_model;

pub use host_model::HostModel;
pub use saved_model::SavedModel;

use microtrain::Dense;

/// `4-8-3 (relu, identity)`: a shape in one line.
pub fn describe(layers: &[Dense]) -> String {
    let mut s = microtrain::shape::inputs(layers).to_string();
    for l in layers {
        s.push_str(&format!("-{}", l.outputs));
    }
    let acts: Vec<&str> = layers.iter().map(|l| l.activation.name()).collect();
    format!("{s} ({})", acts.join(", "))
}
