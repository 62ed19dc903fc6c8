//! The FPU versions of the kernels, for Cortex-M cores with a single-precision FPU
//! (`thumbv7em-none-eabihf`, `thumbv8m.main-none-eabihf`): compiled only there, where
//! `kernels/mod.rs` makes this module the active implementation. Kernels without an
//! FPU version are the portable loops, re-exported.
//!
//! LLVM loads and stores each float with its own `VLDR`/`VSTR`; these loops move four
//! at a time with one `VLDM`/`VSTM`: the forward pass costs 8 instructions per 4
//! multiply-adds instead of about 17. Rows of 4 or 8 floats (the small MLPs' layers)
//! take register paths: `affine` holds `x` in s8-s15 for the whole call (12
//! instructions per row for 4 columns, 16 with ReLU; 17 and 21 for 8), `transposed`
//! and `transposed_relu` hold `s` in s0-s7 and store it once (8 and 13 instructions
//! per row). Each kernel's arithmetic is its portable counterpart's in
//! `kernels/portable.rs`, in the same order (`VMLA` rounds the product before adding,
//! as `VMUL` then `VADD` do), so the bits are the same as on the host. The firmware
//! tests check it: the QEMU Cortex-M4F build ends with the host's checksum, and the
//! `kernels` self-test calls each kernel here and its `kernels::portable` loop on the
//! same data and compares the results bit for bit.

pub(crate) use super::portable::{
    bias_dot, dot, find_non_finite, first_non_finite, first_out_of_range, l2_norm, max_abs,
    outer_acc_and_back, scale,
};

/// `asm!` with FPU registers declared clobbered: `s0_s15;` or `s0_s23;` first. Stable
/// Rust rejects FPU registers as operands on a single-precision FPU but accepts them
/// as explicit clobbers (`out("sN") _`), so the compiler saves what it must around
/// the block; the blocks touch no stack.
macro_rules! fpu_asm {
    (s0_s15; $tmpl:expr, $($ops:tt)*) => {
        core::arch::asm!(
            $tmpl, $($ops)*
            out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _,
            out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _, options(nostack)
        )
    };
    (s0_s23; $tmpl:expr, $($ops:tt)*) => {
        fpu_asm!(s0_s15; $tmpl, $($ops)*
            out("s16") _, out("s17") _, out("s18") _, out("s19") _, out("s20") _,
            out("s21") _, out("s22") _, out("s23") _,)
    };
}
pub(crate) use fpu_asm;

/// Four +0.0s: one `VLDM` zeroes four accumulators, one `VLDR` a register.
static ZEROS: [f32; 4] = [0.0; 4];

/// The row loop of [`affine`] for rows of 4 or 8 floats, with `x` in s8-s11 (and
/// s12-s15) for the whole call. Arguments: the register list of `x`; the second chunk's
/// template lines (or none); the ReLU lines (or none); then `w`, `b`, `x`, `out`,
/// `rows`. Per row: lane 0 from `b[i] + w_0 x_0` and lanes 1-3 from the first
/// products, one `VLDM` of four weights per chunk and its `VMLA`s, `(s0 + s1) + (s2 +
/// s3)`, the optional ReLU (+0 from [`ZEROS`]), the store: the portable
/// `bias_dot(b[i], W[i, :], x)` in its order.
macro_rules! affine_rows {
    ($xregs:literal, [$($second:literal),*], [$($relu:literal),*], $w:expr, $b:expr, $x:expr, $out:expr, $rows:expr) => {
        fpu_asm!(
            s0_s15;
            concat!(
                "vldmia {x}, {{", $xregs, "}}\n",
                // The +0s for the ReLU lines are at {z}.
                "@ {z}\n",
                "2:\n",
                "vldmia {b}!, {{s0}}\n",
                "vldmia {w}!, {{s4-s7}}\n",
                "vmla.f32 s0, s4, s8\n",
                "vmul.f32 s1, s5, s9\n",
                "vmul.f32 s2, s6, s10\n",
                "vmul.f32 s3, s7, s11\n",
                $($second, "\n",)*
                "vadd.f32 s0, s0, s1\n",
                "vadd.f32 s2, s2, s3\n",
                "vadd.f32 s0, s0, s2\n",
                $($relu, "\n",)*
                "vstmia {out}!, {{s0}}\n",
                "subs {rows}, {rows}, #1\n",
                "bne 2b",
            ),
            w = inout(reg) $w => _,
            b = inout(reg) $b => _,
            out = inout(reg) $out => _,
            rows = inout(reg) $rows => _,
            x = in(reg) $x,
            z = in(reg) ZEROS.as_ptr(),
        )
    };
}

/// `out[i] = bias_dot(b[i], W[i, :], x)` ([`super::portable::affine`], same bits).
#[inline]
pub(crate) fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    affine_checked(w, b, x, out, false);
}

/// [`affine`], then ReLU (`math::max(out[i], 0)`) on the rows it wrote
/// ([`super::portable::affine_relu`], same bits), in the same block.
#[inline]
pub(crate) fn affine_relu(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    affine_checked(w, b, x, out, true);
}

