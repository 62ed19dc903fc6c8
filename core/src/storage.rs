//! Caller-owned storage: const-generic arrays on a device, any slices on a host.
//!
//! [`Storage`] holds the four training buffers with their capacities in the type, so
//! a firmware's model is one `static` of exactly the right size; [`Storage::buffers`]
//! erases the sizes into a [`Buffers`] of slices, which is all the rest of the crate
//! sees. A host builds the same [`Buffers`] from `Vec`s of sizes read at run time.
//!
//! The [`storage_for!`](crate::storage_for) macro names the exact type for a shape and
//! an optimizer config.

use crate::shape::{activations_len, trainable_params_len, Dense};

/// Mutable views of the four training buffers, and the model's frozen parameters.
#[derive(Debug)]
pub struct Buffers<'a> {
    /// The parameters that train: [`trainable_params_len`] floats (per layer that
    /// trains, `W` row-major then `b`; a bias-only layer's `b`).
    pub params: &'a mut [f32],
    /// Gradients: [`trainable_params_len`] floats, the layout of `params`.
    pub grads: &'a mut [f32],
    /// Optimizer state: [`trainable_params_len`] x the optimizer's `state_per_param`
    /// floats.
    pub state: &'a mut [f32],
    /// Activations: [`activations_len`] floats.
    pub acts: &'a mut [f32],
    /// Read only, and empty unless a layer is frozen or bias-only: the whole model's
    /// parameters ([`params_len`](crate::shape::params_len) floats, the model file's
    /// layout), from which the frozen ones are read and the trainable ones start. It
    /// may stay in flash (a `static`, or an embedded model file's parameters).
    pub frozen: &'a [f32],
}

impl<'a> Buffers<'a> {
    /// The same buffers, with `frozen` as the model's whole parameter vector (see
    /// [`Buffers::frozen`]).
    pub fn with_frozen(self, frozen: &'a [f32]) -> Self {
        Buffers { frozen, ..self }
    }
}

/// Fixed-size training storage: `P` parameters (and as many gradients), `S` optimizer
/// state floats and `A` activation floats. Its size is exactly `(2P + S + A) * 4` bytes.
#[derive(Debug, Clone)]
pub struct Storage<const P: usize, const S: usize, const A: usize> {
    params: [f32; P],
    grads: [f32; P],
    state: [f32; S],
    acts: [f32; A],
}

impl<const P: usize, const S: usize, const A: usize> Default for Storage<P, S, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const P: usize, const S: usize, const A: usize> Storage<P, S, A> {
    /// Zeroed storage (lands in `.bss` when used in a `static`).
    pub const fn new() -> Self {
        Storage {
            params: [0.0; P],
            grads: [0.0; P],
            state: [0.0; S],
            acts: [0.0; A],
        }
    }

    /// Zeroed storage, checked against a shape and an optimizer's state per parameter.
    ///
    /// Meant for `static` and `const` initializers, where it is evaluated by the
    /// compiler: a buffer too small for the shape is then a **compile error**. (Called
    /// at run time with a wrong size, it panics; use [`Storage::new`] and let
    /// [`Trainer::new`](crate::Trainer::new) report the error instead.)
    ///
    /// ```compile_fail
    /// use microtrain::{Activation, Dense, Storage};
    /// const LAYERS: [Dense; 1] = [Dense::new(4, 3, Activation::Identity)];
    /// // 15 parameters are needed, 10 are given: this does not compile.
    /// static S: Storage<10, 0, 3> = Storage::sized_for(&LAYERS, 0);
    /// ```
    #[allow(clippy::panic)]
    pub const fn sized_for(layers: &[Dense], state_per_param: usize) -> Self {
        if P < trainable_params_len(layers) {
            panic!("Storage: too few parameter floats for this shape");
        }
        if S < trainable_params_len(layers).saturating_mul(state_per_param) {
            panic!("Storage: too few optimizer state floats for this shape and optimizer");
        }
        if A < activations_len(layers) {
            panic!("Storage: too few activation floats for this shape");
        }
        Self::new()
    }

