//! The checkpoint flash of the QEMU firmware. QEMU's machines have no writable flash
//! that survives a run, so the region is a NOR flash in RAM
//! ([`MemFlash`]: erase sets whole pages to `0xFF`, writes only clear bits, alignment
//! enforced) with the geometry of the micro:bit v1's nRF51 (4-byte writes, 1 KiB
//! pages), whose bytes are loaded from a host file at boot and written back to it,
//! through semihosting, by every erase and write as it happens. The file is the
//! flash: a run killed halfway through a save leaves a half-written slot in it, as a
//! power cut would.

use crate::hostfile::{FileError, HostFile, Mode};
use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use microtrain_checkpoint::{region_len, MemFlash, MemFlashError};
use microtrain_stream::model::{LAYERS, OPTIMIZER};

/// Bytes of one write.
pub const WRITE_SIZE: usize = 4;
/// Bytes of one erase page.
pub const PAGE_SIZE: usize = 1024;
/// Bytes of the region: two slots, each the pages one checkpoint of the model needs.
pub const REGION: usize = region_len(&LAYERS, OPTIMIZER.state_per_param(), WRITE_SIZE, PAGE_SIZE);

/// The flash in RAM (the caller owns it, so its 6 KiB are not copied around).
pub type Mem = MemFlash<REGION, WRITE_SIZE, WRITE_SIZE, PAGE_SIZE>;

/// A failed flash operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum FileFlashError {
    /// The NOR rules (alignment, bounds).
    Flash(MemFlashError),
    /// Writing the change through to the host file.
    File(FileError),
}

impl NorFlashError for FileFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FileFlashError::Flash(e) => e.kind(),
            FileFlashError::File(_) => NorFlashErrorKind::Other,
        }
    }
}

/// Why the flash file could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum LoadError {
    /// It could not be opened, created, or read.
    File(FileError),
    /// It exists with another length than [`REGION`] (not this firmware's flash
    /// image: left as it is).
    Size {
        /// Its length.
        found: usize,
    },
}

/// The emulated flash and its host file.
pub struct FileFlash<'a> {
    mem: &'a mut Mem,
    file: HostFile,
}

impl<'a> FileFlash<'a> {
    /// Opens the flash image `path` into `mem` (an erased [`Mem`]): its bytes if the
    /// file exists (it must be [`REGION`] bytes long), otherwise a new file of erased
    /// bytes. Returns whether it was created.
    pub fn open(path: &str, mem: &'a mut Mem) -> Result<(Self, bool), LoadError> {
        match HostFile::open(path, Mode::ReadWrite) {
            Ok(mut file) => {
                let found = file.len().map_err(LoadError::File)?;
                if found != REGION {
                    return Err(LoadError::Size { found });
                }
                file.read_at(0, mem.bytes_mut()).map_err(LoadError::File)?;
                Ok((FileFlash { mem, file }, false))
            }
            Err(FileError::Open) => {
                let mut file = HostFile::open(path, Mode::Create).map_err(LoadError::File)?;
                file.write_at(0, mem.bytes()).map_err(LoadError::File)?;
                Ok((FileFlash { mem, file }, true))
            }
            Err(e) => Err(LoadError::File(e)),
        }
    }

    /// Writes bytes `from..to` of the flash through to the file.
    fn sync(&mut self, from: u32, to: usize) -> Result<(), FileFlashError> {
        let bytes = self
            .mem
            .bytes()
            .get(from as usize..to)
            .ok_or(FileFlashError::Flash(MemFlashError::OutOfBounds))?;
        self.file
            .write_at(from as usize, bytes)
            .map_err(FileFlashError::File)
    }
}

impl ErrorType for FileFlash<'_> {
    type Error = FileFlashError;
}

impl ReadNorFlash for FileFlash<'_> {
    const READ_SIZE: usize = WRITE_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.mem.read(offset, bytes).map_err(FileFlashError::Flash)
    }

    fn capacity(&self) -> usize {
        REGION
    }
}

impl NorFlash for FileFlash<'_> {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = PAGE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.mem.erase(from, to).map_err(FileFlashError::Flash)?;
        self.sync(from, to as usize)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.mem.write(offset, bytes).map_err(FileFlashError::Flash)?;
        self.sync(offset, offset as usize + bytes.len())
    }
}