/// [`affine`], then ReLU when `relu`; over as many rows as every slice holds, as the
/// portable loop.
#[allow(unsafe_code)]
fn affine_checked(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32], relu: bool) {
    let cols = x.len();
    if cols == 0 {
        // As the portable loop: one-float rows, an empty dot product (+0), the bias.
        for (o, bias) in out.iter_mut().zip(b).take(w.len()) {
            *o = *bias;
            if relu {
                *o = crate::math::max(*o, 0.0);
            }
        }
        return;
    }
    // The rows the portable loop's `zip` would run: no more than each slice holds.
    let rows = out.len().min(b.len()).min(w.len() / cols);
    let (Some(out), Some(b), Some(w)) = (out.get_mut(..rows), b.get(..rows), w.get(..rows * cols)) else {
        return;
    };
    if rows == 0 {
        return;
    }
    let (wp, bp, xp, op) = (w.as_ptr(), b.as_ptr(), x.as_ptr(), out.as_mut_ptr());
    // SAFETY: `rows >= 1` rows of `cols >= 1` floats of `w`, `rows` floats of `b` and
    // `out` and `cols` of `x` (lengths checked above); `out` is a `&mut` slice distinct
    // from the inputs.
    unsafe { affine_raw(wp, bp, xp, op, rows, cols, relu) }
}

/// [`affine_relu`] when `relu`, else [`affine`], for lengths that fit one shape,
/// unchecked: the kernels' unchecked entry point (contract in the `kernels` module
/// docs).
///
/// # Safety
/// `x` and `out` are not empty, `b.len() == out.len()` and
/// `w.len() == out.len() * x.len()`.
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) unsafe fn affine_unchecked(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32], relu: bool) {
    let (rows, cols) = (out.len(), x.len());
    let (wp, bp, xp, op) = (w.as_ptr(), b.as_ptr(), x.as_ptr(), out.as_mut_ptr());
    // SAFETY: by the caller's contract, `rows >= 1` rows of `cols >= 1` floats of `w`,
    // `rows` of `b` and `cols` of `x`; `out` holds `rows` and, a `&mut` slice, overlaps
    // no input.
    unsafe { affine_raw(wp, bp, xp, op, rows, cols, relu) }
}

/// The assembly of [`affine`]: `rows` rows of `cols` weights from `wp`, `rows` biases
/// from `bp`, the input `xp` (`cols` floats), `rows` outputs to `op`; ReLU when `relu`.
/// The blocks' own safety comments assume what this function's caller guarantees.
///
/// # Safety
/// `rows >= 1` and `cols >= 1`; the pointers hold that many floats; `op` is writable
/// and overlaps none of the inputs.
#[allow(unsafe_code)]
#[inline(always)]
unsafe fn affine_raw(
    wp: *const f32,
    bp: *const f32,
    xp: *const f32,
    op: *mut f32,
    rows: usize,
    cols: usize,
    relu: bool,
) {
    if cols == 4 || cols == 8 {
        // SAFETY: the block reads the `cols` floats of `x` once (one `VLDM` of 4 or 8),
        // then per row `cols` floats of `w` (consecutive rows, `rows * cols` in all, the
        // length of `w`), one float of `b` and the four floats of `ZEROS`, and writes
        // one float of `out`: `rows` rows, each within its buffer (this function's
        // contract; `rows >= 1`, as the loop runs its body before it counts). `out`
        // overlaps no input. The FPU registers it uses (s0-s15) are declared
        // clobbered, every core register it changes is an operand, and it touches no
        // stack. The hard-float ABI guarantees an enabled FPU.
        unsafe {
            // ReLU as `math::max(v, 0)`: only a value below zero becomes +0 (`mi` is
            // false for NaN and for -0, which both stay).
            match (cols == 8, relu) {
                (false, false) => affine_rows!("s8-s11", [], [], wp, bp, xp, op, rows),
                (false, true) => affine_rows!(
                    "s8-s11",
                    [],
                    [
                        "vcmp.f32 s0, #0",
                        "vmrs APSR_nzcv, fpscr",
                        "it mi",
                        "vldrmi s0, [{z}]"
                    ],
                    wp,
                    bp,
                    xp,
                    op,
                    rows
                ),
                (true, false) => affine_rows!(
                    "s8-s15",
                    [
                        "vldmia {w}!, {{s4-s7}}",
                        "vmla.f32 s0, s4, s12",
                        "vmla.f32 s1, s5, s13",
                        "vmla.f32 s2, s6, s14",
                        "vmla.f32 s3, s7, s15"
                    ],
                    [],
                    wp,
                    bp,
                    xp,
                    op,
                    rows
                ),
                (true, true) => affine_rows!(
                    "s8-s15",
                    [
                        "vldmia {w}!, {{s4-s7}}",
                        "vmla.f32 s0, s4, s12",
                        "vmla.f32 s1, s5, s13",
                        "vmla.f32 s2, s6, s14",
                        "vmla.f32 s3, s7, s15"
                    ],
                    [
                        "vcmp.f32 s0, #0",
                        "vmrs APSR_nzcv, fpscr",
                        "it mi",
                        "vldrmi s0, [{z}]"
                    ],
                    wp,
                    bp,
                    xp,
                    op,
                    rows
                ),
            }
        }
        return;
    }
    if cols % 8 == 0 && cols >= 16 {
        // SAFETY: as for the general block below: per row, `cols` floats of `w`
        // (consecutive rows, `rows * cols` in all), `cols` floats of `x` from its start
        // and one float of `b` are read, one float of `out` is written; `rows >= 1` and
        // `cols / 8 >= 2`, so both loops run their body before they count. `out`
        // overlaps no input. The FPU registers it uses (s0-s15) are declared clobbered,
        // every core register it changes is an operand, and it touches no stack
        // (besides the reads of `ZEROS`). The hard-float ABI guarantees an enabled FPU.
        unsafe { affine_rows8(wp, bp, xp, op, rows, cols, relu) };
        return;
    }
    let (chunks, rem) = (cols / 4, cols % 4);
    // SAFETY: per row, the block reads `cols` floats of `w` (consecutive rows, `rows *
    // cols` in all, the length of `w`), `cols` floats of `x` from its start, one float
    // of `b`, and writes one float of `out`: `rows` rows, each within its buffer (this
    // function's contract; `rows >= 1`, and the chunk and remainder loops are skipped
    // when their count is zero). `out` overlaps no input. The FPU registers it uses
    // (s0-s12) are declared clobbered, every core register it changes is an operand, and
    // it touches no stack. The hard-float ABI guarantees an enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            "movs {j}, #0",
            "vmov s12, {j}",
            "2:",
            // Lane 0 starts from the bias, lanes 1-3 from the first chunk's products.
            "vldmia {b}!, {{s0}}",
            "mov {xp}, {x}",
            "movs {j}, {chunks}",
            "beq 4f",
            "vldmia {w}!, {{s4-s7}}",
            "vldmia {xp}!, {{s8-s11}}",
            "vmla.f32 s0, s4, s8",
            "vmul.f32 s1, s5, s9",
            "vmul.f32 s2, s6, s10",
            "vmul.f32 s3, s7, s11",
            "subs {j}, {j}, #1",
            "beq 35f",
            "3:",
            "vldmia {w}!, {{s4-s7}}",
            "vldmia {xp}!, {{s8-s11}}",
            "vmla.f32 s0, s4, s8",
            "vmla.f32 s1, s5, s9",
            "vmla.f32 s2, s6, s10",
            "vmla.f32 s3, s7, s11",
            "subs {j}, {j}, #1",
            "bne 3b",
            "35:",
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s2, s2, s3",
            "vadd.f32 s0, s0, s2",
            "4:",
            "movs {j}, {rem}",
            "beq 6f",
            "5:",
            "vldmia {w}!, {{s4}}",
            "vldmia {xp}!, {{s8}}",
            "vmla.f32 s0, s4, s8",
            "subs {j}, {j}, #1",
            "bne 5b",
            "6:",
            "cmp {relu}, #0",
            "beq 7f",
            // ReLU as `math::max(v, 0)`: only a value below zero becomes +0 (`mi` is
            // false for NaN and for -0, which both stay).
            "vcmp.f32 s0, #0",
            "vmrs APSR_nzcv, fpscr",
            "it mi",
            "vmovmi.f32 s0, s12",
            "7:",
            "vstmia {out}!, {{s0}}",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            w = inout(reg) wp => _,
            b = inout(reg) bp => _,
            out = inout(reg) op => _,
            rows = inout(reg) rows => _,
            x = in(reg) xp,
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            relu = in(reg) u32::from(relu),
            xp = out(reg) _,
            j = out(reg) _,
        );
    }
}

