//! The Python module `microtrain` (feature `python`): [`Net`] as `Model`, [`SimStream`]
//! as `SimStream`, the checksum and the stream scenario's constants. Arrays are numpy
//! `float32`; errors are `microtrain.Error` (a `ValueError`) with the core's message.

use crate::net::{self, Net, TargetsRef};
use crate::sim::SimStream;
use crate::spec::{self, Given};
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::Path;

pyo3::create_exception!(
    microtrain,
    Error,
    PyValueError,
    "A rejected input, setting or file; the message names what and where. Nothing was changed."
);

fn err(msg: String) -> PyErr {
    Error::new_err(msg)
}

/// `x` as a C-contiguous float32 array: its values and its shape.
fn f32_array(py: Python<'_>, x: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<f32>, Vec<usize>)> {
    let np = py.import("numpy")?;
    let arr = np
        .call_method1("ascontiguousarray", (x, "float32"))
        .map_err(|e| err(format!("{what}: not an array of numbers ({e})")))?;
    let a: PyReadonlyArrayDyn<'_, f32> = arr.extract()?;
    Ok((a.as_array().iter().copied().collect(), a.shape().to_vec()))
}

/// The number of rows of an input array of `shape` for a model of `inputs` inputs:
/// `(inputs,)` is one row, `(rows, inputs)` is `rows`.
fn rows_of(shape: &[usize], inputs: usize) -> PyResult<usize> {
    match shape {
        [n] if *n == inputs => Ok(1),
        [rows, n] if *n == inputs => Ok(*rows),
        _ => Err(err(format!(
            "x: shape {shape:?}, the model takes ({inputs},) or (rows, {inputs})"
        ))),
    }
}

/// The targets `y` of `rows` samples for a model with `outputs` outputs: integers are
/// class labels, floats rows of `outputs` values.
fn targets(py: Python<'_>, y: &Bound<'_, PyAny>, rows: usize, outputs: usize) -> PyResult<Targets> {
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (y,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if kind == "i" || kind == "u" {
        let labels: Vec<i64> = arr
            .call_method1("astype", ("int64",))?
            .call_method0("ravel")?
            .extract()?;
        let labels = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                u16::try_from(l).map_err(|_| err(format!("y: label {l} of sample {i} is not a class index")))
            })
            .collect::<PyResult<Vec<u16>>>()?;
        if labels.len() != rows {
            return Err(err(format!("y: {} labels for {rows} samples", labels.len())));
        }
        Ok(Targets::Classes(labels))
    } else {
        let (v, _) = f32_array(py, y, "y")?;
        if v.len() != rows * outputs {
            return Err(err(format!(
                "y: {} values for {rows} samples of {outputs} outputs (pass integer labels for classes)",
                v.len()
            )));
        }
        Ok(Targets::Values(v, outputs))
    }
}

/// Owned targets.
enum Targets {
    Classes(Vec<u16>),
    Values(Vec<f32>, usize),
}

impl Targets {
    fn as_ref(&self) -> TargetsRef<'_> {
        match self {
            Targets::Classes(c) => TargetsRef::Classes(c),
            Targets::Values(y, width) => TargetsRef::Values { y, width: *width },
        }
    }
}

/// Hyperparameters from keyword arguments.
fn given(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, Given)>> {
    let mut out = Vec::new();
    if let Some(d) = kwargs {
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            let g = if let Ok(b) = v.extract::<bool>() {
                Given::Switch(b)
            } else if let Ok(x) = v.extract::<f64>() {
                Given::Number(x)
            } else {
                return Err(err(format!("{key}: expected a number or a bool")));
            };
            out.push((key, g));
        }
    }
    Ok(out)
}

/// A model: a stack of dense layers with its loss, optimizer and training state,
/// trained by microtrain's core with the bits a device computes.
#[pyclass(name = "Model", module = "microtrain")]
#[derive(Clone)]
struct PyModel {
    net: Net,
}

