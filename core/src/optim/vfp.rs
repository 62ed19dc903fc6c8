//! The single-sample dense-layer updates of Adam and plain SGD in FPU assembly, for
//! Cortex-M cores with a single-precision FPU (`thumbv7em-none-eabihf`,
//! `thumbv8m.main-none-eabihf`).
//!
//! Why assembly: stable Rust has no `sqrt` in `core`, and its inline-assembly register
//! class for FPU registers needs a double-precision FPU, which the Cortex-M4F/M33 do
//! not have. The square root then costs six register moves around each `VSQRT` (see
//! [`crate::math::sqrt`]), the call-like `asm!` block stops LLVM from unrolling the
//! loop, and LLVM loads and stores each float with its own instruction. Here the whole
//! loop is one block that keeps everything in FPU registers and moves four parameters
//! (and their state) per `VLDM`/`VSTM`: about 13 instructions per parameter for Adam
//! and 3.5 for SGD.
//!
//! The arithmetic is exactly the portable loops' ([`super::adam`], [`super::sgd`]),
//! operation for operation (no fused multiply-add: `VMLA`/`VMLS` round the product
//! before the addition, as separate `VMUL` and `VADD` do), so the bits are the same as
//! on the host and on cores without an FPU. The firmware tests check this: the QEMU
//! Cortex-M4F build ends with the host's checksum, and the `kernels` self-test
//! compares every kernel with the portable loop bit for bit.
//!
//! Each block walks the rows (`d_i`) and, per row, the columns four at a time and then
//! one at a time, forming the gradient `g = d_i x_j` (also stored to `grads` in the
//! storing variants) before the optimizer's arithmetic. Rows of 4 or 8 parameters (the
//! small layers of a microcontroller's model) take blocks without the per-row column
//! bookkeeping: SGD's keep `x` (4) or the row's parameters (8) in registers, 13 and 23
//! instructions a row (14 and 25 storing the gradients); Adam's, for any non-zero
//! multiple of four, loop over the groups of four up to the end of `x`. Every FPU register a block
//! uses is declared clobbered (explicit `out("sN") _`, which stable Rust accepts on a
//! single-precision FPU although it rejects FPU registers as operands), so the
//! compiler saves what it must; every core register changed is an operand.

/// Which update a block runs, with its per-step constants.
#[derive(Clone, Copy)]
pub(crate) enum KernelRule<'k> {
    /// Adam without weight decay or AMSGrad, `1 - beta1 < 0.5`; state `[m, v]`. The
    /// block loads the first six floats of its [`StepScalars`] (`repr(C)`) into
    /// s16-s21: `[lr / (1 - beta1^k), sqrt(1 - beta2^k), 1 - beta1, beta2, 1 - beta2,
    /// eps]`.
    Adam(&'k StepScalars),
    /// SGD without momentum or weight decay, at this learning rate (loaded into s0); no
    /// state.
    Sgd(f32),
}

use super::StepScalars;
use crate::kernels::arm_vfp::fpu_asm;

/// Adam for one parameter: gradient `$g`, moments `$m`, `$v`, parameter `$p`; the
/// constants in s16-s21 (see [`KernelRule::Adam`]: step size s16, `sqrt(1 - beta2^k)` s17,
/// `1 - beta1` s18, `beta2` s19, `1 - beta2` s20, `eps` s21), s23 scratch. `$g` is overwritten.
///
/// ```text
/// m = m + (1 - beta1) (g - m)
/// v = v beta2 + (1 - beta2) (g g)
/// p = p - step (m / (sqrt(v) / sqrt(1 - beta2^k) + eps))
/// ```
macro_rules! adam1 {
    ($g:literal, $m:literal, $v:literal, $p:literal) => {
        concat!(
            "vsub.f32 s23, ",
            $g,
            ", ",
            $m,
            "\n",
            "vmla.f32 ",
            $m,
            ", s18, s23\n",
            "vmul.f32 ",
            $g,
            ", ",
            $g,
            ", ",
            $g,
            "\n",
            "vmul.f32 ",
            $v,
            ", ",
            $v,
            ", s19\n",
            "vmla.f32 ",
            $v,
            ", s20, ",
            $g,
            "\n",
            "vsqrt.f32 s23, ",
            $v,
            "\n",
            "vdiv.f32 s23, s23, s17\n",
            "vadd.f32 s23, s23, s21\n",
            "vdiv.f32 s23, ",
            $m,
            ", s23\n",
            "vmls.f32 ",
            $p,
            ", s16, s23\n",
        )
    };
}

