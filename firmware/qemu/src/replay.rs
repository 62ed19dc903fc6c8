//! Replaying a recorded stream (`csv=PATH`): the rows of a CSV on the host, read
//! through semihosting, go through an [`App`] (screening, windows, features, one Adam
//! step per labelled window): the stream firmware's, or the `har` binary's. The format
//! is [`microtrain_stream::csv_row`]'s; `microtrain-sim stream --source csv --csv PATH`
//! with the same pipeline runs the same rows on the desktop and ends with the same
//! checksum.

use crate::hostfile::{HostFile, Mode};
use defmt::{error, info};
use microtrain::Plan;
use microtrain_stream::csv_row::{Columns, CsvError};
use microtrain_stream::{weights_checksum, App};

/// Bytes read from the host at a time; a line must fit in it.
const CHUNK: usize = 512;

/// Why a replay stopped.
enum ReplayError {
    File(crate::hostfile::FileError),
    LineTooLong,
    NotUtf8,
    Csv(CsvError),
    Step(microtrain::StepError),
}

impl defmt::Format for ReplayError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            ReplayError::File(e) => defmt::write!(f, "cannot read the file: {}", e),
            ReplayError::LineTooLong => defmt::write!(f, "longer than {=usize} bytes", CHUNK),
            ReplayError::NotUtf8 => defmt::write!(f, "not UTF-8 text"),
            ReplayError::Csv(e) => defmt::write!(f, "{}", defmt::Display2Format(e)),
            ReplayError::Step(e) => defmt::write!(f, "the model rejected the window: {}", e),
        }
    }
}

/// Whether the replay ran to the end of the file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Replayed {
    /// Every row was read; the results are logged.
    Done,
    /// It stopped at a bad line or file (logged).
    Failed,
}

/// Replays the CSV at `path` through `app`, the labels being `classes` (by position).
pub fn run<
    const LEN: usize,
    const HOP: usize,
    P: Plan,
    const AXES: usize,
    const INPUTS: usize,
    const CLASSES: usize,
>(
    path: &str,
    classes: &[&str],
    mut app: App<'_, LEN, HOP, P, AXES, INPUTS, CLASSES>,
) -> Replayed {
    let mut line = 0u32;
    match replay(path, classes, &mut app, &mut line) {
        Ok(rows) => {
            let o = app.metrics().overall();
            info!(
                "replayed {=str}: {=u32} rows, {=u32} windows",
                path,
                rows,
                app.windows()
            );
            info!(
                "result overall {=u32}/{=u32} (labelled windows, predicted before training)",
                o.correct, o.total
            );
            info!(
                "steps {=u32} unlabelled {=u32}",
                app.learner().steps(),
                app.unlabelled()
            );
            let bad = app.bad_counts();
            info!(
                "bad readings: nan {=u32} saturated {=u32} stuck {=u32} bus {=u32}",
                bad.non_finite, bad.saturated, bad.stuck, bad.bus
            );
            info!("checksum {=u32:#010x}", weights_checksum(app.learner().params()));
            Replayed::Done
        }
        Err(e) if line == 0 => {
            error!("{=str}: {}", path, e);
            Replayed::Failed
        }
        Err(e) => {
            error!("{=str}: line {=u32}: {}", path, line, e);
            Replayed::Failed
        }
    }
}

/// Reads the file chunk by chunk and feeds its rows to `app`; `line` is the line being
/// read (for the error). Returns the number of data rows.
fn replay<
    const LEN: usize,
    const HOP: usize,
    P: Plan,
    const AXES: usize,
    const INPUTS: usize,
    const CLASSES: usize,
>(
    path: &str,
    classes: &[&str],
    app: &mut App<'_, LEN, HOP, P, AXES, INPUTS, CLASSES>,
    line: &mut u32,
) -> Result<u32, ReplayError> {
    let mut file = HostFile::open(path, Mode::Read).map_err(ReplayError::File)?;
    let len = file.len().map_err(ReplayError::File)?;
    let mut buf = [0u8; CHUNK];
    let (mut filled, mut at, mut rows) = (0usize, 0usize, 0u32);
    let mut columns: Option<Columns<AXES>> = None;
    loop {
        let n = (CHUNK - filled).min(len - at);
        if let Some(dst) = buf.get_mut(filled..filled + n).filter(|d| !d.is_empty()) {
            file.read_at(at, dst).map_err(ReplayError::File)?;
            (at, filled) = (at + n, filled + n);
        }
        let mut start = 0;
        while let Some(end) = buf
            .get(start..filled)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
        {
            *line += 1;
            rows += take_line(
                buf.get(start..start + end).unwrap_or(&[]),
                &mut columns,
                classes,
                app,
            )?;
            start += end + 1;
        }
        if at == len {
            if start < filled {
                *line += 1;
                rows += take_line(buf.get(start..filled).unwrap_or(&[]), &mut columns, classes, app)?;
            }
            if columns.is_none() {
                *line = 1;
                return Err(ReplayError::Csv(CsvError::Header));
            }
            return Ok(rows);
        }
        if start == 0 && filled == CHUNK {
            *line += 1;
            return Err(ReplayError::LineTooLong);
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}

/// One line: the header, a blank line (skipped), or a row pushed to `app`, closing a
/// window when it fills. Returns 1 for a data row.
fn take_line<
    const LEN: usize,
    const HOP: usize,
    P: Plan,
    const AXES: usize,
    const INPUTS: usize,
    const CLASSES: usize,
>(
    bytes: &[u8],
    columns: &mut Option<Columns<AXES>>,
    classes: &[&str],
    app: &mut App<'_, LEN, HOP, P, AXES, INPUTS, CLASSES>,
) -> Result<u32, ReplayError> {
    let text = core::str::from_utf8(bytes).map_err(|_| ReplayError::NotUtf8)?;
    let Some(cols) = columns else {
        *columns = Some(Columns::from_header(text).map_err(ReplayError::Csv)?);
        return Ok(0);
    };
    if text.trim().is_empty() {
        return Ok(0);
    }
    let row = cols.row(text, classes).map_err(ReplayError::Csv)?;
    if app.push(row.read) {
        app.finish_window(row.label, row.label)
            .map_err(ReplayError::Step)?;
    }
    Ok(1)
}
