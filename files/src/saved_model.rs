//! Trained models on disk: the core's binary format (`.mtm`, what a firmware loads or
//! embeds; see `microtrain::model_file`) and a JSON format that also keeps the column
//! and class names.
//!
//! # The JSON model format (version 1)
//!
//! ```json
//! {
//!   "format": "microtrain-model",
//!   "version": 1,
//!   "loss": "softmax_cross_entropy",
//!   "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
//!   "targets": ["species"],
//!   "classes": ["setosa", "versicolor", "virginica"],
//!   "layers": [
//!     {"inputs": 4, "outputs": 8, "activation": "relu",
//!      "weight": [[0.1, -0.2, 0.3, 0.4], ...8 rows], "bias": [0.0, ...8 values]},
//!     {"inputs": 8, "outputs": 3, "activation": "identity", "weight": [...], "bias": [...]}
//!   ]
//! }
//! ```
//!
//! - `weight` is `outputs` rows of `inputs` values (as `torch.nn.Linear.weight`), `bias`
//!   has `outputs` values; the model takes **raw** feature values (any standardization
//!   used in training is folded into the first layer).
//! - Values are written in the shortest decimal form that reads back to the same
//!   `f32`, so JSON and binary files of one model predict bit for bit the same.
//! - A layer of another kind than dense has `"kind"` and its sizes as the conformance
//!   cases spell them (`tests/conformance/FORMAT.md`, [`crate::layer_kind`]): e.g.
//!   `{"kind": "conv1d", "inputs": 192, "outputs": 480, "activation": "relu",
//!   "in_channels": 3, "out_channels": 8, "kernel": 5, "stride": 1, "padding": "none",
//!   "length": 64, "weight": [[[...5 taps]...3 inputs]...8 outputs], "bias": [...8]}`;
//!   pooling, flatten and global average pooling have `"weight": []`, `"bias": []`.
//! - `loss`, `features`, `targets` and `classes` are optional (`classes` is `null` for
//!   regression); `features` lists the CSV columns in input order, `classes` the class
//!   names in output order.

use crate::layer_kind::{self, KindFields};
use crate::{atomic_file, by_name};
use microtrain::model_file::{self, ModelFile};
use microtrain::{Dense, Loss};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A model with whatever names its file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedModel {
    /// The layers.
    pub layers: Vec<Dense>,
    /// The parameters (per layer `W` row-major, then `b`).
    pub params: Vec<f32>,
    /// The loss it was trained with, if known.
    pub loss: Option<Loss>,
    /// Input column names (empty if unknown).
    pub features: Vec<String>,
    /// Target column names (empty if unknown).
    pub targets: Vec<String>,
    /// Class names in output order, if a classifier with known names.
    pub classes: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLayer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    inputs: usize,
    outputs: usize,
    activation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    in_channels: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    out_channels: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channels: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kernel: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stride: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    padding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    length: Option<usize>,
    weight: Weight,
    bias: Vec<f32>,
}

/// A layer's weights, nested as its kind has them (see [`layer_kind::weight_dims`]).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Weight {
    /// Dense `[outputs][inputs]` (and `[]` for a layer without parameters).
    Rows(Vec<Vec<f32>>),
    /// A convolution's `[out_channels][in_channels][kernel]`.
    Taps(Vec<Vec<Vec<f32>>>),
}

