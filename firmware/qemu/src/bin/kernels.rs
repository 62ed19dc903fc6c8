//! Self-test of the FPU assembly kernels, for `firmware/run-tests` on mps2-an386
//! (Cortex-M4F): the kernels of `microtrain::kernels` (`affine`, `affine_relu`,
//! `outer_acc`, `transposed`, `transposed_relu`, `outer_acc_and_back`, `sum_abs`,
//! `max_of`, `copy`, `fill`, `axpy`; `core/src/kernels/arm_vfp.rs`; `affine` and `transposed`
//! have register paths for rows of 4 and 8 floats) and the Adam and plain-SGD
//! `UpdateRule::update_outer` and `Optimizer::step` (`core/src/optim/vfp.rs`), against the portable
//! Rust arithmetic they stand for, bit for bit (`to_bits`).
//!
//! Every shape of 1 to 9 rows and 1 to 17 columns and a few larger ones, random data in
//! [-2, 2] with exact zeros, negative zeros, tiny values and subnormals mixed in (a fixed
//! seed, so every run checks the same cases). The references for the kernels are the
//! crate's own portable loops, `microtrain::kernels::portable` (compiled on every target,
//! and what the public kernels run where there is no FPU version):
//!
//! - `affine`, `affine_relu`: `out[i] = bias_dot(b[i], W[i, :], x)` (then ReLU), also
//!   with NaN and infinities in `W`, `b` and `x`;
//! - `outer_acc`: `gw[i, j] += d[i] * x[j]`, `gb[i] += d[i]`, three samples accumulated;
//! - `transposed`: `s[j] = sum of W[i, j] * d[i]` over the rows in order, from zero;
//!   `outer_acc_and_back` (portable on every target) against those two;
//! - `transposed_relu`: `transposed`, then `s[j] *= 0.0` where `!(a[j] > 0)` over
//!   `zip(s, a)`, with NaN, infinities, zeros of both signs and subnormals in `a` (and
//!   in `W` and `d`), exact and mismatched lengths (`a` shorter or longer than `s`);
//! - `sum_abs`, `max_of`, `copy` and `fill` on 0 to 40 floats, with and without NaN and
//!   infinities; `axpy` (`y[i] += a * x[i]`, a convolution's tap) on 0 to 40 floats into
//!   every length of `y` from 0 to 42;
//! - the portable ReLU against `Activation::Relu` on special values;
//! - `update_outer` (without and with a gradient buffer, which must then hold
//!   `d[i] * x[j]`): `UpdateRule::update` row by row with the gradient `d[i] * x[j]`, for
//!   steps k = 1, 2, 10, 1000 in a row on the same state; the bias form (`d = [1]`,
//!   `x = delta`) against `update` with `delta`; `step` against `update` on the slice;
//! - `update_model` (without and with a gradient buffer) on two-layer models whose
//!   inputs and hidden widths run over 1 to 9 (so blocks of every width from 1 to 9,
//!   the 4- and 8-column register paths among them): `update` row by row, layer by
//!   layer, the bias from the error terms; also with NaN and infinities in the input,
//!   the activations and the error terms, and `SENTINEL` after every buffer.
//!
//! Adam and plain SGD take the assembly; Adam with AMSGrad, weight decay or
//! `beta1 < 0.5` and SGD with momentum, Nesterov or weight decay take the portable path
//! and must agree too, as must the same optimizers behind `AnyOptimizer`. Each output is
//! compared with `GUARD` floats after its end, so a write past the end is a mismatch.
//!
//! Exit status 0 when every bit agrees; otherwise the first mismatch is logged and the
//! status is 1. On targets without the FPU kernels every call takes the portable loops
//! (the first line says so), so only the Cortex-M4F run tests anything.
#![no_std]
#![no_main]

#[path = "../halt.rs"]
mod halt;

use cortex_m_rt::entry;
use defmt_semihosting as _;
use microtrain::kernels::{
    affine, affine_relu, axpy, copy, max_of, outer_acc, outer_acc_and_back, portable, sum_abs, transposed,
    transposed_relu,
};
use microtrain::layers::dense;
use microtrain::{
    Activation, Adam, AnyOptimizer, Buffers, Dense, Loss, Optimizer, Rng, Sgd, Target, Trainer,
};

/// The largest `rows * cols` (and `rows`, `cols`) of a shape.
const N: usize = 1024;
/// Floats after each output that no kernel may change; compared like the output.
const GUARD: usize = 4;
/// The 1-based steps each optimizer runs, one after the other on the same state.
const STEPS: [u32; 4] = [1, 2, 10, 1000];
/// Shapes beyond the 9 x 17 grid: more rows, longer rows, one long row.
const EXTRA: [(usize, usize); 7] = [
    (16, 16),
    (12, 5),
    (10, 64),
    (3, 128),
    (1, 255),
    (2, 333),
    (32, 32),
];

/// Row counts and row lengths (`x` or `s`) of the mismatched-length cases.
const RAGGED_ROWS: core::ops::RangeInclusive<usize> = 0..=5;
const RAGGED_COLS: [usize; 11] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 17];
/// What the floats that no kernel may change hold before a mismatched-length call: a
/// negative finite value (about -6.3e18), which ReLU, arithmetic and zeroing all change.
const SENTINEL: f32 = f32::from_bits(0xdead_beef);

fn shapes() -> impl Iterator<Item = (usize, usize)> {
    (1..=9usize)
        .flat_map(|r| (1..=17usize).map(move |c| (r, c)))
        .chain(EXTRA)
}

/// The distinct values of `a`, in order.
fn distinct<const K: usize>(a: [usize; K]) -> impl Iterator<Item = usize> {
    (0..K)
        .filter(move |&i| !a[..i].contains(&a[i]))
        .map(move |i| a[i])
}

/// Lengths of a slice of `n` floats in rows of `row`: exact, one more, almost a row
/// more, one less (a partial last row), empty.
fn around(n: usize, row: usize) -> impl Iterator<Item = usize> {
    distinct([n, n + 1, n + row - 1, n.saturating_sub(1), 0])
}

/// What a case calls.
#[derive(Clone, Copy)]
enum Kernel {
    Affine,
    AffineRelu,
    OuterAcc,
    Transposed,
    OuterAccAndBack,
    UpdateOuter,
    UpdateOuterBias,
    UpdateLayer,
    Step,
    AffineRagged,
    AffineReluRagged,
    OuterAccRagged,
    TransposedRagged,
    ReluReference,
    SumAbs,
    TransposedRelu,
    TransposedReluRagged,
    UpdateModel,
    MaxOf,
    Copy,
    Fill,
    TrainerStep,
    Sqrt,
    Axpy,
}

/// The number of `Kernel`s.
const KERNELS: usize = 24;

impl Kernel {
    const ALL: [Kernel; KERNELS] = [
        Kernel::Affine,
        Kernel::AffineRelu,
        Kernel::OuterAcc,
        Kernel::Transposed,
        Kernel::OuterAccAndBack,
        Kernel::UpdateOuter,
        Kernel::UpdateOuterBias,
        Kernel::UpdateLayer,
        Kernel::Step,
        Kernel::AffineRagged,
        Kernel::AffineReluRagged,
        Kernel::OuterAccRagged,
        Kernel::TransposedRagged,
        Kernel::ReluReference,
        Kernel::SumAbs,
        Kernel::TransposedRelu,
        Kernel::TransposedReluRagged,
        Kernel::UpdateModel,
        Kernel::MaxOf,
        Kernel::Copy,
        Kernel::Fill,
        Kernel::TrainerStep,
        Kernel::Sqrt,
        Kernel::Axpy,
    ];

