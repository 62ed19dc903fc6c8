//! Every optimizer against a reference written out here from its documented update rule
//! (`torch.optim`'s, see `tests/conformance/FORMAT.md`), computed in `f64` independently
//! of the crate's `f32` code, on three parameters over two (RAdam: six) steps.
//!
//! Hyperparameters are chosen so that each term matters: `eps` is large enough that
//! putting it inside instead of outside a square root changes the result far beyond
//! the tolerance, gradients change sign between steps, and so on.
//!
//! Also: hyperparameter validation (the error names the field) and the four learning
//! rate schedules.

use microtrain::{
    Activation, AdamW, ConfigError, Dense, Loss, Optimizer, RAdam, RMSprop, Schedule, Sgd, Trainer,
};
use microtrain::{Adadelta, Adagrad, Adam, Buffers};

const P0: [f32; 3] = [0.5, -1.0, 2.0];
const G1: [f32; 3] = [0.1, -0.2, 0.3];
const G2: [f32; 3] = [-0.05, 0.4, 0.1];

/// `f64` of an `f32` hyperparameter (the value the implementation really has).
fn d(x: f32) -> f64 {
    f64::from(x)
}

/// Runs `opt` from `P0` over the gradients `gs` at a constant `lr`, returning the
/// parameters after every step and the final state.
fn run<O: Optimizer>(opt: &O, gs: &[[f32; 3]], lr: f32) -> (Vec<[f32; 3]>, Vec<f32>) {
    let mut p = P0;
    let mut state = vec![0.0f32; 3 * opt.state_per_param()];
    opt.init_state(&mut state);
    let mut after = Vec::new();
    for (i, g) in gs.iter().enumerate() {
        opt.step(&mut p, g, &mut state, f64::from(lr), i as u32 + 1);
        after.push(p);
    }
    (after, state)
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(*g) - w).abs();
        assert!(
            err <= 2e-6 + 2e-6 * w.abs(),
            "{what}[{i}]: got {g}, reference {w} (error {err:.3e})"
        );
    }
}

/// `g + wd * p`, the L2 term every optimizer but AdamW adds to the gradient.
fn l2(g: f32, wd: f64, p: f64) -> f64 {
    d(g) + wd * p
}

// ---------------------------------------------------------------- SGD

/// Reference SGD: `b_1 = g_1`, `b_k = mu b_{k-1} + (1 - damp) g_k`;
/// `p -= lr * b` (classical) or `p -= lr * (g + mu b)` (Nesterov); plain: `p -= lr g`.
fn sgd_ref(lr: f64, mu: f64, damp: f64, nesterov: bool, wd: f64, gs: &[[f32; 3]]) -> Vec<[f64; 3]> {
    let mut p = P0.map(d);
    let mut b = [0.0f64; 3];
    let mut out = Vec::new();
    for (k, g) in gs.iter().enumerate() {
        for i in 0..3 {
            let gi = l2(g[i], wd, p[i]);
            if mu == 0.0 {
                p[i] -= lr * gi;
                continue;
            }
            b[i] = if k == 0 { gi } else { mu * b[i] + (1.0 - damp) * gi };
            let dir = if nesterov { gi + mu * b[i] } else { b[i] };
            p[i] -= lr * dir;
        }
        out.push(p);
    }
    out
}

fn check_sgd(opt: Sgd) {
    let (got, state) = run(&opt, &[G1, G2], opt.lr);
    let want = sgd_ref(
        d(opt.lr),
        d(opt.momentum),
        d(opt.dampening),
        opt.nesterov,
        d(opt.weight_decay),
        &[G1, G2],
    );
    assert_close(&got[0], &want[0], "step 1");
    assert_close(&got[1], &want[1], "step 2");
    assert_eq!(state.len(), if opt.momentum == 0.0 { 0 } else { 3 });
}

#[test]
fn sgd_plain() {
    check_sgd(Sgd::new(0.1));
    // By hand: p1 = 0.5 - 0.1 * 0.1 = 0.49, p2 = 0.49 - 0.1 * -0.05 = 0.495.
    let (got, _) = run(&Sgd::new(0.1), &[G1, G2], 0.1);
    assert_close(&got[1][..1], &[0.495], "by hand");
}

#[test]
fn sgd_weight_decay() {
    check_sgd(Sgd {
        weight_decay: 0.1,
        ..Sgd::new(0.1)
    });
}

