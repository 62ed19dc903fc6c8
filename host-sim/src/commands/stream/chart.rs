//! The running accuracy of a stream over its windows, with the regime change marked.
//! The window axis is an integer axis: its ticks are whole counts (`100`, not `100.0`).

use crate::figures::{color, err, Figure, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Sliding accuracy (0..1) per window.
#[derive(Debug, Clone)]
pub struct AccuracyChart {
    /// Title at the top.
    pub title: String,
    /// `(window, accuracy)`.
    pub points: Vec<(u32, f64)>,
    /// Window of the regime change, drawn as a vertical line.
    pub change: Option<u32>,
}

impl Figure for AccuracyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(err)?;
        let x_max = self.points.iter().map(|p| p.0).fold(1, u32::max);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0..x_max, 0.0..1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("window")
            .y_desc("accuracy over the last 50 windows")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(err)?;
        let line = ShapeStyle::from(&color(0)).stroke_width(2);
        chart
            .draw_series(LineSeries::new(self.points.iter().copied(), line))
            .map_err(err)?;
        if let Some(c) = self.change {
            let mark = ShapeStyle::from(&color(3)).stroke_width(2);
            chart
                .draw_series(LineSeries::new([(c, 0.0), (c, 1.05)], mark))
                .map_err(err)?
                .label("regime change")
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], mark));
            crate::figures::legend(&mut chart, SeriesLabelPosition::LowerRight, 15, WHITE.to_rgba())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_ticks_are_whole_numbers() {
        let chart = AccuracyChart {
            title: "t".into(),
            points: (1..=600).map(|w| (w, 0.5)).collect(),
            change: Some(300),
        };
        let texts = crate::figures::svg_texts(&chart);
        for t in ["0", "100", "300", "600"] {
            assert!(texts.iter().any(|x| x == t), "no tick {t}: {texts:?}");
        }
        assert!(!texts.iter().any(|t| t.ends_with("00.0")), "{texts:?}");
    }
}
