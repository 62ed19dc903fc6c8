//! The rows of a recorded stream in CSV, read without an allocator, as the simulator's
//! `stream --source csv` reads them on the demo's pipeline: a firmware replays a
//! recording through the same [`App`](crate::App) and ends with the simulator's
//! weights.
//!
//! The header names `AXES` axis columns (any names; the demo's 3) and an optional
//! `label` column; every row has as many fields. Each cell is trimmed. A row whose axes
//! are all empty is a failed read ([`SensorError::Bus`]); a label is empty (an
//! unlabelled window) or one of the class names, exactly: the simulator's class
//! indices `0`, `1`, ... ([`index_names`]) when the labels are numbers, or names such
//! as `Walking` (the simulator's `--labels`, or the sorted names it finds). Values such
//! as `NaN` or `inf` are read as numbers and left to the
//! [`Validator`](crate::validate::Validator), as a sensor's would be. Quoted fields
//! are not supported (no sensor writes them): they are not numbers.

use crate::pipeline::MAX_AXES;
use crate::sensor::SensorError;

/// Fields a row may have: the axes and a label.
const MAX_FIELDS: usize = MAX_AXES + 1;

/// Class names that are the indices themselves, `"0"` to `"9"`.
const INDICES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The names of `classes` classes labelled by index (`"0"`, `"1"`, ...; up to 10).
pub fn index_names(classes: usize) -> &'static [&'static str] {
    INDICES.get(..classes).unwrap_or(&INDICES)
}

/// What is wrong with a header or a row; columns count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CsvError {
    /// The header does not name exactly the model's number of distinct, non-empty axis
    /// columns and at most one `label` column.
    Header,
    /// The row has `found` fields, the header `expected`.
    Fields {
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// The cell in `column` is not a number.
    Number {
        /// The column, from 1.
        column: usize,
    },
    /// The label in `column` is not one of the class names.
    Label {
        /// The column, from 1.
        column: usize,
    },
}

impl core::fmt::Display for CsvError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CsvError::Header => {
                f.write_str("the header must name 3 distinct axis columns and at most one `label` column")
            }
            CsvError::Fields { expected, found } => {
                write!(f, "{found} fields, expected {expected} (as in the header)")
            }
            CsvError::Number { column } => write!(f, "column {column}: not a number"),
            CsvError::Label { column } => write!(f, "column {column}: the label is not one of the classes"),
        }
    }
}

/// One row: the read, and the class it is labelled with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<const AXES: usize = 3> {
    /// The reading, or a failed read (all axes empty).
    pub read: Result<[f32; AXES], SensorError>,
    /// The label, if the row has one.
    pub label: Option<usize>,
}

/// Where the `AXES` axes and the label are, from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns<const AXES: usize = 3> {
    axes: [usize; AXES],
    label: Option<usize>,
    fields: usize,
}

/// The fields of `line`, trimmed; their count (`MAX_FIELDS + 1` when there are more).
fn split(line: &str) -> ([&str; MAX_FIELDS], usize) {
    let mut cells = [""; MAX_FIELDS];
    let mut n = 0;
    for (slot, cell) in (0..).zip(line.split(',')) {
        if let Some(c) = cells.get_mut(slot) {
            *c = cell.trim();
        }
        n = slot + 1;
    }
    (cells, n)
}