/// Adam's four-parameter group: the next four inputs from `{kx}`, the gradients
/// `d_i x_j` (stored by `$store4`, or not), the four parameters and their state, the
/// update, the stores. Registers: `d_i` s22, gradients s0-s3, moments s4-s11 (`m, v`
/// pairs), parameters s12-s15, scratch s23 (constants s16-s21).
macro_rules! adam_group4 {
    ($store4:literal) => {
        concat!(
            "vldmia {kx}!, {{s0-s3}}\n",
            "vmul.f32 s0, s22, s0\n",
            "vmul.f32 s1, s22, s1\n",
            "vmul.f32 s2, s22, s2\n",
            "vmul.f32 s3, s22, s3\n",
            $store4,
            "vldmia {s}, {{s4-s11}}\n",
            "vldmia {p}, {{s12-s15}}\n",
            adam1!("s0", "s4", "s5", "s12"),
            adam1!("s1", "s6", "s7", "s13"),
            adam1!("s2", "s8", "s9", "s14"),
            adam1!("s3", "s10", "s11", "s15"),
            "vstmia {s}!, {{s4-s11}}\n",
            "vstmia {p}!, {{s12-s15}}\n",
        )
    };
}

/// Adam's block; `$store4`/`$store1` store the gradients (or are empty). Registers:
/// constants s16-s21, `d_i` s22, the rest as in [`adam_group4`]. Per row: the groups of
/// four (`cols / 4` of them, possibly none), then the remaining `cols % 4` one at a time.
macro_rules! adam_block {
    ($store4:literal, $store1:literal) => {
        concat!(
            "vldmia {kx}, {{s16-s21}}\n",
            "2:\n",
            "vldmia {d}!, {{s22}}\n",
            "mov {kx}, {x}\n",
            "lsrs {j}, {cols}, #2\n",
            "beq 4f\n",
            "3:\n",
            adam_group4!($store4),
            "subs {j}, {j}, #1\n",
            "bne 3b\n",
            "4:\n",
            "ands {j}, {cols}, #3\n",
            "beq 6f\n",
            "5:\n",
            "vldmia {kx}!, {{s0}}\n",
            "vmul.f32 s0, s22, s0\n",
            $store1,
            "vldmia {s}, {{s4-s5}}\n",
            "vldr s12, [{p}]\n",
            adam1!("s0", "s4", "s5", "s12"),
            "vstmia {s}!, {{s4-s5}}\n",
            "vstmia {p}!, {{s12}}\n",
            "subs {j}, {j}, #1\n",
            "bne 5b\n",
            "6:\n",
            "subs {rows}, {rows}, #1\n",
            "bne 2b",
        )
    };
}

/// Adam's block for rows of a multiple of four parameters (at least four): no
/// remainder loop and no test for an empty group loop, and the group loop ends when
/// the input cursor reaches `{xe}` (the end of `x`) rather than on a count, so a row
/// costs 6 instructions of bookkeeping (the general block: 8 plus 2 per group).
macro_rules! adam_block4 {
    ($store4:literal) => {
        concat!(
            "vldmia {kx}, {{s16-s21}}\n",
            "2:\n",
            "vldmia {d}!, {{s22}}\n",
            "mov {kx}, {x}\n",
            "3:\n",
            adam_group4!($store4),
            "cmp {kx}, {xe}\n",
            "bne 3b\n",
            "subs {rows}, {rows}, #1\n",
            "bne 2b",
        )
    };
}

/// SGD's block, `p = p - lr g`: `lr` in s0, `d_i` in s1, gradients s4-s7, parameters
/// s8-s11. `$store` is the instruction that stores the gradient(s) (or "").
macro_rules! sgd_block {
    ($store4:literal, $store1:literal) => {
        concat!(
            "vmov s0, {lr}\n",
            "2:\n",
            "vldmia {d}!, {{s1}}\n",
            "mov {kx}, {x}\n",
            "lsrs {j}, {cols}, #2\n",
            "beq 4f\n",
            "3:\n",
            "vldmia {kx}!, {{s4-s7}}\n",
            "vmul.f32 s4, s1, s4\n",
            "vmul.f32 s5, s1, s5\n",
            "vmul.f32 s6, s1, s6\n",
            "vmul.f32 s7, s1, s7\n",
            $store4,
            "vldmia {p}, {{s8-s11}}\n",
            "vmls.f32 s8, s0, s4\n",
            "vmls.f32 s9, s0, s5\n",
            "vmls.f32 s10, s0, s6\n",
            "vmls.f32 s11, s0, s7\n",
            "vstmia {p}!, {{s8-s11}}\n",
            "subs {j}, {j}, #1\n",
            "bne 3b\n",
            "4:\n",
            "ands {j}, {cols}, #3\n",
            "beq 6f\n",
            "5:\n",
            "vldmia {kx}!, {{s4}}\n",
            "vmul.f32 s4, s1, s4\n",
            $store1,
            "vldr s8, [{p}]\n",
            "vmls.f32 s8, s0, s4\n",
            "vstmia {p}!, {{s8}}\n",
            "subs {j}, {j}, #1\n",
            "bne 5b\n",
            "6:\n",
            "subs {rows}, {rows}, #1\n",
            "bne 2b",
        )
    };
}

