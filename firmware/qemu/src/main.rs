//! The accelerometer online-learning firmware for QEMU: the simulated stream of
//! `microtrain-stream`, a 9-16-3 MLP trained one Adam step per labelled window, a
//! regime change halfway. Logs through defmt over semihosting; the exit status is the
//! verdict (0: every bound met).
#![no_std]
#![no_main]

mod cmdline;
mod stack;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use defmt::{error, info};
use defmt_semihosting as _;
use microtrain_stream::scenario::{self, Bounds, Event};
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{App, Config, Learner, ModelStorage, EMPTY_STORAGE};

#[entry]
fn main() -> ! {
    // All model memory is this static: parameters, gradients, Adam moments, activations.
    static mut STORAGE: ModelStorage = EMPTY_STORAGE;
    static mut ARGS: [u8; 256] = [0; 256];
    stack::paint();
    let ok = run(STORAGE, ARGS);
    info!(
        "stack peak {=u32} bytes (of {=u32} free for the stack)",
        stack::peak(),
        stack::size()
    );
    info!("verdict {=str}", if ok { "pass" } else { "FAIL" });
    exit(ok)
}

fn run(storage: &'static mut ModelStorage, args: &'static mut [u8]) -> bool {
    let mut cfg = Config::DEFAULT;
    if let Some(line) = cmdline::read(args) {
        if let Err(e) = cfg.apply_args(line) {
            error!("bad command line {=str}: {}", line, e);
            return false;
        }
    }
    info!(
        "stream: seed {=u64}, {=u32} windows, change at {=u32}, label every {=u32}",
        cfg.seed, cfg.windows, cfg.change_at, cfg.label_every
    );
    let learner = match Learner::new(storage, cfg.seed) {
        Ok(l) => l,
        Err(e) => {
            error!("model: {}", e);
            return false;
        }
    };
    let mut app = App::new(learner, FULL_SCALE_G);
    let report = match scenario::run(&cfg, &mut app, log_event) {
        Ok(r) => r,
        Err(e) => {
            error!("run stopped: {}", e);
            return false;
        }
    };
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
    match report.check(&Bounds::DEFAULT) {
        Ok(()) => true,
        Err(miss) => {
            error!("missed bound {} ({})", miss, Bounds::DEFAULT);
            false
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
