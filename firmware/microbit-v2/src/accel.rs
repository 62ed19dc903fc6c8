//! The application's [`Accelerometer`] over the LSM303AGR's accelerometer on an
//! embedded-hal 1.0 I2C bus: ±2 g, normal mode (10 bits), 50 Hz.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use lsm303agr::interface::I2cInterface;
use lsm303agr::mode::MagOneShot;
use lsm303agr::{AccelMode, AccelOutputDataRate, Lsm303agr};
use microtrain_stream::{Accelerometer, Reading, SensorError};

/// The LSM303AGR accelerometer.
pub struct Lsm303Accel<I2C> {
    dev: Lsm303agr<I2cInterface<I2C>, MagOneShot>,
}

impl<I2C: I2c> Lsm303Accel<I2C> {
    /// Initialises the sensor at 50 Hz (the application's sample rate).
    pub fn new(i2c: I2C, delay: &mut impl DelayNs) -> Result<Self, SensorError> {
        let mut dev = Lsm303agr::new_with_i2c(i2c);
        dev.init().map_err(|_| SensorError::Bus)?;
        dev.set_accel_mode_and_odr(delay, AccelMode::Normal, AccelOutputDataRate::Hz50)
            .map_err(|_| SensorError::Bus)?;
        Ok(Lsm303Accel { dev })
    }
}

impl<I2C: I2c> Accelerometer for Lsm303Accel<I2C> {
    /// The newest sample in g, or [`SensorError::NotReady`] when the sensor has none
    /// since the last read (poll again), or [`SensorError::Bus`] on an I2C error.
    fn read(&mut self) -> Result<Reading, SensorError> {
        let status = self.dev.accel_status().map_err(|_| SensorError::Bus)?;
        if !status.xyz_new_data() {
            return Err(SensorError::NotReady);
        }
        let (x, y, z) = self.dev.acceleration().map_err(|_| SensorError::Bus)?.xyz_mg();
        Ok([x as f32 / 1000.0, y as f32 / 1000.0, z as f32 / 1000.0])
    }
}
