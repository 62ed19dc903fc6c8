//! `Checkpointer::slots` tells erased, complete and damaged slots apart, so a device
//! can report a corrupted or interrupted checkpoint while it restores the other one.

mod common;

use common::{snapshot, train, trainer, Bufs, LAYERS};
use microtrain::Adam;
use microtrain_checkpoint::{scratch_len, Checkpointer, MemFlash, SlotState};

type Flash = MemFlash<4096, 4, 4, 512>;
const REGION: u32 = 2048;
const SLOT: usize = 1024;

fn complete(s: SlotState) -> (u8, u32, u32) {
    match s {
        SlotState::Complete(i) => (i.slot, i.sequence, i.step),
        other => panic!("expected a complete slot, got {other:?}"),
    }
}

#[test]
fn erased_then_complete_then_damaged_and_the_other_slot_restores() {
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 3);
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    assert_eq!(ck.slots().unwrap(), [SlotState::Erased, SlotState::Erased]);
    train(&mut t, 5);
    ck.save(&t).unwrap();
    let first = snapshot(&t);
    let s = ck.slots().unwrap();
    assert_eq!((complete(s[0]), s[1]), ((0, 1, 5), SlotState::Erased));
    train(&mut t, 4);
    ck.save(&t).unwrap();
    let s = ck.slots().unwrap();
    assert_eq!((complete(s[0]), complete(s[1])), ((0, 1, 5), (1, 2, 9)));

    // One flipped bit in the newest checkpoint's values.
    ck.flash_mut().bytes_mut()[SLOT + 200] ^= 0x10;
    let s = ck.slots().unwrap();
    assert_eq!((complete(s[0]), s[1]), ((0, 1, 5), SlotState::Damaged));
    let mut b2 = Bufs::new(&LAYERS, 2);
    let mut t2 = trainer(&LAYERS, &mut b2, Adam::new(0.01), 77);
    let mut scratch = vec![0.0f32; scratch_len(&LAYERS, 2)];
    let info = ck.restore(&mut t2, &mut scratch).unwrap();
    assert_eq!((info.slot, info.sequence, info.step), (0, 1, 5));
    assert_eq!(snapshot(&t2), first);

    // The next save goes over the damaged slot.
    ck.save(&t2).unwrap();
    let s = ck.slots().unwrap();
    assert_eq!((complete(s[0]), complete(s[1])), ((0, 1, 5), (1, 2, 5)));
}

#[test]
fn an_interrupted_save_and_a_damaged_magic_are_damaged_not_erased() {
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 3);
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    train(&mut t, 2);
    ck.save(&t).unwrap();
    // The power fails halfway through the second save (after its erase).
    ck.flash_mut().cut_power_after(512 + 100);
    assert!(ck.save(&t).is_err());
    ck.flash_mut().power_on();
    let s = ck.slots().unwrap();
    assert_eq!((complete(s[0]), s[1]), ((0, 1, 2), SlotState::Damaged));
    // A cut right after the erase (of the 512 bytes the checkpoint spans) leaves the
    // slot erased.
    ck.flash_mut().cut_power_after(512);
    assert!(ck.save(&t).is_err());
    ck.flash_mut().power_on();
    assert_eq!(ck.slots().unwrap()[1], SlotState::Erased);
    // The magic itself corrupted.
    ck.flash_mut().bytes_mut()[0] ^= 0x01;
    assert_eq!(ck.slots().unwrap(), [SlotState::Damaged, SlotState::Erased]);
    assert!(ck.newest().unwrap().is_none());
}