/// [`affine_raw`] for rows of a multiple of 8 floats, at least 16 (a 64-input layer):
/// per 8 multiply-adds, one `VLDM` of eight weights and two of four inputs, 13
/// instructions instead of 16, in s0-s15 only (no callee-saved FPU register to push).
/// The lanes are the portable loop's: lane `k` (s0-s3) adds the products of columns
/// `k, k + 4, k + 8, ...` in that order, lane 0 starting from the bias and lanes 1-3
/// from their first product, then `(s0 + s1) + (s2 + s3)`.
///
/// # Safety
/// As [`affine_raw`]'s, with `cols % 8 == 0` and `cols >= 16`.
// Not inlined: the small models' paths (rows of 4 and 8, iris-sgd-b1's 1,200-instruction
// limit) stay as they were; the call costs 24 bytes of stack.
#[allow(unsafe_code)]
#[inline(never)]
unsafe fn affine_rows8(
    wp: *const f32,
    bp: *const f32,
    xp: *const f32,
    op: *mut f32,
    rows: usize,
    cols: usize,
    relu: bool,
) {
    // SAFETY: the caller's contract (see `affine_raw`).
    unsafe {
        fpu_asm!(
            s0_s15;
            "2:",
            "vldmia {b}!, {{s0}}",
            "mov {xp}, {x}",
            "vldmia {w}!, {{s4-s11}}",
            "vldmia {xp}!, {{s12-s15}}",
            "vmla.f32 s0, s4, s12",
            "vmul.f32 s1, s5, s13",
            "vmul.f32 s2, s6, s14",
            "vmul.f32 s3, s7, s15",
            "vldmia {xp}!, {{s12-s15}}",
            "vmla.f32 s0, s8, s12",
            "vmla.f32 s1, s9, s13",
            "vmla.f32 s2, s10, s14",
            "vmla.f32 s3, s11, s15",
            "subs {j}, {chunks}, #1",
            "3:",
            "vldmia {w}!, {{s4-s11}}",
            "vldmia {xp}!, {{s12-s15}}",
            "vmla.f32 s0, s4, s12",
            "vmla.f32 s1, s5, s13",
            "vmla.f32 s2, s6, s14",
            "vmla.f32 s3, s7, s15",
            "vldmia {xp}!, {{s12-s15}}",
            "vmla.f32 s0, s8, s12",
            "vmla.f32 s1, s9, s13",
            "vmla.f32 s2, s10, s14",
            "vmla.f32 s3, s11, s15",
            "subs {j}, {j}, #1",
            "bne 3b",
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s2, s2, s3",
            "vadd.f32 s0, s0, s2",
            "cmp {relu}, #0",
            "beq 7f",
            // ReLU as `math::max(v, 0)`: only a value below zero becomes +0 from
            // `ZEROS` (`mi` is false for NaN and for -0, which both stay).
            "vcmp.f32 s0, #0",
            "vmrs APSR_nzcv, fpscr",
            "it mi",
            "vldrmi s0, [{z}]",
            "7:",
            "vstmia {out}!, {{s0}}",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            w = inout(reg) wp => _,
            b = inout(reg) bp => _,
            out = inout(reg) op => _,
            rows = inout(reg) rows => _,
            x = in(reg) xp,
            chunks = in(reg) cols / 8,
            relu = in(reg) u32::from(relu),
            z = in(reg) ZEROS.as_ptr(),
            xp = out(reg) _,
            j = out(reg) _,
        );
    }
}

