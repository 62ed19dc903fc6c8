//! Restoring a checkpoint of another shape, loss, optimizer or format version is an
//! error naming what differs, and leaves the trainer untouched.

mod common;

use common::{snapshot, train, trainer, Bufs, LAYERS};
use microtrain::{Activation, Adam, Dense, Loss, Sgd, Trainer};
use microtrain_checkpoint::{
    region_len, scratch_len, Checkpointer, ConfigError, MemFlash, MemFlashError, OptimizerField,
    RestoreError, SaveError,
};

type Flash = MemFlash<8192, 4, 4, 1024>;
const REGION: u32 = 4096;
static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A flash holding one checkpoint of the 3-4-2 model trained with Adam(0.01).
fn saved() -> Checkpointer<Flash> {
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 4);
    train(&mut t, 12);
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    ck.save(&t).unwrap();
    ck
}

/// Restores into `t`; checks that a refusal changed nothing.
fn refused<O: microtrain_checkpoint::CheckpointOptimizer>(
    ck: &mut Checkpointer<Flash>,
    t: &mut Trainer<'_, O>,
) -> RestoreError<MemFlashError> {
    let before = snapshot(t);
    let mut scratch = vec![0.0f32; 1000];
    let err = ck.restore(t, &mut scratch).unwrap_err();
    assert_eq!(
        snapshot(t),
        before,
        "a refused restore changed the trainer ({err:?})"
    );
    err
}

#[test]
fn another_shape_is_refused() {
    let mut ck = saved();
    let other_act = [
        Dense::new(3, 4, Activation::Relu),
        Dense::new(4, 2, Activation::Identity),
    ];
    let mut b = Bufs::new(&other_act, 2);
    let mut t = trainer(&other_act, &mut b, Adam::new(0.01), 1);
    assert_eq!(refused(&mut ck, &mut t), RestoreError::Layer { index: 0 });

    let wider = [
        Dense::new(3, 5, Activation::Tanh),
        Dense::new(5, 2, Activation::Identity),
    ];
    let mut b = Bufs::new(&wider, 2);
    let mut t = trainer(&wider, &mut b, Adam::new(0.01), 1);
    assert!(matches!(
        refused(&mut ck, &mut t),
        RestoreError::ParamCount {
            stored: 26,
            expected: 32
        }
    ));

    let deeper = [
        Dense::new(3, 4, Activation::Tanh),
        Dense::new(4, 2, Activation::Tanh),
        Dense::new(2, 2, Activation::Identity),
    ];
    let mut b = Bufs::new(&deeper, 2);
    let mut t = trainer(&deeper, &mut b, Adam::new(0.01), 1);
    assert_eq!(
        refused(&mut ck, &mut t),
        RestoreError::LayerCount {
            stored: 2,
            expected: 3
        }
    );
}

#[test]
fn another_optimizer_or_hyperparameter_is_refused() {
    let mut ck = saved();
    let mut b = Bufs::new(&LAYERS, 1);
    let mut t = trainer(
        &LAYERS,
        &mut b,
        Sgd {
            momentum: 0.9,
            ..Sgd::new(0.01)
        },
        1,
    );
    assert_eq!(
        refused(&mut ck, &mut t),
        RestoreError::Optimizer {
            field: OptimizerField::Kind
        }
    );
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.02), 1);
    assert_eq!(
        refused(&mut ck, &mut t),
        RestoreError::Optimizer {
            field: OptimizerField::Hyper(0)
        }
    );
    let beta2 = Adam {
        beta2: 0.99,
        ..Adam::new(0.01)
    };
    let mut t = trainer(&LAYERS, &mut b, beta2, 1);
    assert_eq!(
        refused(&mut ck, &mut t),
        RestoreError::Optimizer {
            field: OptimizerField::Hyper(2)
        }
    );
    let mut b = Bufs::new(&LAYERS, 3);
    let amsgrad = Adam {
        amsgrad: true,
        ..Adam::new(0.01)
    };
    let mut t = trainer(&LAYERS, &mut b, amsgrad, 1);
    assert_eq!(
        refused(&mut ck, &mut t),
        RestoreError::Optimizer {
            field: OptimizerField::StatePerParam
        }
    );
}

#[test]
fn another_loss_is_refused() {
    let mut ck = saved();
    let layers = [
        Dense::new(3, 4, Activation::Tanh),
        Dense::new(4, 2, Activation::Identity),
    ];
    let mut b = Bufs::new(&layers, 2);
    let mut t = Trainer::new(&layers, b.buffers(), Adam::new(0.01), Loss::SoftmaxCrossEntropy).unwrap();
    t.init_params(3);
    assert_eq!(
        refused(&mut ck, &mut t),
        RestoreError::Loss {
            stored: 0,
            expected: 2
        }
    );
}