#[test]
fn sgd_momentum() {
    check_sgd(Sgd::momentum(0.1, 0.9));
    // By hand, parameter 0: b1 = 0.1, p1 = 0.49; b2 = 0.9 * 0.1 - 0.05 = 0.04,
    // p2 = 0.49 - 0.1 * 0.04 = 0.486.
    let (got, _) = run(&Sgd::momentum(0.1, 0.9), &[G1, G2], 0.1);
    assert_close(&got[1][..1], &[0.486], "by hand");
}

#[test]
fn sgd_momentum_dampening_weight_decay() {
    check_sgd(Sgd {
        dampening: 0.3,
        weight_decay: 0.05,
        ..Sgd::momentum(0.2, 0.8)
    });
}

#[test]
fn sgd_nesterov() {
    check_sgd(Sgd::nesterov(0.1, 0.9));
    check_sgd(Sgd {
        weight_decay: 0.05,
        ..Sgd::nesterov(0.05, 0.5)
    });
    // Nesterov and classical momentum differ.
    let (n, _) = run(&Sgd::nesterov(0.1, 0.9), &[G1, G2], 0.1);
    let (c, _) = run(&Sgd::momentum(0.1, 0.9), &[G1, G2], 0.1);
    assert_ne!(n[1], c[1]);
}

// ---------------------------------------------------------------- Adagrad

/// Reference Adagrad: `clr = lr / (1 + (k-1) lr_decay)`, `s += g^2`,
/// `p -= clr * g / (sqrt(s) + eps)`, `s_0 = initial_accumulator_value`.
#[test]
fn adagrad_lr_decay_initial_accumulator_weight_decay() {
    let opt = Adagrad {
        lr: 0.1,
        lr_decay: 0.5,
        weight_decay: 0.05,
        initial_accumulator_value: 0.2,
        eps: 1e-3,
    };
    let (got, state) = run(&opt, &[G1, G2], opt.lr);
    let mut p = P0.map(d);
    let mut s = [d(opt.initial_accumulator_value); 3];
    for (k, g) in [G1, G2].iter().enumerate() {
        let clr = d(opt.lr) / (1.0 + k as f64 * d(opt.lr_decay));
        for i in 0..3 {
            let gi = l2(g[i], d(opt.weight_decay), p[i]);
            s[i] += gi * gi;
            p[i] -= clr * gi / (s[i].sqrt() + d(opt.eps));
        }
        assert_close(&got[k], &p, &format!("step {}", k + 1));
    }
    assert_close(&state, &s, "sum of squares");
}

#[test]
fn adagrad_initial_accumulator_is_the_starting_state() {
    let opt = Adagrad {
        initial_accumulator_value: 0.7,
        ..Adagrad::new(0.1)
    };
    let mut state = [0.0f32; 3];
    opt.init_state(&mut state);
    assert_eq!(state, [0.7; 3]);
}

// ---------------------------------------------------------------- Adadelta

/// Reference Adadelta: `v = rho v + (1-rho) g^2`, `dx = sqrt(u + eps) / sqrt(v + eps) * g`,
/// `u = rho u + (1-rho) dx^2`, `p -= lr dx`.
#[test]
fn adadelta_with_weight_decay() {
    let opt = Adadelta {
        lr: 0.5,
        rho: 0.8,
        eps: 1e-3,
        weight_decay: 0.05,
    };
    let (got, state) = run(&opt, &[G1, G2], opt.lr);
    let (rho, eps) = (d(opt.rho), d(opt.eps));
    let mut p = P0.map(d);
    let (mut v, mut u) = ([0.0f64; 3], [0.0f64; 3]);
    for (k, g) in [G1, G2].iter().enumerate() {
        for i in 0..3 {
            let gi = l2(g[i], d(opt.weight_decay), p[i]);
            v[i] = rho * v[i] + (1.0 - rho) * gi * gi;
            let dx = (u[i] + eps).sqrt() / (v[i] + eps).sqrt() * gi;
            u[i] = rho * u[i] + (1.0 - rho) * dx * dx;
            p[i] -= d(opt.lr) * dx;
        }
        assert_close(&got[k], &p, &format!("step {}", k + 1));
    }
    let interleaved: Vec<f64> = (0..3).flat_map(|i| [v[i], u[i]]).collect();
    assert_close(&state, &interleaved, "state [v, u] per parameter");
}

