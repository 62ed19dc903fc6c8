//! The simulated scenario, run the same way by the simulator and by the QEMU firmware:
//! the stream of [`SimAccelerometer`] through the [`App`], the regime change halfway,
//! the phase accuracies, the verdict and the weights checksum.

use crate::app::{App, WindowOutcome};
use crate::checksum::weights_checksum;
use crate::config::Config;
use crate::metrics::{Accuracy, RECENT};
use crate::sensor::Accelerometer;
use crate::sim::SimAccelerometer;
use crate::validate::BadCounts;
use crate::window::WINDOW_LEN;
use microtrain::{Plan, StepError};

/// The scenario's application: the demo's windows, a model with plan `P`.
pub type Demo<'a, P> = App<'a, WINDOW_LEN, WINDOW_LEN, P>;

/// Windows right after the change over which the drop is measured.
pub const AFTER_WINDOWS: u32 = 20;

/// Reads allowed per window before the sensor is declared dead.
pub const MAX_READS_PER_WINDOW: usize = 8 * WINDOW_LEN;

/// The seed of the simulated stream for a run seed (the model's weights use the run
/// seed itself).
pub fn stream_seed(seed: u64) -> u64 {
    seed ^ 0x5EED_0F5E_A5A5_0001
}

/// Something worth logging during a run.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// A window was closed (every window; for plots).
    Window {
        /// Windows done.
        window: u32,
        /// What happened with it.
        outcome: crate::app::WindowOutcome,
        /// Accuracy over the last [`RECENT`] windows.
        recent: Accuracy,
    },
    /// Running metrics, every `log_every` windows.
    Progress {
        /// Windows done.
        window: u32,
        /// Accuracy over the last [`RECENT`] windows.
        recent: Accuracy,
        /// Mean training loss since the last progress event.
        mean_loss: f32,
        /// Rejected readings so far.
        bad: BadCounts,
    },
    /// The stream changed regime before this window.
    RegimeChange {
        /// First window of the new regime.
        window: u32,
    },
}

/// What a run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Report {
    /// Windows run.
    pub windows: u32,
    /// Optimizer steps taken (labelled windows).
    pub steps: u32,
    /// Windows predicted without a label.
    pub unlabelled: u32,
    /// Accuracy over the last [`RECENT`] windows before the change.
    pub before: Accuracy,
    /// Accuracy over the first [`AFTER_WINDOWS`] windows after the change.
    pub after_change: Accuracy,
    /// Accuracy over the last [`RECENT`] windows of the run.
    pub end: Accuracy,
    /// Accuracy over the whole run.
    pub overall: Accuracy,
    /// Rejected readings.
    pub bad: BadCounts,
    /// [`weights_checksum`] of the final parameters.
    pub checksum: u32,
}

/// The bounds a run must meet, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Bounds {
    /// Accuracy over the last [`RECENT`] windows before the change, at least.
    pub min_before_pct: u32,
    /// Accuracy over the first [`AFTER_WINDOWS`] windows after the change, at least
    /// this many points below the accuracy before it: the change hurt.
    pub min_drop_pct: u32,
    /// Accuracy over the last [`RECENT`] windows of the run, at least: the model
    /// recovered.
    pub min_end_pct: u32,
}

impl Bounds {
    /// 80 % before the change, a drop of at least 20 points right after it, 80 % at
    /// the end.
    pub const DEFAULT: Bounds = Bounds {
        min_before_pct: 80,
        min_drop_pct: 20,
        min_end_pct: 80,
    };
}

/// Which bound a run missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Miss {
    /// Accuracy before the change below `min_before`.
    Before,
    /// No drop of `min_drop` right after the change.
    NoDrop,
    /// Accuracy at the end below `min_end`.
    End,
}

impl Report {
    /// The verdict: every bound met, or the first one missed.
    pub fn check(&self, b: &Bounds) -> Result<(), Miss> {
        let before = self.before.percent();
        if before < b.min_before_pct {
            return Err(Miss::Before);
        }
        if self.after_change.percent().saturating_add(b.min_drop_pct) > before {
            return Err(Miss::NoDrop);
        }
        if self.end.percent() < b.min_end_pct {
            return Err(Miss::End);
        }
        Ok(())
    }
}

