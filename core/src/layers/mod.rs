//! Layers: forward and backward passes over caller-owned slices.
//!
//! A model is a stack of [`dense`] layers; the whole stack's forward and backward
//! passes live in [`dense::forward`] and [`dense::backward`]. A model with other kinds
//! of layers (convolution, pooling, see [`crate::shape::Kind`]) takes the passes of
//! [`kinds`], one function per kind over the same walk. Every pass over the
//! stack is a loop over one walk (`walk.rs`: each layer's places in the flat buffers,
//! from the first layer or the last), which cuts each layer's slices and calls the
//! [`crate::kernels`] on them, which know nothing of layers; `layout.rs` says where
//! the outputs and error terms lie in the activation buffer.

pub mod dense;
pub mod kinds;
pub(crate) mod layout;
pub(crate) mod partial;
pub(crate) mod walk;
