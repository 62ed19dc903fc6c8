//! Online learning from a 3-axis accelerometer stream (placeholder, being written).
#![no_std]
#![deny(missing_docs)]
