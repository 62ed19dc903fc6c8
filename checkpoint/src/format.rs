//! The byte layout of one checkpoint slot (format version 1). Little-endian throughout.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `MTCK` |
//! | 4 | 2 | format version, `1` |
//! | 6 | 2 | flags, 0 |
//! | 8 | 4 | `total_len`: bytes from offset 0 to the end of the CRC |
//! | 12 | 4 | sequence number (the newer of two slots has the larger one, wrapping) |
//! | 16 | 4 | step count of the trainer (the schedule's position) |
//! | 20 | 2 | number of layers `L` (1 ..= [`MAX_LAYERS`]) |
//! | 22 | 1 | loss (0 MSE, 1 binary cross-entropy, 2 softmax cross-entropy) |
//! | 23 | 1 | optimizer kind (see [`OptimizerId::code`]) |
//! | 24 | 1 | optimizer state floats per parameter |
//! | 25 | 1 | number of hyperparameter words (at most [`MAX_HYPER`]) |
//! | 26 | 2 | reserved, 0 |
//! | 28 | 4 | number of parameters `P` |
//! | 32 | 4 | number of optimizer state floats `S` |
//! | 36 | 32 | hyperparameter words (`f32` bits; unused words 0) |
//! | 68 | 12 `L` | per layer: inputs `u32`, outputs `u32`, activation `u8` (0 identity, 1 sigmoid, 2 tanh, 3 relu, 4 leaky_relu, 5 elu, 6 softsign; 4 and 5 only at PyTorch's default parameter, otherwise `SaveError::Shape`; dense layers only), trainability `u8` (0 trainable, 1 frozen, 2 bias-only), 2 zero bytes |
//! | 68 + 12 `L` | 4 `P` | the parameters that train (`f32`; frozen ones are not stored) |
//! | ... | 4 `S` | optimizer state (`f32`) |
//! | `total_len - 4` | 4 | CRC-32/ISO-HDLC (zlib's `crc32`) of bytes `0 .. total_len - 4` |
//! | `align_up(total_len, W)` | `align_up(4, W)` | commit marker `DONE`, then zero bytes |
//!
//! `W` is the flash's write size; the bytes between the CRC and the marker stay erased.
//! The first 16 bytes (magic, version, flags, length, sequence), the CRC at the end
//! and the commit marker keep their meaning in every future version, so a slot of an
//! unknown version is still recognised as complete and reported as such.
//!
//! A slot is **complete** when its CRC matches and its marker is there. Everything is
//! written in address order and the marker last, in a write of its own, so a slot
//! interrupted at any point is incomplete.

use crate::optimizer_id::{OptimizerId, MAX_HYPER};
use microtrain::Dense;

/// The first four bytes of a checkpoint slot.
pub const MAGIC: [u8; 4] = *b"MTCK";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// The commit marker written after the CRC.
pub const COMMIT: [u8; 4] = *b"DONE";
/// The most layers a checkpoint may hold.
pub const MAX_LAYERS: usize = 64;
/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 68;
/// Bytes of one layer record.
pub const LAYER_LEN: usize = 12;

/// The CRC used over a slot (the same as core's model file).
pub(crate) static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Bytes from the start of a slot to the end of its CRC for a shape and state size
/// (`None` when it does not fit a `u32`).
pub const fn total_len(layers: usize, params: usize, state: usize) -> Option<usize> {
    let floats = match params.checked_add(state) {
        Some(f) => f,
        None => return None,
    };
    let Some(body) = floats.checked_mul(4) else {
        return None;
    };
    let Some(table) = layers.checked_mul(LAYER_LEN) else {
        return None;
    };
    let Some(len) = body.checked_add(table) else {
        return None;
    };
    match len.checked_add(HEADER_LEN + 4) {
        Some(t) if t <= u32::MAX as usize => Some(t),
        _ => None,
    }
}

/// Rounds `x` up to a multiple of `align` (`align >= 1`); `None` on overflow.
pub(crate) const fn align_up(x: usize, align: usize) -> Option<usize> {
    let align = if align == 0 { 1 } else { align };
    match x.checked_add(align - 1) {
        Some(y) => Some(y / align * align),
        None => None,
    }
}

