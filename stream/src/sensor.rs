//! The application's view of an accelerometer: one 3-axis reading at a time.
//!
//! The application never talks to a bus itself. A board implements [`Accelerometer`]
//! over its driver (on the micro:bit v2, the `lsm303agr` crate over an embedded-hal 1.0
//! I2C bus); the simulator and the QEMU firmware implement it with
//! [`SimAccelerometer`](crate::sim::SimAccelerometer).

/// One acceleration sample, `[x, y, z]` in units of g (9.81 m/s²).
pub type Reading = [f32; 3];

/// Why a read failed at the sensor or on its bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SensorError {
    /// The bus (I2C, SPI) reported an error: NACK, arbitration loss, timeout...
    Bus,
    /// The sensor had no new sample (polled too early).
    NotReady,
}

/// A 3-axis accelerometer sampled at the application's fixed rate.
pub trait Accelerometer {
    /// Reads the next sample (blocking until it is due).
    fn read(&mut self) -> Result<Reading, SensorError>;
}