impl Report {
    /// The verdict of a run that started at window `start` of `cfg`'s scenario (a
    /// device resumed from a checkpoint: the windows before `start` were skipped, not
    /// scored). Only the phases it saw whole are checked: the accuracy before the
    /// change if it saw the [`RECENT`] windows before it, the drop if it also saw the
    /// change, the end if it saw the last [`RECENT`] windows. `start == 0` is
    /// [`check`](Self::check).
    pub fn check_from(&self, b: &Bounds, cfg: &Config, start: u32) -> Result<(), Miss> {
        if start == 0 {
            return self.check(b);
        }
        let recent = RECENT as u32;
        let saw_before = start.saturating_add(recent) <= cfg.change_at;
        let before = self.before.percent();
        if saw_before && before < b.min_before_pct {
            return Err(Miss::Before);
        }
        if saw_before && self.after_change.percent().saturating_add(b.min_drop_pct) > before {
            return Err(Miss::NoDrop);
        }
        if start.saturating_add(recent) <= cfg.windows && self.end.percent() < b.min_end_pct {
            return Err(Miss::End);
        }
        Ok(())
    }
}

/// The window a run resumes at after a checkpoint taken right after its `steps`-th
/// optimizer step (0: the start). Step `k` (from 1) trains on labelled window
/// `(k - 1) * label_every`, so the next window is the one after it. Exact for
/// checkpoints saved right after a training step of the same `cfg`.
pub fn resume_window(cfg: &Config, steps: u32) -> u32 {
    match steps.checked_sub(1) {
        Some(k) => k.saturating_mul(cfg.label_every).saturating_add(1),
        None => 0,
    }
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RunError {
    /// The settings are inconsistent.
    Config(crate::config::ConfigError),
    /// The model could not be set up over its storage.
    Model(microtrain::ConfigError),
    /// The model rejected a window (cannot happen with screened readings; reported,
    /// never ignored).
    Step(StepError),
    /// No full window after [`MAX_READS_PER_WINDOW`] reads.
    SensorDead {
        /// The window that never filled.
        window: u32,
    },
}

/// A sensor that also knows the truth: the scenario's source of windows.
pub trait Source: Accelerometer {
    /// Starts window `index`.
    fn begin_window(&mut self, index: u32);
    /// The true class of the current window.
    fn truth(&self) -> usize;
}

impl Source for SimAccelerometer {
    fn begin_window(&mut self, index: u32) {
        SimAccelerometer::begin_window(self, index);
    }

    fn truth(&self) -> usize {
        SimAccelerometer::truth(self)
    }
}

/// Starts window `window` of `source` and reads into `app` until the window is full
/// (bad readings are screened out by `app`); [`RunError::SensorDead`] after
/// [`MAX_READS_PER_WINDOW`] reads without a full window.
pub fn fill_window<S: Source, P: Plan>(
    app: &mut Demo<'_, P>,
    source: &mut S,
    window: u32,
) -> Result<(), RunError> {
    source.begin_window(window);
    let mut reads = 0;
    while !app.push(source.read()) {
        reads += 1;
        if reads > MAX_READS_PER_WINDOW {
            return Err(RunError::SensorDead { window });
        }
    }
    Ok(())
}

/// Runs the scenario of `cfg` on `app` (a fresh model) with the simulated stream of
/// `cfg.seed`, calling `on_event` with the running metrics, and returns what it
/// measured.
pub fn run<P: Plan>(
    cfg: &Config,
    app: &mut Demo<'_, P>,
    on_event: impl FnMut(&Event),
) -> Result<Report, RunError> {
    let mut sim = Scenario::simulated_source(cfg);
    run_source(cfg, app, &mut sim, on_event)
}

/// [`run`] over any [`Source`].
pub fn run_source<S: Source, P: Plan>(
    cfg: &Config,
    app: &mut Demo<'_, P>,
    sim: &mut S,
    mut on_event: impl FnMut(&Event),
) -> Result<Report, RunError> {
    let mut sc = Scenario::new(cfg)?;
    while !sc.finished() {
        sc.step(app, sim, &mut on_event)?;
    }
    Ok(sc.report(app))
}

/// The scenario one window at a time: what [`run`] does in a loop, for a firmware
/// that acts between windows (saves a checkpoint, stops) or resumes in the middle of
/// the stream ([`skip`](Self::skip) the windows before it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    cfg: Config,
    next: u32,
    before: Accuracy,
    after_change: Accuracy,
}

