//! Layers: forward and backward passes over caller-owned slices.
//!
//! A model is a stack of [`dense`] layers; the whole stack's forward and backward
//! passes live in [`dense::forward`] and [`dense::backward`].

pub mod dense;
