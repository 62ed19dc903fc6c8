//! The plain-SGD row update and the forward pass's dense layer (16-bit operands) of the
//! fixed-point trainer's fast paths, as portable loops and, on the Cortex-M0
//! (`thumbv6m`: Arm without the 32-bit atomics, the same gate as
//! [`math::mul_round8`](super::math::mul_round8)'s three-product path; not `thumbv7m`
//! or the hard-float cores), as Thumb-1 assembly with every pointer and counter in a
//! register (LLVM spills a dozen values per row there: the M0 has eight low registers).
//! [`sgd_rows`] and [`dense_rows`] pick the assembly on the M0 and the portable loops
//! everywhere else; the firmware's `fixed-kernels` self-test runs both on the M0 (QEMU
//! microbit) and compares them bit for bit.

use super::trainer::{Rows, RowsMut};

/// The constants of one layer's update: `sd` and `hd = 2^sd >> 1` round the error terms
/// to 16 bits, `lr16` the learning rate's 14-bit mantissa, `m1` the weights' rounding
/// shift less one, `mb` the biases' shift (see [`sgd_rows_portable`]).
#[derive(Clone, Copy, Debug)]
pub struct SgdRow {
    /// The error terms' shift.
    pub sd: u32,
    /// The learning rate's mantissa, in `[2^13, 2^14]`.
    pub lr16: i32,
    /// The weights' rounding shift less one (`m - 1`, `m` in `1..=27`).
    pub m1: u32,
    /// The biases' shift: right (rounded) for `mb >= 1`, left by `-mb` otherwise.
    pub mb: i32,
}

/// The portable update: for each row `i` (weights `w[i n..(i + 1) n]`, `n = q.len()`),
/// `d16 = (d_i + 2^sd / 2) >> sd`, `l16 = (lr16 d16 + 2^13) >> 14`, each weight less
/// `(((l16 q_j) >> m1) + 1) >> 1` and the bias less `l16` shifted by `mb`, clamped to
/// `+-VALUE_MAX`. The rows end with the shortest of `w`, `b`, `d`.
// Out of line: inlined, it slows the momentum path on the Cortex-M4F and adds its
// spills to the assembly's frame on the M0.
#[inline(never)]
pub fn sgd_rows_portable(w: &mut [i32], b: &mut [i32], d: &[i32], q: &[i32], c: SgdRow) {
    let hd = (1i32 << c.sd) >> 1;
    let rows = RowsMut(w, q.len().max(1)).zip(b.iter_mut()).zip(d);
    for ((row, bias), dv) in rows {
        let d16 = (dv + hd) >> c.sd;
        let l16 = (c.lr16 * d16 + (1 << 13)) >> 14;
        for (wv, qv) in row.iter_mut().zip(q.iter()) {
            *wv -= (((l16 * qv) >> c.m1) + 1) >> 1;
        }
        let ub = if c.mb >= 1 {
            (l16 + (1 << (c.mb - 1))) >> c.mb
        } else {
            l16 << -c.mb
        };
        *bias = super::trainer::clamp_value(*bias - ub);
    }
}

/// The update of [`sgd_rows_portable`]: the assembly on the M0, the portable loop
/// elsewhere.
#[inline(always)]
pub fn sgd_rows(w: &mut [i32], b: &mut [i32], d: &[i32], q: &[i32], c: SgdRow) {
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    sgd_rows_m0(w, b, d, q, c);
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    sgd_rows_portable(w, b, d, q, c);
}

/// The widest layer the assembly takes (so that `rows * n` cannot overflow, without a
/// checked 64-bit product: a library call on the M0).
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
const MAX_WIDTH: usize = super::MAX_WIDTH;

/// The constants the assembly loads per row, at fixed offsets.
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
#[repr(C)]
struct M0Consts {
    q: *const i32,     // 0: the row's operands
    q_end: *const i32, // 4 (held in r8)
    d_end: *const i32, // 8
    sd: u32,           // 12
    hd: i32,           // 16
    lr16: i32,         // 20
    m1: u32,           // 24
    rb: i32,           // 28: the bias's rounding term, 2^(mb - 1) or 0
    sr: u32,           // 32: its right shift, mb or 0
    sl: u32,           // 36: its left shift, -mb or 0
    vmax: i32,         // 40
}

