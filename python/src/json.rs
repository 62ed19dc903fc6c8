//! The simulator's JSON model format (version 1; described in the simulator's
//! `host-sim/src/model/saved_model.rs`): `format`, `version`, an optional `loss`,
//! optional `features` / `targets` / `classes` names, and `layers` with `weight` rows
//! and `bias`. Values are written in the shortest decimal form that reads back to the
//! same `f32`, so a model saved as JSON and as `.mtm` holds the same bits.

use microtrain::{Dense, Loss};
use serde::{Deserialize, Serialize};

const FORMAT: &str = "microtrain-model";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLayer {
    inputs: usize,
    outputs: usize,
    activation: String,
    weight: Vec<Vec<f32>>,
    bias: Vec<f32>,
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

/// The JSON model file of `layers` and `params` (per layer `W` row-major, then `b`).
pub fn to_json(layers: &[Dense], params: &[f32], loss: Loss) -> Result<String, String> {
    let mut out = Vec::new();
    let mut rest = params;
    for l in layers {
        if rest.len() < l.params_len() {
            return Err("parameters shorter than the shape".into());
        }
        let (w, tail) = rest.split_at(l.weights_len());
        let (b, tail) = tail.split_at(l.outputs);
        rest = tail;
        out.push(JsonLayer {
            inputs: l.inputs,
            outputs: l.outputs,
            activation: l.activation.name().into(),
            weight: w.chunks(l.inputs.max(1)).map(<[f32]>::to_vec).collect(),
            bias: b.to_vec(),
        });
    }
    let m = JsonModel {
        format: FORMAT.into(),
        version: 1,
        loss: Some(loss.name().into()),
        features: Vec::new(),
        targets: Vec::new(),
        classes: None,
        layers: out,
    };
    serde_json::to_string_pretty(&m)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// What a model file holds: the layers, the parameters, and the loss if it names one.
pub type Parsed = (Vec<Dense>, Vec<f32>, Option<Loss>);

/// The layers, parameters and loss (if named) of a JSON model file, every field
/// checked; an error names the field.
pub fn from_json(bytes: &[u8]) -> Result<Parsed, String> {
    let m: JsonModel = serde_json::from_slice(bytes).map_err(|e| format!("JSON model: {e}"))?;
    if m.format != FORMAT || m.version != 1 {
        return Err(format!(
            "JSON model: field `format`/`version`: {:?} version {} (this reads {FORMAT:?} version 1)",
            m.format, m.version
        ));
    }
    let loss = m.loss.as_deref().map(crate::spec::loss).transpose()?;
    let mut layers = Vec::new();
    let mut params = Vec::new();
    for (i, l) in m.layers.iter().enumerate() {
        let act = crate::spec::activation(
            &l.activation,
            &format!("JSON model: field `layers[{i}].activation`"),
        )?;
        layers.push(Dense::new(l.inputs, l.outputs, act));
        if l.weight.len() != l.outputs || l.weight.iter().any(|r| r.len() != l.inputs) {
            return Err(format!(
                "JSON model: field `layers[{i}].weight`: not {} rows of {} values",
                l.outputs, l.inputs
            ));
        }
        if l.bias.len() != l.outputs {
            return Err(format!(
                "JSON model: field `layers[{i}].bias`: {} values, the layer has {} outputs",
                l.bias.len(),
                l.outputs
            ));
        }
        for row in &l.weight {
            params.extend_from_slice(row);
        }
        params.extend_from_slice(&l.bias);
        if let Some(k) = params.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "JSON model: layer {i}: parameter {k} is not a finite f32"
            ));
        }
    }
    microtrain::shape::validate(&layers).map_err(|e| format!("JSON model: field `layers`: {e}"))?;
    Ok((layers, params, loss))
}

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain::Activation;

    #[test]
    fn round_trips_bit_for_bit_and_names_bad_fields() {
        let layers = vec![
            Dense::new(2, 3, Activation::Tanh),
            Dense::new(3, 1, Activation::Sigmoid),
        ];
        let params: Vec<f32> = (0..13)
            .map(|i| (i as f32 * 0.77).sin() * 10f32.powi(i - 6))
            .collect();
        let text = to_json(&layers, &params, Loss::BinaryCrossEntropy).unwrap();
        let (l, p, loss) = from_json(text.as_bytes()).unwrap();
        assert_eq!(l, layers);
        assert_eq!(loss, Some(Loss::BinaryCrossEntropy));
        assert!(p.iter().zip(&params).all(|(a, b)| a.to_bits() == b.to_bits()));
        let bad = text.replace("\"tanh\"", "\"swish\"");
        assert!(from_json(bad.as_bytes())
            .unwrap_err()
            .contains("layers[0].activation"));
        let bad = text.replacen("\"bias\": [", "\"bias\": [1.0, ", 1);
        assert!(from_json(bad.as_bytes()).unwrap_err().contains("layers[0].bias"));
    }
}
