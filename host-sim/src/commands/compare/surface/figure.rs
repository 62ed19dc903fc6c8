//! The optimizers' paths over the surface's contour lines, as small multiples: one
//! panel per optimizer in the lineup's order, three to a row (SGD, Momentum,
//! Nesterov; Adagrad, Adadelta, RMSprop; Adam, AdamW, RAdam), each titled with its
//! learning rate. On a valley floor every path runs along the same curve, so in a
//! single plot the last path drawn would hide the others; in its own panel every
//! path shows whole, and the rows compare one family each.
//!
//! The same drawing serves the still figure ([`Figure`]: every path whole, a dot
//! every `steps / 20` steps, each panel's note saying how the path ended) and each
//! frame of the animation ([`SurfaceFigure::draw_frame`]: every path up to one step,
//! a dot at its head, each panel's note the value there). Sizes scale with the
//! drawing area.

use super::search::{Choice, How};
use super::Surface;
use crate::commands::compare::lineup::fmt_lr;
use crate::figures::contour::{self, Grid};
use crate::figures::{color, err, Figure, FONT};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The width the sizes below are designed for; other widths scale them.
const DESIGN_WIDTH: f64 = 1000.0;
/// Panels per row of the still figure.
const COLUMNS: usize = 3;
/// The still figure marks a path's point every `steps / DOTS` steps: where they
/// bunch up, the optimizer is slow.
const DOTS: u32 = 20;
const CONTOUR_GRAY: RGBColor = RGBColor(205, 205, 205);
const NOTE_GRAY: RGBColor = RGBColor(80, 80, 80);

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One optimizer's path as drawn.
struct Drawn {
    /// `Momentum, lr 0.001`.
    label: String,
    /// How it ended, in a few words.
    note: String,
    /// Every point: `points[k]` after step `k`.
    points: Vec<(f64, f64)>,
    /// The indices of the points the lines go through: consecutive kept points are
    /// at least about half a pixel apart (a 10 000-step path that creeps along a
    /// valley would otherwise fill the SVG with invisible segments).
    keep: Vec<usize>,
}

impl Drawn {
    /// The path up to step `end`, as runs to draw as separate lines: a new run starts
    /// where the path turns back by more than 120 degrees. Plotters' bitmap backend
    /// joins the segments of a wide line with unbounded miters, and at a reversal
    /// (SGD bouncing between a valley's walls) the miter is a spike far off the path.
    fn runs(&self, s: &Surface, end: usize) -> Vec<Vec<(f64, f64)>> {
        let end = end.min(self.points.len() - 1);
        let mut pts: Vec<(f64, f64)> = self
            .keep
            .iter()
            .take_while(|&&j| j <= end)
            .map(|&j| self.points[j])
            .collect();
        if pts.last() != Some(&self.points[end]) {
            pts.push(self.points[end]);
        }
        // Directions in fractions of the view, roughly as drawn.
        let (w, h) = (s.x.1 - s.x.0, s.y.1 - s.y.0);
        let dir = |a: (f64, f64), b: (f64, f64)| ((b.0 - a.0) / w, (b.1 - a.1) / h);
        let mut runs = vec![vec![pts[0]]];
        for i in 1..pts.len() {
            if i >= 2 {
                let (u, v) = (dir(pts[i - 2], pts[i - 1]), dir(pts[i - 1], pts[i]));
                let dot = u.0 * v.0 + u.1 * v.1;
                if dot < -0.5 * u.0.hypot(u.1) * v.0.hypot(v.1) {
                    runs.push(vec![pts[i - 1]]);
                }
            }
            if let Some(run) = runs.last_mut() {
                run.push(pts[i]);
            }
        }
        runs
    }
}

