//! The 2-D view: each optimizer of the lineup stepping on two parameters `(x, y)` of a
//! test surface with its analytic gradient, through the core's `Optimizer::step`, drawn
//! over the surface's contour lines, as a still figure (PNG, SVG) and an animation
//! (GIF) of the paths growing step by step.
//!
//! | surface | f(x, y) | minimum | start | steps |
//! |---|---|---|---|---|
//! | Rosenbrock | `(1 - x)^2 + 100 (y - x^2)^2` | (1, 1) | (-1.2, 1) | 10000 |
//! | Beale | `(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2` | (3, 0.5) | (1, 1.5) | 3000 |
//! | saddle | `x^2 - y^2` | none (a saddle at 0) | (-1.5, 0.00001) | 300 |
//!
//! Each optimizer's learning rate is searched per surface ([`search`]) unless
//! `--lr NAME=VALUE` fixes it. A path stops when it leaves the view (on the saddle,
//! through the top or bottom edge, that is the escape) or stops being finite.
//!
//! RAdam's first steps, until its variance estimate can be rectified (step 6 with the
//! default betas), are plain momentum steps of `lr` times the gradient, exactly as in
//! PyTorch: on Rosenbrock's steep valley walls a rate like Adam's throws it out of the
//! view within those steps, so its rate there is a tenth of Adam's and it walks the
//! valley slowly.

mod anim;
mod figure;
pub mod search;

use super::lineup::{fmt_lr, lineup, Entry};
use super::print_files;
use crate::figures;
use figure::SurfaceFigure;
use microtrain::{AnyOptimizer, Optimizer};
use search::{Choice, Rule};
use std::path::{Path, PathBuf};

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
    /// Name (file names `surface-<name>.*`).
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
    /// The saddle point, if the figure marks one.
    pub saddle_point: Option<(f64, f64)>,
    /// View in x.
    pub x: (f64, f64),
    /// View in y.
    pub y: (f64, f64),
    /// Steps per optimizer.
    pub steps: u32,
    /// How the search picks each optimizer's learning rate.
    pub rule: Rule,
    /// Contour levels spaced logarithmically (else linearly).
    pub log_levels: bool,
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
        start: (-1.2, 1.0),
        minimum: Some((1.0, 1.0)),
        saddle_point: None,
        x: (-2.0, 2.0),
        y: (-0.5, 2.0),
        steps: 10_000,
        rule: Rule::Arrive { radius: 0.04 },
        log_levels: true,
    },
    Surface {
        name: "beale",
        formula: "Beale's function",
        f: beale,
        grad: beale_grad,
        start: (1.0, 1.5),
        minimum: Some((3.0, 0.5)),
        saddle_point: None,
        x: (-1.0, 4.5),
        y: (-1.5, 2.5),
        steps: 3000,
        rule: Rule::Arrive { radius: 0.05 },
        log_levels: true,
    },
    Surface {
        name: "saddle",
        formula: "x² - y²",
        f: saddle,
        grad: saddle_grad,
        start: (-1.5, 1e-5),
        minimum: None,
        saddle_point: Some((0.0, 0.0)),
        x: (-2.0, 2.0),
        y: (-2.0, 2.0),
        steps: 300,
        rule: Rule::FirstStep { length: 0.05 },
        log_levels: false,
    },
];

/// How a walk ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum End {
    /// All the steps were taken inside the view.
    Finished,
    /// The point left the view at this step (it is the path's last point).
    LeftView(u32),
    /// The point stopped being finite at this step (the path ends before it).
    Diverged(u32),
}

/// The points an optimizer visited from the start, and how the walk ended.
#[derive(Debug, Clone)]
pub struct Walk {
    /// Points from the start: `points[k]` is the point after step `k`.
    pub points: Vec<(f64, f64)>,
    /// How it ended.
    pub end: End,
}

impl Walk {
    /// The last point.
    pub fn last(&self) -> (f64, f64) {
        self.points.last().copied().unwrap_or_default()
    }
}

impl Surface {
    /// Whether `(x, y)` is inside the view (edges included).
    pub fn inside(&self, (x, y): (f64, f64)) -> bool {
        (self.x.0..=self.x.1).contains(&x) && (self.y.0..=self.y.1).contains(&y)
    }

    /// The distance from `p` to the minimum (infinite without one).
    pub fn distance_to_minimum(&self, p: (f64, f64)) -> f64 {
        self.minimum
            .map_or(f64::INFINITY, |m| (p.0 - m.0).hypot(p.1 - m.1))
    }

