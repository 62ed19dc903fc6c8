//! Checkpoints of a model with frozen layers hold exactly what trains, and say which
//! layers are frozen: a restore into the same freezing is bit for bit, into another
//! freezing of the same layers it is refused, naming the layer, with nothing changed.

mod common;

use common::{snapshot, train};
use microtrain::shape::{params_len, trainable_params_len, Trainability};
use microtrain::{shape, Activation, Adam, Buffers, Dense, Loss, Trainer};
use microtrain_checkpoint::{scratch_len, slot_bytes, Checkpointer, MemFlash, RestoreError};

type Flash = MemFlash<8192, 4, 4, 1024>;
const REGION: u32 = 4096;
const L0: Dense = Dense::new(3, 4, Activation::Tanh);
const L1: Dense = Dense::new(4, 2, Activation::Identity);
const FIRST_FROZEN: [Dense; 2] = [L0.frozen(), L1];
const BIAS_ONLY: [Dense; 2] = [L0.bias_only(), L1];

/// Buffers sized for what trains in `layers` with Adam, over the whole model `whole`.
struct Bufs {
    params: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
    acts: Vec<f32>,
}

impl Bufs {
    fn new(layers: &[Dense]) -> Self {
        let p = trainable_params_len(layers);
        Bufs {
            params: vec![0.0; p],
            grads: vec![0.0; p],
            state: vec![0.0; 2 * p],
            acts: vec![0.0; shape::activations_len(layers)],
        }
    }

    fn trainer<'a>(&'a mut self, layers: &'a [Dense], whole: &'a [f32]) -> Trainer<'a, Adam> {
        let b = Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: whole,
        };
        Trainer::new(layers, b, Adam::new(0.01), Loss::Mse).unwrap()
    }
}

fn whole() -> Vec<f32> {
    (0..params_len(&FIRST_FROZEN))
        .map(|i| ((i as f32) * 0.37).sin() * 0.5)
        .collect()
}

#[test]
fn a_frozen_models_checkpoint_restores_bit_for_bit_and_only_into_the_same_freezing() {
    let whole = whole();
    let mut b = Bufs::new(&FIRST_FROZEN);
    let mut t = b.trainer(&FIRST_FROZEN, &whole);
    train(&mut t, 9);
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    ck.save(&t).unwrap();
    let saved = snapshot(&t);
    // Only what trains is stored: the 10 parameters of the last layer and their state.
    assert_eq!(scratch_len(&FIRST_FROZEN, 2), 10 * 3);
    assert!(slot_bytes(&FIRST_FROZEN, 2, 4) < slot_bytes(&[L0, L1], 2, 4));

    let mut b2 = Bufs::new(&FIRST_FROZEN);
    let mut again = b2.trainer(&FIRST_FROZEN, &whole);
    let mut scratch = vec![0.0f32; 64];
    ck.restore(&mut again, &mut scratch).unwrap();
    assert_eq!(snapshot(&again), saved);

    let mut b3 = Bufs::new(&BIAS_ONLY);
    let mut other = b3.trainer(&BIAS_ONLY, &whole);
    let before = snapshot(&other);
    let err = ck.restore(&mut other, &mut scratch).unwrap_err();
    assert_eq!(
        err,
        RestoreError::Freezing {
            index: 0,
            stored: Trainability::Frozen.code(),
            expected: Trainability::BiasOnly.code()
        }
    );
    assert!(
        err.to_string()
            .contains("layer 0 is frozen in the checkpoint but bias-only in the model"),
        "{err}"
    );
    assert_eq!(snapshot(&other), before);
}
