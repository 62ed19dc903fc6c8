//! A fleet device for one federated round (`fleet/fleet_app/qemu_bridge.py`): the
//! stream application's model takes the global weights from a model file on the host,
//! trains on its simulated sensor's windows of this round (one Adam step per labelled
//! window, a fresh optimizer, as the Python package's `local_round`), and writes its
//! weights back as a model file. Both files go through semihosting, as the
//! checkpoints' flash does.
//!
//! Command line (QEMU's `-append`), every key required:
//!
//! ```text
//! in=PATH out=PATH seed=N change_at=N start=N windows=N
//! ```
//!
//! `seed` is the device's run seed (the sensor is seeded with `stream_seed(seed)`),
//! `change_at` the window its user and mounting change, `start` the first window of
//! this round (the windows before it are read and screened but not used), `windows`
//! the windows of the round; windows `start`, `start + 2`, ... are labelled.
//!
//! Exit status 0 when the round ran and the file was written; 1 with a logged reason
//! otherwise (a missing or malformed model file, one of another shape, bad settings).
#![no_std]
#![no_main]

#[path = "../cmdline.rs"]
mod cmdline;
#[path = "../halt.rs"]
mod halt;
#[path = "../hostfile.rs"]
mod hostfile;

use cortex_m_rt::entry;
use defmt::{error, info};
use defmt_semihosting as _;
use hostfile::{HostFile, Mode};
use microtrain::model_file::{self, ModelFile};
use microtrain_stream::model::LAYERS;
use microtrain_stream::scenario::fill_window;
use microtrain_stream::sim::{SimAccelerometer, FULL_SCALE_G};
use microtrain_stream::{weights_checksum, App, Learner, ModelStorage, EMPTY_STORAGE};

/// Bytes of the model file of [`LAYERS`].
const FILE_LEN: usize = model_file::encoded_len(&LAYERS);

/// The round's settings.
struct Round<'a> {
    input: &'a str,
    output: &'a str,
    seed: u64,
    change_at: u32,
    start: u32,
    windows: u32,
}

/// The settings of `line`, or the key that is missing or malformed.
fn parse(line: &str) -> Result<Round<'_>, &str> {
    let get = |key: &'static str| {
        line.split_ascii_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .ok_or(key)
    };
    let num = |key: &'static str| get(key).and_then(|v| v.parse::<u64>().map_err(|_| key));
    let num32 = |key: &'static str| num(key).and_then(|v| u32::try_from(v).map_err(|_| key));
    Ok(Round {
        input: get("in")?,
        output: get("out")?,
        seed: num("seed")?,
        change_at: num32("change_at")?,
        start: num32("start")?,
        windows: num32("windows")?,
    })
}

fn round(storage: &'static mut ModelStorage, args: &'static mut [u8]) -> Result<(), &'static str> {
    let line = cmdline::read(args).ok_or("no command line")?;
    let r = parse(line).map_err(|key| {
        error!("setting {=str}= missing or not a number", key);
        "bad command line (in= out= seed= change_at= start= windows=)"
    })?;
    let mut bytes = [0u8; FILE_LEN];
    let mut file =
        HostFile::open(r.input, Mode::ReadWrite).map_err(|_| "cannot open the input model file")?;
    if file.len().map_err(|_| "cannot size the input model file")? != FILE_LEN {
        return Err("the input model file is not the size of the stream model's (9-16-3)");
    }
    file.read_at(0, &mut bytes)
        .map_err(|_| "cannot read the input model file")?;
    drop(file);
    let parsed = ModelFile::parse(&bytes).map_err(|_| "the input is not a model file")?;
    if !parsed.matches(&LAYERS) {
        return Err("the input model file is not of the stream model's shape (9-16-3)");
    }
    let mut params = [0.0f32; microtrain::shape::params_len(&LAYERS)];
    parsed
        .read_params(&mut params)
        .map_err(|_| "cannot read the parameters")?;

    // A fresh model whose weights are replaced: a fresh Adam, as the Python package's
    // `local_round` (`Model.stream(seed)` then `set_params`).
    let mut learner = Learner::new(storage, r.seed).map_err(|_| "model set-up failed")?;
    learner
        .trainer_mut()
        .load_params(&params)
        .map_err(|_| "the model file's parameters are not finite")?;
    let mut app = App::new(learner, FULL_SCALE_G);
    let mut sensor = SimAccelerometer::new(microtrain_stream::scenario::stream_seed(r.seed), r.change_at);
    let end = r
        .start
        .checked_add(r.windows)
        .ok_or("start + windows too large")?;
    for w in 0..end {
        fill_window(&mut app, &mut sensor, w).map_err(|_| "the sensor never filled a window")?;
        if w < r.start {
            app.skip_window();
        } else {
            let label = ((w - r.start) % 2 == 0).then(|| sensor.truth());
            app.finish_window(label, Some(sensor.truth()))
                .map_err(|_| "a training step was rejected")?;
        }
    }
    let params = app.learner().params();
    let n = model_file::encode(&LAYERS, params, &mut bytes).map_err(|_| "cannot encode the model file")?;
    let out = bytes.get(..n).ok_or("model file length")?;
    let mut file =
        HostFile::open(r.output, Mode::Create).map_err(|_| "cannot create the output model file")?;
    file.write_at(0, out)
        .map_err(|_| "cannot write the output model file")?;
    info!(
        "round done: windows {=u32}..{=u32}, steps {=u32}, checksum {=u32:#010x}",
        r.start,
        end,
        app.learner().steps(),
        weights_checksum(params)
    );
    Ok(())
}

#[entry]
fn main() -> ! {
    static mut STORAGE: ModelStorage = EMPTY_STORAGE;
    static mut ARGS: [u8; 512] = [0; 512];
    let ok = match round(STORAGE, ARGS) {
        Ok(()) => true,
        Err(why) => {
            error!("fleet device: {=str}", why);
            false
        }
    };
    halt::exit(ok)
}
