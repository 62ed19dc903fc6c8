//! Flash probe, without training: the skeleton `size-adam` adds training to (see
//! there).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use defmt_semihosting as _;

#[entry]
fn main() -> ! {
    let x = core::hint::black_box([0.5f32, -0.25, 1.0, 0.125]);
    let label = core::hint::black_box(2usize);
    let ok = core::hint::black_box(x[0] > 0.0 && label < 3);
    defmt::println!("done {=bool}", ok);
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
