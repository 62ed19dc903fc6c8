//! The 2-D view: each optimizer of the lineup stepping on two parameters `(x, y)` of a
//! test surface with its analytic gradient, through the core's `Optimizer::step`, drawn
//! over the surface's contour lines.
//!
//! | surface | f(x, y) | minimum | start |
//! |---|---|---|---|
//! | Rosenbrock | `(1 - x)^2 + 100 (y - x^2)^2` | (1, 1) | (-1.5, 2) |
//! | Beale | `(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2` | (3, 0.5) | (1, 1.5) |
//! | saddle | `x^2 - y^2` | none (a saddle at 0) | (-1.5, 0.001) |
//!
//! Each optimizer family gets one learning rate per surface ([`Surface::lrs`]). A path
//! stops when it leaves the view (on the saddle, that is the escape). RAdam's first
//! steps, until its variance estimate can be rectified (step 6 with the default betas),
//! are plain momentum steps of `lr` times the gradient, exactly as in PyTorch: on the
//! steep Rosenbrock and Beale surfaces they jump out of the view at once.

use crate::compare::print_files;
use crate::contour::{self, Grid, Segment};
use crate::lineup::{fmt_lr, lineup, Entry};
use crate::plot::{self, color, err, Figure, FONT};
use microtrain::{AnyOptimizer, Optimizer};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Which surface(s) to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SurfaceArg {
    /// Rosenbrock's banana valley.
    Rosenbrock,
    /// Beale's function.
    Beale,
    /// The saddle x^2 - y^2.
    Saddle,
    /// All three.
    All,
    /// No surface figure.
    None,
}

/// A test surface and the settings its figure uses.
#[derive(Clone, Copy)]
pub struct Surface {
    /// Name (file name `surface-<name>`).
    pub name: &'static str,
    /// The formula, for the title.
    pub formula: &'static str,
    /// The function.
    pub f: fn(f64, f64) -> f64,
    /// Its gradient.
    pub grad: fn(f64, f64) -> (f64, f64),
    /// Starting point.
    pub start: (f32, f32),
    /// The global minimum, if any.
    pub minimum: Option<(f64, f64)>,
    /// View in x.
    pub x: (f64, f64),
    /// View in y.
    pub y: (f64, f64),
    /// Learning rates: SGD family, adaptive, Adadelta.
    pub lrs: (f32, f32, f32),
    /// Steps per optimizer.
    pub steps: u32,
    /// Contour levels spaced logarithmically (else linearly).
    pub log_levels: bool,
    /// The legend goes in the lower left corner (else lower right), where the paths are not.
    pub legend_left: bool,
}

fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

fn rosenbrock_grad(x: f64, y: f64) -> (f64, f64) {
    (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x))
}

fn beale_terms(x: f64, y: f64) -> [f64; 3] {
    [1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y * y * y]
}

fn beale(x: f64, y: f64) -> f64 {
    beale_terms(x, y).iter().map(|t| t * t).sum()
}

fn beale_grad(x: f64, y: f64) -> (f64, f64) {
    let [a, b, c] = beale_terms(x, y);
    (
        2.0 * a * (y - 1.0) + 2.0 * b * (y * y - 1.0) + 2.0 * c * (y * y * y - 1.0),
        2.0 * a * x + 2.0 * b * 2.0 * x * y + 2.0 * c * 3.0 * x * y * y,
    )
}

fn saddle(x: f64, y: f64) -> f64 {
    x * x - y * y
}

fn saddle_grad(x: f64, y: f64) -> (f64, f64) {
    (2.0 * x, -2.0 * y)
}

/// The three surfaces.
pub const SURFACES: [Surface; 3] = [
    Surface {
        name: "rosenbrock",
        formula: "(1 - x)² + 100 (y - x²)²",
        f: rosenbrock,
        grad: rosenbrock_grad,
        start: (-1.5, 2.0),
        minimum: Some((1.0, 1.0)),
        x: (-2.0, 2.0),
        y: (-1.0, 3.0),
        lrs: (0.0004, 0.02, 1.0),
        steps: 1000,
        log_levels: true,
        legend_left: true,
    },
    Surface {
        name: "beale",
        formula: "Beale's function",
        f: beale,
        grad: beale_grad,
        start: (1.0, 1.5),
        minimum: Some((3.0, 0.5)),
        x: (-1.0, 4.5),
        y: (-1.5, 2.5),
        lrs: (0.001, 0.02, 1.0),
        steps: 1000,
        log_levels: true,
        legend_left: false,
    },
    Surface {
        name: "saddle",
        formula: "x² - y²",
        f: saddle,
        grad: saddle_grad,
        start: (-1.5, 0.001),
        minimum: None,
        x: (-2.0, 2.0),
        y: (-2.0, 2.0),
        lrs: (0.01, 0.01, 1.0),
        steps: 300,
        log_levels: false,
        legend_left: false,
    },
];

/// An optimizer's path: the points visited and how it ended.
#[derive(Debug, Clone)]
pub struct Path2 {
    /// Legend text.
    pub label: String,
    /// Points from the start.
    pub points: Vec<(f64, f64)>,
}

