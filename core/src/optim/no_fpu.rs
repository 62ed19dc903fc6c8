//! The stand-in for `optim/vfp.rs` on targets without a hard-float Arm FPU: its
//! `kernel_overrides!()` adds nothing, so an optimizer's `UpdateRule` keeps the
//! portable defaults.

/// Nothing: the portable update loops stay.
macro_rules! kernel_overrides {
    () => {};
}
pub(crate) use kernel_overrides;

/// Whether this target has the optimizers' FPU kernels: not here.
pub const FPU_KERNELS: bool = false;
