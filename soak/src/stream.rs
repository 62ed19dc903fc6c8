//! The synthetic stream: 3 inputs uniform in `[-1, 1]`, 2 targets from a function that
//! changes every `regime_len` steps (a new random linear map under `tanh` and `sin`),
//! plus a little noise.

use microtrain::Rng;

/// The target function of one regime.
#[derive(Debug, Clone, Copy)]
pub struct Regime {
    w: [[f32; 3]; 2],
    b: [f32; 2],
}

impl Regime {
    /// The function of regime `r` (the same for the same `seed` and `r`).
    pub fn new(seed: u64, r: u64) -> Self {
        let mut rng = Rng::new(seed ^ r.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut w = [[0.0; 3]; 2];
        w.iter_mut().flatten().for_each(|v| *v = rng.symmetric(1.5));
        let b = [rng.symmetric(0.5), rng.symmetric(0.5)];
        Regime { w, b }
    }

    /// The noiseless targets for input `x`.
    pub fn target(&self, x: &[f32; 3]) -> [f32; 2] {
        let dot = |w: &[f32; 3]| w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
        [
            (dot(&self.w[0]) + self.b[0]).tanh(),
            0.5 * (dot(&self.w[1]) + self.b[1]).sin(),
        ]
    }
}

/// An endless stream of samples whose function changes every `regime_len` samples.
#[derive(Debug, Clone)]
pub struct Stream {
    rng: Rng,
    seed: u64,
    regime_len: u64,
    n: u64,
    current: Regime,
}

impl Stream {
    /// A stream seeded with `seed`.
    pub fn new(seed: u64, regime_len: u64) -> Self {
        Stream {
            rng: Rng::new(seed),
            seed,
            regime_len: regime_len.max(1),
            n: 0,
            current: Regime::new(seed, 0),
        }
    }

    /// The regime of the next sample.
    pub fn regime(&self) -> u64 {
        self.n / self.regime_len
    }

    /// The next sample: input and target.
    pub fn next_sample(&mut self) -> ([f32; 3], [f32; 2]) {
        if self.n > 0 && self.n % self.regime_len == 0 {
            self.current = Regime::new(self.seed, self.regime());
        }
        self.n += 1;
        let x = [
            self.rng.symmetric(1.0),
            self.rng.symmetric(1.0),
            self.rng.symmetric(1.0),
        ];
        let mut y = self.current.target(&x);
        y.iter_mut().for_each(|v| *v += 0.01 * self.rng.normal());
        (x, y)
    }
}
