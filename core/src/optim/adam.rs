//! Adam (`torch.optim.Adam`), with the AMSGrad variant.
//!
//! With `g_k` the gradient at step `k` (plus `weight_decay * p` when set; see
//! [`AdamW`](super::AdamW) for decoupled decay):
//!
//! ```text
//! m_k = beta1 m_{k-1} + (1 - beta1) g_k
//! v_k = beta2 v_{k-1} + (1 - beta2) g_k^2
//! AMSGrad: vmax_k = max(vmax_{k-1}, v_k), used in place of v_k below
//! p  <- p - lr / (1 - beta1^k) * m_k / (sqrt(v_k) / sqrt(1 - beta2^k) + eps)
//! ```
//!
//! The course's slide writes the bias-corrected moments `m_hat = m / (1 - beta1^t)`,
//! `v_hat = v / (1 - beta2^t)` and `p <- p - eta m_hat / (sqrt(v_hat) + eps)`: the same
//! rule with the corrections folded into two per-step scalars, computed once per step
//! by [`crate::math::one_minus_pow`] (single precision, without
//! cancellation).

use super::{check, check_common, lerp, Optimizer, StepScalars, UpdateRule};
use crate::error::HyperparameterError;
use crate::math;

/// Adam hyperparameters, PyTorch's defaults (`betas = (beta1, beta2)`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adam {
    /// Learning rate (default 0.001).
    pub lr: f32,
    /// Decay of the first moment (default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (default 0.999).
    pub beta2: f32,
    /// Added to the denominator (default 1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
    /// Use the running maximum of the second moment (default false).
    pub amsgrad: bool,
}

super::hyperparameters!(Adam {
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad
});

impl Default for Adam {
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl Adam {
    /// Adam with learning rate `lr` and PyTorch's other defaults.
    pub const fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }

    /// State floats per parameter: `m` and `v`, plus `vmax` with AMSGrad.
    pub const fn state_per_param(&self) -> usize {
        2 + self.amsgrad as usize
    }

    /// Whether the FPU kernel (hard-float Arm) covers this configuration: no weight
    /// decay, no AMSGrad, and `|1 - beta1| < 0.5` (the branch of PyTorch's `lerp` that
    /// the kernel computes). See [`plan_for!`](crate::plan_for).
    pub const fn fpu_kernel_covers(&self) -> bool {
        self.weight_decay == 0.0 && !self.amsgrad && (1.0 - self.beta1).abs() < 0.5
    }
}

/// Validates the hyperparameters Adam, AdamW and RAdam share.
pub(crate) fn validate_betas(
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    wd: f32,
) -> Result<(), HyperparameterError> {
    check_common(lr, Some(eps), wd)?;
    check("beta1", beta1, (0.0..1.0).contains(&beta1), "0 <= beta1 < 1")?;
    check("beta2", beta2, (0.0..1.0).contains(&beta2), "0 <= beta2 < 1")
}

/// Adam's per-step scalars: `lr` = `lr_t / (1 - beta1^k)`, `a` = `sqrt(1 - beta2^k)`.
pub(crate) fn adam_scalars(beta1: f32, beta2: f32, lr: f32, k: u32) -> StepScalars {
    let bc1 = math::one_minus_pow(beta1, k);
    let bc2_sqrt = math::sqrt(math::one_minus_pow(beta2, k));
    StepScalars {
        lr: lr / bc1,
        a: bc2_sqrt,
        ..StepScalars::default()
    }
}

/// The Adam update shared by [`Adam`] and [`AdamW`](super::AdamW): `wd` is the L2
/// penalty added to the gradient (0 for AdamW, which decays the weights itself).
pub(crate) fn adam_update<G: Iterator<Item = f32>>(
    c: &Adam,
    wd: f32,
    sc: &StepScalars,
    params: &mut [f32],
    grads: G,
    state: &mut [f32],
) {
    match (wd != 0.0, c.amsgrad) {
        (false, false) => adam_loop::<false, false, G>(c, wd, sc, params, grads, state),
        (true, false) => adam_loop::<true, false, G>(c, wd, sc, params, grads, state),
        (false, true) => adam_loop::<false, true, G>(c, wd, sc, params, grads, state),
        (true, true) => adam_loop::<true, true, G>(c, wd, sc, params, grads, state),
    }
}

/// The loop of [`adam_update`], with the weight-decay and AMSGrad choices made at
/// compile time so that neither costs an instruction per parameter.
#[inline]
fn adam_loop<const WD: bool, const AMS: bool, G: Iterator<Item = f32>>(
    c: &Adam,
    wd: f32,
    sc: &StepScalars,
    params: &mut [f32],
    grads: G,
    state: &mut [f32],
) {
    let (step_size, bc2_sqrt) = (sc.lr, sc.a);
    let (b2, eps) = (c.beta2, c.eps);
    let w1 = 1.0 - c.beta1;
    let w2 = 1.0 - b2;
    let n = if AMS { 3 } else { 2 };
    // The same arithmetic as PyTorch's single-tensor Adam: the moments, then the
    // parameter from `m` and the second moment the denominator uses (`v`, or AMSGrad's
    // running maximum of it).
    for ((p, g), s) in params.iter_mut().zip(grads).zip(state.chunks_exact_mut(n)) {
        let (m, rest) = match s.split_first_mut() {
            Some(x) => x,
            None => continue,
        };
        let (v, rest) = match rest.split_first_mut() {
            Some(x) => x,
            None => continue,
        };
        let g = if WD { g + wd * *p } else { g };
        *m = lerp(*m, g, w1);
        *v = *v * b2 + w2 * (g * g);
        let vm = match rest.first_mut() {
            Some(vmax) if AMS => {
                *vmax = math::max(*vmax, *v);
                *vmax
            }
            _ => *v,
        };
        let denom = math::sqrt(vm) / bc2_sqrt + eps;
        *p -= step_size * (*m / denom);
    }
}

impl Adam {
    /// `sc` with the per-step scalars' constant part filled in (see
    /// [`UpdateRule::scalars`](crate::optim::UpdateRule::scalars) below).
    #[inline]
    pub(super) fn with_constants(&self, sc: StepScalars) -> StepScalars {
        StepScalars {
            b: 1.0 - self.beta1,
            c: self.beta2,
            d: 1.0 - self.beta2,
            e: self.eps,
            ..sc
        }
    }
}

impl Optimizer for Adam {
    fn lr(&self) -> f32 {
        self.lr
    }

    fn state_per_param(&self) -> usize {
        Adam::state_per_param(self)
    }

    fn validate(&self) -> Result<(), HyperparameterError> {
        validate_betas(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

impl UpdateRule for Adam {
    /// `lr` = `lr_t / (1 - beta1^k)`, `a` = `sqrt(1 - beta2^k)`, and the constants
    /// the FPU kernel loads with them: `b` = `1 - beta1`, `c` = `beta2`, `d` =
    /// `1 - beta2`, `e` = `eps`.
    fn scalars(&self, lr: f64, k: u32) -> StepScalars {
        self.with_constants(adam_scalars(self.beta1, self.beta2, lr as f32, k))
    }

    fn scalars_f32(&self, lr: f32, k: u32) -> StepScalars {
        self.with_constants(adam_scalars(self.beta1, self.beta2, lr, k))
    }

    fn update<G: Iterator<Item = f32>>(
        &self,
        sc: &StepScalars,
        params: &mut [f32],
        grads: G,
        state: &mut [f32],
    ) {
        adam_update(self, self.weight_decay, sc, params, grads, state);
    }

    // The FPU kernels where they cover the configuration (on hard-float Arm only).
    super::fpu::kernel_overrides!();
}
