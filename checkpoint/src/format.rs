//! The byte layout of one checkpoint slot (format versions 1 and 2). Little-endian
//! throughout.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `MTCK` |
//! | 4 | 2 | format version, `1` or `2` (see below) |
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
//! | 68 | `R L` | per layer, a record of `R` bytes (12 in version 1, 24 in version 2; below) |
//! | 68 + `R L` | 4 `P` | the parameters that train (`f32`; frozen ones are not stored) |
//! | ... | 4 `S` | optimizer state (`f32`) |
//! | `total_len - 4` | 4 | CRC-32/ISO-HDLC (zlib's `crc32`) of bytes `0 .. total_len - 4` |
//! | `align_up(total_len, W)` | `align_up(4, W)` | commit marker `DONE`, then zero bytes |
//!
//! A layer record (the first 12 bytes are the same in both versions):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | inputs `u32` |
//! | 4 | 4 | outputs `u32` |
//! | 8 | 1 | activation (0 identity, 1 sigmoid, 2 tanh, 3 relu, 4 leaky_relu, 5 elu, 6 softsign; in version 1, 4 and 5 are at PyTorch's default parameter) |
//! | 9 | 1 | trainability (0 trainable, 1 frozen, 2 bias-only) |
//! | 10 | 1 | version 1: 0; version 2: the layer's kind (0 dense, 1 conv1d, 2 max_pool1d, 3 avg_pool1d, 4 flatten, 5 global_avg_pool1d) |
//! | 11 | 1 | 0 |
//! | 12 | 4 | version 2 only: the activation's parameter (`f32` bits: LeakyReLU's `negative_slope`, ELU's `alpha`; 0 for the others) |
//! | 16 | 5 | version 2 only: the kind's sizes (conv1d: in_channels, out_channels, kernel, stride, padding 0 none / 1 same; max_pool1d and avg_pool1d: channels, kernel, stride, 0, 0; global_avg_pool1d: channels, 0, 0, 0, 0; dense and flatten: zeros) |
//! | 21 | 3 | version 2 only: 0 |
//!
//! A save writes the lowest version that holds the model ([`version_for`]): version 1
//! when every layer is dense and every activation parameter is PyTorch's default (the
//! bytes of every checkpoint version 1 could hold are unchanged, and older builds read
//! them), version 2 otherwise. A restore reads both, and compares the records field by
//! field with the model's layers, whatever the version.
//!
//! `W` is the flash's write size; the bytes between the CRC and the marker stay erased.
//! The first 16 bytes (magic, version, flags, length, sequence), the CRC at the end
//! and the commit marker keep their meaning in every future version, so a slot of an
//! unknown version is still recognised as complete and reported as such.
//!
//! A slot is **complete** when its CRC matches and its marker is there. Everything is
//! written in address order and the marker last, in a write of its own, so a slot
//! interrupted at any point is incomplete.

use crate::error::LayerField;
use crate::optimizer_id::{OptimizerId, MAX_HYPER};
use microtrain::shape::Kind;
use microtrain::{Activation, Dense};

/// The first four bytes of a checkpoint slot.
pub const MAGIC: [u8; 4] = *b"MTCK";
/// The newest format version this crate writes; it reads versions 1 and 2.
pub const VERSION: u16 = 2;
/// The commit marker written after the CRC.
pub const COMMIT: [u8; 4] = *b"DONE";
/// The most layers a checkpoint may hold.
pub const MAX_LAYERS: usize = 64;
/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 68;
/// Bytes of one layer record in version 1.
pub const LAYER_LEN: usize = 12;
/// Bytes of one layer record in version 2.
pub const LAYER_LEN_V2: usize = 24;

/// The CRC used over a slot (the same as core's model file).
pub(crate) static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Bytes from the start of a slot to the end of its CRC for `layers` records of
/// `record` bytes (see [`layer_len`]) and a state size (`None` when it does not fit a
/// `u32`).
pub const fn total_len(record: usize, layers: usize, params: usize, state: usize) -> Option<usize> {
    let floats = match params.checked_add(state) {
        Some(f) => f,
        None => return None,
    };
    let Some(body) = floats.checked_mul(4) else {
        return None;
    };
    let Some(table) = layers.checked_mul(record) else {
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

/// Bytes of a layer record in format `version` (`None` for a version this crate does
/// not read).
pub const fn layer_len(version: u16) -> Option<usize> {
    match version {
        1 => Some(LAYER_LEN),
        2 => Some(LAYER_LEN_V2),
        _ => None,
    }
}

/// The format version a save of `layers` writes: 1 when every layer is dense and
/// every activation parameter is PyTorch's default, else 2.
pub const fn version_for(layers: &[Dense]) -> u16 {
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        if !first.is_dense() || first.activation.param_off_default() {
            return 2;
        }
        rest = tail;
    }
    1
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

/// One layer as a record describes it, decoded (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerDesc {
    pub inputs: u32,
    pub outputs: u32,
    pub activation: u8,
    /// The activation parameter's bits (0 for an activation without one).
    pub param: u32,
    pub train: u8,
    pub kind: u8,
    pub sizes: [u8; 5],
}

/// The name of kind code `code` ([`Kind::code_name`]).
pub(crate) const fn kind_name(code: u32) -> &'static str {
    Kind::code_name(code)
}

