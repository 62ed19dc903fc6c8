//! `microtrain-sim` without arguments: the Iris demo prints loss and accuracy for every
//! epoch, learns, then runs the stream demo.

mod cli_common;
use cli_common::{number_after, run};

#[test]
fn demo_prints_every_epoch_and_learns() {
    let out = run(&[]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let epochs: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 31, "epoch 0 and 30 epochs:\n{}", out.stdout);
    for (i, line) in epochs.iter().enumerate() {
        assert!(line.starts_with(&format!("epoch {i:>2}/30")), "{line}");
        assert!(line.contains("loss ") && line.contains("accuracy "), "{line}");
    }
    let first = number_after(epochs[0], "accuracy");
    let last = number_after(epochs[30], "accuracy");
    assert!(last >= 95.0, "final training accuracy {last} %");
    assert!(last > first + 30.0, "accuracy went from {first} % to {last} %");
    assert!(
        out.stdout.contains("stream demo"),
        "the stream demo follows:\n{}",
        out.stdout
    );
}

#[test]
fn demo_is_deterministic() {
    let a = run(&[]);
    let b = run(&[]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_microtrain-sim"))
        .args(["compare", "--surface", "none", "--out-dir"])
        .arg(tempfile::tempdir().expect("temp dir").path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Read one byte, then close the pipe, as `| head -c 1` would.
    let mut first = [0u8; 1];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("ends");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(status.code(), Some(0 | 141)), "{status:?}");
}
