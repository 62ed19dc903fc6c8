//! The optimizer registry's machinery: the `registry!` macro that `optim/mod.rs`
//! invokes with one line per optimizer, and [`Registered`], what [`OPTIMIZERS`]
//! says of each.

use super::AnyOptimizer;
#[cfg(doc)]
use super::OPTIMIZERS;

/// The registry: every optimizer of the crate, one line each, as
/// `module::Type = checkpoint code, "name";`. It declares the optimizer's module
/// (`optim/<module>.rs`) and defines [`AnyOptimizer`](super::AnyOptimizer) (a variant
/// per line), [`OPTIMIZERS`](super::OPTIMIZERS), the `optimizers` re-exports and each
/// optimizer's [`Config`](super::Config); the simulator, the conformance runner and the
/// checkpoints all read it. A code is never reused.
macro_rules! registry {
    ($($module:ident :: $t:ident = $code:literal, $name:literal;)+) => {
        $(
            pub mod $module;
        )+

        /// Every optimizer config of the registry (re-exported at the crate root).
        pub mod optimizers {
            $(
                pub use super::$module::$t;
            )+
        }

        /// Any of the crate's optimizers.
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum AnyOptimizer {
            $(
                #[doc = concat!("[`", stringify!($t), "`].")]
                $t($t),
            )+
        }

        /// Every optimizer of the registry, in the order the course presents them.
        pub const OPTIMIZERS: &[Registered] = &[$(Registered {
            name: $name,
            code: $code,
            default: || AnyOptimizer::$t($t::default()),
        }),+];

        $(
            impl From<$t> for AnyOptimizer {
                fn from(o: $t) -> Self {
                    AnyOptimizer::$t(o)
                }
            }

            impl Config for $t {
                fn name(&self) -> &'static str {
                    $name
                }
                fn code(&self) -> u8 {
                    $code
                }
                fn hyperparameter_names(&self) -> &'static [&'static str] {
                    Self::HYPERPARAMETERS
                }
                fn hyperparameter(&self, i: usize) -> Option<Hyper> {
                    self.hyperparameter_at(i)
                }
                fn set_hyperparameter(&mut self, name: &str, value: Hyper) -> Result<(), SetHyperError> {
                    self.set_hyperparameter_named(name, value)
                }
            }
        )+

        /// `$e` with `$o` bound to the optimizer inside `$self`.
        macro_rules! dispatch {
            ($self_:expr, $o:ident => $e:expr) => {
                match $self_ {
                    $(AnyOptimizer::$t($o) => $e,)+
                }
            };
        }
    };
}

/// One optimizer of the registry ([`OPTIMIZERS`]).
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    /// Its name (`"adam"`).
    pub name: &'static str,
    /// Its checkpoint code.
    pub code: u8,
    /// Its config with PyTorch's defaults (SGD, which has no default learning rate
    /// in PyTorch: 0.01).
    pub default: fn() -> AnyOptimizer,
}
