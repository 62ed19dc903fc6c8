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

/// A temporary file beside `path`, readable as a normally created file would be
/// (`0o666` minus the umask on Unix, not `tempfile`'s private `0o600`).
fn temp_beside(path: &Path, suffix: &str) -> Result<tempfile::NamedTempFile, String> {
    let mut b = tempfile::Builder::new();
    b.prefix(".microtrain-").suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(parent(path)).map_err(|e| {
        format!(
            "{}: cannot create a temporary file beside it: {e}",
            path.display()
        )
    })
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.display();
    let mut tmp = temp_beside(path, "")?;
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
    let tmp = temp_beside(path, suffix)?;
    render(tmp.path()).map_err(|e| format!("{name}: {e}"))?;
    tmp.persist(path)
        .map_err(|e| format!("{name}: cannot write: {}", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn files_are_readable_like_normal_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let normal = dir.path().join("normal");
        std::fs::write(&normal, b"x").unwrap_or_else(|e| panic!("{e}"));
        let ours = dir.path().join("ours");
        super::write(&ours, b"y").unwrap_or_else(|e| panic!("{e}"));
        let mode = |p: &std::path::Path| p.metadata().map(|m| m.permissions().mode() & 0o777).ok();
        assert_eq!(mode(&ours), mode(&normal));
        assert_eq!(std::fs::read(&ours).ok(), Some(b"y".to_vec()));
    }
}
