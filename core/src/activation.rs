//! Element-wise activation functions and their derivatives.
//!
//! Every derivative is written in terms of the activation's *output* `a = f(z)`, so the
//! backward pass needs no copy of the pre-activations `z`:
//!
//! | activation | `f(z)` | `f'(z)` from `a` |
//! |---|---|---|
//! | identity | `z` | `1` |
//! | sigmoid | `1 / (1 + e^-z)` | `a (1 - a)` |
//! | tanh | `tanh z` | `1 - a^2` |
//! | relu | `max(z, 0)` | `1` if `a > 0`, else `0` (PyTorch's choice at 0) |
//! | leaky_relu (`s`, default 0.01) | `z` if `z > 0`, else `s z` | `1` if `a > 0`, else `s` |
//! | elu (`alpha`, default 1.0) | `z` if `z > 0`, else `alpha (e^z - 1)` | `1` if `a > 0`, else `a + alpha` |
//! | softsign | `z / (1 + \|z\|)` | `(1 - \|a\|)^2` |
//!
//! The three new rows follow `torch.nn.LeakyReLU(negative_slope)`, `torch.nn.ELU(alpha)`
//! and `torch.nn.Softsign`, with PyTorch's choice at `z = 0`: LeakyReLU's derivative is
//! `s` there (PyTorch's `z > 0 ? 1 : s`), ELU's is `alpha` (`alpha e^0`). The
//! derivative from the output is exact where it is unambiguous, which needs
//! `s >= 0` and `alpha >= 0` (otherwise a positive output could come from a negative
//! `z`): [`Activation::check`] refuses other values (and non-finite ones), and
//! [`shape::validate`](crate::shape::validate) calls it for every layer.
//!
//! Why `a + alpha` for ELU: for `z <= 0`, `f'(z) = alpha e^z = alpha (e^z - 1) + alpha
//! = a + alpha`. Why `(1 - |a|)^2` for softsign: `f'(z) = 1 / (1 + |z|)^2` and
//! `1 - |a| = 1 - |z| / (1 + |z|) = 1 / (1 + |z|)`.
//!
//! Softmax is not here: it is part of the softmax cross-entropy loss.

use crate::error::HyperparameterError;
use crate::math;

/// An element-wise activation function.
///
/// Two activations compare equal when they are the same function with the same bits
/// of their parameter (so that `Eq` holds: a parameter is never NaN in a model that
/// passes [`Activation::check`]).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// `f(z) = z`.
    Identity,
    /// `f(z) = 1 / (1 + e^-z)`.
    Sigmoid,
    /// `f(z) = tanh z`.
    Tanh,
    /// `f(z) = max(z, 0)`.
    Relu,
    /// `f(z) = z` if `z > 0`, else `negative_slope * z` (`torch.nn.LeakyReLU`; the
    /// field is `negative_slope`, made by [`Activation::leaky_relu`];
    /// [`Activation::LEAKY_RELU`] has PyTorch's default 0.01). Needs
    /// `negative_slope >= 0`, finite.
    LeakyRelu(Param),
    /// `f(z) = z` if `z > 0`, else `alpha * (e^z - 1)` (`torch.nn.ELU`; the field is
    /// `alpha`, made by [`Activation::elu`]; [`Activation::ELU`] has PyTorch's
    /// default 1.0). Needs `alpha >= 0`, finite.
    Elu(Param),
    /// `f(z) = z / (1 + |z|)` (`torch.nn.Softsign`).
    Softsign,
}

/// An activation's `f32` parameter, stored as its four little-endian bytes so that it
/// has alignment 1: an [`Activation`] is then 5 bytes and a
/// [`Dense`](crate::Dense) layer 4 bytes smaller on a 32-bit target than with an
/// `f32` field, which keeps the trainer's walk over the layers as fast as before
/// (measured: the `f32` field cost the Iris SGD step 9 instructions).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Param([u8; 4]);

impl Param {
    /// The parameter `v`.
    pub const fn new(v: f32) -> Self {
        Param(v.to_le_bytes())
    }

    /// Its value.
    #[inline(always)]
    pub const fn get(self) -> f32 {
        f32::from_le_bytes(self.0)
    }
}

impl core::fmt::Debug for Param {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.get())
    }
}

impl PartialEq for Activation {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code() && self.param().map(f32::to_bits) == other.param().map(f32::to_bits)
    }
}

impl Eq for Activation {}

impl Activation {
    /// LeakyReLU with PyTorch's default `negative_slope`, 0.01.
    pub const LEAKY_RELU: Activation = Activation::leaky_relu(0.01);
    /// ELU with PyTorch's default `alpha`, 1.0.
    pub const ELU: Activation = Activation::elu(1.0);

    /// `torch.nn.LeakyReLU(negative_slope)`.
    pub const fn leaky_relu(negative_slope: f32) -> Self {
        Activation::LeakyRelu(Param::new(negative_slope))
    }

    /// `torch.nn.ELU(alpha)`.
    pub const fn elu(alpha: f32) -> Self {
        Activation::Elu(Param::new(alpha))
    }

