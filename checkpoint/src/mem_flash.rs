//! [`MemFlash`]: a NOR flash in RAM that can lose power at any byte, for tests, fuzzing
//! and emulators without writable flash.
//!
//! It keeps NOR semantics: erasing sets a whole erase unit to `0xFF`; writing can only
//! clear bits (the new byte is `old & data`); reads, writes and erases must be aligned
//! to `R`, `W` and `E` bytes and stay within the `N` bytes, or they fail with
//! [`NorFlashErrorKind::NotAligned`] / [`NorFlashErrorKind::OutOfBounds`]. A write to
//! a write unit that is not erased is counted in [`rewrites`](MemFlash::rewrites)
//! (many real flashes forbid it), so a test can assert that none happens.
//!
//! A power cut is armed with [`cut_power_after`](MemFlash::cut_power_after)`(n)`: the
//! next `n` bytes programmed or erased go through, byte by byte in address order, and
//! the operation that would touch one more byte stops there with
//! [`MemFlashError::PowerCut`], leaving a prefix of its bytes done. From then on every
//! operation fails until [`power_on`](MemFlash::power_on).

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};

/// The errors of [`MemFlash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MemFlashError {
    /// Offset or length not a multiple of the operation's size.
    NotAligned,
    /// The range passes the end of the flash.
    OutOfBounds,
    /// The power failed (see the module docs).
    PowerCut,
}

impl NorFlashError for MemFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            MemFlashError::NotAligned => NorFlashErrorKind::NotAligned,
            MemFlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            MemFlashError::PowerCut => NorFlashErrorKind::Other,
        }
    }
}

/// `N` bytes of NOR flash in RAM with read size `R`, write size `W` and erase size
/// `E`.
#[derive(Debug, Clone)]
pub struct MemFlash<const N: usize, const R: usize, const W: usize, const E: usize> {
    mem: [u8; N],
    budget: Option<usize>,
    dead: bool,
    ops: usize,
    touched: usize,
    rewrites: usize,
}

impl<const N: usize, const R: usize, const W: usize, const E: usize> Default for MemFlash<N, R, W, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const R: usize, const W: usize, const E: usize> MemFlash<N, R, W, E> {
    /// An erased flash (every byte `0xFF`) with power on.
    pub const fn new() -> Self {
        MemFlash {
            mem: [0xFF; N],
            budget: None,
            dead: false,
            ops: 0,
            touched: 0,
            rewrites: 0,
        }
    }

    /// A flash whose first bytes are `bytes` (at most `N`), the rest erased.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut f = Self::new();
        f.mem.iter_mut().zip(bytes).for_each(|(m, b)| *m = *b);
        f
    }

    /// The contents.
    pub fn bytes(&self) -> &[u8; N] {
        &self.mem
    }

    /// The contents, to corrupt them on purpose.
    pub fn bytes_mut(&mut self) -> &mut [u8; N] {
        &mut self.mem
    }

    /// Arms a power cut after `n` more bytes are programmed or erased.
    pub fn cut_power_after(&mut self, n: usize) {
        self.budget = Some(n);
    }

    /// Restores power and disarms any cut (the contents stay as they are).
    pub fn power_on(&mut self) {
        self.budget = None;
        self.dead = false;
    }

    /// Whether the power has failed.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Write and erase operations started since the last [`reset_counters`](Self::reset_counters).
    pub fn ops(&self) -> usize {
        self.ops
    }

    /// Bytes programmed or erased since the last [`reset_counters`](Self::reset_counters).
    pub fn touched(&self) -> usize {
        self.touched
    }

    /// Writes to write units that were not erased.
    pub fn rewrites(&self) -> usize {
        self.rewrites
    }

    /// Zeroes the operation counters.
    pub fn reset_counters(&mut self) {
        self.ops = 0;
        self.touched = 0;
        self.rewrites = 0;
    }

    fn range(offset: u32, len: usize, align: usize) -> Result<core::ops::Range<usize>, MemFlashError> {
        let start = offset as usize;
        if align == 0 || start % align != 0 || len % align != 0 {
            return Err(MemFlashError::NotAligned);
        }
        match start.checked_add(len) {
            Some(end) if end <= N => Ok(start..end),
            _ => Err(MemFlashError::OutOfBounds),
        }
    }

    /// Spends one byte of the power budget; `false` if the power fails now.
    fn spend(&mut self) -> bool {
        match self.budget {
            Some(0) => {
                self.dead = true;
                false
            }
            Some(n) => {
                self.budget = Some(n - 1);
                self.touched += 1;
                true
            }
            None => {
                self.touched += 1;
                true
            }
        }
    }

    fn alive(&self) -> Result<(), MemFlashError> {
        if self.dead {
            Err(MemFlashError::PowerCut)
        } else {
            Ok(())
        }
    }
}

impl<const N: usize, const R: usize, const W: usize, const E: usize> ErrorType for MemFlash<N, R, W, E> {
    type Error = MemFlashError;
}

impl<const N: usize, const R: usize, const W: usize, const E: usize> ReadNorFlash for MemFlash<N, R, W, E> {
    const READ_SIZE: usize = R;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.alive()?;
        let r = Self::range(offset, bytes.len(), R)?;
        let src = self.mem.get(r).ok_or(MemFlashError::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize, const R: usize, const W: usize, const E: usize> NorFlash for MemFlash<N, R, W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.alive()?;
        let len = (to as usize)
            .checked_sub(from as usize)
            .ok_or(MemFlashError::OutOfBounds)?;
        let r = Self::range(from, len, E)?;
        self.ops += 1;
        for i in r {
            if !self.spend() {
                return Err(MemFlashError::PowerCut);
            }
            if let Some(m) = self.mem.get_mut(i) {
                *m = 0xFF;
            }
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.alive()?;
        let r = Self::range(offset, bytes.len(), W)?;
        self.ops += 1;
        let start = r.start;
        let erased = |m: &[u8]| m.iter().all(|b| *b == 0xFF);
        for unit in r.step_by(W.max(1)) {
            if !self.mem.get(unit..unit + W).is_some_and(erased) {
                self.rewrites += 1;
            }
        }
        for (i, b) in bytes.iter().enumerate() {
            if !self.spend() {
                return Err(MemFlashError::PowerCut);
            }
            if let Some(m) = self.mem.get_mut(start + i) {
                *m &= *b;
            }
        }
        Ok(())
    }
}
