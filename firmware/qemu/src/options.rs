//! The firmware's command line: the scenario's `key=value` settings
//! ([`Config::set`]) and the firmware's own:
//!
//! - `flash=PATH`: keep checkpoints in an emulated flash whose bytes live in the host
//!   file PATH (relative to QEMU's working directory; no spaces), restored at boot;
//! - `checkpoint_every=N`: save after every N-th training step (labelled window),
//!   default [`DEFAULT_CHECKPOINT_EVERY`]; needs `flash=`;
//! - `stop_at=W`: stop after window W as if the power had been cut (no verdict);
//! - `csv=PATH`: replay the recorded stream in the host file PATH instead of the
//!   simulated one (feature `replay`); `range=G`: its sensor's full scale, a whole
//!   number in the recording's unit (default the simulated sensor's, 2 g).

use microtrain_stream::config::ConfigError;
use microtrain_stream::Config;

/// Training steps between two checkpoints unless `checkpoint_every=` says otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: u32 = 50;

/// Everything the command line sets.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The scenario.
    pub cfg: Config,
    /// The host file of the emulated flash, if checkpoints are on.
    pub flash: Option<&'a str>,
    /// Training steps between two checkpoints.
    pub checkpoint_every: u32,
    /// Stop after this window (a simulated reset).
    pub stop_at: Option<u32>,
    /// The host file of a recorded stream to replay.
    pub csv: Option<&'a str>,
    /// The recorded sensor's full scale.
    pub range: f32,
}

/// What is wrong with a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionError {
    /// A scenario setting is wrong.
    Config(ConfigError),
    /// A key that no one knows.
    UnknownKey,
    /// `checkpoint_every` or `stop_at` is not a positive integer.
    BadNumber,
    /// `checkpoint_every` without `flash=`.
    CheckpointWithoutFlash,
    /// `flash=` or `csv=` with an empty path.
    EmptyPath,
    /// `range=` is not a positive number.
    BadRange,
    /// `csv=` with `flash=` or `stop_at=` (a replay has no checkpoints).
    CsvWithCheckpoints,
}

impl defmt::Format for OptionError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            OptionError::Config(e) => defmt::write!(f, "{}", e),
            OptionError::UnknownKey => defmt::write!(
                f,
                "unknown setting (expected seed, windows, change_at, label_every, log_every, flash, \
                 checkpoint_every, stop_at, csv, range)"
            ),
            OptionError::BadNumber => {
                defmt::write!(f, "checkpoint_every and stop_at take a positive integer")
            }
            OptionError::CheckpointWithoutFlash => {
                defmt::write!(f, "checkpoint_every needs flash=PATH")
            }
            OptionError::EmptyPath => defmt::write!(f, "flash= and csv= need a file name"),
            OptionError::BadRange => {
                defmt::write!(f, "range= takes a positive number (the sensor's full scale)")
            }
            OptionError::CsvWithCheckpoints => {
                defmt::write!(
                    f,
                    "csv= replays a recording without checkpoints: no flash= or stop_at="
                )
            }
        }
    }
}

fn positive(v: &str) -> Result<u32, OptionError> {
    match v.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(OptionError::BadNumber),
    }
}

/// Parses the `key=value` words of `line` (words without `=`, such as the program's
/// name, are skipped), then checks the scenario.
pub fn parse(line: &str) -> Result<Options<'_>, OptionError> {
    let mut o = Options {
        cfg: Config::DEFAULT,
        flash: None,
        checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
        stop_at: None,
        csv: None,
        range: microtrain_stream::sim::FULL_SCALE_G,
    };
    let mut every_given = false;
    for word in line.split_ascii_whitespace() {
        let Some((k, v)) = word.split_once('=') else {
            continue;
        };
        match k {
            "flash" if v.is_empty() => return Err(OptionError::EmptyPath),
            "flash" => o.flash = Some(v),
            "checkpoint_every" => {
                o.checkpoint_every = positive(v)?;
                every_given = true;
            }
            "stop_at" => o.stop_at = Some(positive(v)?),
            "csv" if v.is_empty() => return Err(OptionError::EmptyPath),
            "csv" => o.csv = Some(v),
            // A whole number: parsing decimals would link the float parser (23 KB).
            "range" => o.range = positive(v).map_err(|_| OptionError::BadRange)? as f32,
            _ => o.cfg.set(k, v).map_err(|e| match e {
                ConfigError::UnknownKey => OptionError::UnknownKey,
                e => OptionError::Config(e),
            })?,
        }
    }
    if every_given && o.flash.is_none() {
        return Err(OptionError::CheckpointWithoutFlash);
    }
    if o.csv.is_some() && (o.flash.is_some() || o.stop_at.is_some()) {
        return Err(OptionError::CsvWithCheckpoints);
    }
    o.cfg.validate().map_err(OptionError::Config)?;
    Ok(o)
}