#[pymethods]
impl PyModel {
    /// Model(inputs, layers, loss="softmax_cross_entropy", optimizer="adam", seed=0,
    /// schedule="constant", clip_norm=None, *, input_channels=1, **hyperparameters)
    ///
    /// `layers` as the simulator's --layers: dense layers `OUTPUTS:ACTIVATION`, and
    /// over inputs of `input_channels` channels (`[channels][length]` per row)
    /// `conv1d:OUT:KERNEL:STRIDE:none|same:ACTIVATION`, `maxpool:K[:S]`,
    /// `avgpool:K[:S]`, `gap`, `flatten`.
    #[new]
    #[pyo3(signature = (
        inputs, layers, loss = "softmax_cross_entropy", optimizer = "adam", seed = 0,
        schedule = "constant", clip_norm = None, *, input_channels = 1, **hyperparameters
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        inputs: usize,
        layers: &str,
        loss: &str,
        optimizer: &str,
        seed: u64,
        schedule: &str,
        clip_norm: Option<f32>,
        input_channels: usize,
        hyperparameters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let layers = spec::layers(inputs, input_channels, layers).map_err(err)?;
        let loss = spec::loss(loss).map_err(err)?;
        let opt = spec::optimizer(optimizer, &given(hyperparameters)?).map_err(err)?;
        let schedule = spec::schedule(schedule).map_err(err)?;
        let mut net = Net::new(layers, loss, opt, seed).map_err(err)?;
        net.set_schedule(schedule, clip_norm).map_err(err)?;
        Ok(PyModel { net })
    }

    /// The stream scenario's model (9-16-3, ReLU, softmax cross-entropy, Adam at the
    /// firmware's rate), its weights drawn from `seed` as the firmware draws them.
    #[staticmethod]
    fn stream(seed: u64) -> PyResult<Self> {
        let net = Net::new(
            microtrain_stream::model::LAYERS.to_vec(),
            microtrain::Loss::SoftmaxCrossEntropy,
            microtrain_stream::model::OPTIMIZER.into(),
            seed,
        )
        .map_err(err)?;
        Ok(PyModel { net })
    }

    /// Reads a model file (`.mtm` binary or `.json`, told apart by content) into a new
    /// model with a fresh optimizer. `loss` defaults to the one a JSON file names.
    #[staticmethod]
    #[pyo3(signature = (path, loss = None, optimizer = "adam", **hyperparameters))]
    fn load(
        path: &str,
        loss: Option<&str>,
        optimizer: &str,
        hyperparameters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let bytes = std::fs::read(path).map_err(|e| err(format!("{path}: cannot read: {e}")))?;
        let (layers, params, file_loss) = if bytes.starts_with(&microtrain::model_file::MAGIC) {
            let (l, p) = net::decode_model_file(&bytes).map_err(|e| err(format!("{path}: {e}")))?;
            (l, p, None)
        } else {
            crate::json::from_json(&bytes).map_err(|e| err(format!("{path}: {e}")))?
        };
        let loss = match (loss, file_loss) {
            (Some(name), _) => spec::loss(name).map_err(err)?,
            (None, Some(l)) => l,
            (None, None) => return Err(err(format!("{path}: the file names no loss; pass loss="))),
        };
        let opt = spec::optimizer(optimizer, &given(hyperparameters)?).map_err(err)?;
        let mut net = Net::new(layers, loss, opt, 0).map_err(|e| err(format!("{path}: {e}")))?;
        net.set_params(&params).map_err(|e| err(format!("{path}: {e}")))?;
        Ok(PyModel { net })
    }

    /// One optimizer step on one sample `x` towards `y` (a class index, or the target
    /// values). Returns the loss before the step. A rejected sample changes nothing.
    fn train_sample(&mut self, py: Python<'_>, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f32> {
        let (x, _) = f32_array(py, x, "x")?;
        let t = targets(py, y, 1, self.net.outputs())?;
        let target = match &t {
            Targets::Classes(c) => microtrain::Target::Class(usize::from(c[0])),
            Targets::Values(v, _) => microtrain::Target::Values(v),
        };
        self.net.train_sample(&x, target).map_err(err)
    }

    /// One optimizer step per row of `x`, in order (online learning). Returns the
    /// losses. All rows are checked first; if any is rejected nothing changes.
    fn train_samples<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let (x, shape) = f32_array(py, x, "x")?;
        let rows = rows_of(&shape, self.net.inputs())?;
        let t = targets(py, y, rows, self.net.outputs())?;
        let losses = self.net.train_samples(&x, t.as_ref()).map_err(err)?;
        Ok(PyArray1::from_vec(py, losses))
    }

    /// One optimizer step on the rows of `x` as one batch (mean loss). Returns the
    /// batch's loss before the step. A rejected batch changes nothing.
    fn train_batch(&mut self, py: Python<'_>, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f32> {
        let (x, shape) = f32_array(py, x, "x")?;
        let rows = rows_of(&shape, self.net.inputs())?;
        let t = targets(py, y, rows, self.net.outputs())?;
        self.net.train_batch(&x, t.as_ref()).map_err(err)
    }

    /// The model's outputs for one input (1-D) or for each row of `x` (2-D).
    fn predict<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let (v, shape) = f32_array(py, x, "x")?;
        let outputs = self.net.outputs();
        let rows = rows_of(&shape, self.net.inputs())?;
        let dims = if shape.len() == 1 {
            vec![outputs]
        } else {
            vec![rows, outputs]
        };
        let out = self.net.predict_rows(&v).map_err(err)?;
        PyArray1::from_vec(py, out).reshape(dims)
    }

    /// A copy of the parameters (per layer `W` row-major, then `b`), float32.
    fn get_params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, self.net.params())
    }

    /// Replaces the parameters (same length, finite values). The optimizer state and
    /// step count are kept. On an error nothing changes.
    fn set_params(&mut self, py: Python<'_>, params: &Bound<'_, PyAny>) -> PyResult<()> {
        let (p, _) = f32_array(py, params, "params")?;
        self.net.set_params(&p).map_err(err)
    }

    /// A copy of the optimizer state, float32.
    fn get_optimizer_state<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, self.net.optimizer_state())
    }

    /// Re-draws the parameters from `seed` and resets the optimizer.
    fn init_params(&mut self, seed: u64) {
        self.net.init_params(seed);
    }

    /// Resets the optimizer state and the step count.
    fn reset_optimizer(&mut self) {
        self.net.reset_optimizer();
    }

    /// The core's binary model file (`.mtm`): what a device loads, and what moves
    /// between a device and the server.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.net.to_model_file().map_err(err)?;
        Ok(PyBytes::new(py, &b))
    }

    /// Replaces the parameters by those of a binary model file of the same shape.
    fn load_bytes(&mut self, data: &[u8]) -> PyResult<()> {
        self.net.load_model_file(data).map_err(err)
    }

    /// Writes the model atomically: JSON if `path` ends in `.json`, else `.mtm`.
    fn save(&self, path: &str) -> PyResult<()> {
        let p = Path::new(path);
        let json = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let bytes = if json {
            crate::json::to_json(self.net.layers(), self.net.params(), self.net.loss())
                .map_err(err)?
                .into_bytes()
        } else {
            self.net.to_model_file().map_err(err)?
        };
        let tmp = p.with_extension("partial");
        std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, p))
            .map_err(|e| err(format!("{path}: cannot write: {e}")))
    }

    /// FNV-1a of the parameters' bits: the checksum the simulator and firmware print.
    fn checksum(&self) -> u32 {
        microtrain_stream::weights_checksum(self.net.params())
    }

    /// An independent copy (parameters, optimizer state, step count).
    fn copy(&self) -> Self {
        self.clone()
    }

    /// Number of inputs.
    #[getter]
    fn inputs(&self) -> usize {
        self.net.inputs()
    }

    /// Number of outputs.
    #[getter]
    fn outputs(&self) -> usize {
        self.net.outputs()
    }

    /// Number of parameters.
    #[getter]
    fn num_params(&self) -> usize {
        self.net.params().len()
    }

    /// Optimizer steps taken.
    #[getter]
    fn steps(&self) -> u32 {
        self.net.steps()
    }

    /// Steps rejected because their loss or gradient was not finite.
    #[getter]
    fn rejected_steps(&self) -> u32 {
        self.net.rejected_steps()
    }

    /// The loss's name.
    #[getter]
    fn loss(&self) -> &'static str {
        self.net.loss().name()
    }

    /// The optimizer's name.
    #[getter]
    fn optimizer(&self) -> &'static str {
        self.net.optimizer().name()
    }

    /// The optimizer's hyperparameters by name.
    #[getter]
    fn hyperparameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in spec::hyperparameters(self.net.optimizer()) {
            match v {
                Given::Number(x) => d.set_item(k, x)?,
                Given::Switch(b) => d.set_item(k, b)?,
            }
        }
        Ok(d)
    }

    /// The learning-rate schedule, spelt as the simulator's `--schedule`.
    #[getter]
    fn schedule(&self) -> String {
        match self.net.schedule() {
            microtrain::Schedule::Constant => "constant".into(),
            microtrain::Schedule::Exponential { gamma } => format!("exponential:gamma={gamma}"),
            microtrain::Schedule::Step { step_size, gamma } => {
                format!("step:step_size={step_size},gamma={gamma}")
            }
            microtrain::Schedule::InverseTime { decay } => format!("inverse_time:decay={decay}"),
        }
    }

    /// The gradient clipping norm, or None.
    #[getter]
    fn clip_norm(&self) -> Option<f32> {
        self.net.clip_norm()
    }

    /// The shape in one line, e.g. `9-16-3 (relu, identity)`.
    #[getter]
    fn shape(&self) -> String {
        net::describe(self.net.layers())
    }

    fn __repr__(&self) -> String {
        format!(
            "Model({}, loss={}, optimizer={}, steps={})",
            net::describe(self.net.layers()),
            self.net.loss().name(),
            self.net.optimizer().name(),
            self.net.steps()
        )
    }
}

