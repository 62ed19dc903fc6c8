//! A model file checked and decoded at compile time, so that its parameters are a
//! `static` array in flash: the frozen part of a model fine-tuned on the device needs
//! no RAM and no start-up copy.
//!
//! ```
//! use microtrain::{model_file, shape::params_len, Activation, Dense};
//!
//! const LAYERS: [Dense; 1] = [Dense::new(2, 1, Activation::Identity)];
//! # const FILE: [u8; model_file::encoded_len(&LAYERS)] = *include_bytes!("../../tests/data/embed-2-1.mtm");
//! // In a firmware: include_bytes!("model.mtm") in place of FILE.
//! static PRETRAINED: [f32; params_len(&LAYERS)] = match model_file::embed(&FILE, &LAYERS) {
//!     Ok(p) => p,
//!     Err(_) => panic!("model.mtm is not a model of LAYERS"), // a compile error
//! };
//! assert_eq!(PRETRAINED, [0.5, -0.25, 1.0]);
//! ```

use super::{record_bytes, version_for, FormatError, CRC, HEADER, MAGIC};
use crate::shape::{self, Dense};

/// The little-endian `u32` at `off`, if `bytes` holds it (`const`, no indexing).
const fn u32_at(bytes: &[u8], off: usize) -> Option<u32> {
    match bytes.split_at_checked(off) {
        Some((_, rest)) => match rest.first_chunk::<4>() {
            Some(w) => Some(u32::from_le_bytes(*w)),
            None => None,
        },
        None => None,
    }
}

