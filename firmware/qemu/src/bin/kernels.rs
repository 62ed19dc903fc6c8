//! Self-test of the FPU assembly kernels, for `firmware/run-tests` on mps2-an386
//! (Cortex-M4F): the dense-layer kernels of `microtrain::kernels` (`affine`, `outer_acc`,
//! `transposed`, `outer_acc_and_back`; `core/src/kernels/vfp.rs`) and the Adam and
//! plain-SGD `Optimizer::update_outer` and `step` (`core/src/optim/vfp.rs`), against the
//! portable Rust arithmetic they stand for, bit for bit (`to_bits`).
//!
//! Every shape of 1 to 9 rows and 1 to 17 columns and a few larger ones, random data in
//! [-2, 2] with exact zeros, negative zeros, tiny values and subnormals mixed in (a fixed
//! seed, so every run checks the same cases). The references, written here:
//!
//! - `affine`: `out[i] = dot(W[i, :], x) + b[i]` with the portable `kernels::dot`;
//! - `outer_acc`: `gw[i, j] += d[i] * x[j]`, `gb[i] += d[i]`, three samples accumulated;
//! - `transposed`: `s[j] = sum of W[i, j] * d[i]` over the rows in order, from zero;
//!   `outer_acc_and_back`: both of the last two;
//! - `update_outer` (without and with a gradient buffer, which must then hold
//!   `d[i] * x[j]`): `Optimizer::update` row by row with the gradient `d[i] * x[j]`, for
//!   steps k = 1, 2, 10, 1000 in a row on the same state; the bias form (`d = [1]`,
//!   `x = delta`) against `update` with `delta`; `step` against `update` on the slice.
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
use microtrain::kernels::{affine, dot, outer_acc, outer_acc_and_back, transposed};
use microtrain::{Adam, AnyOptimizer, Optimizer, Rng, Sgd};

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

fn shapes() -> impl Iterator<Item = (usize, usize)> {
    (1..=9usize)
        .flat_map(|r| (1..=17usize).map(move |c| (r, c)))
        .chain(EXTRA)
}

/// What a case calls.
#[derive(Clone, Copy)]
enum Kernel {
    Affine,
    OuterAcc,
    Transposed,
    OuterAccAndBack,
    UpdateOuter,
    UpdateOuterBias,
    Step,
}

impl Kernel {
    const ALL: [Kernel; 7] = [
        Kernel::Affine,
        Kernel::OuterAcc,
        Kernel::Transposed,
        Kernel::OuterAccAndBack,
        Kernel::UpdateOuter,
        Kernel::UpdateOuterBias,
        Kernel::Step,
    ];

    fn name(self) -> &'static str {
        match self {
            Kernel::Affine => "affine",
            Kernel::OuterAcc => "outer_acc",
            Kernel::Transposed => "transposed",
            Kernel::OuterAccAndBack => "outer_acc_and_back",
            Kernel::UpdateOuter => "update_outer",
            Kernel::UpdateOuterBias => "update_outer (bias form)",
            Kernel::Step => "step",
        }
    }
}

/// One kernel call: what, with which optimizer ("-" for none), shape and step (0 for none).
#[derive(Clone, Copy)]
struct Case {
    kernel: Kernel,
    opt: &'static str,
    rows: usize,
    cols: usize,
    k: u32,
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
    cases: [u32; 7],
    /// Floats compared.
    values: u32,
    /// Calls with at least one differing float.
    failed: u32,
    first: Option<Mismatch>,
}