/// `gw[i, :] += d[i] * x` and `gb[i] += d[i]` for every row `i`
/// ([`super::portable::outer_acc`], same bits: `VMLA` rounds the product before
/// adding), over as many rows as every slice holds, as the portable loop.
#[allow(unsafe_code)]
pub(crate) fn outer_acc(gw: &mut [f32], gb: &mut [f32], d: &[f32], x: &[f32]) {
    let cols = x.len().max(1);
    // The rows the portable loop's `zip` would run; the bias gradient first.
    let rows = gb.len().min(d.len()).min(gw.len() / cols);
    gb.iter_mut().zip(d).take(rows).for_each(|(g, di)| *g += di);
    let (Some(gw), Some(d)) = (gw.get_mut(..rows * cols), d.get(..rows)) else {
        return;
    };
    if rows == 0 || x.is_empty() {
        return;
    }
    let (chunks, rem) = (cols / 4, cols % 4);
    // SAFETY: per row, the block reads one float of `d` and `cols` floats of `x` from
    // its start, and reads and writes `cols` floats of `gw` (consecutive rows, `rows *
    // cols` in all, the length of `gw`, checked above; `rows >= 1`, and both inner
    // loops are skipped when their count is zero). `gw` is a `&mut` slice distinct
    // from the inputs. The FPU registers used (s0-s11) are declared clobbered, every
    // core register changed is an operand, and no stack is touched; the hard-float ABI
    // guarantees an enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            "2:",
            "vldmia {d}!, {{s0}}",
            "mov {xp}, {x}",
            "movs {j}, {chunks}",
            "beq 4f",
            "3:",
            "vldmia {g}, {{s4-s7}}",
            "vldmia {xp}!, {{s8-s11}}",
            "vmla.f32 s4, s0, s8",
            "vmla.f32 s5, s0, s9",
            "vmla.f32 s6, s0, s10",
            "vmla.f32 s7, s0, s11",
            "vstmia {g}!, {{s4-s7}}",
            "subs {j}, {j}, #1",
            "bne 3b",
            "4:",
            "movs {j}, {rem}",
            "beq 6f",
            "5:",
            "vldr s4, [{g}]",
            "vldmia {xp}!, {{s8}}",
            "vmla.f32 s4, s0, s8",
            "vstmia {g}!, {{s4}}",
            "subs {j}, {j}, #1",
            "bne 5b",
            "6:",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            g = inout(reg) gw.as_mut_ptr() => _,
            d = inout(reg) d.as_ptr() => _,
            rows = inout(reg) rows => _,
            x = in(reg) x.as_ptr(),
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            xp = out(reg) _,
            j = out(reg) _,
        );
    }
}

/// `y[i] += a * x[i]` over the common length ([`super::portable::axpy`], same bits:
/// `VMLA` rounds the product before adding): four floats per `VLDM`/`VSTM`, then one
/// at a time. A convolution's taps run it once per (output channel, input channel,
/// tap), over the positions the tap reaches.
#[allow(unsafe_code)]
pub(crate) fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    let (chunks, rem) = (n / 4, n % 4);
    // SAFETY: the block reads `n` floats of `x` and reads and writes `n` floats of `y`
    // (`chunks` groups of four, then `rem` single ones; each loop is skipped when its
    // count is zero), `n` being the shorter length; `y` is a `&mut` slice distinct
    // from `x`. The FPU registers used (s0-s11) are declared clobbered, every core
    // register changed is an operand, and no stack is touched; the hard-float ABI
    // guarantees an enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            concat!(
                "vmov s0, {a}\n",
                "movs {j}, {chunks}\n",
                "beq 2f\n",
                "1:\n",
                "vldmia {y}, {{s4-s7}}\n",
                "vldmia {x}!, {{s8-s11}}\n",
                "vmla.f32 s4, s0, s8\n",
                "vmla.f32 s5, s0, s9\n",
                "vmla.f32 s6, s0, s10\n",
                "vmla.f32 s7, s0, s11\n",
                "vstmia {y}!, {{s4-s7}}\n",
                "subs {j}, {j}, #1\n",
                "bne 1b\n",
                "2:\n",
                "movs {j}, {rem}\n",
                "beq 4f\n",
                "3:\n",
                "vldr s4, [{y}]\n",
                "vldmia {x}!, {{s8}}\n",
                "vmla.f32 s4, s0, s8\n",
                "vstmia {y}!, {{s4}}\n",
                "subs {j}, {j}, #1\n",
                "bne 3b\n",
                "4:",
            ),
            y = inout(reg) y.as_mut_ptr() => _,
            x = inout(reg) x.as_ptr() => _,
            a = in(reg) a.to_bits(),
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            j = out(reg) _,
        );
    }
}

/// `s = W^T d` for a row-major `W` of `s.len()` columns, summed over the rows in order
/// from zero ([`super::portable::transposed`], same bits), over as many rows as `w`
/// and `d` hold, as the portable loop.
#[inline]
pub(crate) fn transposed(w: &[f32], d: &[f32], s: &mut [f32]) {
    transposed_rows(w, d, s, None);
}

/// [`transposed`], then `s[j] *= 0.0` where `!(a[j] > 0)`, over `zip(s, a)`
/// ([`super::portable::transposed_relu`], same bits), in one assembly block.
#[inline]
pub(crate) fn transposed_relu(w: &[f32], d: &[f32], s: &mut [f32], a: &[f32]) {
    transposed_rows(w, d, s, Some(a));
}

