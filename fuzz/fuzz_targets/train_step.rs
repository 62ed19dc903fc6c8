//! Training steps with arbitrary floats: any optimizer (default or fuzzed
//! hyperparameters), any loss, schedule, clipping, step count, parameters, inputs and
//! targets. Every step either succeeds or fails with parameters, optimizer state and
//! step count bit for bit unchanged; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microtrain::{
    shape, Activation, Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, Buffers, Dense, Loss, RAdam, RMSprop,
    Schedule, Sgd, Target, Trainer,
};

/// Reads bytes and floats from the fuzz input (zeros once it runs out).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }

    /// `default`, or an arbitrary float when the next byte is odd.
    fn maybe(&mut self, default: f32) -> f32 {
        if self.byte() & 1 == 1 {
            self.f32()
        } else {
            default
        }
    }

    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

fn optimizer(i: &mut Input<'_>) -> AnyOptimizer {
    let kind = i.byte() % 7;
    let lr = i.maybe(0.01);
    match kind {
        0 => AnyOptimizer::Sgd(Sgd {
            lr,
            momentum: i.maybe(0.9),
            dampening: i.maybe(0.0),
            nesterov: i.byte() & 1 == 1,
            weight_decay: i.maybe(0.0),
        }),
        1 => AnyOptimizer::Adagrad(Adagrad {
            lr,
            lr_decay: i.maybe(0.0),
            weight_decay: i.maybe(0.0),
            initial_accumulator_value: i.maybe(0.0),
            eps: i.maybe(1e-10),
        }),
        2 => AnyOptimizer::Adadelta(Adadelta {
            lr,
            rho: i.maybe(0.9),
            eps: i.maybe(1e-6),
            weight_decay: i.maybe(0.0),
        }),
        3 => AnyOptimizer::RMSprop(RMSprop {
            lr,
            alpha: i.maybe(0.99),
            eps: i.maybe(1e-8),
            weight_decay: i.maybe(0.0),
            momentum: i.maybe(0.0),
            centered: i.byte() & 1 == 1,
        }),
        4 => AnyOptimizer::Adam(Adam {
            lr,
            beta1: i.maybe(0.9),
            beta2: i.maybe(0.999),
            eps: i.maybe(1e-8),
            weight_decay: i.maybe(0.0),
            amsgrad: i.byte() & 1 == 1,
        }),
        5 => AnyOptimizer::AdamW(AdamW {
            lr,
            beta1: i.maybe(0.9),
            beta2: i.maybe(0.999),
            eps: i.maybe(1e-8),
            weight_decay: i.maybe(0.01),
            amsgrad: i.byte() & 1 == 1,
        }),
        _ => AnyOptimizer::RAdam(RAdam {
            lr,
            beta1: i.maybe(0.9),
            beta2: i.maybe(0.999),
            eps: i.maybe(1e-8),
            weight_decay: i.maybe(0.0),
        }),
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut i = Input(data);
    let loss = Loss::ALL[usize::from(i.byte()) % 3];
    let hidden = Activation::ALL[usize::from(i.byte()) % Activation::ALL.len()];
    let last = match loss {
        Loss::BinaryCrossEntropy => Activation::Sigmoid,
        Loss::SoftmaxCrossEntropy => Activation::Identity,
        Loss::Mse => Activation::ALL[usize::from(i.byte()) % Activation::ALL.len()],
    };
    let layers = [Dense::new(3, 4, hidden), Dense::new(4, 2, last)];
    let opt = optimizer(&mut i);
    let p = shape::params_len(&layers);
    let (mut params, mut grads) = (vec![0.0f32; p], vec![0.0f32; p]);
    let mut state = vec![0.0f32; p * opt.state_per_param()];
    let mut acts = vec![0.0f32; shape::activations_len(&layers)];
    let buffers = Buffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut state,
        acts: &mut acts,
        frozen: &[],
    };
    let Ok(mut t) = Trainer::new(&layers, buffers, opt, loss) else {
        return;
    };
    t.init_params(u64::from(i.u32()));
    let schedule = match i.byte() % 4 {
        0 => Schedule::Constant,
        1 => Schedule::Exponential { gamma: i.f32() },
        2 => Schedule::Step {
            step_size: i.u32(),
            gamma: i.f32(),
        },
        _ => Schedule::InverseTime { decay: i.f32() },
    };
    let _ = t.set_schedule(schedule);
    if i.byte() & 1 == 1 {
        let _ = t.set_clip_norm(Some(i.f32()));
    }
    if i.byte() & 1 == 1 {
        t.set_step_count(i.u32());
    }
    if i.byte() & 1 == 1 {
        let fuzzed: Vec<f32> = (0..p).map(|_| i.f32()).collect();
        let before = bits(t.params());
        if t.load_params(&fuzzed).is_err() {
            assert_eq!(before, bits(t.params()), "refused load_params changed the parameters");
        }
    }
    while !i.done() {
        let x = [i.f32(), i.f32(), i.f32()];
        let values = [i.maybe(0.5), i.maybe(0.5)];
        let target = match (loss, i.byte()) {
            (Loss::SoftmaxCrossEntropy, b) if b & 1 == 1 => Target::Class(usize::from(b >> 1) % 3),
            _ => Target::Values(&values),
        };
        let (p0, s0, k0) = (bits(t.params()), bits(t.state()), t.step_count());
        match t.train_sample(&x, target) {
            Ok(_) => assert_eq!(t.step_count(), k0.saturating_add(1)),
            Err(_) => {
                assert_eq!(p0, bits(t.params()), "a rejected step changed the parameters");
                assert_eq!(s0, bits(t.state()), "a rejected step changed the optimizer state");
                assert_eq!(k0, t.step_count(), "a rejected step changed the step count");
            }
        }
    }
});
