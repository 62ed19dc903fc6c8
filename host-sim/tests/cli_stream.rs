//! `microtrain-sim stream`: the model adapts after the regime change (within stated
//! bounds), the plot files are valid, recorded CSV streams run, and a bad CSV is one
//! clear message with exit status 2.

mod cli_common;
use cli_common::{run, run_in, write};

/// `(correct, total)` of `what` (`before`, `after`, `end`) in the `result` line.
fn result(stdout: &str, what: &str) -> (u32, u32) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("result "))
        .unwrap_or_else(|| panic!("no result line:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words
        .iter()
        .position(|w| *w == what)
        .expect("the field is in the line");
    let (c, t) = words[i + 1].split_once('/').expect("correct/total");
    (c.parse().expect("a count"), t.parse().expect("a count"))
}

fn percent((c, t): (u32, u32)) -> f64 {
    100.0 * f64::from(c) / f64::from(t)
}

/// Bounds stated in the README: >= 80 % over the 50 windows before the change, at least
/// 20 points lower over the 20 after it, >= 80 % again over the last 50 windows.
#[test]
fn the_model_adapts_after_the_regime_change() {
    for seed in ["42", "3", "11"] {
        let out = run(&["stream", "--seed", seed]);
        assert_eq!(out.code, Some(0), "seed {seed}: {}\n{}", out.stdout, out.stderr);
        let (before, after, end) = (
            result(&out.stdout, "before"),
            result(&out.stdout, "after"),
            result(&out.stdout, "end"),
        );
        assert_eq!((before.1, after.1, end.1), (50, 20, 50), "seed {seed}");
        assert!(
            percent(before) >= 80.0,
            "seed {seed}: before the change {before:?}"
        );
        assert!(
            percent(after) <= percent(before) - 20.0,
            "seed {seed}: the change did not hurt: {after:?}"
        );
        assert!(percent(end) >= 80.0, "seed {seed}: no recovery: {end:?}");
        assert!(
            out.stdout.contains("regime change at window 300"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.lines().any(|l| l.starts_with("checksum 0x")),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("verdict pass"));
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = run(&["stream", "--seed", "5", "--windows", "200"]);
    let b = run(&["stream", "--seed", "5", "--windows", "200"]);
    assert_eq!(a.stdout, b.stdout);
    let c = run(&["stream", "--seed", "6", "--windows", "200"]);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn the_plot_is_written_as_png_and_svg() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["stream", "--windows", "200", "--plot", "acc.png"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let png = std::fs::read(dir.path().join("acc.png")).expect("the PNG exists");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    let svg = std::fs::read_to_string(dir.path().join("acc.svg")).expect("the SVG exists");
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("regime change"),
        "the change is marked in the legend"
    );
}

/// A recorded stream: 40 windows of 32 samples, rest (still, 1 g on z) with label 0 and
/// walk (a swinging y axis) with label 1, alternating; the model learns to tell them.
#[test]
fn a_recorded_csv_stream_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut csv = String::from("x,y,z,label\n");
    for w in 0..40 {
        for i in 0..32 {
            let t = f64::from(i) / 50.0;
            let jitter = f64::from((w * 32 + i) % 7) * 0.001;
            let (x, y, z, label) = if w % 2 == 0 {
                (0.01 + jitter, 0.02 - jitter, 1.0 + jitter, 0)
            } else {
                (0.1 + jitter, (t * 12.0).sin() * 0.6, 0.9 - jitter, 1)
            };
            csv.push_str(&format!("{x:.4},{y:.4},{z:.4},{label}\n"));
        }
    }
    write(dir.path(), "rec.csv", &csv);
    let out = run_in(
        dir.path(),
        &[
            "stream",
            "--source",
            "csv",
            "--csv",
            "rec.csv",
            "--log-every",
            "10",
        ],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    // Prequential accuracy: at chance (about half) early on, every window right at the end.
    let recent = |w: &str| {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("window {w}:")))
            .expect("logged");
        let frac = line.split_whitespace().nth(3).expect("recent c/t");
        frac.split_once('/')
            .expect("c/t")
            .0
            .parse::<u32>()
            .expect("a count")
    };
    assert!(
        recent("40") - recent("30") >= 9,
        "the last 10 windows: {}",
        out.stdout
    );
    assert!(
        out.stdout.lines().any(|l| l.starts_with("checksum 0x")),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn a_bad_csv_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "bad.csv", "x,y,z\n0.1,0.2,1.0\n0.1,abc,1.0\n");
    let out = run_in(dir.path(), &["stream", "--source", "csv", "--csv", "bad.csv"]);
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("bad.csv"), "{}", out.stderr);
    assert!(out.stderr.contains("line 3, column 2 (y)"), "{}", out.stderr);
    assert!(
        out.stderr.contains("\"abc\""),
        "the bad value is shown: {}",
        out.stderr
    );
    assert_eq!(
        out.stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "one message: {}",
        out.stderr
    );
}