/// SGD's block for rows of 4 parameters: `x` in s12-s15 for the whole block, `lr` in
/// s0, `d_i` in s1, gradients s4-s7, parameters s8-s11; `$store` stores the gradients
/// (or is empty). A row: 13 instructions (14 storing).
macro_rules! sgd_x4 {
    ($store:literal) => {
        sgd_x4!($store, [])
    };
    ($store:literal, [$($bias:literal),*]) => {
        concat!(
            "vmov s0, {lr}\n",
            "vldmia {x}, {{s12-s15}}\n",
            "2:\n",
            "vldmia {d}!, {{s1}}\n",
            "vmul.f32 s4, s1, s12\n",
            "vmul.f32 s5, s1, s13\n",
            "vmul.f32 s6, s1, s14\n",
            "vmul.f32 s7, s1, s15\n",
            $store,
            "vldmia {p}, {{s8-s11}}\n",
            "vmls.f32 s8, s0, s4\n",
            "vmls.f32 s9, s0, s5\n",
            "vmls.f32 s10, s0, s6\n",
            "vmls.f32 s11, s0, s7\n",
            "vstmia {p}!, {{s8-s11}}\n",
            $($bias, "\n",)*
            "subs {rows}, {rows}, #1\n",
            "bne 2b",
        )
    };
}

/// SGD's block for rows of 8 parameters: `lr` in s0, `d_i` in s1, the row's eight
/// parameters in s8-s15 (one `VLDM`, one `VSTM`), each half of `x` loaded into s4-s7
/// (from `{x}` and `{kx}` = `x + 4`) and turned into its gradients in place; `$store`
/// stores them (or is empty). Holding `x` in registers instead would leave six
/// registers for parameters and gradients, and the row would take more instructions
/// (23, 27 storing) than this one: 23 (25 storing).
macro_rules! sgd_x8 {
    ($store:literal) => {
        sgd_x8!($store, [])
    };
    ($store:literal, [$($bias:literal),*]) => {
        concat!(
            "vmov s0, {lr}\n",
            "adds {kx}, {x}, #16\n",
            "2:\n",
            "vldmia {d}!, {{s1}}\n",
            "vldmia {x}, {{s4-s7}}\n",
            "vmul.f32 s4, s1, s4\n",
            "vmul.f32 s5, s1, s5\n",
            "vmul.f32 s6, s1, s6\n",
            "vmul.f32 s7, s1, s7\n",
            $store,
            "vldmia {p}, {{s8-s15}}\n",
            "vmls.f32 s8, s0, s4\n",
            "vmls.f32 s9, s0, s5\n",
            "vmls.f32 s10, s0, s6\n",
            "vmls.f32 s11, s0, s7\n",
            "vldmia {kx}, {{s4-s7}}\n",
            "vmul.f32 s4, s1, s4\n",
            "vmul.f32 s5, s1, s5\n",
            "vmul.f32 s6, s1, s6\n",
            "vmul.f32 s7, s1, s7\n",
            $store,
            "vmls.f32 s12, s0, s4\n",
            "vmls.f32 s13, s0, s5\n",
            "vmls.f32 s14, s0, s6\n",
            "vmls.f32 s15, s0, s7\n",
            "vstmia {p}!, {{s8-s15}}\n",
            $($bias, "\n",)*
            "subs {rows}, {rows}, #1\n",
            "bne 2b",
        )
    };
}

/// Plain SGD on one dense layer of 4 or 8 inputs, weights and bias in one block: the
/// register rows of `sgd_x4!`/`sgd_x8!`, each followed by its bias: `b_i -= lr * d_i`
/// (the bias's gradient `1 * d_i` is exactly `d_i`; `lr` in s0, `d_i` in s1, s2
/// scratch) and, with `STORE`, the store of that gradient. This saves the bias's own
/// block. Returns the cursor past the layer's parameters
/// (and gradients when `STORE`), or `None` (nothing done) for other widths.
///
/// # Safety
/// As [`block`] for `rows >= 1` rows of `cols` weights followed by `rows` biases
/// from the cursor (and as many gradients when `STORE`), `d` and `x` holding `rows` and
/// `cols` floats.
#[allow(unsafe_code)]
#[inline(always)]
unsafe fn sgd_layer<const STORE: bool>(
    lr: f32,
    c: Cursor,
    d: *const f32,
    rows: usize,
    x: *const f32,
    cols: usize,
) -> Option<Cursor> {
    let (p, s, g) = c;
    // The biases follow the `rows * cols` weights (and their gradients the weights').
    let (mut bp, mut gb) = (p.wrapping_add(rows * cols), g.wrapping_add(rows * cols));
    // SAFETY (given the caller's guarantees): as `block`'s `sgd_x4`/`sgd_x8`, plus per
    // row one float read and written at `bp` (the `rows` biases after the weights) and
    // with `STORE` one written at `gb` (their gradients); `bp` and `gb` end past the
    // layer, where the returned cursor points.
    unsafe {
        match (cols, STORE) {
            (4, true) => fpu_asm!(
                s0_s15;
                sgd_x4!("vstmia {g}!, {{s4-s7}}\n", ["vldr s2, [{bp}]", "vmls.f32 s2, s0, s1", "vstmia {bp}!, {{s2}}", "vstmia {gb}!, {{s1}}"]),
                lr = in(reg) lr.to_bits(), d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, p = inout(reg) p => _, g = inout(reg) g => _,
                bp = inout(reg) bp => bp, gb = inout(reg) gb => gb,
            ),
            (4, false) => fpu_asm!(
                s0_s15;
                sgd_x4!("", ["vldr s2, [{bp}]", "vmls.f32 s2, s0, s1", "vstmia {bp}!, {{s2}}"]),
                lr = in(reg) lr.to_bits(), d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, p = inout(reg) p => _, bp = inout(reg) bp => bp,
            ),
            (8, true) => fpu_asm!(
                s0_s15;
                sgd_x8!("vstmia {g}!, {{s4-s7}}\n", ["vldr s2, [{bp}]", "vmls.f32 s2, s0, s1", "vstmia {bp}!, {{s2}}", "vstmia {gb}!, {{s1}}"]),
                lr = in(reg) lr.to_bits(), kx = out(reg) _, d = inout(reg) d => _,
                rows = inout(reg) rows => _, x = in(reg) x, p = inout(reg) p => _,
                g = inout(reg) g => _, bp = inout(reg) bp => bp, gb = inout(reg) gb => gb,
            ),
            (8, false) => fpu_asm!(
                s0_s15;
                sgd_x8!("", ["vldr s2, [{bp}]", "vmls.f32 s2, s0, s1", "vstmia {bp}!, {{s2}}"]),
                lr = in(reg) lr.to_bits(), kx = out(reg) _, d = inout(reg) d => _,
                rows = inout(reg) rows => _, x = in(reg) x, p = inout(reg) p => _,
                bp = inout(reg) bp => bp,
            ),
            _ => return None,
        }
    }
    Some((bp, s, gb))
}