#[test]
fn another_format_version_is_refused_even_with_a_valid_crc() {
    let mut ck = saved();
    let bytes = ck.flash_mut().bytes_mut();
    bytes[4] = 2;
    let total = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let crc = CRC.checksum(&bytes[..total - 4]);
    bytes[total - 4..total].copy_from_slice(&crc.to_le_bytes());
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 1);
    assert_eq!(refused(&mut ck, &mut t), RestoreError::Version { found: 2 });
    let info = ck.newest().unwrap().unwrap();
    assert_eq!(
        info.version, 2,
        "a complete slot of another version is still recognised"
    );
}

#[test]
fn a_too_small_scratch_buffer_is_refused() {
    let mut ck = saved();
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 1);
    let before = snapshot(&t);
    let need = scratch_len(&LAYERS, 2);
    assert_eq!(need, 26 * 3);
    let mut scratch = vec![0.0f32; need - 1];
    assert_eq!(
        ck.restore(&mut t, &mut scratch),
        Err(RestoreError::Scratch {
            needed: need,
            provided: need - 1
        })
    );
    assert_eq!(snapshot(&t), before);
}

#[test]
fn an_empty_flash_has_no_checkpoint() {
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    assert_eq!(ck.newest(), Ok(None));
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 1);
    assert_eq!(refused(&mut ck, &mut t), RestoreError::NoCheckpoint);
}

#[test]
fn bad_regions_and_too_small_slots_are_errors() {
    assert_eq!(
        Checkpointer::new(Flash::new(), 100, 2048).err(),
        Some(ConfigError::Unaligned {
            start: 100,
            erase: 1024
        })
    );
    assert!(matches!(
        Checkpointer::new(Flash::new(), 0, 1024),
        Err(ConfigError::Region { .. })
    ));
    assert!(matches!(
        Checkpointer::new(Flash::new(), 4096, 8192),
        Err(ConfigError::Region { .. })
    ));
    assert!(matches!(
        Checkpointer::new(MemFlash::<4096, 3, 4, 1024>::new(), 0, 2048),
        Err(ConfigError::Geometry { .. })
    ));
    // A model too large for the slot: nothing is erased or written.
    let big = [
        Dense::new(64, 64, Activation::Tanh),
        Dense::new(64, 2, Activation::Identity),
    ];
    let mut b = Bufs::new(&big, 2);
    let t = trainer(&big, &mut b, Adam::new(0.01), 1);
    let mut ck = Checkpointer::new(Flash::new(), 0, 2048).unwrap();
    ck.flash_mut().reset_counters();
    assert!(matches!(ck.save(&t), Err(SaveError::TooLarge { slot: 1024, .. })));
    assert_eq!(ck.flash().ops(), 0);
    assert!(region_len(&big, 2, 4, 1024) > 2048);
}

#[test]
fn error_messages_name_what_is_wrong() {
    let e: RestoreError<MemFlashError> = RestoreError::Layer { index: 1 };
    assert_eq!(e.to_string(), "offset 80: layer 1 differs from the model's");
    let e: RestoreError<MemFlashError> = RestoreError::Version { found: 7 };
    assert!(e.to_string().contains("version 7"));
    let e = ConfigError::Unaligned {
        start: 100,
        erase: 1024,
    };
    assert!(e.to_string().contains("0x64"));
}

/// LeakyReLU, ELU (at PyTorch's defaults) and softsign checkpoint and restore; a
/// LeakyReLU with another slope cannot be saved (no room in the record), and a
/// checkpoint with the default slope does not restore into it.
#[test]
fn new_activations_checkpoint_at_their_defaults_only() {
    let layers = [
        Dense::new(3, 4, Activation::LEAKY_RELU),
        Dense::new(4, 4, Activation::ELU),
        Dense::new(4, 2, Activation::Softsign),
    ];
    let mut b = Bufs::new(&layers, 2);
    let mut t = trainer(&layers, &mut b, Adam::new(0.01), 4);
    train(&mut t, 5);
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    ck.save(&t).unwrap();
    let saved = snapshot(&t);
    let mut b2 = Bufs::new(&layers, 2);
    let mut t2 = trainer(&layers, &mut b2, Adam::new(0.01), 9);
    let mut scratch = vec![0.0f32; 1000];
    ck.restore(&mut t2, &mut scratch).unwrap();
    assert_eq!(snapshot(&t2), saved);

    let sloped = [
        Dense::new(3, 4, Activation::leaky_relu(0.2)),
        Dense::new(4, 4, Activation::ELU),
        Dense::new(4, 2, Activation::Softsign),
    ];
    let mut b3 = Bufs::new(&sloped, 2);
    let mut t3 = trainer(&sloped, &mut b3, Adam::new(0.01), 4);
    assert_eq!(refused(&mut ck, &mut t3), RestoreError::Layer { index: 0 });
    let mut ck2 = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    assert!(matches!(ck2.save(&t3), Err(SaveError::Shape)));
}
