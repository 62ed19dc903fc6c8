//! The firmware's command line, read from the debugger through semihosting
//! (`SYS_GET_CMDLINE`). Under QEMU it is the kernel's path followed by `-append`'s
//! text, so `qemu-system-arm ... -kernel app.elf -append "seed=7"` gives "app.elf
//! seed=7".

use cortex_m_semihosting::nr;

/// Reads the command line into `buf`; `None` if the host gave none (or it is not
/// UTF-8).
pub fn read(buf: &mut [u8]) -> Option<&str> {
    // The call's argument block: the buffer's address and length; the host writes
    // the text and puts its length (without the final NUL) in the second word.
    let mut block: [usize; 2] = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: the block and the buffer outlive the call, and the host writes at most
    // `buf.len()` bytes into the buffer.
    let status = unsafe { cortex_m_semihosting::syscall1(nr::GET_CMDLINE, block.as_mut_ptr() as usize) };
    if status != 0 {
        return None;
    }
    let len = block[1].min(buf.len());
    core::str::from_utf8(buf.get(..len)?).ok()
}
