//! The value of `--batch-size`, which `train` and `compare` both take: a number of
//! rows per optimizer step, or `all` for full-batch descent.

/// Parses `--batch-size` for a training set of `rows` rows.
pub fn batch_size(text: &str, rows: usize) -> Result<usize, String> {
    if text == "all" {
        return Ok(rows);
    }
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "--batch-size: {text:?} is not a whole number >= 1 or `all`"
        )),
    }
}