impl LayerDesc {
    /// The description of a model's layer; `None` when its sizes do not fit `u32`.
    pub fn of(l: &Dense) -> Option<Self> {
        let (kind, sizes) = l.kind.code();
        Some(LayerDesc {
            inputs: u32::try_from(l.inputs).ok()?,
            outputs: u32::try_from(l.outputs).ok()?,
            activation: l.activation.code(),
            param: l.activation.param().map_or(0, f32::to_bits),
            train: l.train.code(),
            kind,
            sizes,
        })
    }

    /// The record in format `version`, its first [`layer_len`] bytes meaningful;
    /// `None` when that version cannot hold the layer (version 1: another kind than
    /// dense, or an activation parameter other than PyTorch's default) or for an
    /// unknown version.
    pub fn encode(&self, version: u16) -> Option<[u8; LAYER_LEN_V2]> {
        let mut r = [0u8; LAYER_LEN_V2];
        put(&mut r, 0, &self.inputs.to_le_bytes());
        put(&mut r, 4, &self.outputs.to_le_bytes());
        put(&mut r, 8, &[self.activation, self.train]);
        match version {
            1 => {
                let v1 = LayerDesc::decode(&r, 1).ok()?;
                (v1 == *self).then_some(r)
            }
            2 => {
                put(&mut r, 10, &[self.kind]);
                put(&mut r, 12, &self.param.to_le_bytes());
                put(&mut r, 16, &self.sizes);
                Some(r)
            }
            _ => None,
        }
    }

    /// Decodes a record of format `version` (its first [`layer_len`] bytes of `r`);
    /// `Err(offset)` with the offset in the record of a reserved byte that is not 0.
    /// Codes are not checked: an unknown one differs from every model's.
    pub fn decode(r: &[u8; LAYER_LEN_V2], version: u16) -> Result<Self, usize> {
        let byte = |i: usize| r.get(i).copied().unwrap_or(0);
        let activation = byte(8);
        let v2 = version >= 2;
        let zeros: &[usize] = if v2 { &[11, 21, 22, 23] } else { &[10, 11] };
        if let Some(&at) = zeros.iter().find(|&&i| byte(i) != 0) {
            return Err(at);
        }
        let param = if v2 {
            u32_at(r, 12)
        } else {
            // Version 1: LeakyReLU and ELU at PyTorch's default.
            Activation::from_code(activation)
                .and_then(Activation::param)
                .map_or(0, f32::to_bits)
        };
        let mut sizes = [0u8; 5];
        let kind = if v2 { byte(10) } else { 0 };
        if v2 {
            if let Some(s) = r.get(16..21) {
                sizes.copy_from_slice(s);
            }
            // The sizes a kind does not use are 0.
            let used = match kind {
                1 => 5,
                2 | 3 => 3,
                5 => 1,
                _ => 0,
            };
            if let Some(at) = (used..5).find(|&i| sizes.get(i).is_some_and(|b| *b != 0)) {
                return Err(16 + at);
            }
        }
        Ok(LayerDesc {
            inputs: u32_at(r, 0),
            outputs: u32_at(r, 4),
            activation,
            param,
            train: byte(9),
            kind,
            sizes,
        })
    }

    /// The first field other than the trainability in which `self` (a checkpoint's
    /// record) differs from `model`, with both values. The kind comes first, then its
    /// sizes (which decide the counts), the activation and its parameter, then
    /// inputs and outputs.
    pub fn difference(&self, model: &LayerDesc) -> Option<(LayerField, u32, u32)> {
        let (s, m) = (self, model);
        if s.kind != m.kind {
            return Some((LayerField::Kind, s.kind.into(), m.kind.into()));
        }
        let names: &[LayerField] = match m.kind {
            1 => &[
                LayerField::InChannels,
                LayerField::OutChannels,
                LayerField::Kernel,
                LayerField::Stride,
                LayerField::Padding,
            ],
            2 | 3 => &[LayerField::Channels, LayerField::Kernel, LayerField::Stride],
            5 => &[LayerField::Channels],
            _ => &[],
        };
        // The sizes a kind does not name are 0 in both (`decode` checks it); any
        // other difference is still reported, as the kind's.
        let sized = names.iter().zip(s.sizes.iter().zip(m.sizes.iter()));
        for (field, (a, b)) in sized {
            if a != b {
                return Some((*field, (*a).into(), (*b).into()));
            }
        }
        if s.sizes != m.sizes {
            return Some((LayerField::Kind, s.kind.into(), m.kind.into()));
        }
        let rest = [
            (LayerField::Activation, s.activation.into(), m.activation.into()),
            (LayerField::ActivationParam, s.param, m.param),
            (LayerField::Inputs, s.inputs, m.inputs),
            (LayerField::Outputs, s.outputs, m.outputs),
        ];
        rest.into_iter().find(|(_, a, b)| a != b)
    }
}
