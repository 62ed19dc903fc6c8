//! Self-test of the fixed-point trainer's Cortex-M0 assembly, for `firmware/run-tests`
//! on QEMU microbit (`thumbv6m-none-eabi`): `microtrain::fixed::kernels::sgd_rows` (the
//! plain-SGD row update, Thumb-1 assembly on the M0) against `sgd_rows_portable` (the
//! Rust loop it stands for, which every other target runs), and `dense_rows` (the
//! forward pass's dense layer) against `dense_rows_portable`, bit for bit.
//!
//! Every shape of 1 to 9 rows of 1 to 17 operands, each with several random sets of
//! constants in the ranges the trainer's fast path admits (error-term shifts 0 to 17,
//! the learning rate's mantissa in `[2^13, 2^14]`, weight shifts `m - 1` of 0 to 26,
//! bias shifts `mb` of -13 to 25) and data that reach the biases' clamp; plus
//! mismatched lengths (`w`, `b` or `d` short, the portable fallback). `GUARD` words
//! after the weights and the biases must stay unchanged. The dense layer: the same
//! shapes, weight shifts `sw` of 0 to 12, output shifts `m` of 0 to 16, random
//! constants `c`, biases that reach the clamp, and `out`, `b` or `w` short.
//!
//! Exit status 0 when every word agrees; otherwise the first mismatch is logged and the
//! status is 1.
#![no_std]
#![no_main]

#[path = "../halt.rs"]
mod halt;

use cortex_m_rt::entry;
use defmt_semihosting as _;
use microtrain::fixed::kernels::{dense_rows, dense_rows_portable, sgd_rows, sgd_rows_portable, SgdRow};
use microtrain::fixed::VALUE_MAX;
use microtrain::Rng;

const ROWS: usize = 9;
const COLS: usize = 17;
const GUARD: usize = 4;
const SETS: u32 = 6;
const SENTINEL: i32 = 0x5eed_beef;

/// A random `i32` in `[-bound, bound]`.
fn sym(rng: &mut Rng, bound: i32) -> i32 {
    rng.below(2 * bound as u32 + 1) as i32 - bound
}

#[entry]
fn main() -> ! {
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    defmt::info!("fixed kernels: M0 assembly in use");
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    defmt::info!("fixed kernels: portable loops only (nothing to compare)");
    let mut rng = Rng::new(17);
    let (mut calls, mut words) = (0u32, 0u32);
    let mut ok = true;
    'all: for rows in 1..=ROWS {
        for n in 1..=COLS {
            for set in 0..SETS {
                // Lengths: exact, then (set 5) one of w, b, d short.
                let (wl, bl, dl) = match (set, rng.below(3)) {
                    (5, 0) => (rows * n - 1, rows, rows),
                    (5, 1) => (rows * n, rows - 1, rows),
                    (5, _) => (rows * n, rows, rows - 1),
                    _ => (rows * n, rows, rows),
                };
                let sd = rng.below(18);
                let c = SgdRow {
                    sd,
                    lr16: (1 << 13) + rng.below((1 << 13) + 1) as i32,
                    m1: rng.below(27),
                    mb: rng.below(39) as i32 - 13,
                };
                let mut w = [SENTINEL; ROWS * COLS + GUARD];
                let mut b = [SENTINEL; ROWS + GUARD];
                let mut d = [0i32; ROWS];
                let mut q = [0i32; COLS];
                for v in &mut w[..wl] {
                    *v = sym(&mut rng, 1 << 25);
                }
                for v in &mut b[..bl] {
                    *v = if rng.below(4) == 0 {
                        sym(&mut rng, VALUE_MAX)
                    } else {
                        sym(&mut rng, 1 << 20)
                    };
                }
                for v in &mut d[..dl] {
                    *v = sym(&mut rng, (1 << (13 + sd)) - (1 << sd));
                }
                for v in &mut q[..n] {
                    *v = sym(&mut rng, 1 << 15);
                }
                // The dense layer on the same shape: w >> sw in [-2^13, 2^13).
                let sw = rng.below(13);
                let m = rng.below(17);
                let cst = sym(&mut rng, 1 << 20);
                let mut wd = [0i32; ROWS * COLS];
                for v in &mut wd[..wl] {
                    *v = sym(&mut rng, (1 << (13 + sw)) - 1);
                }
                let mut o1 = [SENTINEL; ROWS + GUARD];
                let mut o2 = o1;
                let ol = if set == 5 { rows - 1 } else { rows };
                dense_rows(&mut o1[..ol], &wd[..wl], &b[..bl], &q[..n], (sw, cst, m));
                dense_rows_portable(&mut o2[..ol], &wd[..wl], &b[..bl], &q[..n], (sw, cst, m));
                calls += 1;
                words += o1.len() as u32;
                if o1 != o2 {
                    defmt::error!(
                        "dense mismatch: rows {=usize} n {=usize} lengths {=usize} {=usize} {=usize} sw {=u32} c {=i32} m {=u32}",
                        rows, n, ol, bl, wl, sw, cst, m
                    );
                    ok = false;
                    break 'all;
                }
                let (mut w2, mut b2) = (w, b);
                sgd_rows(&mut w[..wl], &mut b[..bl], &d[..dl], &q[..n], c);
                sgd_rows_portable(&mut w2[..wl], &mut b2[..bl], &d[..dl], &q[..n], c);
                calls += 1;
                words += (w.len() + b.len()) as u32;
                if w != w2 || b != b2 {
                    defmt::error!(
                        "mismatch: rows {=usize} n {=usize} lengths {=usize} {=usize} {=usize} sd {=u32} lr16 {=i32} m1 {=u32} mb {=i32}",
                        rows, n, wl, bl, dl, c.sd, c.lr16, c.m1, c.mb
                    );
                    ok = false;
                    break 'all;
                }
            }
        }
    }
    defmt::info!("checked {=u32} calls, {=u32} words compared", calls, words);
    if ok {
        defmt::info!("all bit-identical");
    }
    halt::exit(ok)
}
