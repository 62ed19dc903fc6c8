//! Human-activity recognition from a recorded 6-axis stream, replayed through
//! semihosting (`csv=PATH seed=N`): the BasicMotions pipeline of the README (a smart
//! watch's accelerometer and gyroscope, 4 activities), built for the device with the
//! stream crate's const generics: windows of 20 readings every 10, range 40. The two
//! binaries (`har`: an MLP on the window's features, `har-cnn`: a CNN on the raw
//! window) differ only in their model; this is the rest.

use crate::{cmdline, replay};
use defmt::{error, info};
use microtrain::{Adam, Buffers, Dense, Plan};
use microtrain_stream::{App, Learner};

/// Readings per window and between two windows' starts.
pub const LEN: usize = 20;
pub const HOP: usize = 10;
/// Axes per reading: accelerometer x, y, z, gyroscope x, y, z.
pub const AXES: usize = 6;
/// The activities, in the order the simulator sorts their names.
pub const CLASS_NAMES: [&str; 4] = ["Badminton", "Running", "Standing", "Walking"];
pub const CLASSES: usize = CLASS_NAMES.len();
/// The sensor's full scale in the recording's units (the gyroscope reaches about 30).
pub const RANGE: f32 = 40.0;

/// Reads `csv=PATH seed=N` from the command line, builds the learner (`layers` over
/// `buffers`, Adam `opt`, plan `P`, `INPUTS` values per window: the features or the
/// raw window) and replays the file. `true` when every row was read.
pub fn run<P: Plan, const INPUTS: usize>(
    model: &str,
    layers: &'static [Dense],
    buffers: Buffers<'static>,
    opt: Adam,
    args: &'static mut [u8],
) -> bool {
    let line = cmdline::read(args).unwrap_or("");
    let (mut csv, mut seed) = (None, 42u64);
    for word in line.split_ascii_whitespace() {
        match word.split_once('=') {
            Some(("csv", p)) if !p.is_empty() => csv = Some(p),
            Some(("seed", v)) => match v.parse() {
                Ok(s) => seed = s,
                Err(_) => {
                    error!("seed= takes a whole number, not {=str}", v);
                    return false;
                }
            },
            Some((k, _)) => {
                error!("unknown setting {=str} (expected csv=PATH and seed=N)", k);
                return false;
            }
            None => {}
        }
    }
    let Some(path) = csv else {
        error!("no recording: csv=PATH");
        return false;
    };
    info!(
        "har: {=usize} axes, windows of {=usize} every {=usize}, range {=f32}, {=str}, {=usize} inputs, {=usize} classes, seed {=u64}",
        AXES, LEN, HOP, RANGE, model, INPUTS, CLASSES, seed
    );
    let learner = match Learner::<P, INPUTS, CLASSES>::with_model(layers, buffers, opt, seed) {
        Ok(l) => l,
        Err(e) => {
            error!("model: {}", e);
            return false;
        }
    };
    let app = App::<'_, LEN, HOP, P, AXES, INPUTS, CLASSES>::with_window(learner, RANGE);
    replay::run(path, &CLASS_NAMES, app) == replay::Replayed::Done
}
