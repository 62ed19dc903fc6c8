//! A recorded stream from CSV: one row per sample, any number of axis columns and an
//! optional `label` column (a class index, or a class name), through the pipeline the
//! options configure (window, hop, range, classes, input kind).
//!
//! Values Rust reads as floats but that no sensor gives (`NaN`, `inf`) and saturated
//! values (at the configured range) are bad sensor data: counted and skipped like on a
//! device. A row whose axes are all empty is a failed read (counted as a bus error).
//! Anything else that is not a number, and any label that is not a class, is an error
//! naming the file, line and column.
//!
//! The screening ([`Validator`]), the features ([`features_flat`]) and the model's
//! steps ([`microtrain::Trainer`], Adam, softmax cross-entropy) are the stream crate's
//! and the core's: on the demo's pipeline a CSV gives the same weights, bit for bit, as
//! the firmware's fixed-size [`App`](microtrain_stream::App).

use super::event_line;
use crate::model::HostModel;
use microtrain::data::argmax;
use microtrain::{Activation, Adam, AnyOptimizer, Dense, Loss, Target};
use microtrain_stream::features::features_flat;
use microtrain_stream::metrics::{Accuracy, Metrics};
use microtrain_stream::pipeline::{InputKind, Pipeline, MAX_AXES};
use microtrain_stream::scenario::Event;
use microtrain_stream::standardize::RunningScale;
use microtrain_stream::validate::Validator;
use microtrain_stream::{weights_checksum, SensorError};
use std::path::Path;

/// The model and how it learns, beside the pipeline.
#[derive(Debug, Clone)]
pub struct Learning {
    /// The pipeline's shape (its `axes` is taken from the CSV's header).
    pub pipeline: Pipeline,
    /// Class names by index (`None`: labels are class indices `0..classes`, or the
    /// sorted names found in the CSV).
    pub labels: Option<Vec<String>>,
    /// Hidden units of the MLP.
    pub hidden: usize,
    /// A 1-d CNN on the raw window instead of the MLP (see [`cnn_layers`]).
    pub cnn: bool,
    /// Adam's learning rate.
    pub lr: f32,
    /// Standardise the inputs with their running mean and variance
    /// ([`RunningScale`]: updated by every training window, frozen for the test file).
    pub standardize: bool,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Log the running metrics every this many windows.
    pub log_every: u32,
    /// Passes over the training file (at least 1). The first is the stream as the
    /// device sees it and gives the prequential figures; later passes train on the
    /// same windows again, as an offline learner would (epochs), before the test.
    pub passes: u32,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The class names, by index.
    pub classes: Vec<String>,
    /// Sliding accuracy after each labelled window: `(window, ratio)`.
    pub curve: Vec<(u32, f64)>,
    /// Prequential accuracy (each labelled window predicted before training on it).
    pub prequential: Accuracy,
    /// `confusion[truth][predicted]` of the prequential predictions.
    pub confusion: Vec<Vec<u32>>,
    /// Accuracy and confusion on the held-out CSV, when one was given.
    pub test: Option<(Accuracy, Vec<Vec<u32>>)>,
    /// FNV-1a of the final weights' bits.
    pub checksum: u32,
}

/// A CSV read whole: header, axis columns, rows.
struct Recorded {
    name: String,
    cols: Vec<String>,
    axes: Vec<usize>,
    label: Option<usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

/// A CSV-level error (wrong number of fields, bad UTF-8, I/O) with its line.
fn csv_error(name: &str, e: &csv::Error) -> String {
    let line = e
        .position()
        .map_or(String::new(), |p| format!(" line {}:", p.line()));
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{name}:{line} {len} fields, expected {expected_len} (as in the header)")
        }
        _ => format!("{name}:{line} {e}"),
    }
}

