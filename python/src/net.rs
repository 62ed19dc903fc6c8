//! [`Net`]: a model whose shape, loss and optimizer are chosen at run time, on heap
//! buffers, trained through the core's [`Trainer`] exactly as a device trains it.
//!
//! The core's `Trainer` borrows its buffers; a Python object cannot hold a borrow, so
//! `Net` owns the buffers, the optimizer state and the step count, and puts a
//! `Trainer` together over them for each call (`Trainer::new`, then
//! `Trainer::restore` of the state and step count it had). The arithmetic of a step
//! is the core's own; only the set-up is repeated.

use microtrain::data::{Dataset, Targets};
use microtrain::model_file::{self, ModelFile};
use microtrain::shape::{activations_len, params_len};
use microtrain::{AnyOptimizer, Buffers, Dense, Loss, Schedule, StepError, Target, Trainer};

/// The targets of several samples: one class label or one row of values each.
#[derive(Debug, Clone, Copy)]
pub enum TargetsRef<'a> {
    /// One class label per sample.
    Classes(&'a [u16]),
    /// `width` values per sample, row-major.
    Values {
        /// All rows.
        y: &'a [f32],
        /// Values per row.
        width: usize,
    },
}

/// A model with its training buffers, its loss, its optimizer and its step count.
#[derive(Debug, Clone)]
pub struct Net {
    layers: Vec<Dense>,
    params: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
    acts: Vec<f32>,
    opt: AnyOptimizer,
    loss: Loss,
    schedule: Schedule,
    clip_norm: Option<f32>,
    step: u32,
    rejected: u32,
}

impl Net {
    /// A model of `layers` trained with `opt` on `loss`, its parameters drawn from
    /// `seed` as the core's `Trainer::init_params` draws them (PyTorch's default
    /// `nn.Linear` initialisation). The shape, the loss against the last activation
    /// and the hyperparameters are checked first.
    pub fn new(layers: Vec<Dense>, loss: Loss, opt: AnyOptimizer, seed: u64) -> Result<Net, String> {
        let p = params_len(&layers);
        let mut net = Net {
            params: vec![0.0; p],
            grads: vec![0.0; p],
            state: vec![0.0; p.saturating_mul(opt.state_per_param())],
            acts: vec![0.0; activations_len(&layers)],
            layers,
            opt,
            loss,
            schedule: Schedule::Constant,
            clip_norm: None,
            step: 0,
            rejected: 0,
        };
        net.with_trainer(|t| {
            t.init_params(seed);
            Ok(())
        })?;
        Ok(net)
    }

    /// Runs `f` on a trainer over this model's buffers, with the optimizer state and
    /// step count the model had. On an error from `f` the parameters, the state and
    /// the step count are put back as they were (so a call that trains several
    /// samples changes nothing when one of them is rejected).
    fn with_trainer<R>(
        &mut self,
        f: impl FnOnce(&mut Trainer<'_, AnyOptimizer>) -> Result<R, StepError>,
    ) -> Result<R, String> {
        let saved_params = self.params.clone();
        let saved_state = self.state.clone();
        let buffers = Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            state: &mut self.state,
            acts: &mut self.acts,
            frozen: &[],
        };
        let mut t =
            Trainer::new(&self.layers, buffers, self.opt, self.loss).map_err(|e| format!("model: {e}"))?;
        t.restore(&saved_params, &saved_state, self.step)
            .map_err(|e| e.to_string())?;
        t.set_schedule(self.schedule)
            .map_err(|e| format!("schedule: {e}"))?;
        t.set_clip_norm(self.clip_norm)
            .map_err(|e| format!("clip_norm: {e}"))?;
        let out = f(&mut t);
        let (step, rejected) = (t.step_count(), t.rejected_steps());
        self.rejected = self.rejected.saturating_add(rejected);
        match out {
            Ok(r) => {
                self.step = step;
                Ok(r)
            }
            Err(e) => {
                self.params.copy_from_slice(&saved_params);
                self.state.copy_from_slice(&saved_state);
                Err(e.to_string())
            }
        }
    }

    /// Sets the learning-rate schedule and the gradient clipping norm (`None`: off),
    /// both checked by the core first; on an error nothing changes.
    pub fn set_schedule(&mut self, schedule: Schedule, clip_norm: Option<f32>) -> Result<(), String> {
        let (old_s, old_c) = (self.schedule, self.clip_norm);
        (self.schedule, self.clip_norm) = (schedule, clip_norm);
        let checked = self.with_trainer(|_| Ok(()));
        if checked.is_err() {
            (self.schedule, self.clip_norm) = (old_s, old_c);
        }
        checked
    }