/// The ReLU mask of [`transposed_rows`]'s register paths, for `s0-s3` (and `s4-s7`) with `a` in
/// `s8-s11` four at a time and +0 in `s12`: `s_j *= 0.0` unless `a_j > 0` (`le` is
/// true for `a_j <= 0` and for a NaN `a_j`, unordered). The multiply keeps the
/// portable `*d *= 0.0`: a NaN or infinite `s_j` becomes NaN, a negative one -0.
macro_rules! mask4 {
    ($a:literal, $s0:literal, $s1:literal, $s2:literal, $s3:literal) => {
        concat!(
            "vldmia {a}",
            $a,
            ", {{s8-s11}}\n",
            "vcmp.f32 s8, #0\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it le\n",
            "vmulle.f32 ",
            $s0,
            ", ",
            $s0,
            ", s12\n",
            "vcmp.f32 s9, #0\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it le\n",
            "vmulle.f32 ",
            $s1,
            ", ",
            $s1,
            ", s12\n",
            "vcmp.f32 s10, #0\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it le\n",
            "vmulle.f32 ",
            $s2,
            ", ",
            $s2,
            ", s12\n",
            "vcmp.f32 s11, #0\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it le\n",
            "vmulle.f32 ",
            $s3,
            ", ",
            $s3,
            ", s12\n",
        )
    };
}

/// The row loop of [`transposed_rows`] for rows of 4 or 8 floats, with `s` in s0-s3 (and s4-s7)
/// for the whole call. Arguments: the lines that zero s4-s7 (or none), the second
/// chunk's lines (or none), the mask (or none), the register list stored to `s`, then
/// the operands. Per row: `d[i]` to s8, four weights per `VLDM` to s12-s15, `s_j +=
/// w_ij * d_i` (`VMLA`, the portable product order).
macro_rules! transposed_rows {
    ([$($zero8:literal),*], [$($second:literal),*], [$($mask:expr),*], $sregs:literal, $($ops:tt)*) => {
        fpu_asm!(
            s0_s15;
            concat!(
                "vldmia {z}, {{s0-s3}}\n",
                $($zero8, "\n",)*
                "2:\n",
                "vldmia {d}!, {{s8}}\n",
                "vldmia {w}!, {{s12-s15}}\n",
                "vmla.f32 s0, s12, s8\n",
                "vmla.f32 s1, s13, s8\n",
                "vmla.f32 s2, s14, s8\n",
                "vmla.f32 s3, s15, s8\n",
                $($second, "\n",)*
                "subs {rows}, {rows}, #1\n",
                "bne 2b\n",
                $($mask,)*
                "vstmia {s}, {{", $sregs, "}}",
            ),
            $($ops)*
        )
    };
}

/// [`transposed`], and with `Some(a)` the ReLU mask over `zip(s, a)` as the values are
/// finished ([`transposed_relu`]).
#[allow(unsafe_code)]
#[inline(always)]
fn transposed_rows(w: &[f32], d: &[f32], s: &mut [f32], a: Option<&[f32]>) {
    let cols = s.len();
    // The rows the portable loop's `zip` would run.
    let rows = d.len().min(w.len() / cols.max(1));
    let (Some(w), Some(d)) = (w.get(..rows * cols), d.get(..rows)) else {
        return;
    };
    if rows == 0 || cols == 0 {
        // The mask leaves +0 as it is (`0 * 0 = +0`).
        s.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    // The floats the mask covers: `zip(s, a)`.
    let masked = a.map_or(0, |a| a.len().min(cols));
    let ap = a.unwrap_or(&[]).as_ptr();
    let (wp, dp, sp) = (w.as_ptr(), d.as_ptr(), s.as_mut_ptr());
    // SAFETY: `rows >= 1` rows of `cols >= 1` floats of `w`, `rows` floats of `d`,
    // `cols` of `s` (lengths checked above), with the mask `masked <= cols` floats of `a`
    // (`a.len() >= masked`); `s` is a `&mut` slice distinct from the inputs.
    unsafe { transposed_rows_raw::<true>(wp, dp, sp, ap, a.is_some(), masked, rows, cols) }
}

/// [`transposed_relu`] when `relu`, else [`transposed`], for lengths that fit one
/// shape, unchecked: the kernels' unchecked entry point (contract in the `kernels`
/// module docs). Without `UNMASKED`, only the masked calls take the register paths
/// for rows of 4 or 8 floats (see [`transposed_rows_raw`]).
///
/// # Safety
/// `d` and `s` are not empty, `w.len() == d.len() * s.len()`, and with `relu`
/// `a.len() == s.len()` (`a` is not read without).
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) unsafe fn transposed_unchecked<const UNMASKED: bool>(
    w: &[f32],
    d: &[f32],
    s: &mut [f32],
    a: &[f32],
    relu: bool,
) {
    let (rows, cols) = (d.len(), s.len());
    // The mask covers the whole row with ReLU and nothing otherwise.
    let masked = if relu { cols } else { 0 };
    let (wp, dp, sp, ap) = (w.as_ptr(), d.as_ptr(), s.as_mut_ptr(), a.as_ptr());
    // SAFETY: by the caller's contract, `rows >= 1` rows of `cols >= 1` floats of `w`,
    // `rows` of `d`, and with the mask `masked == cols` floats of `a`; `s` holds `cols`
    // and, a `&mut` slice, overlaps no input.
    unsafe { transposed_rows_raw::<UNMASKED>(wp, dp, sp, ap, relu, masked, rows, cols) }
}

