//! The stream scenario's simulated accelerometer as a source of feature windows: the
//! seeded sensor of `microtrain-stream`, its readings screened and windowed exactly as
//! the firmware's application does it (`App::push`, `Scenario`'s window filling), so a
//! window's features here are the bits a device computes.

use microtrain_stream::features::{features, FEATURES};
use microtrain_stream::scenario::{stream_seed, MAX_READS_PER_WINDOW};
use microtrain_stream::sim::{SimAccelerometer, FULL_SCALE_G};
use microtrain_stream::validate::{BadCounts, Validator};
use microtrain_stream::window::Window;
use microtrain_stream::Accelerometer;

/// One device's simulated sensor stream, one feature window at a time.
#[derive(Debug, Clone)]
pub struct SimStream {
    sensor: SimAccelerometer,
    validator: Validator,
    window: Window,
    next: u32,
}

/// One window: its features, its true class, and whether it is in the second regime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimWindow {
    /// The window's features (the model's input).
    pub features: [f32; FEATURES],
    /// The true activity.
    pub truth: usize,
    /// Whether the second user / mounting wears the device.
    pub changed: bool,
}

impl SimStream {
    /// The stream of the scenario with run seed `seed` (the sensor is seeded with
    /// `stream_seed(seed)`, as the simulator's and the firmware's), whose regime
    /// changes at window `change_at` (0: the second user from the start; `u32::MAX`:
    /// never).
    pub fn new(seed: u64, change_at: u32) -> Self {
        SimStream {
            sensor: SimAccelerometer::new(stream_seed(seed), change_at),
            validator: Validator::new(FULL_SCALE_G),
            window: Window::new(),
            next: 0,
        }
    }

    /// The next window. Bad readings are screened out and counted, as on the device.
    pub fn next_window(&mut self) -> Result<SimWindow, String> {
        let w = self.next;
        self.sensor.begin_window(w);
        let mut reads = 0;
        loop {
            let full = match self.validator.check(self.sensor.read()) {
                Ok(r) => self.window.push(r),
                Err(_) => self.window.is_full(),
            };
            if full {
                break;
            }
            reads += 1;
            if reads > MAX_READS_PER_WINDOW {
                return Err(format!("sensor dead: window {w} never filled"));
            }
        }
        let x = features(self.window.samples());
        self.window.clear();
        self.next = w.saturating_add(1);
        Ok(SimWindow {
            features: x,
            truth: self.sensor.truth(),
            changed: self.sensor.changed(),
        })
    }

    /// Windows produced so far (the index of the next one).
    pub fn position(&self) -> u32 {
        self.next
    }

    /// Readings rejected so far.
    pub fn bad_counts(&self) -> BadCounts {
        self.validator.counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain_stream::model::{Learner, EMPTY_STORAGE};
    use microtrain_stream::{App, Config};

    /// The windows through a `Net` give the scenario's report checksum.
    #[test]
    fn training_on_its_windows_reproduces_the_scenarios_checksum() {
        for seed in [42u64, 7] {
            let cfg = Config {
                seed,
                ..Config::DEFAULT
            };
            let mut storage = EMPTY_STORAGE;
            let mut app = App::new(Learner::new(&mut storage, seed).unwrap(), FULL_SCALE_G);
            let report = microtrain_stream::run(&cfg, &mut app, |_| {}).unwrap();
            let mut net = crate::net::Net::new(
                microtrain_stream::model::LAYERS.to_vec(),
                microtrain::Loss::SoftmaxCrossEntropy,
                microtrain_stream::model::OPTIMIZER.into(),
                seed,
            )
            .unwrap();
            let mut s = SimStream::new(seed, cfg.change_at);
            for w in 0..cfg.windows {
                let win = s.next_window().unwrap();
                assert_eq!(win.changed, w >= cfg.change_at);
                if w % cfg.label_every == 0 {
                    net.train_sample(&win.features, microtrain::Target::Class(win.truth))
                        .unwrap();
                }
            }
            assert_eq!(
                microtrain_stream::weights_checksum(net.params()),
                report.checksum,
                "seed {seed}"
            );
            assert_eq!(s.bad_counts(), report.bad);
        }
    }
}
