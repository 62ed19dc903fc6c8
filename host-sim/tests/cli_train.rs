//! `microtrain-sim train`: learns Iris, is deterministic per seed, does regression, and
//! reports the metrics.

mod cli_common;
use cli_common::{iris_csv, number_after, run, run_in, write};

fn final_line<'a>(stdout: &'a str, what: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(what))
        .unwrap_or_else(|| panic!("no {what:?} line in:\n{stdout}"))
}

#[test]
fn iris_reaches_95_percent_training_accuracy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "iris.csv", &iris_csv());
    let out = run_in(
        dir.path(),
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--target",
            "species",
            "--hidden",
            "8",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--epochs",
            "100",
            "--seed",
            "3",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let acc = number_after(final_line(&out.stdout, "training"), "accuracy");
    assert!(acc >= 95.0, "training accuracy {acc} %:\n{}", out.stdout);
    let val = number_after(final_line(&out.stdout, "validation"), "accuracy");
    assert!(val >= 80.0, "validation accuracy {val} %");
    assert!(
        out.stdout
            .contains("3 classes, one output each, in sorted order: setosa, versicolor, virginica"),
        "{}",
        out.stdout
    );
}

#[test]
fn every_optimizer_and_descent_mode_runs() {
    for (opt, extra) in [
        ("sgd", vec!["--lr", "0.1", "--batch-size", "1"]),
        ("momentum", vec!["--lr", "0.05", "--batch-size", "all"]),
        ("nesterov", vec!["--lr", "0.05"]),
        ("adagrad", vec!["--lr", "0.1"]),
        ("adadelta", vec!["--lr", "1.0"]),
        ("rmsprop", vec!["--lr", "0.01", "--centered"]),
        ("adamw", vec!["--lr", "0.01", "--weight-decay", "0.01"]),
        (
            "radam",
            vec!["--lr", "0.01", "--schedule", "step:step_size=50,gamma=0.5"],
        ),
        (
            "adam",
            vec!["--amsgrad", "--clip-norm", "1.0", "--order", "sequential"],
        ),
    ] {
        let mut args = vec!["train", "--optimizer", opt, "--epochs", "30", "--val-split", "0"];
        args.extend(extra);
        let out = run(&args);
        assert_eq!(out.code, Some(0), "{opt}: {}", out.stderr);
        let acc = number_after(final_line(&out.stdout, "training"), "accuracy");
        assert!(acc >= 70.0, "{opt}: accuracy {acc} %");
    }
}

#[test]
fn same_seed_same_numbers_other_seed_other_numbers() {
    let args = |seed: &'static str| vec!["train", "--epochs", "20", "--lr", "0.01", "--seed", seed];
    let a = run(&args("7"));
    let b = run(&args("7"));
    let c = run(&args("8"));
    assert_eq!(a.code, Some(0));
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn regression_reports_rmse() {
    let dir = tempfile::tempdir().expect("temp dir");
    // y = 2 a - b + 0.5, exactly.
    let mut csv = String::from("a,b,y\n");
    for i in 0..60 {
        let a = (i % 10) as f32 / 10.0;
        let b = (i / 10) as f32 / 6.0;
        csv.push_str(&format!("{a},{b},{}\n", 2.0 * a - b + 0.5));
    }
    let data = write(dir.path(), "lin.csv", &csv);
    let out = run_in(
        dir.path(),
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--target",
            "y",
            "--hidden",
            "0",
            "--optimizer",
            "adam",
            "--lr",
            "0.05",
            "--epochs",
            "200",
            "--val-split",
            "0",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("1 regression target"), "{}", out.stdout);
    let rmse = number_after(final_line(&out.stdout, "training"), "RMSE");
    assert!(rmse < 0.05, "RMSE {rmse}");
}

#[test]
fn help_documents_every_option() {
    let out = run(&["train", "--help"]);
    assert_eq!(out.code, Some(0));
    for opt in [
        "--data",
        "--features",
        "--target",
        "--hidden",
        "--layers",
        "--activation",
        "--loss",
        "--optimizer",
        "--lr",
        "--momentum",
        "--beta1",
        "--beta2",
        "--schedule",
        "--batch-size",
        "--epochs",
        "--seed",
        "--clip-norm",
        "--val-split",
        "--out",
        "--init",
    ] {
        let lines: Vec<&str> = out.stdout.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.trim_start().starts_with(opt))
            .unwrap_or_else(|| panic!("{opt} missing from --help"));
        // Long help: the description is on the next line.
        let text = lines.get(i + 1).map_or("", |l| l.trim());
        assert!(text.len() > 10, "{opt} has no help text: {text:?}");
    }
}