fn read(path: &Path) -> Result<Recorded, String> {
    let name = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("{name}: cannot open: {e}"))?;
    let headers = rdr.headers().map_err(|e| format!("{name}: line 1: {e}"))?.clone();
    let cols: Vec<String> = headers.iter().map(|c| c.trim().to_string()).collect();
    let label = cols.iter().position(|c| c == "label");
    let axes: Vec<usize> = (0..cols.len()).filter(|i| Some(*i) != label).collect();
    for (i, c) in cols.iter().enumerate() {
        if c.is_empty() || cols[..i].contains(c) {
            return Err(format!(
                "{name}: line 1, column {}: header {:?} is empty or repeated; expected axis names and an optional label",
                i + 1,
                c
            ));
        }
    }
    if axes.is_empty() || axes.len() > MAX_AXES {
        return Err(format!(
            "{name}: line 1: header {:?} has {} axis columns; expected 1..={MAX_AXES} (and an optional label)",
            cols.join(","),
            axes.len()
        ));
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(&name, &e))?;
        rows.push((rec.position().map_or(0, |p| p.line()), rec));
    }
    Ok(Recorded {
        name,
        cols,
        axes,
        label,
        rows,
    })
}

impl Recorded {
    fn at(&self, line: u64, col: usize) -> String {
        format!(
            "{}: line {line}, column {} ({})",
            self.name,
            col + 1,
            self.cols.get(col).map_or("?", String::as_str)
        )
    }

