//! The binary model file: a trained model's shape and parameters, to store in flash,
//! embed with `include_bytes!`, or pass between the simulator and a device.
//!
//! All integers and floats little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `MTRN` |
//! | 4 | 2 | format version, `1`, `2` or `3` |
//! | 6 | 2 | number of layers `L` (1 ..= [`MAX_LAYERS`]) |
//! | 8 | 4 | number of parameters `P` |
//! | 12 | `R L` | per layer (`R` bytes: 12 in version 1, 16 in version 2, 24 in version 3): inputs `u32`, outputs `u32`, activation `u8` (0 identity, 1 sigmoid, 2 tanh, 3 relu, 4 leaky_relu, 5 elu, 6 softsign), 3 zero bytes; from version 2: the activation's parameter `f32` (LeakyReLU's `negative_slope`, ELU's `alpha`; 0 for the others); version 3 only: the layer's kind `u8` (0 dense, 1 conv1d, 2 max_pool1d, 3 avg_pool1d, 4 flatten, 5 global_avg_pool1d), then 5 `u8` sizes (conv1d: in_channels, out_channels, kernel, stride, padding 0 none / 1 same; the pools: channels, kernel, stride, 0, 0; global_avg_pool1d: channels, 0, 0, 0, 0; dense and flatten: zeros), 2 zero bytes |
//! | 12 + `R L` | 4 `P` | parameters as `f32` (per layer `W` row-major, then `b`) |
//! | end - 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! [`encode`] writes the lowest version that holds the model: 1 when every activation
//! parameter is PyTorch's default and every layer is dense (the bytes of every model that version 1 could
//! hold are unchanged, and older readers read them), 2 for activation parameters, 3
//! for layers of other kinds (convolution, pooling: the parameters per layer in the
//! kind's layout, a convolution's `[out][in][k]` then its bias); [`ModelFile::parse`]
//! reads all three. A version-1 record with code
//! 4 or 5 is LeakyReLU or ELU at PyTorch's default parameter.
//!
//! [`ModelFile::parse`] checks everything before it hands out a single value: the
//! magic, the version, the shape (consecutive layers fit, none empty, the parameter
//! count matches), the exact length, the checksum, and that every parameter is finite.
//! A truncated, corrupted or oversized input is an error naming what is wrong and at
//! which byte offset; nothing is read out of bounds and nothing panics.

use crate::shape::{self, Dense};
use crate::Activation;

mod embed;
pub use embed::embed;

/// The first four bytes of a model file.
pub const MAGIC: [u8; 4] = *b"MTRN";
/// The newest format version this crate writes and reads (it reads 1 as well, and
/// writes it for a model without activation parameters).
pub const VERSION: u16 = 2;
/// The most layers a file may declare.
pub const MAX_LAYERS: usize = 64;

const HEADER: usize = 12;
/// Bytes of a layer record in version 1.
const LAYER_V1: usize = 12;
/// Bytes of a layer record in version 2 (version 1's and the activation's parameter).
const LAYER_V2: usize = 16;

/// Whether any layer's activation has a parameter other than its default (the file is
/// then version 2).
const fn has_activation_param(layers: &[Dense]) -> bool {
    let mut rest = layers;
    while let [first, tail @ ..] = rest {
        if first.activation.param_off_default() {
            return true;
        }
        rest = tail;
    }
    false
}

/// Bytes of a layer record in version 3 (version 2's and the layer's kind).
const LAYER_V3: usize = 24;

