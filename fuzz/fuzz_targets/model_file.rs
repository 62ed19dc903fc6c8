//! `ModelFile::parse` on arbitrary bytes: never panics; what it accepts reads back
//! consistently and re-encodes to the same bytes, or, for a file of a higher version
//! than the model needs (a version-2 file whose activations all have their default
//! parameter, say), to a file of the lowest version with the same layers and
//! parameters.
//!
//! The first byte picks the mode: even, the rest is the file as is; odd, its last four
//! bytes are first replaced by the CRC of the others, so that the fuzzer reaches the
//! checks behind the checksum (non-finite parameters, lengths).
#![no_main]

use libfuzzer_sys::fuzz_target;
use microtrain::model_file::{encode, encoded_len, ModelFile};

static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 && bytes.len() >= 4 {
        let n = bytes.len() - 4;
        let crc = CRC.checksum(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }
    let data = &bytes[..];
    let Ok(file) = ModelFile::parse(data) else {
        return;
    };
    let layers: Vec<_> = file.layers().collect();
    assert_eq!(layers.len(), file.layer_count());
    assert!(file.matches(&layers));
    let mut params = vec![0.0f32; file.params_len()];
    file.read_params(&mut params).expect("params of an accepted file");
    assert!(params.iter().all(|v| v.is_finite()));
    let mut out = vec![0u8; encoded_len(&layers)];
    let n = encode(&layers, &params, &mut out).expect("re-encoding an accepted file");
    if &out[..n] == data {
        return;
    }
    let version = |b: &[u8]| u16::from_le_bytes([b[4], b[5]]);
    assert!(
        version(&out) < version(data),
        "an accepted file re-encodes to other bytes of the same or a higher version"
    );
    let again = ModelFile::parse(&out[..n]).expect("the re-encoded file parses");
    assert!(again.matches(&layers));
    let mut back = vec![0.0f32; again.params_len()];
    again.read_params(&mut back).expect("params of the re-encoded file");
    assert_eq!(
        back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        params.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
});