/// The model file `bytes` of exactly `layers`, decoded into its `N` parameters, in a
/// `const` context (a `static`'s initializer): with `include_bytes!`, a file that does
/// not fit is a compile error, and the parameters land in flash.
///
/// It checks what [`ModelFile::parse`](super::ModelFile::parse) checks, against the
/// given shape: `N` is [`shape::params_len`]`(layers)`, the length is
/// [`encoded_len`](super::encoded_len)`(layers)`, the magic, the version (the one
/// [`encode`](super::encode) writes for these layers), the layer count and parameter
/// count are right, every layer record is exactly the one `encode` writes for
/// `layers` (inputs, outputs, activation and its parameter, kind; a layer's
/// trainability is not stored in a model file), the CRC-32 matches and every parameter
/// is finite. The error names the first thing wrong, as
/// the parser's do.
pub const fn embed<const N: usize>(bytes: &[u8], layers: &[Dense]) -> Result<[f32; N], FormatError> {
    let expected = shape::params_len(layers);
    if N != expected {
        return Err(FormatError::Buffer {
            needed: expected,
            provided: N,
        });
    }
    let total = super::encoded_len(layers);
    let len = bytes.len();
    if len < total {
        return Err(FormatError::Truncated { needed: total, len });
    }
    if len > total {
        return Err(FormatError::Length { expected: total, len });
    }
    match bytes.first_chunk::<4>() {
        Some(m) if m[0] == MAGIC[0] && m[1] == MAGIC[1] && m[2] == MAGIC[2] && m[3] == MAGIC[3] => {}
        _ => return Err(FormatError::BadMagic),
    }
    let head = match u32_at(bytes, 4) {
        Some(h) => h,
        None => return Err(FormatError::Truncated { needed: HEADER, len }),
    };
    let version = (head & 0xffff) as u16;
    // The version `encode` writes for these layers, and its record size.
    let (expected_version, record) = version_for(layers);
    if version != expected_version {
        return Err(FormatError::UnsupportedVersion { version });
    }
    let count = (head >> 16) as usize;
    if count != layers.len() {
        return Err(FormatError::LayerCount { count });
    }
    match u32_at(bytes, 8) {
        Some(d) if d as usize == expected => {}
        Some(d) => {
            return Err(FormatError::ParamCount {
                declared: d as usize,
                expected,
            })
        }
        None => return Err(FormatError::Truncated { needed: HEADER, len }),
    }
    let (mut i, mut rest) = (0, layers);
    while let Some((l, tail)) = rest.split_first() {
        let off = HEADER + record * i;
        let want = record_bytes(l, version);
        let mut want: &[u8] = match want.split_at_checked(record) {
            Some((w, _)) => w,
            None => &[],
        };
        let mut got: &[u8] = match bytes.split_at_checked(off) {
            Some((_, g)) => g,
            None => &[],
        };
        while let Some((w, wt)) = want.split_first() {
            match got.split_first() {
                Some((g, gt)) if *g == *w => (got, want) = (gt, wt),
                _ => {
                    return Err(FormatError::BadLayer {
                        layer: i,
                        offset: off,
                    })
                }
            }
        }
        (i, rest) = (i + 1, tail);
    }
    let (body, _) = bytes.split_at(total - 4);
    let computed = CRC.checksum(body);
    let stored = match u32_at(bytes, total - 4) {
        Some(s) => s,
        None => 0,
    };
    if stored != computed {
        return Err(FormatError::Checksum { stored, computed });
    }
    let start = HEADER + record * count;
    let mut out = [0.0f32; N];
    let (mut k, mut slots): (usize, &mut [f32]) = (0, &mut out);
    while let Some((slot, tail)) = slots.split_first_mut() {
        let offset = start + 4 * k;
        let v = match u32_at(bytes, offset) {
            Some(b) => f32::from_bits(b),
            None => f32::NAN,
        };
        if !v.is_finite() {
            return Err(FormatError::NonFinite { index: k, offset });
        }
        *slot = v;
        (k, slots) = (k + 1, tail);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{encode, encoded_len, ModelFile};
    use super::*;
    use crate::Activation;

    const LAYERS: [Dense; 2] = [
        Dense::new(3, 4, Activation::Tanh),
        Dense::new(4, 2, Activation::Sigmoid),
    ];
    const N: usize = shape::params_len(&LAYERS);

    fn file() -> ([f32; N], [u8; encoded_len(&LAYERS)]) {
        let mut params = [0.0f32; N];
        params
            .iter_mut()
            .enumerate()
            .for_each(|(i, p)| *p = i as f32 * 0.375 - 4.0);
        let mut out = [0u8; encoded_len(&LAYERS)];
        assert_eq!(encode(&LAYERS, &params, &mut out), Ok(out.len()));
        (params, out)
    }

    #[test]
    fn decodes_what_the_encoder_wrote_bit_for_bit() {
        let (params, bytes) = file();
        let got: [f32; N] = embed(&bytes, &LAYERS).unwrap();
        assert_eq!(params.map(f32::to_bits), got.map(f32::to_bits));
    }

    #[test]
    fn works_in_a_static_initializer() {
        static FILE: [u8; 40] = *include_bytes!("../../tests/data/embed-2-1.mtm");
        const L: [Dense; 1] = [Dense::new(2, 1, Activation::Identity)];
        static P: [f32; 3] = match embed(&FILE, &L) {
            Ok(p) => p,
            Err(_) => [f32::NAN; 3],
        };
        assert_eq!(P, [0.5, -0.25, 1.0]);
        let parsed = ModelFile::parse(&FILE).unwrap();
        let mut back = [0.0f32; 3];
        parsed.read_params(&mut back).unwrap();
        assert_eq!(back, P);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_refused() {
        let (_, bytes) = file();
        for n in 0..bytes.len() {
            assert!(
                embed::<N>(&bytes[..n], &LAYERS).is_err(),
                "prefix of {n} bytes accepted"
            );
        }
        for i in 0..bytes.len() * 8 {
            let mut b = bytes;
            b[i / 8] ^= 1 << (i % 8);
            assert!(embed::<N>(&b, &LAYERS).is_err(), "flip of bit {i} accepted");
        }
    }

    /// Version 2 (an activation's parameter) and 3 (a convolution) decode too, and a
    /// parameter or a kind that differs from the file's is refused.
    #[test]
    fn later_versions_decode_and_their_records_are_checked() {
        use crate::shape::Padding;
        fn round_trip<const K: usize>(layers: &[Dense], other: &[Dense]) {
            let params: [f32; K] = core::array::from_fn(|i| i as f32 * 0.125 - 1.0);
            let mut buf = [0u8; 512];
            let bytes = &mut buf[..encoded_len(layers)];
            encode(layers, &params, bytes).unwrap();
            let got: [f32; K] = embed(bytes, layers).unwrap();
            assert_eq!(got, params);
            assert!(matches!(
                embed::<K>(bytes, other),
                Err(FormatError::BadLayer { layer: 0, .. })
            ));
        }
        let v2 = [
            Dense::new(3, 4, Activation::leaky_relu(0.2)),
            Dense::new(4, 2, Activation::Identity),
        ];
        let v2_other = [
            Dense::new(3, 4, Activation::leaky_relu(0.3)),
            Dense::new(4, 2, Activation::Identity),
        ];
        round_trip::<26>(&v2, &v2_other);
        let v3 = [
            Dense::conv1d(2, 3, 3, 1, Padding::Same, 8, Activation::Relu),
            Dense::new(24, 2, Activation::Identity),
        ];
        let v3_other = [
            Dense::conv1d(2, 3, 3, 1, Padding::None, 10, Activation::Relu),
            Dense::new(24, 2, Activation::Identity),
        ];
        const P3: usize = 2 * 3 * 3 + 3 + 24 * 2 + 2;
        round_trip::<P3>(&v3, &v3_other);
    }

    #[test]
    fn errors_name_what_does_not_fit() {
        let (_, bytes) = file();
        assert_eq!(
            embed::<5>(&bytes, &LAYERS),
            Err(FormatError::Buffer {
                needed: N,
                provided: 5
            })
        );
        let other = [
            Dense::new(3, 4, Activation::Relu),
            Dense::new(4, 2, Activation::Sigmoid),
        ];
        assert_eq!(
            embed::<N>(&bytes, &other),
            Err(FormatError::BadLayer {
                layer: 0,
                offset: HEADER
            })
        );
        let frozen = [LAYERS[0].frozen(), LAYERS[1]];
        assert!(
            embed::<N>(&bytes, &frozen).is_ok(),
            "trainability is not in the file"
        );
        let mut b = bytes;
        b[0] = b'X';
        assert_eq!(embed::<N>(&b, &LAYERS), Err(FormatError::BadMagic));
        // A NaN with a matching CRC: the value is named.
        let (mut params, _) = file();
        params[7] = f32::NAN;
        let mut nan = [0u8; encoded_len(&LAYERS)];
        // encode refuses nothing about values; the parser and embed do.
        encode(&LAYERS, &params, &mut nan).unwrap();
        assert_eq!(
            embed::<N>(&nan, &LAYERS),
            Err(FormatError::NonFinite {
                index: 7,
                offset: HEADER + 2 * 12 + 28
            })
        );
    }
}