/// The assembly of [`transposed_rows`]: `s = W^T d` for `rows` rows of `cols` floats, then with
/// `mask` the ReLU mask over the first `masked` floats of `s` from `ap`. The blocks'
/// own safety comments assume what this function's caller guarantees. Without
/// `UNMASKED`, rows of 4 or 8 floats take the register paths only with the mask and
/// unmasked calls take the general loop, so that a caller whose unmasked calls are
/// rare (an identity hidden layer gains nothing from being hidden) does not link the
/// unmasked register paths.
///
/// # Safety
/// `rows >= 1` and `cols >= 1`; `wp` holds `rows * cols` floats, `dp` `rows`, `sp`
/// `cols` (writable, overlapping no input); `masked` is 0 without `mask`, and with it
/// `masked <= cols` and `ap` holds `masked` floats.
#[allow(unsafe_code, clippy::too_many_arguments)]
#[inline(always)]
unsafe fn transposed_rows_raw<const UNMASKED: bool>(
    wp: *const f32,
    dp: *const f32,
    sp: *mut f32,
    ap: *const f32,
    mask: bool,
    masked: usize,
    rows: usize,
    cols: usize,
) {
    let z = ZEROS.as_ptr();
    if (cols == 4 || cols == 8) && (UNMASKED || mask) && (!mask || masked == cols) {
        // SAFETY: the block reads the four floats of `ZEROS`, then per row one float of
        // `d` and `cols` (4 or 8) floats of `w` (consecutive rows, `rows * cols` in all,
        // the length of `w`; `rows >= 1`, as the loop runs its body before it counts),
        // with the mask the `cols` floats of `a` (`masked == cols`, this function's
        // contract), and writes the `cols` floats of `s` once at the end. `s` overlaps
        // no input. The FPU registers used (s0-s15) are declared
        // clobbered, every core register changed is an operand, and no stack is
        // touched; the hard-float ABI guarantees an enabled FPU.
        unsafe {
            // Without `UNMASKED`, only masked rows get here.
            match (cols == 8, mask || !UNMASKED) {
                (false, false) => transposed_rows!(
                    [], [], [], "s0-s3",
                    w = inout(reg) wp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                    s = in(reg) sp, z = in(reg) z,
                ),
                (false, true) => transposed_rows!(
                    [], [], ["vldr s12, [{z}]\n", mask4!("", "s0", "s1", "s2", "s3")], "s0-s3",
                    w = inout(reg) wp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                    s = in(reg) sp, z = in(reg) z, a = in(reg) ap,
                ),
                (true, false) => transposed_rows!(
                    ["vldmia {z}, {{s4-s7}}"],
                    [
                        "vldmia {w}!, {{s12-s15}}",
                        "vmla.f32 s4, s12, s8",
                        "vmla.f32 s5, s13, s8",
                        "vmla.f32 s6, s14, s8",
                        "vmla.f32 s7, s15, s8"
                    ],
                    [], "s0-s7",
                    w = inout(reg) wp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                    s = in(reg) sp, z = in(reg) z,
                ),
                (true, true) => transposed_rows!(
                    ["vldmia {z}, {{s4-s7}}"],
                    [
                        "vldmia {w}!, {{s12-s15}}",
                        "vmla.f32 s4, s12, s8",
                        "vmla.f32 s5, s13, s8",
                        "vmla.f32 s6, s14, s8",
                        "vmla.f32 s7, s15, s8"
                    ],
                    [
                        "vldr s12, [{z}]\n",
                        mask4!("!", "s0", "s1", "s2", "s3"),
                        mask4!("", "s4", "s5", "s6", "s7")
                    ],
                    "s0-s7",
                    w = inout(reg) wp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                    s = in(reg) sp, z = in(reg) z, a = inout(reg) ap => _,
                ),
            }
        }
        return;
    }
    // SAFETY: this function's contract, passed on.
    unsafe { transposed_rows_any_width(wp, dp, sp, ap, masked, rows, cols) }
}

