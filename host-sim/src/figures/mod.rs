//! Figures: written as PNG and SVG with `plotters`, atomically, with the bundled DejaVu
//! Sans font (so text renders on any machine, without system font libraries).
//!
//! A figure implements [`Figure`] once, generic over the drawing backend, and
//! [`save`] renders it to both formats. Two general kinds of figure, tied to no
//! command, are here too: curves over a count ([`line_chart`]) and the contour lines
//! of a function ([`contour`]); the figures that show one command's results (the
//! surface panels of `compare`, the accuracy chart of `stream`) live with it.

pub mod contour;
pub mod line_chart;

use crate::atomic_file;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The font family name every figure uses.
pub const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Figure size in pixels.
pub const SIZE: (u32, u32) = (1000, 700);

/// Distinct line colors (the "tab10" palette) for up to ten series.
pub const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The color of series `i`.
pub fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// Something drawable on any backend.
pub trait Figure {
    /// Draws the figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Registers the bundled font under [`FONT`] (once; every later call does nothing).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate; if registration
        // failed anyway, text would be missing from PNGs but nothing else breaks.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// Renders `fig` to `base.png` and `base.svg`; returns both paths.
pub fn save(fig: &impl Figure, base: &Path) -> Result<Vec<PathBuf>, String> {
    register_font();
    let png = base.with_extension("png");
    atomic_file::write_with(&png, ".png", |tmp| {
        let root = BitMapBackend::new(tmp, SIZE).into_drawing_area();
        fig.draw(&root)?;
        root.present().map_err(|e| format!("cannot write the PNG: {e}"))
    })?;
    let svg = base.with_extension("svg");
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        fig.draw(&root)?;
        root.present()
            .map_err(|e| format!("{}: cannot render: {e}", svg.display()))?;
    }
    atomic_file::write(&svg, text.as_bytes())?;
    Ok(vec![png, svg])
}

/// Draws the chart's legend (its series' labels) at `position`, in the figures' style:
/// the figures' font at `size`, on a white box with a black border.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    size: u32,
    background: RGBAColor,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font((FONT, size))
        .background_style(background)
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(err)
}

/// Maps a plotters error to a message.
pub fn err<E: std::fmt::Display>(e: E) -> String {
    format!("drawing failed: {e}")
}

/// The text of every `<text>` element of `fig` rendered to SVG (for tests of labels).
#[cfg(test)]
pub fn svg_texts(fig: &impl Figure) -> Vec<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        fig.draw(&root).unwrap_or_else(|e| panic!("{e}"));
        root.present().unwrap_or_else(|e| panic!("{e}"));
    }
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
        .collect()
}