/// The stream scenario's simulated accelerometer for run seed `seed`, screened and
/// windowed as on the device: one feature window (9 float32) and its true class at a
/// time. The regime (user, mounting) changes at window `change_at`.
#[pyclass(name = "SimStream", module = "microtrain")]
struct PySimStream {
    sim: SimStream,
}

#[pymethods]
impl PySimStream {
    /// SimStream(seed, change_at=300)
    #[new]
    #[pyo3(signature = (seed, change_at = microtrain_stream::Config::DEFAULT.change_at))]
    fn new(seed: u64, change_at: u32) -> Self {
        PySimStream {
            sim: SimStream::new(seed, change_at),
        }
    }

    /// The next window: `(features, truth)`.
    fn next_window<'py>(&mut self, py: Python<'py>) -> PyResult<(Bound<'py, PyArray1<f32>>, usize)> {
        let w = self.sim.next_window().map_err(err)?;
        Ok((PyArray1::from_slice(py, &w.features), w.truth))
    }

    /// The next `n` windows: `(features[n, 9], truth[n], changed[n])`.
    #[allow(clippy::type_complexity)]
    fn windows<'py>(
        &mut self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<(
        Bound<'py, PyArrayDyn<f32>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<bool>>,
    )> {
        let mut x = Vec::with_capacity(n * microtrain_stream::features::FEATURES);
        let mut truth = Vec::with_capacity(n);
        let mut changed = Vec::with_capacity(n);
        for _ in 0..n {
            let w = self.sim.next_window().map_err(err)?;
            x.extend_from_slice(&w.features);
            truth.push(w.truth as i64);
            changed.push(w.changed);
        }
        let x = PyArray1::from_vec(py, x).reshape(vec![n, microtrain_stream::features::FEATURES])?;
        Ok((x, PyArray1::from_vec(py, truth), PyArray1::from_vec(py, changed)))
    }

    /// Windows produced so far.
    #[getter]
    fn position(&self) -> u32 {
        self.sim.position()
    }

    /// Rejected readings so far by kind: bus, non_finite, saturated, stuck.
    #[getter]
    fn bad_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.sim.bad_counts();
        let d = PyDict::new(py);
        d.set_item("bus", c.bus)?;
        d.set_item("non_finite", c.non_finite)?;
        d.set_item("saturated", c.saturated)?;
        d.set_item("stuck", c.stuck)?;
        Ok(d)
    }
}

/// FNV-1a over the bits of float32 `values` (the simulator's and firmware's checksum).
#[pyfunction]
fn checksum(py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<u32> {
    let (v, _) = f32_array(py, values, "values")?;
    Ok(microtrain_stream::weights_checksum(&v))
}

/// The Python module.
#[pymodule]
#[pyo3(name = "microtrain")]
fn microtrain_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyModel>()?;
    m.add_class::<PySimStream>()?;
    m.add_function(wrap_pyfunction!(checksum, m)?)?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("FEATURES", microtrain_stream::features::FEATURES)?;
    m.add("CLASSES", microtrain_stream::model::CLASSES)?;
    m.add("STREAM_LAYERS", "16:relu,3:identity")?;
    m.add("STREAM_LR", microtrain_stream::model::OPTIMIZER.lr)?;
    m.add("STREAM_WINDOWS", microtrain_stream::Config::DEFAULT.windows)?;
    m.add("STREAM_CHANGE_AT", microtrain_stream::Config::DEFAULT.change_at)?;
    m.add(
        "STREAM_LABEL_EVERY",
        microtrain_stream::Config::DEFAULT.label_every,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
