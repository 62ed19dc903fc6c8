//! Bad input never crashes and never leaves a file behind: one clear message naming the
//! file, line and column (or the option), and exit status 2.

mod cli_common;
use cli_common::{iris_csv, run_in, write};
use std::path::Path;

/// Trains on `csv` (target `species`) asking for `m.mtm`; checks status 2, the message,
/// and that no model file (nor a temporary file) was written.
fn rejects_csv(csv: &[u8], expected: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("d.csv"), csv).expect("writable");
    let out = run_in(
        dir.path(),
        &[
            "train", "--data", "d.csv", "--target", "species", "--epochs", "2", "--out", "m.mtm",
        ],
    );
    assert_eq!(
        out.code,
        Some(2),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.contains(expected),
        "expected {expected:?} in {:?}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "one message: {:?}", out.stderr);
    assert!(!out.stderr.contains("panicked"));
    only_inputs_left(dir.path(), &["d.csv"]);
}

fn only_inputs_left(dir: &Path, inputs: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, inputs, "files left in the directory");
}

#[test]
fn wrong_column_count() {
    rejects_csv(b"a,b,species\n1,2,x\n3\n", "d.csv: line 3, column 2 (b): missing");
    rejects_csv(
        b"a,b,species\n1,2,x\n3,4,y,5\n",
        "d.csv: line 3, column 4: extra value",
    );
}

#[test]
fn non_numeric_value() {
    rejects_csv(
        b"a,b,species\n1,2,x\n3,abc,y\n",
        "d.csv: line 3, column 2 (b): \"abc\" is not a number",
    );
}

#[test]
fn non_finite_values() {
    for bad in ["NaN", "inf", "-inf", "1e39"] {
        let csv = format!("a,b,species\n1,2,x\n{bad},4,y\n");
        rejects_csv(
            csv.as_bytes(),
            &format!("d.csv: line 3, column 1 (a): \"{bad}\" is not a finite number"),
        );
    }
}

#[test]
fn malformed_csv() {
    rejects_csv(
        b"a,b,species\n1,\xff,x\n",
        "d.csv: line 2, column 2: not valid UTF-8",
    );
    rejects_csv(b"", "d.csv: empty file");
    rejects_csv(b"a,b,species\n", "d.csv: no data rows");
    rejects_csv(
        b"a,a,species\n1,2,x\n",
        "d.csv: line 1, column 2: duplicate column name",
    );
}

#[test]
fn missing_column_and_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "d.csv", "a,b,species\n1,2,x\n");
    let out = run_in(dir.path(), &["train", "--data", "d.csv", "--target", "kind"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("d.csv: no column named \"kind\""),
        "{}",
        out.stderr
    );
    let out = run_in(dir.path(), &["train", "--data", "none.csv", "--target", "kind"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("none.csv: cannot read"), "{}", out.stderr);
}

#[test]
fn bad_options() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--optimizer", "adamm"],
            "--optimizer: unknown optimizer \"adamm\"",
        ),
        (&["--lr", "-0.1"], "--lr: lr = -0.1 is invalid: need lr >= 0"),
        (
            &["--beta1", "1.0"],
            "--beta1: beta1 = 1 is invalid: need 0 <= beta1 < 1",
        ),
        (&["--beta2", "1.5"], "--beta2: beta2 = 1.5 is invalid"),
        (
            &["--optimizer", "sgd", "--beta1", "0.5"],
            "--beta1: not a hyperparameter of sgd",
        ),
        (
            &["--batch-size", "0"],
            "--batch-size: \"0\" is not a whole number >= 1 or `all`",
        ),
        (&["--val-split", "1"], "--val-split: 1 is not in [0, 1)"),
        (
            &["--schedule", "exponential:gamma=0"],
            "--schedule gamma: gamma = 0 is invalid",
        ),
        (&["--schedule", "cosine"], "unknown schedule \"cosine\""),
        (&["--clip-norm", "-1"], "--clip-norm: max_norm = -1 is invalid"),
        (&["--hidden", "8,x"], "--hidden: \"x\" is not a layer size"),
        (
            &["--activation", "swish"],
            "--activation: unknown activation \"swish\"",
        ),
        (&["--loss", "hinge"], "--loss: unknown loss \"hinge\""),
        (
            &["--layers", "8:relu,2:identity"],
            "--layers: the last layer has 2 outputs, the data needs 3",
        ),
    ];
    for (args, expected) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut all = vec!["train", "--epochs", "1", "--out", "m.json"];
        all.extend_from_slice(args);
        let out = run_in(dir.path(), &all);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "{args:?}: expected {expected:?} in {:?}",
            out.stderr
        );
        only_inputs_left(dir.path(), &[]);
    }
}

#[test]
fn unknown_class_when_fine_tuning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &["train", "--epochs", "5", "--out", "m.json", "--out", "m.mtm"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut csv = iris_csv();
    csv.push_str("5.0,3.0,1.5,0.2,iris-nova\n");
    write(dir.path(), "new.csv", &csv);
    let out = run_in(
        dir.path(),
        &[
            "train",
            "--init",
            "m.json",
            "--data",
            "new.csv",
            "--epochs",
            "1",
            "--out",
            "tuned.json",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "new.csv: line 152, column 5 (species): unknown class \"iris-nova\" (the model's classes: setosa, \
             versicolor, virginica)"
        ),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("tuned.json").exists());
    // The binary file has no class names: they must be given.
    let out = run_in(
        dir.path(),
        &[
            "train", "--init", "m.mtm", "--data", "new.csv", "--target", "species", "--epochs", "1",
        ],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("m.mtm: this model file stores no class names"),
        "{}",
        out.stderr
    );
}

#[test]
fn corrupt_model_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &["train", "--epochs", "1", "--out", "m.mtm", "--out", "m.json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut bytes = std::fs::read(dir.path().join("m.mtm")).expect("model written");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(dir.path().join("bad.mtm"), &bytes).expect("writable");
    write(dir.path(), "x.csv", "a,b,c,d\n1,2,3,4\n");
    let out = run_in(dir.path(), &["predict", "--model", "bad.mtm", "--data", "x.csv"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.starts_with("error: bad.mtm: "), "{}", out.stderr);
    let json = std::fs::read_to_string(dir.path().join("m.json")).expect("json written");
    write(dir.path(), "bad.json", &json.replacen("\"relu\"", "\"swish\"", 1));
    let out = run_in(dir.path(), &["predict", "--model", "bad.json", "--data", "x.csv"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("bad.json: field `layers[0].activation`: unknown activation \"swish\""),
        "{}",
        out.stderr
    );
    write(dir.path(), "cut.json", &json[..json.len() / 2]);
    let out = run_in(dir.path(), &["predict", "--model", "cut.json", "--data", "x.csv"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("cut.json: line "), "{}", out.stderr);
}

#[test]
fn memory_rejects_a_bad_ram_size() {
    let out = cli_common::run(&["memory", "--ram", "12Q"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("--ram: \"12Q\" is not a size"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "nothing printed before the error: {}",
        out.stdout
    );
}