    /// Steps `opt` from the start for `steps` steps at most; stops early if the point
    /// leaves the view or stops being finite.
    pub fn walk_for(&self, opt: &AnyOptimizer, steps: u32) -> Walk {
        let mut p = [self.start.0, self.start.1];
        let mut state = vec![0.0f32; 2 * opt.state_per_param()];
        opt.init_state(&mut state);
        let mut points = vec![(f64::from(p[0]), f64::from(p[1]))];
        let lr = f64::from(opt.lr());
        for k in 1..=steps {
            let (gx, gy) = (self.grad)(f64::from(p[0]), f64::from(p[1]));
            opt.step(&mut p, &[gx as f32, gy as f32], &mut state, lr, k);
            let q = (f64::from(p[0]), f64::from(p[1]));
            if !(q.0.is_finite() && q.1.is_finite()) {
                return Walk {
                    points,
                    end: End::Diverged(k),
                };
            }
            points.push(q);
            if !self.inside(q) {
                return Walk {
                    points,
                    end: End::LeftView(k),
                };
            }
        }
        Walk {
            points,
            end: End::Finished,
        }
    }

    /// [`walk_for`](Surface::walk_for) the surface's number of steps.
    pub fn walk(&self, opt: &AnyOptimizer) -> Walk {
        self.walk_for(opt, self.steps)
    }

    /// How a walk ended, in words: `f = 5.3e-7 after 10000 steps`, `escaped at step
    /// 38`, `left the view at step 2`, `diverged at step 9`.
    pub fn describe(&self, w: &Walk) -> String {
        match w.end {
            End::Finished => {
                let (x, y) = w.last();
                format!("f = {:.1e} after {} steps", (self.f)(x, y), self.steps)
            }
            End::LeftView(k) => {
                let (_, y) = w.last();
                if self.minimum.is_none() && !(self.y.0..=self.y.1).contains(&y) {
                    format!("escaped at step {k}")
                } else {
                    format!("left the view at step {k}")
                }
            }
            End::Diverged(k) => format!("diverged at step {k}"),
        }
    }
}

/// The surfaces `which` asks for.
pub fn chosen(which: SurfaceArg) -> Vec<&'static Surface> {
    match which {
        SurfaceArg::None => Vec::new(),
        SurfaceArg::All => SURFACES.iter().collect(),
        SurfaceArg::Rosenbrock => vec![&SURFACES[0]],
        SurfaceArg::Beale => vec![&SURFACES[1]],
        SurfaceArg::Saddle => vec![&SURFACES[2]],
    }
}

/// Each lineup optimizer's path on `s`: at the learning rate `fixed` gives for its
/// lineup name, else at the one [`search::choose`] picks.
pub fn paths(s: &Surface, fixed: &[(&str, f32)]) -> Vec<Choice> {
    // The lineup's configs; only their other hyperparameters matter here.
    lineup(0.01, 0.01, 1.0)
        .into_iter()
        .map(
            |Entry { name, opt }| match fixed.iter().find(|(n, _)| *n == name) {
                Some((_, lr)) => search::fixed(s, name, opt, *lr),
                None => search::choose(s, name, opt),
            },
        )
        .collect()
}

/// Draws the surface(s) asked for into `dir` (PNG, SVG and GIF each), printing each
/// optimizer's learning rate and how its path ended. `fixed` holds the `--lr`
/// overrides ([`super::lineup::parse_lr_overrides`]).
pub fn run(which: SurfaceArg, fixed: &[(&str, f32)], dir: &Path) -> Result<(), String> {
    let mut jobs = Vec::new();
    for s in chosen(which) {
        let mut text = format!("paths on the {} surface ({}):\n", s.name, s.rule.describe());
        let choices = paths(s, fixed);
        for c in &choices {
            text += &format!(
                "  {:<9} lr {:<9} {:<9} {}\n",
                c.name,
                fmt_lr(c.opt.lr()),
                c.how.tag(),
                c.summary(s)
            );
        }
        let base = dir.join(format!("surface-{}", s.name));
        jobs.push((text, SurfaceFigure::new(*s, &choices), base));
    }
    // The files of each surface in a thread of its own (encoding the GIF takes the
    // longest); the text in the surfaces' order.
    let written: Vec<Result<Vec<PathBuf>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(_, fig, base)| scope.spawn(move || write(fig, base)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("drawing a surface failed".into()))
            })
            .collect()
    });
    for ((text, _, _), files) in jobs.iter().zip(written) {
        print!("{text}");
        print_files(&files?);
    }
    Ok(())
}

/// Writes `base.png`, `base.svg` and `base.gif`.
fn write(fig: &SurfaceFigure, base: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = figures::save(fig, base)?;
    files.push(anim::save(fig, &base.with_extension("gif"))?);
    Ok(files)
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
    fn walks_stop_where_they_leave_the_view_or_diverge() {
        let s = &SURFACES[0];
        let w = s.walk(&AnyOptimizer::from(microtrain::Sgd::new(1.0)));
        assert!(matches!(w.end, End::LeftView(1)), "{:?}", w.end);
        assert_eq!(w.points.len(), 2);
        assert!(!s.inside(w.last()));
        assert_eq!(s.describe(&w), "left the view at step 1");
        let w = s.walk(&AnyOptimizer::from(microtrain::Sgd::new(1e-4)));
        assert_eq!(w.end, End::Finished);
        assert_eq!(w.points.len(), s.steps as usize + 1);
        assert!(
            s.describe(&w).ends_with("after 10000 steps"),
            "{}",
            s.describe(&w)
        );
    }
}
