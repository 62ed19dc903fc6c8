//! The dense layer's forward and gradient-accumulation kernels in FPU assembly, for Cortex-M cores with a
//! single-precision FPU (`thumbv7em-none-eabihf`, `thumbv8m.main-none-eabihf`).
//!
//! Stable Rust cannot name FPU registers in inline assembly on a single-precision FPU,
//! and LLVM loads each float with its own `VLDR`. This loop loads four weights and
//! four inputs with one `VLDM` each: 8 instructions per 4 multiply-adds instead of
//! about 17. The arithmetic is [`super::affine`]'s, in the same order (four partial
//! sums from zero, `(s0 + s1) + (s2 + s3)`, the remainder in order, then the bias;
//! `VMLA` rounds the product before adding, as `VMUL` then `VADD` do), so the bits
//! are the same as on the host. The firmware tests check it end to end: the QEMU
//! Cortex-M4F build ends with the host's checksum.

/// `out[i] = dot(W[i, :], x) + b[i]` (see [`super::affine`]). Returns `false`, having
/// touched nothing, unless `w` is exactly `out.len() x x.len()`, `b` has `out.len()`
/// floats and neither dimension is zero; the caller then takes the portable loop.
#[allow(unsafe_code)]
pub(crate) fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) -> bool {
    let (rows, cols) = (out.len(), x.len());
    if rows == 0 || cols == 0 || b.len() != rows || rows.checked_mul(cols) != Some(w.len()) {
        return false;
    }
    let (chunks, rem) = (cols / 4, cols % 4);
    // SAFETY: per row, the block reads `cols` floats of `w` (consecutive rows, `rows *
    // cols` in all, the length of `w`), `cols` floats of `x` from its start, one float
    // of `b`, and writes one float of `out`: `rows` rows, each within its slice (lengths
    // checked above; `rows >= 1`, and both inner loops are skipped when their count is
    // zero). `out` is a `&mut` slice distinct from the inputs. The FPU registers it uses
    // (s16-s27) are saved with `vpush` and restored with `vpop` (hence no `nostack`);
    // every core register it changes is an operand. The hard-float ABI guarantees an
    // enabled FPU.
    unsafe {
        core::arch::asm!(
            "vpush {{s16-s27}}",
            "2:",
            "movs {j}, #0",
            "vmov s16, s17, {j}, {j}",
            "vmov s18, s19, {j}, {j}",
            "mov {xp}, {x}",
            "movs {j}, {chunks}",
            "beq 4f",
            "3:",
            "vldmia {w}!, {{s20-s23}}",
            "vldmia {xp}!, {{s24-s27}}",
            "vmla.f32 s16, s20, s24",
            "vmla.f32 s17, s21, s25",
            "vmla.f32 s18, s22, s26",
            "vmla.f32 s19, s23, s27",
            "subs {j}, {j}, #1",
            "bne 3b",
            "4:",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "movs {j}, {rem}",
            "beq 6f",
            "5:",
            "vldmia {w}!, {{s20}}",
            "vldmia {xp}!, {{s24}}",
            "vmla.f32 s16, s20, s24",
            "subs {j}, {j}, #1",
            "bne 5b",
            "6:",
            "vldmia {b}!, {{s20}}",
            "vadd.f32 s16, s16, s20",
            "vstmia {out}!, {{s16}}",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            "vpop {{s16-s27}}",
            w = inout(reg) w.as_ptr() => _,
            b = inout(reg) b.as_ptr() => _,
            out = inout(reg) out.as_mut_ptr() => _,
            rows = inout(reg) rows => _,
            x = in(reg) x.as_ptr(),
            chunks = in(reg) chunks,
            rem = in(reg) rem,
            xp = out(reg) _,
            j = out(reg) _,
        );
    }
    true
}

/// `gw[i, :] += d[i] * x` for every row `i` (the weight part of
/// [`super::outer_acc`], same bits: `VMLA` rounds the product before adding). Returns
/// `false`, having touched nothing, unless `gw` is exactly `d.len() x x.len()` and
/// neither dimension is zero.
#[allow(unsafe_code)]
pub(crate) fn outer_acc(gw: &mut [f32], d: &[f32], x: &[f32]) -> bool {
    let (rows, cols) = (d.len(), x.len());
    if rows == 0 || cols == 0 || rows.checked_mul(cols) != Some(gw.len()) {
        return false;
    }
    let (chunks, rem) = (cols / 4, cols % 4);
    // SAFETY: per row, the block reads one float of `d` and `cols` floats of `x` from
    // its start, and reads and writes `cols` floats of `gw` (consecutive rows, `rows *
    // cols` in all, the length of `gw`, checked above; `rows >= 1`, and both inner
    // loops are skipped when their count is zero). `gw` is a `&mut` slice distinct
    // from the inputs. s16-s27 are saved with `vpush` and restored with `vpop` (hence
    // no `nostack`); every core register changed is an operand; the hard-float ABI
    // guarantees an enabled FPU.
    unsafe {
        core::arch::asm!(
            "vpush {{s16-s27}}",
            "2:",
            "vldmia {d}!, {{s16}}",
            "mov {xp}, {x}",
            "movs {j}, {chunks}",
            "beq 4f",
            "3:",
            "vldmia {g}, {{s20-s23}}",
            "vldmia {xp}!, {{s24-s27}}",
            "vmla.f32 s20, s16, s24",
            "vmla.f32 s21, s16, s25",
            "vmla.f32 s22, s16, s26",
            "vmla.f32 s23, s16, s27",
            "vstmia {g}!, {{s20-s23}}",
            "subs {j}, {j}, #1",
            "bne 3b",
            "4:",
            "movs {j}, {rem}",
            "beq 6f",
            "5:",
            "vldr s20, [{g}]",
            "vldmia {xp}!, {{s24}}",
            "vmla.f32 s20, s16, s24",
            "vstmia {g}!, {{s20}}",
            "subs {j}, {j}, #1",
            "bne 5b",
            "6:",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            "vpop {{s16-s27}}",
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
    true
}
