//! A CSV file with a header, read whole into memory with every row's line number, so
//! that any later complaint about a value can name its file, line and column.

use std::path::Path;

/// One data row: its 1-based line in the file and its fields (trimmed).
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line number of the row in the file.
    pub line: u64,
    /// The fields, one per header column.
    pub fields: Vec<String>,
}

/// A CSV table: its source name, header and rows (every row as wide as the header).
#[derive(Debug, Clone)]
pub struct Table {
    /// The file name (or `bundled iris.csv`), used in every message.
    pub source: String,
    /// Column names from the first line.
    pub header: Vec<String>,
    /// The data rows.
    pub rows: Vec<Row>,
}

impl Table {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Table, String> {
        let source = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| format!("{source}: cannot read: {e}"))?;
        Self::parse(&source, &bytes)
    }

    /// Parses CSV text from `bytes`; `source` names it in messages.
    pub fn parse(source: &str, bytes: &[u8]) -> Result<Table, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut header: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        let mut rec = csv::ByteRecord::new();
        loop {
            let more = rdr
                .read_byte_record(&mut rec)
                .map_err(|e| format!("{source}: {}", describe_csv_error(&e)))?;
            if !more {
                break;
            }
            let line = rec.position().map_or(0, |p| p.line());
            let mut fields = Vec::with_capacity(rec.len());
            for (i, f) in rec.iter().enumerate() {
                let s = std::str::from_utf8(f)
                    .map_err(|_| format!("{source}: line {line}, column {}: not valid UTF-8 text", i + 1))?;
                fields.push(s.to_string());
            }
            match &header {
                None => {
                    check_header(source, line, &fields)?;
                    header = Some(fields);
                }
                Some(h) => {
                    if fields.len() != h.len() {
                        return Err(width_error(source, line, h, fields.len()));
                    }
                    rows.push(Row { line, fields });
                }
            }
        }
        let header = header.ok_or_else(|| format!("{source}: empty file (expected a header line)"))?;
        if rows.is_empty() {
            return Err(format!("{source}: no data rows after the header"));
        }
        Ok(Table {
            source: source.to_string(),
            header,
            rows,
        })
    }

    /// Index of the column named `name`.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{}: no column named {name:?} (columns: {})",
                self.source,
                self.header.join(", ")
            )
        })
    }

    /// `file: line L, column C (name)`, the place of a field, for messages.
    pub fn at(&self, row: &Row, col: usize) -> String {
        let name = self.header.get(col).map_or("?", String::as_str);
        format!("{}: line {}, column {} ({name})", self.source, row.line, col + 1)
    }

    /// The field at `col` of `row` as a finite `f32`, or a message naming its place.
    pub fn number(&self, row: &Row, col: usize) -> Result<f32, String> {
        let text = row.fields.get(col).map_or("", String::as_str);
        let v: f32 = text
            .parse()
            .map_err(|_| format!("{}: {text:?} is not a number", self.at(row, col)))?;
        if !v.is_finite() {
            return Err(format!(
                "{}: {text:?} is not a finite number (NaN, infinite or beyond f32 range)",
                self.at(row, col)
            ));
        }
        Ok(v)
    }
}

fn check_header(source: &str, line: u64, fields: &[String]) -> Result<(), String> {
    for (i, f) in fields.iter().enumerate() {
        if f.is_empty() {
            return Err(format!(
                "{source}: line {line}, column {}: empty column name in the header",
                i + 1
            ));
        }
        if fields.iter().take(i).any(|g| g == f) {
            return Err(format!(
                "{source}: line {line}, column {}: duplicate column name {f:?}",
                i + 1
            ));
        }
    }
    Ok(())
}

fn width_error(source: &str, line: u64, header: &[String], got: usize) -> String {
    let want = header.len();
    if got < want {
        let name = header.get(got).map_or("?", String::as_str);
        format!(
            "{source}: line {line}, column {} ({name}): missing; the row has {got} columns, the header {want}",
            got + 1
        )
    } else {
        format!(
            "{source}: line {line}, column {}: extra value; the row has {got} columns, the header {want}",
            want + 1
        )
    }
}

fn describe_csv_error(e: &csv::Error) -> String {
    let line = e.position().map(|p| p.line());
    match (e.kind(), line) {
        (csv::ErrorKind::Io(io), _) => format!("cannot read: {io}"),
        (_, Some(l)) => format!("line {l}: malformed CSV: {e}"),
        (_, None) => format!("malformed CSV: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_and_column() {
        let t = Table::parse("t.csv", b"a,b\n1,2\n3,x\n").unwrap_or_else(|e| panic!("{e}"));
        let row = &t.rows[1];
        assert_eq!(row.line, 3);
        let e = t.number(row, 1).unwrap_err();
        assert_eq!(e, "t.csv: line 3, column 2 (b): \"x\" is not a number");
        let e = Table::parse("t.csv", b"a,b\n1,2\n3\n").unwrap_err();
        assert!(e.starts_with("t.csv: line 3, column 2 (b): missing"), "{e}");
        let e = t.number(&t.rows[0], 0).map(|v| v.to_bits());
        assert_eq!(e, Ok(1.0f32.to_bits()));
        let t = Table::parse("t.csv", b"a\nNaN\n1e39\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(t.number(&t.rows[0], 0).unwrap_err().contains("not a finite"));
        assert!(t.number(&t.rows[1], 0).unwrap_err().contains("not a finite"));
    }
}
