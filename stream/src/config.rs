//! The scenario's settings, their checks, and the `key=value` form the firmware reads
//! from its command line (QEMU's `-append`, through semihosting).

use crate::metrics::RECENT;

/// Settings of a simulated run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Seeds the stream and the model's initial weights.
    pub seed: u64,
    /// Windows in the run.
    pub windows: u32,
    /// First window of the second regime.
    pub change_at: u32,
    /// Every `label_every`-th window comes with a label (the others are only predicted).
    pub label_every: u32,
    /// Log the running metrics every this many windows.
    pub log_every: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A setting that is out of range or cannot be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigError {
    /// `key=value` with a key that is not a setting.
    UnknownKey,
    /// A value that is not a non-negative integer of the setting's range.
    BadNumber,
    /// The change must come after at least [`RECENT`] windows and be followed by at
    /// least [`RECENT`] windows, so both phases can be measured.
    ChangeOutOfRange,
    /// `label_every` and `log_every` must be at least 1.
    ZeroPeriod,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            ConfigError::UnknownKey => {
                "unknown setting (expected seed, windows, change_at, label_every, log_every)"
            }
            ConfigError::BadNumber => "not a non-negative integer in range",
            ConfigError::ChangeOutOfRange => {
                "change_at must be >= 50 and at least 50 windows before the end of the run"
            }
            ConfigError::ZeroPeriod => "label_every and log_every must be >= 1",
        };
        f.write_str(s)
    }
}

impl Config {
    /// 600 windows (about 6 minutes of data at 50 Hz), change at window 300, every
    /// second window labelled.
    pub const DEFAULT: Config = Config {
        seed: 42,
        windows: 600,
        change_at: 300,
        label_every: 2,
        log_every: 50,
    };

    /// Checks the settings against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.label_every == 0 || self.log_every == 0 {
            return Err(ConfigError::ZeroPeriod);
        }
        let recent = RECENT as u32;
        if self.change_at < recent || self.windows.saturating_sub(self.change_at) < recent {
            return Err(ConfigError::ChangeOutOfRange);
        }
        Ok(())
    }

    /// Applies one `key=value` setting. Setting `windows` also moves `change_at` to
    /// the middle of the run (a later `change_at=` overrides it).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let n: u64 = value.parse().map_err(|_| ConfigError::BadNumber)?;
        let n32 = || u32::try_from(n).map_err(|_| ConfigError::BadNumber);
        match key {
            "seed" => self.seed = n,
            "windows" => {
                self.windows = n32()?;
                self.change_at = self.windows / 2;
            }
            "change_at" => self.change_at = n32()?,
            "label_every" => self.label_every = n32()?,
            "log_every" => self.log_every = n32()?,
            _ => return Err(ConfigError::UnknownKey),
        }
        Ok(())
    }

    /// Applies every `key=value` word of a command line (words without `=`, such as
    /// the program's name, are skipped), then validates.
    pub fn apply_args(&mut self, line: &str) -> Result<(), ConfigError> {
        for word in line.split_ascii_whitespace() {
            if let Some((k, v)) = word.split_once('=') {
                self.set(k, v)?;
            }
        }
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_command_line() {
        let mut c = Config::DEFAULT;
        c.apply_args("app.elf seed=7 windows=400 label_every=3").unwrap();
        assert_eq!((c.seed, c.windows, c.change_at, c.label_every), (7, 400, 200, 3));
        c.apply_args("change_at=150").unwrap();
        assert_eq!(c.change_at, 150);
        assert!(Config::DEFAULT.validate().is_ok());
    }

    #[test]
    fn rejects_bad_settings() {
        let mut c = Config::DEFAULT;
        assert_eq!(c.apply_args("seeds=1"), Err(ConfigError::UnknownKey));
        assert_eq!(c.apply_args("seed=-1"), Err(ConfigError::BadNumber));
        assert_eq!(c.apply_args("windows=99999999999"), Err(ConfigError::BadNumber));
        assert_eq!(c.apply_args("windows=80"), Err(ConfigError::ChangeOutOfRange));
        let mut c = Config::DEFAULT;
        assert_eq!(c.apply_args("change_at=560"), Err(ConfigError::ChangeOutOfRange));
        let mut c = Config::DEFAULT;
        assert_eq!(c.apply_args("label_every=0"), Err(ConfigError::ZeroPeriod));
    }
}