// ---------------------------------------------------------------- RMSprop

/// Reference RMSprop: `v = a v + (1-a) g^2`; centered: `m = a m + (1-a) g`,
/// `den = sqrt(v - m^2) + eps`, else `den = sqrt(v) + eps`; momentum:
/// `b = mu b + g / den`, `p -= lr b`; else `p -= lr g / den`.
fn rmsprop_ref(opt: &RMSprop, gs: &[[f32; 3]]) -> Vec<[f64; 3]> {
    let (a, eps, mu) = (d(opt.alpha), d(opt.eps), d(opt.momentum));
    let mut p = P0.map(d);
    let (mut v, mut m, mut b) = ([0.0f64; 3], [0.0f64; 3], [0.0f64; 3]);
    let mut out = Vec::new();
    for g in gs {
        for i in 0..3 {
            let gi = l2(g[i], d(opt.weight_decay), p[i]);
            v[i] = a * v[i] + (1.0 - a) * gi * gi;
            let den = if opt.centered {
                m[i] = a * m[i] + (1.0 - a) * gi;
                (v[i] - m[i] * m[i]).sqrt() + eps
            } else {
                v[i].sqrt() + eps
            };
            if mu > 0.0 {
                b[i] = mu * b[i] + gi / den;
                p[i] -= d(opt.lr) * b[i];
            } else {
                p[i] -= d(opt.lr) * gi / den;
            }
        }
        out.push(p);
    }
    out
}

fn check_rmsprop(opt: RMSprop) {
    let (got, _) = run(&opt, &[G1, G2], opt.lr);
    let want = rmsprop_ref(&opt, &[G1, G2]);
    assert_close(&got[0], &want[0], "step 1");
    assert_close(&got[1], &want[1], "step 2");
}

#[test]
fn rmsprop_plain() {
    check_rmsprop(RMSprop {
        alpha: 0.9,
        eps: 1e-3,
        ..RMSprop::new(0.01)
    });
}

#[test]
fn rmsprop_centered_momentum_weight_decay() {
    let opt = RMSprop {
        lr: 0.01,
        alpha: 0.9,
        eps: 1e-3,
        weight_decay: 0.05,
        momentum: 0.5,
        centered: true,
    };
    check_rmsprop(opt);
    check_rmsprop(RMSprop { momentum: 0.0, ..opt });
    check_rmsprop(RMSprop {
        centered: false,
        ..opt
    });
}

// ---------------------------------------------------------------- Adam family

/// Reference Adam / AdamW: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
/// `vmax = max(vmax, v)` (AMSGrad), `p -= lr / (1 - b1^k) * m / (sqrt(v) / sqrt(1 - b2^k) + eps)`.
/// `decoupled`: `p *= 1 - lr wd` before the moments, and no L2 term.
#[allow(clippy::too_many_arguments)]
fn adam_ref(
    lr: f64,
    b1: f64,
    b2: f64,
    eps: f64,
    wd: f64,
    amsgrad: bool,
    decoupled: bool,
    gs: &[[f32; 3]],
) -> Vec<[f64; 3]> {
    let mut p = P0.map(d);
    let (mut m, mut v, mut vmax) = ([0.0f64; 3], [0.0f64; 3], [0.0f64; 3]);
    let mut out = Vec::new();
    for (k0, g) in gs.iter().enumerate() {
        let k = k0 as i32 + 1;
        for i in 0..3 {
            let gi = if decoupled {
                p[i] *= 1.0 - lr * wd;
                d(g[i])
            } else {
                l2(g[i], wd, p[i])
            };
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            vmax[i] = vmax[i].max(v[i]);
            let vu = if amsgrad { vmax[i] } else { v[i] };
            p[i] -= lr / (1.0 - b1.powi(k)) * m[i] / (vu.sqrt() / (1.0 - b2.powi(k)).sqrt() + eps);
        }
        out.push(p);
    }
    out
}

fn check_adam(opt: Adam, gs: &[[f32; 3]]) -> Vec<[f32; 3]> {
    let (got, _) = run(&opt, gs, opt.lr);
    let want = adam_ref(
        d(opt.lr),
        d(opt.beta1),
        d(opt.beta2),
        d(opt.eps),
        d(opt.weight_decay),
        opt.amsgrad,
        false,
        gs,
    );
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(g, w, &format!("step {}", k + 1));
    }
    got
}

