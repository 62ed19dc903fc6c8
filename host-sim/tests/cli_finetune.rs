//! Fine-tuning with frozen layers: `train --init M --train-layers last` changes only
//! the last layer, `--bias-only all` only the biases, `--freeze 0` keeps the first
//! layer bit for bit; the RAM figure counts only what trains; bad options are clear
//! errors.

mod cli_common;
use cli_common::run_in;
use microtrain::model_file::ModelFile;
use std::path::Path;

fn params(dir: &Path, name: &str) -> (Vec<(usize, usize)>, Vec<u32>) {
    let bytes = std::fs::read(dir.join(name)).expect("model file");
    let m = ModelFile::parse(&bytes).expect("a valid model file");
    let shape = m.layers().map(|l| (l.inputs, l.outputs)).collect();
    let mut p = vec![0.0f32; m.params_len()];
    m.read_params(&mut p).expect("parameters");
    (shape, p.iter().map(|x| x.to_bits()).collect())
}

#[test]
fn frozen_layers_stay_bit_for_bit_and_the_rest_trains() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let out = run_in(
        d,
        &[
            "train",
            "--epochs",
            "15",
            "--hidden",
            "8",
            "--out",
            "base.mtm",
            "--out",
            "base.json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let (shape, base) = params(d, "base.mtm");
    assert_eq!(shape, [(4, 8), (8, 3)]);
    let (w0, n0) = (4 * 8, 4 * 8 + 8);

    let out = run_in(
        d,
        &[
            "train",
            "--init",
            "base.json",
            "--train-layers",
            "last",
            "--epochs",
            "5",
            "--out",
            "last.mtm",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // 27 trainable floats x 4 (parameters, gradients, two Adam moments) + 22 activations.
    assert!(
        out.stdout.contains("on a device: 520 bytes of RAM"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("(27 trained)"), "{}", out.stdout);
    let (_, last) = params(d, "last.mtm");
    assert_eq!(last[..n0], base[..n0], "the frozen first layer changed");
    assert_ne!(last[n0..], base[n0..], "the last layer did not train");

    let out = run_in(
        d,
        &[
            "train",
            "--init",
            "base.json",
            "--bias-only",
            "all",
            "--epochs",
            "5",
            "--out",
            "bias.mtm",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let (_, bias) = params(d, "bias.mtm");
    assert_eq!(bias[..w0], base[..w0], "bias-only: the first weights changed");
    assert_ne!(
        bias[w0..n0],
        base[w0..n0],
        "bias-only: the first bias did not train"
    );
    assert_eq!(
        bias[n0..n0 + 24],
        base[n0..n0 + 24],
        "bias-only: the last weights changed"
    );

    let out = run_in(
        d,
        &[
            "train",
            "--init",
            "base.json",
            "--freeze",
            "0",
            "--epochs",
            "5",
            "--out",
            "f0.mtm",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let (_, f0) = params(d, "f0.mtm");
    assert_eq!(f0[..n0], base[..n0]);
}

#[test]
fn bad_freezing_options_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let out = run_in(d, &["train", "--epochs", "2", "--out", "base.json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for (args, says) in [
        (vec!["--freeze", "0"], "give it with --init"),
        (
            vec!["--init", "base.json", "--freeze", "7"],
            "--freeze: layer 7, the model has 2 layers",
        ),
        (
            vec!["--init", "base.json", "--train-layers", "x"],
            "--train-layers: \"x\" is not a layer index",
        ),
        (
            vec!["--init", "base.json", "--freeze", "0,1"],
            "every layer is frozen",
        ),
    ] {
        let mut all = vec!["train", "--epochs", "1"];
        all.extend(args);
        let out = run_in(d, &all);
        assert_ne!(out.code, Some(0), "{all:?} passed");
        assert!(out.stderr.contains(says), "{all:?}: {}", out.stderr);
    }
}

/// `memory` with frozen layers: the RAM of what trains, and the flash of the whole
/// model's parameters (64-128-10 with Adam: last layer only, bias only, all).
#[test]
fn memory_counts_what_trains_and_the_flash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = [
        "memory",
        "--inputs",
        "64",
        "--outputs",
        "10",
        "--hidden",
        "128",
        "--ram",
        "24K",
    ];
    let with = |extra: &[&str]| {
        let mut all: Vec<&str> = base.to_vec();
        all.extend_from_slice(extra);
        let out = run_in(dir.path(), &all);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        out.stdout
    };
    let full = with(&[]);
    assert!(
        full.contains("154864 bytes") && full.contains("DOES NOT FIT in 24K"),
        "{full}"
    );
    assert!(!full.contains("flash"), "{full}");
    // 1290 trainable floats x 4 + 2 x 138 activations = 5436 floats.
    let last = with(&["--train-layers", "last"]);
    assert!(
        last.contains("21744 bytes") && last.contains("FITS in 24K"),
        "{last}"
    );
    assert!(
        last.contains("flash: the whole model's parameters, 9610 floats, 38440 bytes"),
        "{last}"
    );
    assert!(last.contains("1290 of 9610 parameters train"), "{last}");
    let bias = with(&["--bias-only", "all"]);
    assert!(
        bias.contains("138 of 9610 parameters train") && bias.contains("3312 bytes"),
        "{bias}"
    );
}
