//! Flash probe, without training: the skeleton `size-adam` adds training to (see
//! there).
#![no_std]
#![no_main]

#[path = "../halt.rs"]
mod halt;

use cortex_m_rt::entry;
use defmt_semihosting as _;

#[entry]
fn main() -> ! {
    let x = core::hint::black_box([0.5f32, -0.25, 1.0, 0.125]);
    let label = core::hint::black_box(2usize);
    let ok = core::hint::black_box(x[0] > 0.0 && label < 3);
    defmt::println!("done {=bool}", ok);
    halt::exit(ok)
}