/// A surface with the optimizers' paths on it.
pub struct SurfaceFigure {
    surface: Surface,
    contours: Vec<Vec<(f64, f64)>>,
    paths: Vec<Drawn>,
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

/// The indices of the points of `points` at least `min` apart in view fractions,
/// always with the first and the last.
fn thin(s: &Surface, points: &[(f64, f64)], min: f64) -> Vec<usize> {
    let (w, h) = (s.x.1 - s.x.0, s.y.1 - s.y.0);
    let mut keep = Vec::new();
    let mut last: Option<(f64, f64)> = None;
    for (i, p) in points.iter().enumerate() {
        let far = last.is_none_or(|q| ((p.0 - q.0) / w).hypot((p.1 - q.1) / h) >= min);
        if far || i + 1 == points.len() {
            keep.push(i);
            last = Some(*p);
        }
    }
    keep
}

/// Pixel sizes for a drawing `width` pixels wide: `px` for lines and gaps, `pt` for
/// text, which shrinks less than the picture to stay legible in a small frame.
#[derive(Clone, Copy)]
struct Scale {
    k: f64,
}

impl Scale {
    fn of(width: u32) -> Scale {
        Scale {
            k: f64::from(width) / DESIGN_WIDTH,
        }
    }

    fn px(self, v: f64) -> i32 {
        (v * self.k).round().max(1.0) as i32
    }

    fn width(self, v: f64) -> u32 {
        self.px(v).unsigned_abs()
    }

    fn text(self, size: f64, c: &RGBColor) -> TextStyle<'static> {
        let mut style = TextStyle::from((FONT, size * self.k.sqrt()));
        style.color = c.to_backend_color();
        style
    }
}

impl SurfaceFigure {
    /// The figure of `choices` on `s`.
    pub fn new(s: Surface, choices: &[Choice]) -> SurfaceFigure {
        let grid = Grid::sample(s.f, s.x, s.y, 160);
        let contours = levels(&s, &grid)
            .iter()
            .flat_map(|l| contour::lines(&grid, *l))
            .collect();
        let paths = choices
            .iter()
            .map(|c| Drawn {
                label: format!(
                    "{}, lr {}{}",
                    c.name,
                    fmt_lr(microtrain::Optimizer::lr(&c.opt)),
                    if c.how == How::Fixed { " (--lr)" } else { "" }
                ),
                note: c.short(&s),
                keep: thin(&s, &c.walk.points, 1.0 / 1400.0),
                points: c.walk.points.clone(),
            })
            .collect();
        SurfaceFigure {
            surface: s,
            contours,
            paths,
        }
    }

    /// The number of steps of the longest path.
    pub fn longest(&self) -> usize {
        self.paths
            .iter()
            .map(|p| p.points.len().saturating_sub(1))
            .max()
            .unwrap_or(0)
    }

    fn title(&self) -> String {
        let s = &self.surface;
        format!(
            "{} optimizers on {}, from ({}, {}), {} steps",
            self.paths.len(),
            s.formula,
            s.start.0,
            s.start.1,
            s.steps
        )
    }

