//! `microtrain-sim conformance DIR` as a user runs it: the recorded PyTorch cases pass;
//! a perturbed expectation fails with exit status 1 and names the value; malformed
//! cases name the file and the field; a directory without cases exits with status 2.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/cases")
}

fn case_count() -> usize {
    std::fs::read_dir(cases_dir())
        .expect("the cases directory exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count()
}

/// One recorded case as JSON, to be altered.
fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(cases_dir().join(name)).expect("the case exists");
    serde_json::from_str(&text).expect("the case is valid JSON")
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(v).expect("serializable")).expect("writable");
    path
}

/// Runs the conformance command on `dir`: (exit code, stdout, stderr).
fn run(dir: &Path) -> (Option<i32>, String, String) {
    let out = cargo_bin_cmd!("microtrain-sim")
        .arg("conformance")
        .arg(dir)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `FAIL` line of stdout that mentions `needle`.
fn fail_line<'a>(stdout: &'a str, needle: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains(needle))
        .unwrap_or_else(|| panic!("no FAIL line mentions {needle:?} in:\n{stdout}"))
}

#[test]
fn every_recorded_case_passes() {
    let n = case_count();
    assert!(n >= 59, "expected the 59 recorded cases, found {n}");
    let (code, stdout, stderr) = run(&cases_dir());
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.lines().any(|l| l == format!("{n} passed, 0 failed")),
        "no `{n} passed, 0 failed` line in:\n{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("pass ")).count(), n);
}

/// The cases with frozen and bias-only layers (`frozen_layers`, `bias_only_layers`)
/// pass; the same cases with their freezing removed fail (so the runner applies it),
/// and a freezing that names a layer the model lacks is an error naming the field.
#[test]
fn frozen_cases_pass_and_depend_on_their_freezing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/cases-frozen");
    let n = std::fs::read_dir(&dir)
        .expect("the frozen cases directory")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert!(n >= 15, "expected the 15 frozen cases, found {n}");
    let (code, stdout, stderr) = run(&dir);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.lines().any(|l| l == format!("{n} passed, 0 failed")),
        "{stdout}"
    );

    let text =
        std::fs::read_to_string(dir.join("adam_wd_last_layer_only_mlp_softmax_ce.json")).expect("the case");
    let case: Value = serde_json::from_str(&text).expect("JSON");
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut unfrozen = case.clone();
    unfrozen["frozen_layers"] = Value::Array(Vec::new());
    unfrozen["bias_only_layers"] = Value::Array(Vec::new());
    write(tmp.path(), "unfrozen.json", &unfrozen);
    let (code, stdout, _) = run(tmp.path());
    assert_eq!(
        code,
        Some(1),
        "a case trained without its freezing passed:\n{stdout}"
    );

    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut bad = case;
    bad["frozen_layers"] = Value::from(vec![9]);
    write(tmp.path(), "bad.json", &bad);
    let (_, stdout, stderr) = run(tmp.path());
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("frozen_layers[0]") && all.contains("layer 9"),
        "{all}"
    );
}

#[test]
fn a_perturbed_loss_fails_and_is_named() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut case = load("sgd_linear_mse_batch.json");
    let l0 = case["expected"]["losses"][0].as_f64().expect("a number");
    case["expected"]["losses"][0] = Value::from(l0 * 1.5 + 0.1);
    write(tmp.path(), "perturbed.json", &case);
    let (code, stdout, _) = run(tmp.path());
    assert_eq!(code, Some(1), "{stdout}");
    let line = fail_line(&stdout, "losses[0]");
    assert!(line.contains(case["name"].as_str().expect("a name")), "{line}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_perturbed_final_parameter_fails_and_is_named() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut case = load("adam_mlp_relu_softmax_ce_minibatch.json");
    let w = &mut case["expected"]["final"][1]["bias"][2];
    *w = Value::from(w.as_f64().expect("a number") + 0.5);
    write(tmp.path(), "perturbed.json", &case);
    let (code, stdout, _) = run(tmp.path());
    assert_eq!(code, Some(1), "{stdout}");
    fail_line(&stdout, "final[1].bias[2]");
}

#[test]
fn malformed_cases_name_the_file_and_the_field() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let good = load("sgd_linear_mse_batch.json");
    write(tmp.path(), "a_good.json", &good);

    let mut missing = good.clone();
    missing.as_object_mut().expect("an object").remove("loss");
    write(tmp.path(), "missing_loss.json", &missing);

    let mut wrong_type = good.clone();
    wrong_type["optimizer"]["lr"] = Value::from("fast");
    write(tmp.path(), "lr_is_a_string.json", &wrong_type);

    let mut unknown_act = load("adam_mlp_relu_softmax_ce_minibatch.json");
    unknown_act["model"][0]["activation"] = Value::from("swish");
    write(tmp.path(), "swish.json", &unknown_act);

    let (code, stdout, _) = run(tmp.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("1 passed, 3 failed"), "{stdout}");

    let line = fail_line(&stdout, "missing_loss.json");
    assert!(line.contains("`loss`"), "the missing field is not named: {line}");
    let line = fail_line(&stdout, "lr_is_a_string.json");
    assert!(line.contains("optimizer.lr"), "the field is not named: {line}");
    let line = fail_line(&stdout, "swish.json");
    assert!(
        line.contains("model[0].activation"),
        "the field is not named: {line}"
    );
    assert!(line.contains("swish"), "the bad value is not shown: {line}");
}

/// Counts written as whole floats (`4.0`, as some JSON writers print every number)
/// are read as counts; a fractional count is an error naming the field.
#[test]
fn whole_floats_are_counts_and_fractions_are_not() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut case = load("adamw_mlp_tanh_mse_batch_step.json");
    for (key, v) in [("batch_size", 16.0), ("epochs", 30.0)] {
        assert_eq!(case[key].as_f64(), Some(v), "{key}");
        case[key] = Value::from(v);
    }
    case["schedule"]["step_size"] = Value::from(10.0);
    case["model"][0]["inputs"] = Value::from(2.0);
    write(tmp.path(), "floats.json", &case);
    let mut fractional = case.clone();
    fractional["batch_size"] = Value::from(16.5);
    write(tmp.path(), "fractional.json", &fractional);
    let mut fractional_step = case.clone();
    fractional_step["schedule"]["step_size"] = Value::from(2.5);
    write(tmp.path(), "fractional_step.json", &fractional_step);

    let (code, stdout, _) = run(tmp.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("1 passed, 2 failed"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("pass ")), "{stdout}");
    let line = fail_line(&stdout, "fractional.json");
    assert!(line.contains("batch_size") && line.contains("16.5"), "{line}");
    let line = fail_line(&stdout, "fractional_step.json");
    assert!(
        line.contains("schedule.step_size") && line.contains("2.5"),
        "{line}"
    );
}

#[test]
fn a_directory_without_cases_exits_2() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    std::fs::write(tmp.path().join("notes.txt"), "not a case").expect("writable");
    let (code, stdout, stderr) = run(tmp.path());
    assert_eq!(code, Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("no *.json cases"), "{stderr}");

    let (code, _, stderr) = run(&tmp.path().join("does-not-exist"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("does-not-exist"), "{stderr}");
}