    /// The learning-rate schedule.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// The gradient clipping norm, if clipping is on.
    pub fn clip_norm(&self) -> Option<f32> {
        self.clip_norm
    }

    /// One optimizer step on one sample (the core's fused single-sample step).
    /// Returns the loss before the update. A rejected sample changes nothing.
    pub fn train_sample(&mut self, x: &[f32], target: Target<'_>) -> Result<f32, String> {
        self.with_trainer(|t| t.train_sample(x, target))
    }

    /// One optimizer step per row of `x` (`inputs` values each), in order: online
    /// learning over a stream. Returns each step's loss. Every row is checked before
    /// the first step, and if any step is rejected nothing changes.
    pub fn train_samples(&mut self, x: &[f32], targets: TargetsRef<'_>) -> Result<Vec<f32>, String> {
        let rows = self.rows(x, targets)?;
        self.with_trainer(|t| {
            for i in 0..rows.len() {
                let (xi, ti) = rows.row(i)?;
                t.check_sample(xi, &ti).map_err(|e| at_row(e, i))?;
            }
            (0..rows.len())
                .map(|i| {
                    rows.row(i)
                        .and_then(|(xi, ti)| t.train_sample(xi, ti))
                        .map_err(|e| at_row(e, i))
                })
                .collect()
        })
    }

    /// One optimizer step on all rows of `x` as one batch (mean loss). Returns the
    /// batch's loss before the update. A rejected batch changes nothing.
    pub fn train_batch(&mut self, x: &[f32], targets: TargetsRef<'_>) -> Result<f32, String> {
        let rows = self.rows(x, targets)?;
        self.with_trainer(|t| t.train_batch(&rows.range(0, rows.len())))
    }

    /// The rows of `x` and their targets as the core's dataset, or why they do not fit
    /// the model.
    fn rows<'a>(&self, x: &'a [f32], targets: TargetsRef<'a>) -> Result<Dataset<'a>, String> {
        let inputs = self.inputs();
        if x.len() % inputs != 0 || x.is_empty() {
            return Err(format!(
                "x: {} values is not a whole number (at least 1) of rows of {inputs} inputs",
                x.len()
            ));
        }
        let n = x.len() / inputs;
        let t = match targets {
            TargetsRef::Classes(c) => Targets::Classes(c),
            TargetsRef::Values { y, width } => Targets::Values { y, width },
        };
        Dataset::new(x, inputs, t).ok_or_else(|| match targets {
            TargetsRef::Classes(c) => format!("y: {} labels for {n} rows of x", c.len()),
            TargetsRef::Values { y, width } => {
                format!("y: {} values in rows of {width} for {n} rows of x", y.len())
            }
        })
    }

    /// The model's outputs for one input row.
    pub fn predict(&mut self, x: &[f32]) -> Result<Vec<f32>, String> {
        let mut out = vec![0.0; self.outputs()];
        self.with_trainer(|t| t.predict(x, &mut out))?;
        Ok(out)
    }

    /// The outputs for each row of `x`, row-major.
    pub fn predict_rows(&mut self, x: &[f32]) -> Result<Vec<f32>, String> {
        let (inputs, outputs) = (self.inputs(), self.outputs());
        if x.len() % inputs != 0 {
            return Err(format!(
                "x: {} values is not a whole number of rows of {inputs} inputs",
                x.len()
            ));
        }
        let mut out = vec![0.0; x.len() / inputs * outputs];
        self.with_trainer(|t| {
            for (i, (xi, oi)) in x.chunks(inputs).zip(out.chunks_mut(outputs)).enumerate() {
                t.predict(xi, oi).map_err(|e| at_row(e, i))?;
            }
            Ok(())
        })
        .map_err(|e| format!("x: {e}"))?;
        Ok(out)
    }