/// [`sgd_rows_portable`] in Thumb-1 assembly, bit for bit (the same 32-bit operations
/// in the same order; the checks below leave the portable loop the cases it would
/// treat differently: no rows or an empty row).
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
#[inline(never)]
#[allow(unsafe_code)]
pub fn sgd_rows_m0(w: &mut [i32], b: &mut [i32], d: &[i32], q: &[i32], c: SgdRow) {
    let n = q.len();
    let rows = d.len().min(b.len());
    if n == 0
        || rows == 0
        || n > MAX_WIDTH
        || rows > MAX_WIDTH
        || rows * n > w.len()
        || c.sd > 31
        || c.m1 > 31
    {
        return sgd_rows_portable(w, b, d, q, c);
    }
    let (rb, sr, sl) = if c.mb >= 1 {
        (1i32 << ((c.mb - 1) & 31), (c.mb as u32) & 31, 0)
    } else {
        (0, 0, c.mb.unsigned_abs() & 31)
    };
    let k = M0Consts {
        q: q.as_ptr(),
        q_end: q.as_ptr().wrapping_add(n),
        d_end: d.as_ptr().wrapping_add(rows),
        sd: c.sd,
        hd: (1i32 << c.sd) >> 1,
        lr16: c.lr16,
        m1: c.m1,
        rb,
        sr,
        sl,
        vmax: super::VALUE_MAX,
    };
    // SAFETY: the loop reads `q[0..n]` (r1 from `k.q` to `k.q_end`) and `d[0..rows]`
    // (r11 from `d` to `k.d_end`), and reads and writes `w[0..rows n]` (r0, `rows n <=
    // w.len()`: checked above) and `b[0..rows]` (r12, `rows <= b.len()`), each through
    // its slice's pointer, in bounds, `w` and `b` borrowed mutably for the call; `rows`
    // and `n` are at least 1 (checked), so each loop runs its body before its test. `k`
    // lives on this frame for the whole block and is only read. Every register the
    // block writes is an operand or declared clobbered (r0-r5, r8, r10-r12, flags);
    // it neither touches the stack nor r6, r7 or r9.
    unsafe {
        core::arch::asm!(
            // The constants' pointer, the error terms' and the biases' pointers and the
            // operands' end to the high registers (Thumb-1 takes only low ones as operands).
            "mov r10, r1",
            "mov r11, r2",
            "mov r12, r3",
            "ldr r4, [r1, #4]",
            "mov r8, r4",
            "2:",
            // d16 = (d_i + hd) >> sd; l16 = (lr16 d16 + 2^13) >> 14 in r2.
            "mov r4, r10",
            "ldr r1, [r4, #0]",
            "ldr r3, [r4, #12]",
            "ldr r2, [r4, #16]",
            "mov r5, r11",
            "ldm r5!, {{r4}}",
            "mov r11, r5",
            "adds r4, r4, r2",
            "asrs r4, r3",
            "mov r5, r10",
            "ldr r2, [r5, #20]",
            "muls r2, r4, r2",
            "movs r4, #1",
            "lsls r4, r4, #13",
            "adds r2, r2, r4",
            "asrs r2, r2, #14",
            "ldr r3, [r5, #24]",
            // w_j -= (((l16 q_j) >> m1) + 1) >> 1
            "3:",
            "ldm r1!, {{r4}}",
            "muls r4, r2, r4",
            "asrs r4, r3",
            "adds r4, r4, #1",
            "asrs r4, r4, #1",
            "ldr r5, [r0]",
            "subs r5, r5, r4",
            "stm r0!, {{r5}}",
            "cmp r1, r8",
            "bne 3b",
            // bias -= ((l16 + rb) >> sr) << sl, clamped to +-vmax
            "mov r5, r10",
            "ldr r4, [r5, #28]",
            "adds r4, r2, r4",
            "ldr r3, [r5, #32]",
            "asrs r4, r3",
            "ldr r3, [r5, #36]",
            "lsls r4, r3",
            "ldr r3, [r5, #40]",
            "mov r1, r12",
            "ldr r5, [r1]",
            "subs r5, r5, r4",
            "cmp r5, r3",
            "ble 4f",
            "mov r5, r3",
            "4:",
            "rsbs r3, r3, #0",
            "cmp r5, r3",
            "bge 5f",
            "mov r5, r3",
            "5:",
            "stm r1!, {{r5}}",
            "mov r12, r1",
            "mov r4, r10",
            "ldr r4, [r4, #8]",
            "cmp r11, r4",
            "bne 2b",
            inout("r0") w.as_mut_ptr() => _,
            inout("r1") &raw const k => _,
            inout("r2") d.as_ptr() => _,
            inout("r3") b.as_mut_ptr() => _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            options(nostack),
        );
    }
}

/// The portable fast-path dense layer of the forward pass: for each row `i` (weights
/// `w[i n..(i + 1) n]`, `n = q.len()`), `S = sum_j (w_j >> sw) q_j` (wrapping, in an
/// `i32`), `out_i = clamp((S + c) >> m + b_i)` to `+-VALUE_MAX` (see
/// [`math::scale_dot_fast`](super::math::scale_dot_fast)). The rows end with the
/// shortest of `out`, `b` and `w`'s rows.
// Out of line on the M0 (only the assembly's fallback calls it there: inlined, its
// spills would grow the assembly's frame), inlined elsewhere.
#[cfg_attr(all(target_arch = "arm", not(target_has_atomic = "32")), inline(never))]
#[cfg_attr(not(all(target_arch = "arm", not(target_has_atomic = "32"))), inline)]
pub fn dense_rows_portable(out: &mut [i32], w: &[i32], b: &[i32], q: &[i32], (sw, c, m): (u32, i32, u32)) {
    for ((o, row), bias) in out.iter_mut().zip(Rows(w, q.len().max(1))).zip(b) {
        let z = super::math::scale_dot_fast(super::math::dot_q_short(row, q, sw), c, m) + bias;
        *o = super::trainer::clamp_value(z);
    }
}

