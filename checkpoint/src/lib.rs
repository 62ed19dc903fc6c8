//! # microtrain-checkpoint
//!
//! Power-safe checkpoints of a [`microtrain::Trainer`] on NOR flash, through the
//! [`embedded-storage`](embedded_storage) traits: the parameters, the optimizer state
//! (with the optimizer's identity), and the step count (the learning-rate schedule's
//! position), so that training resumes after a reset exactly as if there had been
//! none. `#![no_std]`, no allocator, no panics.
//!
//! ## How a checkpoint survives a power cut
//!
//! The flash region is split in two **slots**. Each save goes to the slot that does
//! not hold the newest complete checkpoint, with a sequence number one higher: erase,
//! write the header, the layers, the parameters, the state and a CRC-32 over all of
//! them, then a commit marker in a write of its own (layout in [`format`]). A restore
//! takes the complete slot (CRC and marker match) with the higher sequence number. A
//! cut at any byte of a save leaves the slot being written incomplete and the other
//! one untouched, so a restore gives either the previous checkpoint or the new one,
//! never a mix. The tests cut the power at every byte of several saves.
//!
//! ## Checked restores
//!
//! [`Checkpointer::restore`] reads the flash in small chunks: a first pass checks each
//! slot's CRC, then the newest slot's header and layer records are compared with the
//! trainer (format version, each layer's kind and its sizes, activation and its
//! parameter, trainability, inputs and outputs, then loss, optimizer kind, state per
//! parameter and hyperparameter bits, sizes), then a second pass reads the values into
//! a caller-provided scratch buffer (checking the CRC again and that every value is
//! finite), and one call to [`Trainer::restore`](microtrain::Trainer::restore)
//! installs them. Any error leaves the trainer untouched and names what differs
//! ([`RestoreError::Layer`] names the layer and the [`LayerField`], e.g. a
//! convolution's kernel size or a LeakyReLU's slope). Truncated, corrupted or
//! oversized slots are errors, never panics or out-of-bounds reads.
//!
//! ## Layer kinds and format versions
//!
//! Every layer kind of the core is checkpointed (dense, 1-d convolution, max and
//! average pooling, flatten, global average pooling), with every activation and its
//! parameter. A model of dense layers whose activations are at PyTorch's defaults is
//! written in format version 1, byte for byte as before version 2 existed; any other
//! model in version 2, whose longer layer record holds the kind, its sizes and the
//! activation's parameter (see [`format`]). A restore reads both versions.
//!
//! ## What a checkpoint does not hold
//!
//! The learning-rate schedule's *position* is the step count, which is saved; its
//! *configuration* ([`Schedule`](microtrain::Schedule)) and the gradient clipping norm
//! are not (the trainer has no getter for them): set them on the fresh trainer as
//! before the reset. Nor is the count of rejected steps. The loss is saved and checked.
//!
//! ## Example
//!
//! [`MemFlash`] is a NOR flash in RAM; a firmware passes its HAL's flash driver
//! instead (anything implementing [`NorFlash`](embedded_storage::nor_flash::NorFlash)).
//!
//! ```
//! use microtrain::{storage_for, Activation, Adam, Dense, Loss, Storage, Target, Trainer};
//! use microtrain_checkpoint::{region_len, scratch_len, Checkpointer, MemFlash, RestoreError};
//!
//! const LAYERS: [Dense; 2] = [Dense::new(3, 8, Activation::Tanh), Dense::new(8, 2, Activation::Identity)];
//! const OPT: Adam = Adam::new(0.01);
//! // 4 KiB pages, 4-byte writes, as an nRF52's NVMC.
//! type Flash = MemFlash<16384, 4, 4, 4096>;
//! const REGION: usize = region_len(&LAYERS, OPT.state_per_param(), 4, 4096);
//! assert_eq!(REGION, 8192);
//!
//! let mut storage: storage_for!(&LAYERS, OPT) = Storage::new();
//! let mut net = Trainer::new(&LAYERS, storage.buffers(), OPT, Loss::Mse)?;
//! net.init_params(1);
//! let mut ckpt = Checkpointer::new(Flash::new(), 0, REGION as u32)?;
//! for _ in 0..10 {
//!     net.train_sample(&[0.1, 0.2, 0.3], Target::Values(&[1.0, -1.0]))?;
//! }
//! let saved = ckpt.save(&net)?;
//! assert_eq!((saved.sequence, saved.step), (1, 10));
//!
//! // After a reset: a fresh trainer, the same flash.
//! let mut storage2: storage_for!(&LAYERS, OPT) = Storage::new();
//! let mut again = Trainer::new(&LAYERS, storage2.buffers(), OPT, Loss::Mse)?;
//! let mut scratch = [0.0f32; scratch_len(&LAYERS, OPT.state_per_param())];
//! let info = ckpt.restore(&mut again, &mut scratch)?;
//! assert_eq!(info.step, 10);
//! assert_eq!(again.params(), net.params());
//! assert_eq!(again.state(), net.state());
//!
//! // A checkpoint of another optimizer is refused, and nothing changes.
//! let mut storage3: storage_for!(&LAYERS, OPT) = Storage::new();
//! let mut other = Trainer::new(&LAYERS, storage3.buffers(), Adam::new(0.02), Loss::Mse)?;
//! assert!(matches!(ckpt.restore(&mut other, &mut scratch), Err(RestoreError::Optimizer { .. })));
//! assert_eq!(other.step_count(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod checkpointer;
pub mod error;
pub mod format;
mod io;
pub mod mem_flash;
pub mod optimizer_id;

pub use checkpointer::{
    region_len, scratch_len, slot_bytes, CheckpointInfo, Checkpointer, RestoreInfo, SlotState,
};
pub use error::{ConfigError, LayerField, OptimizerField, RestoreError, SaveError};
pub use mem_flash::{MemFlash, MemFlashError};
pub use optimizer_id::{CheckpointOptimizer, OptimizerId};

/// Bytes of the chunk buffer used to read and write flash (on the stack during a save
/// or a restore). The flash's read and write sizes must divide it.
pub const CHUNK: usize = 128;