    /// Views of the buffers, to build a [`Trainer`](crate::Trainer).
    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: &[],
        }
    }

    /// The parameters.
    pub fn params(&self) -> &[f32] {
        &self.params
    }
}

/// Fixed-size storage for online learning only, without a gradient buffer: `P`
/// parameters, `S` optimizer state floats and `A` activation floats, `(P + S + A) * 4`
/// bytes.
///
/// A trainer over it takes single-sample steps (the way a device learns from a
/// stream): each parameter is updated as soon as its gradient is formed, so the
/// gradient is never stored. That saves `4 P` bytes, a quarter of the training RAM with
/// Adam. A batch of more than one sample, or gradient clipping, needs the gradient
/// buffer and is refused with
/// [`StepError::NeedsGradientBuffer`](crate::StepError::NeedsGradientBuffer).
/// [`online_storage_for!`](crate::online_storage_for) names the exact type.
#[derive(Debug, Clone)]
pub struct OnlineStorage<const P: usize, const S: usize, const A: usize> {
    params: [f32; P],
    state: [f32; S],
    acts: [f32; A],
}

impl<const P: usize, const S: usize, const A: usize> Default for OnlineStorage<P, S, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const P: usize, const S: usize, const A: usize> OnlineStorage<P, S, A> {
    /// Zeroed storage.
    pub const fn new() -> Self {
        OnlineStorage {
            params: [0.0; P],
            state: [0.0; S],
            acts: [0.0; A],
        }
    }

    /// Zeroed storage, checked against a shape at compile time (as
    /// [`Storage::sized_for`]).
    #[allow(clippy::panic)]
    pub const fn sized_for(layers: &[Dense], state_per_param: usize) -> Self {
        if P < trainable_params_len(layers) {
            panic!("OnlineStorage: too few parameter floats for this shape");
        }
        if S < trainable_params_len(layers).saturating_mul(state_per_param) {
            panic!("OnlineStorage: too few optimizer state floats for this shape and optimizer");
        }
        if A < activations_len(layers) {
            panic!("OnlineStorage: too few activation floats for this shape");
        }
        Self::new()
    }

    /// Views of the buffers (the gradient buffer is empty).
    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut [],
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: &[],
        }
    }

    /// The parameters.
    pub fn params(&self) -> &[f32] {
        &self.params
    }
}

/// The exact [`OnlineStorage`] type for a shape and an optimizer config.
#[macro_export]
macro_rules! online_storage_for {
    ($layers:expr, $opt:expr) => {
        $crate::OnlineStorage<
            { $crate::shape::trainable_params_len($layers) },
            { $crate::shape::trainable_params_len($layers) * $opt.state_per_param() },
            { $crate::shape::activations_len($layers) },
        >
    };
}

/// The exact [`Storage`] type for a shape (`&[Dense]`) and an optimizer config:
///
/// ```
/// use microtrain::{storage_for, Activation, Adam, Dense};
/// const LAYERS: [Dense; 2] = [
///     Dense::new(4, 8, Activation::Relu),
///     Dense::new(8, 3, Activation::Identity),
/// ];
/// const OPT: Adam = Adam::new(0.01);
/// type IrisStorage = storage_for!(&LAYERS, OPT);
/// // 67 parameters, 67 gradients, 134 Adam moments, 2 x 11 activations.
/// assert_eq!(core::mem::size_of::<IrisStorage>(), (67 + 67 + 134 + 22) * 4);
/// ```
#[macro_export]
macro_rules! storage_for {
    ($layers:expr, $opt:expr) => {
        $crate::Storage<
            { $crate::shape::trainable_params_len($layers) },
            { $crate::shape::trainable_params_len($layers) * $opt.state_per_param() },
            { $crate::shape::activations_len($layers) },
        >
    };
}
