//! The simulator's JSON model format, through the simulator's own reader and writer
//! (`microtrain_files::SavedModel`; the format is described there).

use microtrain::{Dense, Loss};
use microtrain_files::SavedModel;

/// The JSON model file of `layers` and `params` (per layer `W` row-major, then `b`).
pub fn to_json(layers: &[Dense], params: &[f32], loss: Loss) -> Result<String, String> {
    SavedModel {
        layers: layers.to_vec(),
        params: params.to_vec(),
        loss: Some(loss),
        features: Vec::new(),
        targets: Vec::new(),
        classes: None,
    }
    .to_json()
}

/// What a model file holds: the layers, the parameters, and the loss if it names one.
pub type Parsed = (Vec<Dense>, Vec<f32>, Option<Loss>);

/// The layers, parameters and loss (if named) of a JSON model file, every field
/// checked; an error names the field.
pub fn from_json(bytes: &[u8]) -> Result<Parsed, String> {
    let m = SavedModel::from_json(bytes)?;
    Ok((m.layers, m.params, m.loss))
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
