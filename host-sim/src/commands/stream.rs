//! `microtrain-sim stream`: the accelerometer online-learning application of
//! `microtrain-stream` on the desktop, over the same simulated stream as the QEMU
//! firmware (or over a recorded CSV). It prints the same lines the firmware logs,
//! down to `checksum 0x........`, the FNV-1a of the final weights' bits: on the same
//! seed the two agree bit for bit.

mod chart;
mod csv_source;

use clap::{Args, ValueEnum};
use microtrain_stream::scenario::{self, Bounds, Event, Report, AFTER_WINDOWS};
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{App, Config, Learner, EMPTY_STORAGE};
use std::path::PathBuf;

/// Where the samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// The seeded simulated accelerometer (the same code the QEMU firmware runs).
    Sim,
    /// A recorded CSV file (see --csv).
    Csv,
}

/// Options of `microtrain-sim stream`.
#[derive(Args, Debug, Clone)]
pub struct StreamArgs {
    /// Seed of the simulated stream and of the model's initial weights.
    #[arg(long, default_value_t = Config::DEFAULT.seed)]
    pub seed: u64,
    /// Windows (of 32 samples at 50 Hz) to run (sim source).
    #[arg(long, default_value_t = Config::DEFAULT.windows)]
    pub windows: u32,
    /// First window of the second regime (default: half of --windows).
    #[arg(long)]
    pub change_at: Option<u32>,
    /// Every N-th window comes with a label; the others are only predicted.
    #[arg(long, default_value_t = Config::DEFAULT.label_every)]
    pub label_every: u32,
    /// Print the running metrics every N windows.
    #[arg(long, default_value_t = Config::DEFAULT.log_every)]
    pub log_every: u32,
    /// Where the samples come from.
    #[arg(long, value_enum, default_value_t = SourceKind::Sim)]
    pub source: SourceKind,
    /// CSV of samples for --source csv: header `x,y,z` or `x,y,z,label`, one row per
    /// sample in g at 50 Hz; `label` is a class 0..=2 or empty. A window is labelled
    /// with the label of the row that completes it.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Also plot the running accuracy to PATH's .png and .svg.
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
}

impl StreamArgs {
    /// The scenario settings of these options, checked.
    pub fn config(&self) -> Result<Config, String> {
        let cfg = Config {
            seed: self.seed,
            windows: self.windows,
            change_at: self.change_at.unwrap_or(self.windows / 2),
            label_every: self.label_every,
            log_every: self.log_every,
        };
        cfg.validate().map_err(|e| {
            format!(
                "--windows {} --change-at {} --label-every {} --log-every {}: {e}",
                cfg.windows, cfg.change_at, cfg.label_every, cfg.log_every
            )
        })?;
        Ok(cfg)
    }
}

/// The line the firmware logs for a progress event (without defmt's level).
pub fn event_line(e: &Event) -> String {
    match e {
        Event::Progress {
            window,
            recent,
            mean_loss,
            bad,
        } => format!(
            "window {window}: recent {}/{}, loss {mean_loss}, rejected {}",
            recent.correct,
            recent.total,
            bad.total()
        ),
        Event::RegimeChange { window } => format!("regime change at window {window}"),
        Event::Window { window, outcome, .. } => format!("window {window}: predicted {}", outcome.predicted),
    }
}

/// The summary lines the firmware logs at the end of a run.
pub fn report_lines(r: &Report) -> Vec<String> {
    let (b, a, e, o) = (r.before, r.after_change, r.end, r.overall);
    vec![
        format!(
            "result before {}/{} after {}/{} end {}/{} overall {}/{}",
            b.correct, b.total, a.correct, a.total, e.correct, e.total, o.correct, o.total
        ),
        format!("steps {} unlabelled {}", r.steps, r.unlabelled),
        format!(
            "bad readings: nan {} saturated {} stuck {} bus {}",
            r.bad.non_finite, r.bad.saturated, r.bad.stuck, r.bad.bus
        ),
        format!("checksum {:#010x}", r.checksum),
    ]
}

/// Runs the simulated scenario of `cfg`; calls `on_event` for each event and records
/// the sliding accuracy after every window for a plot.
fn run_sim(cfg: &Config, mut on_event: impl FnMut(&Event)) -> Result<(Report, Vec<(u32, f64)>), String> {
    let mut storage = EMPTY_STORAGE;
    let learner = Learner::new(&mut storage, cfg.seed).map_err(|e| format!("model: {e}"))?;
    let mut app = App::new(learner, FULL_SCALE_G);
    let mut curve = Vec::new();
    let report = scenario::run(cfg, &mut app, |e| match e {
        Event::Window { window, recent, .. } => curve.push((*window, f64::from(recent.ratio()))),
        _ => on_event(e),
    })
    .map_err(|e| format!("the run stopped: {e:?}"))?;
    Ok((report, curve))
}