/// The dense layer of [`dense_rows_portable`]: the assembly on the M0, the portable
/// loop elsewhere.
#[inline(always)]
pub fn dense_rows(out: &mut [i32], w: &[i32], b: &[i32], q: &[i32], k: (u32, i32, u32)) {
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    dense_rows_m0(out, w, b, q, k);
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    dense_rows_portable(out, w, b, q, k);
}

/// The constants the dense assembly loads per row, at fixed offsets.
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
#[repr(C)]
struct M0Dense {
    q: *const i32,       // 0: the operands
    out_end: *const i32, // 4
    sw: u32,             // 8
    c: i32,              // 12
    m: u32,              // 16
    vmax: i32,           // 20
    q_end: *const i32,   // 24 (held in r8)
}

/// [`dense_rows_portable`] in Thumb-1 assembly, bit for bit (the same 32-bit operations
/// in the same order; the portable loop takes the cases it would treat differently: no
/// rows, an empty row, shifts of 32 or more).
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
#[inline(never)]
#[allow(unsafe_code)]
pub fn dense_rows_m0(out: &mut [i32], w: &[i32], b: &[i32], q: &[i32], (sw, c, m): (u32, i32, u32)) {
    let n = q.len();
    let rows = out.len().min(b.len());
    if n == 0 || rows == 0 || n > MAX_WIDTH || rows > MAX_WIDTH || rows * n > w.len() || sw > 31 || m > 31 {
        return dense_rows_portable(out, w, b, q, (sw, c, m));
    }
    let k = M0Dense {
        q: q.as_ptr(),
        out_end: out.as_ptr().wrapping_add(rows),
        sw,
        c,
        m,
        vmax: super::VALUE_MAX,
        q_end: q.as_ptr().wrapping_add(n),
    };
    // SAFETY: the loop reads `q[0..n]` (r1 from `k.q` to `k.q_end`, per row), `w[0..rows
    // n]` (r0, `rows n <= w.len()`: checked above) and `b[0..rows]` (r11, `rows <=
    // b.len()`), and writes `out[0..rows]` (r12 up to `k.out_end`), each through its
    // slice's pointer and in bounds, `out` borrowed mutably for the call and disjoint
    // from the shared slices; `rows` and `n` are at least 1 (checked), so each loop runs
    // its body before its test. `k` lives on this frame for the whole block and is only
    // read. Every register the block writes is an operand or declared clobbered (r0-r5,
    // r8, r10-r12, flags); it neither touches the stack nor r6, r7 or r9.
    unsafe {
        core::arch::asm!(
            // The constants' pointer, the biases' and the outputs' pointers and the
            // operands' end to the high registers (Thumb-1 takes only low ones as operands).
            "mov r10, r1",
            "mov r11, r2",
            "mov r12, r3",
            "ldr r4, [r1, #24]",
            "mov r8, r4",
            "2:",
            "mov r4, r10",
            "ldr r1, [r4, #0]",
            "ldr r2, [r4, #8]",
            "movs r3, #0",
            // S += (w_j >> sw) q_j
            "3:",
            "ldm r0!, {{r4}}",
            "asrs r4, r2",
            "ldm r1!, {{r5}}",
            "muls r4, r5, r4",
            "adds r3, r3, r4",
            "cmp r1, r8",
            "bne 3b",
            // z = ((S + c) >> m) + b_i, clamped to +-vmax
            "mov r5, r10",
            "ldr r4, [r5, #12]",
            "adds r3, r3, r4",
            "ldr r4, [r5, #16]",
            "asrs r3, r4",
            "mov r1, r11",
            "ldm r1!, {{r4}}",
            "mov r11, r1",
            "adds r3, r3, r4",
            "ldr r4, [r5, #20]",
            "cmp r3, r4",
            "ble 4f",
            "mov r3, r4",
            "4:",
            "rsbs r4, r4, #0",
            "cmp r3, r4",
            "bge 5f",
            "mov r3, r4",
            "5:",
            "mov r1, r12",
            "stm r1!, {{r3}}",
            "mov r12, r1",
            "ldr r4, [r5, #4]",
            "cmp r1, r4",
            "bne 2b",
            inout("r0") w.as_ptr() => _,
            inout("r1") &raw const k => _,
            inout("r2") b.as_ptr() => _,
            inout("r3") out.as_mut_ptr() => _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            options(nostack),
        );
    }
}
