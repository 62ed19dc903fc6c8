//! A fixed-size window of consecutive good readings (a `heapless::Vec`, no allocator).

use heapless::Vec;

/// Samples per second the application expects from its sensor.
pub const SAMPLE_RATE_HZ: u32 = 50;

/// Readings per window: 32 samples, 0.64 s at [`SAMPLE_RATE_HZ`].
pub const WINDOW_LEN: usize = 32;

/// The readings of the window being filled: `LEN` readings of `AXES` axes (the demo's
/// 32 x 3 by default).
#[derive(Debug, Clone, Default)]
pub struct Window<const LEN: usize = WINDOW_LEN, const AXES: usize = 3> {
    samples: Vec<[f32; AXES], LEN>,
}

impl<const LEN: usize, const AXES: usize> Window<LEN, AXES> {
    /// An empty window.
    pub const fn new() -> Self {
        Window { samples: Vec::new() }
    }

    /// Appends a reading; returns `true` when the window is then full. A reading
    /// offered to a full window is dropped (call [`clear`](Self::clear) first).
    pub fn push(&mut self, r: [f32; AXES]) -> bool {
        let _dropped_when_full = self.samples.push(r);
        self.is_full()
    }

    /// Whether the window holds [`WINDOW_LEN`] readings.
    pub fn is_full(&self) -> bool {
        self.samples.is_full()
    }

    /// The readings so far, oldest first.
    pub fn samples(&self) -> &[[f32; AXES]] {
        &self.samples
    }

    /// Empties the window for the next one.
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Drops the oldest `hop` readings, keeping the rest for the next window (windows
    /// that overlap by `LEN - hop` readings); a `hop` of `LEN` or more empties it.
    pub fn slide(&mut self, hop: usize) {
        let n = self.samples.len();
        if hop >= n {
            self.samples.clear();
        } else {
            self.samples.rotate_left(hop);
            self.samples.truncate(n - hop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_up_to_its_length_then_ignores_more() {
        let mut w: Window = Window::new();
        for i in 0..WINDOW_LEN {
            assert_eq!(w.push([i as f32, 0.0, 0.0]), i + 1 == WINDOW_LEN);
        }
        assert!(w.push([99.0, 0.0, 0.0]));
        assert_eq!(w.samples().len(), WINDOW_LEN);
        assert_eq!(w.samples().last(), Some(&[(WINDOW_LEN - 1) as f32, 0.0, 0.0]));
        w.clear();
        assert!(w.samples().is_empty());
    }

    #[test]
    fn slides_by_its_hop_keeping_the_overlap() {
        let mut w = Window::<4, 2>::new();
        for i in 0..4 {
            w.push([i as f32, -(i as f32)]);
        }
        w.slide(1);
        assert_eq!(w.samples(), &[[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]]);
        assert!(w.push([4.0, -4.0]));
        w.slide(3);
        assert_eq!(w.samples(), &[[4.0, -4.0]]);
        w.slide(9);
        assert!(w.samples().is_empty());
    }
}