#[test]
fn adam_with_weight_decay() {
    let opt = Adam {
        lr: 0.1,
        beta1: 0.8,
        beta2: 0.9,
        eps: 1e-2,
        weight_decay: 0.05,
        amsgrad: false,
    };
    check_adam(opt, &[G1, G2]);
    // Step 1 by hand, parameter 0 without weight decay: m = 0.2 * 0.1, v = 0.1 * 0.01,
    // m_hat = 0.1, sqrt(v_hat) = 0.1, p = 0.5 - 0.1 * 0.1 / (0.1 + 0.01) = 0.4090909...
    let (got, _) = run(
        &Adam {
            weight_decay: 0.0,
            ..opt
        },
        &[G1],
        0.1,
    );
    assert_close(&got[0][..1], &[0.5 - 0.01 / 0.11], "by hand");
}

#[test]
fn adam_amsgrad_uses_the_running_maximum() {
    // beta2 = 0.5: v shrinks at step 2 for parameters 0 and 1 (|g2| well below |g1|),
    // so AMSGrad's max differs from v there.
    let gs = [[0.3, -0.4, 0.2], [0.05, -0.1, 0.25], [0.02, 0.01, -0.3]];
    let opt = Adam {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.5,
        eps: 1e-3,
        weight_decay: 0.0,
        amsgrad: true,
    };
    let ams = check_adam(opt, &gs);
    let plain = check_adam(
        Adam {
            amsgrad: false,
            ..opt
        },
        &gs,
    );
    assert_ne!(ams[1][0], plain[1][0], "AMSGrad must differ once v decreases");
    assert_eq!(ams[0], plain[0], "AMSGrad and Adam agree on the first step");
}

#[test]
fn adamw_decoupled_weight_decay() {
    let opt = AdamW {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.99,
        eps: 1e-3,
        weight_decay: 0.2,
        amsgrad: false,
    };
    let (got, _) = run(&opt, &[G1, G2], opt.lr);
    let want = adam_ref(
        0.1f32.into(),
        d(0.9),
        d(0.99),
        d(1e-3),
        d(0.2),
        false,
        true,
        &[G1, G2],
    );
    assert_close(&got[0], &want[0], "step 1");
    assert_close(&got[1], &want[1], "step 2");
    // The L2 (coupled) form gives something else.
    let coupled = adam_ref(d(0.1), d(0.9), d(0.99), d(1e-3), d(0.2), false, false, &[G1, G2]);
    assert!((coupled[1][2] - want[1][2]).abs() > 1e-3);
    // AdamW with AMSGrad, too.
    let ams = AdamW {
        amsgrad: true,
        beta2: 0.5,
        ..opt
    };
    let (got, _) = run(&ams, &[G1, G2], ams.lr);
    let want = adam_ref(d(0.1), d(0.9), d(0.5), d(1e-3), d(0.2), true, true, &[G1, G2]);
    assert_close(&got[1], &want[1], "amsgrad step 2");
}

// ---------------------------------------------------------------- RAdam

/// `rho_k = rho_inf - 2 k b2^k / (1 - b2^k)` with `rho_inf = 2 / (1 - b2) - 1`.
fn rho(b2: f64, k: i32) -> (f64, f64) {
    let rho_inf = 2.0 / (1.0 - b2) - 1.0;
    let b2k = b2.powi(k);
    (rho_inf, rho_inf - 2.0 * f64::from(k) * b2k / (1.0 - b2k))
}

