//! A fixed-size window of consecutive good readings (a `heapless::Vec`, no allocator).

use crate::sensor::Reading;
use heapless::Vec;

/// Samples per second the application expects from its sensor.
pub const SAMPLE_RATE_HZ: u32 = 50;

/// Readings per window: 32 samples, 0.64 s at [`SAMPLE_RATE_HZ`].
pub const WINDOW_LEN: usize = 32;

/// The readings of the window being filled.
#[derive(Debug, Clone, Default)]
pub struct Window {
    samples: Vec<Reading, WINDOW_LEN>,
}

impl Window {
    /// An empty window.
    pub const fn new() -> Self {
        Window { samples: Vec::new() }
    }

    /// Appends a reading; returns `true` when the window is then full. A reading
    /// offered to a full window is dropped (call [`clear`](Self::clear) first).
    pub fn push(&mut self, r: Reading) -> bool {
        let _dropped_when_full = self.samples.push(r);
        self.is_full()
    }

    /// Whether the window holds [`WINDOW_LEN`] readings.
    pub fn is_full(&self) -> bool {
        self.samples.is_full()
    }

    /// The readings so far, oldest first.
    pub fn samples(&self) -> &[Reading] {
        &self.samples
    }

    /// Empties the window for the next one.
    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_up_to_its_length_then_ignores_more() {
        let mut w = Window::new();
        for i in 0..WINDOW_LEN {
            assert_eq!(w.push([i as f32, 0.0, 0.0]), i + 1 == WINDOW_LEN);
        }
        assert!(w.push([99.0, 0.0, 0.0]));
        assert_eq!(w.samples().len(), WINDOW_LEN);
        assert_eq!(w.samples().last(), Some(&[(WINDOW_LEN - 1) as f32, 0.0, 0.0]));
        w.clear();
        assert!(w.samples().is_empty());
    }
}