    fn name(self) -> &'static str {
        match self {
            Kernel::Affine => "affine",
            Kernel::AffineRelu => "affine_relu",
            Kernel::OuterAcc => "outer_acc",
            Kernel::Transposed => "transposed",
            Kernel::OuterAccAndBack => "outer_acc_and_back",
            Kernel::UpdateOuter => "update_outer",
            Kernel::UpdateOuterBias => "update_outer (bias form)",
            Kernel::UpdateLayer => "update_layer",
            Kernel::Step => "step",
            Kernel::AffineRagged => "affine (mismatched lengths)",
            Kernel::AffineReluRagged => "affine_relu (mismatched lengths)",
            Kernel::OuterAccRagged => "outer_acc (mismatched lengths)",
            Kernel::TransposedRagged => "transposed (mismatched lengths)",
            Kernel::ReluReference => "portable ReLU vs Activation::Relu",
            Kernel::SumAbs => "sum_abs",
            Kernel::TransposedRelu => "transposed_relu",
            Kernel::TransposedReluRagged => "transposed_relu (mismatched lengths)",
            Kernel::UpdateModel => "update_model",
            Kernel::MaxOf => "max_of",
            Kernel::Copy => "copy (mismatched lengths)",
            Kernel::Fill => "fill",
            Kernel::TrainerStep => "Trainer: unchecked forward, error propagation, update",
            Kernel::Sqrt => "sqrt",
            Kernel::Axpy => "axpy (mismatched lengths)",
        }
    }

    /// What `Case::lens` holds for the mismatched-length cases.
    fn lens_names(self) -> Option<&'static str> {
        match self {
            Kernel::AffineRagged | Kernel::AffineReluRagged => Some("w b x out"),
            Kernel::OuterAccRagged => Some("gw gb d x"),
            Kernel::TransposedRagged => Some("w d s -"),
            Kernel::TransposedReluRagged => Some("w d s a"),
            Kernel::Copy => Some("dst src - -"),
            Kernel::Axpy => Some("y x - -"),
            _ => None,
        }
    }
}

/// One kernel call: what, with which optimizer ("-" for none), shape and step (0 for
/// none); for the mismatched-length cases `rows` is the number of rows the portable
/// loop runs and `lens` the slice lengths (see `Kernel::lens_names`).
#[derive(Clone, Copy)]
struct Case {
    kernel: Kernel,
    opt: &'static str,
    rows: usize,
    cols: usize,
    k: u32,
    lens: [usize; 4],
}

#[derive(Clone, Copy)]
struct Mismatch {
    case: Case,
    what: &'static str,
    index: usize,
    kernel: f32,
    portable: f32,
}

#[derive(Default)]
struct Tally {
    /// Calls checked, per `Kernel`.
    cases: [u32; KERNELS],
    /// Floats compared.
    values: u32,
    /// Calls with at least one differing float, in all and per `Kernel`.
    failed: u32,
    failed_by: [u32; KERNELS],
    first: Option<Mismatch>,
}

impl Tally {
    /// Counts one call and compares its outputs `(name, kernel's, portable)` bit for bit.
    /// An update run twice, without a gradient buffer (`kernel`) and with one
    /// (`stored`, filling `grads.kernel`), against the portable reference: the first
    /// `m` parameters and `ms` state floats of each, and the `m` stored gradients.
    fn check_update<const P: usize, const S: usize, const G: usize>(
        &mut self,
        case: Case,
        p: &Trio<P>,
        s: &Trio<S>,
        grads: &Pair<G>,
        m: usize,
        ms: usize,
    ) {
        self.check(
            case,
            &[
                ("params", &p.kernel[..m], &p.portable[..m]),
                ("state", &s.kernel[..ms], &s.portable[..ms]),
            ],
        );
        self.check(
            case,
            &[
                ("params (grads stored)", &p.stored[..m], &p.portable[..m]),
                ("state (grads stored)", &s.stored[..ms], &s.portable[..ms]),
                ("grads", &grads.kernel[..m], &grads.portable[..m]),
            ],
        );
    }

    fn check(&mut self, case: Case, outputs: &[(&'static str, &[f32], &[f32])]) {
        self.cases[case.kernel as usize] += 1;
        let mut ok = true;
        for &(what, got, want) in outputs {
            ok &= got.len() == want.len();
            for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
                self.values += 1;
                if g.to_bits() != w.to_bits() {
                    ok = false;
                    self.first.get_or_insert(Mismatch {
                        case,
                        what,
                        index,
                        kernel: g,
                        portable: w,
                    });
                }
            }
        }
        if !ok {
            self.failed += 1;
            self.failed_by[case.kernel as usize] += 1;
        }
    }
}

/// The same buffer for the portable reference and for the kernel.
struct Pair<const M: usize> {
    portable: [f32; M],
    kernel: [f32; M],
}

/// ... and for the kernel given a gradient buffer to fill.
struct Trio<const M: usize> {
    portable: [f32; M],
    kernel: [f32; M],
    stored: [f32; M],
}

impl<const M: usize> Pair<M> {
    const ZERO: Self = Pair {
        portable: [0.0; M],
        kernel: [0.0; M],
    };

    /// Random values in the first `len` floats of both copies.
    fn fill(&mut self, rng: &mut Rng, len: usize) {
        fill(rng, &mut self.portable[..len]);
        self.kernel[..len].copy_from_slice(&self.portable[..len]);
    }
}

impl<const M: usize> Trio<M> {
    const ZERO: Self = Trio {
        portable: [0.0; M],
        kernel: [0.0; M],
        stored: [0.0; M],
    };