/// The general loop of [`transposed_rows_raw`] (any row length; the mask over the first `masked`
/// floats, none when 0). Out of line: one copy, however many ways it is reached.
///
/// # Safety
/// As [`transposed_rows_raw`], with `masked` 0 without the mask.
#[allow(unsafe_code)]
#[inline(never)]
unsafe fn transposed_rows_any_width(
    wp: *const f32,
    dp: *const f32,
    sp: *mut f32,
    ap: *const f32,
    masked: usize,
    rows: usize,
    cols: usize,
) {
    let (chunks, rem) = (cols / 4, cols % 4);
    // SAFETY: the block writes `cols` zeros to `s`, then per row reads one float of `d`
    // and `cols` floats of `w` (consecutive rows, `rows * cols` in all, the length of
    // `w`) and reads and writes the `cols` floats of `s` from its start: all within the
    // buffers (this function's contract; `rows >= 1`, and the inner loops are skipped
    // when their count is zero). Then the mask reads and writes the first `masked`
    // floats of `s` and reads as many of `a` (`masked <= cols`; skipped when zero, and
    // `a` is not read then). `s` overlaps no input.
    // The FPU registers used (s0-s11) are declared clobbered, every core register
    // changed is an operand, and no stack is touched; the hard-float ABI guarantees an
    // enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            "movs {j}, #0",
            "vmov s0, s1, {j}, {j}",
            "vmov s2, s3, {j}, {j}",
            "mov {sp_}, {s}",
            "movs {j}, {chunks}",
            "beq 8f",
            "7:",
            "vstmia {sp_}!, {{s0-s3}}",
            "subs {j}, {j}, #1",
            "bne 7b",
            "8:",
            "movs {j}, {rem}",
            "beq 2f",
            "9:",
            "vstmia {sp_}!, {{s0}}",
            "subs {j}, {j}, #1",
            "bne 9b",
            "2:",
            "vldmia {d}!, {{s0}}",
            "mov {sp_}, {s}",
            "movs {j}, {chunks}",
            "beq 4f",
            "3:",
            "vldmia {sp_}, {{s4-s7}}",
            "vldmia {w}!, {{s8-s11}}",
            "vmla.f32 s4, s8, s0",
            "vmla.f32 s5, s9, s0",
            "vmla.f32 s6, s10, s0",
            "vmla.f32 s7, s11, s0",
            "vstmia {sp_}!, {{s4-s7}}",
            "subs {j}, {j}, #1",
            "bne 3b",
            "4:",
            "movs {j}, {rem}",
            "beq 6f",
            "5:",
            "vldr s4, [{sp_}]",
            "vldmia {w}!, {{s8}}",
            "vmla.f32 s4, s8, s0",
            "vstmia {sp_}!, {{s4}}",
            "subs {j}, {j}, #1",
            "bne 5b",
            "6:",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            // The mask over the first `masked` floats of `s`, in order: `s_j *= 0.0`
            // unless `a_j > 0` (`le` holds for `a_j <= 0` and for NaN, unordered).
            "movs {j}, {masked}",
            "beq 12f",
            "vmov s1, {rows}", // +0: the row count is zero here
            "mov {sp_}, {s}",
            "11:",
            "vldmia {a}!, {{s2}}",
            "vldr s0, [{sp_}]",
            "vcmp.f32 s2, #0",
            "vmrs APSR_nzcv, fpscr",
            "it le",
            "vmulle.f32 s0, s0, s1",
            "vstmia {sp_}!, {{s0}}",
            "subs {j}, {j}, #1",
            "bne 11b",
            "12:",
            w = inout(reg) wp => _,
            d = inout(reg) dp => _,
            rows = inout(reg) rows => _,
            a = inout(reg) ap => _,
            s = in(reg) sp,
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            masked = in(reg) masked,
            sp_ = out(reg) _,
            j = out(reg) _,
        );
    }
}

/// `sum(|v[i]|)` as [`super::portable::sum_abs`] adds it (four partial sums from the
/// first four magnitudes, `(s0 + s1) + (s2 + s3)`, then the remainder in order), four
/// floats per `VLDM`.
#[allow(unsafe_code)]
pub(crate) fn sum_abs(v: &[f32]) -> f32 {
    let (chunks, rem) = (v.len() / 4, v.len() % 4);
    let r: u32;
    // SAFETY: the block reads the `v.len()` floats of `v` (`chunks` groups of four,
    // then `rem` single ones; each loop is skipped when its count is zero) and writes
    // no memory. The FPU registers used (s0-s7) are declared clobbered, every core
    // register changed is an operand, and no stack is touched; the hard-float ABI
    // guarantees an enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            concat!(
                // The lanes start from the first four magnitudes (`0 + |v|` is `|v|`);
                // fewer than four floats: the head is +0.
                "subs {j}, {chunks}, #1\n",
                "bpl 8f\n",
                "movs {j}, #0\n",
                "vmov s0, {j}\n",
                "b 7f\n",
                "8:\n",
                "vldmia {v}!, {{s0-s3}}\n",
                "vabs.f32 s0, s0\n",
                "vabs.f32 s1, s1\n",
                "vabs.f32 s2, s2\n",
                "vabs.f32 s3, s3\n",
                "beq 2f\n",
                "1:\n",
                "vldmia {v}!, {{s4-s7}}\n",
                "vabs.f32 s4, s4\n",
                "vabs.f32 s5, s5\n",
                "vabs.f32 s6, s6\n",
                "vabs.f32 s7, s7\n",
                "vadd.f32 s0, s0, s4\n",
                "vadd.f32 s1, s1, s5\n",
                "vadd.f32 s2, s2, s6\n",
                "vadd.f32 s3, s3, s7\n",
                "subs {j}, {j}, #1\n",
                "bne 1b\n",
                "2:\n",
                "vadd.f32 s0, s0, s1\n",
                "vadd.f32 s2, s2, s3\n",
                "vadd.f32 s0, s0, s2\n",
                "7:\n",
                "movs {j}, {rem}\n",
                "beq 4f\n",
                "3:\n",
                "vldmia {v}!, {{s4}}\n",
                "vabs.f32 s4, s4\n",
                "vadd.f32 s0, s0, s4\n",
                "subs {j}, {j}, #1\n",
                "bne 3b\n",
                "4:\n",
                "vmov {r}, s0",
            ),
            v = inout(reg) v.as_ptr() => _,
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            j = out(reg) _,
            r = lateout(reg) r,
        );
    }
    f32::from_bits(r)
}

