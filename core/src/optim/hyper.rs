//! Hyperparameters by name: what lets the simulator, the conformance runner and the
//! checkpoints read and write any optimizer's settings without knowing its fields.
//!
//! Each optimizer's file lists its config struct's fields once with
//! `hyperparameters!` (a crate-private macro: PyTorch's names, in field
//! order); the [registry](crate::optim::any) turns that into [`Config`].

/// A hyperparameter's value: a number (`lr`, `beta1`, ...) or a switch (`nesterov`,
/// `amsgrad`, `centered`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Hyper {
    /// A number.
    Number(f32),
    /// A switch.
    Switch(bool),
}

/// Why [`Config::set_hyperparameter`] refused a value. Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SetHyperError {
    /// The optimizer has no hyperparameter of that name.
    Unknown,
    /// The hyperparameter is a number and was given a switch.
    NotANumber,
    /// The hyperparameter is a switch and was given a number.
    NotASwitch,
}

impl core::fmt::Display for SetHyperError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SetHyperError::Unknown => "no such hyperparameter",
            SetHyperError::NotANumber => "expected a number",
            SetHyperError::NotASwitch => "expected true or false",
        })
    }
}

impl core::error::Error for SetHyperError {}

/// An optimizer config as the registry knows it: its name and checkpoint code, and its
/// hyperparameters by name. Implemented for every optimizer and for
/// [`AnyOptimizer`](crate::AnyOptimizer) by the registry
/// ([`crate::optim::any`]); a new optimizer gets it from its one registry line.
pub trait Config {
    /// The optimizer's name, as the conformance format and the simulator spell it
    /// (`"sgd"`, `"adam"`, ...).
    fn name(&self) -> &'static str;

    /// The code that identifies the optimizer in a checkpoint (never reused).
    fn code(&self) -> u8;

    /// PyTorch's names of the hyperparameters, in the order of the config struct's
    /// fields (the order a checkpoint stores them in).
    fn hyperparameter_names(&self) -> &'static [&'static str];

    /// The value of hyperparameter `i` (of [`hyperparameter_names`](Config::hyperparameter_names));
    /// `None` past the last.
    fn hyperparameter(&self, i: usize) -> Option<Hyper>;

    /// Sets the hyperparameter `name` (not validated: call
    /// [`Optimizer::validate`](crate::Optimizer::validate) after the last one). On an
    /// error nothing changes.
    fn set_hyperparameter(&mut self, name: &str, value: Hyper) -> Result<(), SetHyperError>;
}

/// A field type a hyperparameter can have.
pub(crate) trait Field: Sized + Copy {
    fn to_hyper(self) -> Hyper;
    fn from_hyper(h: Hyper) -> Result<Self, SetHyperError>;
}

impl Field for f32 {
    fn to_hyper(self) -> Hyper {
        Hyper::Number(self)
    }
    fn from_hyper(h: Hyper) -> Result<Self, SetHyperError> {
        match h {
            Hyper::Number(v) => Ok(v),
            Hyper::Switch(_) => Err(SetHyperError::NotANumber),
        }
    }
}

impl Field for bool {
    fn to_hyper(self) -> Hyper {
        Hyper::Switch(self)
    }
    fn from_hyper(h: Hyper) -> Result<Self, SetHyperError> {
        match h {
            Hyper::Switch(v) => Ok(v),
            Hyper::Number(_) => Err(SetHyperError::NotASwitch),
        }
    }
}

/// Lists a config struct's hyperparameter fields (each an `f32` or a `bool`, named as
/// in PyTorch), in field order: `hyperparameters!(Adam { lr, beta1, beta2, eps,
/// weight_decay, amsgrad });`. It gives the struct the by-name access the registry's
/// [`Config`] uses.
macro_rules! hyperparameters {
    ($t:ident { $($field:ident),+ $(,)? }) => {
        impl $t {
            /// PyTorch's names of the hyperparameters, in field order.
            pub const HYPERPARAMETERS: &'static [&'static str] = &[$(stringify!($field)),+];

            pub(crate) fn hyperparameter_at(&self, i: usize) -> Option<$crate::optim::Hyper> {
                [$($crate::optim::hyper::Field::to_hyper(self.$field)),+].get(i).copied()
            }

            pub(crate) fn set_hyperparameter_named(
                &mut self,
                name: &str,
                value: $crate::optim::Hyper,
            ) -> Result<(), $crate::optim::SetHyperError> {
                $(
                    if name == stringify!($field) {
                        self.$field = $crate::optim::hyper::Field::from_hyper(value)?;
                        return Ok(());
                    }
                )+
                Err($crate::optim::SetHyperError::Unknown)
            }
        }
    };
}
pub(crate) use hyperparameters;
