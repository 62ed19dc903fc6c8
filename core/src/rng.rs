//! A small seeded generator for shuffling and initialisation, the same on every
//! target.
//!
//! It is SplitMix64 (Steele, Lea & Flood, 2014): a 64-bit counter advanced by the
//! golden-ratio increment, then mixed. Its output sequence is part of this crate's
//! contract (a seed gives the same shuffles and initial weights on every machine and
//! in every version), which is why it is defined here rather than taken from a crate
//! whose algorithm may change.

/// SplitMix64 generator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (0 when `n` is 0), by Lemire's multiply-shift with
    /// rejection, so every value is exactly equally likely.
    pub fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let x = (self.next_u64() >> 32) as u32;
            let m = u64::from(x) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits.
    pub fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as u32 as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform `f32` in `[-bound, bound)`.
    #[inline(never)]
    pub fn symmetric(&mut self, bound: f32) -> f32 {
        (2.0 * self.unit_f32() - 1.0) * bound
    }

    /// A standard normal `f32` (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.unit_f32(); // (0, 1]
        let u2 = self.unit_f32();
        libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(2.0 * core::f32::consts::PI * u2)
    }

    /// Shuffles `v` in place (Fisher–Yates), every permutation equally likely.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        let n = v.len().min(u32::MAX as usize);
        for i in (1..n).rev() {
            let j = self.below(i as u32 + 1) as usize;
            v.swap(i, j.min(i));
        }
    }
}