/// The pointers a block advances: parameters, state, gradients.
type Cursor = (*mut f32, *mut f32, *mut f32);

/// Runs one block: `rows` rows of `cols` parameters from `c`, with gradient
/// `g[i][j] = d[i] x[j]` (stored from `c.2` when `store`), by `rule`. Returns the
/// cursor advanced past what it updated. `SMALL` adds the blocks for rows of 4 or 8
/// (SGD) and of a multiple of 4 (Adam); without them ([`update_outer`], which the
/// batched `step` inlines) the caller's code and stack frame stay as small as before.
///
/// # Safety
/// `rows >= 1`; `d` points to `rows` readable floats and `x` to `cols`; from the
/// cursor, `rows * cols` floats of parameters (times 2 of state for Adam, and of
/// gradients when `store`) are readable and writable, and nothing else refers to them
/// during the call. `cols` may be zero (nothing is updated then).
#[allow(unsafe_code)]
#[inline(always)]
unsafe fn block<const SMALL: bool>(
    rule: KernelRule<'_>,
    store: bool,
    c: Cursor,
    d: *const f32,
    rows: usize,
    x: *const f32,
    cols: usize,
) -> Cursor {
    let (mut p, mut s, mut g) = c;
    // The end of `x`, for the rows of a multiple of four (one past the end: never read).
    let xe = x.wrapping_add(cols);
    let k = |k: &StepScalars| core::ptr::from_ref(k).cast::<f32>();
    // SAFETY (of the blocks, given the caller's guarantees): each reads Adam's six
    // constants (SGD's rate is an operand), `rows` floats from `d`, `cols` from `x` once
    // per row (or once for the block: `sgd_x4`), and reads and writes `rows * cols`
    // floats from the parameter cursor (and twice that of state for Adam, and as many
    // gradients in the storing variants). The row loop runs `rows >= 1` times and ends
    // at zero. In the general blocks each column loop is skipped when its count is
    // zero, and together they cover `cols`; `adam_block4` runs only for `cols` a
    // non-zero multiple of four, so its group loop (at least once) reaches `xe` exactly,
    // and `sgd_x4`/`sgd_x8` only for `cols` 4 and 8 (`x + 4` is then within `x`). Every
    // FPU register used (s0-s23 for Adam, s0-s15 for SGD) is declared clobbered and
    // every core register changed is an operand; the blocks touch no stack. The
    // hard-float ABI guarantees an enabled FPU.
    unsafe {
        match (rule, store) {
            (KernelRule::Adam(k4), true) if SMALL && cols % 4 == 0 && cols > 0 => fpu_asm!(
                s0_s23;
                adam_block4!("vstmia {g}!, {{s0-s3}}\n"),
                kx = inout(reg) k(k4) => _, d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, xe = in(reg) xe, p = inout(reg) p, s = inout(reg) s, g = inout(reg) g,
            ),
            (KernelRule::Adam(k4), false) if SMALL && cols % 4 == 0 && cols > 0 => fpu_asm!(
                s0_s23;
                adam_block4!(""),
                kx = inout(reg) k(k4) => _, d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, xe = in(reg) xe, p = inout(reg) p, s = inout(reg) s,
            ),
            (KernelRule::Adam(k4), true) => fpu_asm!(
                s0_s23;
                adam_block!("vstmia {g}!, {{s0-s3}}\n", "vstmia {g}!, {{s0}}\n"),
                kx = inout(reg) k(k4) => _, d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, cols = in(reg) cols, j = out(reg) _,
                p = inout(reg) p, s = inout(reg) s, g = inout(reg) g,
            ),
            (KernelRule::Adam(k4), false) => fpu_asm!(
                s0_s23;
                adam_block!("", ""),
                kx = inout(reg) k(k4) => _, d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, cols = in(reg) cols, j = out(reg) _,
                p = inout(reg) p, s = inout(reg) s,
            ),
            (KernelRule::Sgd(lr), true) if SMALL && cols == 4 => fpu_asm!(
                s0_s15;
                sgd_x4!("vstmia {g}!, {{s4-s7}}\n"),
                lr = in(reg) lr.to_bits(), d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, p = inout(reg) p, g = inout(reg) g,
            ),
            (KernelRule::Sgd(lr), false) if SMALL && cols == 4 => fpu_asm!(
                s0_s15;
                sgd_x4!(""),
                lr = in(reg) lr.to_bits(), d = inout(reg) d => _, rows = inout(reg) rows => _,
                x = in(reg) x, p = inout(reg) p,
            ),
            (KernelRule::Sgd(lr), true) if SMALL && cols == 8 => fpu_asm!(
                s0_s15;
                sgd_x8!("vstmia {g}!, {{s4-s7}}\n"),
                lr = in(reg) lr.to_bits(), kx = out(reg) _, d = inout(reg) d => _,
                rows = inout(reg) rows => _, x = in(reg) x, p = inout(reg) p, g = inout(reg) g,
            ),
            (KernelRule::Sgd(lr), false) if SMALL && cols == 8 => fpu_asm!(
                s0_s15;
                sgd_x8!(""),
                lr = in(reg) lr.to_bits(), kx = out(reg) _, d = inout(reg) d => _,
                rows = inout(reg) rows => _, x = in(reg) x, p = inout(reg) p,
            ),
            (KernelRule::Sgd(lr), true) => fpu_asm!(
                s0_s15;
                sgd_block!("vstmia {g}!, {{s4-s7}}\n", "vstmia {g}!, {{s4}}\n"),
                lr = in(reg) lr.to_bits(), kx = out(reg) _, d = inout(reg) d => _,
                rows = inout(reg) rows => _, x = in(reg) x, cols = in(reg) cols,
                j = out(reg) _, p = inout(reg) p, g = inout(reg) g,
            ),
            (KernelRule::Sgd(lr), false) => fpu_asm!(
                s0_s15;
                sgd_block!("", ""),
                lr = in(reg) lr.to_bits(), kx = out(reg) _, d = inout(reg) d => _,
                rows = inout(reg) rows => _, x = in(reg) x, cols = in(reg) cols,
                j = out(reg) _, p = inout(reg) p,
            ),
        }
    }
    (p, s, g)
}

