//! `microtrain-soak`: millions of online training steps per optimizer on a drifting
//! stream; prints the figures and fails (exit status 1) if a check fails.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Parser;
use microtrain_soak::{run, run::regimes, Which};

/// Counts heap allocations, to show that the training loop makes none.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is
// the only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Soak run of microtrain's online training (overflow, NaN, memory)"
)]
struct Args {
    /// Online steps per optimizer.
    #[arg(long, default_value_t = 10_000_000)]
    steps: u64,
    /// Steps between two changes of the target function.
    #[arg(long, default_value_t = 1_000_000)]
    regime_len: u64,
    /// Steps averaged for the first and last loss of each regime.
    #[arg(long, default_value_t = 10_000)]
    window: u64,
    /// The short version for CI: 100 000 steps, a change every 10 000, windows of 1000.
    #[arg(long)]
    short: bool,
    /// Only this optimizer (adam, adagrad, sgd-momentum); all three by default.
    #[arg(long)]
    optimizer: Option<String>,
}

/// A line of `/proc/self/status` in kB (Linux only; `None` elsewhere).
fn status_kb(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.short {
        (args.steps, args.regime_len, args.window) = (100_000, 10_000, 1_000);
    }
    let which: Vec<Which> = match args.optimizer.as_deref() {
        None => Which::ALL.to_vec(),
        Some(name) => match Which::ALL.into_iter().find(|w| w.name() == name) {
            Some(w) => vec![w],
            None => {
                eprintln!("error: --optimizer {name}: expected adam, adagrad or sgd-momentum");
                return ExitCode::from(2);
            }
        },
    };
    println!(
        "soak: {} steps per optimizer, target changes every {} steps, loss windows of {} steps",
        args.steps, args.regime_len, args.window
    );
    let mut ok = true;
    for w in which {
        let rss0 = status_kb("VmRSS:");
        let table = Vec::with_capacity(regimes(args.steps, args.regime_len));
        let allocs0 = ALLOCATIONS.load(Ordering::Relaxed);
        let t0 = Instant::now();
        let r = run(w, args.steps, args.regime_len, args.window, table);
        let secs = t0.elapsed().as_secs_f64();
        let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs0;
        let rss1 = status_kb("VmRSS:");
        println!("\n== {} ==", w.name());
        println!(
            "steps: {}  step_count: {}  rejected steps: {}  wall time: {secs:.2} s ({:.0} steps/s)",
            r.steps,
            r.step_count,
            r.rejected,
            r.steps as f64 / secs
        );
        println!(
            "all params and state finite: {}  max |param|: {:.4}  max |state|: {:.6e}",
            r.finite, r.max_abs_param, r.max_abs_state
        );
        println!(
            "step count saturates at u32::MAX (20 steps from u32::MAX - 10), still finite: {}",
            r.saturates
        );
        println!(
            "training storage: {} bytes (static size)  heap allocations during the run: {allocs}  \
             VmRSS before/after: {} / {} kB  VmHWM: {} kB",
            r.storage_bytes,
            rss0.map_or("?".into(), |v| v.to_string()),
            rss1.map_or("?".into(), |v| v.to_string()),
            status_kb("VmHWM:").map_or("?".into(), |v| v.to_string()),
        );
        println!("regime  first-window loss  last-window loss");
        for (i, g) in r.regimes.iter().enumerate() {
            println!("{i:>6}  {:>17.6}  {:>16.6}", g.first, g.last);
        }
        let expected_count = u32::try_from(r.steps).unwrap_or(u32::MAX);
        let checks = [
            (r.finite, "a parameter or state value is not finite"),
            (r.saturates, "the step count did not saturate cleanly"),
            (
                r.step_count == expected_count - r.rejected.min(expected_count),
                "step count is off",
            ),
            (allocs == 0, "the training loop allocated"),
        ];
        for (pass, what) in checks {
            if !pass {
                println!("FAILED ({}): {what}", w.name());
                ok = false;
            }
        }
    }
    if ok {
        println!("\nsoak: all checks passed");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
