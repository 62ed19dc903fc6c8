//! Peak stack use by stack painting: at boot, every free word of the stack is filled
//! with a pattern; at the end, the lowest word that no longer holds it marks how deep
//! the stack ever went.
//!
//! cortex-m-rt places the stack at the top of RAM (`_stack_start`), growing down
//! towards the end of `.bss` (`_stack_end`).

const PATTERN: u32 = 0x5AC4_D00D;

extern "C" {
    static mut _stack_start: u32;
    static mut _stack_end: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of the linker symbols are taken, never their values.
    (
        core::ptr::addr_of!(_stack_end) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    )
}

/// The address of the top of the stack (its first, highest word is just below).
#[allow(dead_code)] // used by the bench binary only
pub fn top() -> u32 {
    bounds().1 as u32
}

/// Bytes between the end of `.bss` and the top of RAM.
pub fn size() -> u32 {
    let (low, high) = bounds();
    (high - low) as u32
}

/// Fills the unused stack, from its lowest address up to a little below the current
/// stack pointer, with the pattern. Call first thing in `main`.
pub fn paint() {
    let (low, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let top = sp.saturating_sub(64) & !3;
    let mut p = low;
    while p < top {
        // SAFETY: `low..top` is RAM below the live stack (the linker reserves it for
        // the stack) and aligned to 4; nothing else uses it yet.
        unsafe { core::ptr::write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
}

/// The deepest the stack has been since [`paint`], in bytes from its top.
pub fn peak() -> u32 {
    let (low, high) = bounds();
    let mut p = low;
    // SAFETY: reads of aligned words of the stack region, below the live stack.
    while p < high && unsafe { core::ptr::read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    (high - p) as u32
}