impl Scenario {
    /// The scenario of `cfg`, at window 0.
    pub fn new(cfg: &Config) -> Result<Self, RunError> {
        cfg.validate().map_err(RunError::Config)?;
        Ok(Scenario {
            cfg: *cfg,
            next: 0,
            before: Accuracy::default(),
            after_change: Accuracy::default(),
        })
    }

    /// The simulated stream of `cfg`'s seed, as [`run`] uses it.
    pub fn simulated_source(cfg: &Config) -> SimAccelerometer {
        SimAccelerometer::new(stream_seed(cfg.seed), cfg.change_at)
    }

    /// The index of the next window.
    pub fn next_window(&self) -> u32 {
        self.next
    }

    /// Whether every window of the run is done.
    pub fn finished(&self) -> bool {
        self.next >= self.cfg.windows
    }

    /// Starts the next window and feeds its reads to `app` until it is full.
    #[inline]
    fn fill<S: Source, P: Plan>(&self, app: &mut Demo<'_, P>, sim: &mut S) -> Result<(), RunError> {
        fill_window(app, sim, self.next)
    }

    /// Fast-forwards over the next window: its reads go through `app` (so the
    /// sensor and the screening of readings end up as in the original run), but it
    /// is neither predicted, scored nor trained on, and no event is sent.
    pub fn skip<S: Source, P: Plan>(&mut self, app: &mut Demo<'_, P>, sim: &mut S) -> Result<(), RunError> {
        self.fill(app, sim)?;
        app.skip_window();
        self.next = self.next.saturating_add(1);
        Ok(())
    }

    /// Runs the next window: predicts it, scores it, trains on it if it is labelled,
    /// and sends its events.
    // Inlined into the caller's loop, so the window's reads share the caller's stack
    // frame, as in one loop (a firmware's stack peak: 1992 bytes instead of 2304).
    #[inline(always)]
    pub fn step<S: Source, P: Plan>(
        &mut self,
        app: &mut Demo<'_, P>,
        sim: &mut S,
        mut on_event: impl FnMut(&Event),
    ) -> Result<WindowOutcome, RunError> {
        let (cfg, w) = (&self.cfg, self.next);
        if w == cfg.change_at {
            on_event(&Event::RegimeChange { window: w });
        }
        self.fill(app, sim)?;
        let label = (w % cfg.label_every == 0).then(|| sim.truth());
        let out = app
            .finish_window(label, Some(sim.truth()))
            .map_err(RunError::Step)?;
        let after_end = cfg.change_at.saturating_add(AFTER_WINDOWS);
        if (cfg.change_at..after_end).contains(&w) {
            self.after_change.add(out.correct == Some(true));
        }
        let done = w + 1;
        self.next = done;
        on_event(&Event::Window {
            window: done,
            outcome: out,
            recent: app.metrics().recent(),
        });
        if done == cfg.change_at {
            self.before = app.metrics().recent();
        }
        if done % cfg.log_every == 0 {
            let mean_loss = app.metrics_mut().take_mean_loss();
            on_event(&Event::Progress {
                window: done,
                recent: app.metrics().recent(),
                mean_loss,
                bad: app.bad_counts(),
            });
        }
        Ok(out)
    }

