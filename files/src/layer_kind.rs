//! A layer's kind and sizes as the JSON files spell them (the JSON model file and the
//! conformance cases): `"kind"` (absent or `"dense"`, `"conv1d"`, `"max_pool1d"`,
//! `"avg_pool1d"`, `"flatten"`, `"global_avg_pool1d"`) and the sizes of that kind
//! (`in_channels`, `out_channels`, `channels`, `kernel`, `stride`, `padding` `"none"` or
//! `"same"`, `length`), beside the layer's `inputs`, `outputs` and `activation`.

use microtrain::{Activation, Dense, Kind, Padding};

/// The kind fields of one layer, each `None` where the file leaves it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindFields {
    /// `"dense"` when `None`.
    pub kind: Option<String>,
    /// A convolution's input channels.
    pub in_channels: Option<usize>,
    /// A convolution's output channels.
    pub out_channels: Option<usize>,
    /// A pool's channels.
    pub channels: Option<usize>,
    /// Kernel (window) size.
    pub kernel: Option<usize>,
    /// Stride (a pool's defaults to its kernel).
    pub stride: Option<usize>,
    /// `"none"` (default) or `"same"`.
    pub padding: Option<String>,
    /// Input length per channel.
    pub length: Option<usize>,
}

impl KindFields {
    /// The fields of `l` as a file writes them (nothing for a dense layer).
    pub fn of(l: &Dense) -> Self {
        let len = |c: u8| l.inputs.checked_div(usize::from(c));
        let mut f = KindFields::default();
        match l.kind {
            Kind::Dense => {}
            Kind::Conv1d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
            } => {
                f.kind = Some("conv1d".into());
                f.in_channels = Some(usize::from(in_channels));
                f.out_channels = Some(usize::from(out_channels));
                f.kernel = Some(usize::from(kernel));
                f.stride = Some(usize::from(stride));
                f.padding = Some(if padding == Padding::Same { "same" } else { "none" }.into());
                f.length = len(in_channels);
            }
            Kind::MaxPool1d {
                channels,
                kernel,
                stride,
            }
            | Kind::AvgPool1d {
                channels,
                kernel,
                stride,
            } => {
                let max = matches!(l.kind, Kind::MaxPool1d { .. });
                f.kind = Some(if max { "max_pool1d" } else { "avg_pool1d" }.into());
                f.channels = Some(usize::from(channels));
                f.kernel = Some(usize::from(kernel));
                f.stride = Some(usize::from(stride));
                f.length = len(channels);
            }
            Kind::Flatten => f.kind = Some("flatten".into()),
            Kind::GlobalAvgPool1d { channels } => {
                f.kind = Some("global_avg_pool1d".into());
                f.channels = Some(usize::from(channels));
                f.length = len(channels);
            }
        }
        f
    }

    /// The layer these fields describe with `act`, its `inputs` and `outputs` checked
    /// against the declared ones; errors name the field as `field `{at}.name``.
    pub fn layer(&self, inputs: usize, outputs: usize, act: Activation, at: &str) -> Result<Dense, String> {
        let need = |v: Option<usize>, name: &str| v.ok_or_else(|| format!("field `{at}.{name}`: missing"));
        let kind = self.kind.as_deref().unwrap_or("dense");
        let l = match kind {
            "dense" => Dense::new(inputs, outputs, act),
            "conv1d" => {
                let padding = match self.padding.as_deref().unwrap_or("none") {
                    "none" => Padding::None,
                    "same" => Padding::Same,
                    p => return Err(format!("field `{at}.padding`: {p:?} (known: none, same)")),
                };
                Dense::conv1d(
                    need(self.in_channels, "in_channels")?,
                    need(self.out_channels, "out_channels")?,
                    need(self.kernel, "kernel")?,
                    need(self.stride, "stride")?,
                    padding,
                    need(self.length, "length")?,
                    act,
                )
            }
            "max_pool1d" | "avg_pool1d" => {
                let (c, len, k) = (
                    need(self.channels, "channels")?,
                    need(self.length, "length")?,
                    need(self.kernel, "kernel")?,
                );
                let s = self.stride.unwrap_or(k);
                let l = if kind == "max_pool1d" {
                    Dense::max_pool1d(c, len, k, s)
                } else {
                    Dense::avg_pool1d(c, len, k, s)
                };
                Dense { activation: act, ..l }
            }
            "flatten" => Dense {
                activation: act,
                ..Dense::flatten(inputs)
            },
            "global_avg_pool1d" => Dense {
                activation: act,
                ..Dense::global_avg_pool1d(need(self.channels, "channels")?, need(self.length, "length")?)
            },
            k => {
                return Err(format!(
                    "field `{at}.kind`: {k:?} (known: dense, conv1d, max_pool1d, avg_pool1d, flatten, global_avg_pool1d)"
                ))
            }
        };
        if (l.inputs, l.outputs) != (inputs, outputs) {
            return Err(format!(
                "field `{at}`: {kind} of these sizes has {} inputs and {} outputs, the file says {inputs} and {outputs}",
                l.inputs, l.outputs
            ));
        }
        Ok(l)
    }
}

/// A layer's weight dimensions as the files nest them: dense `[outputs][inputs]`,
/// conv1d `[out_channels][in_channels][kernel]`, `[0]` (an empty list) for a layer
/// without parameters.
pub fn weight_dims(l: &Dense) -> Vec<usize> {
    match l.kind {
        Kind::Dense => vec![l.outputs, l.inputs],
        Kind::Conv1d {
            in_channels,
            out_channels,
            kernel,
            ..
        } => vec![
            usize::from(out_channels),
            usize::from(in_channels),
            usize::from(kernel),
        ],
        _ => vec![0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_fields() {
        let layers = [
            Dense::conv1d(3, 4, 5, 2, Padding::None, 21, Activation::Relu),
            Dense::conv1d(3, 4, 4, 1, Padding::Same, 9, Activation::Tanh),
            Dense::max_pool1d(4, 9, 3, 2),
            Dense::avg_pool1d(4, 9, 2, 2),
            Dense::flatten(12),
            Dense::global_avg_pool1d(4, 5),
            Dense::new(4, 2, Activation::Identity),
        ];
        for l in layers {
            let f = KindFields::of(&l);
            assert_eq!(f.layer(l.inputs, l.outputs, l.activation, "x"), Ok(l));
        }
        let mut f = KindFields::of(&layers[0]);
        f.stride = None;
        assert!(f
            .layer(36, 40, Activation::Relu, "layers[0]")
            .unwrap_err()
            .contains("layers[0].stride"));
        let f = KindFields::of(&layers[2]);
        let e = f.layer(36, 99, Activation::Identity, "m").unwrap_err();
        assert!(e.contains("the file says 36 and 99"), "{e}");
        assert_eq!(weight_dims(&layers[0]), vec![4, 3, 5]);
    }
}