/// The next pass of a two-pass loop below (the weights, then the bias), `(d, rows, x,
/// cols, last)`, unchanged, through an empty `asm!` template (no instruction), so that
/// the compiler knows neither the arguments nor the number of passes: it then neither
/// unrolls nor peels the loop into two copies of every block (an Adam block is about
/// 230 bytes). All five must pass: with the pointers known, the compiler peels the
/// first pass.
#[allow(unsafe_code)]
// The pointers are only named, never read or written through.
#[allow(clippy::pointers_in_nomem_asm_block)]
#[inline(always)]
fn hidden_from_compiler(
    a: (*const f32, usize, *const f32, usize, usize),
) -> (*const f32, usize, *const f32, usize, usize) {
    let (mut d, mut rows, mut x, mut cols, mut last) = a;
    // SAFETY: the template is a comment; it changes no register, memory or flag.
    unsafe {
        core::arch::asm!(
            "/* {0} {1} {2} {3} {4} */",
            inout(reg) d, inout(reg) rows, inout(reg) x, inout(reg) cols, inout(reg) last,
            options(nomem, nostack, preserves_flags),
        );
    }
    (d, rows, x, cols, last)
}

/// State floats per parameter of `rule`.
fn state_per_param(rule: KernelRule<'_>) -> usize {
    match rule {
        KernelRule::Adam(_) => 2,
        KernelRule::Sgd(_) => 0,
    }
}

/// `Some(store)` when `n` parameters (`None`: the shape overflowed) are at least one
/// and the slices hold exactly what they need: `n` parameters, `n * state_per_param`
/// state floats, and `n` gradients unless `grads` is empty (`store` is then false).
fn kernel_fits(
    rule: KernelRule<'_>,
    n: Option<usize>,
    params: &[f32],
    state: &[f32],
    grads: &[f32],
) -> Option<bool> {
    let n = n.filter(|&n| n > 0)?;
    let store = !grads.is_empty();
    let ok = params.len() == n
        && Some(state.len()) == n.checked_mul(state_per_param(rule))
        && (!store || grads.len() == n);
    ok.then_some(store)
}

