//! The accelerometer online-learning firmware for QEMU: the simulated stream of
//! `microtrain-stream`, a 9-16-3 MLP trained one Adam step per labelled window, a
//! regime change halfway. Logs through defmt over semihosting; the exit status is the
//! verdict (0: every bound met; also 0 for a run ended early by `stop_at`).
//! With `csv=PATH` it replays a recorded stream from a host file instead (cargo feature
//! `replay`, which adds the decimal-to-float parser: about 10 KB of code and 13 KB of
//! tables).
//! With `flash=PATH` it keeps checkpoints in an emulated flash saved in a host file and
//! resumes from them at boot (`checkpoints`); the command line is in [`options`].
//! With the cargo feature `fixed`, the model trains in fixed point
//! (`microtrain::fixed`, for chips without an FPU; `firmware/run-tests` runs it on the
//! Cortex-M0 machine); checkpoints then are not available. With the cargo feature
//! `fine-tune`, the model is the one pretrained on the desktop, kept in flash, and
//! only its last layer adapts ([`model`]).
#![no_std]
#![no_main]

#[cfg(not(feature = "fixed"))]
mod checkpoints;
mod cmdline;
#[cfg(not(feature = "fixed"))]
mod file_flash;
#[cfg(not(feature = "fixed"))]
mod hostfile;
mod model;
mod options;
#[cfg(all(feature = "replay", not(feature = "fixed")))]
mod replay;
mod stack;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use defmt::{error, info};
use defmt_semihosting as _;
use microtrain_stream::scenario::{Bounds, Demo, Event, Scenario};
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{weights_checksum, App};
use options::Options;

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every bound the run could measure was met.
    Pass,
    /// A bound was missed, or something failed.
    Fail,
    /// `stop_at` ended it early: no verdict.
    Stopped,
}

#[entry]
fn main() -> ! {
    // All model memory is this static: parameters, gradients, Adam moments, activations.
    static mut STORAGE: model::Storage = model::EMPTY;
    static mut ARGS: [u8; 256] = [0; 256];
    stack::paint();
    let outcome = run(STORAGE, ARGS);
    info!(
        "stack peak {=u32} bytes (of {=u32} free for the stack)",
        stack::peak(),
        stack::size()
    );
    match outcome {
        Outcome::Pass => info!("verdict pass"),
        Outcome::Fail => info!("verdict FAIL"),
        Outcome::Stopped => info!("no verdict (stopped early)"),
    }
    exit(outcome != Outcome::Fail)
}

fn run(storage: &'static mut model::Storage, args: &'static mut [u8]) -> Outcome {
    let line = cmdline::read(args).unwrap_or("");
    let opts = match options::parse(line) {
        Ok(o) => o,
        Err(e) => {
            error!("bad command line {=str}: {}", line, e);
            return Outcome::Fail;
        }
    };
    let cfg = &opts.cfg;
    info!(
        "stream: seed {=u64}, {=u32} windows, change at {=u32}, label every {=u32}",
        cfg.seed, cfg.windows, cfg.change_at, cfg.label_every
    );
    info!("model: {=str}", model::NAME);
    let learner = match model::learner(storage, cfg.seed) {
        Ok(l) => l,
        Err(e) => {
            error!("model: {}", e);
            return Outcome::Fail;
        }
    };
    #[cfg(all(feature = "replay", not(feature = "fixed")))]
    if let Some(path) = opts.csv {
        let classes = microtrain_stream::csv_row::index_names(microtrain_stream::model::CLASSES);
        return match replay::run(path, classes, App::new(learner, opts.range)) {
            replay::Replayed::Done => Outcome::Pass,
            replay::Replayed::Failed => Outcome::Fail,
        };
    }
    #[cfg(not(all(feature = "replay", not(feature = "fixed"))))]
    if opts.csv.is_some() {
        error!(
            "csv= (a recorded stream from a host file) needs a float firmware built with the feature `replay`"
        );
        return Outcome::Fail;
    }
    match opts.flash {
        None => drive(&opts, App::new(learner, FULL_SCALE_G), 0, |_| true),
        #[cfg(not(feature = "fixed"))]
        Some(path) => checkpoints::run(path, &opts, learner),
        #[cfg(feature = "fixed")]
        Some(_) => {
            error!("flash= (checkpoints) needs the float model; this firmware trains in fixed point");
            Outcome::Fail
        }
    }
}