    /// Replaces the parameters (same layout; finite values). The optimizer state and
    /// step count are kept: Flower's clients continue from the server's weights with
    /// their own optimizer. On an error nothing changes.
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), String> {
        self.with_trainer(|t| t.load_params(params))
            .map_err(|e| format!("params: {e}"))
    }

    /// Re-draws the parameters from `seed` and resets the optimizer.
    pub fn init_params(&mut self, seed: u64) {
        // Cannot fail: the buffers were sized for the shape when the model was made.
        let _ = self.with_trainer(|t| {
            t.init_params(seed);
            Ok(())
        });
        self.step = 0;
    }

    /// Resets the optimizer state and the step count.
    pub fn reset_optimizer(&mut self) {
        let _ = self.with_trainer(|t| {
            t.reset_optimizer();
            Ok(())
        });
        self.step = 0;
    }

    /// The parameters, per layer `W` row-major then `b`.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// The optimizer state.
    pub fn optimizer_state(&self) -> &[f32] {
        &self.state
    }

    /// The layers.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The optimizer and its hyperparameters.
    pub fn optimizer(&self) -> &AnyOptimizer {
        &self.opt
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> u32 {
        self.step
    }

    /// Steps rejected because their loss or gradient was not finite.
    pub fn rejected_steps(&self) -> u32 {
        self.rejected
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        microtrain::shape::inputs(&self.layers)
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        microtrain::shape::outputs(&self.layers)
    }

    /// The core's binary model file (`.mtm`) of the shape and parameters.
    pub fn to_model_file(&self) -> Result<Vec<u8>, String> {
        encode_model_file(&self.layers, &self.params)
    }

    /// Replaces the parameters by those of a binary model file of the same shape.
    /// On an error nothing changes.
    pub fn load_model_file(&mut self, bytes: &[u8]) -> Result<(), String> {
        let (layers, params) = decode_model_file(bytes)?;
        if layers != self.layers {
            return Err(format!(
                "model file: its shape {} is not this model's {}",
                describe(&layers),
                describe(&self.layers)
            ));
        }
        self.set_params(&params)
    }
}

/// `e` with its sample index set to `row` (the core numbers the samples of one call;
/// a single-sample step is always sample 0).
fn at_row(e: StepError, row: usize) -> StepError {
    match e {
        StepError::InputLength { expected, got, .. } => StepError::InputLength {
            sample: row,
            expected,
            got,
        },
        StepError::TargetLength { expected, got, .. } => StepError::TargetLength {
            sample: row,
            expected,
            got,
        },
        StepError::NonFiniteInput { index, .. } => StepError::NonFiniteInput { sample: row, index },
        StepError::BadTarget { index, .. } => StepError::BadTarget { sample: row, index },
        StepError::LabelOutOfRange { label, classes, .. } => StepError::LabelOutOfRange {
            sample: row,
            label,
            classes,
        },
        other => other,
    }
}

/// The binary model file of `layers` and `params`.
pub fn encode_model_file(layers: &[Dense], params: &[f32]) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; model_file::encoded_len(layers)];
    let n = model_file::encode(layers, params, &mut out).map_err(|e| e.to_string())?;
    out.truncate(n);
    Ok(out)
}

/// The layers and parameters of a binary model file (checked by the core's reader).
pub fn decode_model_file(bytes: &[u8]) -> Result<(Vec<Dense>, Vec<f32>), String> {
    let f = ModelFile::parse(bytes).map_err(|e| format!("model file: {e}"))?;
    let layers: Vec<Dense> = f.layers().collect();
    let mut params = vec![0.0f32; f.params_len()];
    f.read_params(&mut params)
        .map_err(|e| format!("model file: {e}"))?;
    Ok((layers, params))
}