    /// Every activation, in declaration order (those with a parameter at PyTorch's
    /// default).
    pub const ALL: [Activation; 7] = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::ELU,
        Activation::Softsign,
    ];

    /// The activation's name as the conformance format and the CLI spell it, without
    /// its parameter (see [`Activation::param`]): `leaky_relu`, `elu`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Elu(_) => "elu",
            Activation::Softsign => "softsign",
        }
    }

    /// The name of the activation's parameter as PyTorch calls it (`negative_slope`,
    /// `alpha`), `None` for one without.
    pub const fn param_name(self) -> Option<&'static str> {
        match self {
            Activation::LeakyRelu(_) => Some("negative_slope"),
            Activation::Elu(_) => Some("alpha"),
            _ => None,
        }
    }

    /// The activation's parameter (LeakyReLU's `negative_slope`, ELU's `alpha`), `None`
    /// for one without.
    pub const fn param(self) -> Option<f32> {
        match self {
            Activation::LeakyRelu(s) => Some(s.get()),
            Activation::Elu(a) => Some(a.get()),
            _ => None,
        }
    }

    /// Whether the activation's parameter differs (in its bits) from PyTorch's default
    /// ([`Activation::LEAKY_RELU`]'s slope, [`Activation::ELU`]'s alpha): what the model
    /// file and the checkpoint's first format version cannot record. `false` for an
    /// activation without a parameter.
    pub const fn param_off_default(self) -> bool {
        let default = match self {
            Activation::LeakyRelu(_) => Activation::LEAKY_RELU.param(),
            Activation::Elu(_) => Activation::ELU.param(),
            _ => None,
        };
        match (self.param(), default) {
            (Some(p), Some(d)) => p.to_bits() != d.to_bits(),
            _ => false,
        }
    }

    /// The same activation with its parameter set to `p` (unchanged for one without a
    /// parameter).
    pub const fn with_param(self, p: f32) -> Self {
        match self {
            Activation::LeakyRelu(_) => Activation::leaky_relu(p),
            Activation::Elu(_) => Activation::elu(p),
            other => other,
        }
    }

    /// Checks the parameter: LeakyReLU's `negative_slope` and ELU's `alpha` must be
    /// finite and `>= 0` (see the module docs: the derivative is taken from the
    /// output). The error names the parameter as PyTorch does.
    pub fn check(self) -> Result<(), HyperparameterError> {
        match (self.param_name(), self.param()) {
            (Some(name), Some(value)) if !(value.is_finite() && value >= 0.0) => Err(HyperparameterError {
                name,
                value,
                rule: "finite and >= 0",
            }),
            _ => Ok(()),
        }
    }

    /// Parses a name written as by [`Activation::name`], with the parameter at its
    /// default (see [`Activation::ALL`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The activation's code in the model file and in checkpoints (never reused).
    pub const fn code(self) -> u8 {
        match self {
            Activation::Identity => 0,
            Activation::Sigmoid => 1,
            Activation::Tanh => 2,
            Activation::Relu => 3,
            Activation::LeakyRelu(_) => 4,
            Activation::Elu(_) => 5,
            Activation::Softsign => 6,
        }
    }

    /// The activation with [`code`](Activation::code) `code`, if any (with its
    /// parameter at the default; see [`Activation::with_param`]).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Applies the activation to every element of `z`, in place.
    #[inline]
    pub fn apply(self, z: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Sigmoid => z.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Tanh => z.iter_mut().for_each(|v| *v = math::tanh(*v)),
            Activation::Relu => z.iter_mut().for_each(|v| *v = math::max(*v, 0.0)),
            Activation::LeakyRelu(s) => {
                let s = s.get();
                z.iter_mut().for_each(|v| *v = leaky_relu(*v, s))
            }
            Activation::Elu(alpha) => {
                let alpha = alpha.get();
                z.iter_mut().for_each(|v| *v = elu(*v, alpha))
            }
            Activation::Softsign => z.iter_mut().for_each(|v| *v = softsign(*v)),
        }
    }

    /// `f'(z)` expressed from the output `a = f(z)`.
    #[inline]
    pub fn derivative_from_output(self, a: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Sigmoid => (1.0 - a) * a,
            Activation::Tanh => 1.0 - a * a,
            Activation::Relu => {
                if a > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(s) => {
                if a > 0.0 {
                    1.0
                } else {
                    s.get()
                }
            }
            Activation::Elu(alpha) => {
                if a > 0.0 {
                    1.0
                } else {
                    a + alpha.get()
                }
            }
            Activation::Softsign => {
                let c = 1.0 - a.abs();
                c * c
            }
        }
    }
}

/// LeakyReLU: `z` if `z > 0`, else `s z` (as PyTorch: NaN stays NaN).
#[inline]
pub fn leaky_relu(z: f32, s: f32) -> f32 {
    if z > 0.0 {
        z
    } else {
        z * s
    }
}

