//! `microtrain-sim stream`: the accelerometer online-learning application of
//! `microtrain-stream` on the desktop, over the same simulated stream as the QEMU
//! firmware (or over a recorded CSV). It prints the same lines the firmware logs,
//! down to `checksum 0x........`, the FNV-1a of the final weights' bits: on the same
//! seed the two agree bit for bit.

mod chart;
mod class_chart;
pub mod csv_source;

use clap::{Args, ValueEnum};
use microtrain::Plan;
use microtrain_files::SavedModel;
use microtrain_stream::fine_tune::{
    self, EMPTY_FINE_TUNE_STORAGE, PRETRAINED, PRETRAIN_SEED, PRETRAIN_WINDOWS,
};
use microtrain_stream::scenario::{self, Bounds, Demo, Event, Report, AFTER_WINDOWS};
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{App, Config, InputKind, Learner, Pipeline, EMPTY_STORAGE};
use std::path::PathBuf;

/// Where the samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// The seeded simulated accelerometer (the same code the QEMU firmware runs).
    Sim,
    /// A recorded CSV file (see --csv).
    Csv,
}

/// The model of a recorded stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// A multilayer perceptron: inputs -> --hidden ReLU -> classes.
    Mlp,
    /// A 1-d CNN on the raw window (needs --input raw), channel-major (one channel per
    /// axis): Conv1d(axes -> 8, kernel 5), ReLU, MaxPool 2, Conv1d(8 -> 16, kernel 5),
    /// ReLU, global average pool, Dense(16 -> classes); windows of at least 14 readings.
    Cnn,
}

/// What the model sees of each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputArg {
    /// Per axis mean, standard deviation and jerk (3 per axis).
    Features,
    /// The window's readings themselves (window x axes inputs).
    Raw,
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
    /// CSV of samples for --source csv: a header naming the axis columns
    /// (any number, e.g. `x,y,z` or six for an accelerometer and a gyroscope) and an
    /// optional `label` column, one row per sample; a label is a class index, a class
    /// name (see --labels) or empty. A window is labelled with the label of the row
    /// that completes it.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// A held-out CSV (same columns) scored by the final model, without training.
    #[arg(long, value_name = "PATH")]
    pub test_csv: Option<PathBuf>,
    /// Readings per window (csv source).
    #[arg(long, default_value_t = Pipeline::DEMO.window)]
    pub window: usize,
    /// Readings between the starts of two windows (default: --window, no overlap).
    #[arg(long)]
    pub hop: Option<usize>,
    /// Readings per second of the recording (shown; the pipeline counts readings).
    #[arg(long, default_value_t = Pipeline::DEMO.sample_rate_hz)]
    pub sample_rate: u32,
    /// The sensor's full scale in the CSV's unit: readings at 99.5 % of it or beyond
    /// are rejected as saturated.
    #[arg(long, default_value_t = Pipeline::DEMO.range)]
    pub range: f32,
    /// Number of classes when the labels are class indices.
    #[arg(long, default_value_t = Pipeline::DEMO.classes)]
    pub classes: usize,
    /// Class names by index, comma-separated (default: indices 0..--classes when every
    /// label is a number, otherwise the sorted names found in the CSV).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub labels: Option<Vec<String>>,
    /// What the model sees of each window.
    #[arg(long, value_enum, default_value_t = InputArg::Features)]
    pub input: InputArg,
    /// The model (csv source): an MLP, or a CNN on the raw window (with --input raw).
    #[arg(long, value_enum, default_value_t = ModelArg::Mlp)]
    pub model: ModelArg,
    /// Hidden units of the MLP (csv source).
    #[arg(long, default_value_t = 16)]
    pub hidden: usize,
    /// Adam's learning rate (csv source).
    #[arg(long, default_value_t = 0.02)]
    pub lr: f32,
    /// Standardise the model's inputs with their running mean and variance (csv
    /// source; updated by every training window, frozen for --test-csv).
    #[arg(long)]
    pub standardize: bool,
    /// Passes over the training CSV (csv source). The first is the stream as the device
    /// sees it (the prequential figures); the others train on the same windows again,
    /// as an offline learner's epochs, before --test-csv is scored.
    #[arg(long, default_value_t = 1)]
    pub passes: u32,
    /// Also plot the running accuracy to PATH's .png and .svg.
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Start from the model pretrained on the first user (stream/pretrained/, the
    /// file the `fine-tune` firmware embeds in flash), its first layer frozen: only
    /// the last layer adapts (sim source).
    #[arg(long)]
    pub fine_tune: bool,
    /// Pretrain the stream model as the desktop does for --fine-tune (the first
    /// user's simulated stream, every window labelled), write it to PATH (.mtm or
    /// .json) and stop.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["fine_tune", "csv", "plot"])]
    pub pretrain: Option<PathBuf>,
}

