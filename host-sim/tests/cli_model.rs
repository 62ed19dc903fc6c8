//! Model files: `.mtm` and `.json` written by `train` load back to bit-identical
//! predictions (checked against the core run directly on the saved weights), survive a
//! round trip byte for byte, and fine-tuning starts where training ended.

mod cli_common;
use cli_common::{iris_csv, number_after, run_in, write};
use microtrain::{Activation, AnyOptimizer, Buffers, Dense, Loss, Sgd, Trainer};
use serde_json::Value;
use std::path::Path;

const FEATURES: &str = "sepal_length,sepal_width,petal_length,petal_width";

fn train_models(dir: &Path) {
    let out = run_in(
        dir,
        &[
            "train", "--epochs", "20", "--lr", "0.01", "--out", "m.mtm", "--out", "m.json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("wrote m.mtm") && out.stdout.contains("wrote m.json"));
}

/// The `bits [...]` of every line of `predict` output, as f32 bit patterns.
fn predicted_bits(stdout: &str) -> Vec<Vec<u32>> {
    stdout
        .lines()
        .map(|l| {
            let s = &l[l.find("bits [").expect("bits") + 6..];
            let s = &s[..s.find(']').expect("]")];
            s.split(", ")
                .map(|h| u32::from_str_radix(h, 16).expect("hex"))
                .collect()
        })
        .collect()
}

/// Layers and flat parameters from a JSON model, read independently of the binary.
fn from_json(text: &str) -> (Vec<Dense>, Vec<f32>) {
    let v: Value = serde_json::from_str(text).expect("valid JSON");
    let mut layers = Vec::new();
    let mut params = Vec::new();
    for l in v["layers"].as_array().expect("layers") {
        let act = Activation::from_name(l["activation"].as_str().expect("name")).expect("activation");
        let n = |k: &str| l[k].as_u64().expect("size") as usize;
        layers.push(Dense::new(n("inputs"), n("outputs"), act));
        for row in l["weight"].as_array().expect("weight") {
            params.extend(
                row.as_array()
                    .expect("row")
                    .iter()
                    .map(|x| x.as_f64().expect("f") as f32),
            );
        }
        params.extend(
            l["bias"]
                .as_array()
                .expect("bias")
                .iter()
                .map(|x| x.as_f64().expect("f") as f32),
        );
    }
    (layers, params)
}

#[test]
fn saved_models_predict_bit_for_bit_as_the_core() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_models(dir.path());
    write(dir.path(), "iris.csv", &iris_csv());
    let bin = run_in(
        dir.path(),
        &[
            "predict",
            "--model",
            "m.mtm",
            "--data",
            "iris.csv",
            "--features",
            FEATURES,
        ],
    );
    let json = run_in(
        dir.path(),
        &["predict", "--model", "m.json", "--data", "iris.csv"],
    );
    assert_eq!(bin.code, Some(0), "{}", bin.stderr);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let (b, j) = (predicted_bits(&bin.stdout), predicted_bits(&json.stdout));
    assert_eq!(b.len(), 150);
    assert_eq!(b, j, "the binary and JSON files predict the same bits");
    assert!(
        json.stdout.lines().next().is_some_and(|l| l.ends_with(" setosa")),
        "{}",
        json.stdout
    );

    // The core on the weights of the JSON file, raw feature values in.
    let (layers, params) = from_json(&std::fs::read_to_string(dir.path().join("m.json")).expect("json"));
    let p = microtrain::shape::params_len(&layers);
    let a = microtrain::shape::activations_len(&layers);
    let (mut pv, mut gv, mut av) = (params.clone(), vec![0.0; p], vec![0.0; a]);
    let buffers = Buffers {
        params: &mut pv,
        grads: &mut gv,
        state: &mut [],
        acts: &mut av,
        frozen: &[],
    };
    let mut t =
        Trainer::new(&layers, buffers, AnyOptimizer::from(Sgd::new(0.0)), Loss::Mse).expect("trainer");
    let mut right = 0;
    for (line, want) in iris_csv().lines().skip(1).zip(&b) {
        let f: Vec<&str> = line.split(',').collect();
        let x: Vec<f32> = f[..4].iter().map(|v| v.parse().expect("number")).collect();
        let mut out = [0.0f32; 3];
        t.predict(&x, &mut out).expect("predict");
        assert_eq!(&out.map(f32::to_bits).to_vec(), want, "row {line}");
        let best = (0..3)
            .max_by(|a, b| out[*a].total_cmp(&out[*b]))
            .expect("3 outputs");
        right += usize::from(["setosa", "versicolor", "virginica"][best] == f[4]);
    }
    assert!(right >= 140, "{right}/150 right with the saved (raw-input) model");
}

#[test]
fn model_files_round_trip_byte_for_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_models(dir.path());
    // Load the JSON, train 0 epochs without rescaling, write both formats again.
    let out = run_in(
        dir.path(),
        &[
            "train",
            "--init",
            "m.json",
            "--epochs",
            "0",
            "--no-standardize",
            "--out",
            "back.mtm",
            "--out",
            "back.json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let read = |n: &str| std::fs::read(dir.path().join(n)).expect("file");
    assert_eq!(read("back.mtm"), read("m.mtm"));
    assert_eq!(read("back.json"), read("m.json"));
    let mtm = read("m.mtm");
    assert_eq!(&mtm[..4], b"MTRN");
    assert_eq!(
        mtm.len(),
        microtrain::model_file::encoded_len(&from_json(&String::from_utf8(read("m.json")).expect("utf8")).0)
    );
}

#[test]
fn fine_tuning_starts_from_the_trained_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_models(dir.path());
    let out = run_in(
        dir.path(),
        &[
            "train", "--init", "m.json", "--epochs", "3", "--lr", "0.001", "--out", "t.mtm",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let first = out
        .stdout
        .lines()
        .find(|l| l.starts_with("epoch 0/3"))
        .expect("epoch 0 line");
    let acc = number_after(first, "accuracy");
    assert!(acc >= 90.0, "fine-tuning starts at {acc} %: {first}");
    assert!(dir.path().join("t.mtm").exists());
}
