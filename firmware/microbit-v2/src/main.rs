//! The accelerometer online-learning application on a BBC micro:bit v2.
//!
//! The LSM303AGR is sampled at 50 Hz into windows of 32 readings; each window is
//! classified (rest / walk / shake, shown on the LED matrix) and, while a button is
//! held, learned with one Adam step: **A** = walk, **B** = shake, **A and B** = rest.
//! Bad readings (I2C errors, NaN, saturated or stuck values) are counted and skipped.
//! Logs go out through defmt over RTT; all model memory is one `static`.
//!
//! Checkpoints: at boot the newest checkpoint in the last two flash pages is restored
//! (so what was taught survives a reset or a power cut); after every
//! [`CHECKPOINT_EVERY`]-th training step a new one is saved.
//!
//! With the cargo feature `fine-tune`, the board starts from the model pretrained on
//! the desktop, kept in flash, and only its last layer adapts ([`model`]).
#![no_std]
#![no_main]

mod accel;
mod checkpoints;
mod leds;
mod model;
#[path = "../../qemu/src/stack.rs"]
mod stack;

use accel::Lsm303Accel;
use cortex_m_rt::entry;
use defmt::{error, info, warn};
use defmt_rtt as _;
use embedded_hal::digital::InputPin;
use microbit::display::blocking::Display;
use microbit::hal::twim::{self, Twim};
use microbit::hal::Timer;
use microbit::Board;
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{weights_checksum, Accelerometer, App, SensorError};
use panic_probe as _;

/// Seed of the model's initial weights.
const SEED: u64 = 42;
/// Log the running metrics every this many windows (about 32 s).
const LOG_EVERY: u32 = 50;
/// Training steps (labelled windows) between two checkpoints: about 32 s of holding
/// a button. Each save erases one page; the nRF52833's pages last at least 10 000
/// erases, so 100 labelled windows per page cycle give a million labelled windows.
const CHECKPOINT_EVERY: u32 = 50;
/// Milliseconds the display is refreshed between two polls of the sensor.
const REFRESH_MS: u32 = 4;

/// The label the buttons give: A = walk (1), B = shake (2), both = rest (0).
fn label(a: &mut impl InputPin, b: &mut impl InputPin) -> Option<usize> {
    // Active low; a pin that cannot be read counts as released.
    let a = a.is_low().unwrap_or(false);
    let b = b.is_low().unwrap_or(false);
    match (a, b) {
        (true, true) => Some(0),
        (true, false) => Some(1),
        (false, true) => Some(2),
        (false, false) => None,
    }
}

#[entry]
fn main() -> ! {
    // All model memory: parameters, gradients, Adam moments, activations.
    static mut STORAGE: model::Storage = model::EMPTY;
    stack::paint();
    let Some(board) = Board::take() else {
        error!("the board's peripherals were already taken");
        halt()
    };
    let mut timer = Timer::new(board.TIMER0);
    let i2c = Twim::new(board.TWIM0, board.i2c_internal.into(), twim::Frequency::K100);
    let mut sensor = match Lsm303Accel::new(i2c, &mut timer) {
        Ok(s) => s,
        Err(e) => {
            error!("LSM303AGR init failed: {}", e);
            halt()
        }
    };
    let mut display = Display::new(board.display_pins);
    let (mut button_a, mut button_b) = (board.buttons.button_a, board.buttons.button_b);
    let mut learner = match model::learner(STORAGE, SEED) {
        Ok(l) => l,
        Err(e) => {
            error!("model: {}", e);
            halt()
        }
    };
    // Without the checkpoint pages the application still runs, without checkpoints.
    let mut ckpt = checkpoints::open(board.NVMC);
    if let Some(c) = ckpt.as_mut() {
        checkpoints::restore(c, &mut learner);
    }
    let mut app = App::new(learner, FULL_SCALE_G);
    info!("microtrain on micro:bit v2: hold A = walk, B = shake, A+B = rest to teach");
    let (mut shown, mut labelling) = (0usize, false);
    loop {
        display.show(&mut timer, leds::image(shown, labelling), REFRESH_MS);
        let read = match sensor.read() {
            Err(SensorError::NotReady) => continue,
            r => r,
        };
        if !app.push(read) {
            continue;
        }
        let given = label(&mut button_a, &mut button_b);
        labelling = given.is_some();
        match app.finish_window(given, given) {
            Ok(out) => {
                shown = out.predicted;
                let steps = app.learner().steps();
                if let (Some(c), Some(_)) = (ckpt.as_mut(), out.loss) {
                    if steps % CHECKPOINT_EVERY == 0 {
                        checkpoints::save(c, app.learner());
                    }
                }
            }
            Err(e) => warn!("window rejected: {}", e),
        }
        if app.windows() % LOG_EVERY == 0 {
            let (recent, bad) = (app.metrics().recent(), app.bad_counts());
            info!(
                "window {=u32}: labelled accuracy {=u32}/{=u32}, loss {=f32}, steps {=u32}",
                app.windows(),
                recent.correct,
                recent.total,
                app.metrics_mut().take_mean_loss(),
                app.learner().steps()
            );
            info!(
                "bad readings: nan {=u32} saturated {=u32} stuck {=u32} bus {=u32}",
                bad.non_finite, bad.saturated, bad.stuck, bad.bus
            );
            info!(
                "checksum {=u32:#010x}, stack peak {=u32} of {=u32} bytes",
                weights_checksum(app.learner().params()),
                stack::peak(),
                stack::size()
            );
        }
    }
}

fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