impl StreamArgs {
    /// The pipeline of these options (its axes are the CSV's; the demo's 3 here).
    pub fn pipeline(&self) -> Pipeline {
        Pipeline {
            window: self.window,
            hop: self.hop.unwrap_or(self.window),
            sample_rate_hz: self.sample_rate,
            classes: self.classes,
            range: self.range,
            axes: Pipeline::DEMO.axes,
            input: match self.input {
                InputArg::Features => InputKind::Features,
                InputArg::Raw => InputKind::RawWindow,
            },
        }
    }

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

/// Runs the simulated scenario of `cfg` with a fresh model, or with the pretrained one
/// whose last layer alone adapts (`fine_tune`); calls `on_event` for each event and
/// records the sliding accuracy after every window for a plot.
fn run_sim(
    cfg: &Config,
    fine_tune: bool,
    on_event: impl FnMut(&Event),
) -> Result<(Report, Vec<(u32, f64)>), String> {
    if fine_tune {
        let mut storage = EMPTY_FINE_TUNE_STORAGE;
        let learner = Learner::fine_tune(&mut storage, &PRETRAINED).map_err(|e| format!("model: {e}"))?;
        run_app(cfg, App::new(learner, FULL_SCALE_G), on_event)
    } else {
        let mut storage = EMPTY_STORAGE;
        let learner = Learner::new(&mut storage, cfg.seed).map_err(|e| format!("model: {e}"))?;
        run_app(cfg, App::new(learner, FULL_SCALE_G), on_event)
    }
}

/// [`run_sim`] on a set-up application.
fn run_app<P: Plan>(
    cfg: &Config,
    mut app: Demo<'_, P>,
    mut on_event: impl FnMut(&Event),
) -> Result<(Report, Vec<(u32, f64)>), String> {
    let mut curve = Vec::new();
    let report = scenario::run(cfg, &mut app, |e| match e {
        Event::Window { window, recent, .. } => curve.push((*window, f64::from(recent.ratio()))),
        _ => on_event(e),
    })
    .map_err(|e| format!("the run stopped: {e:?}"))?;
    Ok((report, curve))
}

/// Writes the desktop's pretrained stream model to `path` (see `--pretrain`).
fn write_pretrained(path: &std::path::Path) -> Result<(), String> {
    let params =
        fine_tune::pretrain(PRETRAIN_SEED, PRETRAIN_WINDOWS).map_err(|e| format!("pretraining: {e:?}"))?;
    let model = SavedModel {
        layers: microtrain_stream::model::LAYERS.to_vec(),
        params: params.to_vec(),
        loss: Some(microtrain_stream::model::LOSS),
        features: Vec::new(),
        targets: Vec::new(),
        classes: Some(["rest", "walk", "shake"].map(String::from).to_vec()),
    };
    model.save(path)?;
    let same = params.map(f32::to_bits) == PRETRAINED.map(f32::to_bits);
    println!(
        "pretrained on seed {PRETRAIN_SEED}'s first user, {PRETRAIN_WINDOWS} labelled windows: {} ({})",
        path.display(),
        if same {
            "the same parameters as the model this build embeds"
        } else {
            "NOT the model this build embeds: copy it to stream/pretrained/stream-9-16-3.mtm and rebuild"
        }
    );
    Ok(())
}

/// Runs the command.
pub fn run(args: &StreamArgs) -> Result<(), String> {
    if let Some(path) = &args.pretrain {
        return write_pretrained(path);
    }
    if args.fine_tune && args.source != SourceKind::Sim {
        return Err(
            "--fine-tune runs the simulated stream (--source sim): the pretrained model is the demo's".into(),
        );
    }
    match args.source {
        SourceKind::Csv => {
            let path = args
                .csv
                .as_ref()
                .ok_or("--source csv needs --csv PATH (header x,y,z[,label])")?;
            let learning = csv_source::Learning {
                pipeline: args.pipeline(),
                labels: args.labels.clone(),
                hidden: args.hidden,
                cnn: args.model == ModelArg::Cnn,
                lr: args.lr,
                standardize: args.standardize,
                seed: args.seed,
                log_every: args.log_every.max(1),
                passes: args.passes,
            };
            let out = csv_source::run(path, args.test_csv.as_deref(), &learning)?;
            println!("checksum {:#010x}", out.checksum);
            if let Some(p) = &args.plot {
                save_plot(p, &out.curve, None, "running accuracy, recorded stream")?;
                let mut series = vec![("prequential".to_string(), class_chart::recalls(&out.confusion))];
                if let Some((_, conf)) = &out.test {
                    series.push(("held-out test".to_string(), class_chart::recalls(conf)));
                }
                let fig = class_chart::ClassChart {
                    title: format!(
                        "recall per class, {} (prequential {:.1}%)",
                        path.display(),
                        csv_source::pct(out.prequential)
                    ),
                    classes: out.classes.clone(),
                    series,
                };
                let stem = p
                    .file_stem()
                    .map_or("stream".into(), |s| s.to_string_lossy().into_owned());
                let files = crate::figures::save(&fig, &p.with_file_name(format!("{stem}-classes.png")))?;
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                println!("plot: {}", names.join(", "));
            }
            Ok(())
        }
        SourceKind::Sim => {
            if args.csv.is_some() || args.test_csv.is_some() {
                return Err("--csv and --test-csv are only read with --source csv".into());
            }
            if !args.pipeline().is_demo() || args.labels.is_some() || args.standardize || args.passes != 1 {
                return Err(
                    "--window, --hop, --sample-rate, --range, --classes, --labels, --input, --standardize and --passes configure a \
                     recorded stream (--source csv); the simulated stream is the demo's"
                        .into(),
                );
            }
            let cfg = args.config()?;
            println!(
                "stream: seed {}, {} windows, change at {}, label every {}",
                cfg.seed, cfg.windows, cfg.change_at, cfg.label_every
            );
            if args.fine_tune {
                println!("model: f32, pretrained (first layer frozen in flash, last layer adapting)");
            }
            let (report, curve) = run_sim(&cfg, args.fine_tune, |e| println!("{}", event_line(e)))?;
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
        false,
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
        let (r, curve) = run_sim(&cfg, false, |e| lines.push(event_line(e))).unwrap();
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

    /// The options of a command line (after `stream`), as clap reads them.
    fn parse(line: &str) -> StreamArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: StreamArgs,
        }
        <Cli as clap::Parser>::parse_from(std::iter::once("stream").chain(line.split_whitespace())).args
    }

    #[test]
    fn plots_the_running_accuracy_to_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("acc.png");
        let mut args = parse("--seed 3 --log-every 100");
        args.plot = Some(base.clone());
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
        let args = parse("--seed 1 --windows 60");
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
