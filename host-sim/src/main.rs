//! `microtrain-sim`: the microtrain core on the desktop. Design a model, train it on a
//! CSV file, see what it needs on a device, compare the optimizers.
//!
//! Here: the command line and its dispatch. Each command is a module of [`commands`];
//! what several commands share is beside it: option groups ([`args`]), the data
//! ([`data`]), models in memory and on disk ([`model`]), the epoch loop ([`fit`]) and
//! its progress bar ([`progress`]), figures ([`figures`]); core configs from their
//! names ([`by_name`]), model files and atomic output files ([`atomic_file`]) come from
//! the `microtrain-files` crate, which the Python package shares.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod args;
mod commands;
mod data;
mod figures;
mod fit;
mod model;
mod progress;

use commands::{compare, conformance, demo, memory, predict, stream, train};
use microtrain_files::{atomic_file, by_name};

#[derive(Parser)]
#[command(
    name = "microtrain-sim",
    version,
    about = "Design, train and check microtrain models on the desktop",
    long_about = "Design, train and check microtrain models on the desktop, with the same core code as \
                  the firmware.\nWithout a command: a demo (the Iris classifier of the course)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model on a CSV file (or the bundled Iris data) and write it for the firmware.
    Train(Box<train::TrainArgs>),
    /// Run every optimizer on the same data and weights: a table, loss curves, paths on a test
    /// surface, and one optimizer at several learning rates (PNG and SVG figures).
    Compare(Box<compare::CompareArgs>),
    /// The exact RAM a device needs to train a model shape with an optimizer, and whether it fits.
    Memory(Box<memory::MemoryArgs>),
    /// Run a saved model on the rows of a CSV file; prints every output and its exact bits.
    Predict(predict::PredictArgs),
    /// Online learning from an accelerometer stream, as the firmware runs it (simulated or from a CSV).
    Stream(stream::StreamArgs),
    /// Replay every *.json training run recorded with PyTorch in DIR and compare.
    Conformance {
        /// Directory of conformance cases.
        dir: PathBuf,
    },
}

/// Output piped into a program that stops reading early (`| head`) ends the run
/// quietly with status 141, as a C tool killed by SIGPIPE would, instead of a panic
/// message from `println!`.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        None => demo::run().map(|()| ExitCode::SUCCESS),
        Some(Command::Train(a)) => train::run(&a),
        Some(Command::Compare(a)) => compare::run(&a).map(|()| ExitCode::SUCCESS),
        Some(Command::Memory(a)) => memory::run(&a).map(|()| ExitCode::SUCCESS),
        Some(Command::Predict(a)) => predict::run(&a).map(|()| ExitCode::SUCCESS),
        Some(Command::Stream(a)) => stream::run(&a).map(|()| ExitCode::SUCCESS),
        Some(Command::Conformance { dir }) => {
            conformance::run_dir(&dir).map(|ok| if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
