//! The weights checksum that the simulator and the firmware both print.
//!
//! 32-bit FNV-1a (Fowler, Noll, Vo) over the IEEE 754 bit patterns of the parameters,
//! each as 4 little-endian bytes, in parameter order. Equal checksums mean equal bits
//! (up to a 2^-32 chance), which is what "host and device agree" is tested with.

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// A value the checksum reads as 32 bits: an `f32`'s IEEE 754 bits, or an `i32`
/// (the fixed-point model's Q16.16 parameters, feature `fixed`) as two's complement.
pub trait Word: Copy {
    /// The 32 bits.
    fn bits(self) -> u32;
}

impl Word for f32 {
    fn bits(self) -> u32 {
        self.to_bits()
    }
}

impl Word for i32 {
    fn bits(self) -> u32 {
        self as u32
    }
}

/// FNV-1a of the little-endian bytes of each value's bits.
pub fn weights_checksum<W: Word>(values: &[W]) -> u32 {
    values
        .iter()
        .flat_map(|v| v.bits().to_le_bytes())
        .fold(FNV_OFFSET, |h, b| (h ^ u32::from(b)).wrapping_mul(FNV_PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_fnv1a_values() {
        // FNV-1a of no bytes is the offset basis; of the bytes 00 00 80 3f (1.0f32) it is
        // the published algorithm applied by hand below.
        assert_eq!(weights_checksum::<f32>(&[]), 0x811c_9dc5);
        let mut h = FNV_OFFSET;
        for b in [0x00u8, 0x00, 0x80, 0x3f] {
            h = (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
        }
        assert_eq!(weights_checksum(&[1.0]), h);
        // "a" -> 0xe40c292c is FNV-1a's published test vector; 0x61 is 'a'.
        assert_eq!((FNV_OFFSET ^ 0x61).wrapping_mul(FNV_PRIME), 0xe40c_292c);
    }

    #[test]
    fn any_bit_flip_changes_it() {
        let w = [0.5f32, -1.25, 3.0];
        let base = weights_checksum(&w);
        let mut v = w;
        v[1] = f32::from_bits(v[1].to_bits() ^ 1);
        assert_ne!(weights_checksum(&v), base);
        assert_ne!(weights_checksum(&[0.0]), weights_checksum(&[-0.0]));
    }
}