pub use microtrain_files::describe;

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain::{storage_for, Activation, Adam, Storage};
    use microtrain_stream::model::{ModelStorage, EMPTY_STORAGE, LAYERS, OPTIMIZER};

    fn stream_net(seed: u64) -> Net {
        Net::new(LAYERS.to_vec(), Loss::SoftmaxCrossEntropy, OPTIMIZER.into(), seed).unwrap()
    }

    fn sample(i: usize) -> ([f32; 9], usize) {
        let v = i as f32 * 0.37;
        let x = [
            v.sin(),
            v.cos(),
            0.5,
            v * 0.01,
            0.2,
            -0.3,
            (2.0 * v).sin(),
            0.1,
            1.0,
        ];
        (x, i % 3)
    }

    #[test]
    fn matches_a_trainer_that_lives_across_calls_bit_for_bit() {
        let mut storage: ModelStorage = EMPTY_STORAGE;
        let mut t = Trainer::new(&LAYERS, storage.buffers(), OPTIMIZER, Loss::SoftmaxCrossEntropy).unwrap();
        t.init_params(5);
        let mut net = stream_net(5);
        assert_eq!(net.params(), t.params());
        for i in 0..200 {
            let (x, c) = sample(i);
            let a = t.train_sample(&x, Target::Class(c)).unwrap();
            let b = net.train_sample(&x, Target::Class(c)).unwrap();
            assert_eq!(a.to_bits(), b.to_bits());
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(net.params()), bits(t.params()));
        assert_eq!(bits(net.optimizer_state()), bits(t.state()));
        assert_eq!(net.steps(), 200);
    }

    #[test]
    fn batches_match_the_core() {
        const L: [Dense; 2] = [
            Dense::new(9, 4, Activation::Tanh),
            Dense::new(4, 3, Activation::Identity),
        ];
        const OPT: Adam = Adam::new(0.01);
        let (layers, opt) = (L, OPT);
        let mut storage: storage_for!(&L, OPT) = Storage::sized_for(&L, OPT.state_per_param());
        let mut t = Trainer::new(&L, storage.buffers(), opt, Loss::SoftmaxCrossEntropy).unwrap();
        t.init_params(1);
        let mut net = Net::new(layers.to_vec(), Loss::SoftmaxCrossEntropy, opt.into(), 1).unwrap();
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..8 {
            let (xi, c) = sample(i);
            x.extend_from_slice(&xi);
            y.push(c as u16);
        }
        let data = Dataset::new(&x, 9, Targets::Classes(&y)).unwrap();
        for _ in 0..5 {
            let a = t.train_batch(&data.range(0, 8)).unwrap();
            let b = net.train_batch(&x, TargetsRef::Classes(&y)).unwrap();
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(net.params(), t.params());
    }

    #[test]
    fn schedules_and_clipping_match_the_core() {
        let schedule = Schedule::Step {
            step_size: 7,
            gamma: 0.5,
        };
        let mut storage: ModelStorage = EMPTY_STORAGE;
        let mut t = Trainer::new(&LAYERS, storage.buffers(), OPTIMIZER, Loss::SoftmaxCrossEntropy).unwrap();
        t.init_params(2);
        t.set_schedule(schedule).unwrap();
        t.set_clip_norm(Some(0.5)).unwrap();
        let mut net = stream_net(2);
        net.set_schedule(schedule, Some(0.5)).unwrap();
        for i in 0..50 {
            let (x, c) = sample(i);
            t.train_sample(&x, Target::Class(c)).unwrap();
            net.train_sample(&x, Target::Class(c)).unwrap();
        }
        assert_eq!(net.params(), t.params());
        let e = net.set_schedule(Schedule::Constant, Some(-1.0)).unwrap_err();
        assert!(e.starts_with("clip_norm: "), "{e}");
        assert_eq!((net.schedule(), net.clip_norm()), (schedule, Some(0.5)));
    }

    #[test]
    fn a_rejected_sample_or_row_changes_nothing() {
        let mut net = stream_net(3);
        let (x, c) = sample(1);
        net.train_sample(&x, Target::Class(c)).unwrap();
        let before = net.clone();
        let mut bad = x;
        bad[4] = f32::NAN;
        let e = net.train_sample(&bad, Target::Class(c)).unwrap_err();
        assert!(e.contains("not finite") || e.contains("finite"), "{e}");
        assert!(net.train_sample(&x, Target::Class(3)).is_err());
        assert!(net.train_sample(&x[..8], Target::Class(0)).is_err());
        // Three good rows, then a bad label: none of the four is applied.
        let mut rows = Vec::new();
        for i in 0..4 {
            rows.extend_from_slice(&sample(i).0);
        }
        let e = net
            .train_samples(&rows, TargetsRef::Classes(&[0, 1, 2, 7]))
            .unwrap_err();
        assert!(e.contains('7') || e.contains("label"), "{e}");
        assert_eq!(net.params(), before.params());
        assert_eq!(net.optimizer_state(), before.optimizer_state());
        assert_eq!(net.steps(), before.steps());
        assert!(net.set_params(&[0.0; 3]).is_err());
        assert_eq!(net.params(), before.params());
    }

    #[test]
    fn model_files_round_trip_and_shapes_must_match() {
        let mut a = stream_net(1);
        let mut b = stream_net(2);
        assert_ne!(a.params(), b.params());
        let bytes = a.to_model_file().unwrap();
        b.load_model_file(&bytes).unwrap();
        assert_eq!(a.params(), b.params());
        let other = Net::new(
            vec![Dense::new(9, 3, Activation::Identity)],
            Loss::SoftmaxCrossEntropy,
            OPTIMIZER.into(),
            0,
        )
        .unwrap();
        let e = a.load_model_file(&other.to_model_file().unwrap()).unwrap_err();
        assert!(e.contains("9-3 (identity)") && e.contains("9-16-3"), "{e}");
        let e = a.load_model_file(b"MTRN garbage").unwrap_err();
        assert!(e.starts_with("model file: "), "{e}");
    }
}
