//! [`Plan`]: which code a trainer's step runs, decided at compile time ([`Fixed`],
//! made by [`plan_for!`](crate::plan_for)) or at run time ([`Dynamic`]).
//!
//! A step has four choices to make, each a property of the configuration:
//!
//! | choice | decided by | options |
//! |---|---|---|
//! | the loss's error term | the [`Loss`] | one per loss |
//! | the passes | the layers' activations and kinds | with or without sigmoid and tanh; dense only or any kind |
//! | the update | the optimizer and the buffers | the FPU kernel (storing the gradient or not), or the portable loops |
//! | the extras | the schedule and clipping | allowed or not |
//!
//! With [`Dynamic`] (the default) the trainer reads them from its configuration at each
//! step: every option is compiled in, which suits the host. A firmware's configuration
//! is a set of `const`s, so the choices can be made by the compiler instead:
//! `plan_for!(&LAYERS, OPT, Loss::SoftmaxCrossEntropy)` is a [`Fixed`] type whose
//! constants are the choices, the step's `match`es on them fold away, and only the
//! chosen code is linked (for Adam on a Cortex-M4F, about a third of the flash that
//! every option takes). [`Trainer::new`](crate::Trainer::new) checks that a fixed plan
//! is the configuration's and refuses it otherwise, so a wrong plan is an error, never
//! wrong arithmetic.

use crate::error::ConfigError;
use crate::loss::Loss;
use crate::optim::Optimizer;
use crate::schedule::Schedule;
use crate::shape::{self, Dense};

/// How the parameters are updated after a single-sample step's checks (see
/// [`Plan::UPDATE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UpdatePath {
    /// The optimizer's portable loops (every configuration, every target).
    Portable,
    /// The optimizer's FPU kernel (hard-float Arm, and configurations it covers),
    /// which also writes the gradient to the gradient buffer when `stores_gradients`.
    FpuKernel {
        /// Whether the trainer has a gradient buffer to write.
        stores_gradients: bool,
    },
}

impl UpdatePath {
    /// The path for `opt` on this target with or without a gradient buffer: the FPU
    /// kernel where the optimizer's `fpu_kernel_covers` says so on this target, else the
    /// portable loops.
    pub fn of<O: Optimizer>(opt: &O, stores_gradients: bool) -> Self {
        Self::from_cover(opt.fpu_kernel_covers(), stores_gradients)
    }

    /// The path when the FPU kernel does (`covered`) or does not cover the optimizer's
    /// configuration. `const`, for [`plan_for!`](crate::plan_for).
    pub const fn from_cover(covered: bool, stores_gradients: bool) -> Self {
        if covered && crate::optim::FPU_KERNELS {
            UpdatePath::FpuKernel { stores_gradients }
        } else {
            UpdatePath::Portable
        }
    }

    /// A number for the path (a const generic argument of [`Fixed`]): 0 portable, 1 the
    /// kernel storing the gradient, 2 the kernel without a gradient buffer.
    pub const fn code(self) -> u8 {
        match self {
            UpdatePath::Portable => 0,
            UpdatePath::FpuKernel {
                stores_gradients: true,
            } => 1,
            UpdatePath::FpuKernel {
                stores_gradients: false,
            } => 2,
        }
    }

    /// The path with [`code`](Self::code) `code` (any other code: portable).
    pub const fn from_code(code: u8) -> Self {
        match code {
            1 => UpdatePath::FpuKernel {
                stores_gradients: true,
            },
            2 => UpdatePath::FpuKernel {
                stores_gradients: false,
            },
            _ => UpdatePath::Portable,
        }
    }
}

/// The choices a trainer's step makes (see the [module docs](self)). `None` means
/// "read it from the configuration at each step".
pub trait Plan {
    /// The loss.
    const LOSS: Option<Loss>;
    /// Whether the passes include sigmoid and tanh.
    const SIGMOID_OR_TANH: Option<bool>;
    /// The update path.
    const UPDATE: Option<UpdatePath>;
    /// Whether a learning-rate schedule other than [`Schedule::Constant`] may be set.
    const SCHEDULES: bool;
    /// Whether gradient clipping may be turned on.
    const CLIPS: bool;
    /// Whether a layer is frozen or bias-only (then the passes read frozen parameters
    /// from the whole model's and update only those that train).
    const FROZEN: Option<bool>;
    /// Whether a layer is not dense (convolution, pooling, ...: then the passes are
    /// [`crate::layers::kinds`]' and every step takes the batch path).
    const KINDS: Option<bool>;
}

