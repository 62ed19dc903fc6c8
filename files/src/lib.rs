//! microtrain's files on the host, shared by the simulator (`microtrain-sim`) and the
//! Python package: trained models on disk ([`SavedModel`]: the core's binary `.mtm`
//! and a JSON format that keeps column and class names), the core's optimizers,
//! schedules, losses and activations from their names ([`by_name`]), and files
//! written atomically ([`atomic_file`]).
#![deny(missing_docs)]

pub mod atomic_file;
pub mod by_name;
pub mod layer_kind;
mod saved_model;

pub use saved_model::SavedModel;

use microtrain::Dense;

/// `4-8-3 (relu, identity)`: a shape in one line.
pub fn describe(layers: &[Dense]) -> String {
    let mut s = microtrain::shape::inputs(layers).to_string();
    for l in layers {
        s.push_str(&format!("-{}", l.outputs));
    }
    let acts: Vec<String> = layers
        .iter()
        .map(|l| by_name::activation_name(l.activation))
        .collect();
    format!("{s} ({})", acts.join(", "))
}
