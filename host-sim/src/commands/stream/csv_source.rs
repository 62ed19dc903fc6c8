//! A recorded stream from CSV: one row per sample, `x,y,z[,label]`, in g at 50 Hz.
//!
//! Values Rust reads as floats but that no sensor gives (`NaN`, `inf`) and saturated
//! values are bad sensor data: counted and skipped like on a device. A row whose three
//! axes are all empty is a failed read (counted as a bus error). Anything else that is
//! not a number is an error naming the file, line and column.

use super::event_line;
use microtrain_stream::metrics::Accuracy;
use microtrain_stream::model::CLASSES;
use microtrain_stream::scenario::Event;
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{weights_checksum, App, Learner, Reading, SensorError, EMPTY_STORAGE};
use std::path::Path;

/// One parsed row: the read (or a failed read) and the label, if any.
struct Row {
    read: Result<Reading, SensorError>,
    label: Option<usize>,
}

fn parse_row(rec: &csv::StringRecord, has_label: bool, at: &dyn Fn(usize) -> String) -> Result<Row, String> {
    let cell = |i: usize| rec.get(i).unwrap_or("").trim();
    let read = if (0..3).all(|i| cell(i).is_empty()) {
        Err(SensorError::Bus)
    } else {
        let mut r = [0.0f32; 3];
        for (i, v) in r.iter_mut().enumerate() {
            *v = cell(i)
                .parse()
                .map_err(|_| format!("{}: cannot read {:?} as a number (g)", at(i), cell(i)))?;
        }
        Ok(r)
    };
    let label = if has_label && !cell(3).is_empty() {
        let l: usize = cell(3).parse().ok().filter(|l| *l < CLASSES).ok_or_else(|| {
            format!(
                "{}: label {:?} is not a class 0..={}",
                at(3),
                cell(3),
                CLASSES - 1
            )
        })?;
        Some(l)
    } else {
        None
    };
    Ok(Row { read, label })
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

/// Runs the application over the CSV at `path` (model weights from `seed`), printing
/// the firmware's lines; returns the sliding accuracy per labelled window.
pub fn run(path: &Path, seed: u64, log_every: u32) -> Result<Vec<(u32, f64)>, String> {
    let name = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("{name}: cannot open: {e}"))?;
    let headers = rdr.headers().map_err(|e| format!("{name}: line 1: {e}"))?.clone();
    let cols: Vec<&str> = headers.iter().map(str::trim).collect();
    let has_label = match cols.as_slice() {
        ["x", "y", "z"] => false,
        ["x", "y", "z", "label"] => true,
        _ => {
            return Err(format!(
                "{name}: line 1: header is {:?}; expected x,y,z or x,y,z,label",
                headers.iter().collect::<Vec<_>>().join(",")
            ))
        }
    };
    let mut storage = EMPTY_STORAGE;
    let learner = Learner::new(&mut storage, seed).map_err(|e| format!("model: {e}"))?;
    let mut app = App::new(learner, FULL_SCALE_G);
    let mut curve = Vec::new();
    println!("stream: {name}, seed {seed}");
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(&name, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let at = |i: usize| {
            format!(
                "{name}: line {line}, column {} ({})",
                i + 1,
                cols.get(i).unwrap_or(&"?")
            )
        };
        let row = parse_row(&rec, has_label, &at)?;
        if !app.push(row.read) {
            continue;
        }
        app.finish_window(row.label, row.label)
            .map_err(|e| format!("{name}: line {line}: the model rejected the window: {e:?}"))?;
        if row.label.is_some() {
            curve.push((app.windows(), f64::from(app.metrics().recent().ratio())));
        }
        if app.windows() % log_every == 0 {
            let e = Event::Progress {
                window: app.windows(),
                recent: app.metrics().recent(),
                mean_loss: app.metrics_mut().take_mean_loss(),
                bad: app.bad_counts(),
            };
            println!("{}", event_line(&e));
        }
    }
    let o: Accuracy = app.metrics().overall();
    let bad = app.bad_counts();
    println!(
        "result overall {}/{} (labelled windows, predicted before training)",
        o.correct, o.total
    );
    println!("steps {} unlabelled {}", app.learner().steps(), app.unlabelled());
    println!(
        "bad readings: nan {} saturated {} stuck {} bus {}",
        bad.non_finite, bad.saturated, bad.stuck, bad.bus
    );
    println!("checksum {:#010x}", weights_checksum(app.learner().params()));
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn csv_file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn trains_on_labelled_rows_and_skips_bad_ones() {
        let mut text = String::from("x,y,z,label\n");
        for i in 0..320 {
            let t = (i % 7) as f32 * 0.01;
            text += &format!("{t},0.1,0.98,{}\n", if i % 64 < 32 { "0" } else { "" });
        }
        text += "NaN,0,1,\n,,,\n3.5,0,1,\n";
        let f = csv_file(&text);
        let curve = run(f.path(), 1, 5).unwrap();
        assert_eq!(curve.len(), 5);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let f = csv_file("x,y,z,label\n0,0,1,0\n0,abc,1,0\n");
        let e = run(f.path(), 1, 5).unwrap_err();
        assert!(e.contains("line 3, column 2 (y)") && e.contains("\"abc\""), "{e}");
        let f = csv_file("x,y,z,label\n0,0,1,7\n");
        let e = run(f.path(), 1, 5).unwrap_err();
        assert!(e.contains("line 2, column 4 (label)"), "{e}");
        let f = csv_file("a,b\n1,2\n");
        assert!(run(f.path(), 1, 5).unwrap_err().contains("line 1: header"));
        let f = csv_file("x,y,z\n0,0\n");
        let e = run(f.path(), 1, 5).unwrap_err();
        assert!(e.contains("line 2: 2 fields, expected 3"), "{e}");
        assert!(run(Path::new("/nonexistent/s.csv"), 1, 5)
            .unwrap_err()
            .contains("cannot open"));
    }
}