impl JsonLayer {
    fn fields(&self) -> KindFields {
        KindFields {
            kind: self.kind.clone(),
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            channels: self.channels,
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding.clone(),
            length: self.length,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonModel {
    format: String,
    version: u32,
    #[serde(default)]
    loss: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    classes: Option<Vec<String>>,
    layers: Vec<JsonLayer>,
}

const FORMAT: &str = "microtrain-model";

impl SavedModel {
    /// Writes the model atomically: JSON if `path` ends in `.json`, else binary.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let bytes = if is_json(path) {
            self.to_json()?.into_bytes()
        } else {
            self.to_binary().map_err(|e| format!("{}: {e}", path.display()))?
        };
        atomic_file::write(path, &bytes)
    }

    /// Reads a model file, binary or JSON (told apart by content).
    pub fn load(path: &Path) -> Result<SavedModel, String> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        if bytes.starts_with(&model_file::MAGIC) {
            Self::from_binary(&bytes).map_err(|e| format!("{name}: {e}"))
        } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            Self::from_json(&bytes).map_err(|e| format!("{name}: {e}"))
        } else {
            Err(format!(
                "{name}: not a model file (neither the binary format, which starts with MTRN, nor JSON)"
            ))
        }
    }

    /// The core's binary model file.
    pub fn to_binary(&self) -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; model_file::encoded_len(&self.layers)];
        let n = model_file::encode(&self.layers, &self.params, &mut out).map_err(|e| e.to_string())?;
        out.truncate(n);
        Ok(out)
    }

    /// Parses the core's binary model file.
    pub fn from_binary(bytes: &[u8]) -> Result<SavedModel, String> {
        let f = ModelFile::parse(bytes).map_err(|e| e.to_string())?;
        let layers: Vec<Dense> = f.layers().collect();
        let mut params = vec![0.0f32; f.params_len()];
        f.read_params(&mut params).map_err(|e| e.to_string())?;
        Ok(SavedModel {
            layers,
            params,
            loss: None,
            features: Vec::new(),
            targets: Vec::new(),
            classes: None,
        })
    }

    /// The JSON model file.
    pub fn to_json(&self) -> Result<String, String> {
        let mut layers = Vec::new();
        let mut rest = self.params.as_slice();
        for l in &self.layers {
            if rest.len() < l.params_len() {
                return Err("internal: parameters shorter than the shape".into());
            }
            let (w, tail) = rest.split_at(l.weights_len());
            let (b, tail) = tail.split_at(l.bias_len());
            rest = tail;
            let dims = layer_kind::weight_dims(l);
            let weight = match dims.as_slice() {
                [_, cin, k] => Weight::Taps(
                    w.chunks((cin * k).max(1))
                        .map(|o| o.chunks((*k).max(1)).map(<[f32]>::to_vec).collect())
                        .collect(),
                ),
                [_, cols] => Weight::Rows(w.chunks((*cols).max(1)).map(<[f32]>::to_vec).collect()),
                _ => Weight::Rows(Vec::new()),
            };
            let f = KindFields::of(l);
            layers.push(JsonLayer {
                kind: f.kind,
                inputs: l.inputs,
                outputs: l.outputs,
                activation: by_name::activation_name(l.activation),
                in_channels: f.in_channels,
                out_channels: f.out_channels,
                channels: f.channels,
                kernel: f.kernel,
                stride: f.stride,
                padding: f.padding,
                length: f.length,
                weight,
                bias: b.to_vec(),
            });
        }
        let m = JsonModel {
            format: FORMAT.into(),
            version: 1,
            loss: self.loss.map(|l| l.name().to_string()),
            features: self.features.clone(),
            targets: self.targets.clone(),
            classes: self.classes.clone(),
            layers,
        };
        serde_json::to_string_pretty(&m)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string())
    }

    /// Parses and checks a JSON model file.
    pub fn from_json(bytes: &[u8]) -> Result<SavedModel, String> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let m: JsonModel = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            format!(
                "line {}, column {}: field `{path}`: {inner}",
                inner.line(),
                inner.column()
            )
        })?;
        if m.format != FORMAT || m.version != 1 {
            return Err(format!(
                "field `format`/`version`: {:?} version {} (this program reads {FORMAT:?} version 1)",
                m.format, m.version
            ));
        }
        let loss = m
            .loss
            .as_deref()
            .map(|l| by_name::loss(l, "field `loss`"))
            .transpose()?;
        let mut layers = Vec::new();
        let mut params = Vec::new();
        for (i, l) in m.layers.iter().enumerate() {
            let act = by_name::activation(&l.activation, &format!("field `layers[{i}].activation`"))?;
            let layer = l
                .fields()
                .layer(l.inputs, l.outputs, act, &format!("layers[{i}]"))?;
            layers.push(layer);
            // The weights, flattened in the core's order, their nesting checked.
            let dims = layer_kind::weight_dims(&layer);
            let flat: Vec<f32> = match (&l.weight, dims.as_slice()) {
                (Weight::Rows(rows), [n, cols]) => {
                    if rows.len() != *n {
                        return Err(format!(
                            "field `layers[{i}].weight`: {} rows, the layer has {n} outputs",
                            rows.len()
                        ));
                    }
                    if let Some(r) = rows.iter().position(|row| row.len() != *cols) {
                        return Err(format!(
                            "field `layers[{i}].weight[{r}]`: {} values, the layer has {cols} inputs",
                            rows.get(r).map_or(0, Vec::len)
                        ));
                    }
                    rows.concat()
                }
                (Weight::Rows(rows), [0]) if rows.is_empty() => Vec::new(),
                (Weight::Taps(t), [o, cin, k])
                    if t.len() == *o
                        && t.iter()
                            .all(|r| r.len() == *cin && r.iter().all(|v| v.len() == *k)) =>
                {
                    t.iter().flatten().flatten().copied().collect()
                }
                _ => {
                    return Err(format!(
                        "field `layers[{i}].weight`: expected nested lists of sizes {dims:?}"
                    ))
                }
            };
            finite(&flat, &format!("layers[{i}].weight"))?;
            params.extend_from_slice(&flat);
            if l.bias.len() != layer.bias_len() {
                return Err(format!(
                    "field `layers[{i}].bias`: {} values, the layer has {}",
                    l.bias.len(),
                    layer.bias_len()
                ));
            }
            finite(&l.bias, &format!("layers[{i}].bias"))?;
            params.extend_from_slice(&l.bias);
        }
        microtrain::shape::validate(&layers).map_err(|e| format!("field `layers`: {e}"))?;
        let (inputs, outputs) = (
            microtrain::shape::inputs(&layers),
            microtrain::shape::outputs(&layers),
        );
        if !m.features.is_empty() && m.features.len() != inputs {
            return Err(format!(
                "field `features`: {} names, the model has {inputs} inputs",
                m.features.len()
            ));
        }
        if let Some(c) = &m.classes {
            if c.len() != outputs {
                return Err(format!(
                    "field `classes`: {} names, the model has {outputs} outputs",
                    c.len()
                ));
            }
        }
        Ok(SavedModel {
            layers,
            params,
            loss,
            features: m.features,
            targets: m.targets,
            classes: m.classes,
        })
    }
}

