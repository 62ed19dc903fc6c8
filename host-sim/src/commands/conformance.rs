//! `microtrain-sim conformance DIR`: replays training runs recorded with PyTorch (the
//! format is in `tests/conformance/FORMAT.md`) through the core and compares every
//! per-step loss and the final parameters.

use crate::by_name;
use crate::model::HostModel;
use microtrain::shape::Trainability;
use microtrain::{Dataset, Dense, Targets};
use microtrain_files::layer_kind::{weight_dims, KindFields};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A count read from JSON: an integer, or a number with no fractional part (`32.0`,
/// as some writers print every number); anything else is an error naming the value.
fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|x| x.fract() == 0.0 && (0.0..9.007_199_254_740_992e15).contains(x))
                .map(|x| x as u64)
        })
        .and_then(|x| usize::try_from(x).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, found {n}")))
}

fn whole_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    whole(d).map(Some)
}

/// One layer of a case's `model`: a dense layer (no `kind`, or `"dense"`), or a layer
/// of another kind with its sizes (see FORMAT.md).
#[derive(Deserialize)]
struct LayerSpec {
    #[serde(default)]
    kind: Option<String>,
    #[serde(deserialize_with = "whole")]
    inputs: usize,
    #[serde(deserialize_with = "whole")]
    outputs: usize,
    activation: String,
    #[serde(default, deserialize_with = "whole_opt")]
    in_channels: Option<usize>,
    #[serde(default, deserialize_with = "whole_opt")]
    out_channels: Option<usize>,
    #[serde(default, deserialize_with = "whole_opt")]
    channels: Option<usize>,
    #[serde(default, deserialize_with = "whole_opt")]
    kernel: Option<usize>,
    #[serde(default, deserialize_with = "whole_opt")]
    stride: Option<usize>,
    #[serde(default, deserialize_with = "whole_opt")]
    length: Option<usize>,
    #[serde(default)]
    padding: Option<String>,
}

impl LayerSpec {
    /// The layer, its sizes checked against the declared `inputs` and `outputs`;
    /// `at` names the field for errors.
    fn layer(&self, at: &str) -> Result<Dense, String> {
        let act = by_name::activation(&self.activation, &format!("field `{at}.activation`"))?;
        let fields = KindFields {
            kind: self.kind.clone(),
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            channels: self.channels,
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding.clone(),
            length: self.length,
        };
        fields.layer(self.inputs, self.outputs, act, at)
    }
}

/// A layer's parameters: `weight` nested as the layer's kind has it (dense `[outputs]
/// [inputs]`, conv1d `[out_channels][in_channels][kernel]`, `[]` for a layer without
/// parameters) and `bias`.
#[derive(Deserialize)]
struct LayerParams {
    weight: Value,
    bias: Vec<f32>,
}