/// `line` without a final `\r` (a file written with CRLF line ends).
fn strip_cr(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

impl<const AXES: usize> Columns<AXES> {
    /// The columns a header names.
    pub fn from_header(line: &str) -> Result<Self, CsvError> {
        let (cells, n) = split(strip_cr(line));
        if n > MAX_FIELDS {
            return Err(CsvError::Header);
        }
        let names = cells.get(..n).ok_or(CsvError::Header)?;
        let mut axes = [0usize; AXES];
        let (mut found, mut label) = (0, None);
        for (i, name) in names.iter().enumerate() {
            let repeated = names.get(..i).is_some_and(|before| before.contains(name));
            if name.is_empty() || repeated {
                return Err(CsvError::Header);
            }
            if *name == "label" {
                label = Some(i);
            } else {
                *axes.get_mut(found).ok_or(CsvError::Header)? = i;
                found += 1;
            }
        }
        if found != AXES {
            return Err(CsvError::Header);
        }
        Ok(Columns {
            axes,
            label,
            fields: n,
        })
    }

    /// One data row, its label one of `classes` (by position). Blank lines are the
    /// caller's to skip.
    pub fn row(&self, line: &str, classes: &[&str]) -> Result<Row<AXES>, CsvError> {
        let (cells, n) = split(strip_cr(line));
        if n != self.fields {
            return Err(CsvError::Fields {
                expected: self.fields,
                found: n,
            });
        }
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let read = if self.axes.iter().all(|&i| cell(i).is_empty()) {
            Err(SensorError::Bus)
        } else {
            let mut r = [0.0f32; AXES];
            for (v, &i) in r.iter_mut().zip(&self.axes) {
                *v = cell(i).parse().map_err(|_| CsvError::Number { column: i + 1 })?;
            }
            Ok(r)
        };
        let label = match self.label.map(cell) {
            None | Some("") => None,
            Some(l) => Some(classes.iter().position(|c| *c == l).ok_or(CsvError::Label {
                column: self.label.unwrap_or(0) + 1,
            })?),
        };
        Ok(Row { read, label })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &[&str] = &["0", "1", "2"];

    #[test]
    fn reads_a_header_and_rows_in_any_column_order() {
        let c = Columns::<3>::from_header("label, ax ,ay,az\r").unwrap();
        assert_eq!(
            c.row("2,0.5,-1,0.25", K).unwrap(),
            Row {
                read: Ok([0.5, -1.0, 0.25]),
                label: Some(2)
            }
        );
        assert_eq!(c.row(",,,", K).unwrap().read, Err(SensorError::Bus));
        assert_eq!(c.row(" ,1,2,3\r", K).unwrap().label, None);
        let nan = c.row("0,NaN,inf,1", K).unwrap().read.unwrap();
        assert!(nan[0].is_nan() && nan[1].is_infinite());
        let c = Columns::<3>::from_header("x,y,z").unwrap();
        assert_eq!(c.row("1,2,3", K).unwrap().label, None);
        // Six axes and named classes.
        let c = Columns::<6>::from_header("a,b,c,d,e,f,label").unwrap();
        let names = ["Running", "Walking"];
        assert_eq!(
            c.row("1,2,3,4,5,6,Walking", &names).unwrap(),
            Row {
                read: Ok([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                label: Some(1)
            }
        );
        assert_eq!(
            c.row("1,2,3,4,5,6,walking", &names),
            Err(CsvError::Label { column: 7 })
        );
        assert_eq!(index_names(3), K);
    }

    #[test]
    fn errors_name_the_column() {
        let c = Columns::<3>::from_header("x,y,z,label").unwrap();
        assert_eq!(c.row("1,abc,3,0", K), Err(CsvError::Number { column: 2 }));
        assert_eq!(c.row("1,,3,0", K), Err(CsvError::Number { column: 2 }));
        assert_eq!(c.row("1,2,3,3", K), Err(CsvError::Label { column: 4 }));
        assert_eq!(c.row("1,2,3,01", K), Err(CsvError::Label { column: 4 }));
        assert_eq!(c.row("1,2,3,walk", K), Err(CsvError::Label { column: 4 }));
        assert_eq!(
            c.row("1,2,3", K),
            Err(CsvError::Fields {
                expected: 4,
                found: 3
            })
        );
        assert_eq!(
            c.row("1,2,3,0,5", K),
            Err(CsvError::Fields {
                expected: 4,
                found: 5
            })
        );
        for bad in ["x,y", "x,y,z,w", "x,x,z", "x,,z", "label,x,y,label", ""] {
            assert_eq!(Columns::<3>::from_header(bad), Err(CsvError::Header), "{bad:?}");
        }
    }
}