    /// What the windows run so far measured.
    pub fn report<P: Plan>(&self, app: &Demo<'_, P>) -> Report {
        Report {
            windows: app.windows(),
            steps: app.learner().steps(),
            unlabelled: app.unlabelled(),
            before: self.before,
            after_change: self.after_change,
            end: app.metrics().recent(),
            overall: app.metrics().overall(),
            bad: app.bad_counts(),
            checksum: weights_checksum(app.learner().params()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Learner, EMPTY_STORAGE};
    use crate::sim::FULL_SCALE_G;

    fn run_seed(seed: u64) -> Report {
        let mut s = EMPTY_STORAGE;
        let mut app = App::new(Learner::new(&mut s, seed).unwrap(), FULL_SCALE_G);
        let cfg = Config {
            seed,
            ..Config::DEFAULT
        };
        run(&cfg, &mut app, |_| {}).unwrap()
    }

    #[test]
    fn the_default_scenario_learns_drops_and_recovers_on_many_seeds() {
        for seed in (0..20).chain([42]) {
            let r = run_seed(seed);
            assert_eq!(r.check(&Bounds::DEFAULT), Ok(()), "seed {seed}: {r:?}");
            assert_eq!(r.windows, 600);
            assert_eq!(r.steps, 300);
            assert_eq!(r.unlabelled, 300);
            assert!(r.bad.bus > 0 && r.bad.non_finite > 0 && r.bad.saturated > 0 && r.bad.stuck > 0);
        }
    }

    #[test]
    fn runs_are_repeatable_and_seeds_matter() {
        let a = run_seed(42);
        assert_eq!(a, run_seed(42));
        assert_ne!(a.checksum, run_seed(43).checksum);
    }

    #[test]
    fn the_verdict_names_the_missed_bound() {
        let good = run_seed(42);
        let b = Bounds::DEFAULT;
        let mut r = good;
        r.before = Accuracy {
            correct: 39,
            total: 50,
        };
        assert_eq!(r.check(&b), Err(Miss::Before));
        let mut r = good;
        r.before = Accuracy {
            correct: 45,
            total: 50,
        };
        r.after_change = Accuracy {
            correct: 15,
            total: 20,
        };
        assert_eq!(r.check(&b), Err(Miss::NoDrop));
        r.after_change = Accuracy {
            correct: 14,
            total: 20,
        };
        assert_eq!(r.check(&b), Ok(()));
        let mut r = good;
        r.end = Accuracy {
            correct: 39,
            total: 50,
        };
        assert_eq!(r.check(&b), Err(Miss::End));
    }

    #[test]
    fn events_come_at_the_change_and_every_log_period() {
        let mut s = EMPTY_STORAGE;
        let mut app = App::new(Learner::new(&mut s, 5).unwrap(), FULL_SCALE_G);
        let cfg = Config {
            seed: 5,
            windows: 200,
            change_at: 100,
            log_every: 40,
            ..Config::DEFAULT
        };
        let mut progress = 0;
        let mut change = None;
        let mut windows = 0;
        run(&cfg, &mut app, |e| match e {
            Event::Progress { window, .. } => {
                progress += 1;
                assert_eq!(window % 40, 0);
            }
            Event::RegimeChange { window } => change = Some(*window),
            Event::Window { .. } => windows += 1,
        })
        .unwrap();
        assert_eq!((progress, change, windows), (5, Some(100), 200));
    }

    /// A run stopped after window `stop` and resumed from the model state of its
    /// last step (as a checkpoint restores it), the windows before skipped.
    fn stop_and_resume(seed: u64, label_every: u32, stop: u32) -> (Report, u32) {
        let cfg = Config {
            seed,
            label_every,
            ..Config::DEFAULT
        };
        let mut s1 = EMPTY_STORAGE;
        let mut first = App::new(Learner::new(&mut s1, seed).unwrap(), FULL_SCALE_G);
        let (mut sc, mut sim) = (Scenario::new(&cfg).unwrap(), Scenario::simulated_source(&cfg));
        let mut saved = None;
        while sc.next_window() < stop {
            let out = sc.step(&mut first, &mut sim, |_| {}).unwrap();
            if out.loss.is_some() {
                let l = first.learner();
                saved = Some((l.params().to_vec(), l.optimizer_state().to_vec(), l.steps()));
            }
        }
        let (params, state, steps) = saved.unwrap();
        let mut s2 = EMPTY_STORAGE;
        let mut learner = Learner::new(&mut s2, seed).unwrap();
        learner.trainer_mut().restore(&params, &state, steps).unwrap();
        let mut app = App::new(learner, FULL_SCALE_G);
        let start = resume_window(&cfg, steps);
        let (mut sc, mut sim) = (Scenario::new(&cfg).unwrap(), Scenario::simulated_source(&cfg));
        while sc.next_window() < start {
            sc.skip(&mut app, &mut sim).unwrap();
        }
        assert_eq!(app.learner().steps(), steps);
        while !sc.finished() {
            sc.step(&mut app, &mut sim, |_| {}).unwrap();
        }
        (sc.report(&app), start)
    }

    #[test]
    fn a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one() {
        for (seed, label_every, stop) in [(42, 2, 421), (42, 2, 120), (7, 3, 500), (3, 1, 77)] {
            let cfg = Config {
                seed,
                label_every,
                ..Config::DEFAULT
            };
            let mut s = EMPTY_STORAGE;
            let mut app = App::new(Learner::new(&mut s, seed).unwrap(), FULL_SCALE_G);
            let whole = run(&cfg, &mut app, |_| {}).unwrap();
            let (resumed, start) = stop_and_resume(seed, label_every, stop);
            assert!(start > 0 && start <= stop, "{start}");
            assert_eq!(resumed.checksum, whole.checksum, "seed {seed} stop {stop}");
            assert_eq!((resumed.steps, resumed.windows), (whole.steps, whole.windows));
            assert_eq!(resumed.bad, whole.bad, "the skipped reads were screened the same");
            assert_eq!(resumed.end, whole.end);
        }
        // The float model's final weights (the fixed-point model's differ).
        #[cfg(not(feature = "fixed"))]
        assert_eq!(run_seed(42).checksum, 0x82c5_2083);
    }

    #[test]
    fn the_resume_window_follows_the_last_labelled_window() {
        let cfg = Config {
            label_every: 3,
            ..Config::DEFAULT
        };
        assert_eq!(resume_window(&cfg, 0), 0);
        assert_eq!(resume_window(&cfg, 1), 1);
        assert_eq!(resume_window(&cfg, 4), 10);
        assert_eq!(resume_window(&cfg, u32::MAX), u32::MAX);
    }

    #[test]
    fn a_resumed_run_is_judged_on_the_phases_it_saw() {
        let cfg = Config::DEFAULT;
        let good = run_seed(42);
        let b = Bounds::DEFAULT;
        let mut late = good;
        late.before = Accuracy::default();
        late.after_change = Accuracy::default();
        assert_eq!(late.check(&b), Err(Miss::Before));
        assert_eq!(late.check_from(&b, &cfg, 0), Err(Miss::Before));
        assert_eq!(late.check_from(&b, &cfg, 400), Ok(()));
        assert_eq!(late.check_from(&b, &cfg, 251), Ok(()));
        assert_eq!(late.check_from(&b, &cfg, 250), Err(Miss::Before));
        late.end.correct = 10;
        assert_eq!(late.check_from(&b, &cfg, 550), Err(Miss::End));
        assert_eq!(late.check_from(&b, &cfg, 551), Ok(()));
        let mut no_drop = good;
        no_drop.after_change = no_drop.before;
        assert_eq!(no_drop.check_from(&b, &cfg, 100), Err(Miss::NoDrop));
        assert_eq!(good.check_from(&b, &cfg, 100), Ok(()));
    }

    #[test]
    fn a_dead_sensor_ends_the_run_with_an_error() {
        struct Dead;
        impl Accelerometer for Dead {
            fn read(&mut self) -> Result<crate::sensor::Reading, crate::sensor::SensorError> {
                Err(crate::sensor::SensorError::Bus)
            }
        }
        impl Source for Dead {
            fn begin_window(&mut self, _: u32) {}
            fn truth(&self) -> usize {
                0
            }
        }
        let mut s = EMPTY_STORAGE;
        let mut app = App::new(Learner::new(&mut s, 5).unwrap(), FULL_SCALE_G);
        let before = app.learner().params().to_vec();
        let r = run_source(&Config::DEFAULT, &mut app, &mut Dead, |_| {});
        assert_eq!(r, Err(RunError::SensorDead { window: 0 }));
        assert_eq!(app.bad_counts().bus, MAX_READS_PER_WINDOW as u32 + 1);
        assert_eq!(app.learner().params(), &before[..]);
        let bad = Config {
            windows: 10,
            ..Config::DEFAULT
        };
        assert!(matches!(run(&bad, &mut app, |_| {}), Err(RunError::Config(_))));
    }
}