#[test]
fn radam_rectifies_from_step_6_with_beta2_0_999() {
    let opt = RAdam {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-3,
        weight_decay: 0.05,
    };
    let b2 = d(opt.beta2);
    let (rho_inf, rho5) = rho(b2, 5);
    let (_, rho6) = rho(b2, 6);
    assert!(rho5 <= 5.0 && rho6 > 5.0, "rho_5 = {rho5}, rho_6 = {rho6}");
    assert_eq!(opt.rectification(5), None);
    let r6 = ((rho6 - 4.0) * (rho6 - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho6)).sqrt();
    let got_r6 = opt.rectification(6).expect("step 6 is rectified");
    assert!((got_r6 - r6).abs() < 1e-9 * r6, "r_6 = {got_r6}, reference {r6}");

    // Six steps: 1..=5 are `p -= lr m_hat`, step 6 is
    // `p -= lr m_hat r_6 sqrt(1 - b2^6) / (sqrt(v) + eps)`.
    let gs = [G1, G2, G1, G2, [0.2, 0.1, -0.3], [-0.1, 0.3, 0.2]];
    let (got, _) = run(&opt, &gs, opt.lr);
    let (lr, b1, eps, wd) = (d(opt.lr), d(opt.beta1), d(opt.eps), d(opt.weight_decay));
    let mut p = P0.map(d);
    let (mut m, mut v) = ([0.0f64; 3], [0.0f64; 3]);
    for (k0, g) in gs.iter().enumerate() {
        let k = k0 as i32 + 1;
        let (_, rho_k) = rho(b2, k);
        for i in 0..3 {
            let gi = l2(g[i], wd, p[i]);
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            let m_hat = m[i] / (1.0 - b1.powi(k));
            if rho_k > 5.0 {
                let r = ((rho_k - 4.0) * (rho_k - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_k))
                    .sqrt();
                p[i] -= lr * m_hat * r * (1.0 - b2.powi(k)).sqrt() / (v[i].sqrt() + eps);
            } else {
                p[i] -= lr * m_hat;
            }
        }
        assert_close(&got[k0], &p, &format!("step {k}"));
    }
}

// ---------------------------------------------------------------- validation

fn field<O: Optimizer>(opt: O) -> &'static str {
    match opt.validate() {
        Err(e) => e.name,
        Ok(()) => panic!("accepted an invalid optimizer"),
    }
}

#[test]
fn negative_or_non_finite_lr_is_rejected_by_every_optimizer() {
    for lr in [-0.1, f32::NAN, f32::INFINITY] {
        assert_eq!(field(Sgd::new(lr)), "lr");
        assert_eq!(field(Adagrad::new(lr)), "lr");
        assert_eq!(field(Adadelta::new(lr)), "lr");
        assert_eq!(field(RMSprop::new(lr)), "lr");
        assert_eq!(field(Adam::new(lr)), "lr");
        assert_eq!(field(AdamW::new(lr)), "lr");
        assert_eq!(field(RAdam::new(lr)), "lr");
    }
    // lr = 0 is allowed (PyTorch allows it).
    assert!(Sgd::new(0.0).validate().is_ok());
}

#[test]
fn betas_must_be_below_one() {
    for b in [1.0, 1.5, -0.1] {
        assert_eq!(
            field(Adam {
                beta1: b,
                ..Adam::new(0.1)
            }),
            "beta1"
        );
        assert_eq!(
            field(Adam {
                beta2: b,
                ..Adam::new(0.1)
            }),
            "beta2"
        );
        assert_eq!(
            field(AdamW {
                beta1: b,
                ..AdamW::new(0.1)
            }),
            "beta1"
        );
        assert_eq!(
            field(AdamW {
                beta2: b,
                ..AdamW::new(0.1)
            }),
            "beta2"
        );
        assert_eq!(
            field(RAdam {
                beta1: b,
                ..RAdam::new(0.1)
            }),
            "beta1"
        );
        assert_eq!(
            field(RAdam {
                beta2: b,
                ..RAdam::new(0.1)
            }),
            "beta2"
        );
    }
    assert!(Adam {
        beta1: 0.0,
        ..Adam::new(0.1)
    }
    .validate()
    .is_ok());
}

#[test]
fn nesterov_needs_momentum_and_no_dampening() {
    let no_momentum = Sgd {
        nesterov: true,
        ..Sgd::new(0.1)
    };
    assert_eq!(field(no_momentum), "momentum");
    let damped = Sgd {
        dampening: 0.1,
        ..Sgd::nesterov(0.1, 0.9)
    };
    assert_eq!(field(damped), "dampening");
    assert!(Sgd::nesterov(0.1, 0.9).validate().is_ok());
}