impl Tally {
    /// Counts one call and compares its outputs `(name, kernel's, portable)` bit for bit.
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

fn check_affine(t: &mut Tally, rng: &mut Rng, b: &mut Bufs, rows: usize, cols: usize) {
    let n = rows * cols;
    fill(rng, &mut b.w[..n]);
    fill(rng, &mut b.bias[..rows]);
    fill(rng, &mut b.x[..cols]);
    b.out.fill(rng, rows + GUARD);
    let (w, bias, x) = (&b.w[..n], &b.bias[..rows], &b.x[..cols]);
    affine(w, bias, x, &mut b.out.kernel[..rows]);
    for ((o, row), bi) in b.out.portable.iter_mut().zip(w.chunks_exact(cols)).zip(bias) {
        *o = dot(row, x) + bi;
    }
    let case = Case {
        kernel: Kernel::Affine,
        opt: "-",
        rows,
        cols,
        k: 0,
    };
    let m = rows + GUARD;
    t.check(case, &[("out", &b.out.kernel[..m], &b.out.portable[..m])]);
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
    };
    for _ in 0..3 {
        fill(rng, &mut b.d[..rows]);
        fill(rng, &mut b.x[..cols]);
        let (d, x) = (&b.d[..rows], &b.x[..cols]);
        outer_acc(&mut b.gw.kernel[..n], &mut b.gb.kernel[..rows], d, x);
        let rows_ref = b.gw.portable[..n]
            .chunks_exact_mut(cols)
            .zip(&mut b.gb.portable[..rows])
            .zip(d);
        for ((row, gbi), di) in rows_ref {
            for (g, xj) in row.iter_mut().zip(x) {
                *g += di * xj;
            }
            *gbi += di;
        }
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
    transposed_ref(w, d, &mut b.out.portable[..cols]);
    let case = Case {
        kernel: Kernel::Transposed,
        opt: "-",
        rows,
        cols,
        k: 0,
    };
    let m = cols + GUARD;
    t.check(case, &[("s", &b.out.kernel[..m], &b.out.portable[..m])]);
}

fn transposed_ref(w: &[f32], d: &[f32], s: &mut [f32]) {
    s.iter_mut().for_each(|v| *v = 0.0);
    for (w_row, di) in w.chunks_exact(s.len()).zip(d) {
        for (sj, wij) in s.iter_mut().zip(w_row) {
            *sj += wij * di;
        }
    }
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
    let rows_ref = b.gw.portable[..n]
        .chunks_exact_mut(cols)
        .zip(&mut b.gb.portable[..rows])
        .zip(d);
    for ((row, gbi), di) in rows_ref {
        for (g, xj) in row.iter_mut().zip(x) {
            *g += di * xj;
        }
        *gbi += di;
    }
    transposed_ref(w, d, &mut b.out.portable[..cols]);
    let case = Case {
        kernel: Kernel::OuterAccAndBack,
        opt: "-",
        rows,
        cols,
        k: 0,
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

/// `update_outer` (without and with a gradient buffer), its bias form and `step` of
/// `opt` against `update`, for the steps in `STEPS` one after the other.
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
        t.check(
            case(Kernel::UpdateOuter),
            &[
                ("params", &p.kernel[..m], &p.portable[..m]),
                ("state", &s.kernel[..ms], &s.portable[..ms]),
            ],
        );
        t.check(
            case(Kernel::UpdateOuter),
            &[
                ("params (grads stored)", &p.stored[..m], &p.portable[..m]),
                ("state (grads stored)", &s.stored[..ms], &s.portable[..ms]),
                ("grads", &b.grads.kernel[..m], &b.grads.portable[..m]),
            ],
        );
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
        t.check(
            case(Kernel::UpdateOuterBias),
            &[
                ("params", &p.kernel[..mb], &p.portable[..mb]),
                ("state", &s.kernel[..msb], &s.portable[..msb]),
            ],
        );
        t.check(
            case(Kernel::UpdateOuterBias),
            &[
                ("params (grads stored)", &p.stored[..mb], &p.portable[..mb]),
                ("state (grads stored)", &s.stored[..msb], &s.portable[..msb]),
                ("grads", &b.grads.kernel[..mb], &b.grads.portable[..mb]),
            ],
        );
        p.sync(m);
        s.sync(ms);
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
    let mut t = Tally::default();
    let mut shape_count = 0u32;
    for (rows, cols) in shapes() {
        shape_count += 1;
        let b = &mut *BUFS;
        let r = &mut rng;
        for _ in 0..3 {
            check_affine(&mut t, r, b, rows, cols);
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

    let mut total = 0u32;
    for kernel in Kernel::ALL {
        let n = t.cases[kernel as usize];
        total += n;
        defmt::info!("{=str}: {=u32} calls", kernel.name(), n);
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
