//! The errors of [`Checkpointer`](crate::Checkpointer): one small enum per operation.
//!
//! `E` is the flash driver's error type. Every restore error leaves the trainer
//! untouched; every save error leaves the last complete checkpoint on flash.

use microtrain::StepError;

/// The flash region cannot hold two checkpoint slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigError {
    /// The flash's read, write or erase size is 0, larger than the crate's chunk
    /// buffer ([`CHUNK`](crate::CHUNK) bytes) for reads and writes, or the sizes do not
    /// divide each other (erase size a multiple of read and write size, chunk a
    /// multiple of read and write size).
    Geometry {
        /// `READ_SIZE`.
        read: usize,
        /// `WRITE_SIZE`.
        write: usize,
        /// `ERASE_SIZE`.
        erase: usize,
    },
    /// `region_start` is not a multiple of the erase size.
    Unaligned {
        /// The start given.
        start: u32,
        /// The flash's erase size.
        erase: usize,
    },
    /// The region is smaller than two erase units or reaches past the flash's end.
    Region {
        /// The start given.
        start: u32,
        /// The length given.
        len: u32,
        /// The flash's capacity.
        capacity: usize,
    },
}

/// Why a checkpoint was not saved. The previous complete checkpoint is still on flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SaveError<E> {
    /// The flash driver failed (a power cut in the tests).
    Flash(E),
    /// The checkpoint needs `needed` bytes; a slot has `slot`.
    TooLarge {
        /// Bytes needed, commit marker included.
        needed: usize,
        /// Bytes of one slot.
        slot: usize,
    },
    /// The model has more than [`MAX_LAYERS`](crate::format::MAX_LAYERS) layers, a
    /// size that does not fit the format's 32-bit fields, or a LeakyReLU or ELU
    /// whose parameter is not PyTorch's default (the layer record has no room for it).
    Shape,
}

/// Which part of the optimizer identity differs (see [`OptimizerId`](crate::OptimizerId)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OptimizerField {
    /// The kind (another optimizer).
    Kind,
    /// The state floats per parameter (e.g. AMSGrad on one side only).
    StatePerParam,
    /// The number of hyperparameter words.
    HyperCount,
    /// Hyperparameter word `i`, in the order of the config struct's fields.
    Hyper(usize),
}

