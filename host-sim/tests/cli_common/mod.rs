//! Helpers shared by the `cli_*` tests: run the binary, write small CSV files.

#![allow(dead_code)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};

/// The result of one run.
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `microtrain-sim` with `args` in directory `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = cargo_bin_cmd!("microtrain-sim")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `microtrain-sim` with `args` in a fresh temporary directory.
pub fn run(args: &[&str]) -> Out {
    let dir = tempfile::tempdir().expect("temp dir");
    run_in(dir.path(), args)
}

/// Writes `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writable");
    p
}

/// The bundled Iris CSV.
pub fn iris_csv() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/iris.csv")).expect("iris.csv")
}

/// The number after `label` (e.g. `accuracy `) in `line`.
pub fn number_after(line: &str, label: &str) -> f64 {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} not in {line:?}"))
        + label.len()..];
    let num: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-' || *c == 'e')
        .collect();
    num.parse()
        .unwrap_or_else(|_| panic!("no number after {label:?} in {line:?}"))
}
