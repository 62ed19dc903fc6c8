//! Power cuts at every byte of several saves: a restore afterwards gives the previous
//! checkpoint or the new one, bit for bit, never a mix and never an error when one
//! complete checkpoint exists.

mod common;

use common::{snapshot, train, trainer, Bufs, Snapshot, LAYERS};
use microtrain::{Adam, Trainer};
use microtrain_checkpoint::{region_len, scratch_len, Checkpointer, MemFlash, RestoreError};
use proptest::prelude::*;

const OPT: Adam = Adam::new(0.01);
const SPP: usize = OPT.state_per_param();

/// Restores the newest checkpoint of `flash` into a fresh trainer (a reboot).
fn reboot_and_restore<const N: usize, const R: usize, const W: usize, const E: usize>(
    flash: MemFlash<N, R, W, E>,
    start: u32,
    region: u32,
) -> (
    Result<u32, RestoreError<microtrain_checkpoint::MemFlashError>>,
    Snapshot,
    Snapshot,
) {
    let mut ck = Checkpointer::new(flash, start, region).unwrap();
    let mut b = Bufs::new(&LAYERS, SPP);
    let mut fresh: Trainer<'_, Adam> = trainer(&LAYERS, &mut b, OPT, 99);
    let before = snapshot(&fresh);
    let mut scratch = vec![0.0f32; scratch_len(&LAYERS, SPP)];
    let r = ck.restore(&mut fresh, &mut scratch).map(|i| i.sequence);
    (r, before, snapshot(&fresh))
}

/// Cuts at every byte of saves 1 to 4 on one flash geometry; returns (cuts, operations
/// per save).
fn cut_everywhere<const N: usize, const R: usize, const W: usize, const E: usize>(
    start: u32,
) -> (usize, usize) {
    let region = region_len(&LAYERS, SPP, W, E) as u32;
    let mut b = Bufs::new(&LAYERS, SPP);
    let mut t = trainer(&LAYERS, &mut b, OPT, 3);
    let mut flash = MemFlash::<N, R, W, E>::new();
    let mut prev: Option<Snapshot> = None;
    let (mut cuts, mut ops) = (0, 0);
    for save_no in 1..=4u32 {
        train(&mut t, 5 + save_no as usize);
        let new = snapshot(&t);
        // A full save, to count its bytes and operations.
        let mut probe = Checkpointer::new(flash.clone(), start, region).unwrap();
        probe.newest().unwrap();
        probe.flash_mut().reset_counters();
        probe.save(&t).unwrap();
        let total = probe.flash().touched();
        ops = probe.flash().ops();
        assert_eq!(probe.flash().rewrites(), 0, "a save wrote over unerased flash");
        // The marker's first 4 bytes make the new checkpoint complete; the rest of its
        // write unit is padding.
        let complete_at = total - (W.max(4) - 4);
        for cut in 0..=total {
            let mut f = flash.clone();
            f.cut_power_after(cut);
            let mut ck = Checkpointer::new(f, start, region).unwrap();
            let saved = ck.save(&t);
            assert_eq!(
                saved.is_ok(),
                cut == total,
                "save {save_no}, cut at byte {cut}: {saved:?}"
            );
            let mut f = ck.into_inner();
            f.power_on();
            let (restored, before, after) = reboot_and_restore(f.clone(), start, region);
            match (&restored, cut >= complete_at, &prev) {
                (Ok(seq), true, _) => {
                    assert_eq!(*seq, save_no);
                    assert_eq!(after, new, "save {save_no}, cut {cut}: not the new checkpoint");
                }
                (Ok(seq), false, Some(p)) => {
                    assert_eq!(*seq, save_no - 1);
                    assert_eq!(
                        &after, p,
                        "save {save_no}, cut {cut}: not the previous checkpoint"
                    );
                }
                (Err(RestoreError::NoCheckpoint), false, None) => assert_eq!(after, before),
                other => panic!("save {save_no}, cut at byte {cut} of {total}: {other:?}"),
            }
            // Recovery: the next save after the reboot works and is the one restored.
            let mut ck = Checkpointer::new(f, start, region).unwrap();
            ck.save(&t).unwrap();
            let (again, _, after) = reboot_and_restore(ck.into_inner(), start, region);
            assert!(again.is_ok());
            assert_eq!(after, new);
            cuts += 1;
        }
        let mut ck = Checkpointer::new(flash, start, region).unwrap();
        assert_eq!(ck.save(&t).unwrap().sequence, save_no);
        flash = ck.into_inner();
        prev = Some(new);
    }
    (cuts, ops)
}

#[test]
fn a_cut_at_any_byte_of_a_save_keeps_the_previous_or_the_new_checkpoint() {
    let geometries = [
        ("read 1, write 1, erase 256", cut_everywhere::<4096, 1, 1, 256>(0)),
        (
            "read 4, write 4, erase 1024",
            cut_everywhere::<4096, 4, 4, 1024>(0),
        ),
        (
            "read 4, write 8, erase 512, region at 512",
            cut_everywhere::<4096, 4, 8, 512>(512),
        ),
    ];
    let mut all = 0;
    for (name, (cuts, ops)) in geometries {
        println!("power cuts tried ({name}): {cuts} over 4 saves of {ops} flash operations each");
        all += cuts;
    }
    println!("power cuts tried in all: {all}");
    // Every byte of every save plus the end of each: at least the bytes erased and
    // written by 4 saves of a 412-byte checkpoint on each geometry.
    assert!(all > 3 * 4 * 412 * 2, "only {all} cuts were tried");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Saves interrupted at random points, one after another (a cut during a save,
    /// then another cut during the retry, ...): the restore always gives the last
    /// checkpoint that became complete.
    #[test]
    fn repeated_cuts_keep_the_last_complete_checkpoint(cuts in prop::collection::vec(prop::option::of(0usize..2000), 1..12)) {
        type Flash = MemFlash<4096, 4, 8, 512>;
        let region = region_len(&LAYERS, SPP, 8, 512) as u32;
        let mut b = Bufs::new(&LAYERS, SPP);
        let mut t = trainer(&LAYERS, &mut b, OPT, 5);
        let mut flash = Flash::new();
        let mut last: Option<Snapshot> = None;
        for cut in cuts {
            train(&mut t, 3);
            let mut probe = Checkpointer::new(flash.clone(), 0, region).unwrap();
            probe.newest().unwrap();
            probe.flash_mut().reset_counters();
            probe.save(&t).unwrap();
            let total = probe.flash().touched();
            let mut ck = Checkpointer::new(flash, 0, region).unwrap();
            if let Some(c) = cut {
                ck.flash_mut().cut_power_after(c % (total + 1));
            }
            let _ = ck.save(&t);
            flash = ck.into_inner();
            let complete = cut.is_none_or(|c| c % (total + 1) >= total - 4);
            flash.power_on();
            if complete {
                last = Some(snapshot(&t));
            }
            let (r, before, after) = reboot_and_restore(flash.clone(), 0, region);
            match &last {
                Some(s) => { prop_assert!(r.is_ok()); prop_assert_eq!(&after, s); }
                None => { prop_assert_eq!(r, Err(RestoreError::NoCheckpoint)); prop_assert_eq!(after, before); }
            }
        }
    }
}