/// The version [`encode`] writes for `layers` and its layer record size.
const fn version_for(layers: &[Dense]) -> (u16, usize) {
    if shape::has_non_dense(layers) {
        (3, LAYER_V3)
    } else if has_activation_param(layers) {
        (2, LAYER_V2)
    } else {
        (1, LAYER_V1)
    }
}
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Why a model file was rejected or could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FormatError {
    /// The input ends at `len` bytes; at least `needed` are required.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        len: usize,
    },
    /// The first four bytes are not `MTRN`.
    BadMagic,
    /// The version at offset 4 is not one this crate reads.
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// The layer count at offset 6 is 0 or above [`MAX_LAYERS`].
    LayerCount {
        /// The count found.
        count: usize,
    },
    /// Layer `layer`'s record (at `offset`) is invalid: unknown activation code,
    /// nonzero reserved bytes, an activation parameter out of range (or set for an
    /// activation without one), an empty layer, or inputs that do not match the
    /// previous layer's outputs.
    BadLayer {
        /// Index of the layer.
        layer: usize,
        /// Byte offset of its record.
        offset: usize,
    },
    /// The parameter count at offset 8 is not the one the shape implies.
    ParamCount {
        /// Count declared in the header.
        declared: usize,
        /// Count computed from the layers.
        expected: usize,
    },
    /// The input is `len` bytes; the header implies exactly `expected`.
    Length {
        /// Bytes the header implies.
        expected: usize,
        /// Bytes present.
        len: usize,
    },
    /// The stored CRC-32 does not match the contents.
    Checksum {
        /// CRC stored in the file.
        stored: u32,
        /// CRC computed over the contents.
        computed: u32,
    },
    /// Parameter `index` (at byte `offset`) is NaN or infinite.
    NonFinite {
        /// Index of the parameter.
        index: usize,
        /// Byte offset.
        offset: usize,
    },
    /// A buffer given to [`encode`] or [`ModelFile::read_params`] is too small or
    /// the parameters do not match the shape.
    Buffer {
        /// Length needed.
        needed: usize,
        /// Length given.
        provided: usize,
    },
}

impl core::fmt::Display for FormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            FormatError::Truncated { needed, len } => {
                write!(f, "truncated: {len} bytes, at least {needed} needed")
            }
            FormatError::BadMagic => write!(f, "offset 0: not a microtrain model file (magic is not MTRN)"),
            FormatError::UnsupportedVersion { version } => {
                write!(
                    f,
                    "offset 4: format version {version} is not supported (this build reads {VERSION})"
                )
            }
            FormatError::LayerCount { count } => {
                write!(f, "offset 6: {count} layers (must be 1 to {MAX_LAYERS})")
            }
            FormatError::BadLayer { layer, offset } => write!(
                f,
                "offset {offset}: layer {layer} is invalid (empty, unknown activation or bad activation \
                 parameter, reserved bytes set, or inputs not matching the previous layer)"
            ),
            FormatError::ParamCount { declared, expected } => {
                write!(
                    f,
                    "offset 8: header declares {declared} parameters, the layers have {expected}"
                )
            }
            FormatError::Length { expected, len } => {
                write!(f, "length: {len} bytes, the header implies {expected}")
            }
            FormatError::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#010x}, contents give {computed:#010x} (file corrupted)"
            ),
            FormatError::NonFinite { index, offset } => {
                write!(f, "offset {offset}: parameter {index} is not finite")
            }
            FormatError::Buffer { needed, provided } => {
                write!(f, "buffer of {provided} values, {needed} needed")
            }
        }
    }
}

impl core::error::Error for FormatError {}

/// The exact size in bytes of the model file of a shape.
pub const fn encoded_len(layers: &[Dense]) -> usize {
    HEADER
        .saturating_add(version_for(layers).1.saturating_mul(layers.len()))
        .saturating_add(4usize.saturating_mul(shape::params_len(layers)))
        .saturating_add(4)
}

/// Copies `src` into `out` at `*pos` and advances `*pos` (no-op past the end).
fn put(out: &mut [u8], pos: &mut usize, src: &[u8]) {
    if let Some(dst) = out.get_mut(*pos..pos.saturating_add(src.len())) {
        dst.copy_from_slice(src);
    }
    *pos = pos.saturating_add(src.len());
}

/// Writes the model file of `layers` and `params` into `out`; returns its length.
pub fn encode(layers: &[Dense], params: &[f32], out: &mut [u8]) -> Result<usize, FormatError> {
    let len = encoded_len(layers);
    let p = shape::params_len(layers);
    if params.len() != p {
        return Err(FormatError::Buffer {
            needed: p,
            provided: params.len(),
        });
    }
    if layers.is_empty() || layers.len() > MAX_LAYERS {
        return Err(FormatError::LayerCount { count: layers.len() });
    }
    let (version, record) = version_for(layers);
    for (i, l) in layers.iter().enumerate() {
        if u32::try_from(l.inputs).is_err()
            || u32::try_from(l.outputs).is_err()
            || l.activation.check().is_err()
        {
            return Err(FormatError::BadLayer {
                layer: i,
                offset: HEADER + record * i,
            });
        }
    }
    let p32 = u32::try_from(p).map_err(|_| FormatError::ParamCount {
        declared: p,
        expected: p,
    })?;
    if out.len() < len {
        return Err(FormatError::Buffer {
            needed: len,
            provided: out.len(),
        });
    }
    let mut pos = 0;
    put(out, &mut pos, &MAGIC);
    put(out, &mut pos, &version.to_le_bytes());
    put(out, &mut pos, &(layers.len() as u16).to_le_bytes());
    put(out, &mut pos, &p32.to_le_bytes());
    for l in layers {
        put(
            out,
            &mut pos,
            record_bytes(l, version).get(..record).unwrap_or(&[]),
        );
    }
    for v in params {
        put(out, &mut pos, &v.to_le_bytes());
    }
    let crc = CRC.checksum(out.get(..pos).unwrap_or(&[]));
    put(out, &mut pos, &crc.to_le_bytes());
    Ok(len)
}