/// Runs the scenario from window `start` (the windows before it are replayed through
/// the app without being predicted, scored or trained on) to its end or to
/// `stop_at`, calling `on_step` after every training step (`false`: fail now), then
/// logs the results and judges them.
pub fn drive(
    opts: &Options<'_>,
    mut app: Demo<'_, model::Plan>,
    start: u32,
    mut on_step: impl FnMut(&Demo<'_, model::Plan>) -> bool,
) -> Outcome {
    let cfg = &opts.cfg;
    let mut sc = match Scenario::new(cfg) {
        Ok(s) => s,
        Err(e) => {
            error!("run stopped: {}", e);
            return Outcome::Fail;
        }
    };
    let mut sim = Scenario::simulated_source(cfg);
    let stop = opts.stop_at.map_or(cfg.windows, |s| s.min(cfg.windows));
    while sc.next_window() < start.min(cfg.windows) {
        if let Err(e) = sc.skip(&mut app, &mut sim) {
            error!("run stopped: {}", e);
            return Outcome::Fail;
        }
    }
    while sc.next_window() < stop {
        match sc.step(&mut app, &mut sim, log_event) {
            Ok(out) if out.loss.is_some() && !on_step(&app) => return Outcome::Fail,
            Ok(_) => {}
            Err(e) => {
                error!("run stopped: {}", e);
                return Outcome::Fail;
            }
        }
    }
    if stop < cfg.windows {
        info!(
            "stopped after window {=u32} (stop_at): step {=u32}, checksum {=u32:#010x}",
            sc.next_window(),
            app.learner().steps(),
            weights_checksum(app.learner().params())
        );
        return Outcome::Stopped;
    }
    let report = sc.report(&app);
    let (b, a, e, o) = (report.before, report.after_change, report.end, report.overall);
    info!(
        "result before {=u32}/{=u32} after {=u32}/{=u32} end {=u32}/{=u32} overall {=u32}/{=u32}",
        b.correct, b.total, a.correct, a.total, e.correct, e.total, o.correct, o.total
    );
    info!("steps {=u32} unlabelled {=u32}", report.steps, report.unlabelled);
    let bad = report.bad;
    info!(
        "bad readings: nan {=u32} saturated {=u32} stuck {=u32} bus {=u32}",
        bad.non_finite, bad.saturated, bad.stuck, bad.bus
    );
    info!("checksum {=u32:#010x}", report.checksum);
    match report.check_from(&Bounds::DEFAULT, cfg, start) {
        Ok(()) => Outcome::Pass,
        Err(miss) => {
            error!("missed bound {} ({})", miss, Bounds::DEFAULT);
            Outcome::Fail
        }
    }
}

fn log_event(e: &Event) {
    match e {
        Event::Progress {
            window,
            recent,
            mean_loss,
            bad,
        } => info!(
            "window {=u32}: recent {=u32}/{=u32}, loss {=f32}, rejected {=u32}",
            window,
            recent.correct,
            recent.total,
            mean_loss,
            bad.total()
        ),
        Event::RegimeChange { window } => info!("regime change at window {=u32}", window),
        Event::Window { .. } => {}
    }
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Not reached under QEMU; on a debugger without semihosting exit, stop here.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(l) => error!("panic at {=str}:{=u32}", l.file(), l.line()),
        None => error!("panic"),
    }
    exit(false)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    error!("hard fault at pc {=u32:#010x}", frame.pc());
    exit(false)
}
