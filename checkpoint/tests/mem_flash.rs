//! The RAM flash the power-cut tests rely on keeps NOR semantics.

use embedded_storage::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use microtrain_checkpoint::{MemFlash, MemFlashError};

type Flash = MemFlash<1024, 4, 8, 256>;

#[test]
fn erase_sets_ones_and_write_only_clears_bits() {
    let mut f = Flash::new();
    assert!(f.bytes().iter().all(|b| *b == 0xFF));
    f.write(8, &[0x0F, 0xF0, 0xAA, 0x55, 0, 1, 2, 3]).unwrap();
    assert_eq!(f.rewrites(), 0);
    // A second write ANDs into what is there, and is counted as a rewrite.
    f.write(8, &[0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        .unwrap();
    assert_eq!(f.rewrites(), 1);
    let mut r = [0u8; 8];
    f.read(8, &mut r).unwrap();
    assert_eq!(r, [0x0F, 0x00, 0xAA, 0x55, 0, 1, 2, 3]);
    f.erase(0, 256).unwrap();
    f.read(8, &mut r).unwrap();
    assert_eq!(r, [0xFF; 8]);
}

#[test]
fn misaligned_and_out_of_bounds_operations_fail() {
    let mut f = Flash::new();
    let mut r = [0u8; 4];
    assert_eq!(f.read(2, &mut r), Err(MemFlashError::NotAligned));
    assert_eq!(f.read(1024, &mut r), Err(MemFlashError::OutOfBounds));
    assert_eq!(f.write(4, &[0; 8]), Err(MemFlashError::NotAligned));
    assert_eq!(f.write(0, &[0; 4]), Err(MemFlashError::NotAligned));
    assert_eq!(f.erase(0, 100), Err(MemFlashError::NotAligned));
    assert_eq!(f.erase(256, 0), Err(MemFlashError::OutOfBounds));
    assert_eq!(f.erase(768, 1280), Err(MemFlashError::OutOfBounds));
    assert_eq!(MemFlashError::NotAligned.kind(), NorFlashErrorKind::NotAligned);
    assert!(
        f.bytes().iter().all(|b| *b == 0xFF),
        "a refused operation changed the flash"
    );
}

#[test]
fn a_power_cut_leaves_a_prefix_and_stops_everything_until_power_on() {
    let mut f = Flash::new();
    f.cut_power_after(3);
    assert_eq!(f.write(0, &[0; 8]), Err(MemFlashError::PowerCut));
    assert_eq!(&f.bytes()[..8], &[0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    let mut r = [0u8; 4];
    assert_eq!(f.read(0, &mut r), Err(MemFlashError::PowerCut));
    assert_eq!(f.erase(0, 256), Err(MemFlashError::PowerCut));
    assert!(f.is_dead());
    f.power_on();
    f.write(8, &[0; 248]).unwrap();
    f.cut_power_after(100);
    assert_eq!(f.erase(0, 256), Err(MemFlashError::PowerCut));
    assert!(f.bytes()[..100].iter().all(|b| *b == 0xFF), "the erased prefix");
    assert!(
        f.bytes()[100..256].iter().all(|b| *b == 0),
        "bytes past the cut keep their value"
    );
    f.power_on();
    f.read(0, &mut r).unwrap();
    assert_eq!(r, [0xFF; 4]);
    assert_eq!(f.touched(), 3 + 248 + 100);
    assert_eq!(f.ops(), 3);
}