/// Reads a little-endian `u32` at `off` (0 past the end; callers check lengths first).
fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(off..off.saturating_add(4)) {
        w.copy_from_slice(s);
    }
    u32::from_le_bytes(w)
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    let mut w = [0u8; 2];
    if let Some(s) = b.get(off..off.saturating_add(2)) {
        w.copy_from_slice(s);
    }
    u16::from_le_bytes(w)
}

/// A validated model file: every accessor reads only checked bytes.
#[derive(Debug, Clone, Copy)]
pub struct ModelFile<'a> {
    bytes: &'a [u8],
    layers: usize,
    params: usize,
    /// Bytes of a layer record (by the version).
    record: usize,
}

/// A layer's record in a file of `version` (the first 12, 16 or 24 bytes, as the
/// version's record size; see the module docs).
const fn record_bytes(l: &Dense, version: u16) -> [u8; LAYER_V3] {
    let (i, o) = ((l.inputs as u32).to_le_bytes(), (l.outputs as u32).to_le_bytes());
    let p = match l.activation.param() {
        Some(p) if version >= 2 => p.to_le_bytes(),
        _ => [0; 4],
    };
    let k = if version == 3 { kind_bytes(l.kind) } else { [0; 8] };
    let c = l.activation.code();
    [
        i[0], i[1], i[2], i[3], o[0], o[1], o[2], o[3], c, 0, 0, 0, p[0], p[1], p[2], p[3], k[0], k[1], k[2],
        k[3], k[4], k[5], k[6], k[7],
    ]
}

/// The kind's bytes of a version-3 record (see the module docs): its
/// [`code`](shape::Kind::code), the five size bytes, two zero bytes.
const fn kind_bytes(kind: shape::Kind) -> [u8; 8] {
    let (c, [a, b, d, e, f]) = kind.code();
    [c, a, b, d, e, f, 0, 0]
}

/// The layer of a record at `off` of `record` bytes, if valid: its activation (see
/// [`record_activation`]) and, in a version-3 record, a kind whose bytes are exactly
/// what [`kind_bytes`] writes and whose sizes fit `inputs` and `outputs`
/// ([`shape::validate`] of the layer alone).
fn record_layer(bytes: &[u8], off: usize, record: usize) -> Option<Dense> {
    use shape::Kind;
    let act = record_activation(bytes, off, record)?;
    let (inputs, outputs) = (u32_at(bytes, off) as usize, u32_at(bytes, off + 4) as usize);
    let mut layer = Dense::new(inputs, outputs, act);
    if record >= LAYER_V3 {
        let k = bytes.get(off + 16..off + 24)?;
        let sizes = [*k.get(1)?, *k.get(2)?, *k.get(3)?, *k.get(4)?, *k.get(5)?];
        layer.kind = Kind::from_code(*k.first()?, sizes)?;
        if kind_bytes(layer.kind) != k {
            return None;
        }
        shape::validate(core::slice::from_ref(&layer)).ok()?;
    }
    Some(layer)
}

/// The activation of a layer record at `off` of `record` bytes, if valid: a known
/// code, and in a 16-byte record a parameter that is in range for an activation with
/// one and 0 for the others.
fn record_activation(bytes: &[u8], off: usize, record: usize) -> Option<Activation> {
    let act = Activation::from_code(*bytes.get(off + 8)?)?;
    if record < LAYER_V2 {
        return Some(act);
    }
    let p = f32::from_bits(u32_at(bytes, off + 12));
    match act.param() {
        Some(_) => {
            let act = act.with_param(p);
            act.check().ok().map(|()| act)
        }
        None => (p.to_bits() == 0).then_some(act),
    }
}

