//! Per-class recall of a recorded stream: prequential and, when a held-out file was
//! scored, on the test split, as grouped bars.

use crate::figures::{color, err, Figure, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Recall (0..1) per class, one or two series.
#[derive(Debug, Clone)]
pub struct ClassChart {
    /// Title at the top.
    pub title: String,
    /// Class names.
    pub classes: Vec<String>,
    /// `(series name, recall per class)`.
    pub series: Vec<(String, Vec<f64>)>,
}

/// Recall per class of a confusion matrix (`[truth][predicted]`); 0 for an unseen class.
pub fn recalls(confusion: &[Vec<u32>]) -> Vec<f64> {
    confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let total: u32 = row.iter().sum();
            if total == 0 {
                0.0
            } else {
                f64::from(row.get(c).copied().unwrap_or(0)) / f64::from(total)
            }
        })
        .collect()
}

impl Figure for ClassChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(err)?;
        let k = self.classes.len().max(1) as u32;
        let slots = self.series.len().max(1) as u32 + 1;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0..k * slots, 0.0..1.05)
            .map_err(err)?;
        let names = self.classes.clone();
        let label = move |x: &u32| {
            if x % slots == slots / 2 {
                names.get((x / slots) as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels((k * slots) as usize)
            .x_label_formatter(&label)
            .y_desc("recall (correct / windows of the class)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(err)?;
        for (s, (name, values)) in self.series.iter().enumerate() {
            let style = color(s).filled();
            chart
                .draw_series(values.iter().enumerate().map(|(c, v)| {
                    let x = c as u32 * slots + s as u32;
                    Rectangle::new([(x, 0.0), (x + 1, *v)], style)
                }))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], style));
        }
        crate::figures::legend(&mut chart, SeriesLabelPosition::LowerRight, 15, WHITE.to_rgba())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recalls_and_class_names_in_the_figure() {
        assert_eq!(recalls(&[vec![3, 1], vec![0, 0]]), [0.75, 0.0]);
        let chart = ClassChart {
            title: "t".into(),
            classes: vec!["Walking".into(), "Running".into()],
            series: vec![
                ("prequential".into(), vec![0.5, 1.0]),
                ("test".into(), vec![0.25, 0.9]),
            ],
        };
        let texts = crate::figures::svg_texts(&chart);
        for t in ["Walking", "Running", "prequential", "test"] {
            assert!(texts.iter().any(|x| x == t), "no {t}: {texts:?}");
        }
    }
}
