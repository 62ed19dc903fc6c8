//! The single-sample dense-layer updates of Adam and plain SGD in FPU assembly, for
//! Cortex-M cores with a single-precision FPU (`thumbv7em-none-eabihf`,
//! `thumbv8m.main-none-eabihf`).
//!
//! Why assembly: stable Rust has no `sqrt` in `core`, and its inline-assembly register
//! class for FPU registers needs a double-precision FPU, which the Cortex-M4F/M33 do
//! not have. The square root then costs six register moves around each `VSQRT` (see
//! [`crate::math::sqrt`]), the call-like `asm!` block stops LLVM from unrolling the
//! loop, and LLVM loads and stores each float with its own instruction. Here the whole
//! loop is one block that keeps everything in FPU registers: 18 instructions per
//! parameter for Adam, 8 for SGD (one more each when the gradient is also stored).
//!
//! The arithmetic is exactly the portable loops' ([`super::adam`], [`super::sgd`]),
//! operation for operation (no fused multiply-add: `VMLA`/`VMLS` round the product
//! before the addition, as separate `VMUL` and `VADD` do), so the bits are the same as
//! on the host and on cores without an FPU. The firmware tests check this: the QEMU
//! Cortex-M4F build ends with the host's checksum.
//!
//! Every block has the same frame: the six per-step constants into s16-s21, then for
//! each row `i` the error term `d_i` into s22, and for each column the gradient
//! `g = d_i x_j` into s23 (also stored to `grads` in the storing variants), then the
//! optimizer's body. The FPU registers used (s16-s27) are saved with `vpush` and
//! restored with `vpop`; every core register changed is an operand.

/// The per-step constants the blocks load into s16-s21. Adam:
/// `[1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^k), eps, lr / (1 - beta1^k)]`;
/// SGD: `[lr, 0, 0, 0, 0, 0]`.
pub(crate) type Consts = [f32; 6];

/// Which update a block runs.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    /// Adam without weight decay or AMSGrad, `1 - beta1 < 0.5`; state `[m, v]`.
    Adam,
    /// SGD without momentum or weight decay; no state.
    Sgd,
}

/// Opens a block: saves s16-s27, loads the constants, starts the row loop (`d_i` into
/// s22) and the column loop (`g = d_i x_j` into s23).
macro_rules! head {
    () => {
        concat!(
            "vpush {{s16-s27}}\n",
            "vldmia {kx}, {{s16-s21}}\n",
            "2:\n",
            "vldmia {d}!, {{s22}}\n",
            "mov {kx}, {x}\n",
            "mov {j}, {cols}\n",
            "3:\n",
            "vldmia {kx}!, {{s23}}\n",
            "vmul.f32 s23, s22, s23\n",
        )
    };
}

/// Closes the column and row loops and restores s16-s27.
macro_rules! tail {
    () => {
        concat!(
            "subs {j}, {j}, #1\n",
            "bne 3b\n",
            "subs {rows}, {rows}, #1\n",
            "bne 2b\n",
            "vpop {{s16-s27}}",
        )
    };
}

/// Adam, from `g` in s23; advances `{s}` by two floats and `{p}` by one:
///
/// ```text
/// m = m + (1 - beta1) (g - m)
/// v = v beta2 + (1 - beta2) (g g)
/// p = p - step (m / (sqrt(v) / sqrt(1 - beta2^k) + eps))
/// ```
macro_rules! adam_body {
    () => {
        concat!(
            "vldmia {s}, {{s24-s25}}\n",
            "vsub.f32 s26, s23, s24\n",
            "vmla.f32 s24, s16, s26\n",
            "vmul.f32 s26, s23, s23\n",
            "vmul.f32 s25, s25, s17\n",
            "vmla.f32 s25, s18, s26\n",
            "vstmia {s}!, {{s24-s25}}\n",
            "vsqrt.f32 s26, s25\n",
            "vdiv.f32 s26, s26, s19\n",
            "vadd.f32 s26, s26, s20\n",
            "vdiv.f32 s26, s24, s26\n",
            "vldr s27, [{p}]\n",
            "vmls.f32 s27, s21, s26\n",
            "vstmia {p}!, {{s27}}\n",
        )
    };
}