impl<'a> ModelFile<'a> {
    /// Checks `bytes` completely (see the module docs) and returns a view of them.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FormatError> {
        let len = bytes.len();
        if len < HEADER {
            return Err(FormatError::Truncated { needed: HEADER, len });
        }
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(FormatError::BadMagic);
        }
        let version = u16_at(bytes, 4);
        let record = match version {
            1 => LAYER_V1,
            2 => LAYER_V2,
            3 => LAYER_V3,
            _ => return Err(FormatError::UnsupportedVersion { version }),
        };
        let count = usize::from(u16_at(bytes, 6));
        if count == 0 || count > MAX_LAYERS {
            return Err(FormatError::LayerCount { count });
        }
        let declared = u32_at(bytes, 8) as usize;
        let table_end = HEADER + record * count;
        if len < table_end {
            return Err(FormatError::Truncated {
                needed: table_end,
                len,
            });
        }
        let mut expected = 0usize;
        let mut prev: Option<usize> = None;
        for i in 0..count {
            let off = HEADER + record * i;
            let inputs = u32_at(bytes, off) as usize;
            let outputs = u32_at(bytes, off + 4) as usize;
            let reserved_ok = bytes.get(off + 9..off + 12) == Some(&[0u8, 0, 0][..]);
            let chained = prev.is_none_or(|p| p == inputs);
            let layer = record_layer(bytes, off, record);
            if inputs == 0 || outputs == 0 || layer.is_none() || !reserved_ok || !chained {
                return Err(FormatError::BadLayer {
                    layer: i,
                    offset: off,
                });
            }
            let weights = match layer.map(|l| l.kind) {
                Some(shape::Kind::Dense) => outputs.checked_mul(inputs),
                _ => layer.map(|l| l.weights_len()),
            };
            let n = weights
                .and_then(|w| w.checked_add(layer.map_or(0, |l| l.bias_len())))
                .and_then(|n| n.checked_add(expected))
                .ok_or(FormatError::BadLayer {
                    layer: i,
                    offset: off,
                })?;
            expected = n;
            prev = Some(outputs);
        }
        if declared != expected {
            return Err(FormatError::ParamCount { declared, expected });
        }
        let total = expected
            .checked_mul(4)
            .and_then(|b| b.checked_add(table_end + 4))
            .ok_or(FormatError::ParamCount { declared, expected })?;
        if len != total {
            return Err(if len < total {
                FormatError::Truncated { needed: total, len }
            } else {
                FormatError::Length { expected: total, len }
            });
        }
        let body = bytes.get(..total - 4).unwrap_or(&[]);
        let stored = u32_at(bytes, total - 4);
        let computed = CRC.checksum(body);
        if stored != computed {
            return Err(FormatError::Checksum { stored, computed });
        }
        let file = ModelFile {
            bytes,
            layers: count,
            params: expected,
            record,
        };
        for (index, v) in file.param_iter().enumerate() {
            if !v.is_finite() {
                return Err(FormatError::NonFinite {
                    index,
                    offset: table_end + 4 * index,
                });
            }
        }
        Ok(file)
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        self.layers
    }

    /// Layer `i`, if there is one.
    pub fn layer(&self, i: usize) -> Option<Dense> {
        if i >= self.layers {
            return None;
        }
        record_layer(self.bytes, HEADER + self.record * i, self.record)
    }

    /// The layers, first to last.
    pub fn layers(&self) -> impl Iterator<Item = Dense> + '_ {
        (0..self.layers).filter_map(|i| self.layer(i))
    }

    /// Number of parameters.
    pub fn params_len(&self) -> usize {
        self.params
    }

    fn param_iter(&self) -> impl Iterator<Item = f32> + '_ {
        let start = HEADER + self.record * self.layers;
        let end = start + 4 * self.params;
        self.bytes
            .get(start..end)
            .unwrap_or(&[])
            .chunks_exact(4)
            .map(|c| f32::from_bits(u32_at(c, 0)))
    }

    /// Copies the parameters into `out` (exactly [`params_len`](Self::params_len) long).
    pub fn read_params(&self, out: &mut [f32]) -> Result<(), FormatError> {
        if out.len() != self.params {
            return Err(FormatError::Buffer {
                needed: self.params,
                provided: out.len(),
            });
        }
        out.iter_mut().zip(self.param_iter()).for_each(|(o, v)| *o = v);
        Ok(())
    }

    /// Whether the file's layers are exactly `layers` (to load into a fixed model).
    pub fn matches(&self, layers: &[Dense]) -> bool {
        self.layers == layers.len() && self.layers().zip(layers).all(|(a, b)| a == *b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYERS: [Dense; 2] = [
        Dense::new(3, 4, Activation::Tanh),
        Dense::new(4, 2, Activation::Sigmoid),
    ];

    fn sample() -> ([f32; 26], [u8; encoded_len(&LAYERS)]) {
        let mut params = [0.0f32; 26];
        params
            .iter_mut()
            .enumerate()
            .for_each(|(i, p)| *p = i as f32 * 0.25 - 3.0);
        let mut out = [0u8; encoded_len(&LAYERS)];
        assert_eq!(encode(&LAYERS, &params, &mut out), Ok(out.len()));
        (params, out)
    }

    /// PyTorch's default parameters are what a version-1 record's codes 4 and 5 mean:
    /// a model using only them is written as version 1 and reads back the same
    /// (found by the `model_file` fuzz target); another value takes version 2.
    #[test]
    fn default_parameters_are_written_as_version_1() {
        const DEFAULT: [Dense; 2] = [
            Dense::new(1, 2, Activation::LEAKY_RELU),
            Dense::new(2, 1, Activation::ELU),
        ];
        const OTHER: [Dense; 2] = [DEFAULT[0], Dense::new(2, 1, Activation::elu(0.5))];
        let params = [0.5f32, -0.25, 1.0, 2.0, -1.0, 0.75, 0.125];
        let mut out = [0u8; encoded_len(&DEFAULT)];
        encode(&DEFAULT, &params, &mut out).unwrap();
        assert_eq!(u16_at(&out, 4), 1);
        assert!(ModelFile::parse(&out).unwrap().matches(&DEFAULT));
        let mut out2 = [0u8; encoded_len(&OTHER)];
        encode(&OTHER, &params, &mut out2).unwrap();
        assert_eq!(u16_at(&out2, 4), 2);
        assert!(ModelFile::parse(&out2).unwrap().matches(&OTHER));
    }

    #[test]
    fn round_trip_is_bit_identical() {
        let (params, bytes) = sample();
        let f = ModelFile::parse(&bytes).unwrap();
        assert!(f.matches(&LAYERS));
        let mut back = [0.0f32; 26];
        f.read_params(&mut back).unwrap();
        assert_eq!(params.map(f32::to_bits), back.map(f32::to_bits));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let (_, bytes) = sample();
        for n in 0..bytes.len() {
            assert!(
                ModelFile::parse(&bytes[..n]).is_err(),
                "prefix of {n} bytes accepted"
            );
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let (_, bytes) = sample();
        for i in 0..bytes.len() * 8 {
            let mut b = bytes;
            b[i / 8] ^= 1 << (i % 8);
            assert!(ModelFile::parse(&b).is_err(), "flip of bit {i} accepted");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let (_, bytes) = sample();
        let mut b = bytes;
        b[0] = b'X';
        assert_eq!(ModelFile::parse(&b).unwrap_err(), FormatError::BadMagic);
        let mut long = [0u8; encoded_len(&LAYERS) + 1];
        long[..bytes.len()].copy_from_slice(&bytes);
        assert!(matches!(ModelFile::parse(&long), Err(FormatError::Length { .. })));
        let mut b = bytes;
        b[4] = 9;
        assert_eq!(
            ModelFile::parse(&b).unwrap_err(),
            FormatError::UnsupportedVersion { version: 9 }
        );
    }

    #[test]
    fn non_finite_parameters_are_refused_on_write_and_read() {
        let mut params = [0.0f32; 26];
        params[5] = f32::NAN;
        let mut out = [0u8; encoded_len(&LAYERS)];
        encode(&LAYERS, &params, &mut out).unwrap();
        assert!(matches!(
            ModelFile::parse(&out),
            Err(FormatError::NonFinite { index: 5, .. })
        ));
    }

    /// A model with an activation parameter is written as version 2 and read back
    /// with its parameter; one without stays version 1, byte for byte as before.
    #[test]
    fn activation_parameters_take_version_2() {
        const P: [Dense; 3] = [
            Dense::new(3, 4, Activation::leaky_relu(0.2)),
            Dense::new(4, 2, Activation::elu(0.5)),
            Dense::new(2, 2, Activation::Softsign),
        ];
        let params = [0.5f32; 32];
        let mut out = [0u8; encoded_len(&P)];
        assert_eq!(out.len(), 12 + 16 * 3 + 4 * 32 + 4);
        assert_eq!(encode(&P, &params, &mut out), Ok(out.len()));
        assert_eq!(u16_at(&out, 4), 2);
        let f = ModelFile::parse(&out).unwrap();
        assert!(f.matches(&P));
        assert_eq!(f.layer(0).unwrap().activation, Activation::leaky_relu(0.2));
        // A negative slope in the file (CRC fixed up) is a bad layer.
        let mut bad = out;
        bad[12 + 12..12 + 16].copy_from_slice(&(-1.0f32).to_le_bytes());
        let n = bad.len();
        let crc = CRC.checksum(&bad[..n - 4]);
        bad[n - 4..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            ModelFile::parse(&bad).unwrap_err(),
            FormatError::BadLayer { layer: 0, offset: 12 }
        );
        // A parameter on softsign's record is refused too.
        let mut bad = out;
        bad[12 + 32 + 12..12 + 32 + 16].copy_from_slice(&1.0f32.to_le_bytes());
        let crc = CRC.checksum(&bad[..n - 4]);
        bad[n - 4..].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            ModelFile::parse(&bad),
            Err(FormatError::BadLayer { layer: 2, .. })
        ));
        // Without parameters: version 1, 12-byte records.
        let (_, v1) = sample();
        assert_eq!(u16_at(&v1, 4), 1);
        assert_eq!(v1.len(), 12 + 12 * 2 + 4 * 26 + 4);
        // Refused on write: a parameter out of range.
        let bad_layers = [Dense::new(3, 4, Activation::elu(-1.0))];
        let mut o = [0u8; 200];
        assert!(matches!(
            encode(&bad_layers, &[0.0; 16], &mut o),
            Err(FormatError::BadLayer { .. })
        ));
    }

    /// Layers of other kinds take version 3 and come back with their kinds and sizes;
    /// a kind byte out of range or sizes that do not fit are a bad layer.
    #[test]
    fn layer_kinds_take_version_3() {
        use crate::shape::Padding;
        const K: [Dense; 5] = [
            Dense::conv1d(2, 3, 3, 2, Padding::None, 9, Activation::Relu),
            Dense::max_pool1d(3, 4, 2, 1),
            Dense::conv1d(3, 2, 2, 1, Padding::Same, 3, Activation::elu(0.5)),
            Dense::global_avg_pool1d(2, 3),
            Dense::new(2, 2, Activation::Identity),
        ];
        let p = shape::params_len(&K);
        assert_eq!(p, 3 * 2 * 3 + 3 + 2 * 3 * 2 + 2 + 6);
        let params: [f32; 41] = core::array::from_fn(|i| i as f32 * 0.1);
        let mut out = [0u8; encoded_len(&K)];
        assert_eq!(out.len(), 12 + 24 * 5 + 4 * 41 + 4);
        assert_eq!(encode(&K, &params, &mut out), Ok(out.len()));
        assert_eq!(u16_at(&out, 4), 3);
        let f = ModelFile::parse(&out).unwrap();
        assert!(f.matches(&K));
        let mut back = [0.0f32; 41];
        f.read_params(&mut back).unwrap();
        assert_eq!(back.map(f32::to_bits), params.map(f32::to_bits));
        let fix_crc = |b: &mut [u8]| {
            let n = b.len();
            let crc = CRC.checksum(&b[..n - 4]);
            b[n - 4..].copy_from_slice(&crc.to_le_bytes());
        };
        // Kind 9: unknown. A stride of 0: the sizes do not fit.
        for (at, v) in [(12 + 16, 9u8), (12 + 16 + 4, 0)] {
            let mut bad = out;
            bad[at] = v;
            fix_crc(&mut bad);
            assert_eq!(
                ModelFile::parse(&bad).unwrap_err(),
                FormatError::BadLayer { layer: 0, offset: 12 }
            );
        }
    }
}