/// Steps `opt` from the surface's start; stops early if the point leaves the view or
/// stops being finite. Returns the points and a note on how the run ended.
pub fn walk(s: &Surface, opt: &AnyOptimizer) -> (Vec<(f64, f64)>, String) {
    let mut p = [s.start.0, s.start.1];
    let mut state = vec![0.0f32; 2 * opt.state_per_param()];
    opt.init_state(&mut state);
    let mut points = vec![(f64::from(p[0]), f64::from(p[1]))];
    let lr = f64::from(opt.lr());
    for k in 1..=s.steps {
        let (gx, gy) = (s.grad)(f64::from(p[0]), f64::from(p[1]));
        let g = [gx as f32, gy as f32];
        opt.step(&mut p, &g, &mut state, lr, k);
        let (x, y) = (f64::from(p[0]), f64::from(p[1]));
        if !(x.is_finite() && y.is_finite()) {
            return (points, format!("diverged at step {k}"));
        }
        let inside = (s.x.0..=s.x.1).contains(&x) && (s.y.0..=s.y.1).contains(&y);
        points.push((x, y));
        if !inside {
            return (points, format!("left the view at step {k}"));
        }
    }
    let (x, y) = points.last().copied().unwrap_or_default();
    (points, format!("f = {:.2e} after {} steps", (s.f)(x, y), s.steps))
}

struct SurfaceFigure {
    surface: Surface,
    contours: Vec<Vec<Segment>>,
    paths: Vec<Path2>,
}

impl Figure for SurfaceFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let s = &self.surface;
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "Optimizer paths on {}, from ({}, {})",
                    s.formula, s.start.0, s.start.1
                ),
                (FONT, 24),
            )
            .margin(16)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(s.x.0..s.x.1, s.y.0..s.y.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x (parameter 1)")
            .y_desc("y (parameter 2)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(err)?;
        let gray = RGBColor(190, 190, 190);
        for level in &self.contours {
            chart
                .draw_series(level.iter().map(|(a, b)| PathElement::new(vec![*a, *b], gray)))
                .map_err(err)?;
        }
        for (i, p) in self.paths.iter().enumerate() {
            let style = ShapeStyle::from(&color(i)).stroke_width(2);
            chart
                .draw_series(LineSeries::new(p.points.iter().copied(), style))
                .map_err(err)?
                .label(&p.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        let start = (f64::from(s.start.0), f64::from(s.start.1));
        chart
            .draw_series(std::iter::once(Circle::new(start, 6, BLACK.filled())))
            .map_err(err)?
            .label("start")
            .legend(|(x, y)| Circle::new((x + 12, y), 5, BLACK.filled()));
        if let Some(m) = s.minimum {
            chart
                .draw_series(std::iter::once(Cross::new(m, 9, BLACK.stroke_width(3))))
                .map_err(err)?
                .label("minimum")
                .legend(|(x, y)| Cross::new((x + 12, y), 6, BLACK.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(if s.legend_left {
                SeriesLabelPosition::LowerLeft
            } else {
                SeriesLabelPosition::LowerRight
            })
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

fn levels(s: &Surface, grid: &Grid) -> Vec<f64> {
    let (lo, hi) = grid.range();
    let n = 16;
    if s.log_levels {
        let a = lo.max(1e-3).ln();
        let b = hi.ln();
        (1..n)
            .map(|i| (a + (b - a) * f64::from(i) / f64::from(n)).exp())
            .collect()
    } else {
        (1..n)
            .map(|i| lo + (hi - lo) * f64::from(i) / f64::from(n))
            .collect()
    }
}

/// Draws the surface(s) asked for into `dir`.
pub fn run(which: SurfaceArg, dir: &Path) -> Result<(), String> {
    let chosen: Vec<&Surface> = match which {
        SurfaceArg::None => Vec::new(),
        SurfaceArg::All => SURFACES.iter().collect(),
        SurfaceArg::Rosenbrock => vec![&SURFACES[0]],
        SurfaceArg::Beale => vec![&SURFACES[1]],
        SurfaceArg::Saddle => vec![&SURFACES[2]],
    };
    for s in chosen {
        println!("paths on the {} surface:", s.name);
        let (g, a, d) = s.lrs;
        let mut paths = Vec::new();
        for Entry { name, opt } in lineup(g, a, d) {
            let (points, end) = walk(s, &opt);
            let label = format!("{name} (lr {}): {end}", fmt_lr(opt.lr()));
            println!("  {label}");
            paths.push(Path2 { label, points });
        }
        let grid = Grid::sample(s.f, s.x, s.y, 160);
        let contours = levels(s, &grid)
            .iter()
            .map(|l| contour::segments(&grid, *l))
            .collect();
        let fig = SurfaceFigure {
            surface: *s,
            contours,
            paths,
        };
        print_files(&plot::save(&fig, &dir.join(format!("surface-{}", s.name)))?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        for s in &SURFACES {
            for &(x, y) in &[(-1.2, 0.7), (0.3, -0.4), (2.1, 1.3)] {
                let h = 1e-6;
                let dx = ((s.f)(x + h, y) - (s.f)(x - h, y)) / (2.0 * h);
                let dy = ((s.f)(x, y + h) - (s.f)(x, y - h)) / (2.0 * h);
                let (gx, gy) = (s.grad)(x, y);
                assert!(
                    (gx - dx).abs() <= 1e-4 * (1.0 + dx.abs()),
                    "{} d/dx at ({x}, {y})",
                    s.name
                );
                assert!(
                    (gy - dy).abs() <= 1e-4 * (1.0 + dy.abs()),
                    "{} d/dy at ({x}, {y})",
                    s.name
                );
            }
        }
    }

    #[test]
    fn momentum_reaches_the_rosenbrock_valley_floor() {
        let s = &SURFACES[0];
        let opt = AnyOptimizer::from(microtrain::Sgd::momentum(s.lrs.0, 0.9));
        let (points, end) = walk(s, &opt);
        let (x, y) = points.last().copied().unwrap_or_default();
        assert!((s.f)(x, y) < 0.1, "{end}");
        assert_eq!(points.len(), s.steps as usize + 1);
    }
}
