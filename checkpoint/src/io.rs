//! Streaming access to one slot through a small chunk buffer: reads and writes at the
//! flash's alignment, a CRC computed on the way, no allocation.

use crate::format::CRC;
use crate::CHUNK;
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};

/// A read failed: the flash driver's error, or the slot ended first.
pub(crate) enum ReadErr<E> {
    /// The flash driver's error.
    Flash(E),
    /// The read would pass the end of the slot.
    End,
}

/// Reads a slot front to back (with [`seek`](Reader::seek) to jump), one aligned chunk
/// of flash at a time.
pub(crate) struct Reader<'f, F> {
    flash: &'f mut F,
    base: u32,
    slot_len: usize,
    pos: usize,
    buf: [u8; CHUNK],
    buf_start: usize,
    buf_len: usize,
}

impl<'f, F: ReadNorFlash> Reader<'f, F> {
    /// A reader of the `slot_len` bytes at `base` (both multiples of the read size).
    pub fn new(flash: &'f mut F, base: u32, slot_len: usize) -> Self {
        Reader {
            flash,
            base,
            slot_len,
            pos: 0,
            buf: [0; CHUNK],
            buf_start: 0,
            buf_len: 0,
        }
    }

    /// Moves to byte `pos` of the slot.
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Bytes of the slot.
    pub fn len(&self) -> usize {
        self.slot_len
    }

    /// The current position.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn refill(&mut self) -> Result<(), ReadErr<F::Error>> {
        let r = F::READ_SIZE.max(1);
        let start = self.pos / r * r;
        let len = CHUNK.min(self.slot_len.saturating_sub(start));
        let at = u32::try_from(start)
            .ok()
            .and_then(|s| self.base.checked_add(s))
            .ok_or(ReadErr::End)?;
        let dst = self.buf.get_mut(..len).ok_or(ReadErr::End)?;
        self.buf_start = start;
        self.buf_len = 0;
        self.flash.read(at, dst).map_err(ReadErr::Flash)?;
        self.buf_len = len;
        Ok(())
    }

    /// Fills `out` from the current position and advances.
    pub fn read(&mut self, out: &mut [u8]) -> Result<(), ReadErr<F::Error>> {
        let end = self.pos.checked_add(out.len()).ok_or(ReadErr::End)?;
        if end > self.slot_len {
            return Err(ReadErr::End);
        }
        let mut done = 0;
        while done < out.len() {
            let in_buf = self.pos >= self.buf_start && self.pos < self.buf_start + self.buf_len;
            if !in_buf {
                self.refill()?;
            }
            let from = self.pos - self.buf_start;
            let n = (self.buf_len - from).min(out.len() - done);
            match (out.get_mut(done..done + n), self.buf.get(from..from + n)) {
                (Some(d), Some(s)) if n > 0 => d.copy_from_slice(s),
                _ => return Err(ReadErr::End),
            }
            done += n;
            self.pos += n;
        }
        Ok(())
    }

    /// Reads `len` bytes into the CRC digest and advances.
    pub fn digest(&mut self, d: &mut crc::Digest<'_, u32>, len: usize) -> Result<(), ReadErr<F::Error>> {
        let mut left = len;
        let mut tmp = [0u8; 64];
        while left > 0 {
            let n = left.min(tmp.len());
            let part = tmp.get_mut(..n).ok_or(ReadErr::End)?;
            self.read(part)?;
            d.update(part);
            left -= n;
        }
        Ok(())
    }
}

/// Writes a slot front to back: bytes go through the CRC (unless written raw) into a
/// chunk buffer that is written to flash whenever it is full.
pub(crate) struct Writer<'f, F> {
    flash: &'f mut F,
    base: u32,
    pos: usize,
    buf: [u8; CHUNK],
    fill: usize,
    crc: crc::Digest<'static, u32>,
}

impl<'f, F: NorFlash> Writer<'f, F> {
    /// A writer at `base` (a multiple of the write size).
    pub fn new(flash: &'f mut F, base: u32) -> Self {
        Writer {
            flash,
            base,
            pos: 0,
            buf: [0xFF; CHUNK],
            fill: 0,
            crc: CRC.digest(),
        }
    }

    /// Appends bytes that the CRC covers.
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), F::Error> {
        self.crc.update(bytes);
        self.put_raw(bytes)
    }

    /// Appends bytes outside the CRC.
    pub fn put_raw(&mut self, bytes: &[u8]) -> Result<(), F::Error> {
        for b in bytes {
            if let Some(slot) = self.buf.get_mut(self.fill) {
                *slot = *b;
            }
            self.fill += 1;
            if self.fill == CHUNK {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// The CRC of everything [`put`](Self::put) so far.
    pub fn crc(&self) -> u32 {
        self.crc.clone().finalize()
    }

    /// Writes the buffered bytes, padded with erased bytes (0xFF) to the write size.
    pub fn flush(&mut self) -> Result<(), F::Error> {
        if self.fill == 0 {
            return Ok(());
        }
        let w = F::WRITE_SIZE.max(1);
        let len = self.fill.div_ceil(w) * w;
        for b in self.buf.iter_mut().skip(self.fill) {
            *b = 0xFF;
        }
        let at = self.base.saturating_add(self.pos as u32);
        if let Some(data) = self.buf.get(..len) {
            self.flash.write(at, data)?;
        }
        self.pos += len;
        self.fill = 0;
        Ok(())
    }

    /// Flushes, then writes `bytes` at the next write-aligned position in a write
    /// operation of its own (padded with zeros to the write size).
    pub fn write_separately(&mut self, bytes: &[u8]) -> Result<(), F::Error> {
        self.flush()?;
        self.put_raw(bytes)?;
        let w = F::WRITE_SIZE.max(1);
        while self.fill % w != 0 {
            self.put_raw(&[0])?;
        }
        self.flush()
    }
}
