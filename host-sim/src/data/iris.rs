//! The course's Iris data, bundled in the binary (150 rows, 4 features, 3 species).

use super::table::Table;
use super::Columns;

/// The CSV text of `data/iris.csv`.
pub const CSV: &str = include_str!("../../../data/iris.csv");

/// The bundled table.
pub fn table() -> Result<Table, String> {
    Table::parse("bundled iris.csv", CSV.as_bytes())
}

/// Its columns: every measurement as a feature, `species` as the class.
pub fn columns() -> Columns {
    Columns {
        targets: vec!["species".into()],
        ..Columns::default()
    }
}