/// The numbers of `v`, nested exactly as `dims` says, appended to `out` in row-major
/// order; `at` names the field for errors.
fn nested(v: &Value, dims: &[usize], at: &str, out: &mut Vec<f32>) -> Result<(), String> {
    match (dims.split_first(), v) {
        (None, Value::Number(n)) => {
            let x = n.as_f64().ok_or_else(|| format!("{at}: not a number"))?;
            out.push(x as f32);
            Ok(())
        }
        (Some((&n, rest)), Value::Array(items)) => {
            if items.len() != n {
                return Err(format!("{at}: {} values, expected {n}", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                nested(item, rest, &format!("{at}[{i}]"), out)?;
            }
            Ok(())
        }
        _ => Err(format!("{at}: expected {} nested arrays of numbers", dims.len())),
    }
}

#[derive(Deserialize)]
struct Expected {
    losses: Vec<f64>,
    #[serde(rename = "final")]
    final_params: Vec<LayerParams>,
}

#[derive(Deserialize)]
struct CaseFile {
    format: u32,
    name: String,
    model: Vec<LayerSpec>,
    loss: String,
    optimizer: Value,
    schedule: Value,
    #[serde(deserialize_with = "whole")]
    batch_size: usize,
    #[serde(deserialize_with = "whole")]
    epochs: usize,
    init: Vec<LayerParams>,
    /// Layers whose weights and bias do not train (`requires_grad_(False)`).
    #[serde(default)]
    frozen_layers: Vec<usize>,
    /// Layers whose bias alone trains.
    #[serde(default)]
    bias_only_layers: Vec<usize>,
    x: Vec<Vec<f32>>,
    y: Vec<Vec<f32>>,
    expected: Expected,
    rtol: f64,
    atol: f64,
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case's name (or file name if it could not be read).
    pub name: String,
    /// `true` when every value is within tolerance.
    pub passed: bool,
    /// The worst `|got - expected| / (atol + rtol |expected|)` (pass when <= 1).
    pub worst_ratio: f64,
    /// The worst relative deviation `|got - expected| / |expected|`.
    pub worst_rel: f64,
    /// Where the worst ratio was, e.g. `losses[3]` or `final[1].weight[0][2]`.
    pub worst_at: String,
    /// An error that stopped the case (malformed file, rejected step).
    pub error: Option<String>,
}

/// Flattens per-layer `weight` rows and `bias` into the core's parameter layout,
/// checking every size against the model; `field` names the JSON field for errors.
fn flatten(layers: &[Dense], p: &[LayerParams], field: &str) -> Result<Vec<f32>, String> {
    if p.len() != layers.len() {
        return Err(format!(
            "{field}: {} entries, the model has {} layers",
            p.len(),
            layers.len()
        ));
    }
    let mut out = Vec::new();
    for (i, (l, lp)) in layers.iter().zip(p).enumerate() {
        nested(
            &lp.weight,
            &weight_dims(l),
            &format!("{field}[{i}].weight"),
            &mut out,
        )?;
        if lp.bias.len() != l.bias_len() {
            return Err(format!(
                "{field}[{i}].bias: {} values, expected {}",
                lp.bias.len(),
                l.bias_len()
            ));
        }
        out.extend_from_slice(&lp.bias);
    }
    Ok(out)
}

/// Names the position of flat parameter `idx` as `final[l].weight[r][c]` or
/// `final[l].bias[r]`.
fn param_name(layers: &[Dense], mut idx: usize) -> String {
    for (i, l) in layers.iter().enumerate() {
        if idx < l.weights_len() {
            let dims = weight_dims(l);
            let mut at = String::new();
            let mut rest = idx;
            for (k, _) in dims.iter().enumerate() {
                let below: usize = dims.get(k + 1..).map_or(1, |d| d.iter().product());
                at.push_str(&format!("[{}]", rest / below.max(1)));
                rest %= below.max(1);
            }
            return format!("final[{i}].weight{at}");
        }
        idx -= l.weights_len();
        if idx < l.bias_len() {
            return format!("final[{i}].bias[{idx}]");
        }
        idx -= l.bias_len();
    }
    format!("final[?{idx}]")
}

struct Tally {
    ratio: f64,
    rel: f64,
    at: String,
    rtol: f64,
    atol: f64,
}

impl Tally {
    fn see(&mut self, got: f64, want: f64, at: impl FnOnce() -> String) {
        let diff = (got - want).abs();
        let ratio = if got.is_finite() {
            diff / (self.atol + self.rtol * want.abs())
        } else {
            f64::INFINITY
        };
        let rel = if want != 0.0 { diff / want.abs() } else { diff };
        if ratio > self.ratio || (ratio.is_nan() && !self.ratio.is_nan()) {
            self.ratio = ratio;
            self.at = at();
        }
        if rel > self.rel {
            self.rel = rel;
        }
    }
}

/// Runs one case file.
pub fn run_case(path: &Path) -> Outcome {
    let file = path.display().to_string();
    let fail = |name: String, e: String| Outcome {
        name,
        passed: false,
        worst_ratio: f64::NAN,
        worst_rel: f64::NAN,
        worst_at: String::new(),
        error: Some(e),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(file.clone(), format!("{file}: cannot read: {e}")),
    };
    let de = &mut serde_json::Deserializer::from_str(&text);
    let case: CaseFile = match serde_path_to_error::deserialize(de) {
        Ok(c) => c,
        Err(e) => {
            let field = e.path().to_string();
            let msg = e.into_inner();
            let msg = if field == "." {
                format!("{file}: {msg}")
            } else {
                format!("{file}: field `{field}`: {msg}")
            };
            return fail(file.clone(), msg);
        }
    };
    match replay(&case) {
        Ok(o) => o,
        Err(e) => fail(case.name.clone(), format!("{file}: {e}")),
    }
}

/// `"optimizer.lr: expected a number"` as ``"field `optimizer.lr`: expected a number"``.
fn quote_field(e: &str) -> String {
    match e.split_once(": ") {
        Some((path, msg)) => format!("field `{path}`: {msg}"),
        None => format!("field {e}"),
    }
}

fn replay(case: &CaseFile) -> Result<Outcome, String> {
    if case.format != 1 {
        return Err(format!(
            "field `format`: version {} is not supported (only 1)",
            case.format
        ));
    }
    let mut layers = Vec::new();
    for (i, l) in case.model.iter().enumerate() {
        layers.push(l.layer(&format!("model[{i}]"))?);
    }
    microtrain::shape::validate(&layers).map_err(|e| format!("field `model`: {e}"))?;
    for (field, list, train) in [
        ("frozen_layers", &case.frozen_layers, Trainability::Frozen),
        ("bias_only_layers", &case.bias_only_layers, Trainability::BiasOnly),
    ] {
        for (k, &i) in list.iter().enumerate() {
            let n = layers.len();
            let l = layers
                .get_mut(i)
                .ok_or_else(|| format!("field `{field}[{k}]`: layer {i}, the model has {n}"))?;
            if l.train != Trainability::Trainable {
                return Err(format!("field `{field}[{k}]`: layer {i} is listed twice"));
            }
            *l = l.trained(train);
        }
    }
    let loss = by_name::loss(&case.loss, "field `loss`")?;
    let opt = by_name::optimizer(&case.optimizer, "optimizer").map_err(|e| quote_field(&e))?;
    let schedule = by_name::schedule(&case.schedule, "schedule").map_err(|e| quote_field(&e))?;
    if case.batch_size == 0 {
        return Err("field `batch_size`: must be at least 1".into());
    }
    let inputs = microtrain::shape::inputs(&layers);
    let outputs = microtrain::shape::outputs(&layers);
    let init = flatten(&layers, &case.init, "field `init`")?;
    let want_final = flatten(&layers, &case.expected.final_params, "field `expected.final`")?;
    if case.x.len() != case.y.len() || case.x.is_empty() {
        return Err(format!(
            "fields `x`/`y`: {} and {} rows (need the same, at least 1)",
            case.x.len(),
            case.y.len()
        ));
    }
    let mut xs = Vec::new();
    for (r, row) in case.x.iter().enumerate() {
        if row.len() != inputs {
            return Err(format!(
                "field `x[{r}]`: {} values, the model takes {inputs}",
                row.len()
            ));
        }
        xs.extend_from_slice(row);
    }
    let mut ys = Vec::new();
    for (r, row) in case.y.iter().enumerate() {
        if row.len() != outputs {
            return Err(format!(
                "field `y[{r}]`: {} values, the model gives {outputs}",
                row.len()
            ));
        }
        ys.extend_from_slice(row);
    }
    let n = case.x.len();
    let steps = case.epochs * n.div_ceil(case.batch_size);
    if case.expected.losses.len() != steps {
        return Err(format!(
            "field `expected.losses`: {} entries, but {} epochs of {} rows in batches of {} take {steps} steps",
            case.expected.losses.len(),
            case.epochs,
            n,
            case.batch_size
        ));
    }
    let data = Dataset::new(
        &xs,
        inputs,
        Targets::Values {
            y: &ys,
            width: outputs,
        },
    )
    .ok_or("fields `x`/`y`: inconsistent sizes")?;

    let mut model = HostModel::new(layers.clone(), &opt);
    let frozen = microtrain::shape::has_frozen(&layers);
    if frozen {
        // The trainable parameters start from the whole model's, frozen ones stay.
        model.whole.clone_from(&init);
    }
    let mut t = model.trainer(opt, loss).map_err(|e| format!("model: {e}"))?;
    t.set_schedule(schedule)
        .map_err(|e| format!("field `schedule`: {e}"))?;
    if !frozen {
        t.load_params(&init).map_err(|e| format!("field `init`: {e}"))?;
    }

    let mut tally = Tally {
        ratio: 0.0,
        rel: 0.0,
        at: "-".into(),
        rtol: case.rtol,
        atol: case.atol,
    };
    let mut step = 0usize;
    for _ in 0..case.epochs {
        let mut start = 0;
        while start < n {
            let len = case.batch_size.min(n - start);
            let l = t
                .train_batch(&data.range(start, len))
                .map_err(|e| format!("step {step}: rejected: {e}"))?;
            let want = case.expected.losses.get(step).copied().unwrap_or(f64::NAN);
            tally.see(f64::from(l), want, || format!("losses[{step}]"));
            step += 1;
            start += len;
        }
    }
    let mut got = vec![0.0f32; want_final.len()];
    t.whole_params(&mut got)
        .map_err(|e| format!("final parameters: {e}"))?;
    for (i, (g, w)) in got.iter().zip(&want_final).enumerate() {
        tally.see(f64::from(*g), f64::from(*w), || param_name(&layers, i));
    }
    Ok(Outcome {
        name: case.name.clone(),
        passed: tally.ratio <= 1.0,
        worst_ratio: tally.ratio,
        worst_rel: tally.rel,
        worst_at: tally.at,
        error: None,
    })
}

/// The `*.json` files of a directory, sorted by name.
pub fn case_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read directory: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Runs every case in `dir`, prints one line per case and the totals; returns whether
/// all passed.
pub fn run_dir(dir: &Path) -> Result<bool, String> {
    let files = case_files(dir)?;
    if files.is_empty() {
        return Err(format!("{}: no *.json cases", dir.display()));
    }
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        let o = run_case(f);
        match &o.error {
            Some(e) if e.starts_with(&o.name) => println!("FAIL {e}"),
            Some(e) => println!("FAIL {}: {e}", o.name),
            None => println!(
                "{} {}: worst {:.3} of tolerance at {} (max relative deviation {:.2e})",
                if o.passed { "pass" } else { "FAIL" },
                o.name,
                o.worst_ratio,
                o.worst_at,
                o.worst_rel
            ),
        }
        if o.passed {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0)
}