    /// A chart of the view on `area`, with tick labels and the contour lines.
    fn chart<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        sc: Scale,
    ) -> Result<Chart<'a, DB>, String> {
        let s = &self.surface;
        let mut chart = ChartBuilder::on(area)
            .margin(sc.px(8.0))
            .x_label_area_size(sc.px(22.0))
            .y_label_area_size(sc.px(30.0))
            .build_cartesian_2d(s.x.0..s.x.1, s.y.0..s.y.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(5)
            .y_labels(5)
            .label_style(sc.text(11.0, &BLACK))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                self.contours
                    .iter()
                    .map(|l| PathElement::new(l.clone(), CONTOUR_GRAY)),
            )
            .map_err(err)?;
        Ok(chart)
    }

    /// The start, and the minimum or the saddle point.
    fn marks<DB: DrawingBackend>(&self, chart: &mut Chart<'_, DB>, sc: Scale) -> Result<(), String> {
        let s = &self.surface;
        let start = (f64::from(s.start.0), f64::from(s.start.1));
        chart
            .draw_series([Circle::new(start, sc.px(6.0), BLACK.filled())])
            .map_err(err)?;
        if let Some(m) = s.minimum {
            let style = BLACK.stroke_width(sc.width(3.0));
            chart
                .draw_series([Cross::new(m, sc.px(9.0), style)])
                .map_err(err)?;
        }
        if let Some(m) = s.saddle_point {
            let style = BLACK.stroke_width(sc.width(2.0));
            chart
                .draw_series([Circle::new(m, sc.px(7.0), style)])
                .map_err(err)?;
        }
        Ok(())
    }

    /// What the black marks are, in words.
    fn key(&self) -> String {
        let s = &self.surface;
        let mut key = vec!["dot: start"];
        if s.minimum.is_some() {
            key.push("cross: minimum");
        }
        if s.saddle_point.is_some() {
            key.push("circle: saddle point");
        }
        key.join(", ")
    }

    /// The interval of the still figure's step dots.
    fn dot_every(&self) -> usize {
        (self.surface.steps / DOTS).max(1) as usize
    }

    /// A panel's note in a frame at step `k`: the value at the path's head, or how
    /// the path ended once it has.
    fn note_at(&self, p: &Drawn, k: usize) -> String {
        let last = p.points.len() - 1;
        if k >= last {
            return p.note.clone();
        }
        let (x, y) = p.points[k];
        format!("f = {:.1e}", (self.surface.f)(x, y))
    }

    /// Draws the panels with every path whole (`upto` = `None`: the still figure), or
    /// up to step `k` with a dot at its head (`Some(k)`: a frame).
    fn draw_panels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        upto: Option<usize>,
    ) -> Result<(), String> {
        let sc = Scale::of(root.dim_in_pixel().0);
        root.fill(&WHITE).map_err(err)?;
        let title = match upto {
            None => self.title(),
            Some(k) => format!("{}: step {}", self.title(), k.min(self.longest())),
        };
        let body = root.titled(&title, sc.text(22.0, &BLACK)).map_err(err)?;
        let subtitle = match upto {
            None => format!(
                "x, y: the two parameters; {}; small dots every {} steps; each optimizer at its own \
                 learning rate (compare --help)",
                self.key(),
                self.dot_every()
            ),
            Some(_) => format!("x, y: the two parameters; {}", self.key()),
        };
        let body = body.titled(&subtitle, sc.text(14.0, &NOTE_GRAY)).map_err(err)?;
        let rows = self.paths.len().div_ceil(COLUMNS);
        let panels = body.split_evenly((rows, COLUMNS));
        for (i, (p, panel)) in self.paths.iter().zip(&panels).enumerate() {
            let note = upto.map_or_else(|| p.note.clone(), |k| self.note_at(p, k));
            let panel = panel.titled(&p.label, sc.text(16.0, &color(i))).map_err(err)?;
            let panel = panel.titled(&note, sc.text(13.0, &NOTE_GRAY)).map_err(err)?;
            let mut chart = self.chart(&panel, sc)?;
            let style = ShapeStyle::from(&color(i)).stroke_width(sc.width(2.0).max(2));
            let runs = p.runs(&self.surface, upto.unwrap_or(usize::MAX));
            chart
                .draw_series(runs.into_iter().map(|r| PathElement::new(r, style)))
                .map_err(err)?;
            let small = Scale { k: sc.k * 0.7 };
            match upto {
                None => {
                    let dots = p.points.iter().step_by(self.dot_every()).skip(1);
                    let dot = color(i).mix(0.6).filled();
                    chart
                        .draw_series(dots.map(|q| Circle::new(*q, sc.px(3.5), dot)))
                        .map_err(err)?;
                    self.marks(&mut chart, small)?;
                }
                Some(k) => {
                    self.marks(&mut chart, small)?;
                    let head = p.points[k.min(p.points.len() - 1)];
                    let r = sc.px(6.0);
                    chart
                        .draw_series([
                            Circle::new(head, r, color(i).filled()),
                            Circle::new(head, r, BLACK.stroke_width(1)),
                        ])
                        .map_err(err)?;
                }
            }
        }
        Ok(())
    }

    /// A frame of the animation: every path up to step `k`, with a dot at its head.
    pub fn draw_frame<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        k: usize,
    ) -> Result<(), String> {
        self.draw_panels(root, Some(k))
    }
}

impl Figure for SurfaceFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        self.draw_panels(root, None)
    }
}