/// Why no checkpoint was restored. The trainer is untouched.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RestoreError<E> {
    /// The flash driver failed.
    Flash(E),
    /// Neither slot holds a complete checkpoint.
    NoCheckpoint,
    /// The newest complete checkpoint has a format version this crate does not read.
    Version {
        /// The version found.
        found: u16,
    },
    /// The checkpoint's model has another number of layers.
    LayerCount {
        /// In the checkpoint.
        stored: usize,
        /// In the trainer.
        expected: usize,
    },
    /// Layer `index` differs (inputs, outputs or activation).
    Layer {
        /// Index of the first differing layer.
        index: usize,
    },
    /// Layer `index` is the same but trains differently (frozen, bias-only or
    /// trainable: [`Trainability::code`](microtrain::shape::Trainability::code)); the
    /// checkpoint holds another set of trained parameters.
    Freezing {
        /// Index of the first such layer.
        index: usize,
        /// Its trainability code in the checkpoint.
        stored: u8,
        /// Its trainability code in the model.
        expected: u8,
    },
    /// The parameter count differs.
    ParamCount {
        /// In the checkpoint.
        stored: usize,
        /// In the trainer.
        expected: usize,
    },
    /// The optimizer state size differs.
    StateCount {
        /// In the checkpoint.
        stored: usize,
        /// In the trainer.
        expected: usize,
    },
    /// The checkpoint was trained with another loss (code as in the format docs).
    Loss {
        /// In the checkpoint.
        stored: u8,
        /// In the trainer.
        expected: u8,
    },
    /// The checkpoint holds the state of another optimizer or of other hyperparameters.
    Optimizer {
        /// The first field that differs.
        field: OptimizerField,
    },
    /// The scratch buffer holds `provided` floats; parameters and state need `needed`.
    Scratch {
        /// Floats needed.
        needed: usize,
        /// Floats given.
        provided: usize,
    },
    /// The slot is complete (CRC and marker match) but inconsistent at byte `offset`
    /// (a reserved field set, a length that disagrees with the shape), or it changed
    /// between the checking pass and the reading pass.
    Corrupt {
        /// Byte offset in the slot.
        offset: usize,
    },
    /// A stored value at byte `offset` of the slot is NaN or infinite.
    NonFinite {
        /// Byte offset in the slot.
        offset: usize,
    },
    /// The trainer refused the values (cannot happen after the checks above; kept so
    /// that no error is ever swallowed).
    Rejected(StepError),
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ConfigError::Geometry { read, write, erase } => write!(
                f,
                "flash geometry not supported: read size {read}, write size {write}, erase size {erase} \
                 (need 1 ..= {} for read and write, dividing the erase size)",
                crate::CHUNK
            ),
            ConfigError::Unaligned { start, erase } => {
                write!(
                    f,
                    "region start {start:#x} is not a multiple of the erase size {erase}"
                )
            }
            ConfigError::Region { start, len, capacity } => write!(
                f,
                "region {start:#x} + {len} bytes must hold two erase units and end within the \
                 flash ({capacity} bytes)"
            ),
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for SaveError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SaveError::Flash(e) => write!(f, "flash error while saving: {e:?}"),
            SaveError::TooLarge { needed, slot } => {
                write!(f, "checkpoint needs {needed} bytes, a slot has {slot}")
            }
            SaveError::Shape => write!(f, "model shape does not fit the checkpoint format"),
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for RestoreError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RestoreError::Flash(e) => write!(f, "flash error while restoring: {e:?}"),
            RestoreError::NoCheckpoint => write!(f, "no complete checkpoint in either slot"),
            RestoreError::Version { found } => write!(
                f,
                "offset 4: checkpoint format version {found} (this build reads {})",
                crate::format::VERSION
            ),
            RestoreError::LayerCount { stored, expected } => write!(
                f,
                "offset 20: checkpoint has {stored} layers, the model {expected}"
            ),
            RestoreError::Layer { index } => write!(
                f,
                "offset {}: layer {index} differs from the model's",
                crate::format::HEADER_LEN + crate::format::LAYER_LEN * index
            ),
            RestoreError::Freezing {
                index,
                stored,
                expected,
            } => {
                let name =
                    |c: &u8| microtrain::shape::Trainability::from_code(*c).map_or("unknown", |t| t.name());
                write!(
                    f,
                    "offset {}: layer {index} is {} in the checkpoint but {} in the model",
                    crate::format::HEADER_LEN + crate::format::LAYER_LEN * index + 9,
                    name(stored),
                    name(expected)
                )
            }
            RestoreError::ParamCount { stored, expected } => write!(
                f,
                "offset 28: checkpoint has {stored} parameters, the model {expected}"
            ),
            RestoreError::StateCount { stored, expected } => write!(
                f,
                "offset 32: checkpoint has {stored} optimizer state floats, the trainer {expected}"
            ),
            RestoreError::Loss { stored, expected } => {
                write!(
                    f,
                    "offset 22: checkpoint loss code {stored}, the trainer's is {expected}"
                )
            }
            RestoreError::Optimizer { field } => {
                write!(f, "checkpoint of another optimizer: {field:?} differs")
            }
            RestoreError::Scratch { needed, provided } => {
                write!(f, "scratch buffer of {provided} floats, {needed} needed")
            }
            RestoreError::Corrupt { offset } => {
                write!(
                    f,
                    "offset {offset}: checkpoint is inconsistent or changed while read"
                )
            }
            RestoreError::NonFinite { offset } => {
                write!(f, "offset {offset}: stored value is not finite")
            }
            RestoreError::Rejected(e) => write!(f, "trainer refused the checkpoint: {e}"),
        }
    }
}

impl core::error::Error for ConfigError {}
impl<E: core::fmt::Debug> core::error::Error for SaveError<E> {}
impl<E: core::fmt::Debug> core::error::Error for RestoreError<E> {}