/// Updates `d.len()` rows of `x.len()` parameters with gradient `g[i][j] = d[i] x[j]`
/// by `rule` (stored into `grads` unless it is empty; Adam's state interleaved
/// `[m, v]` per parameter). Returns `false`, having touched nothing, if a length does
/// not fit the shape; the caller then takes the portable loop.
#[allow(unsafe_code)]
pub(crate) fn update_outer(
    rule: KernelRule<'_>,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) -> bool {
    let (rows, cols) = (d.len(), x.len());
    let n = rows.checked_mul(cols);
    let Some(store) = kernel_fits(rule, n, params, state, grads) else {
        return false;
    };
    let c = (params.as_mut_ptr(), state.as_mut_ptr(), grads.as_mut_ptr());
    // SAFETY: `rows >= 1`; `d` holds `rows` floats, `x` `cols`; `params`, `state` and
    // `grads` (when storing) hold exactly what `rows x cols` parameters need (checked
    // above), and they are distinct `&mut` slices borrowed for the call.
    unsafe { block::<false>(rule, store, c, d.as_ptr(), rows, x.as_ptr(), cols) };
    true
}

/// Updates a dense layer's parameters `[W | b]` (`W`: `d.len()` rows of `x.len()`)
/// from the single-sample gradient `dL/dW = d x^T`, `dL/db = d`, by `rule`: two
/// blocks, the weights and then the bias (as one row of `d.len()` with `d = [1]`,
/// `x = d`: `1 * d_i` is exactly `d_i`), with one set of checks. `state` and `grads`
/// (unless empty) follow the same layout. Returns `false`, having touched nothing, if
/// a length does not fit the shape.
#[allow(unsafe_code)]
pub(crate) fn update_layer(
    rule: KernelRule<'_>,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) -> bool {
    let (rows, cols) = (d.len(), x.len());
    let n = rows.checked_mul(cols).and_then(|w| w.checked_add(rows));
    let Some(store) = kernel_fits(rule, n.filter(|_| cols > 0), params, state, grads) else {
        return false;
    };
    let c = (params.as_mut_ptr(), state.as_mut_ptr(), grads.as_mut_ptr());
    let (dp, xp) = (d.as_ptr(), x.as_ptr());
    // SAFETY: `rows >= 1` and `cols >= 1`; `d` holds `rows` floats and `x` `cols`;
    // `params`, `state` and `grads` (when storing) hold exactly what `rows * cols + rows`
    // parameters need (checked above) and are distinct `&mut` slices borrowed for the
    // call.
    unsafe {
        if store {
            layer::<true>(rule, c, dp, rows, xp, cols);
        } else {
            layer::<false>(rule, c, dp, rows, xp, cols);
        }
    }
    true
}

/// One dense layer's single-sample update: its `rows * cols` weights with gradient
/// `d_i x_j`, then its `rows` biases with gradient `d_i` (one row with `d = [1]` and
/// `x = d`); plain SGD on 4 or 8 inputs does both in one block ([`sgd_layer`]).
/// Returns the cursor past the layer.
///
/// # Safety
/// `rows >= 1` and `cols >= 1`; `d` holds `rows` floats and `x` `cols`; from the cursor,
/// the layer's `rows * cols + rows` parameters, their state and (when `STORE`) their
/// gradients are readable and writable, and nothing else refers to them.
#[allow(unsafe_code)]
#[inline(always)]
unsafe fn layer<const STORE: bool>(
    rule: KernelRule<'_>,
    c: Cursor,
    d: *const f32,
    rows: usize,
    x: *const f32,
    cols: usize,
) -> Cursor {
    // SAFETY: the caller's guarantee, which is what `sgd_layer` and `block` need for
    // the weights and then for the bias row (`ONE` is one readable float, `d` the
    // row's `rows` inputs).
    unsafe {
        if let KernelRule::Sgd(lr) = rule {
            if let Some(next) = sgd_layer::<STORE>(lr, c, d, rows, x, cols) {
                return next;
            }
        }
        // A loop rather than two calls, so that the block's code is here once: the
        // weights, then the bias.
        let (mut c, mut dp, mut r, mut xp, mut k) = (c, d, rows, x, cols);
        let mut bias = 0;
        loop {
            c = block::<true>(rule, STORE, c, dp, r, xp, k);
            if bias != 0 {
                return c;
            }
            (dp, r, xp, k, bias) = hidden_from_compiler((ONE.as_ptr(), 1, d, rows, 1));
        }
    }
}

/// The `d = [1]` of a bias row (its gradient `1 * d_i` is exactly `d_i`).
static ONE: [f32; 1] = [1.0];

/// [`update_model`] with or without a gradient buffer, whichever `b` has.
#[inline(always)]
pub(crate) fn update_model_any(
    rule: KernelRule<'_>,
    layers: &[crate::shape::Dense],
    b: &mut crate::Buffers<'_>,
    x: &[f32],
) -> bool {
    if b.grads.is_empty() {
        update_model::<false>(rule, layers, b, x)
    } else {
        update_model::<true>(rule, layers, b, x)
    }
}

