//! One soak run: a 3-8-2 MLP trained online (batch 1) on the drifting [`Stream`] for
//! a given number of steps, with per-regime loss figures and end-of-run checks.

use crate::stream::Stream;
use microtrain::{
    storage_for, Activation, Adagrad, Adam, Dense, Loss, Optimizer, Sgd, Storage, Target, Trainer,
};

/// The model: 3 inputs, 8 tanh hidden units, 2 linear outputs (MSE).
pub const LAYERS: [Dense; 2] = [
    Dense::new(3, 8, Activation::Tanh),
    Dense::new(8, 2, Activation::Identity),
];

/// The optimizers of the soak run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `Adam::new(0.005)`.
    Adam,
    /// `Adagrad::new(0.05)` (its accumulator only grows).
    Adagrad,
    /// SGD with momentum 0.9, lr 0.01.
    SgdMomentum,
}

impl Which {
    /// All three.
    pub const ALL: [Which; 3] = [Which::Adam, Which::Adagrad, Which::SgdMomentum];

    /// The name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Which::Adam => "adam",
            Which::Adagrad => "adagrad",
            Which::SgdMomentum => "sgd-momentum",
        }
    }
}

const ADAM: Adam = Adam::new(0.005);
const ADAGRAD: Adagrad = Adagrad::new(0.05);
const SGD: Sgd = Sgd {
    lr: 0.01,
    momentum: 0.9,
    dampening: 0.0,
    nesterov: false,
    weight_decay: 0.0,
};

/// Mean losses of one regime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeLoss {
    /// Mean loss over the regime's first window of steps (right after the change).
    pub first: f64,
    /// Mean loss over the regime's last window of steps.
    pub last: f64,
}

/// What a soak run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The optimizer.
    pub optimizer: Which,
    /// Steps attempted.
    pub steps: u64,
    /// The trainer's step count at the end.
    pub step_count: u32,
    /// Steps the trainer rejected (non-finite loss or gradient).
    pub rejected: u32,
    /// Whether every parameter and state float is finite at the end.
    pub finite: bool,
    /// Largest `|parameter|` at the end.
    pub max_abs_param: f32,
    /// Largest `|state|` at the end (Adagrad: the largest accumulator).
    pub max_abs_state: f32,
    /// Losses per regime.
    pub regimes: Vec<RegimeLoss>,
    /// Bytes of the training storage (parameters, gradients, state, activations).
    pub storage_bytes: usize,
    /// After the run, the step count set to `u32::MAX - 10` and 20 more steps: whether
    /// it saturated at `u32::MAX` with everything still finite.
    pub saturates: bool,
}

/// Number of regimes a run of `steps` steps goes through (the capacity [`run`] needs).
pub fn regimes(steps: u64, regime_len: u64) -> usize {
    steps.div_ceil(regime_len.max(1)) as usize
}

/// Runs the soak for one optimizer: `steps` online steps, the target function changing
/// every `regime_len` steps, losses averaged over windows of `window` steps.
///
/// `table` receives one [`RegimeLoss`] per regime; give it a capacity of
/// [`regimes`]`(steps, regime_len)` and the run allocates nothing at all.
pub fn run(which: Which, steps: u64, regime_len: u64, window: u64, table: Vec<RegimeLoss>) -> Report {
    let cfg = (steps, regime_len, window, table);
    match which {
        Which::Adam => {
            let mut s: storage_for!(&LAYERS, ADAM) = Storage::new();
            let size = core::mem::size_of_val(&s);
            soak(which, ADAM, s.buffers(), size, cfg)
        }
        Which::Adagrad => {
            let mut s: storage_for!(&LAYERS, ADAGRAD) = Storage::new();
            let size = core::mem::size_of_val(&s);
            soak(which, ADAGRAD, s.buffers(), size, cfg)
        }
        Which::SgdMomentum => {
            let mut s: storage_for!(&LAYERS, SGD) = Storage::new();
            let size = core::mem::size_of_val(&s);
            soak(which, SGD, s.buffers(), size, cfg)
        }
    }
}

fn soak<O: Optimizer>(
    which: Which,
    opt: O,
    buffers: microtrain::Buffers<'_>,
    storage_bytes: usize,
    (steps, regime_len, window, mut regimes): (u64, u64, u64, Vec<RegimeLoss>),
) -> Report {
    let regime_len = regime_len.max(1);
    let window = window.clamp(1, regime_len);
    let mut t = match Trainer::new(&LAYERS, buffers, opt, Loss::Mse) {
        Ok(t) => t,
        Err(e) => panic!("soak model does not build: {e}"),
    };
    t.init_params(2026);
    let mut stream = Stream::new(7, regime_len);
    regimes.clear();
    let (mut first, mut last) = (0.0f64, 0.0f64);
    for i in 0..steps {
        let (x, y) = stream.next_sample();
        let pos = i % regime_len;
        let len = regime_len.min(steps - (i - pos));
        if let Ok(loss) = t.train_sample(&x, Target::Values(&y)) {
            if pos < window {
                first += f64::from(loss);
            }
            if pos >= len.saturating_sub(window) {
                last += f64::from(loss);
            }
        }
        if pos + 1 == len {
            let w = window.min(len) as f64;
            regimes.push(RegimeLoss {
                first: first / w,
                last: last / w,
            });
            (first, last) = (0.0, 0.0);
        }
    }
    let finite = t.params().iter().chain(t.state()).all(|v| v.is_finite());
    let max_abs = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let (max_abs_param, max_abs_state) = (max_abs(t.params()), max_abs(t.state()));
    let (step_count, rejected) = (t.step_count(), t.rejected_steps());
    t.set_step_count(u32::MAX - 10);
    for _ in 0..20 {
        let (x, y) = stream.next_sample();
        let _ = t.train_sample(&x, Target::Values(&y));
    }
    let saturates = t.step_count() == u32::MAX && t.params().iter().chain(t.state()).all(|v| v.is_finite());
    Report {
        optimizer: which,
        steps,
        step_count,
        rejected,
        finite,
        max_abs_param,
        max_abs_state,
        regimes,
        storage_bytes,
        saturates,
    }
}
