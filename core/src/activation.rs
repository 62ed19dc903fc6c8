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
//!
//! Softmax is not here: it is part of the softmax cross-entropy loss.

use crate::math;

/// An element-wise activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl Activation {
    /// Every activation, in declaration order.
    pub const ALL: [Activation; 4] = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
    ];

    /// The activation's name as the conformance format and the CLI spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }

    /// Parses a name written as by [`Activation::name`].
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
        }
    }

    /// The activation with [`code`](Activation::code) `code`, if any.
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
        }
    }
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
        assert_eq!(acts, [0, 1, 2, 3]);
        let losses = Loss::ALL.map(Loss::code);
        assert_eq!(losses, [0, 1, 2]);
        for a in Activation::ALL {
            assert_eq!(Activation::from_code(a.code()), Some(a));
        }
        for l in Loss::ALL {
            assert_eq!(Loss::from_code(l.code()), Some(l));
        }
        assert_eq!(Activation::from_code(4), None);
        assert_eq!(Loss::from_code(3), None);
    }
}