    /// Copies the first `len` floats of the reference to the kernels' copies.
    fn sync(&mut self, len: usize) {
        self.kernel[..len].copy_from_slice(&self.portable[..len]);
        self.stored[..len].copy_from_slice(&self.portable[..len]);
    }
}

struct Bufs {
    w: [f32; N],
    bias: [f32; N],
    x: [f32; N],
    d: [f32; N],
    /// The activations `transposed_relu` masks with.
    a: [f32; N],
    out: Pair<{ N + GUARD }>,
    gw: Pair<{ N + GUARD }>,
    gb: Pair<{ N + GUARD }>,
    params: Trio<{ N + GUARD }>,
    /// Up to three state floats per parameter (AMSGrad).
    state: Trio<{ 3 * N + GUARD }>,
    /// The gradient the kernel stores, and `d[i] * x[j]`.
    grads: Pair<{ N + GUARD }>,
}

impl Bufs {
    const ZERO: Self = Bufs {
        w: [0.0; N],
        bias: [0.0; N],
        x: [0.0; N],
        d: [0.0; N],
        a: [0.0; N],
        out: Pair::ZERO,
        gw: Pair::ZERO,
        gb: Pair::ZERO,
        params: Trio::ZERO,
        state: Trio::ZERO,
        grads: Pair::ZERO,
    };
}

/// Mostly uniform in [-2, 2); 3/32 exact zeros, 2/32 negative zeros, 1/32 tiny values
/// (their products underflow to subnormals or zero) and 1/32 subnormals.
fn value(rng: &mut Rng) -> f32 {
    match rng.below(32) {
        0..=2 => 0.0,
        3 | 4 => -0.0,
        5 => rng.symmetric(2.0) * 1.0e-20,
        6 => f32::from_bits(rng.below(0x0080_0000) | (rng.below(2) << 31)),
        _ => rng.symmetric(2.0),
    }
}

fn fill(rng: &mut Rng, v: &mut [f32]) {
    v.iter_mut().for_each(|a| *a = value(rng));
}

/// As `value`, with 3/64 NaN (`f32::NAN`, the only NaN bits going in), 3/64 +inf and
/// 3/64 -inf mixed in: for ReLU's NaN and -inf.
fn fill_special(rng: &mut Rng, v: &mut [f32]) {
    v.iter_mut().for_each(|a| {
        *a = match rng.below(64) {
            0..=2 => f32::NAN,
            3..=5 => f32::INFINITY,
            6..=8 => f32::NEG_INFINITY,
            _ => value(rng),
        }
    });
}

/// `Activation::Relu.apply` against the ReLU of `portable::affine_relu` (with no
/// inputs, each output is its bias, then ReLU) on zeros of both signs, NaNs of both
/// signs, infinities, subnormals and the extremes.
fn check_relu_reference(t: &mut Tally) {
    let mut v = [
        f32::NAN,
        -f32::NAN,
        0.0,
        -0.0,
        f32::from_bits(1),
        f32::from_bits(0x8000_0001),
        1.0e-30,
        -1.0e-30,
        1.0,
        -1.0,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        SENTINEL,
    ];
    let mut want = v;
    portable::affine_relu(&v.map(|_| 0.0), &v, &[], &mut want);
    Activation::Relu.apply(&mut v);
    let case = Case {
        kernel: Kernel::ReluReference,
        opt: "-",
        rows: v.len(),
        cols: 0,
        k: 0,
        lens: [0; 4],
    };
    t.check(case, &[("relu", &v, &want)]);
}

/// `sqrt` against `portable::sqrt` on the special values and random positive floats of
/// every magnitude (bit patterns, NaNs among them), 64 per call.
fn check_sqrt(t: &mut Tally, rng: &mut Rng) {
    let special = [
        0.0f32,
        -0.0,
        -1.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::MAX,
        2.0,
    ];
    let mut v = [0.0f32; 64];
    for (i, x) in v.iter_mut().enumerate() {
        *x = match special.get(i) {
            Some(s) => *s,
            None => f32::from_bits((rng.next_u64() >> 33) as u32),
        };
    }
    // A NaN in gives a NaN out on both, but not the same one: VSQRT keeps the input's
    // payload, libm returns the default NaN. Compared as NaN; every other value by bits.
    let nan_as_default = |x: f32| if x.is_nan() { f32::NAN } else { x };
    let got = v.map(|x| nan_as_default(microtrain::kernels::sqrt(x)));
    let want = v.map(|x| nan_as_default(portable::sqrt(x)));
    let case = Case {
        kernel: Kernel::Sqrt,
        opt: "-",
        rows: v.len(),
        cols: 0,
        k: 0,
        lens: [0; 4],
    };
    t.check(case, &[("sqrt", &got, &want)]);
}

/// `sum_abs` on `len` floats (with NaN and infinities when `special`) against
/// `portable::sum_abs`.
fn check_sum_abs(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, len: usize, special: bool) {
    let v = &mut b.x[..len];
    if special {
        fill_special(rng, v);
    } else {
        fill(rng, v);
    }
    let want = portable::sum_abs(v);
    let got = sum_abs(v);
    let case = Case {
        kernel: Kernel::SumAbs,
        opt: "-",
        rows: 1,
        cols: len,
        k: 0,
        lens: [0; 4],
    };
    t.check(case, &[("sum", &[got], &[want])]);
}

/// `max_of` on `len` floats (with NaN and infinities when `special`), `copy` of them
/// into a destination of every length from 0 to `len + 2` (the floats past the copied
/// ones must keep their sentinels), and `fill` of `len` floats, against the portable
/// loops.
fn check_max_and_copy(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, len: usize, special: bool) {
    let v = &mut b.x[..len];
    if special {
        fill_special(rng, v);
    } else {
        fill(rng, v);
    }
    let want = portable::max_of(v);
    let case = Case {
        kernel: Kernel::MaxOf,
        opt: "-",
        rows: 1,
        cols: len,
        k: 0,
        lens: [0; 4],
    };
    t.check(case, &[("max", &[max_of(v)], &[want])]);
    const SENTINEL: f32 = -7.25;
    for dst_len in 0..=len + 2 {
        let dst = &mut b.d[..dst_len + 1];
        dst.iter_mut().for_each(|d| *d = SENTINEL);
        copy(&mut dst[..dst_len], v);
        let mut want = [SENTINEL; 64];
        portable::copy(&mut want[..dst_len], v);
        let case = Case {
            kernel: Kernel::Copy,
            opt: "-",
            rows: 1,
            cols: len,
            k: 0,
            lens: [dst_len, len, 0, 0],
        };
        t.check(case, &[("dst", &*dst, &want[..dst_len + 1])]);
    }
    // `fill` of `len` floats with each value of `v` in turn (NaN and infinities when
    // `special`: a store keeps the bits); the float past them keeps its sentinel.
    for &value in v.iter().take(4).chain(&[-1.5]) {
        let dst = &mut b.d[..len + 1];
        dst.iter_mut().for_each(|d| *d = SENTINEL);
        microtrain::kernels::fill(&mut dst[..len], value);
        let mut want = [SENTINEL; 64];
        portable::fill(&mut want[..len], value);
        let case = Case {
            kernel: Kernel::Fill,
            opt: "-",
            rows: 1,
            cols: len,
            k: 0,
            lens: [0; 4],
        };
        t.check(case, &[("v", &*dst, &want[..len + 1])]);
    }
}

/// `axpy` of `len` floats of `x` (with NaN and infinities when `special`) into a `y` of
/// every length from 0 to `len + 2`, for a few factors `a`: the floats of `y` past the
/// common length, and the one past `y`, must keep their sentinels.
fn check_axpy(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, len: usize, special: bool) {
    const SENTINEL: f32 = -7.25;
    let x = &mut b.x[..len];
    if special {
        fill_special(rng, x);
    } else {
        fill(rng, x);
    }
    let a_values = [value(rng), -0.0, 1.0, f32::INFINITY, value(rng)];
    for (n, &a) in a_values.iter().enumerate() {
        for y_len in 0..=len + 2 {
            let y = &mut b.d[..y_len + 1];
            fill(rng, &mut y[..y_len]);
            y[y_len] = SENTINEL;
            let mut want = [SENTINEL; 64];
            want[..y_len + 1].copy_from_slice(y);
            portable::axpy(&mut want[..y_len], a, x);
            axpy(&mut y[..y_len], a, x);
            let case = Case {
                kernel: Kernel::Axpy,
                opt: "-",
                rows: 1,
                cols: len,
                k: n as u32,
                lens: [y_len, len, 0, 0],
            };
            t.check(case, &[("y", &*y, &want[..y_len + 1])]);
        }
    }
}

/// `affine` (or `affine_relu`) on one exact shape; `special` mixes NaN and infinities
/// into `W` and `b`, `special_x` into `x` (which the small-row paths hold in registers).
#[allow(clippy::too_many_arguments)]
fn check_affine(
    t: &mut Tally,
    rng: &mut Rng,
    b: &mut Bufs,
    rows: usize,
    cols: usize,
    relu: bool,
    special: bool,
    special_x: bool,
) {
    let n = rows * cols;
    if special {
        fill_special(rng, &mut b.w[..n]);
        fill_special(rng, &mut b.bias[..rows]);
    } else {
        fill(rng, &mut b.w[..n]);
        fill(rng, &mut b.bias[..rows]);
    }
    if special_x {
        fill_special(rng, &mut b.x[..cols]);
    } else {
        fill(rng, &mut b.x[..cols]);
    }
    b.out.fill(rng, rows + GUARD);
    let (w, bias, x) = (&b.w[..n], &b.bias[..rows], &b.x[..cols]);
    let kernel = if relu {
        affine_relu(w, bias, x, &mut b.out.kernel[..rows]);
        portable::affine_relu(w, bias, x, &mut b.out.portable[..rows]);
        Kernel::AffineRelu
    } else {
        affine(w, bias, x, &mut b.out.kernel[..rows]);
        portable::affine(w, bias, x, &mut b.out.portable[..rows]);
        Kernel::Affine
    };
    let case = Case {
        kernel,
        opt: "-",
        rows,
        cols,
        k: 0,
        lens: [0; 4],
    };
    let m = rows + GUARD;
    t.check(case, &[("out", &b.out.kernel[..m], &b.out.portable[..m])]);
}

/// `affine` (or `affine_relu`) with slices of any lengths: `out` filled with
/// `SENTINEL` (and its `GUARD`), which must stay past the rows the portable loop runs.
#[allow(clippy::too_many_arguments)]
fn check_affine_ragged(
    t: &mut Tally,
    rng: &mut Rng,
    b: &mut Bufs,
    relu: bool,
    lw: usize,
    lb: usize,
    lx: usize,
    lout: usize,
) {
    fill(rng, &mut b.w[..lw]);
    fill(rng, &mut b.bias[..lb]);
    fill(rng, &mut b.x[..lx]);
    let m = lout + GUARD;
    b.out.kernel[..m].fill(SENTINEL);
    b.out.portable[..m].fill(SENTINEL);
    let (w, bias, x) = (&b.w[..lw], &b.bias[..lb], &b.x[..lx]);
    let kernel = if relu {
        affine_relu(w, bias, x, &mut b.out.kernel[..lout]);
        portable::affine_relu(w, bias, x, &mut b.out.portable[..lout]);
        Kernel::AffineReluRagged
    } else {
        affine(w, bias, x, &mut b.out.kernel[..lout]);
        portable::affine(w, bias, x, &mut b.out.portable[..lout]);
        Kernel::AffineRagged
    };
    let case = Case {
        kernel,
        opt: "-",
        rows: lout.min(lb).min(lw / lx.max(1)),
        cols: lx,
        k: 0,
        lens: [lw, lb, lx, lout],
    };
    t.check(case, &[("out", &b.out.kernel[..m], &b.out.portable[..m])]);
}

/// `outer_acc` with slices of any lengths: `gw` and `gb` random in the rows the
/// portable loop runs and `SENTINEL` after them (and in their `GUARD`).
fn check_outer_acc_ragged(
    t: &mut Tally,
    rng: &mut Rng,
    b: &mut Bufs,
    lgw: usize,
    lgb: usize,
    ld: usize,
    lx: usize,
) {
    let cols = lx.max(1);
    let rows = lgb.min(ld).min(lgw / cols);
    let (m, mb) = (lgw + GUARD, lgb + GUARD);
    b.gw.fill(rng, rows * cols);
    b.gw.kernel[rows * cols..m].fill(SENTINEL);
    b.gw.portable[rows * cols..m].fill(SENTINEL);
    b.gb.fill(rng, rows);
    b.gb.kernel[rows..mb].fill(SENTINEL);
    b.gb.portable[rows..mb].fill(SENTINEL);
    fill(rng, &mut b.d[..ld]);
    fill(rng, &mut b.x[..lx]);
    let (d, x) = (&b.d[..ld], &b.x[..lx]);
    outer_acc(&mut b.gw.kernel[..lgw], &mut b.gb.kernel[..lgb], d, x);
    portable::outer_acc(&mut b.gw.portable[..lgw], &mut b.gb.portable[..lgb], d, x);
    let case = Case {
        kernel: Kernel::OuterAccRagged,
        opt: "-",
        rows,
        cols: lx,
        k: 0,
        lens: [lgw, lgb, ld, lx],
    };
    t.check(
        case,
        &[
            ("gw", &b.gw.kernel[..m], &b.gw.portable[..m]),
            ("gb", &b.gb.kernel[..mb], &b.gb.portable[..mb]),
        ],
    );
}

/// `transposed` with slices of any lengths: `s` filled with `SENTINEL` (all of it
/// becomes zero first, then the sums; its `GUARD` must stay).
fn check_transposed_ragged(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, lw: usize, ld: usize, ls: usize) {
    fill(rng, &mut b.w[..lw]);
    fill(rng, &mut b.d[..ld]);
    let m = ls + GUARD;
    b.out.kernel[..m].fill(SENTINEL);
    b.out.portable[..m].fill(SENTINEL);
    let (w, d) = (&b.w[..lw], &b.d[..ld]);
    transposed(w, d, &mut b.out.kernel[..ls]);
    portable::transposed(w, d, &mut b.out.portable[..ls]);
    let case = Case {
        kernel: Kernel::TransposedRagged,
        opt: "-",
        rows: ld.min(lw / ls.max(1)),
        cols: ls,
        k: 0,
        lens: [lw, ld, ls, 0],
    };
    t.check(case, &[("s", &b.out.kernel[..m], &b.out.portable[..m])]);
}

/// Every mismatched-length case: for each row count in `RAGGED_ROWS` and row length in
/// `RAGGED_COLS`, `W` (or `gw`) exact, a float longer, almost a row longer, a float
/// short and empty, with the other slices exact, longer and a row short.
fn check_ragged(t: &mut Tally, rng: &mut Rng, b: &mut Bufs) {
    for r in RAGGED_ROWS {
        for c in RAGGED_COLS {
            let cw = c.max(1);
            let short = r.saturating_sub(1);
            for lw in around(r * cw, cw) {
                for lb in distinct([r, r + 1, short]) {
                    for lout in distinct([r, r + 2, short]) {
                        check_affine_ragged(t, rng, b, false, lw, lb, c, lout);
                        check_affine_ragged(t, rng, b, true, lw, lb, c, lout);
                    }
                }
                for lgb in distinct([r, r + 1, short]) {
                    for ld in distinct([r, r + 2, short]) {
                        check_outer_acc_ragged(t, rng, b, lw, lgb, ld, c);
                    }
                }
                for ld in distinct([r, r + 1, short, 0]) {
                    check_transposed_ragged(t, rng, b, lw, ld, c);
                    for la in distinct([c, c + 1, c.saturating_sub(1), 0]) {
                        check_transposed_relu_ragged(t, rng, b, [lw, ld, c, la]);
                    }
                }
            }
        }
    }
}

fn check_outer_acc(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, rows: usize, cols: usize) {
    let n = rows * cols;
    b.gw.fill(rng, n + GUARD);
    b.gb.fill(rng, rows + GUARD);
    let case = Case {
        kernel: Kernel::OuterAcc,
        opt: "-",
        rows,
        cols,
        k: 0,
        lens: [0; 4],
    };
    for _ in 0..3 {
        fill(rng, &mut b.d[..rows]);
        fill(rng, &mut b.x[..cols]);
        let (d, x) = (&b.d[..rows], &b.x[..cols]);
        outer_acc(&mut b.gw.kernel[..n], &mut b.gb.kernel[..rows], d, x);
        portable::outer_acc(&mut b.gw.portable[..n], &mut b.gb.portable[..rows], d, x);
        let (m, mb) = (n + GUARD, rows + GUARD);
        t.check(
            case,
            &[
                ("gw", &b.gw.kernel[..m], &b.gw.portable[..m]),
                ("gb", &b.gb.kernel[..mb], &b.gb.portable[..mb]),
            ],
        );
        // The next sample accumulates onto the reference's bits.
        b.gw.kernel[..m].copy_from_slice(&b.gw.portable[..m]);
        b.gb.kernel[..mb].copy_from_slice(&b.gb.portable[..mb]);
    }
}

/// `transposed`: `s[j] = sum over i in order, from zero, of W[i, j] * d[i]`.
fn check_transposed(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, rows: usize, cols: usize) {
    let n = rows * cols;
    fill(rng, &mut b.w[..n]);
    fill(rng, &mut b.d[..rows]);
    b.out.fill(rng, cols + GUARD);
    let (w, d) = (&b.w[..n], &b.d[..rows]);
    transposed(w, d, &mut b.out.kernel[..cols]);
    portable::transposed(w, d, &mut b.out.portable[..cols]);
    let case = Case {
        kernel: Kernel::Transposed,
        opt: "-",
        rows,
        cols,
        k: 0,
        lens: [0; 4],
    };
    let m = cols + GUARD;
    t.check(case, &[("s", &b.out.kernel[..m], &b.out.portable[..m])]);
}

/// `transposed_relu` on one exact shape, `a` as long as `s`: `a` always with NaN,
/// infinities, zeros of both signs and subnormals; `special` mixes NaN and infinities
/// into `W` and `d` too.
fn check_transposed_relu(
    t: &mut Tally,
    rng: &mut Rng,
    b: &mut Bufs,
    rows: usize,
    cols: usize,
    special: bool,
) {
    let n = rows * cols;
    if special {
        fill_special(rng, &mut b.w[..n]);
        fill_special(rng, &mut b.d[..rows]);
    } else {
        fill(rng, &mut b.w[..n]);
        fill(rng, &mut b.d[..rows]);
    }
    fill_special(rng, &mut b.a[..cols]);
    b.out.fill(rng, cols + GUARD);
    let (w, d, a) = (&b.w[..n], &b.d[..rows], &b.a[..cols]);
    transposed_relu(w, d, &mut b.out.kernel[..cols], a);
    portable::transposed_relu(w, d, &mut b.out.portable[..cols], a);
    let case = Case {
        kernel: Kernel::TransposedRelu,
        opt: "-",
        rows,
        cols,
        k: 0,
        lens: [0; 4],
    };
    let m = cols + GUARD;
    t.check(case, &[("s", &b.out.kernel[..m], &b.out.portable[..m])]);
}

/// `transposed_relu` with slices of any lengths `[w, d, s, a]`: `s` filled with
/// `SENTINEL` (all of it becomes the sums; its `GUARD` must stay), `a` and `W` with
/// special values.
fn check_transposed_relu_ragged(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, lens: [usize; 4]) {
    let [lw, ld, ls, la] = lens;
    fill_special(rng, &mut b.w[..lw]);
    fill(rng, &mut b.d[..ld]);
    fill_special(rng, &mut b.a[..la]);
    let m = ls + GUARD;
    b.out.kernel[..m].fill(SENTINEL);
    b.out.portable[..m].fill(SENTINEL);
    let (w, d, a) = (&b.w[..lw], &b.d[..ld], &b.a[..la]);
    transposed_relu(w, d, &mut b.out.kernel[..ls], a);
    portable::transposed_relu(w, d, &mut b.out.portable[..ls], a);
    let case = Case {
        kernel: Kernel::TransposedReluRagged,
        opt: "-",
        rows: ld.min(lw / ls.max(1)),
        cols: ls,
        k: 0,
        lens,
    };
    t.check(case, &[("s", &b.out.kernel[..m], &b.out.portable[..m])]);
}

/// `outer_acc_and_back`: `outer_acc` and `transposed` in one pass.
fn check_outer_acc_and_back(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, rows: usize, cols: usize) {
    let n = rows * cols;
    let (m, mb, ms) = (n + GUARD, rows + GUARD, cols + GUARD);
    fill(rng, &mut b.w[..n]);
    fill(rng, &mut b.d[..rows]);
    fill(rng, &mut b.x[..cols]);
    b.gw.fill(rng, m);
    b.gb.fill(rng, mb);
    b.out.fill(rng, ms);
    let (w, d, x) = (&b.w[..n], &b.d[..rows], &b.x[..cols]);
    outer_acc_and_back(
        &mut b.gw.kernel[..n],
        &mut b.gb.kernel[..rows],
        w,
        d,
        x,
        &mut b.out.kernel[..cols],
    );
    portable::outer_acc(&mut b.gw.portable[..n], &mut b.gb.portable[..rows], d, x);
    portable::transposed(w, d, &mut b.out.portable[..cols]);
    let case = Case {
        kernel: Kernel::OuterAccAndBack,
        opt: "-",
        rows,
        cols,
        k: 0,
        lens: [0; 4],
    };
    t.check(
        case,
        &[
            ("gw", &b.gw.kernel[..m], &b.gw.portable[..m]),
            ("gb", &b.gb.kernel[..mb], &b.gb.portable[..mb]),
            ("s", &b.out.kernel[..ms], &b.out.portable[..ms]),
        ],
    );
}

/// `update_outer` (without and with a gradient buffer), its bias form, `update_layer`
/// and `step` of `opt` against `update`, for the steps in `STEPS` one after the other.
fn check_optimizer<O: Optimizer>(
    t: &mut Tally,
    rng: &mut Rng,
    b: &mut Bufs,
    name: &'static str,
    opt: &O,
    rows: usize,
    cols: usize,
) {
    let n = rows * cols;
    let spp = opt.state_per_param();
    let (ns, row_s) = (n * spp, cols * spp);
    let (m, ms) = (n + GUARD, ns + GUARD);
    fill(rng, &mut b.params.portable[..m]);
    fill(rng, &mut b.state.portable[..ms]);
    opt.init_state(&mut b.state.portable[..ns]);
    b.params.sync(m);
    b.state.sync(ms);
    let lr = f64::from(opt.lr());
    for k in STEPS {
        let sc = opt.scalars(lr, k);
        let case = |kernel| Case {
            kernel,
            opt: name,
            rows,
            cols,
            k,
            lens: [0; 4],
        };
        fill(rng, &mut b.d[..rows]);
        fill(rng, &mut b.x[..cols]);
        let (d, x) = (&b.d[..rows], &b.x[..cols]);
        // The weights: gradient d x^T, formed by the kernel (and stored: over garbage).
        b.grads.fill(rng, m);
        let (p, s) = (&mut b.params, &mut b.state);
        opt.update_outer(&sc, &mut p.kernel[..n], &mut s.kernel[..ns], &mut [], d, x);
        opt.update_outer(
            &sc,
            &mut p.stored[..n],
            &mut s.stored[..ns],
            &mut b.grads.kernel[..n],
            d,
            x,
        );
        for (i, &di) in d.iter().enumerate() {
            let p_row = &mut p.portable[i * cols..(i + 1) * cols];
            let s_row = &mut s.portable[i * row_s..(i + 1) * row_s];
            opt.update(&sc, p_row, x.iter().map(|a| di * a), s_row);
            for (g, a) in b.grads.portable[i * cols..(i + 1) * cols].iter_mut().zip(x) {
                *g = di * a;
            }
        }
        t.check_update(case(Kernel::UpdateOuter), p, s, &b.grads, m, ms);
        p.sync(m);
        s.sync(ms);

        // A whole step with that gradient as the batch's.
        let g = &b.grads.portable[..n];
        opt.step(&mut p.kernel[..n], g, &mut s.kernel[..ns], lr, k);
        opt.update(
            &sc,
            &mut p.portable[..n],
            g.iter().copied(),
            &mut s.portable[..ns],
        );
        t.check(
            case(Kernel::Step),
            &[
                ("params", &p.kernel[..m], &p.portable[..m]),
                ("state", &s.kernel[..ms], &s.portable[..ms]),
            ],
        );
        p.sync(m);
        s.sync(ms);

        // The bias form, on the first `rows` parameters: d = [1], x = the error terms.
        let (mb, msb) = (rows + GUARD, rows * spp + GUARD);
        let nsb = rows * spp;
        b.grads.fill(rng, mb);
        opt.update_outer(
            &sc,
            &mut p.kernel[..rows],
            &mut s.kernel[..nsb],
            &mut [],
            &[1.0],
            d,
        );
        opt.update_outer(
            &sc,
            &mut p.stored[..rows],
            &mut s.stored[..nsb],
            &mut b.grads.kernel[..rows],
            &[1.0],
            d,
        );
        opt.update(
            &sc,
            &mut p.portable[..rows],
            d.iter().copied(),
            &mut s.portable[..nsb],
        );
        b.grads.portable[..rows].copy_from_slice(d);
        t.check_update(case(Kernel::UpdateOuterBias), p, s, &b.grads, mb, msb);
        p.sync(m);
        s.sync(ms);

        // A whole layer `[W | b]` in one call: the weights from `d x^T`, then the bias
        // from `d`, state and gradients in the same layout.
        let nl = n + rows;
        if nl <= N {
            let (nls, ml, mls) = (nl * spp, nl + GUARD, nl * spp + GUARD);
            // The bias and its state lie past what the cases above compared: start all
            // three copies from the same values there too.
            p.sync(ml);
            s.sync(mls);
            b.grads.fill(rng, ml);
            opt.update_layer(&sc, &mut p.kernel[..nl], &mut s.kernel[..nls], &mut [], d, x);
            opt.update_layer(
                &sc,
                &mut p.stored[..nl],
                &mut s.stored[..nls],
                &mut b.grads.kernel[..nl],
                d,
                x,
            );
            for (i, &di) in d.iter().enumerate() {
                let p_row = &mut p.portable[i * cols..(i + 1) * cols];
                let s_row = &mut s.portable[i * row_s..(i + 1) * row_s];
                opt.update(&sc, p_row, x.iter().map(|a| di * a), s_row);
                for (g, a) in b.grads.portable[i * cols..(i + 1) * cols].iter_mut().zip(x) {
                    *g = di * a;
                }
            }
            opt.update(
                &sc,
                &mut p.portable[n..nl],
                d.iter().copied(),
                &mut s.portable[ns..nls],
            );
            b.grads.portable[n..nl].copy_from_slice(d);
            t.check_update(case(Kernel::UpdateLayer), p, s, &b.grads, ml, mls);
            p.sync(ml);
            s.sync(mls);
        }
    }
}

/// `update_model` of `opt` (without and with a gradient buffer) on the two-layer model
/// `cols`-`hidden`-`outputs` against `update` row by row (each layer's weights with the
/// gradient `d[i] * a[j]`, then its bias with `d`), for the steps in `STEPS` one after
/// the other. With `special`, NaN and infinities are mixed into the input and the
/// activation buffer (outputs and error terms) as well as zeros of both signs and
/// subnormals. `SENTINEL` fills the `GUARD` floats after the parameters, the state and
/// the gradients, which must stay.
#[allow(clippy::too_many_arguments)]
fn check_model<O: Optimizer>(
    t: &mut Tally,
    rng: &mut Rng,
    b: &mut Bufs,
    name: &'static str,
    opt: &O,
    cols: usize,
    hidden: usize,
    outputs: usize,
    special: bool,
) {
    let layers = [
        Dense::new(cols, hidden, Activation::Relu),
        Dense::new(hidden, outputs, Activation::Identity),
    ];
    let n: usize = layers.iter().map(|l| l.params_len()).sum();
    let spp = opt.state_per_param();
    let ns = n * spp;
    let (m, ms) = (n + GUARD, ns + GUARD);
    let outs = hidden + outputs;
    fill(rng, &mut b.params.portable[..n]);
    fill(rng, &mut b.state.portable[..ns]);
    opt.init_state(&mut b.state.portable[..ns]);
    b.params.portable[n..m].fill(SENTINEL);
    b.state.portable[ns..ms].fill(SENTINEL);
    b.params.sync(m);
    b.state.sync(ms);
    let lr = f64::from(opt.lr());
    for k in STEPS {
        let sc = opt.scalars(lr, k);
        let case = Case {
            kernel: Kernel::UpdateModel,
            opt: name,
            rows: hidden,
            cols,
            k,
            lens: [0; 4],
        };
        if special {
            fill_special(rng, &mut b.x[..cols]);
            fill_special(rng, &mut b.a[..2 * outs]);
        } else {
            fill(rng, &mut b.x[..cols]);
            fill(rng, &mut b.a[..2 * outs]);
        }
        b.grads.fill(rng, n);
        b.grads.kernel[n..m].fill(SENTINEL);
        b.grads.portable[n..m].fill(SENTINEL);
        let (x, acts) = (&b.x[..cols], &mut b.a[..2 * outs]);
        let (p, s) = (&mut b.params, &mut b.state);
        opt.update_model(
            &sc,
            &layers,
            &mut Buffers {
                params: &mut p.kernel[..n],
                grads: &mut [],
                state: &mut s.kernel[..ns],
                acts: &mut *acts,
                frozen: &[],
            },
            x,
        );
        opt.update_model(
            &sc,
            &layers,
            &mut Buffers {
                params: &mut p.stored[..n],
                grads: &mut b.grads.kernel[..n],
                state: &mut s.stored[..ns],
                acts: &mut *acts,
                frozen: &[],
            },
            x,
        );
        // The portable reference: layer by layer, the weights row by row, then the bias.
        let (a, deltas) = acts.split_at(outs);
        let (mut input, mut start, mut first) = (x, 0usize, 0usize);
        for l in &layers {
            let d = &deltas[first..first + l.outputs];
            for (i, &di) in d.iter().enumerate() {
                let at = start + i * l.inputs;
                let p_row = &mut p.portable[at..at + l.inputs];
                let s_row = &mut s.portable[at * spp..(at + l.inputs) * spp];
                opt.update(&sc, p_row, input.iter().map(|v| di * v), s_row);
                for (g, v) in b.grads.portable[at..at + l.inputs].iter_mut().zip(input) {
                    *g = di * v;
                }
            }
            let at = start + l.outputs * l.inputs;
            let end = at + l.outputs;
            opt.update(
                &sc,
                &mut p.portable[at..end],
                d.iter().copied(),
                &mut s.portable[at * spp..end * spp],
            );
            b.grads.portable[at..end].copy_from_slice(d);
            input = &a[first..first + l.outputs];
            (start, first) = (end, first + l.outputs);
        }
        t.check_update(case, p, s, &b.grads, m, ms);
        p.sync(m);
        s.sync(ms);
    }
}

/// The trainer's single-sample step (its unchecked forward pass, error propagation and
/// update kernel: `layers::dense::forward_unchecked` and `backward_deltas_unchecked`
/// over the kernels' unchecked entry points, and `update_model_unchecked`) against the
/// checked public passes on the same parameters: `dense::forward`, the loss's
/// `loss_and_delta`, `dense::backward_deltas` and the gradients `d x^T`, `d` formed
/// here. Three layers `cols`-`h1`-`h2`-`outputs` with hidden activations `acts`; plain
/// SGD at `lr = 0` (the gradients are stored, the parameters stay) and `loss`. Compares
/// the prediction, the loss and every gradient bit for bit.
#[allow(clippy::too_many_arguments)]
fn check_trainer(
    t: &mut Tally,
    rng: &mut Rng,
    widths: [usize; 4],
    acts: [Activation; 2],
    loss: Loss,
    special: bool,
) {
    const P: usize = 300;
    const A: usize = 64;
    let last = if loss == Loss::SoftmaxCrossEntropy {
        Activation::Identity
    } else {
        Activation::Tanh
    };
    let layers = [
        Dense::new(widths[0], widths[1], acts[0]),
        Dense::new(widths[1], widths[2], acts[1]),
        Dense::new(widths[2], widths[3], last),
    ];
    let n: usize = layers.iter().map(|l| l.params_len()).sum();
    let outs: usize = widths[1] + widths[2] + widths[3];
    let (mut params, mut grads, mut acts_buf) = ([0.0f32; P], [0.0f32; P], [0.0f32; A]);
    let mut x = [0.0f32; 9];
    fill(rng, &mut params[..n]);
    if special {
        fill_special(rng, &mut x[..widths[0]]);
    } else {
        fill(rng, &mut x[..widths[0]]);
    }
    let x = &x[..widths[0]];
    let p0 = params;
    let mut y = [0.0f32; 9];
    fill(rng, &mut y[..widths[3]]);
    let class = (widths[0] + widths[3]) % widths[3];
    let target = match loss {
        Loss::SoftmaxCrossEntropy => Target::Class(class),
        _ => Target::Values(&y[..widths[3]]),
    };
    // The reference, through the checked passes.
    let mut r_acts = [0.0f32; A];
    dense::forward(&layers, &p0[..n], x, &mut r_acts[..outs]);
    let mut r_out = [0.0f32; 9];
    r_out[..widths[3]].copy_from_slice(&r_acts[outs - widths[3]..outs]);
    r_acts.copy_within(outs - widths[3]..outs, 2 * outs - widths[3]);
    let r_loss = loss.loss_and_delta(last, &mut r_acts[2 * outs - widths[3]..2 * outs], &target, 1.0);
    dense::backward_deltas(&layers, &p0[..n], &mut r_acts[..2 * outs]);
    let mut r_grads = [0.0f32; P];
    let (mut at, mut first) = (0usize, 0usize);
    let mut input: &[f32] = x;
    for l in &layers {
        let d = &r_acts[outs + first..outs + first + l.outputs];
        for (i, di) in d.iter().enumerate() {
            for (j, v) in input.iter().enumerate() {
                r_grads[at + i * l.inputs + j] = di * v;
            }
        }
        r_grads[at + l.outputs * l.inputs..at + l.params_len()].copy_from_slice(d);
        input = &r_acts[first..first + l.outputs];
        at += l.params_len();
        first += l.outputs;
    }
    // The trainer.
    let buffers = Buffers {
        params: &mut params[..n],
        grads: &mut grads[..n],
        state: &mut [],
        acts: &mut acts_buf[..2 * outs],
        frozen: &[],
    };
    let Ok(mut tr) = Trainer::new(&layers, buffers, Sgd::new(0.0), loss) else {
        defmt::error!("check_trainer: the trainer refused its buffers");
        t.failed += 1;
        return;
    };
    let mut out = [0.0f32; 9];
    let predicted = tr.predict(x, &mut out[..widths[3]]).is_ok();
    let got_loss = tr.train_sample(x, target);
    let case = Case {
        kernel: Kernel::TrainerStep,
        opt: "sgd lr=0",
        rows: widths[1],
        cols: widths[0],
        k: 1,
        lens: [widths[1], widths[2], widths[3], 0],
    };
    match (predicted, got_loss) {
        (true, Ok(l)) => t.check(
            case,
            &[
                ("prediction", &out[..widths[3]], &r_out[..widths[3]]),
                ("loss", &[l], &[r_loss]),
                ("grads", tr.grads(), &r_grads[..n]),
            ],
        ),
        // A rejected step (a non-finite input or loss) must be one the reference
        // could not train on either.
        (_, Err(_)) => {
            let finite = x.iter().all(|v| v.is_finite()) && r_loss.is_finite();
            let ok = if finite {
                r_grads[..n].iter().any(|g| !g.is_finite() || g.abs() >= 2.0e18)
            } else {
                true
            };
            t.check(
                case,
                &[("rejected as the reference", &[f32::from(u8::from(ok))], &[1.0])],
            );
        }
        (false, Ok(_)) => t.check(case, &[("predict refused", &[0.0], &[1.0])]),
    }
}

#[entry]
fn main() -> ! {
    static mut BUFS: Bufs = Bufs::ZERO;
    let fpu = if cfg!(all(target_arch = "arm", target_abi = "eabihf")) {
        "in use"
    } else {
        "not built (portable loops only)"
    };
    defmt::info!(
        "kernels: FPU assembly kernels {=str}; shapes up to {=usize} floats",
        fpu,
        N
    );

    // Assembly paths: Adam without weight decay or AMSGrad and 1 - beta1 < 0.5; plain SGD.
    let adam = Adam::new(0.01);
    let adam_other = Adam {
        beta1: 0.8,
        beta2: 0.99,
        eps: 1e-3,
        ..Adam::new(0.5)
    };
    let sgd = Sgd::new(0.1);
    let sgd_one = Sgd::new(1.0);
    // Portable paths, which must give the same bits through `update_outer` and `step`.
    let amsgrad = Adam {
        amsgrad: true,
        ..adam
    };
    let adam_wd = Adam {
        weight_decay: 0.01,
        ..adam
    };
    let adam_low_beta1 = Adam { beta1: 0.3, ..adam };
    let momentum = Sgd::momentum(0.05, 0.9);
    let nesterov = Sgd::nesterov(0.05, 0.9);
    let sgd_wd = Sgd {
        weight_decay: 0.01,
        ..sgd
    };

    let mut rng = Rng::new(0x006b_6572_6e65_6c73);
    let mut rng_relu = Rng::new(0x0072_656c_7500);
    let mut rng_ragged = Rng::new(0x0072_6167_6765_6400);
    let mut rng_special = Rng::new(0x0073_7065_6369_616c);
    let mut t = Tally::default();
    let mut shape_count = 0u32;
    check_relu_reference(&mut t);
    let mut rng_sqrt = Rng::new(0x0073_7172_7400);
    for _ in 0..64 {
        check_sqrt(&mut t, &mut rng_sqrt);
    }
    let mut rng_sum = Rng::new(0x0073_756d_0000);
    for len in 0..=40 {
        for special in [false, true] {
            for _ in 0..8 {
                check_sum_abs(&mut t, &mut rng_sum, &mut *BUFS, len, special);
                check_max_and_copy(&mut t, &mut rng_sum, &mut *BUFS, len, special);
            }
            for _ in 0..2 {
                check_axpy(&mut t, &mut rng_sum, &mut *BUFS, len, special);
            }
        }
    }
    for (rows, cols) in shapes() {
        shape_count += 1;
        let b = &mut *BUFS;
        let r = &mut rng;
        for _ in 0..3 {
            check_affine(&mut t, r, b, rows, cols, false, false, false);
        }
        // Its own random stream, so the other cases see the same data as before.
        for special in [false, false, true] {
            check_affine(&mut t, &mut rng_relu, b, rows, cols, true, special, false);
        }
        // NaN and infinities in `x` as well (and in `W`, `b`), with and without ReLU.
        for relu in [false, true] {
            check_affine(&mut t, &mut rng_special, b, rows, cols, relu, true, true);
        }
        for special in [false, false, true] {
            check_transposed_relu(&mut t, &mut rng_special, b, rows, cols, special);
        }
        check_outer_acc(&mut t, r, b, rows, cols);
        for _ in 0..3 {
            check_transposed(&mut t, r, b, rows, cols);
        }
        check_outer_acc_and_back(&mut t, r, b, rows, cols);
        check_optimizer(&mut t, r, b, "adam", &adam, rows, cols);
        check_optimizer(&mut t, r, b, "adam .8 .99 1e-3", &adam_other, rows, cols);
        check_optimizer(&mut t, r, b, "sgd", &sgd, rows, cols);
        check_optimizer(&mut t, r, b, "sgd lr=1", &sgd_one, rows, cols);
        check_optimizer(&mut t, r, b, "adam amsgrad", &amsgrad, rows, cols);
        check_optimizer(&mut t, r, b, "adam weight_decay", &adam_wd, rows, cols);
        check_optimizer(&mut t, r, b, "adam beta1=0.3", &adam_low_beta1, rows, cols);
        check_optimizer(&mut t, r, b, "sgd momentum", &momentum, rows, cols);
        check_optimizer(&mut t, r, b, "sgd nesterov", &nesterov, rows, cols);
        check_optimizer(&mut t, r, b, "sgd weight_decay", &sgd_wd, rows, cols);
        check_optimizer(&mut t, r, b, "any(adam)", &AnyOptimizer::from(adam), rows, cols);
        check_optimizer(&mut t, r, b, "any(sgd)", &AnyOptimizer::from(sgd), rows, cols);
    }
    check_ragged(&mut t, &mut rng_ragged, &mut *BUFS);
    // Whole models through `update_model`: inputs and hidden widths 1 to 9 (so every
    // weight and bias block of 1 to 9 columns, the 4- and 8-column paths among them).
    let mut rng_model = Rng::new(0x006d_6f64_656c);
    for cols in 1..=9usize {
        for hidden in 1..=9usize {
            let (c, h, o) = (cols, hidden, 1 + (cols * hidden + cols) % 9);
            let (b, r) = (&mut *BUFS, &mut rng_model);
            for sp in [false, true] {
                check_model(&mut t, r, b, "adam", &adam, c, h, o, sp);
                check_model(&mut t, r, b, "adam .8 .99 1e-3", &adam_other, c, h, o, sp);
                check_model(&mut t, r, b, "sgd", &sgd, c, h, o, sp);
                check_model(&mut t, r, b, "sgd lr=1", &sgd_one, c, h, o, sp);
                check_model(&mut t, r, b, "adam amsgrad", &amsgrad, c, h, o, sp);
                check_model(&mut t, r, b, "sgd momentum", &momentum, c, h, o, sp);
            }
        }
    }
    // The trainer's unchecked passes and update against the checked ones, for every
    // hidden activation pair, widths 1 to 9 and both kinds of loss.
    let mut rng_trainer = Rng::new(0x0074_7261_696e);
    let all = [
        Activation::Relu,
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
    ];
    for (i, a0) in all.iter().enumerate() {
        for a1 in all {
            for c in 1..=9usize {
                let w = [c, 1 + (c * 5 + i) % 9, 1 + (c * 7 + i) % 9, 2 + (c + i) % 8];
                for loss in [Loss::SoftmaxCrossEntropy, Loss::Mse] {
                    for special in [false, false, true] {
                        check_trainer(&mut t, &mut rng_trainer, w, [*a0, a1], loss, special);
                    }
                }
            }
        }
    }
    let mut total = 0u32;
    for kernel in Kernel::ALL {
        let n = t.cases[kernel as usize];
        total += n;
        defmt::info!("{=str}: {=u32} calls", kernel.name(), n);
        let failed = t.failed_by[kernel as usize];
        if failed > 0 {
            defmt::error!("{=str}: {=u32} of them differ", kernel.name(), failed);
        }
    }
    defmt::info!(
        "checked {=u32} calls over {=u32} shapes, {=u32} floats compared",
        total,
        shape_count,
        t.values
    );
    if let Some(f) = t.first {
        let c = f.case;
        defmt::error!(
            "first mismatch: {=str} [{=str}] rows {=usize} cols {=usize} step {=u32}: {=str}[{=usize}] kernel {=u32:#010x} ({=f32}) portable {=u32:#010x} ({=f32})",
            c.kernel.name(),
            c.opt,
            c.rows,
            c.cols,
            c.k,
            f.what,
            f.index,
            f.kernel.to_bits(),
            f.kernel,
            f.portable.to_bits(),
            f.portable
        );
        if let Some(names) = c.kernel.lens_names() {
            defmt::error!(
                "slice lengths ({=str}): {=usize} {=usize} {=usize} {=usize}",
                names,
                c.lens[0],
                c.lens[1],
                c.lens[2],
                c.lens[3]
            );
        }
    }
    let ok = t.failed == 0 && total > 0;
    if ok {
        defmt::info!("all bit-identical");
    } else {
        defmt::error!(
            "{=u32} of {=u32} calls differ from the portable loops",
            t.failed,
            total
        );
    }
    halt::exit(ok)
}
