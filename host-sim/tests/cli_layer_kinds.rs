//! `microtrain-sim train --layers` with convolution and pooling layers: a sequence task
//! learned, the model written as JSON and `.mtm` (version 3) and run by `predict`;
//! impossible shapes named by layer.

mod cli_common;

use cli_common::{run_in, write};

/// 2 channels of 16 per row; the class says where a bump is, and in which channel.
fn sequence_csv() -> String {
    let mut s: Vec<String> = Vec::new();
    let cols: Vec<String> = (0..2)
        .flat_map(|c| (0..16).map(move |t| format!("c{c}_{t}")))
        .collect();
    s.push(format!("{},label", cols.join(",")));
    let mut state = 12345u32;
    for r in 0..90 {
        let class = r % 3;
        let mut row = Vec::new();
        for c in 0..2 {
            for t in 0..16 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = ((state >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 0.6;
                let bump = if t / 6 == class && c == class % 2 {
                    1.5
                } else {
                    0.0
                };
                row.push(format!("{:.4}", bump + noise));
            }
        }
        s.push(format!("{},k{class}", row.join(",")));
    }
    s.join("\n") + "\n"
}

#[test]
fn a_cnn_trains_saves_and_predicts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "seq.csv", &sequence_csv());
    let data = data.to_str().expect("utf-8 path");
    let out = run_in(
        dir.path(),
        &[
            "train",
            "--data",
            data,
            "--target",
            "label",
            "--layers",
            "conv1d:4:3:1:same:relu,maxpool:2,conv1d:6:3:1:none:tanh,gap,3:identity",
            "--input-channels",
            "2",
            "--optimizer",
            "adam",
            "--lr",
            "0.02",
            "--epochs",
            "30",
            "--out",
            "m.json",
            "--out",
            "m.mtm",
        ],
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("the first layer is not dense"),
        "{}",
        out.stdout
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("training"))
        .unwrap_or_default();
    assert!(line.contains("accuracy 100.0 %"), "{line}");
    let json = std::fs::read_to_string(dir.path().join("m.json")).expect("written");
    assert!(
        json.contains("\"conv1d\"") && json.contains("\"global_avg_pool1d\""),
        "{json}"
    );
    let mtm = std::fs::read(dir.path().join("m.mtm")).expect("written");
    assert_eq!(mtm.get(4), Some(&3), "the .mtm is version 3");
    // Both files predict the same bits (the JSON model also names the classes).
    let p_json = run_in(dir.path(), &["predict", "--model", "m.json", "--data", data]);
    let feats: Vec<String> = (0..2)
        .flat_map(|c| (0..16).map(move |t| format!("c{c}_{t}")))
        .collect();
    let feats = feats.join(",");
    let p_mtm = run_in(
        dir.path(),
        &[
            "predict",
            "--model",
            "m.mtm",
            "--data",
            data,
            "--features",
            &feats,
        ],
    );
    assert_eq!(p_json.code, Some(0), "{}", p_json.stderr);
    assert_eq!(p_mtm.code, Some(0), "{}", p_mtm.stderr);
    let bits = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| {
                l.split_once(" bits ")
                    .and_then(|(_, b)| b.split_once(']'))
                    .map(|(b, _)| b.to_string())
            })
            .collect()
    };
    assert_eq!(bits(&p_json.stdout).len(), 90);
    assert_eq!(bits(&p_json.stdout), bits(&p_mtm.stdout));
}

#[test]
fn impossible_sequence_layers_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "seq.csv", &sequence_csv());
    let data = data.to_str().expect("utf-8 path");
    for (layers, want) in [
        ("conv1d:4:20:1:none:relu,3:identity", "layer 1"),
        ("8:relu,maxpool:2,3:identity", "layer 2"),
        ("conv1d:4:3:2:same:relu,gap,3:identity", "stride 1"),
    ] {
        let out = run_in(
            dir.path(),
            &[
                "train",
                "--data",
                data,
                "--target",
                "label",
                "--layers",
                layers,
                "--input-channels",
                "2",
                "--out",
                "m.json",
            ],
        );
        assert_eq!(out.code, Some(2), "{layers}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(want), "{layers}: {}", out.stderr);
    }
}
