//! The nine optimizers `compare` runs side by side, each with a learning rate typical
//! for it (adaptive methods take steps of about `lr` in parameter space; plain
//! gradient steps scale with the gradient).

use microtrain::{Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, RAdam, RMSprop, Sgd};

/// A named optimizer config.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Display name.
    pub name: &'static str,
    /// The config.
    pub opt: AnyOptimizer,
}

/// The nine optimizers, with learning rates `grad_lr` (SGD family), `adaptive_lr`
/// (Adagrad gets 10x, as its steps shrink) and `adadelta_lr`.
pub fn lineup(grad_lr: f32, adaptive_lr: f32, adadelta_lr: f32) -> Vec<Entry> {
    let e = |name, opt: AnyOptimizer| Entry { name, opt };
    vec![
        e("SGD", Sgd::new(grad_lr).into()),
        e("Momentum", Sgd::momentum(grad_lr, 0.9).into()),
        e("Nesterov", Sgd::nesterov(grad_lr, 0.9).into()),
        e(
            "Adagrad",
            Adagrad::new((f64::from(adaptive_lr) * 10.0) as f32).into(),
        ),
        e("Adadelta", Adadelta::new(adadelta_lr).into()),
        e("RMSprop", RMSprop::new(adaptive_lr).into()),
        e("Adam", Adam::new(adaptive_lr).into()),
        e("AdamW", AdamW::new(adaptive_lr).into()),
        e("RAdam", RAdam::new(adaptive_lr).into()),
    ]
}

/// A copy of `opt` with learning rate `lr`.
pub fn with_lr(opt: AnyOptimizer, lr: f32) -> AnyOptimizer {
    match opt {
        AnyOptimizer::Sgd(o) => Sgd { lr, ..o }.into(),
        AnyOptimizer::Adagrad(o) => Adagrad { lr, ..o }.into(),
        AnyOptimizer::Adadelta(o) => Adadelta { lr, ..o }.into(),
        AnyOptimizer::RMSprop(o) => RMSprop { lr, ..o }.into(),
        AnyOptimizer::Adam(o) => Adam { lr, ..o }.into(),
        AnyOptimizer::AdamW(o) => AdamW { lr, ..o }.into(),
        AnyOptimizer::RAdam(o) => RAdam { lr, ..o }.into(),
    }
}

/// A learning rate for display, to six significant digits (`0.1`, not `0.099999994`).
pub fn fmt_lr(lr: f32) -> String {
    format!("{lr:.5e}")
        .parse::<f64>()
        .map_or_else(|_| lr.to_string(), |v| v.to_string())
}
