//! The short soak run (CI): the binary's `--short` mode passes its checks, and the
//! library's figures show learning in every regime with no rejected step.

use assert_cmd::Command;
use microtrain_soak::{run, run::regimes, Which};

#[test]
fn short_soak_run_passes_its_checks() {
    let out = Command::cargo_bin("microtrain-soak")
        .unwrap()
        .arg("--short")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "soak --short failed:\n{text}");
    assert!(text.contains("soak: all checks passed"), "{text}");
    for name in ["adam", "adagrad", "sgd-momentum"] {
        assert!(text.contains(&format!("== {name} ==")), "{name} missing:\n{text}");
    }
    assert_eq!(
        text.matches("steps: 100000  step_count: 100000  rejected steps: 0")
            .count(),
        3,
        "{text}"
    );
    assert_eq!(
        text.matches("heap allocations during the run: 0").count(),
        3,
        "{text}"
    );
}

#[test]
fn every_optimizer_learns_each_regime_and_stays_finite() {
    let (steps, regime_len, window) = (40_000, 10_000, 1_000);
    for which in Which::ALL {
        let r = run(
            which,
            steps,
            regime_len,
            window,
            Vec::with_capacity(regimes(steps, regime_len)),
        );
        assert!(r.finite, "{which:?}: non-finite values");
        assert!(r.saturates, "{which:?}: step count did not saturate");
        assert_eq!((r.step_count, r.rejected), (40_000, 0), "{which:?}");
        assert_eq!(r.regimes.len(), 4);
        for (i, g) in r.regimes.iter().enumerate() {
            assert!(
                g.last.is_finite() && g.last < g.first / 2.0,
                "{which:?} regime {i}: {g:?}"
            );
        }
    }
}

#[test]
fn an_unknown_optimizer_name_is_a_clear_error() {
    let out = Command::cargo_bin("microtrain-soak")
        .unwrap()
        .args(["--short", "--optimizer", "lbfgs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--optimizer lbfgs"));
}
