//! Atomic output files: everything is written to a temporary file in the target's
//! directory, then renamed over the target, so a reader (or a crash) never sees a
//! half-written file. On any error the temporary file is removed.

use std::io::Write;
use std::path::Path;

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.display();
    let mut tmp = tempfile::Builder::new()
        .prefix(".microtrain-")
        .tempfile_in(parent(path))
        .map_err(|e| format!("{name}: cannot create a temporary file beside it: {e}"))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| format!("{name}: cannot write: {e}"))?;
    tmp.persist(path)
        .map_err(|e| format!("{name}: cannot write: {}", e.error))?;
    Ok(())
}

/// Lets `render` write a file at a temporary path ending in `suffix` (for libraries
/// that pick the format from the extension), then renames it to `path`.
pub fn write_with(
    path: &Path,
    suffix: &str,
    render: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let name = path.display();
    let tmp = tempfile::Builder::new()
        .prefix(".microtrain-")
        .suffix(suffix)
        .tempfile_in(parent(path))
        .map_err(|e| format!("{name}: cannot create a temporary file beside it: {e}"))?;
    render(tmp.path()).map_err(|e| format!("{name}: {e}"))?;
    tmp.persist(path)
        .map_err(|e| format!("{name}: cannot write: {}", e.error))?;
    Ok(())
}
