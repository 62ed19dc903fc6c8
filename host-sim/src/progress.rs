//! A per-epoch progress bar (on stderr, hidden when stdout or stderr is not a
//! terminal) and printing that does not tear it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar over epochs.
pub struct EpochBar {
    bar: ProgressBar,
}

impl EpochBar {
    /// A bar for `epochs` epochs.
    pub fn new(epochs: usize) -> Self {
        let visible = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(epochs as u64), target);
        if let Ok(style) = ProgressStyle::with_template("{bar:30.cyan/blue} epoch {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        EpochBar { bar }
    }

    /// Advances one epoch and shows `msg` beside the bar.
    pub fn epoch_done(&self, msg: String) {
        self.bar.set_message(msg);
        self.bar.inc(1);
    }

    /// Prints a line above the bar (or plainly when the bar is hidden).
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| println!("{line}"));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