/// Runs the command.
pub fn run(args: &StreamArgs) -> Result<(), String> {
    match args.source {
        SourceKind::Csv => {
            let path = args
                .csv
                .as_ref()
                .ok_or("--source csv needs --csv PATH (header x,y,z[,label])")?;
            let curve = csv_source::run(path, args.seed, args.log_every.max(1))?;
            if let Some(p) = &args.plot {
                save_plot(p, &curve, None, "running accuracy, recorded stream")?;
            }
            Ok(())
        }
        SourceKind::Sim => {
            if args.csv.is_some() {
                return Err("--csv is only read with --source csv".into());
            }
            let cfg = args.config()?;
            println!(
                "stream: seed {}, {} windows, change at {}, label every {}",
                cfg.seed, cfg.windows, cfg.change_at, cfg.label_every
            );
            let (report, curve) = run_sim(&cfg, |e| println!("{}", event_line(e)))?;
            report_lines(&report).iter().for_each(|l| println!("{l}"));
            if let Some(p) = &args.plot {
                save_plot(
                    p,
                    &curve,
                    Some(cfg.change_at),
                    "running accuracy, simulated stream",
                )?;
            }
            verdict(&report)
        }
    }
}

fn save_plot(
    path: &std::path::Path,
    curve: &[(u32, f64)],
    change: Option<u32>,
    title: &str,
) -> Result<(), String> {
    let fig = chart::AccuracyChart {
        title: title.to_string(),
        points: curve.to_vec(),
        change,
    };
    let files = crate::figures::save(&fig, path)?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    println!("plot: {}", names.join(", "));
    Ok(())
}

/// Prints the verdict line; a missed bound is an error naming it.
fn verdict(r: &Report) -> Result<(), String> {
    let b = Bounds::DEFAULT;
    match r.check(&b) {
        Ok(()) => {
            println!("verdict pass");
            Ok(())
        }
        Err(miss) => {
            println!("verdict FAIL");
            Err(format!(
                "missed bound {miss:?}: need >= {}% over the last 50 windows before the change, a drop \
                 of >= {} points over the {AFTER_WINDOWS} windows after it, >= {}% over the last 50 \
                 windows; got {}%, {}%, {}%",
                b.min_before_pct,
                b.min_drop_pct,
                b.min_end_pct,
                r.before.percent(),
                r.after_change.percent(),
                r.end.percent()
            ))
        }
    }
}

/// The short scenario the default demo shows after Iris: the stream model learning
/// one user, losing its footing when the device changes hands, and recovering.
pub fn demo() -> Result<(), String> {
    let cfg = Config::DEFAULT;
    println!();
    println!(
        "stream demo: online learning on a simulated accelerometer (rest / walk / shake), a 9-16-3 MLP \
         trained one Adam step per labelled window of 32 samples; at window {} another user takes \
         the device, mounted another way.",
        cfg.change_at
    );
    let (r, _) = run_sim(
        &Config {
            log_every: 100,
            ..cfg
        },
        |e| println!("  {}", event_line(e)),
    )?;
    println!(
        "  accuracy: {}% before the change, {}% in the {AFTER_WINDOWS} windows after it, {}% at the end \
         ({} bad readings skipped: nan {}, saturated {}, stuck {}, bus {})",
        r.before.percent(),
        r.after_change.percent(),
        r.end.percent(),
        r.bad.total(),
        r.bad.non_finite,
        r.bad.saturated,
        r.bad.stuck,
        r.bad.bus
    );
    println!(
        "  checksum {:#010x} (the QEMU firmware prints the same: firmware/qemu, cargo run --release)",
        r.checksum
    );
    verdict(&r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_and_report_lines_match_the_firmware_format() {
        let cfg = Config::DEFAULT;
        let mut lines = Vec::new();
        let (r, curve) = run_sim(&cfg, |e| lines.push(event_line(e))).unwrap();
        assert_eq!(curve.len(), 600);
        assert_eq!(lines.len(), 12 + 1);
        assert_eq!(lines[6], "regime change at window 300");
        assert!(lines[0].starts_with("window 50: recent "), "{}", lines[0]);
        let summary = report_lines(&r);
        assert!(
            summary[0].starts_with("result before 50/50 after "),
            "{}",
            summary[0]
        );
        assert_eq!(summary[3], format!("checksum 0x{:08x}", r.checksum));
        assert_eq!(summary[3].len(), "checksum 0x".len() + 8);
    }

    #[test]
    fn plots_the_running_accuracy_to_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("acc.png");
        let args = StreamArgs {
            seed: 3,
            windows: 600,
            change_at: None,
            label_every: 2,
            log_every: 100,
            source: SourceKind::Sim,
            csv: None,
            plot: Some(base.clone()),
        };
        run(&args).unwrap();
        let png = std::fs::read(&base).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        let svg = std::fs::read_to_string(base.with_extension("svg")).unwrap();
        assert!(svg.contains("<svg") && svg.contains("regime change"));
        // Too short a first phase (50 labels) for this seed: the verdict says which
        // bound was missed, and the plot is still written.
        let short = StreamArgs { windows: 200, ..args };
        let e = run(&short).unwrap_err();
        assert!(
            e.starts_with("missed bound Before") && e.contains("got 76%"),
            "{e}"
        );
    }

    #[test]
    fn bad_options_are_named() {
        let args = StreamArgs {
            seed: 1,
            windows: 60,
            change_at: None,
            label_every: 2,
            log_every: 50,
            source: SourceKind::Sim,
            csv: None,
            plot: None,
        };
        let e = args.config().unwrap_err();
        assert!(e.contains("--windows 60") && e.contains("change_at"), "{e}");
        let e = run(&StreamArgs {
            source: SourceKind::Csv,
            ..args.clone()
        })
        .unwrap_err();
        assert!(e.contains("--csv PATH"), "{e}");
    }
}