/// `dst[i] = src[i]` over the common length, four floats per `VLDM`/`VSTM` (loads and
/// stores move the bits unchanged): the few floats of a model's output without linking
/// `memcpy`, which a copy loop otherwise becomes.
#[allow(unsafe_code)]
#[inline(never)]
pub(crate) fn copy(dst: &mut [f32], src: &[f32]) {
    let n = dst.len().min(src.len());
    let (chunks, rem) = (n / 4, n % 4);
    // SAFETY: the block reads `n` floats from `src` and writes `n` to `dst` (`chunks`
    // groups of four, then `rem` single ones; each loop is skipped when its count is
    // zero), `n` being the shorter length; `dst` is a `&mut` slice distinct from `src`.
    // The FPU registers used (s0-s3) are declared clobbered, every core register
    // changed is an operand, and no stack is touched; the hard-float ABI guarantees an
    // enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            concat!(
                "movs {j}, {chunks}\n",
                "beq 2f\n",
                "1:\n",
                "vldmia {s}!, {{s0-s3}}\n",
                "vstmia {d}!, {{s0-s3}}\n",
                "subs {j}, {j}, #1\n",
                "bne 1b\n",
                "2:\n",
                "movs {j}, {rem}\n",
                "beq 4f\n",
                "3:\n",
                "vldmia {s}!, {{s0}}\n",
                "vstmia {d}!, {{s0}}\n",
                "subs {j}, {j}, #1\n",
                "bne 3b\n",
                "4:",
            ),
            s = inout(reg) src.as_ptr() => _,
            d = inout(reg) dst.as_mut_ptr() => _,
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            j = out(reg) _,
        );
    }
}

/// `v[i] = value` for every `i`: eight floats per `VSTM`, then one `STR` per float (a
/// store moves the bits unchanged), in loops that are not unrolled, without linking
/// `memset` (about 170 bytes of flash), which a fill loop otherwise becomes. Out of
/// line: it runs once per reset or batch, and one copy serves every caller.
#[allow(unsafe_code)]
#[inline(never)]
pub(crate) fn fill(v: &mut [f32], value: f32) {
    let (chunks, rem) = (v.len() / 8, v.len() % 8);
    // SAFETY: the block writes the `v.len()` floats of `v`, a `&mut` slice: `chunks`
    // groups of eight, then `rem` single ones (each loop is skipped when its count is
    // zero). The FPU registers used (s0-s7) are declared clobbered, every core register
    // changed is an operand, and no stack is touched; the hard-float ABI guarantees an
    // enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            concat!(
                "cmp {chunks}, #0\n",
                "beq 2f\n",
                "vmov s0, s1, {bits}, {bits}\n",
                "vmov s2, s3, {bits}, {bits}\n",
                "vmov s4, s5, {bits}, {bits}\n",
                "vmov s6, s7, {bits}, {bits}\n",
                "1:\n",
                "vstmia {p}!, {{s0-s7}}\n",
                "subs {chunks}, {chunks}, #1\n",
                "bne 1b\n",
                "2:\n",
                "cmp {rem}, #0\n",
                "beq 4f\n",
                "3:\n",
                "str {bits}, [{p}], #4\n",
                "subs {rem}, {rem}, #1\n",
                "bne 3b\n",
                "4:",
            ),
            p = inout(reg) v.as_mut_ptr() => _,
            chunks = inout(reg) chunks => _,
            rem = inout(reg) rem => _,
            bits = in(reg) value.to_bits(),
        );
    }
}

/// `fold(-inf, |m, v| if v > m { v } else { m })` ([`super::portable::max_of`], same
/// result: a NaN never wins a comparison), one compare and conditional move per float,
/// in a loop that is not unrolled (a softmax's few logits).
#[allow(unsafe_code)]
pub(crate) fn max_of(v: &[f32]) -> f32 {
    let r: u32;
    // SAFETY: the block reads the `v.len()` floats of `v` (the loop is skipped when the
    // count is zero) and writes no memory. The FPU registers used (s0, s1) are declared
    // clobbered, every core register changed is an operand, and no stack is touched;
    // the hard-float ABI guarantees an enabled FPU.
    unsafe {
        fpu_asm!(
            s0_s15;
            concat!(
                "vmov s0, {r}\n",
                "movs {j}, {n}\n",
                "beq 2f\n",
                "1:\n",
                "vldmia {v}!, {{s1}}\n",
                "vcmp.f32 s1, s0\n",
                "vmrs APSR_nzcv, fpscr\n",
                "it gt\n",
                "vmovgt.f32 s0, s1\n",
                "subs {j}, {j}, #1\n",
                "bne 1b\n",
                "2:\n",
                "vmov {r}, s0",
            ),
            v = inout(reg) v.as_ptr() => _,
            n = in(reg) v.len(),
            j = out(reg) _,
            r = inout(reg) f32::NEG_INFINITY.to_bits() => r,
        );
    }
    f32::from_bits(r)
}

/// Square root: `VSQRT.F32` on the Arm FPU (the same bits as [`portable::sqrt`](super::portable::sqrt): both are correctly rounded).
///
/// Stable Rust does not let inline assembly pass values in single-precision registers
/// on Arm (the `vfp2` target feature it asks for is unstable), but it accepts them as
/// explicit clobbers: the value goes through a core register and `s0`, declared
/// clobbered. Three instructions instead of one, and still some thirty times cheaper
/// than a software square root. (The hot loops that need square roots are whole
/// assembly blocks: see `optim/vfp.rs`.)
#[inline]
#[allow(unsafe_code)]
pub(crate) fn sqrt(x: f32) -> f32 {
    let r: u32;
    // SAFETY: the block moves `x` into `s0` (declared clobbered, so the compiler keeps
    // nothing there across it), takes its square root there and moves the result out.
    // It touches no memory and no stack (`nomem`, `nostack`), leaves the APSR condition
    // flags alone (`preserves_flags`; VSQRT may only set FPSCR's sticky exception bits,
    // as any float operation the compiler emits does), and its result depends only on
    // `x` (`pure`). The hard-float ABI guarantees an FPU with VSQRT that is enabled
    // before `main`.
    unsafe {
        core::arch::asm!(
            "vmov s0, {x}",
            "vsqrt.f32 s0, s0",
            "vmov {r}, s0",
            x = in(reg) x.to_bits(),
            r = lateout(reg) r,
            out("s0") _,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    f32::from_bits(r)
}
