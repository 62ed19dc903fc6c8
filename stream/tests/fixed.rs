//! The stream scenario (a 9-16-3 model learning online from accelerometer windows, with a
//! regime change) on the fixed-point path (`microtrain::fixed::FixedTrainer`) next to
//! the float path, over a sweep of seeds: the same windows, features and labels reach
//! both models; both must pass the scenario's bounds (80 % before the change, a drop of
//! at least 20 points right after it, 80 % at the end), and their accuracies before the
//! change and at the end, averaged over the seeds, must be within 1 point.
//!
//! `cargo test -p microtrain-stream --release --test fixed -- --nocapture` prints them.

use microtrain::fixed::{FixedBuffers, FixedTrainer};
use microtrain::Target;
use microtrain_stream::metrics::RECENT;
use microtrain_stream::model::{LAYERS, LOSS, OPTIMIZER};
use microtrain_stream::scenario::{Scenario, AFTER_WINDOWS};
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{Accelerometer, App, Bounds, Config, Learner, EMPTY_STORAGE};

/// Accuracy in percent of the windows `range` of `correct`.
fn pct(correct: &[bool], range: std::ops::Range<usize>) -> f64 {
    let w = &correct[range];
    100.0 * w.iter().filter(|c| **c).count() as f64 / w.len() as f64
}

/// `(before, after the change, end)` accuracies of the float and the fixed-point model.
fn run(seed: u64) -> ([f64; 3], [f64; 3]) {
    let cfg = Config {
        seed,
        ..Config::DEFAULT
    };
    let mut sim = Scenario::simulated_source(&cfg);
    let mut s = EMPTY_STORAGE;
    let mut app = App::new(Learner::new(&mut s, seed).unwrap(), FULL_SCALE_G);

    let p = microtrain::shape::params_len(&LAYERS);
    let (mut params, mut grads) = (vec![0; p], vec![0; 0]);
    let mut state = vec![0; 2 * p];
    let mut acts = vec![0; microtrain::fixed::activations_len(&LAYERS)];
    let buffers = FixedBuffers {
        params: &mut params,
        grads: &mut grads,
        state: &mut state,
        acts: &mut acts,
    };
    let mut fixed = FixedTrainer::new(&LAYERS, buffers, OPTIMIZER, LOSS).unwrap();
    fixed.init_params(seed);

    let (mut float_ok, mut fixed_ok) = (Vec::new(), Vec::new());
    for w in 0..cfg.windows {
        sim.begin_window(w);
        let mut reads = 0;
        while !app.push(sim.read()) {
            reads += 1;
            assert!(reads < 10_000, "window {w}: the sensor never filled it");
        }
        let x = app.current_features();
        let truth = sim.truth();
        let label = (w % cfg.label_every == 0).then_some(truth);
        // The fixed-point model: predict the unseen window, then learn it if labelled.
        fixed_ok.push(fixed.predict_class(&x).unwrap() == truth);
        if let Some(l) = label {
            fixed.train_sample(&x, Target::Class(l)).unwrap();
        }
        let out = app.finish_window(label, Some(truth)).unwrap();
        float_ok.push(out.correct == Some(true));
    }
    let c = cfg.change_at as usize;
    let n = cfg.windows as usize;
    let a = AFTER_WINDOWS as usize;
    let three = |v: &[bool]| [pct(v, c - RECENT..c), pct(v, c..c + a), pct(v, n - RECENT..n)];
    (three(&float_ok), three(&fixed_ok))
}

#[test]
fn stream_scenario_fixed_point_within_one_point_of_float_same_verdicts() {
    let b = Bounds::DEFAULT;
    let seeds = 1..=8u64;
    let count = seeds.clone().count() as f64;
    let (mut sf, mut sq) = ([0.0; 3], [0.0; 3]);
    for seed in seeds {
        let (f, q) = run(seed);
        println!(
            "seed {seed}: float before {:.0} % after {:.0} % end {:.0} %; fixed before {:.0} % after {:.0} % end {:.0} %",
            f[0], f[1], f[2], q[0], q[1], q[2]
        );
        for (name, v) in [("float", f), ("fixed", q)] {
            let verdict = v[0] >= f64::from(b.min_before_pct)
                && v[1] + f64::from(b.min_drop_pct) <= v[0]
                && v[2] >= f64::from(b.min_end_pct);
            assert!(
                verdict,
                "seed {seed}: the {name} model misses the scenario's bounds: {v:?}"
            );
        }
        for i in 0..3 {
            sf[i] += f[i] / count;
            sq[i] += q[i] / count;
        }
    }
    println!("mean over the seeds: float {sf:.2?}, fixed {sq:.2?}");
    assert!(
        (sf[0] - sq[0]).abs() <= 1.0,
        "before the change: float {} vs fixed {}",
        sf[0],
        sq[0]
    );
    assert!(
        (sf[2] - sq[2]).abs() <= 1.0,
        "at the end: float {} vs fixed {}",
        sf[2],
        sq[2]
    );
}