/// Updates a whole stack of dense `layers` from one sample, by `rule`: for each layer,
/// the weights `d_l a_{l-1}^T` and the bias `d_l` as [`update_layer`] does, with the
/// input `x` for the first layer and `acts = [a_1 .. a_L | d_1 .. d_L]`. The lengths are
/// checked once against the shape, then the blocks walk the flat buffers (each layer's
/// parameters, state and gradients follow the previous layer's). Returns `false`,
/// having touched nothing, if a length does not fit the shape or the gradient buffer
/// is not as `STORE` says (empty unless `STORE`): each variant carries only its blocks.
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) fn update_model<const STORE: bool>(
    rule: KernelRule<'_>,
    layers: &[crate::shape::Dense],
    b: &mut crate::Buffers<'_>,
    x: &[f32],
) -> bool {
    let (params, state, grads, acts) = (&mut *b.params, &mut *b.state, &mut *b.grads, &*b.acts);
    // The shape, with every layer's input the previous layer's output, and its totals.
    if crate::shape::validate(layers).is_err()
        || crate::shape::has_non_dense(layers)
        || crate::shape::inputs(layers) != x.len()
    {
        return false;
    }
    let (n, outs) = (
        crate::shape::params_len(layers),
        crate::shape::all_layer_outputs(layers),
    );
    let Some(store) = kernel_fits(rule, Some(n), params, state, grads) else {
        return false;
    };
    if store != STORE || Some(acts.len()) != outs.checked_mul(2) {
        return false;
    }
    // SAFETY: checked above, as `update_model_unchecked` requires.
    unsafe { update_model_unchecked::<STORE>(rule, layers, b, x) };
    true
}

/// [`update_model`] without its checks: the single-sample step of a
/// [`Trainer`](crate::Trainer), whose buffers were checked against its shape when it was
/// built (see `UpdateRule::fpu_update_model`).
///
/// # Safety
/// Every layer has `inputs >= 1` and `outputs >= 1`, the first's inputs are `x.len()`
/// and each next one's its predecessor's outputs; `b.params` holds exactly the shape's
/// parameter count `n` (`outputs * (inputs + 1)` per layer), `b.state` `n` times the
/// rule's state per parameter, `b.grads` `n` when `STORE` and nothing otherwise, and
/// `b.acts` twice the layers' summed outputs.
#[allow(unsafe_code)]
#[inline(always)]
pub(crate) unsafe fn update_model_unchecked<const STORE: bool>(
    rule: KernelRule<'_>,
    layers: &[crate::shape::Dense],
    b: &mut crate::Buffers<'_>,
    x: &[f32],
) {
    let (params, state, grads, acts) = (&mut *b.params, &mut *b.state, &mut *b.grads, &*b.acts);
    let outs = crate::layers::layout::errors_offset(acts.len());
    // The kernel advances the cursor over each layer's parameters, state and gradients
    // and returns it where the next layer's begin (the walk's `params_at`).
    let mut c = (params.as_mut_ptr(), state.as_mut_ptr(), grads.as_mut_ptr());
    // The walk's places: the error terms (the second half of `acts`); each layer's
    // output is `outs` floats before its error term.
    let dp = acts.as_ptr().wrapping_add(outs);
    let end = (params.len(), dp.wrapping_add(outs));
    // Each layer's input: `x`, then the layer below's output.
    let mut input = x.as_ptr();
    for v in crate::layers::walk::walk_from(layers, (0, dp), end) {
        let l = v.layer;
        // SAFETY: every layer has `inputs >= 1` and `outputs >= 1`, and the walk's
        // places are within the buffers (the caller's guarantee): `input` is `x` (the
        // first layer's `inputs` floats) or the layer below's `inputs` outputs in
        // `acts`, and the error term is `outputs` floats at `output_at` in the second
        // half of `acts`. From the cursor, the layer's `outputs * inputs + outputs`
        // parameters (and their state and gradients) are in the buffers, whose lengths
        // are exactly the shape's totals. The buffers are distinct `&mut` slices
        // borrowed for the call; `acts` and `x` are only read.
        unsafe {
            c = layer::<STORE>(rule, c, v.output_at, l.outputs, input, l.inputs);
        }
        input = v.output_at.wrapping_sub(outs);
    }
}

/// Whether this target has the optimizers' FPU kernels: yes, hard-float Arm.
pub const FPU_KERNELS: bool = true;

/// An optimizer whose configurations the kernels cover in part (Adam, plain SGD): what
/// it has to say about itself. The rest, its overrides of [`super::Optimizer`]'s
/// update methods (each the kernel when it covers the configuration and the lengths
/// fit, else the portable path), is shared: [`kernel_overrides`] writes them, through
/// [`outer_or_rows`], [`layer_or_rows`], [`model_or_layers`], [`kernel_model`].
pub(crate) trait HasFpuKernel: super::Optimizer + Sized {
    /// Whether the kernels cover this configuration (the optimizer's inherent
    /// `fpu_kernel_covers`, which says which configurations they are).
    fn covered(&self) -> bool;
    /// `sc` with everything the kernel reads filled in from the configuration, for
    /// scalars that may not come from this optimizer's `scalars` (Adam's constants).
    fn kernel_scalars(&self, sc: &super::StepScalars) -> super::StepScalars;
    /// The kernel's rule for complete scalars of this optimizer.
    fn rule(sc: &super::StepScalars) -> KernelRule<'_>;
}