fn finite(v: &[f32], field: &str) -> Result<(), String> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(format!("field `{field}[{i}]`: not a finite f32 value")),
        None => Ok(()),
    }
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain::{Activation, Rng};

    fn model() -> SavedModel {
        let layers = vec![
            Dense::new(3, 4, Activation::Tanh),
            Dense::new(4, 2, Activation::Identity),
        ];
        let mut rng = Rng::new(9);
        // Values over many magnitudes, to exercise the shortest-decimal round trip.
        let params = (0..microtrain::shape::params_len(&layers))
            .map(|i| rng.symmetric(1.0) * 10f32.powi(i as i32 % 13 - 6))
            .collect();
        SavedModel {
            layers,
            params,
            loss: Some(Loss::SoftmaxCrossEntropy),
            features: vec!["a".into(), "b".into(), "c".into()],
            targets: vec!["y".into()],
            classes: Some(vec!["no".into(), "yes".into()]),
        }
    }

    #[test]
    fn json_and_binary_round_trip_bit_for_bit() {
        let m = model();
        let j = SavedModel::from_json(m.to_json().unwrap_or_default().as_bytes());
        assert_eq!(j.as_ref(), Ok(&m));
        let b = SavedModel::from_binary(&m.to_binary().unwrap_or_default()).map(|b| b.params);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(b.map(|p| bits(&p)), Ok(bits(&m.params)));
    }

    /// The new activations and their parameters survive both formats (the binary
    /// one as version 2).
    #[test]
    fn activation_parameters_round_trip() {
        let mut m = model();
        m.layers = vec![
            Dense::new(3, 4, Activation::leaky_relu(0.2)),
            Dense::new(4, 2, Activation::elu(0.5)),
        ];
        let j = m.to_json().unwrap_or_default();
        assert!(
            j.contains("\"leaky_relu=0.2\"") && j.contains("\"elu=0.5\""),
            "{j}"
        );
        assert_eq!(
            SavedModel::from_json(j.as_bytes()).map(|b| b.layers),
            Ok(m.layers.clone())
        );
        let b = m.to_binary().unwrap_or_default();
        assert_eq!(b.get(4), Some(&2));
        assert_eq!(
            SavedModel::from_binary(&b).map(|b| b.layers),
            Ok(m.layers.clone())
        );
    }

    /// Convolution and pooling layers survive both formats bit for bit.
    #[test]
    fn layer_kinds_round_trip() {
        use microtrain::Padding;
        let mut m = model();
        m.layers = vec![
            Dense::conv1d(2, 3, 3, 1, Padding::Same, 5, Activation::Relu),
            Dense::max_pool1d(3, 5, 2, 2),
            Dense::flatten(6),
            Dense::new(6, 2, Activation::Identity),
        ];
        m.features = vec![];
        m.params = (0..microtrain::shape::params_len(&m.layers))
            .map(|i| i as f32 * 0.37 - 3.0)
            .collect();
        let j = m.to_json().unwrap_or_default();
        assert!(j.contains("\"conv1d\"") && j.contains("\"max_pool1d\""), "{j}");
        assert_eq!(SavedModel::from_json(j.as_bytes()).as_ref(), Ok(&m));
        let b = m.to_binary().unwrap_or_default();
        assert_eq!(b.get(4), Some(&3));
        assert_eq!(
            SavedModel::from_binary(&b).map(|b| b.layers),
            Ok(m.layers.clone())
        );
        let bad = j.replacen("\"kernel\": 3", "\"kernel\": 9", 1);
        let e = SavedModel::from_json(bad.as_bytes()).unwrap_err();
        assert!(e.contains("layers[0]"), "{e}");
    }

    #[test]
    fn many_random_floats_survive_json() {
        let mut rng = Rng::new(1);
        let mut v = Vec::new();
        while v.len() < 200_000 {
            let x = f32::from_bits(rng.next_u64() as u32);
            if x.is_finite() {
                v.push(x);
            }
        }
        let text = serde_json::to_string(&v).unwrap_or_default();
        let back: Vec<f32> = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back.len(), v.len());
        assert!(back.iter().zip(&v).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn bad_json_names_the_field() {
        let text = m_text().replace("\"tanh\"", "\"swish\"");
        let e = SavedModel::from_json(text.as_bytes()).unwrap_err();
        assert!(e.contains("layers[0].activation"), "{e}");
        let text = m_text().replacen("\"bias\": [", "\"bias\": [1e39, ", 1);
        let e = SavedModel::from_json(text.as_bytes()).unwrap_err();
        assert!(e.contains("layers[0].bias"), "{e}");
    }

    fn m_text() -> String {
        model().to_json().unwrap_or_default()
    }
}
