//! The checkpoint loader on a flash filled with fuzz bytes: never panics, and a
//! refused restore leaves the trainer bit for bit as it was.
//!
//! The first byte picks the mode: bit 0 starts from a flash holding two valid
//! checkpoints and applies the rest as `(offset lo, offset hi, byte)` patches (else the
//! rest is the flash image itself); bit 1 then recomputes each slot's CRC and commit
//! marker, so that the fuzzer reaches the checks behind the CRC (header against the
//! model, values, lengths); bit 2 takes a small 1-d CNN (convolution with a LeakyReLU
//! slope, max pooling, global average pooling, dense: format version 2) instead of the
//! MLP (version 1).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use microtrain::{shape, Activation, Adam, Buffers, Dense, Loss, Padding, Target, Trainer};
use microtrain_checkpoint::{region_len, scratch_len, Checkpointer, MemFlash};

const LAYERS: [Dense; 2] = [
    Dense::new(3, 4, Activation::Tanh),
    Dense::new(4, 2, Activation::Identity),
];
/// Two channels of 8, as the MLP's 3 inputs cannot be a sequence worth convolving.
const CNN: [Dense; 4] = [
    Dense::conv1d(2, 3, 3, 1, Padding::None, 8, Activation::leaky_relu(0.2)),
    Dense::max_pool1d(3, 6, 2, 2),
    Dense::global_avg_pool1d(3, 3),
    Dense::new(3, 2, Activation::Identity),
];
const OPT: Adam = Adam::new(0.01);
const W: usize = 4;
const E: usize = 256;
type Flash = MemFlash<2048, 4, W, E>;
const REGION: usize = region_len(&LAYERS, 2, W, E);
const CNN_REGION: usize = region_len(&CNN, 2, W, E);
const _: () = assert!(REGION <= 2048 && CNN_REGION <= 2048);
static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

struct Bufs([Vec<f32>; 4], &'static [Dense]);

impl Bufs {
    fn new(layers: &'static [Dense]) -> Self {
        let p = shape::params_len(layers);
        Bufs([vec![0.0; p], vec![0.0; p], vec![0.0; 2 * p], vec![0.0; shape::activations_len(layers)]], layers)
    }

    fn trainer(&mut self) -> Trainer<'_, Adam> {
        let [params, grads, state, acts] = &mut self.0;
        let b = Buffers { params, grads, state, acts, frozen: &[] };
        let mut t = Trainer::new(self.1, b, OPT, Loss::Mse).unwrap();
        t.init_params(11);
        t
    }
}

/// A flash with two complete checkpoints (sequence 1 and 2) of `layers`.
fn image(layers: &'static [Dense], region: usize) -> [u8; 2048] {
    let mut b = Bufs::new(layers);
    let mut t = b.trainer();
    let mut ck = Checkpointer::new(Flash::new(), 0, region as u32).unwrap();
    let n = shape::inputs(layers);
    for round in 0..2 {
        for i in 0..5 {
            let x: Vec<f32> = (0..n).map(|j| 0.1 * (i + j) as f32 - 0.2 + round as f32).collect();
            t.train_sample(&x, Target::Values(&[1.0, -1.0])).unwrap();
        }
        ck.save(&t).unwrap();
    }
    *ck.flash().bytes()
}

/// The MLP's image (format version 1).
fn valid_image() -> &'static [u8; 2048] {
    static IMAGE: OnceLock<[u8; 2048]> = OnceLock::new();
    IMAGE.get_or_init(|| image(&LAYERS, REGION))
}

/// The CNN's image (format version 2).
fn cnn_image() -> &'static [u8; 2048] {
    static IMAGE: OnceLock<[u8; 2048]> = OnceLock::new();
    IMAGE.get_or_init(|| image(&CNN, CNN_REGION))
}

/// Makes the CRC and the commit marker of a slot match its (fuzzed) contents.
fn fix_up(slot: &mut [u8]) {
    let Some(total) = slot.get(8..12).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize) else {
        return;
    };
    let marker = total.div_ceil(W) * W;
    if total < 72 || marker + 4 > slot.len() {
        return;
    }
    let crc = CRC.checksum(&slot[..total - 4]);
    slot[total - 4..total].copy_from_slice(&crc.to_le_bytes());
    slot[marker..marker + 4].copy_from_slice(b"DONE");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (layers, region, valid): (&'static [Dense], usize, _) = if mode & 4 == 4 {
        (&CNN, CNN_REGION, cnn_image())
    } else {
        (&LAYERS, REGION, valid_image())
    };
    let mut flash = if mode & 1 == 1 {
        let mut f = Flash::from_bytes(valid);
        for p in rest.chunks_exact(3) {
            let off = usize::from(u16::from_le_bytes([p[0], p[1]])) % region;
            f.bytes_mut()[off] = p[2];
        }
        f
    } else {
        Flash::from_bytes(rest)
    };
    if mode & 2 == 2 {
        let half = region / 2;
        let (a, b) = flash.bytes_mut()[..region].split_at_mut(half);
        fix_up(a);
        fix_up(b);
    }
    let mut ck = Checkpointer::new(flash, 0, region as u32).unwrap();
    let _ = ck.newest();
    let mut b = Bufs::new(layers);
    let mut t = b.trainer();
    let before = (t.params().to_vec(), t.state().to_vec(), t.step_count());
    let mut scratch = vec![0.0f32; scratch_len(layers, 2)];
    match ck.restore(&mut t, &mut scratch) {
        Ok(info) => {
            assert_eq!(info.step, t.step_count());
            assert!(t.params().iter().chain(t.state()).all(|v| v.is_finite()));
        }
        Err(_) => {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&before.0), bits(t.params()), "params changed by a refused restore");
            assert_eq!(bits(&before.1), bits(t.state()), "state changed by a refused restore");
            assert_eq!(before.2, t.step_count(), "step changed by a refused restore");
        }
    }
});
