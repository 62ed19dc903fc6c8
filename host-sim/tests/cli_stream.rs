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

/// A six-axis recording with named classes, a held-out file and the per-class plot:
/// the pipeline options reach the run, the confusion matrices and the test accuracy
/// are printed, and a label the training file never had is an error naming the
/// test file's line and column.
#[test]
fn a_configured_pipeline_with_named_classes_and_a_test_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = |n: usize, phase: usize| {
        let mut csv = String::from("ax,ay,az,gx,gy,gz,label\n");
        for i in 0..n {
            let seg = (i + phase) / 60 % 3;
            let t = i as f64 * 0.9;
            let (a, g, name) = match seg {
                0 => (0.0, 0.0, "rest"),
                1 => (8.0 * t.sin(), 0.5, "walk"),
                _ => (25.0 * (2.0 * t).sin(), 6.0 * t.cos(), "run"),
            };
            let n = (i % 7) as f64 * 0.01;
            csv.push_str(&format!(
                "{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{name}\n",
                n + a,
                9.8 - n,
                a / 3.0 + n,
                g + n,
                -g,
                n
            ));
        }
        csv
    };
    write(dir.path(), "train.csv", &rows(3000, 0));
    write(dir.path(), "test.csv", &rows(900, 7));
    let args = [
        "stream",
        "--source",
        "csv",
        "--csv",
        "train.csv",
        "--test-csv",
        "test.csv",
        "--window",
        "15",
        "--hop",
        "5",
        "--sample-rate",
        "25",
        "--range",
        "40",
        "--lr",
        "0.005",
        "--standardize",
        "--plot",
        "bm.png",
    ];
    let out = run_in(dir.path(), &args);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "6 axes (ax,ay,az,gx,gy,gz), window 15 hop 5 at 25 Hz, range 40, 3 classes (rest,run,walk)"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("prequential confusion"), "{}", out.stdout);
    let test_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("test test.csv: accuracy "))
        .unwrap_or_else(|| panic!("no test line:\n{}", out.stdout));
    let pct: f64 = test_line
        .split('=')
        .nth(1)
        .and_then(|s| s.trim().split('%').next())
        .and_then(|s| s.parse().ok())
        .expect("a percentage");
    assert!(pct > 80.0, "{test_line}");
    let png = std::fs::read(dir.path().join("bm-classes.png")).expect("class plot");
    assert_eq!(&png[..4], b"\x89PNG");
    let svg = std::fs::read_to_string(dir.path().join("bm-classes.svg")).expect("class svg");
    assert!(svg.contains("walk") && svg.contains("held-out test"));
    // Readings up to 25 exceed the demo's 2 g range: rejected as saturated.
    let narrow: Vec<&str> = args[..args.len() - 2]
        .iter()
        .map(|a| if *a == "40" { "2" } else { a })
        .collect();
    let out2 = run_in(dir.path(), &narrow);
    assert!(
        out2.stdout
            .lines()
            .any(|l| l.starts_with("bad readings:") && !l.contains("saturated 0")),
        "{}",
        out2.stdout
    );
    // A label the training file never had.
    write(
        dir.path(),
        "bad.csv",
        "ax,ay,az,gx,gy,gz,label\n0,0,0,0,0,0,swim\n",
    );
    let bad = [
        "stream",
        "--source",
        "csv",
        "--csv",
        "train.csv",
        "--test-csv",
        "bad.csv",
    ];
    let out3 = run_in(dir.path(), &bad);
    assert_eq!(out3.code, Some(2), "{}", out3.stderr);
    assert!(
        out3.stderr
            .contains("bad.csv: line 2, column 7 (label): label \"swim\""),
        "{}",
        out3.stderr
    );
    // The simulated stream is the demo's: a pipeline option is refused, naming it.
    let out4 = run(&["stream", "--window", "16"]);
    assert_eq!(out4.code, Some(2));
    assert!(out4.stderr.contains("--window"), "{}", out4.stderr);
}

/// `--pretrain` writes the model the `fine-tune` firmware embeds, bit for bit, and
/// `--fine-tune` adapts its last layer alone after the change, ending with the
/// firmware's checksum (firmware/run-tests compares the two).
#[test]
fn the_pretrained_model_fine_tunes_its_last_layer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["stream", "--pretrain", "p.mtm"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("the same parameters as the model this build embeds"),
        "{}",
        out.stdout
    );
    let written = std::fs::read(dir.path().join("p.mtm")).expect("the model file");
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../stream/pretrained/stream-9-16-3.mtm"
    ))
    .expect("stream/pretrained/stream-9-16-3.mtm");
    assert_eq!(written, shipped);

    let out = run(&["stream", "--fine-tune"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let o = &out.stdout;
    assert!(
        o.contains("model: f32, pretrained (first layer frozen in flash, last layer adapting)"),
        "{o}"
    );
    let (before, after, end) = (result(o, "before"), result(o, "after"), result(o, "end"));
    assert!(
        percent(before) >= 96.0 && percent(after) + 20.0 <= percent(before) && percent(end) >= 80.0,
        "{o}"
    );
    assert!(
        o.contains("checksum 0x8fed8350") && o.contains("verdict pass"),
        "{o}"
    );
}

#[test]
fn fine_tune_takes_the_simulated_stream_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "s.csv", "x,y,z,label\n0,0,1,0\n");
    let out = run_in(
        dir.path(),
        &["stream", "--fine-tune", "--source", "csv", "--csv", "s.csv"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stdout);
    assert!(
        out.stderr.contains("--fine-tune runs the simulated stream"),
        "{}",
        out.stderr
    );
}

/// `--model cnn`: a 1-d CNN on the raw window, channel-major, learns a recording whose
/// classes differ in rhythm, not in level; it needs `--input raw` and windows of 14
/// readings or more, and says so.
#[test]
fn a_cnn_learns_the_raw_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut csv = String::from("x,y,label\n");
    for i in 0..6000 {
        let slow = (i / 80) % 2 == 0;
        let t = i as f64;
        let v = if slow { (t * 0.3).sin() } else { (t * 2.5).sin() };
        csv.push_str(&format!(
            "{v:.4},{:.4},{}\n",
            -v,
            if slow { "slow" } else { "fast" }
        ));
    }
    write(dir.path(), "r.csv", &csv);
    let base = [
        "stream",
        "--source",
        "csv",
        "--csv",
        "r.csv",
        "--window",
        "20",
        "--hop",
        "10",
        "--range",
        "4",
        "--log-every",
        "1000",
    ];
    let out = run_in(
        dir.path(),
        &[&base[..], &["--input", "raw", "--model", "cnn", "--lr", "0.005"]].concat(),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("CNN 2x20 -> conv 8 k5, maxpool 2, conv 16 k5, global average -> 2 (778 parameters)"),
        "{}",
        out.stdout
    );
    let (c, t) = result(&out.stdout, "overall");
    assert!(t == 599 && percent((c, t)) > 85.0, "{}", out.stdout);
    let e = run_in(dir.path(), &[&base[..], &["--model", "cnn"]].concat());
    assert_eq!(e.code, Some(2));
    assert!(
        e.stderr
            .contains("--model cnn reads the raw window: add --input raw"),
        "{}",
        e.stderr
    );
    let e = run_in(
        dir.path(),
        &[
            "stream", "--source", "csv", "--csv", "r.csv", "--window", "12", "--input", "raw", "--model",
            "cnn",
        ],
    );
    assert!(
        e.stderr
            .contains("--model cnn needs windows of at least 14 readings"),
        "{}",
        e.stderr
    );
}