/// ELU: `z` if `z > 0`, else `alpha (e^z - 1)`; finite for every finite `z` (`e^z`
/// only for `z <= 0`).
#[inline]
pub fn elu(z: f32, alpha: f32) -> f32 {
    if z > 0.0 {
        z
    } else {
        alpha * (math::exp(z) - 1.0)
    }
}

/// Softsign: `z / (1 + |z|)`.
#[inline]
pub fn softsign(z: f32) -> f32 {
    z / (1.0 + z.abs())
}

/// The logistic function `1 / (1 + e^-z)`, finite for every finite `z`.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    // Both branches only ever exponentiate a non-positive number: no overflow.
    if z >= 0.0 {
        1.0 / (1.0 + math::exp(-z))
    } else {
        let e = math::exp(z);
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Loss;

    /// The codes files and checkpoints store: fixed, distinct, and read back.
    #[test]
    fn codes_are_fixed_and_read_back() {
        let acts = Activation::ALL.map(Activation::code);
        assert_eq!(acts, [0, 1, 2, 3, 4, 5, 6]);
        let losses = Loss::ALL.map(Loss::code);
        assert_eq!(losses, [0, 1, 2]);
        for a in Activation::ALL {
            assert_eq!(Activation::from_code(a.code()), Some(a));
        }
        for l in Loss::ALL {
            assert_eq!(Loss::from_code(l.code()), Some(l));
        }
        assert_eq!(Activation::from_code(7), None);
        assert_eq!(Loss::from_code(3), None);
    }

    /// The new activations against their formulas written out in `f64`, and their
    /// derivatives from the output against central differences of the forward.
    #[test]
    fn new_activations_match_their_formulas() {
        let acts = [
            Activation::LEAKY_RELU,
            Activation::leaky_relu(0.3),
            Activation::ELU,
            Activation::elu(0.5),
            Activation::Softsign,
        ];
        let reference = |a: Activation, z: f64| -> f64 {
            match a {
                Activation::LeakyRelu(s) => {
                    if z > 0.0 {
                        z
                    } else {
                        f64::from(s.get()) * z
                    }
                }
                Activation::Elu(al) => {
                    if z > 0.0 {
                        z
                    } else {
                        f64::from(al.get()) * (z.exp() - 1.0)
                    }
                }
                _ => z / (1.0 + z.abs()),
            }
        };
        for a in acts {
            for z in [-7.0f32, -2.5, -1.0, -0.3, -1e-3, 1e-3, 0.4, 1.5, 6.0] {
                let mut v = [z];
                a.apply(&mut v);
                let want = reference(a, f64::from(z));
                assert!(
                    (f64::from(v[0]) - want).abs() <= 1e-6 * (1.0 + want.abs()),
                    "{a:?} at {z}"
                );
                let h = 1e-4f64;
                let fd = (reference(a, f64::from(z) + h) - reference(a, f64::from(z) - h)) / (2.0 * h);
                let d = f64::from(a.derivative_from_output(v[0]));
                assert!((d - fd).abs() <= 1e-4, "{a:?}' at {z}: {d} vs {fd}");
            }
            // PyTorch's choice at 0: the negative side's slope.
            let mut zero = [0.0f32];
            a.apply(&mut zero);
            let at0 = a.derivative_from_output(zero[0]);
            let want = match a {
                Activation::LeakyRelu(s) | Activation::Elu(s) => s.get(),
                _ => 1.0,
            };
            assert_eq!(at0, want, "{a:?} at 0");
        }
    }

    /// Parameters are compared by bits, checked, and named as PyTorch names them.
    #[test]
    fn parameters_are_checked_and_compared() {
        // The parameter's bytes keep the layer small (see `Param`).
        assert_eq!(core::mem::size_of::<Activation>(), 5);
        // 20 bytes on a 32-bit target: two `usize`, the activation (5), the
        // trainability (1) and the kind (5), aligned to 4.
        assert_eq!(core::mem::size_of::<crate::Kind>(), 5);
        let fields = 2 * core::mem::size_of::<usize>() + 5 + 1 + 5;
        assert_eq!(
            core::mem::size_of::<crate::Dense>(),
            fields.next_multiple_of(core::mem::size_of::<usize>())
        );
        assert_eq!(
            Activation::leaky_relu(0.2),
            Activation::LEAKY_RELU.with_param(0.2)
        );
        assert_ne!(Activation::leaky_relu(0.2), Activation::LEAKY_RELU);
        assert_ne!(Activation::leaky_relu(1.0), Activation::elu(1.0));
        assert_eq!(Activation::Relu.with_param(3.0), Activation::Relu);
        assert!(Activation::elu(0.0).check().is_ok());
        let e = Activation::leaky_relu(-0.1).check().unwrap_err();
        assert_eq!(e.name, "negative_slope");
        let e = Activation::elu(f32::NAN).check().unwrap_err();
        assert_eq!(e.name, "alpha");
        assert!(Activation::Softsign.check().is_ok());
        assert_eq!(Activation::from_name("elu"), Some(Activation::ELU));
        assert_eq!(Activation::from_code(4), Some(Activation::leaky_relu(0.01)));
    }
}