/// Every choice read from the configuration at each step: any configuration, every
/// option linked. The default plan of a [`Trainer`](crate::Trainer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dynamic;

impl Plan for Dynamic {
    const LOSS: Option<Loss> = None;
    const SIGMOID_OR_TANH: Option<bool> = None;
    const UPDATE: Option<UpdatePath> = None;
    const SCHEDULES: bool = true;
    const CLIPS: bool = true;
    const FROZEN: Option<bool> = None;
    const KINDS: Option<bool> = None;
}

/// Every choice fixed at compile time: the loss with [`Loss::code`] `LOSS` (a code of
/// no loss leaves the loss to the configuration), the passes
/// with sigmoid and tanh when `SIGMOID_OR_TANH`, the update path with
/// [`UpdatePath::code`] `UPDATE`, schedules when `SCHEDULES`, clipping when `CLIPS`,
/// the passes of a model with frozen parts when `FROZEN`, those of layers of other
/// kinds than dense when `KINDS`.
/// Written by [`plan_for!`](crate::plan_for) rather than by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fixed<
    const LOSS: u8,
    const SIGMOID_OR_TANH: bool,
    const UPDATE: u8,
    const SCHEDULES: bool,
    const CLIPS: bool,
    const FROZEN: bool,
    const KINDS: bool = false,
>;

impl<
        const L: u8,
        const S: bool,
        const U: u8,
        const SCHED: bool,
        const CLIP: bool,
        const F: bool,
        const K: bool,
    > Plan for Fixed<L, S, U, SCHED, CLIP, F, K>
{
    const LOSS: Option<Loss> = Loss::from_code(L);
    const SIGMOID_OR_TANH: Option<bool> = Some(S);
    const UPDATE: Option<UpdatePath> = Some(UpdatePath::from_code(U));
    const SCHEDULES: bool = SCHED;
    const CLIPS: bool = CLIP;
    const FROZEN: Option<bool> = Some(F);
    const KINDS: Option<bool> = Some(K);
}

/// What a [`Fixed`] plan disagrees with (see [`ConfigError::Plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PlanMismatch {
    /// The plan is for another loss.
    Loss,
    /// The plan has no sigmoid or tanh pass, and a layer has one of them.
    SigmoidOrTanh,
    /// The plan's update path is the FPU kernel, which does not cover the optimizer's
    /// configuration on this target.
    FpuKernel,
    /// The plan's update path stores the gradient and the trainer has no gradient
    /// buffer, or the other way round.
    GradientBuffer,
    /// The plan allows no learning-rate schedule.
    Schedule,
    /// The plan allows no gradient clipping.
    Clipping,
    /// The plan has no passes for frozen parameters, and a layer is frozen or
    /// bias-only.
    Frozen,
    /// The plan has only dense passes, and a layer is of another kind.
    LayerKinds,
}

impl core::fmt::Display for PlanMismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PlanMismatch::Loss => "it is for another loss",
            PlanMismatch::SigmoidOrTanh => "it has no sigmoid or tanh pass and a layer has one",
            PlanMismatch::FpuKernel => {
                "its update is the FPU kernel, which does not cover this optimizer's configuration here"
            }
            PlanMismatch::GradientBuffer => {
                "it stores gradients and the trainer has no gradient buffer, or the other way round"
            }
            PlanMismatch::Schedule => "it allows no learning-rate schedule (plan_for! option `schedule`)",
            PlanMismatch::Clipping => "it allows no gradient clipping (plan_for! option `clipping`)",
            PlanMismatch::LayerKinds => "it has only dense passes and a layer is of another kind",
            PlanMismatch::Frozen => {
                "it has no passes for frozen parameters and a layer is frozen or bias-only"
            }
        })
    }
}