#[test]
fn other_hyperparameters_name_their_field() {
    assert_eq!(field(Sgd::momentum(0.1, -0.5)), "momentum");
    assert_eq!(
        field(Sgd {
            weight_decay: -1.0,
            ..Sgd::new(0.1)
        }),
        "weight_decay"
    );
    assert_eq!(
        field(Adagrad {
            lr_decay: -1.0,
            ..Adagrad::new(0.1)
        }),
        "lr_decay"
    );
    let iav = Adagrad {
        initial_accumulator_value: -1.0,
        ..Adagrad::new(0.1)
    };
    assert_eq!(field(iav), "initial_accumulator_value");
    assert_eq!(
        field(Adagrad {
            eps: -1.0,
            ..Adagrad::new(0.1)
        }),
        "eps"
    );
    assert_eq!(
        field(Adadelta {
            rho: 1.5,
            ..Adadelta::new(1.0)
        }),
        "rho"
    );
    assert_eq!(
        field(RMSprop {
            alpha: -0.1,
            ..RMSprop::new(0.1)
        }),
        "alpha"
    );
    assert_eq!(
        field(RMSprop {
            momentum: -0.1,
            ..RMSprop::new(0.1)
        }),
        "momentum"
    );
    assert_eq!(
        field(Adam {
            eps: f32::NAN,
            ..Adam::new(0.1)
        }),
        "eps"
    );
    assert_eq!(
        field(AdamW {
            weight_decay: -0.1,
            ..AdamW::new(0.1)
        }),
        "weight_decay"
    );
}

