//! The checkpoint format is parsed defensively: random corruptions, truncations and
//! oversized lengths in a valid slot give an error (or, when they miss the checkpoint,
//! the checkpoint), never a panic or an out-of-bounds read; a refused restore leaves
//! the trainer untouched.

mod common;

use common::{snapshot, train, trainer, Bufs, Snapshot, LAYERS};
use microtrain::Adam;
use microtrain_checkpoint::{scratch_len, Checkpointer, MemFlash, RestoreError};
use proptest::prelude::*;

type Flash = MemFlash<4096, 4, 4, 512>;
const REGION: u32 = 2048;
const SLOT: usize = 1024;
/// The 3-4-2 model with Adam: 68 + 24 + 4 * 78 + 4 bytes, marker right after.
const TOTAL: usize = 408;
static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A flash with one checkpoint (slot 0) or two (slots 0 and 1), and their snapshots.
fn image(two: bool) -> (Flash, Vec<Snapshot>) {
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 8);
    let mut ck = Checkpointer::new(Flash::new(), 0, REGION).unwrap();
    let mut snaps = vec![];
    for _ in 0..(1 + usize::from(two)) {
        train(&mut t, 7);
        ck.save(&t).unwrap();
        snaps.push(snapshot(&t));
    }
    (ck.into_inner(), snaps)
}

/// Restores into a fresh trainer: the outcome and the trainer before and after.
fn restore(
    flash: Flash,
) -> (
    Result<u32, RestoreError<microtrain_checkpoint::MemFlashError>>,
    Snapshot,
    Snapshot,
) {
    let mut ck = Checkpointer::new(flash, 0, REGION).unwrap();
    let mut b = Bufs::new(&LAYERS, 2);
    let mut t = trainer(&LAYERS, &mut b, Adam::new(0.01), 99);
    let before = snapshot(&t);
    let mut scratch = vec![0.0f32; scratch_len(&LAYERS, 2)];
    let r = ck.restore(&mut t, &mut scratch).map(|i| i.sequence);
    (r, before, snapshot(&t))
}

/// Recomputes slot 0's CRC from its (corrupted) length field, as an adversary would.
fn fix_crc(bytes: &mut [u8]) {
    let total = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    if (72..=SLOT - 8).contains(&total) {
        let crc = CRC.checksum(&bytes[..total - 4]);
        bytes[total - 4..total].copy_from_slice(&crc.to_le_bytes());
        let m = total.div_ceil(4) * 4;
        bytes[m..m + 4].copy_from_slice(b"DONE");
    }
}

#[test]
fn the_layout_is_as_documented() {
    let (flash, _) = image(false);
    let b = flash.bytes();
    assert_eq!(&b[0..4], b"MTCK");
    assert_eq!(u16::from_le_bytes([b[4], b[5]]), 1);
    assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize, TOTAL);
    assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()), 1, "sequence");
    assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 7, "step");
    let crc = CRC.checksum(&b[..TOTAL - 4]);
    assert_eq!(b[TOTAL - 4..TOTAL], crc.to_le_bytes());
    assert_eq!(&b[TOTAL..TOTAL + 4], b"DONE");
    assert!(
        b[TOTAL + 4..SLOT].iter().all(|x| *x == 0xFF),
        "rest of the slot stays erased"
    );
}

#[test]
fn every_single_bit_flip_of_a_lone_checkpoint_is_refused() {
    let (flash, snaps) = image(false);
    for bit in 0..(TOTAL + 4) * 8 {
        let mut f = flash.clone();
        f.bytes_mut()[bit / 8] ^= 1 << (bit % 8);
        let (r, before, after) = restore(f);
        assert_eq!(r, Err(RestoreError::NoCheckpoint), "flip of bit {bit} accepted");
        assert_eq!(after, before);
    }
    let (r, _, after) = restore(flash);
    assert_eq!(r, Ok(1));
    assert_eq!(after, snaps[0]);
}

#[test]
fn every_truncation_is_refused() {
    let (flash, _) = image(false);
    for len in 0..TOTAL + 4 {
        let mut f = flash.clone();
        f.bytes_mut()[len..SLOT].fill(0xFF);
        let (r, before, after) = restore(f);
        assert_eq!(
            r,
            Err(RestoreError::NoCheckpoint),
            "truncation to {len} bytes accepted"
        );
        assert_eq!(after, before);
    }
}

#[test]
fn oversized_lengths_are_refused_without_reading_past_the_slot() {
    let (flash, _) = image(false);
    for total in [0u32, 3, 71, 72, 1020, 1021, 1024, 4096, 1 << 31, u32::MAX] {
        let mut f = flash.clone();
        f.bytes_mut()[8..12].copy_from_slice(&total.to_le_bytes());
        fix_crc(f.bytes_mut());
        let (r, before, after) = restore(f);
        assert!(r.is_err(), "length {total} accepted");
        assert_eq!(after, before);
    }
    // A consistent header with more parameters than the model: a shape error.
    let mut f = flash.clone();
    f.bytes_mut()[28..32].copy_from_slice(&1000u32.to_le_bytes());
    fix_crc(f.bytes_mut());
    assert!(matches!(
        restore(f).0,
        Err(RestoreError::ParamCount { stored: 1000, .. })
    ));
    // A NaN in the parameters behind a valid CRC.
    let mut f = flash.clone();
    f.bytes_mut()[100..104].copy_from_slice(&f32::NAN.to_le_bytes());
    fix_crc(f.bytes_mut());
    assert_eq!(restore(f).0, Err(RestoreError::NonFinite { offset: 100 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random byte corruptions of the newest of two checkpoints: the restore gives the
    /// older checkpoint when the newest was hit, the newest when only padding was hit.
    #[test]
    fn random_corruptions_fall_back_to_the_other_slot(
        hits in prop::collection::vec((0usize..SLOT, 1u8..=255), 1..8)
    ) {
        let (mut flash, snaps) = image(true);
        let newest = SLOT; // the second save went to slot 1
        let mut touched = false;
        for (off, x) in &hits {
            flash.bytes_mut()[newest + off] ^= x;
            touched |= *off < TOTAL + 4;
        }
        let (r, _, after) = restore(flash);
        if touched {
            prop_assert_eq!(r, Ok(1));
            prop_assert_eq!(&after, &snaps[0]);
        } else {
            prop_assert_eq!(r, Ok(2));
            prop_assert_eq!(&after, &snaps[1]);
        }
    }

    /// Random corruptions of a lone checkpoint's header and body with the CRC fixed up
    /// afterwards (so the checks behind the CRC run): any outcome but a panic, and a
    /// refusal leaves the trainer untouched; an acceptance installs finite values.
    #[test]
    fn corruptions_behind_a_valid_crc_never_panic(
        hits in prop::collection::vec((0usize..TOTAL, any::<u8>()), 1..6)
    ) {
        let (mut flash, _) = image(false);
        for (off, v) in &hits {
            flash.bytes_mut()[*off] = *v;
        }
        fix_crc(flash.bytes_mut());
        let (r, before, after) = restore(flash);
        match r {
            Ok(_) => prop_assert!(after.params.iter().chain(&after.state).all(|b| f32::from_bits(*b).is_finite())),
            Err(_) => prop_assert_eq!(after, before),
        }
    }

    /// Arbitrary flash contents: never a panic, and nothing is installed unless a slot
    /// is complete.
    #[test]
    fn arbitrary_flash_contents_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let (r, before, after) = restore(Flash::from_bytes(&bytes));
        prop_assert!(r.is_err());
        prop_assert_eq!(after, before);
    }
}
