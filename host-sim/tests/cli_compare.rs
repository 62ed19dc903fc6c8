//! `microtrain-sim compare` writes valid PNG and SVG figures and a table with a row per
//! optimizer; `memory` prints the exact bytes and a clear verdict.

mod cli_common;
use cli_common::{run, run_in};
use std::path::Path;

fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: PNG signature",
        path.display()
    );
    assert!(
        bytes.len() > 20_000,
        "{}: only {} bytes",
        path.display(),
        bytes.len()
    );
    assert!(
        bytes.windows(4).any(|w| w == b"IEND"),
        "{}: no IEND chunk",
        path.display()
    );
}

fn check_svg(path: &Path, must_contain: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text.trim_start();
    assert!(
        start.starts_with("<svg") || start.starts_with("<?xml"),
        "{}: {}",
        path.display(),
        &text[..40]
    );
    assert!(
        text.trim_end().ends_with("</svg>"),
        "{}: not closed",
        path.display()
    );
    for s in must_contain {
        assert!(text.contains(s), "{}: no {s:?}", path.display());
    }
}

#[test]
fn compare_writes_the_figures_and_the_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &[
            "compare",
            "--epochs",
            "20",
            "--surface",
            "all",
            "--out-dir",
            "figs",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let figs = dir.path().join("figs");
    for name in [
        "optimizers",
        "surface-rosenbrock",
        "surface-beale",
        "surface-saddle",
        "lr-sgd",
    ] {
        check_png(&figs.join(format!("{name}.png")));
    }
    let names = [
        "SGD", "Momentum", "Nesterov", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "RAdam",
    ];
    check_svg(&figs.join("optimizers.svg"), &names);
    check_svg(&figs.join("optimizers.svg"), &["epoch", "training loss"]);
    check_svg(
        &figs.join("surface-rosenbrock.svg"),
        &["x (parameter 1)", "minimum", "Adam"],
    );
    check_svg(&figs.join("surface-saddle.svg"), &["start"]);
    check_svg(&figs.join("lr-sgd.svg"), &["lr 0.1", "diverged"]);
    // Only the figures: no temporary files left.
    assert_eq!(std::fs::read_dir(&figs).expect("dir").count(), 10);
    for n in names {
        let row = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("no row for {n}:\n{}", out.stdout));
        assert!(row.contains('%'), "{row}");
    }
    let state = |n: &str| {
        let row = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .expect("row");
        row.split_whitespace()
            .rev()
            .nth(3)
            .expect("state/param column")
            .to_string()
    };
    assert_eq!(state("SGD"), "0");
    assert_eq!(state("Momentum"), "1");
    assert_eq!(state("Adam"), "2");
}

#[test]
fn compare_is_deterministic() {
    let a = run(&["compare", "--epochs", "5", "--surface", "none"]);
    let b = run(&["compare", "--epochs", "5", "--surface", "none"]);
    assert_eq!(a.code, Some(0), "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn memory_gives_exact_bytes_and_a_verdict() {
    let p = 4 * 8 + 8 + 8 * 3 + 3;
    let layers = [
        microtrain::Dense::new(4, 8, microtrain::Activation::Relu),
        microtrain::Dense::new(8, 3, microtrain::Activation::Identity),
    ];
    let total = microtrain::shape::training_bytes(&layers, 2);
    let out = run(&[
        "memory",
        "--inputs",
        "4",
        "--hidden",
        "8",
        "--outputs",
        "3",
        "--optimizer",
        "adam",
        "--ram",
        "16K",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains(&format!("{} bytes", p * 4)), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("{:>9} bytes   (2 per parameter)", p * 2 * 4)),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!("{total} bytes")), "{}", out.stdout);
    assert!(out.stdout.contains("FITS in 16K (16384 bytes)"), "{}", out.stdout);
    let online = microtrain::shape::online_training_bytes(&layers, 2);
    assert_eq!(online, total - p * 4);
    assert!(
        out.stdout
            .contains(&format!("no gradient buffer, `OnlineStorage`): {online} bytes")),
        "{}",
        out.stdout
    );
    let out = run(&[
        "memory",
        "--inputs",
        "64",
        "--hidden",
        "128,128",
        "--outputs",
        "10",
        "--ram",
        "64K",
    ]);
    assert_eq!(out.code, Some(0), "exit 0 either way: {}", out.stderr);
    assert!(
        out.stdout.contains("DOES NOT FIT in 64K (65536 bytes)"),
        "{}",
        out.stdout
    );
    let out = run(&["memory", "--optimizer", "sgd"]);
    assert!(
        out.stdout.contains("0 bytes   (0 per parameter)"),
        "{}",
        out.stdout
    );
    for r in ["16K", "64K", "256K"] {
        assert!(out.stdout.contains(&format!("in {r} (")), "{}", out.stdout);
    }
}
