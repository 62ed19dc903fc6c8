//! The counted regions of the benchmark firmware (`bench`, `bench-fixed`), shared by
//! both: per workload a warm-up step, then a region with zero steps and a region with
//! `steps` steps, each between calls to the marker functions [`bench_start`] and
//! [`bench_stop`]. The QEMU plugin (`bench/insn_count.c`) counts the guest instructions
//! of each region; their difference over the steps is the cost of one step. The peak
//! stack of the steps is measured by painting below the caller's stack pointer.

/// Marks the start of a counted region. Never inlined, and different from
/// `bench_stop` so that the linker cannot fold the two.
#[inline(never)]
#[no_mangle]
pub extern "C" fn bench_start() {
    cortex_m::asm::nop();
}

/// Marks the end of a counted region.
#[inline(never)]
#[no_mangle]
pub extern "C" fn bench_stop() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

/// Counts `steps` calls of `step` (after a warm-up call; `false`: the step was
/// rejected) and logs the workload's line, which `bench/run` reads: its name, steps,
/// batch, training RAM `ram` (bytes), the steps' peak stack and whether every step was
/// accepted.
pub fn measure(name: &str, steps: u32, batch: u32, ram: usize, mut step: impl FnMut() -> bool) -> bool {
    if !step() {
        defmt::error!("{=str}: warm-up step rejected", name);
        return false;
    }
    bench_start();
    bench_stop();
    let sp = cortex_m::register::msp::read();
    crate::stack::paint();
    let mut ok = true;
    bench_start();
    for _ in 0..steps {
        ok &= step();
    }
    bench_stop();
    // The deepest the steps went below this function's stack pointer.
    let step_stack = crate::stack::peak().saturating_sub(crate::stack::top().saturating_sub(sp));
    defmt::println!(
        "workload {=str} steps {=u32} batch {=u32} ram {=u32} stack {=u32} ok {=bool}",
        name,
        steps,
        batch,
        ram as u32,
        step_stack,
        ok
    );
    ok
}
