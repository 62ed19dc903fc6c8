//! The animation of a surface figure: a GIF whose frames show the paths growing in
//! their panels, a dot at each path's head and the value there, the step in the
//! title, then the last frame held for a moment before the loop starts again.
//!
//! Frame `i` of `n` shows step `ceil(K (i / n)^2)`, `K` the longest path's steps: the
//! first steps, where momentum overshoots and RAdam warms up, get many frames; the
//! long creep along a valley gets few.

use super::figure::SurfaceFigure;
use crate::atomic_file;
use crate::figures::{err, register_font};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Frame size in pixels (smaller than the still figure, to keep the file small).
pub const SIZE: (u32, u32) = (720, 504);
/// Frames of growing paths.
pub const FRAMES: usize = 40;
/// Display time of a frame, in milliseconds.
pub const DELAY_MS: u32 = 130;
/// Extra copies of the last frame: a pause of `HOLD * DELAY_MS` before the loop.
pub const HOLD: usize = 3;

/// The step each frame shows, increasing, ending at `longest` (module docs).
pub fn frame_steps(longest: usize, frames: usize) -> Vec<usize> {
    let mut steps: Vec<usize> = (1..=frames)
        .map(|i| {
            let t = i as f64 / frames as f64;
            (longest as f64 * t * t).ceil() as usize
        })
        .collect();
    steps.dedup();
    steps
}

/// Writes the animation of `fig` to `path` atomically; returns the path.
pub fn save(fig: &SurfaceFigure, path: &Path) -> Result<PathBuf, String> {
    register_font();
    atomic_file::write_with(path, ".gif", |tmp| {
        let root = BitMapBackend::gif(tmp, SIZE, DELAY_MS)
            .map_err(|e| format!("cannot write the GIF: {e}"))?
            .into_drawing_area();
        let steps = frame_steps(fig.longest(), FRAMES);
        for &k in &steps {
            fig.draw_frame(&root, k)?;
            root.present().map_err(err)?;
        }
        for _ in 0..HOLD {
            root.present().map_err(err)?;
        }
        Ok(())
    })?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_steps_get_more_frames() {
        let s = frame_steps(10_000, 90);
        assert_eq!(s.last(), Some(&10_000));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        // A tenth of the frames covers the first hundredth of the steps.
        assert!(s[8] <= 100, "{}", s[8]);
        // Short walks: no frame repeats a step.
        assert_eq!(frame_steps(10, 90).len(), 10);
    }
}