/// Checks that plan `P` fits a trainer's configuration (see [`PlanMismatch`]).
pub(super) fn check<P: Plan, O: Optimizer>(
    layers: &[Dense],
    opt: &O,
    loss: Loss,
    stores_gradients: bool,
) -> Result<(), ConfigError> {
    let fail = |m| Err(ConfigError::Plan(m));
    if P::LOSS.is_some_and(|l| l != loss) {
        return fail(PlanMismatch::Loss);
    }
    if P::SIGMOID_OR_TANH == Some(false) && shape::has_sigmoid_or_tanh(layers) {
        return fail(PlanMismatch::SigmoidOrTanh);
    }
    if P::FROZEN == Some(false) && shape::has_frozen(layers) {
        return fail(PlanMismatch::Frozen);
    }
    if P::KINDS == Some(false) && shape::has_non_dense(layers) {
        return fail(PlanMismatch::LayerKinds);
    }
    if let Some(UpdatePath::FpuKernel { stores_gradients: s }) = P::UPDATE {
        if UpdatePath::of(opt, s) == UpdatePath::Portable {
            return fail(PlanMismatch::FpuKernel);
        }
        if s != stores_gradients {
            return fail(PlanMismatch::GradientBuffer);
        }
    }
    Ok(())
}

/// Checks that plan `P` allows `schedule`.
pub(super) fn check_schedule<P: Plan>(schedule: Schedule) -> Result<(), ConfigError> {
    if P::SCHEDULES || schedule == Schedule::Constant {
        Ok(())
    } else {
        Err(ConfigError::Plan(PlanMismatch::Schedule))
    }
}

/// Whether `flag` is among `flags` (for [`plan_for!`](crate::plan_for)).
#[doc(hidden)]
pub const fn has_flag(flags: &[&str], flag: &str) -> bool {
    let mut rest = flags;
    while let [first, tail @ ..] = rest {
        if bytes_eq(first.as_bytes(), flag.as_bytes()) {
            return true;
        }
        rest = tail;
    }
    false
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a, mut b) = (a, b);
    while let ([x, a_tail @ ..], [y, b_tail @ ..]) = (a, b) {
        if *x != *y {
            return false;
        }
        (a, b) = (a_tail, b_tail);
    }
    true
}

/// One option of [`plan_for!`](crate::plan_for), as a string; any other token is a
/// compile error ("no rules expected").
#[doc(hidden)]
#[macro_export]
macro_rules! __plan_option {
    (online) => {
        "online"
    };
    (schedule) => {
        "schedule"
    };
    (clipping) => {
        "clipping"
    };
}

/// The [`Fixed`] plan of a configuration given as `const`s: the layers, the optimizer
/// and the loss, then after a `;` the options, any of
///
/// - `online`: the trainer has no gradient buffer ([`OnlineStorage`](crate::OnlineStorage));
/// - `schedule`: a learning-rate schedule may be set;
/// - `clipping`: gradient clipping may be turned on.
///
/// ```
/// use microtrain::{plan_for, storage_for, Activation, Adam, Dense, Loss, Storage, Trainer};
///
/// const LAYERS: [Dense; 2] = [
///     Dense::new(4, 8, Activation::Relu),
///     Dense::new(8, 3, Activation::Identity),
/// ];
/// const OPT: Adam = Adam::new(0.01);
/// type Plan = plan_for!(&LAYERS, OPT, Loss::SoftmaxCrossEntropy);
///
/// let mut storage: storage_for!(&LAYERS, OPT) = Storage::new();
/// let net: Trainer<'_, Adam, Plan> =
///     Trainer::with_plan(&LAYERS, storage.buffers(), OPT, Loss::SoftmaxCrossEntropy).unwrap();
/// # let _ = net;
/// ```
#[macro_export]
macro_rules! plan_for {
    ($layers:expr, $opt:expr, $loss:expr $(; $($flag:ident),* $(,)?)?) => {
        $crate::trainer::plan::Fixed<
            { $crate::Loss::code($loss) },
            { $crate::shape::has_sigmoid_or_tanh($layers) },
            {
                $crate::trainer::plan::UpdatePath::code($crate::trainer::plan::UpdatePath::from_cover(
                    $opt.fpu_kernel_covers(),
                    !$crate::trainer::plan::has_flag(&[$($($crate::__plan_option!($flag)),*)?], "online"),
                ))
            },
            { $crate::trainer::plan::has_flag(&[$($($crate::__plan_option!($flag)),*)?], "schedule") },
            { $crate::trainer::plan::has_flag(&[$($($crate::__plan_option!($flag)),*)?], "clipping") },
            { $crate::shape::has_frozen($layers) },
            { $crate::shape::has_non_dense($layers) },
        >
    };
}
