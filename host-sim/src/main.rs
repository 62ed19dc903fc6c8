//! `microtrain-sim`: the microtrain core on the desktop.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod conformance;
mod model;
mod spec;

#[derive(Parser)]
#[command(
    name = "microtrain-sim",
    version,
    about = "Design, train and check microtrain models on the desktop"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Replay every *.json training run recorded with PyTorch in DIR and compare.
    Conformance {
        /// Directory of conformance cases.
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => ExitCode::SUCCESS,
        Some(Command::Conformance { dir }) => match conformance::run_dir(&dir) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}