/// The offset of the commit marker and the bytes a slot occupies, for a flash with
/// write size `write_size`.
pub(crate) const fn marker_span(total_len: usize, write_size: usize) -> Option<(usize, usize)> {
    let Some(at) = align_up(total_len, write_size) else {
        return None;
    };
    let Some(len) = align_up(COMMIT.len(), write_size) else {
        return None;
    };
    match at.checked_add(len) {
        Some(end) => Some((at, end)),
        None => None,
    }
}

/// The decoded fixed header of a slot (not yet checked against anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub version: u16,
    pub flags: u16,
    pub total_len: u32,
    pub sequence: u32,
    pub step: u32,
    pub layers: u16,
    pub loss: u8,
    pub optimizer: OptimizerId,
    pub reserved: u16,
    pub params: u32,
    pub state: u32,
}

fn u16_at(b: &[u8; HEADER_LEN], off: usize) -> u16 {
    let mut w = [0u8; 2];
    if let Some(s) = b.get(off..off + 2) {
        w.copy_from_slice(s);
    }
    u16::from_le_bytes(w)
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(off..off.saturating_add(4)) {
        w.copy_from_slice(s);
    }
    u32::from_le_bytes(w)
}

fn byte_at(b: &[u8; HEADER_LEN], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

fn put(out: &mut [u8], off: usize, src: &[u8]) {
    if let Some(d) = out.get_mut(off..off + src.len()) {
        d.copy_from_slice(src);
    }
}

impl Header {
    /// Decodes the 68 header bytes (magic not included in the result; checked by the
    /// caller).
    pub fn decode(b: &[u8; HEADER_LEN]) -> Self {
        let mut hyper = [0u32; MAX_HYPER];
        hyper
            .iter_mut()
            .enumerate()
            .for_each(|(i, h)| *h = u32_at(b, 36 + 4 * i));
        Header {
            version: u16_at(b, 4),
            flags: u16_at(b, 6),
            total_len: u32_at(b, 8),
            sequence: u32_at(b, 12),
            step: u32_at(b, 16),
            layers: u16_at(b, 20),
            loss: byte_at(b, 22),
            optimizer: OptimizerId {
                code: byte_at(b, 23),
                state_per_param: byte_at(b, 24),
                hyper_len: byte_at(b, 25),
                hyper,
            },
            reserved: u16_at(b, 26),
            params: u32_at(b, 28),
            state: u32_at(b, 32),
        }
    }

    /// Encodes the header, magic included.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        put(&mut b, 0, &MAGIC);
        put(&mut b, 4, &self.version.to_le_bytes());
        put(&mut b, 6, &self.flags.to_le_bytes());
        put(&mut b, 8, &self.total_len.to_le_bytes());
        put(&mut b, 12, &self.sequence.to_le_bytes());
        put(&mut b, 16, &self.step.to_le_bytes());
        put(&mut b, 20, &self.layers.to_le_bytes());
        let o = &self.optimizer;
        put(&mut b, 22, &[self.loss, o.code, o.state_per_param, o.hyper_len]);
        put(&mut b, 26, &self.reserved.to_le_bytes());
        put(&mut b, 28, &self.params.to_le_bytes());
        put(&mut b, 32, &self.state.to_le_bytes());
        for (i, h) in o.hyper.iter().enumerate() {
            put(&mut b, 36 + 4 * i, &h.to_le_bytes());
        }
        b
    }
}

/// The record of one layer; `None` when the format cannot hold it: sizes beyond
/// `u32`, or an activation parameter other than PyTorch's default (LeakyReLU's
/// `negative_slope` 0.01, ELU's `alpha` 1.0), which version 1's record has no room
/// for. Such a model's save is [`SaveError::Shape`](crate::SaveError::Shape), and a
/// checkpoint never restores into it.
pub(crate) fn layer_record(l: &Dense) -> Option<[u8; LAYER_LEN]> {
    let default = microtrain::Activation::from_code(l.activation.code());
    // Dense layers only: the record has no room for another kind's sizes.
    if default != Some(l.activation) || !l.is_dense() {
        return None;
    }
    let i = u32::try_from(l.inputs).ok()?;
    let o = u32::try_from(l.outputs).ok()?;
    let mut r = [0u8; LAYER_LEN];
    put(&mut r, 0, &i.to_le_bytes());
    put(&mut r, 4, &o.to_le_bytes());
    put(&mut r, 8, &[l.activation.code(), l.train.code()]);
    Some(r)
}
