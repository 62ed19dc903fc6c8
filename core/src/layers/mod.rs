//! Layers: forward and backward passes over caller-owned slices.
//!
//! A model is a stack of [`dense`] layers; the whole stack's forward and backward
//! passes live in [`dense::forward`] and [`dense::backward`]. They cut each layer's
//! slices from the flat buffers and call the [`crate::kernels`] on them, which know
//! nothing of layers.

pub mod dense;
pub(crate) mod layout;
