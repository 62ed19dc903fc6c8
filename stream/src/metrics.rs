//! Running metrics: accuracy over the last [`RECENT`] scored windows, and totals.

use heapless::Deque;

/// Windows in the sliding accuracy.
pub const RECENT: usize = 50;

/// Correct predictions among the last `n` scored windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Accuracy {
    /// Correct predictions.
    pub correct: u32,
    /// Scored windows.
    pub total: u32,
}

impl Accuracy {
    /// `correct / total` (0 when nothing was scored).
    pub fn ratio(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f32 / self.total as f32
        }
    }

    /// `correct / total` in whole percent, rounded down (0 when nothing was scored).
    pub fn percent(&self) -> u32 {
        let c = u64::from(self.correct) * 100;
        c.checked_div(u64::from(self.total)).map_or(0, |p| p as u32)
    }

    /// Counts one more scored window.
    pub fn add(&mut self, correct: bool) {
        self.total = self.total.saturating_add(1);
        self.correct = self.correct.saturating_add(u32::from(correct));
    }
}

/// Running metrics of the stream.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    recent: Deque<bool, RECENT>,
    all: Accuracy,
    loss_sum: f32,
    loss_count: u32,
}

impl Metrics {
    /// No windows seen yet.
    pub const fn new() -> Self {
        Metrics {
            recent: Deque::new(),
            all: Accuracy { correct: 0, total: 0 },
            loss_sum: 0.0,
            loss_count: 0,
        }
    }

    /// Records whether a window's prediction was right.
    pub fn score(&mut self, correct: bool) {
        if self.recent.is_full() {
            let _oldest = self.recent.pop_front();
        }
        let _always_room = self.recent.push_back(correct);
        self.all.add(correct);
    }

    /// Records the loss of a training step.
    pub fn add_loss(&mut self, loss: f32) {
        self.loss_sum += loss;
        self.loss_count = self.loss_count.saturating_add(1);
    }

    /// Mean loss of the steps since the last call (0 if none), then starts afresh.
    pub fn take_mean_loss(&mut self) -> f32 {
        let mean = if self.loss_count == 0 {
            0.0
        } else {
            self.loss_sum / self.loss_count as f32
        };
        self.loss_sum = 0.0;
        self.loss_count = 0;
        mean
    }

    /// Accuracy over the last [`RECENT`] scored windows.
    pub fn recent(&self) -> Accuracy {
        let correct = self.recent.iter().filter(|c| **c).count() as u32;
        Accuracy {
            correct,
            total: self.recent.len() as u32,
        }
    }

    /// Accuracy over every scored window.
    pub fn overall(&self) -> Accuracy {
        self.all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_accuracy_slides() {
        let mut m = Metrics::new();
        for _ in 0..RECENT {
            m.score(false);
        }
        assert_eq!(
            m.recent(),
            Accuracy {
                correct: 0,
                total: RECENT as u32
            }
        );
        for _ in 0..10 {
            m.score(true);
        }
        assert_eq!(
            m.recent(),
            Accuracy {
                correct: 10,
                total: RECENT as u32
            }
        );
        assert_eq!(
            m.overall(),
            Accuracy {
                correct: 10,
                total: RECENT as u32 + 10
            }
        );
        assert!((m.recent().ratio() - 0.2).abs() < 1e-6);
        assert_eq!(m.recent().percent(), 20);
        assert_eq!(Accuracy { correct: 2, total: 3 }.percent(), 66);
        assert_eq!(Accuracy::default().percent(), 0);
    }

    #[test]
    fn mean_loss_resets() {
        let mut m = Metrics::new();
        m.add_loss(1.0);
        m.add_loss(2.0);
        assert_eq!(m.take_mean_loss(), 1.5);
        assert_eq!(m.take_mean_loss(), 0.0);
    }
}
