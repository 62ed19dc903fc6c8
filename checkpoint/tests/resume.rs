//! After a restore, training continues exactly as if there had been no reset: run N
//! steps, checkpoint, M more steps → A; restore into a fresh trainer, M steps → B;
//! A and B are bit-identical (parameters, optimizer state, step count).

mod common;

use common::{snapshot, train, trainer, Bufs, LAYERS};
use microtrain::{Adagrad, Adam, AdamW, AnyOptimizer, RAdam, RMSprop, Schedule, Sgd};
use microtrain_checkpoint::{region_len, scratch_len, CheckpointOptimizer, Checkpointer, MemFlash};

type Flash = MemFlash<8192, 4, 4, 1024>;

fn resume_is_exact<O: CheckpointOptimizer + Copy>(opt: O, schedule: Schedule, n: usize, m: usize) {
    let spp = opt.state_per_param();
    let region = region_len(&LAYERS, spp, 4, 1024) as u32;
    let mut ck = Checkpointer::new(Flash::new(), 0, region).unwrap();

    let mut b1 = Bufs::new(&LAYERS, spp);
    let mut a = trainer(&LAYERS, &mut b1, opt, 21);
    a.set_schedule(schedule).unwrap();
    train(&mut a, n);
    let saved = ck.save(&a).unwrap();
    assert_eq!(saved.step as usize, n);
    train(&mut a, m);

    // The reset: another trainer with the same configuration and other parameters.
    let mut b2 = Bufs::new(&LAYERS, spp);
    let mut b = trainer(&LAYERS, &mut b2, opt, 77);
    b.set_schedule(schedule).unwrap();
    let mut scratch = vec![0.0f32; scratch_len(&LAYERS, spp)];
    let info = ck.restore(&mut b, &mut scratch).unwrap();
    assert_eq!(info.step as usize, n);
    assert_eq!(b.step_count() as usize, n);
    train(&mut b, m);

    assert_eq!(
        snapshot(&a),
        snapshot(&b),
        "resumed run differs from the uninterrupted one"
    );
    assert_eq!(a.step_count() as usize, n + m);
}

#[test]
fn adam_with_an_exponential_schedule_resumes_exactly() {
    resume_is_exact(Adam::new(0.01), Schedule::Exponential { gamma: 0.99 }, 37, 50);
}

#[test]
fn every_optimizer_resumes_exactly() {
    let sgd_momentum = Sgd {
        momentum: 0.9,
        nesterov: true,
        ..Sgd::new(0.05)
    };
    let rms_centered = RMSprop {
        centered: true,
        momentum: 0.5,
        ..RMSprop::new(0.01)
    };
    let amsgrad = Adam {
        amsgrad: true,
        ..Adam::new(0.01)
    };
    let opts: [AnyOptimizer; 8] = [
        Sgd::new(0.1).into(),
        sgd_momentum.into(),
        Adagrad::new(0.1).into(),
        microtrain::Adadelta::new(1.0).into(),
        rms_centered.into(),
        amsgrad.into(),
        AdamW::new(0.01).into(),
        RAdam::new(0.01).into(),
    ];
    for opt in opts {
        resume_is_exact(
            opt,
            Schedule::Step {
                step_size: 10,
                gamma: 0.5,
            },
            23,
            41,
        );
        resume_is_exact(opt, Schedule::InverseTime { decay: 0.1 }, 1, 9);
    }
}

#[test]
fn repeated_checkpoints_resume_from_the_newest() {
    let opt = Adam::new(0.02);
    let region = region_len(&LAYERS, 2, 4, 1024) as u32;
    let mut ck = Checkpointer::new(Flash::new(), 0, region).unwrap();
    let mut b1 = Bufs::new(&LAYERS, 2);
    let mut a = trainer(&LAYERS, &mut b1, opt, 1);
    for round in 1..=5u32 {
        train(&mut a, 10);
        let info = ck.save(&a).unwrap();
        assert_eq!(info.sequence, round);
        assert_eq!(info.slot, ((round - 1) % 2) as u8, "slots must alternate");
    }
    let want = snapshot(&a);
    // A fresh checkpointer on the same flash (after a reset) finds the newest.
    let mut ck = Checkpointer::new(ck.into_inner(), 0, region).unwrap();
    assert_eq!(ck.newest().unwrap().map(|i| (i.sequence, i.step)), Some((5, 50)));
    let mut b2 = Bufs::new(&LAYERS, 2);
    let mut b = trainer(&LAYERS, &mut b2, opt, 2);
    let mut scratch = vec![0.0f32; scratch_len(&LAYERS, 2)];
    ck.restore(&mut b, &mut scratch).unwrap();
    assert_eq!(snapshot(&b), want);
    // And the next save goes on from sequence 6 into the older slot.
    let info = ck.save(&b).unwrap();
    assert_eq!((info.sequence, info.slot), (6, 1));
}