/// The four [`UpdateRule`](super::UpdateRule) methods of a [`HasFpuKernel`] optimizer, in its
/// `impl Optimizer` block (under the hard-float `cfg`): the kernels where they cover
/// the configuration, else the portable paths, through the shared functions below.
macro_rules! kernel_overrides {
    () => {
        fn update_outer(
            &self,
            sc: &$crate::optim::StepScalars,
            params: &mut [f32],
            state: &mut [f32],
            grads: &mut [f32],
            d: &[f32],
            x: &[f32],
        ) {
            $crate::optim::vfp::outer_or_rows(self, sc, params, state, grads, d, x);
        }

        // Out of line: its FPU registers and constants stay out of the step's frame.
        #[inline(never)]
        fn update_layer(
            &self,
            sc: &$crate::optim::StepScalars,
            params: &mut [f32],
            state: &mut [f32],
            grads: &mut [f32],
            d: &[f32],
            x: &[f32],
        ) {
            $crate::optim::vfp::layer_or_rows(self, sc, params, state, grads, d, x);
        }

        // Out of line: its FPU registers and constants stay out of the step's frame.
        #[inline(never)]
        fn update_model(
            &self,
            sc: &$crate::optim::StepScalars,
            layers: &[$crate::shape::Dense],
            b: &mut $crate::Buffers<'_>,
            x: &[f32],
        ) {
            $crate::optim::vfp::model_or_layers(self, sc, layers, b, x);
        }

        fn fpu_kernel_covers(&self) -> bool {
            <Self as $crate::optim::vfp::HasFpuKernel>::covered(self)
        }

        #[allow(unsafe_code)]
        unsafe fn fpu_update_model<const STORE: bool>(
            &self,
            sc: &$crate::optim::StepScalars,
            layers: &[$crate::shape::Dense],
            b: &mut $crate::Buffers<'_>,
            x: &[f32],
        ) {
            // SAFETY: the caller's guarantee, passed on.
            unsafe { $crate::optim::vfp::kernel_model::<Self, STORE>(self, sc, layers, b, x) }
        }
    };
}
pub(crate) use kernel_overrides;

// The configurations the kernels cover, optimizer by optimizer.

impl HasFpuKernel for super::Adam {
    fn covered(&self) -> bool {
        self.fpu_kernel_covers()
    }

    fn kernel_scalars(&self, sc: &StepScalars) -> StepScalars {
        self.with_constants(*sc)
    }

    fn rule(sc: &StepScalars) -> KernelRule<'_> {
        KernelRule::Adam(sc)
    }
}

impl HasFpuKernel for super::Sgd {
    fn covered(&self) -> bool {
        self.fpu_kernel_covers()
    }

    fn kernel_scalars(&self, sc: &StepScalars) -> StepScalars {
        *sc
    }

    fn rule(sc: &StepScalars) -> KernelRule<'_> {
        KernelRule::Sgd(sc.lr)
    }
}

/// [`super::UpdateRule::update_outer`] of a [`HasFpuKernel`] optimizer.
pub(crate) fn outer_or_rows<O: HasFpuKernel>(
    opt: &O,
    sc: &super::StepScalars,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) {
    if opt.covered() && update_outer(O::rule(&opt.kernel_scalars(sc)), params, state, grads, d, x) {
        return;
    }
    super::outer_rows(opt, sc, params, state, grads, d, x);
}

/// [`super::UpdateRule::update_layer`] of a [`HasFpuKernel`] optimizer.
pub(crate) fn layer_or_rows<O: HasFpuKernel>(
    opt: &O,
    sc: &super::StepScalars,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) {
    if opt.covered() && update_layer(O::rule(&opt.kernel_scalars(sc)), params, state, grads, d, x) {
        return;
    }
    super::layer_rows(opt, sc, params, state, grads, d, x);
}

/// [`super::UpdateRule::update_model`] of a [`HasFpuKernel`] optimizer.
pub(crate) fn model_or_layers<O: HasFpuKernel>(
    opt: &O,
    sc: &super::StepScalars,
    layers: &[crate::shape::Dense],
    b: &mut crate::Buffers<'_>,
    x: &[f32],
) {
    if opt.covered() && update_model_any(O::rule(&opt.kernel_scalars(sc)), layers, b, x) {
        return;
    }
    crate::layers::dense::update_fused(layers, b.params, b.grads, b.state, x, b.acts, opt, sc);
}

/// The update kernel alone, for a configuration it covers and the trainer's scalars
/// (from `scalars`/`scalars_f32`, so complete), with a gradient buffer when `STORE`.
/// Out of line: its FPU registers and constants stay out of the step's frame.
///
/// # Safety
/// As `UpdateRule::fpu_update_model`: buffers of exactly the shape's sizes.
#[allow(unsafe_code)]
#[inline(never)]
pub(crate) unsafe fn kernel_model<O: HasFpuKernel, const STORE: bool>(
    _opt: &O,
    sc: &super::StepScalars,
    layers: &[crate::shape::Dense],
    b: &mut crate::Buffers<'_>,
    x: &[f32],
) {
    // SAFETY: the caller's guarantee (a `Trainer`'s checked buffers).
    unsafe { update_model_unchecked::<STORE>(O::rule(sc), layers, b, x) };
}