#[test]
fn trainer_new_reports_the_bad_hyperparameter() {
    let layers = [Dense::new(2, 1, Activation::Identity)];
    let (mut p, mut g, mut s, mut a) = ([0.0f32; 3], [0.0f32; 3], [0.0f32; 6], [0.0f32; 2]);
    let buffers = Buffers {
        params: &mut p,
        grads: &mut g,
        state: &mut s,
        acts: &mut a,
        frozen: &[],
    };
    let bad = Adam {
        beta2: 1.0,
        ..Adam::new(0.1)
    };
    match Trainer::new(&layers, buffers, bad, Loss::Mse) {
        Err(ConfigError::Hyperparameter(e)) => {
            assert_eq!(e.name, "beta2");
            assert_eq!(e.value, 1.0);
            assert!(e.to_string().contains("beta2"), "{e}");
        }
        other => panic!("expected a hyperparameter error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- schedules

#[test]
fn schedule_formulas() {
    let lr = 0.1f32;
    let base = d(lr);
    let close = |got: f64, want: f64| assert!((got - want).abs() <= 1e-12 * want.abs(), "{got} vs {want}");
    for t in [0u32, 1, 2, 3, 5, 10, 100] {
        let tf = f64::from(t);
        close(Schedule::Constant.lr_at(lr, t), base);
        close(
            Schedule::Exponential { gamma: 0.9 }.lr_at(lr, t),
            base * d(0.9).powf(tf),
        );
        close(
            Schedule::Step {
                step_size: 3,
                gamma: 0.5,
            }
            .lr_at(lr, t),
            base * 0.5f64.powi((t / 3) as i32),
        );
        close(
            Schedule::InverseTime { decay: 0.25 }.lr_at(lr, t),
            base / (1.0 + 0.25 * tf),
        );
    }
    // A few values by hand.
    close(Schedule::Exponential { gamma: 0.5 }.lr_at(1.0, 3), 0.125);
    let step = Schedule::Step {
        step_size: 2,
        gamma: 0.1,
    };
    close(step.lr_at(1.0, 1), 1.0);
    close(step.lr_at(1.0, 2), d(0.1));
    close(step.lr_at(1.0, 5), d(0.1) * d(0.1));
    close(Schedule::InverseTime { decay: 1.0 }.lr_at(1.0, 3), 0.25);
}

#[test]
fn schedule_validation_names_the_field() {
    let name = |s: Schedule| s.validate().map_err(|e| e.name);
    assert_eq!(name(Schedule::Exponential { gamma: 0.0 }), Err("gamma"));
    assert_eq!(name(Schedule::Exponential { gamma: f32::NAN }), Err("gamma"));
    assert_eq!(
        name(Schedule::Step {
            step_size: 0,
            gamma: 0.5
        }),
        Err("step_size")
    );
    assert_eq!(
        name(Schedule::Step {
            step_size: 2,
            gamma: -0.5
        }),
        Err("gamma")
    );
    assert_eq!(name(Schedule::InverseTime { decay: -1.0 }), Err("decay"));
    assert_eq!(name(Schedule::InverseTime { decay: 0.0 }), Ok(()));
}

#[test]
fn trainer_follows_its_schedule_and_adagrad_decay_stacks_on_it() {
    // One weight, no bias term in the data: y = w x with x = 1, MSE against 0, so the
    // gradient is 2 w. Adagrad with lr_decay: lr_t / (1 + (k-1) lr_decay), as PyTorch.
    let layers = [Dense::new(1, 1, Activation::Identity)];
    let (mut p, mut g, mut s, mut a) = ([0.0f32; 2], [0.0f32; 2], [0.0f32; 2], [0.0f32; 2]);
    let buffers = Buffers {
        params: &mut p,
        grads: &mut g,
        state: &mut s,
        acts: &mut a,
        frozen: &[],
    };
    let opt = Adagrad {
        lr_decay: 0.5,
        ..Adagrad::new(0.1)
    };
    let mut t = Trainer::new(&layers, buffers, opt, Loss::Mse).expect("valid");
    t.set_schedule(Schedule::Exponential { gamma: 0.5 })
        .expect("valid");
    t.load_params(&[1.0, 0.0]).expect("valid");
    let mut w = 1.0f64;
    let mut bias = 0.0f64;
    let (mut sw, mut sb) = (0.0f64, 0.0f64);
    for k in 1..=3u32 {
        assert!((t.current_lr() - d(0.1) * 0.5f64.powi(k as i32 - 1)).abs() < 1e-12);
        t.train_sample(&[1.0], microtrain::Target::Values(&[0.0]))
            .expect("finite");
        // d/dw (w + b)^2 = 2 (w + b), same for b.
        let grad = 2.0 * (w + bias);
        let clr = d(0.1) * 0.5f64.powi(k as i32 - 1) / (1.0 + f64::from(k - 1) * 0.5);
        sw += grad * grad;
        sb += grad * grad;
        w -= clr * grad / (sw.sqrt() + 1e-10);
        bias -= clr * grad / (sb.sqrt() + 1e-10);
        assert_close(t.params(), &[w, bias], &format!("step {k}"));
    }
    assert_eq!(t.step_count(), 3);
}

/// A constant schedule takes the `f32` path (`scalars_f32`), any other the `f64` one; an
/// exponential schedule with `gamma = 1` has the same rates, so training with either
/// must give the same bits, on single samples (fused step) and on batches.
#[test]
fn constant_schedule_path_gives_the_same_bits_as_the_general_one() {
    let layers = [
        Dense::new(3, 5, Activation::Relu),
        Dense::new(5, 2, Activation::Identity),
    ];
    let p = microtrain::shape::params_len(&layers);
    let a = microtrain::shape::activations_len(&layers);
    let opts: Vec<microtrain::AnyOptimizer> = vec![
        Adam::new(0.01).into(),
        Sgd::new(0.05).into(),
        Sgd {
            momentum: 0.9,
            ..Sgd::new(0.05)
        }
        .into(),
        AdamW::new(0.01).into(),
        RAdam::new(0.01).into(),
        RMSprop::new(0.01).into(),
        Adadelta::new(1.0).into(),
    ];
    for opt in opts {
        let mut results = Vec::new();
        for schedule in [Schedule::Constant, Schedule::Exponential { gamma: 1.0 }] {
            let (mut pp, mut gg) = (vec![0.0f32; p], vec![0.0f32; p]);
            let mut ss = vec![0.0f32; p * opt.state_per_param()];
            let mut aa = vec![0.0f32; a];
            let buffers = Buffers {
                params: &mut pp,
                grads: &mut gg,
                state: &mut ss,
                acts: &mut aa,
                frozen: &[],
            };
            let mut t = Trainer::new(&layers, buffers, opt, Loss::SoftmaxCrossEntropy).expect("valid");
            t.set_schedule(schedule).expect("valid");
            t.init_params(5);
            let xs = [[0.5f32, -1.0, 2.0], [1.5, 0.25, -0.75], [-0.3, 0.9, 0.1]];
            for step in 0..40usize {
                let x = xs[step % 3];
                let label = step % 2;
                if step % 5 == 4 {
                    let rows = [xs[0], xs[1]].concat();
                    let data = microtrain::Dataset::new(&rows, 3, microtrain::Targets::Classes(&[0, 1]))
                        .expect("valid");
                    t.train_batch(&data).expect("finite");
                } else {
                    t.train_sample(&x, microtrain::Target::Class(label))
                        .expect("finite");
                }
            }
            results.push((t.params().to_vec(), t.state().to_vec()));
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&results[0].0), bits(&results[1].0), "{opt:?} params");
        assert_eq!(bits(&results[0].1), bits(&results[1].1), "{opt:?} state");
    }
}
