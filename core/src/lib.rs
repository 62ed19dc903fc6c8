//! # microtrain
//!
//! Training of small neural networks (multilayer perceptrons) **on** microcontrollers:
//! `#![no_std]`, no allocator, no panics on any data, every byte of memory owned by the
//! caller and sized at compile time. The numbers follow PyTorch's `torch.optim` and
//! loss modules step for step.
//!
//! ## The layers of the design
//!
//! ```text
//!  shape (&[Dense]) ──► const fn sizes ──► Storage<P, S, A> static (device)
//!                                    └──► Vec<f32> buffers       (host)
//!                                             │  .buffers() / Buffers { .. }
//!                                             ▼
//!  x, target ─► layers::dense::forward ─► loss ─► layers::dense::backward ─► grads
//!                                                                             │
//!              schedule (lr_t) ─► optim::*::step(params, grads, state, lr_t, k)
//!  ─────────────────────────────────── kernels ────────────────────────────────────
//!  loops over slices: kernels::portable everywhere, FPU assembly on hard-float Arm
//! ```
//!
//! - [`shape`]: layers ([`Dense`], also named [`Layer`]: dense, 1-d convolution,
//!   max and average pooling, flatten, global average pooling, see [`Kind`]) and the
//!   `const fn` sizes of every buffer.
//! - [`storage`]: caller-owned buffers; [`Storage`] is const-generic for `static`s,
//!   [`Buffers`] is the slice view every other module works on.
//! - [`kernels`]: flat loops over slices, at the bottom: they know nothing of layers,
//!   shapes or models. [`kernels::portable`] holds every kernel's portable loop,
//!   compiled on every target; on hard-float Cortex-M (M4F, M7, M33) the hot ones run
//!   as FPU assembly with the same bits (`kernels/arm_vfp.rs`), chosen in one place,
//!   `kernels/mod.rs`. (The optimizers' FPU kernels are in `optim/vfp.rs`.)
//! - [`layers`], [`activation`]: a dense stack's passes (and in `layers::kinds`
//!   those of a model with other kinds of layers), layer by layer over the
//!   kernels, each a loop over one walk of the layers (`layers/walk.rs`); the
//!   trainer's passes without per-call checks, and those of a model with frozen layers
//!   (`layers/partial.rs`), are here too.
//! - [`loss`]: MSE, binary cross-entropy, softmax cross-entropy.
//! - [`optim`]: SGD (momentum, Nesterov), Adagrad, Adadelta, RMSprop, Adam (AMSGrad),
//!   AdamW, RAdam, one file each.
//! - [`schedule`]: constant, exponential, step and inverse-time learning rates.
//! - [`trainer`]: [`Trainer`], one checked optimizer step on a sample or a batch.
//! - [`data`]: datasets in flash or RAM, batch / stochastic / minibatch descent with
//!   seeded shuffling, evaluation.
//! - [`error`]: small error enums per kind of operation.
//! - [`fixed`]: training in integers for chips without an FPU (Cortex-M0/M0+):
//!   [`fixed::FixedTrainer`] takes the same shapes, losses, targets and optimizer
//!   configurations (SGD, momentum, Adam) as [`Trainer`], with Q16.16 values, 16-bit
//!   operands per pass and a derived per-step error bound against the float path; its
//!   two hot loops run as Thumb-1 assembly on the M0 beside their portable loops
//!   ([`fixed::kernels`]).
//!
//! ## Memory
//!
//! For a shape, [`shape::params_len`] gives the parameter count (the gradient has the
//! same), each optimizer's `state_per_param()` (a `const fn`: 0 for plain SGD, 2 for
//! Adam) the state, and [`shape::activations_len`] the activation workspace. The
//! activations hold **one sample** whatever the batch size (each layer's output and its
//! error term): a batch is accumulated one sample at a time. A 4-8-3 MLP with Adam
//! needs `(67 + 67 + 134 + 22) * 4 = 1160` bytes in all.
//!
//! A layer can be frozen (`Dense::frozen()`) or train only its bias
//! (`Dense::bias_only()`): the parameters, gradients and state in RAM then hold only
//! what trains ([`shape::trainable_params_len`]), the frozen parameters are read from
//! the whole model's ([`Buffers::frozen`], which may stay in flash), and error terms
//! are propagated only down to the lowest layer that trains.
//!
//! A step on a single sample (online learning; no clipping) updates each parameter as
//! soon as its gradient `delta_i x_j` is formed, after every layer's error term has
//! been computed with the old weights and checked: one pass over the weights instead
//! of three, with the same bits as accumulating the gradient first.
//!
//! A model with a layer other than dense (a convolution's weight gradient is not an
//! outer product `delta x^T`) has no fused step: each sample's gradient is accumulated
//! in the gradient buffer, checked and applied by the optimizer on the flat slices, as
//! a batch of one (`layers::kinds`); it needs the gradient buffer.
//!
//! ## What one step does, in order
//!
//! [`Trainer::train_sample`] on one sample `x` with its target, without clipping (with
//! clipping on, the sample takes [`Trainer::train_batch`]'s path, a batch of one):
//!
//! 1. **Check the sample**: `x` has the model's inputs and `sum|x|`
//!    ([`kernels::sum_abs`]) is finite (only otherwise is the first bad input searched
//!    for); the target fits the loss ([`Loss::check_target`]). An error here has
//!    touched nothing.
//! 2. **Forward pass** (`layers::dense::forward_unchecked`): per layer
//!    `a = f(W a_prev + b)` with [`kernels::affine`] (ReLU fused: `affine_relu`) and
//!    [`Activation::apply`], into the output half of the activation buffer.
//! 3. **Loss**: the loss's value, and its error term `dL/dz` for the last layer into
//!    the error half of the activation buffer ([`loss`]). A loss that is not finite is
//!    [`StepError::NonFiniteLoss`].
//! 4. **Error propagation** (`layers::dense::backward_deltas_unchecked`):
//!    `delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)` with [`kernels::transposed`].
//! 5. **Gradient check**: one bound over all error terms and layer inputs shows every
//!    gradient `delta_i x_j` finite and below [`kernels::GRADIENT_LIMIT`]; where it
//!    does not, each gradient is formed and checked, and the first out of range is
//!    [`StepError::GradientOutOfRange`] (counted by [`Trainer::rejected_steps`]).
//! 6. **Step scalars**: the optimizer's per-step constants (bias corrections, RAdam's
//!    rectification) at the schedule's rate for step `k`; computed once when they do
//!    not change.
//! 7. **Update**: per layer, each weight from its gradient `delta_i x_j` and each bias
//!    from `delta_i`, formed as the update runs (and stored only when the trainer has a
//!    gradient buffer), by the optimizer's rule in its file in [`optim`] (on
//!    hard-float Cortex-M, Adam and plain SGD run FPU kernels with the same bits).
//! 8. The step count goes up by one; the loss of step 3 is returned.
//!
//! Where a stage has options (the loss's code, passes with or without sigmoid and
//! tanh, the optimizer's FPU kernel or portable loops, a schedule, clipping), it
//! `match`es on the trainer's [`Plan`]: a type parameter that either reads the choice
//! from the configuration at each step ([`Dynamic`], what [`Trainer::new`] gives) or
//! fixes it at compile time (the type [`plan_for!`] makes from a firmware's `const`
//! layers, optimizer and loss, for [`Trainer::with_plan`]), so that a firmware links
//! only the code it runs.
//!
//! ## Errors, never panics
//!
//! Every call that takes data returns a `Result`. A shape mismatch, a non-finite input
//! or target, a label out of range, a too-small buffer, a non-finite loss or gradient:
//! each returns an error, and the parameters and optimizer state are then bit for bit
//! what they were. The crate denies `unwrap`, `expect`, `panic!` and slice indexing.
//!
//! ## Example: train on a device (no_std, no allocator)
//!
//! ```
//! use microtrain::{storage_for, Activation, Adam, Dense, Loss, Storage, Target, Trainer};
//!
//! const LAYERS: [Dense; 2] = [
//!     Dense::new(2, 4, Activation::Tanh),
//!     Dense::new(4, 1, Activation::Sigmoid),
//! ];
//! const OPT: Adam = Adam::new(0.05);
//! // Exactly the bytes this shape and optimizer need; a `static` on a device.
//! static mut _ON_A_DEVICE: storage_for!(&LAYERS, OPT) = Storage::sized_for(&LAYERS, OPT.state_per_param());
//! let mut storage: storage_for!(&LAYERS, OPT) = Storage::new();
//!
//! let mut net = Trainer::new(&LAYERS, storage.buffers(), OPT, Loss::BinaryCrossEntropy)?;
//! net.init_params(7);
//! // XOR, one sample per step, as samples would arrive from a sensor.
//! let xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let ys = [0.0, 1.0, 1.0, 0.0];
//! for step in 0..2000 {
//!     let i = step % 4;
//!     net.train_sample(&xs[i], Target::Values(&[ys[i]]))?;
//! }
//! let mut out = [0.0];
//! net.predict(&[1.0, 0.0], &mut out)?;
//! assert!(out[0] > 0.9);
//! // Bad data is rejected and changes nothing.
//! let before = net.params().to_vec();
//! assert!(net.train_sample(&[f32::NAN, 0.0], Target::Values(&[1.0])).is_err());
//! assert_eq!(before, net.params());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![deny(missing_docs)]
// `unsafe` code, each block with its soundness argument and an `allow` of its own, in:
// - the FPU assembly for hard-float Cortex-M (`kernels/arm_vfp.rs`, `optim/vfp.rs`)
//   and `kernels::keep_rolled`'s empty `asm!` block on Arm;
// - the fixed-point trainer's Thumb-1 assembly for the Cortex-M0 (`fixed/kernels.rs`:
//   the plain-SGD row update and the forward pass's dense layer);
// - the trainer's passes without per-call checks: `layers::dense::forward_unchecked`
//   and `backward_deltas_unchecked` cut a model's slices from raw pointers, and
//   `trainer/` calls them and its optimizer's FPU update (`UpdateRule::fpu_update_model`),
//   relying on `Trainer::with_plan` having checked the shape and the plan and cut every
//   buffer to its size.
#![deny(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]
// Unit tests may index and unwrap: a panic there is a failed test, not a device fault.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod activation;
pub mod data;
pub mod error;
pub mod fixed;
pub mod kernels;
pub mod layers;
pub mod loss;
pub mod math;
pub mod model_file;
pub mod optim;
pub mod rng;
pub mod schedule;
pub mod shape;
pub mod storage;
pub mod trainer;

pub use activation::Activation;
pub use data::{evaluate, fit_epoch, Batch, Dataset, EpochError, EpochStats, Metrics, Order, Targets};
pub use error::{Buffer, ConfigError, HyperparameterError, StepError};
pub use loss::{Loss, Target};
pub use optim::optimizers::*;
pub use optim::{AnyOptimizer, Config, Hyper, Optimizer};
pub use rng::Rng;
pub use schedule::Schedule;
pub use shape::{Dense, Kind, Layer, Padding};
pub use storage::{Buffers, OnlineStorage, Storage};
pub use trainer::{Dynamic, Plan, Trainer};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
