//! Ending a benchmark or probe firmware under QEMU: the semihosting exit status is the
//! verdict, and a panic is a failure. Shared by the `bench` and `size-*` binaries (the
//! application in `main.rs` logs its panics instead).

use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};

/// Exits QEMU with status 0 when `ok`, 1 otherwise.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Not reached under QEMU; on a debugger without semihosting exit, stop here.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(false)
}
