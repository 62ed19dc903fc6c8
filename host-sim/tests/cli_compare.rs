//! `microtrain-sim compare` writes valid PNG, SVG and GIF figures and a table with a row
//! per optimizer, prints each optimizer's learning rate on each test surface, and takes
//! `--lr NAME=VALUE`; `memory` prints the exact bytes and a clear verdict.

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

/// The frames of a GIF file, read block by block (GIF89a: header, screen descriptor,
/// global color table, then extensions and images up to the trailer): `(width,
/// height, images, graphic control extensions)`.
fn gif_frames(path: &Path) -> (u16, u16, usize, usize) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&b[..6], b"GIF89a", "{}: GIF signature", path.display());
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let (w, h) = (u16_at(6), u16_at(8));
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let mut i = 13 + table(b[10]);
    // Skips a run of data sub-blocks (length-prefixed, ended by a zero length).
    let skip_blocks = |mut i: usize| {
        while b[i] != 0 {
            i += 1 + usize::from(b[i]);
        }
        i + 1
    };
    let (mut images, mut controls) = (0, 0);
    loop {
        match b[i] {
            0x21 => {
                controls += usize::from(b[i + 1] == 0xF9);
                i = skip_blocks(i + 2);
            }
            0x2C => {
                images += 1;
                assert_eq!((u16_at(i + 5), u16_at(i + 7)), (w, h), "full frames");
                i = skip_blocks(i + 10 + table(b[i + 9]) + 1);
            }
            0x3B => break,
            other => panic!("{}: unexpected block {other:#04x} at {i}", path.display()),
        }
    }
    assert_eq!(i + 1, b.len(), "{}: bytes after the trailer", path.display());
    (w, h, images, controls)
}

/// The lines `compare` prints for the optimizers' paths on `surface`.
fn surface_lines<'a>(stdout: &'a str, surface: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with(&format!("paths on the {surface} surface")))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect()
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
        &["the two parameters", "minimum", "Adam, lr ", "arrives at step"],
    );
    check_svg(
        &figs.join("surface-saddle.svg"),
        &["start", "saddle point", "escaped at step"],
    );
    check_svg(&figs.join("lr-sgd.svg"), &["lr 0.1", "diverged"]);
    for name in ["rosenbrock", "beale", "saddle"] {
        let (w, h, images, controls) = gif_frames(&figs.join(format!("surface-{name}.gif")));
        assert_eq!((w, h), (720, 504), "{name}");
        assert!(images > 20, "{name}: {images} frames");
        assert_eq!(controls, images, "{name}: a delay per frame");
        // One line per optimizer: its learning rate, searched, and how its path ended.
        let lines = surface_lines(&out.stdout, name);
        assert_eq!(lines.len(), names.len(), "{name}:\n{}", out.stdout);
        for (l, n) in lines.iter().zip(names) {
            let words: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(words[..2], [n, "lr"], "{l}");
            assert!(words[2].parse::<f32>().is_ok_and(|lr| lr > 0.0), "{l}");
            assert_eq!(words[3], "searched", "{l}");
        }
    }
    // Every Rosenbrock path ends at the minimum.
    for l in surface_lines(&out.stdout, "rosenbrock") {
        assert!(l.contains("within 0.04 of the minimum from step"), "{l}");
    }
    // Only the figures: no temporary files left.
    assert_eq!(std::fs::read_dir(&figs).expect("dir").count(), 13);
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
fn compare_lr_fixes_a_rate_on_the_surfaces_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &[
            "compare",
            "--epochs",
            "2",
            "--surface",
            "saddle",
            "--lr",
            "adam=0.05",
            "--lr",
            "SGD=0.1,RMSprop=0.002",
            "--out-dir",
            "figs",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = surface_lines(&out.stdout, "saddle");
    let line = |n: &str| {
        let l = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("no line for {n}:\n{}", out.stdout));
        l.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(line("Adam"), "Adam lr 0.05 (--lr)");
    assert_eq!(line("SGD"), "SGD lr 0.1 (--lr)");
    assert_eq!(line("RMSprop"), "RMSprop lr 0.002 (--lr)");
    assert!(line("AdamW").ends_with("searched"), "{}", line("AdamW"));
    check_svg(
        &dir.path().join("figs/surface-saddle.svg"),
        &["Adam, lr 0.05 (--lr)"],
    );
    // The Iris runs keep their own rates: Adam's row still says 0.01.
    let row = out
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("Adam"))
        .expect("Adam's row");
    assert_eq!(row.split_whitespace().nth(1), Some("0.01"), "{row}");
}

#[test]
fn compare_lr_names_a_bad_name_or_value() {
    for (arg, needles) in [
        (
            "adamm=0.1",
            &["--lr adamm=0.1", "unknown optimizer \"adamm\"", "radam"][..],
        ),
        (
            "adam=fast",
            &["--lr adam=fast", "\"fast\" is not a number > 0"][..],
        ),
        ("nesterov=-1", &["--lr nesterov=-1", "not a number > 0"][..]),
        ("momentum", &["--lr momentum", "NAME=VALUE"][..]),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = run_in(dir.path(), &["compare", "--lr", arg, "--out-dir", "figs"]);
        assert_eq!(out.code, Some(2), "{arg}: {}", out.stderr);
        for n in needles {
            assert!(out.stderr.contains(n), "{arg}: no {n:?} in {}", out.stderr);
        }
        assert!(!dir.path().join("figs").exists(), "{arg}: nothing written");
    }
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