/// SGD, from `g` in s23: `p = p - lr g`; advances `{p}` by one float.
macro_rules! sgd_body {
    () => {
        concat!(
            "vldr s27, [{p}]\n",
            "vmls.f32 s27, s16, s23\n",
            "vstmia {p}!, {{s27}}\n",
        )
    };
}

/// Updates `d.len()` rows of `x.len()` parameters with gradient `g[i][j] = d[i] x[j]`
/// by `rule` (stored into `grads` unless it is empty; Adam's state interleaved
/// `[m, v]` per parameter). Returns `false`, having touched nothing, if a length does
/// not fit the shape; the caller then takes the portable loop.
#[allow(unsafe_code)]
pub(crate) fn update_outer(
    rule: Rule,
    k: &Consts,
    params: &mut [f32],
    state: &mut [f32],
    grads: &mut [f32],
    d: &[f32],
    x: &[f32],
) -> bool {
    let (rows, cols) = (d.len(), x.len());
    let Some(n) = rows.checked_mul(cols) else {
        return false;
    };
    let spp = match rule {
        Rule::Adam => 2,
        Rule::Sgd => 0,
    };
    let store = !grads.is_empty();
    if n == 0 || params.len() != n || state.len() != n.saturating_mul(spp) || (store && grads.len() != n) {
        return false;
    }
    let (p, s, g, dp, xp, kp) = (
        params.as_mut_ptr(),
        state.as_mut_ptr(),
        grads.as_mut_ptr(),
        d.as_ptr(),
        x.as_ptr(),
        k.as_ptr(),
    );
    // SAFETY: the block reads the six constants, `rows` floats from `d`, `cols` from
    // `x` once per row, and reads and writes `rows * cols` floats of `params` (and
    // `2 * rows * cols` of `state` for Adam), writing `rows * cols` floats of `grads`
    // in the storing variants: all within the slices, whose lengths were checked above
    // (`rows`, `cols` >= 1, so both loops run at least once and end at zero). `params`,
    // `state` and `grads` are distinct `&mut` slices, so nothing else aliases them.
    // s16-s27 are saved with `vpush` and restored with `vpop` (hence no `nostack`);
    // every core register changed is an operand; the hard-float ABI guarantees an
    // enabled FPU.
    unsafe {
        match (rule, store) {
            (Rule::Adam, true) => core::arch::asm!(
                head!(), "vstmia {g}!, {{s23}}", adam_body!(), tail!(),
                kx = inout(reg) kp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                x = in(reg) xp, cols = in(reg) cols, j = out(reg) _,
                p = inout(reg) p => _, s = inout(reg) s => _, g = inout(reg) g => _,
            ),
            (Rule::Adam, false) => core::arch::asm!(
                head!(), adam_body!(), tail!(),
                kx = inout(reg) kp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                x = in(reg) xp, cols = in(reg) cols, j = out(reg) _,
                p = inout(reg) p => _, s = inout(reg) s => _,
            ),
            (Rule::Sgd, true) => core::arch::asm!(
                head!(), "vstmia {g}!, {{s23}}", sgd_body!(), tail!(),
                kx = inout(reg) kp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                x = in(reg) xp, cols = in(reg) cols, j = out(reg) _,
                p = inout(reg) p => _, g = inout(reg) g => _,
            ),
            (Rule::Sgd, false) => core::arch::asm!(
                head!(), sgd_body!(), tail!(),
                kx = inout(reg) kp => _, d = inout(reg) dp => _, rows = inout(reg) rows => _,
                x = in(reg) xp, cols = in(reg) cols, j = out(reg) _,
                p = inout(reg) p => _,
            ),
        }
    }
    true
}
