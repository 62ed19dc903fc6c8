//! A figure of curves over a count (epochs, steps) on a logarithmic y axis (loss
//! curves), with a legend; a run that diverged ends with a cross where it stopped.
//! The x axis is an integer axis: its ticks are whole counts (`100`, not `100.0`).

use super::{color, err, Figure, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One curve.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// Points `(count, y)`, `y > 0`.
    pub points: Vec<(u64, f64)>,
    /// Draw a cross at the last point (the run diverged after it).
    pub diverged: bool,
}

/// Curves on a log-y chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title at the top.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The curves.
    pub curves: Vec<Curve>,
}

impl Figure for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(err)?;
        let pts = || self.curves.iter().flat_map(|c| c.points.iter());
        let x_max = pts().map(|p| p.0).fold(1, u64::max);
        let ys: Vec<f64> = pts().map(|p| p.1).filter(|y| y.is_finite() && *y > 0.0).collect();
        let y_min = ys.iter().copied().fold(f64::INFINITY, f64::min).max(1e-6);
        let y_max = ys.iter().copied().fold(0.0f64, f64::max).max(y_min * 10.0);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0..x_max, (y_min * 0.8..y_max * 1.25).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .y_label_formatter(&|v| format!("{v:.3}"))
            .draw()
            .map_err(err)?;
        for (i, c) in self.curves.iter().enumerate() {
            let col = color(i);
            let style = ShapeStyle::from(&col).stroke_width(2);
            let points: Vec<(u64, f64)> = c
                .points
                .iter()
                .copied()
                .filter(|p| p.1 > 0.0 && p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.iter().copied(), style))
                .map_err(err)?
                .label(&c.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            if let (true, Some(last)) = (c.diverged, points.last()) {
                chart
                    .draw_series(std::iter::once(Cross::new(*last, 8, col.stroke_width(3))))
                    .map_err(err)?;
            }
        }
        super::legend(&mut chart, SeriesLabelPosition::UpperRight, 16, WHITE.mix(0.85))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::svg_texts;

    #[test]
    fn count_ticks_are_whole_numbers() {
        for (n, ticks) in [
            (100, &["0", "10", "20", "50", "100"][..]),
            (3, &["0", "1", "2", "3"][..]),
            (5000, &["0", "1000", "5000"][..]),
        ] {
            let chart = LineChart {
                title: "t".into(),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                curves: vec![Curve {
                    label: "run".into(),
                    points: (0..=n).map(|e| (e, 1.0 / (1.0 + e as f64))).collect(),
                    diverged: false,
                }],
            };
            let texts = svg_texts(&chart);
            for t in ticks {
                assert!(texts.iter().any(|x| x == t), "no tick {t}: {texts:?}");
            }
            // The y ticks print three decimals; every other number is a whole count.
            let x: Vec<&String> = texts.iter().filter(|t| t.parse::<f64>().is_ok()).collect();
            for t in x.iter().filter(|t| t.contains('.')) {
                assert_eq!(t.split_once('.').map(|p| p.1.len()), Some(3), "{t} in {texts:?}");
            }
            assert!(
                !texts.iter().any(|t| t == "100.0" || t == "0.5" || t == "1.5"),
                "{texts:?}"
            );
        }
    }
}