    fn label_cell<'r>(&self, rec: &'r csv::StringRecord) -> Option<&'r str> {
        self.label
            .and_then(|i| rec.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The class names: given, or the indices `0..classes` when every label is one,
    /// or the sorted distinct names.
    fn classes(&self, given: &Option<Vec<String>>, classes: usize) -> Vec<String> {
        if let Some(names) = given {
            return names.clone();
        }
        let labels: Vec<&str> = self.rows.iter().filter_map(|(_, r)| self.label_cell(r)).collect();
        if labels.iter().all(|l| l.parse::<usize>().is_ok()) {
            return (0..classes).map(|c| c.to_string()).collect();
        }
        let mut names: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// One row: the read (a failed read when every axis is empty) and the class.
    fn row(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        classes: &[String],
        out: &mut Vec<f32>,
    ) -> Result<(Result<(), SensorError>, Option<usize>), String> {
        out.clear();
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let read = if self.axes.iter().all(|&i| cell(i).is_empty()) {
            Err(SensorError::Bus)
        } else {
            for &i in &self.axes {
                let v: f32 = cell(i)
                    .parse()
                    .map_err(|_| format!("{}: cannot read {:?} as a number", self.at(line, i), cell(i)))?;
                out.push(v);
            }
            Ok(())
        };
        let class = match self.label_cell(rec) {
            None => None,
            Some(l) => Some(classes.iter().position(|c| c == l).ok_or_else(|| {
                format!(
                    "{}: label {l:?} is not a class ({})",
                    self.at(line, self.label.unwrap_or(0)),
                    classes.join(", ")
                )
            })?),
        };
        Ok((read, class))
    }
}

/// The shortest window [`cnn_layers`] takes: 5 readings for the first convolution, 2
/// of its outputs per pooled one, 5 pooled values for the second.
pub const CNN_MIN_WINDOW: usize = 14;

/// The CNN of `--model cnn` for windows of `window` readings of `axes` axes (channel
/// first: one channel per axis) and `classes` classes; `None` for a window shorter than
/// [`CNN_MIN_WINDOW`] or more than 254 axes.
pub fn cnn_layers(axes: usize, window: usize, classes: usize) -> Option<Vec<Dense>> {
    use microtrain::shape::Padding;
    if window < CNN_MIN_WINDOW || axes > 254 {
        return None;
    }
    let l1 = window - 4;
    let l2 = l1 / 2;
    let l3 = l2 - 4;
    Some(vec![
        Dense::conv1d(axes, 8, 5, 1, Padding::None, window, Activation::Relu),
        Dense::max_pool1d(8, l1, 2, 2),
        Dense::conv1d(8, 16, 5, 1, Padding::None, l2, Activation::Relu),
        Dense::global_avg_pool1d(16, l3),
        Dense::new(16, classes, Activation::Identity),
    ])
}

/// The pipeline over one recorded file: validator, sliding window, model input.
struct Windows {
    validator: Validator<MAX_AXES>,
    buf: Vec<f32>,
    input: Vec<f32>,
    /// The raw window channel-major (`[axis][reading]`, for the CNN) rather than
    /// reading after reading.
    channels_first: bool,
}

impl Windows {
    fn new(p: &Pipeline, channels_first: bool) -> Self {
        Windows {
            validator: Validator::new(p.range),
            buf: Vec::with_capacity(p.window * p.axes),
            input: vec![0.0; p.inputs()],
            channels_first,
        }
    }

    /// Screens one read; returns `true` when a window is full (then `input` holds it).
    fn push(&mut self, p: &Pipeline, read: Result<&[f32], SensorError>) -> bool {
        let Ok(r) = read else {
            let _ = self.validator.check_slice(read);
            return false;
        };
        if self.validator.check_slice(Ok(r)).is_err() {
            return false;
        }
        self.buf.extend_from_slice(r);
        if self.buf.len() < p.window * p.axes {
            return false;
        }
        match p.input {
            InputKind::Features => features_flat(&self.buf, p.axes, &mut self.input),
            InputKind::RawWindow if self.channels_first => {
                for (t, reading) in self.buf.chunks_exact(p.axes).enumerate() {
                    for (a, v) in reading.iter().enumerate() {
                        self.input[a * p.window + t] = *v;
                    }
                }
            }
            InputKind::RawWindow => self.input.copy_from_slice(&self.buf),
        }
        self.buf.drain(..p.hop * p.axes);
        true
    }
}

/// Runs the pipeline over the CSV at `train` (prequential: each window predicted, then
/// learnt if labelled), then scores the final model on `test` if given. Prints the
/// firmware's lines and the confusion matrices.
pub fn run(train: &Path, test: Option<&Path>, l: &Learning) -> Result<Outcome, String> {
    let rec = read(train)?;
    let mut p = Pipeline {
        axes: rec.axes.len(),
        ..l.pipeline
    };
    let classes = rec.classes(&l.labels, p.classes);
    p.classes = classes.len();
    p.validate().map_err(|e| format!("{}: pipeline: {e}", rec.name))?;
    if l.hidden == 0 || !(l.lr.is_finite() && l.lr > 0.0) {
        return Err(format!(
            "--hidden {} --lr {}: need hidden >= 1 and lr > 0",
            l.hidden, l.lr
        ));
    }
    if l.passes == 0 {
        return Err("--passes 0: need at least one pass over the training file".into());
    }
    let layers = if l.cnn {
        if p.input != InputKind::RawWindow {
            return Err("--model cnn reads the raw window: add --input raw".into());
        }
        cnn_layers(p.axes, p.window, p.classes).ok_or_else(|| {
            format!(
                "--model cnn needs windows of at least {CNN_MIN_WINDOW} readings (--window {})",
                p.window
            )
        })?
    } else {
        vec![
            Dense::new(p.inputs(), l.hidden, Activation::Relu),
            Dense::new(l.hidden, p.classes, Activation::Identity),
        ]
    };
    let opt = AnyOptimizer::from(Adam::new(l.lr));
    let mut model = HostModel::new(layers.clone(), &opt);
    let mut net = model
        .trainer(opt, Loss::SoftmaxCrossEntropy)
        .map_err(|e| format!("model: {e}"))?;
    net.init_params(l.seed);
    let model = if l.cnn {
        format!(
            "CNN {}x{} -> conv 8 k5, maxpool 2, conv 16 k5, global average -> {} ({} parameters)",
            p.axes,
            p.window,
            p.classes,
            microtrain::shape::params_len(&layers)
        )
    } else {
        format!("MLP {}-{}-{}", p.inputs(), l.hidden, p.classes)
    };
    println!(
        "stream: {}, seed {}, {} axes ({}), window {} hop {} at {} Hz, range {}, {} classes ({}), {:?} input{}, {model}",
        rec.name,
        l.seed,
        p.axes,
        rec.axes.iter().map(|&i| rec.cols[i].as_str()).collect::<Vec<_>>().join(","),
        p.window,
        p.hop,
        p.sample_rate_hz,
        p.range,
        p.classes,
        classes.join(","),
        p.input,
        if l.standardize { " (standardised)" } else { "" },
    );
    let k = p.classes;
    let mut confusion = vec![vec![0u32; k]; k];
    let mut metrics = Metrics::new();
    let mut win = Windows::new(&p, l.cnn);
    let (mut mean, mut m2) = (vec![0.0f32; p.inputs()], vec![0.0f32; p.inputs()]);
    let mut scale = RunningScale::new(&mut mean, &mut m2);
    let (mut windows, mut unlabelled) = (0u32, 0u32);
    let mut curve = Vec::new();
    let mut logits = vec![0.0f32; k];
    let mut reading = Vec::with_capacity(p.axes);
    for (line, r) in &rec.rows {
        let (read, class) = rec.row(*line, r, &classes, &mut reading)?;
        if !win.push(&p, read.map(|()| reading.as_slice())) {
            continue;
        }
        if l.standardize {
            scale.update(&win.input);
            scale.apply(&mut win.input);
        }
        let rejected = |e| format!("{}: line {line}: the model rejected the window: {e:?}", rec.name);
        let predicted = match class {
            Some(c) => {
                let loss = net.train_sample(&win.input, Target::Class(c)).map_err(rejected)?;
                metrics.add_loss(loss);
                argmax(net.last_output())
            }
            None => {
                unlabelled += 1;
                net.predict(&win.input, &mut logits).map_err(rejected)?;
                argmax(&logits)
            }
        };
        windows += 1;
        if let Some(c) = class {
            metrics.score(c == predicted);
            confusion[c][predicted] += 1;
            curve.push((windows, f64::from(metrics.recent().ratio())));
        }
        if windows % l.log_every.max(1) == 0 {
            let e = Event::Progress {
                window: windows,
                recent: metrics.recent(),
                mean_loss: metrics.take_mean_loss(),
                bad: win.validator.counts(),
            };
            println!("{}", event_line(&e));
        }
    }
    let bad = win.validator.counts();
    for _ in 1..l.passes {
        let mut again = Windows::new(&p, l.cnn);
        for (line, r) in &rec.rows {
            let (read, class) = rec.row(*line, r, &classes, &mut reading)?;
            if !again.push(&p, read.map(|()| reading.as_slice())) {
                continue;
            }
            if l.standardize {
                scale.apply(&mut again.input);
            }
            if let Some(c) = class {
                net.train_sample(&again.input, Target::Class(c)).map_err(|e| {
                    format!("{}: line {line}: the model rejected the window: {e:?}", rec.name)
                })?;
            }
        }
    }
    let o = metrics.overall();
    println!(
        "result overall {}/{} (labelled windows, predicted before training)",
        o.correct, o.total
    );
    println!("prequential accuracy {:.1}%", pct(o));
    if l.passes > 1 {
        println!(
            "then {} more passes over the labelled windows (steps {})",
            l.passes - 1,
            net.step_count()
        );
    }
    print_confusion("prequential", &classes, &confusion);
    println!("steps {} unlabelled {unlabelled}", net.step_count());
    println!(
        "bad readings: nan {} saturated {} stuck {} bus {}",
        bad.non_finite, bad.saturated, bad.stuck, bad.bus
    );
    let checksum = weights_checksum(net.params());
    let test = match test {
        None => None,
        Some(path) => {
            let t = read(path)?;
            if t.axes
                .iter()
                .map(|&i| &t.cols[i])
                .ne(rec.axes.iter().map(|&i| &rec.cols[i]))
            {
                return Err(format!(
                    "{}: line 1: axis columns {:?} differ from the training file's {:?}",
                    t.name,
                    t.axes.iter().map(|&i| t.cols[i].as_str()).collect::<Vec<_>>(),
                    rec.axes.iter().map(|&i| rec.cols[i].as_str()).collect::<Vec<_>>()
                ));
            }
            let mut conf = vec![vec![0u32; k]; k];
            let mut acc = Accuracy::default();
            let mut win = Windows::new(&p, l.cnn);
            for (line, r) in &t.rows {
                let (read, class) = t.row(*line, r, &classes, &mut reading)?;
                if !win.push(&p, read.map(|()| reading.as_slice())) {
                    continue;
                }
                if l.standardize {
                    scale.apply(&mut win.input);
                }
                net.predict(&win.input, &mut logits)
                    .map_err(|e| format!("{}: line {line}: the model rejected the window: {e:?}", t.name))?;
                if let Some(c) = class {
                    let predicted = argmax(&logits);
                    acc.add(c == predicted);
                    conf[c][predicted] += 1;
                }
            }
            let bad = win.validator.counts();
            println!(
                "test {}: accuracy {}/{} = {:.1}% (the final model, no training)",
                t.name,
                acc.correct,
                acc.total,
                pct(acc)
            );
            println!(
                "test bad readings: nan {} saturated {} stuck {} bus {}",
                bad.non_finite, bad.saturated, bad.stuck, bad.bus
            );
            print_confusion("test", &classes, &conf);
            Some((acc, conf))
        }
    };
    Ok(Outcome {
        classes,
        curve,
        prequential: o,
        confusion,
        test,
        checksum,
    })
}

/// An accuracy in percent (0 when nothing was scored).
pub fn pct(a: Accuracy) -> f64 {
    if a.total == 0 {
        0.0
    } else {
        100.0 * f64::from(a.correct) / f64::from(a.total)
    }
}

fn print_confusion(what: &str, classes: &[String], m: &[Vec<u32>]) {
    let w = classes.iter().map(String::len).max().unwrap_or(1).max(6);
    println!("{what} confusion (rows: truth, columns: predicted):");
    let head: Vec<String> = classes.iter().map(|c| format!("{c:>w$}")).collect();
    println!("  {:>w$} {} {:>7}", "", head.join(" "), "recall");
    for (c, row) in m.iter().enumerate() {
        let total: u32 = row.iter().sum();
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>w$}")).collect();
        let recall = pct(Accuracy {
            correct: row.get(c).copied().unwrap_or(0),
            total,
        });
        println!("  {:>w$} {} {recall:>6.1}%", classes[c], cells.join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microtrain_stream::{App, Learner, EMPTY_STORAGE};
    use std::io::Write;

    fn csv_file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn demo() -> Learning {
        Learning {
            pipeline: Pipeline::DEMO,
            labels: None,
            hidden: 16,
            cnn: false,
            lr: 0.02,
            standardize: false,
            seed: 1,
            log_every: 5,
            passes: 1,
        }
    }

    fn demo_text() -> String {
        let mut text = String::from("x,y,z,label\n");
        for i in 0..640 {
            let t = (i % 7) as f32 * 0.01;
            let w = i / 32;
            let (y, label) = match w % 3 {
                0 => (0.1, "0"),
                1 => ((i as f32 * 0.7).sin() * 0.6, "1"),
                _ => (0.5, ""),
            };
            text += &format!("{t},{y},0.98,{label}\n");
        }
        text + "NaN,0,1,\n,,,\n3.5,0,1,\n"
    }

    #[test]
    fn later_passes_train_on_but_do_not_score_the_same_windows() {
        let f = csv_file(&demo_text());
        let one = run(f.path(), Some(f.path()), &demo()).unwrap();
        let three = run(f.path(), Some(f.path()), &Learning { passes: 3, ..demo() }).unwrap();
        assert_eq!(
            three.prequential, one.prequential,
            "the prequential figures are the first pass's"
        );
        assert_eq!(three.confusion, one.confusion);
        assert_ne!(three.checksum, one.checksum, "passes 2 and 3 trained the model");
        let err = run(f.path(), None, &Learning { passes: 0, ..demo() }).unwrap_err();
        assert!(err.contains("--passes 0"), "{err}");
    }

    /// The rows through the device's App (fixed-size model, fixed plan) with windows
    /// every `HOP` readings: the final weights' checksum and the accuracy.
    fn via_app<const HOP: usize>(text: &str) -> (u32, Accuracy) {
        let mut storage = EMPTY_STORAGE;
        let mut app = App::<'_, 32, HOP>::with_window(Learner::new(&mut storage, 1).unwrap(), 2.0);
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            let read = if c[..3].iter().all(|s| s.is_empty()) {
                Err(SensorError::Bus)
            } else {
                Ok([
                    c[0].parse().unwrap(),
                    c[1].parse().unwrap(),
                    c[2].parse().unwrap(),
                ])
            };
            if app.push(read) {
                let l = c[3].parse().ok();
                app.finish_window(l, l).unwrap();
            }
        }
        (weights_checksum(app.learner().params()), app.metrics().overall())
    }

    #[test]
    fn on_the_demo_pipeline_the_weights_are_the_firmware_apps_bit_for_bit() {
        let text = demo_text();
        let f = csv_file(&text);
        let out = run(f.path(), None, &demo()).unwrap();
        assert_eq!((out.checksum, out.prequential), via_app::<32>(&text));
        assert_eq!(out.prequential.total, 14);
        assert_eq!(out.confusion.iter().flatten().sum::<u32>(), 14);
        assert_eq!(out.classes, ["0", "1", "2"]);
        // Overlapping windows: the device's App<32, 16> and --hop 16 agree too.
        let half = Learning {
            pipeline: Pipeline {
                hop: 16,
                ..Pipeline::DEMO
            },
            ..demo()
        };
        let out16 = run(f.path(), None, &half).unwrap();
        assert_eq!((out16.checksum, out16.prequential), via_app::<16>(&text));
        assert!(out16.prequential.total > out.prequential.total);
        assert_ne!(out16.checksum, out.checksum);
    }

    #[test]
    fn any_axes_string_labels_hop_and_range() {
        // 5 axes, 2 named classes, values up to 30 (a 40-unit range accepts them).
        let mut text = String::from("ax,ay,az,gx,gy,label\n");
        for i in 0..400 {
            let still = (i / 20) % 2 == 0;
            let v = if still {
                0.0
            } else {
                30.0 * ((i as f32) * 1.3).sin()
            };
            let n = (i % 5) as f32 * 0.01;
            text += &format!(
                "{n},{v},{},{},0.1,{}\n",
                9.8 + n,
                v / 2.0,
                if still { "still" } else { "move" }
            );
        }
        let f = csv_file(&text);
        let l = Learning {
            pipeline: Pipeline {
                window: 10,
                hop: 5,
                range: 40.0,
                ..Pipeline::DEMO
            },
            ..demo()
        };
        let out = run(f.path(), Some(f.path()), &l).unwrap();
        assert_eq!(out.classes, ["move", "still"]);
        assert_eq!(out.prequential.total, (400 - 10) / 5 + 1);
        let (test, conf) = out.test.unwrap();
        assert_eq!(test.total, out.prequential.total);
        // A window that closes on the first rows of a segment still holds the last one's.
        assert!(pct(test) > 80.0, "{test:?} {conf:?}");
        // The demo's 2 g range would reject nearly every moving reading.
        let narrow = Learning {
            pipeline: Pipeline {
                range: 2.0,
                ..l.pipeline
            },
            ..l.clone()
        };
        let few = run(f.path(), None, &narrow).unwrap();
        assert!(
            few.prequential.total < out.prequential.total,
            "{:?}",
            few.prequential
        );
        // Raw windows as input: window * axes inputs.
        let raw = Learning {
            pipeline: Pipeline {
                input: InputKind::RawWindow,
                ..l.pipeline
            },
            ..l.clone()
        };
        assert_eq!(
            run(f.path(), None, &raw).unwrap().prequential.total,
            out.prequential.total
        );
    }

    /// The five-axis, two-class recording of `any_axes_string_labels_hop_and_range`
    /// through a device's `App` built for it (windows of 10 every 5 readings, range
    /// 40, 15 features or the 50 raw values, 2 classes, const generics and a fixed
    /// plan): the simulator's weights, bit for bit.
    #[test]
    fn a_device_app_of_any_axes_and_classes_gives_the_simulators_weights() {
        use microtrain::{plan_for, storage_for};
        use microtrain_stream::model::LOSS;
        const OPT: Adam = Adam::new(0.02);
        const FEAT: [Dense; 2] = [
            Dense::new(15, 16, Activation::Relu),
            Dense::new(16, 2, Activation::Identity),
        ];
        const RAW: [Dense; 2] = [
            Dense::new(50, 16, Activation::Relu),
            Dense::new(16, 2, Activation::Identity),
        ];
        let mut text = String::from("ax,ay,az,gx,gy,label\n");
        for i in 0..400 {
            let still = (i / 20) % 2 == 0;
            let v = if still {
                0.0
            } else {
                30.0 * ((i as f32) * 1.3).sin()
            };
            let n = (i % 5) as f32 * 0.01;
            let label = if still { "still" } else { "move" };
            text += &format!("{n},{v},{},{},0.1,{label}\n", 9.8 + n, v / 2.0);
        }
        /// Every row of `text` through `app` (labels: move 0, still 1).
        fn feed<'a, P: microtrain::Plan, const INPUTS: usize>(
            mut app: App<'a, 10, 5, P, 5, INPUTS, 2>,
            text: &str,
        ) -> App<'a, 10, 5, P, 5, INPUTS, 2> {
            for line in text.lines().skip(1) {
                let c: Vec<&str> = line.split(',').collect();
                let r: [f32; 5] = core::array::from_fn(|i| c[i].parse().unwrap());
                let label = usize::from(c[5] == "still");
                if app.push(Ok(r)) {
                    app.finish_window(Some(label), Some(label)).unwrap();
                }
            }
            app
        }
        let f = csv_file(&text);
        let pipeline = Pipeline {
            window: 10,
            hop: 5,
            range: 40.0,
            ..Pipeline::DEMO
        };
        let host = run(f.path(), None, &Learning { pipeline, ..demo() }).unwrap();
        let mut storage: storage_for!(&FEAT, OPT) = microtrain::Storage::new();
        let learner =
            Learner::<plan_for!(&FEAT, OPT, LOSS), 15, 2>::with_model(&FEAT, storage.buffers(), OPT, 1)
                .unwrap();
        let app = feed(App::<'_, 10, 5, _, 5, 15, 2>::with_window(learner, 40.0), &text);
        assert_eq!(host.checksum, weights_checksum(app.learner().params()));
        assert_eq!(host.prequential, app.metrics().overall());
        // The raw window: 10 readings x 5 axes.
        let raw = Learning {
            pipeline: Pipeline {
                input: InputKind::RawWindow,
                ..pipeline
            },
            ..demo()
        };
        let host = run(f.path(), None, &raw).unwrap();
        let mut storage: storage_for!(&RAW, OPT) = microtrain::Storage::new();
        let learner =
            Learner::<plan_for!(&RAW, OPT, LOSS), 50, 2>::with_model(&RAW, storage.buffers(), OPT, 1)
                .unwrap();
        let app = feed(App::<'_, 10, 5, _, 5, 50, 2>::with_window(learner, 40.0), &text);
        assert_eq!(host.checksum, weights_checksum(app.learner().params()));
        // A model of the wrong shape is refused, naming the layer.
        let mut storage: storage_for!(&FEAT, OPT) = microtrain::Storage::new();
        let e = Learner::<plan_for!(&FEAT, OPT, LOSS), 14, 2>::with_model(&FEAT, storage.buffers(), OPT, 1)
            .unwrap_err();
        assert_eq!(
            e,
            microtrain::ConfigError::LayerMismatch {
                layer: 0,
                expected: 14,
                inputs: 15
            }
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let f = csv_file("x,y,z,label\n0,0,1,0\n0,abc,1,0\n");
        let e = run(f.path(), None, &demo()).unwrap_err();
        assert!(e.contains("line 3, column 2 (y)") && e.contains("\"abc\""), "{e}");
        let f = csv_file("x,y,z,label\n0,0,1,7\n");
        let e = run(f.path(), None, &demo()).unwrap_err();
        assert!(
            e.contains("line 2, column 4 (label)") && e.contains("\"7\""),
            "{e}"
        );
        let f = csv_file("a,a\n1,2\n");
        assert!(run(f.path(), None, &demo())
            .unwrap_err()
            .contains("line 1, column 2"));
        let f = csv_file("label\nx\n");
        assert!(run(f.path(), None, &demo())
            .unwrap_err()
            .contains("0 axis columns"));
        let f = csv_file("x,y,z\n0,0\n");
        let e = run(f.path(), None, &demo()).unwrap_err();
        assert!(e.contains("line 2: 2 fields, expected 3"), "{e}");
        let train = csv_file("x,y,label\n0,1,a\n0,2,b\n");
        let test = csv_file("x,y,label\n0,1,a\n0,2,c\n");
        let l = Learning {
            pipeline: Pipeline {
                window: 2,
                hop: 1,
                ..Pipeline::DEMO
            },
            ..demo()
        };
        let e = run(train.path(), Some(test.path()), &l).unwrap_err();
        assert!(
            e.contains("line 3, column 3 (label)") && e.contains("\"c\""),
            "{e}"
        );
        let test = csv_file("x,w,label\n0,1,a\n");
        let e = run(train.path(), Some(test.path()), &l).unwrap_err();
        assert!(e.contains("axis columns"), "{e}");
        assert!(run(Path::new("/nonexistent/s.csv"), None, &demo())
            .unwrap_err()
            .contains("cannot open"));
    }
}
