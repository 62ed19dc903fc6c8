//! Shared helpers of the checkpoint tests: host-owned buffers, a small model, a data
//! stream, and snapshots of a trainer.
#![allow(dead_code)]

use microtrain::{shape, Activation, Buffers, Dense, Loss, Optimizer, Rng, Target, Trainer};

/// A 3-4-2 MLP.
pub const LAYERS: [Dense; 2] = [
    Dense::new(3, 4, Activation::Tanh),
    Dense::new(4, 2, Activation::Identity),
];

/// Vec buffers for a shape and an optimizer's state size.
pub struct Bufs {
    pub params: Vec<f32>,
    pub grads: Vec<f32>,
    pub state: Vec<f32>,
    pub acts: Vec<f32>,
}

impl Bufs {
    pub fn new(layers: &[Dense], state_per_param: usize) -> Self {
        let p = shape::params_len(layers);
        Bufs {
            params: vec![0.0; p],
            grads: vec![0.0; p],
            state: vec![0.0; p * state_per_param],
            acts: vec![0.0; shape::activations_len(layers)],
        }
    }

    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: &[],
        }
    }
}

/// A trainer of `layers` with `opt`, MSE, parameters seeded with `seed`.
pub fn trainer<'a, O: Optimizer>(layers: &'a [Dense], b: &'a mut Bufs, opt: O, seed: u64) -> Trainer<'a, O> {
    let mut t = Trainer::new(layers, b.buffers(), opt, Loss::Mse).unwrap();
    t.init_params(seed);
    t
}

/// `n` online steps on a deterministic stream that depends on the trainer's step count
/// (so a resumed run sees the same samples).
pub fn train<O: Optimizer>(t: &mut Trainer<'_, O>, n: usize) {
    for _ in 0..n {
        let mut rng = Rng::new(u64::from(t.step_count()) * 7919 + 13);
        let x = [rng.symmetric(1.0), rng.symmetric(1.0), rng.symmetric(1.0)];
        let y = [x[0] * 0.5 - x[1], (x[2] * 2.0).sin()];
        t.train_sample(&x, Target::Values(&y)).unwrap();
    }
}

/// Parameters, state and step count, as bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub params: Vec<u32>,
    pub state: Vec<u32>,
    pub step: u32,
}

pub fn snapshot<O: Optimizer>(t: &Trainer<'_, O>) -> Snapshot {
    Snapshot {
        params: t.params().iter().map(|v| v.to_bits()).collect(),
        state: t.state().iter().map(|v| v.to_bits()).collect(),
        step: t.step_count(),
    }
}
