//! Files on the host, through semihosting (`SYS_OPEN`, `SYS_FLEN`, `SYS_SEEK`,
//! `SYS_READ`, `SYS_WRITE`, `SYS_CLOSE`). Under QEMU a relative path is relative to
//! QEMU's working directory.

use cortex_m_semihosting::nr;

/// The longest path accepted (bytes, without the final NUL).
pub const MAX_PATH: usize = 200;

/// What went wrong with a host file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum FileError {
    /// The path is longer than [`MAX_PATH`] bytes.
    PathTooLong,
    /// The host could not open it (missing, or no permission).
    Open,
    /// The host could not tell its length.
    Length,
    /// Seeking, reading or writing failed or came short.
    Io,
}

/// An open host file, closed when dropped.
pub struct HostFile {
    handle: usize,
}

/// How to open a file.
#[derive(Clone, Copy)]
pub enum Mode {
    /// Read an existing file ("rb").
    // Not every binary that shares this file reads one (`fleet-device` does not).
    #[allow(dead_code)]
    Read,
    /// Read and write an existing file ("r+b").
    ReadWrite,
    /// Create it, or truncate it, and write ("wb").
    Create,
}

fn call(op: usize, args: &[usize]) -> isize {
    // SAFETY: every argument block below describes buffers that outlive the call and
    // that the host reads or writes only within their stated lengths.
    unsafe { cortex_m_semihosting::syscall1(op, args.as_ptr() as usize) as isize }
}

impl HostFile {
    /// Opens `path`.
    pub fn open(path: &str, mode: Mode) -> Result<Self, FileError> {
        // The host reads a NUL-terminated string.
        let mut name = [0u8; MAX_PATH + 1];
        name.get_mut(..path.len())
            .ok_or(FileError::PathTooLong)?
            .copy_from_slice(path.as_bytes());
        let mode = match mode {
            Mode::Read => nr::open::R_BINARY,
            Mode::ReadWrite => nr::open::RW_BINARY,
            Mode::Create => nr::open::W_TRUNC_BINARY,
        };
        let handle = call(nr::OPEN, &[name.as_ptr() as usize, mode, path.len()]);
        if handle < 0 {
            return Err(FileError::Open);
        }
        Ok(HostFile {
            handle: handle as usize,
        })
    }

    /// The file's length in bytes.
    pub fn len(&self) -> Result<usize, FileError> {
        let n = call(nr::FLEN, &[self.handle]);
        usize::try_from(n).map_err(|_| FileError::Length)
    }

    fn seek(&mut self, at: usize) -> Result<(), FileError> {
        match call(nr::SEEK, &[self.handle, at]) {
            0 => Ok(()),
            _ => Err(FileError::Io),
        }
    }

    /// Reads exactly `buf.len()` bytes from offset `at`.
    pub fn read_at(&mut self, at: usize, buf: &mut [u8]) -> Result<(), FileError> {
        self.seek(at)?;
        // The host returns the number of bytes it did NOT read.
        match call(nr::READ, &[self.handle, buf.as_mut_ptr() as usize, buf.len()]) {
            0 => Ok(()),
            _ => Err(FileError::Io),
        }
    }

    /// Writes all of `data` at offset `at`.
    pub fn write_at(&mut self, at: usize, data: &[u8]) -> Result<(), FileError> {
        self.seek(at)?;
        // The host returns the number of bytes it did NOT write.
        match call(nr::WRITE, &[self.handle, data.as_ptr() as usize, data.len()]) {
            0 => Ok(()),
            _ => Err(FileError::Io),
        }
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        let _closed = call(nr::CLOSE, &[self.handle]);
    }
}
