//! The nine optimizers `compare` runs side by side, each with a learning rate typical
//! for it (adaptive methods take steps of about `lr` in parameter space; plain
//! gradient steps scale with the gradient).

use microtrain::{Adadelta, Adagrad, Adam, AdamW, AnyOptimizer, Config, Hyper, RAdam, RMSprop, Sgd};

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

/// A copy of `opt` with learning rate `lr` (every optimizer of the registry has one).
pub fn with_lr(mut opt: AnyOptimizer, lr: f32) -> AnyOptimizer {
    // `lr` is a number hyperparameter of every optimizer: this cannot fail.
    let _ = opt.set_hyperparameter("lr", Hyper::Number(lr));
    opt
}

/// A learning rate for display, to six significant digits (`0.1`, not `0.099999994`).
pub fn fmt_lr(lr: f32) -> String {
    format!("{lr:.5e}")
        .parse::<f64>()
        .map_or_else(|_| lr.to_string(), |v| v.to_string())
}

/// The lineup's names, lowercase, as `--lr` takes them.
pub const NAMES: [&str; 9] = [
    "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "radam",
];

/// Parses `--lr` values `NAME=VALUE` (NAME a lineup name in any case, VALUE a positive
/// number) into `(lineup name, learning rate)` pairs. An unknown name, a bad value or
/// a name given twice is an error naming the value.
pub fn parse_lr_overrides(values: &[String]) -> Result<Vec<(&'static str, f32)>, String> {
    let names = lineup(1.0, 1.0, 1.0);
    let mut out: Vec<(&'static str, f32)> = Vec::new();
    for v in values {
        let (name, value) = v
            .split_once('=')
            .ok_or_else(|| format!("--lr {v}: expected NAME=VALUE, e.g. adam=0.05"))?;
        let name = name.trim();
        let entry = names
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!(
                    "--lr {v}: unknown optimizer {name:?} (one of {})",
                    NAMES.join(", ")
                )
            })?;
        let lr: f32 = value
            .trim()
            .parse()
            .ok()
            .filter(|lr: &f32| lr.is_finite() && *lr > 0.0)
            .ok_or_else(|| format!("--lr {v}: the learning rate {value:?} is not a number > 0"))?;
        if out.iter().any(|(n, _)| *n == entry.name) {
            return Err(format!("--lr {v}: {} is given twice", entry.name));
        }
        out.push((entry.name, lr));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_lr_changes_only_the_learning_rate_of_every_optimizer() {
        for r in microtrain::optim::OPTIMIZERS {
            let opt = (r.default)();
            let changed = with_lr(opt, 0.125);
            assert_eq!(changed.lr(), 0.125, "{}", r.name);
            for i in 1..opt.hyperparameter_names().len() {
                assert_eq!(changed.hyperparameter(i), opt.hyperparameter(i), "{}", r.name);
            }
        }
    }

    #[test]
    fn lr_overrides_name_what_is_wrong() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_lr_overrides(&args(&["SGD=0.002", "rmsprop=1e-3", "RAdam=0.001"])),
            Ok(vec![("SGD", 0.002), ("RMSprop", 0.001), ("RAdam", 0.001)])
        );
        let e = parse_lr_overrides(&args(&["adamm=0.1"])).unwrap_err();
        assert!(e.contains("\"adamm\"") && e.contains("radam"), "{e}");
        for bad in ["adam=0", "adam=-1", "adam=fast", "adam=inf", "adam="] {
            let e = parse_lr_overrides(&args(&[bad])).unwrap_err();
            assert!(e.starts_with(&format!("--lr {bad}:")) && e.contains("> 0"), "{e}");
        }
        let e = parse_lr_overrides(&args(&["adam"])).unwrap_err();
        assert!(e.contains("NAME=VALUE"), "{e}");
        let e = parse_lr_overrides(&args(&["adam=0.1", "ADAM=0.2"])).unwrap_err();
        assert!(e.contains("Adam is given twice"), "{e}");
        assert_eq!(NAMES.len(), lineup(1.0, 1.0, 1.0).len());
    }
}
