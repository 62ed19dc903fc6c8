//! Version-1 checkpoints are written byte for byte as before format version 2 existed:
//! the CRC-32 of whole flash images, computed with the code before version 2.

mod common;

use common::{train, trainer, Bufs, LAYERS};
use microtrain::{Activation, Adam, Dense, Sgd};
use microtrain_checkpoint::{Checkpointer, MemFlash};

/// Computed at commit 2a855cf (format version 1 only).
const GOLDEN: [u32; 3] = [0x2848e51f, 0x3f29ac56, 0xdaec3c9e];

type Flash = MemFlash<8192, 4, 4, 1024>;
static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn image<O: microtrain_checkpoint::CheckpointOptimizer + Copy>(layers: &[Dense], opt: O, spp: usize) -> u32 {
    let mut b = Bufs::new(layers, spp);
    let mut t = trainer(layers, &mut b, opt, 5);
    let mut ck = Checkpointer::new(Flash::new(), 0, 4096).unwrap();
    for _ in 0..3 {
        train(&mut t, 7);
        ck.save(&t).unwrap();
    }
    CRC.checksum(ck.flash().bytes())
}

#[test]
fn version_1_images_are_unchanged() {
    let acts = [
        Dense::new(3, 4, Activation::LEAKY_RELU),
        Dense::new(4, 4, Activation::ELU),
        Dense::new(4, 2, Activation::Softsign),
    ];
    let got = [
        image(&LAYERS, Adam::new(0.01), 2),
        image(&acts, Adam::new(0.01), 2),
        image(&LAYERS, Sgd::new(0.1), 0),
    ];
    assert_eq!(got, GOLDEN);
}
