//! Each optimizer's learning rate on a test surface, found by a small deterministic
//! search instead of one rate per family.
//!
//! **The grid.** The R10 preferred numbers 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8
//! times each power of ten from 1e-5 to 10, then 100: [`grid`] gives 71 values,
//! ten per decade, so that a chosen rate prints short (`0.0016`, not `0.00158489`).
//! Every optimizer walks the surface once per grid value ([`Surface::walk`]); on the
//! three surfaces that is a few million two-parameter steps, well under a second in
//! a release build.
//!
//! **Surfaces with a minimum ([`Rule::Arrive`]).** A path *arrives* if it takes all
//! the surface's steps inside the view and ends within `radius` of the minimum; its
//! *arrival step* is the first step from which it stays within that radius; its
//! *length* is the distance it travels, the sum of its steps' lengths. The rule:
//!
//! 1. drop the rates whose path leaves the view or diverges;
//! 2. among the paths that arrive, find the shortest length `L`;
//! 3. among the paths that arrive and are at most [`WIGGLE`]` * L` long, choose the
//!    one that arrives first (the smaller rate on a tie).
//!
//! Arriving rather than the lowest final value: many rates end at the minimum to
//! `f32` precision (`f = 0`), a tie a final value cannot break. The length bound is
//! the readability tie-break: the fastest rate is usually at the edge of stability,
//! where Momentum overshoots the valley by a unit and RMSprop and Adam zig-zag in a
//! cloud that hides the other paths; a path at most 30 % longer than the optimizer's
//! calmest still shows its character (Momentum's overshoot, Nesterov's damping of
//! it, the adaptive methods' first diagonal steps) with lines a student can follow.
//!
//! If no rate arrives, the rate with the lowest final value among the paths that stay
//! in the view is chosen; if every path leaves the view, the smallest rate.
//!
//! **The saddle ([`Rule::FirstStep`]).** `x^2 - y^2` has no minimum to reach: a
//! path either settles at the saddle point or escapes along `y`, and the lowest value
//! in the view is wherever the view ends. So the optimizers start on equal terms
//! instead: each gets the grid rate whose *first step* is closest to `length` (in
//! ratio; the smaller rate on a tie). Their first steps are the same size; what
//! happens next is the lesson. Near the saddle the gradient vanishes, and SGD's
//! steps, proportional to it, shrink until it stalls; the adaptive methods divide by
//! the gradient's running size, keep their step length and escape along `y`.

use super::{End, Surface, Walk};
use crate::commands::compare::lineup::with_lr;
use microtrain::AnyOptimizer;

/// A path at most this factor longer than the optimizer's shortest arriving path
/// counts as calm enough to draw (step 3 of the rule in the module docs).
pub const WIGGLE: f64 = 1.3;

/// The R10 preferred numbers: ten per decade, evenly spaced in log scale.
const R10: [f64; 10] = [1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0];

/// The learning rates the search tries, ascending: 1e-5 to 8, then 100.
pub fn grid() -> Vec<f32> {
    (-5..=1)
        .flat_map(|e| R10.iter().map(move |m| (m * 10f64.powi(e)) as f32))
        .chain(std::iter::once(100.0))
        .collect()
}

/// How the search picks a learning rate on a surface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// The rate whose path reaches the minimum and stays within `radius` of it
    /// first, among the paths nearly as short as the shortest that does.
    Arrive {
        /// Distance to the minimum that counts as arrived.
        radius: f64,
    },
    /// The rate whose first step is `length` long.
    FirstStep {
        /// Length of the first step.
        length: f64,
    },
}

impl Rule {
    /// The rule in a few words, for the printed header.
    pub fn describe(&self) -> String {
        let n = grid().len();
        match self {
            Rule::Arrive { radius } => format!(
                "of {n} learning rates, the first to stay within {radius} of the minimum with a path at \
                 most {WIGGLE}x the shortest"
            ),
            Rule::FirstStep { length } => {
                format!("of {n} learning rates, the one whose first step is closest to {length}")
            }
        }
    }
}

/// Where an optimizer's learning rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The search.
    Searched,
    /// `--lr NAME=VALUE`.
    Fixed,
}

impl How {
    /// `searched` or `(--lr)`.
    pub fn tag(self) -> &'static str {
        match self {
            How::Searched => "searched",
            How::Fixed => "(--lr)",
        }
    }
}

/// An optimizer at its learning rate on a surface, and its path.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Lineup name (`Momentum`).
    pub name: &'static str,
    /// The config, at the chosen learning rate.
    pub opt: AnyOptimizer,
    /// Its path.
    pub walk: Walk,
    /// Searched or fixed.
    pub how: How,
}

impl Choice {
    /// How the path went, in words: the arrival step or the end of the walk (and, on
    /// the saddle, the first step's length and where the path stalled).
    pub fn summary(&self, s: &Surface) -> String {
        let end = s.describe(&self.walk);
        match s.rule {
            Rule::Arrive { radius } => match arrival(s, &self.walk, radius) {
                Some(k) => format!("within {radius} of the minimum from step {k}, {end}"),
                None => format!("{end}, did not arrive"),
            },
            Rule::FirstStep { .. } => {
                let first = format!("first step {:.3}", first_step(&self.walk));
                match self.walk.end {
                    End::Finished => {
                        format!("{first}, at {} after {} steps", point(self.walk.last()), s.steps)
                    }
                    _ => format!("{first}, {end}"),
                }
            }
        }
    }

    /// The legend's second line: a shorter [`summary`](Choice::summary).
    pub fn short(&self, s: &Surface) -> String {
        match (s.rule, self.walk.end) {
            (Rule::Arrive { radius }, End::Finished) => match arrival(s, &self.walk, radius) {
                Some(k) => format!("arrives at step {k}"),
                None => s.describe(&self.walk),
            },
            (Rule::FirstStep { .. }, End::Finished) => format!("ends at {}", point(self.walk.last())),
            _ => s.describe(&self.walk),
        }
    }
}

/// `(x, y)` to two decimals, without a sign on a zero (`(0.00, 0.13)`).
fn point((x, y): (f64, f64)) -> String {
    let two = |v: f64| {
        let t = format!("{v:.2}");
        if t == "-0.00" {
            "0.00".into()
        } else {
            t
        }
    };
    format!("({}, {})", two(x), two(y))
}

/// The first step from which `w` stays within `radius` of the minimum, if it ends
/// there after all the surface's steps.
pub fn arrival(s: &Surface, w: &Walk, radius: f64) -> Option<usize> {
    let near = |p: &(f64, f64)| s.distance_to_minimum(*p) <= radius;
    if w.end != End::Finished || !near(&w.last()) {
        return None;
    }
    Some(w.points.iter().rposition(|p| !near(p)).map_or(0, |i| i + 1))
}

/// The distance `w` travels: the sum of its steps' lengths.
pub fn length(w: &Walk) -> f64 {
    w.points
        .windows(2)
        .map(|p| (p[1].0 - p[0].0).hypot(p[1].1 - p[0].1))
        .sum()
}

fn first_step(w: &Walk) -> f64 {
    match w.points.as_slice() {
        [a, b, ..] => (b.0 - a.0).hypot(b.1 - a.1),
        _ => 0.0,
    }
}

/// `opt` at learning rate `lr` on `s`, as `--lr` asked.
pub fn fixed(s: &Surface, name: &'static str, opt: AnyOptimizer, lr: f32) -> Choice {
    at_rate(s, name, opt, lr, How::Fixed)
}

/// `opt` at the learning rate the surface's rule picks (module docs).
pub fn choose(s: &Surface, name: &'static str, opt: AnyOptimizer) -> Choice {
    let lr = match s.rule {
        Rule::Arrive { radius } => by_arrival(s, opt, radius),
        Rule::FirstStep { length } => by_first_step(s, opt, length),
    };
    at_rate(s, name, opt, lr, How::Searched)
}

/// `opt`'s walk on `s` at learning rate `lr`, chosen `how`.
fn at_rate(s: &Surface, name: &'static str, opt: AnyOptimizer, lr: f32, how: How) -> Choice {
    let opt = with_lr(opt, lr);
    Choice {
        name,
        opt,
        walk: s.walk(&opt),
        how,
    }
}

fn by_arrival(s: &Surface, opt: AnyOptimizer, radius: f64) -> f32 {
    let grid = grid();
    let walks: Vec<(f32, Walk)> = grid
        .iter()
        .map(|&lr| (lr, s.walk(&with_lr(opt, lr))))
        .filter(|(_, w)| w.end == End::Finished)
        .collect();
    // (rate, arrival step, length) of the paths that arrive, rates ascending.
    let arrivals: Vec<(f32, usize, f64)> = walks
        .iter()
        .filter_map(|(lr, w)| arrival(s, w, radius).map(|k| (*lr, k, length(w))))
        .collect();
    let shortest = arrivals.iter().map(|a| a.2).fold(f64::INFINITY, f64::min);
    // `min_by_key` keeps the first of equal elements: the smaller rate on a tie.
    if let Some((lr, _, _)) = arrivals
        .iter()
        .filter(|a| a.2 <= WIGGLE * shortest)
        .min_by_key(|a| a.1)
    {
        return *lr;
    }
    let value = |w: &Walk| {
        let (x, y) = w.last();
        (s.f)(x, y)
    };
    walks
        .iter()
        .min_by(|a, b| value(&a.1).total_cmp(&value(&b.1)))
        .map_or(grid[0], |(lr, _)| *lr)
}

fn by_first_step(s: &Surface, opt: AnyOptimizer, length: f64) -> f32 {
    let grid = grid();
    let miss = |lr: f32| {
        let step = first_step(&s.walk_for(&with_lr(opt, lr), 1));
        if step > 0.0 {
            (step / length).ln().abs()
        } else {
            f64::INFINITY
        }
    };
    let misses: Vec<f64> = grid.iter().map(|&lr| miss(lr)).collect();
    // `min_by` keeps the first of equal elements: the smaller rate on a tie.
    let best = (0..grid.len()).min_by(|&a, &b| misses[a].total_cmp(&misses[b]));
    best.map_or(grid[0], |i| grid[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::compare::lineup::{fmt_lr, lineup};
    use crate::commands::compare::surface::{paths, SURFACES};

    #[test]
    fn the_grid_is_ten_per_decade_and_prints_short() {
        let g = grid();
        assert_eq!(g.len(), 71);
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(fmt_lr(g[0]), "0.00001");
        assert_eq!(fmt_lr(g[22]), "0.0016");
        assert_eq!(fmt_lr(g[70]), "100");
        // Ten per decade: each value about 10^0.1 times the previous.
        for w in g[..70].windows(2) {
            let r = f64::from(w[1] / w[0]);
            assert!((1.2..1.3).contains(&r), "{w:?}");
        }
    }

    fn by_name<'a>(choices: &'a [Choice], name: &str) -> &'a Choice {
        choices
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn every_rosenbrock_path_stays_in_view_and_ends_at_the_minimum() {
        let s = &SURFACES[0];
        let choices = paths(s, &[]);
        assert_eq!(choices.len(), 9);
        for c in &choices {
            assert_eq!(c.how, How::Searched);
            assert_eq!(c.walk.end, End::Finished, "{}: {}", c.name, c.summary(s));
            assert!(c.walk.points.iter().all(|p| s.inside(*p)), "{}", c.name);
            let (x, y) = c.walk.last();
            assert!(
                s.distance_to_minimum((x, y)) <= 0.04,
                "{}: {}",
                c.name,
                c.summary(s)
            );
            assert!((s.f)(x, y) < 1e-3, "{}: {}", c.name, c.summary(s));
            assert!(arrival(s, &c.walk, 0.04).is_some(), "{}", c.name);
        }
    }

    #[test]
    fn every_beale_path_ends_at_the_minimum() {
        let s = &SURFACES[1];
        for c in &paths(s, &[]) {
            assert_eq!(c.walk.end, End::Finished, "{}: {}", c.name, c.summary(s));
            let (x, y) = c.walk.last();
            assert!((s.f)(x, y) < 1e-3, "{}: {}", c.name, c.summary(s));
        }
    }

    #[test]
    fn the_search_trades_a_little_speed_for_calm_paths() {
        let s = &SURFACES[0];
        let Rule::Arrive { radius } = s.rule else {
            panic!("Rosenbrock is searched by arrival")
        };
        let base = lineup(0.01, 0.01, 1.0)[1].opt;
        let momentum = choose(s, "Momentum", base);
        let chosen = length(&momentum.walk);
        // Every arriving rate's path: the chosen one is within WIGGLE of the
        // shortest, and the fastest one (a wild ride at the edge of stability) is not.
        let runs: Vec<(usize, f64)> = grid()
            .into_iter()
            .map(|lr| s.walk(&with_lr(base, lr)))
            .filter_map(|w| arrival(s, &w, radius).map(|k| (k, length(&w))))
            .collect();
        let shortest = runs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
        assert!(chosen <= WIGGLE * shortest, "{chosen} vs {shortest}");
        let fastest = runs.iter().min_by_key(|r| r.0).map_or(0.0, |r| r.1);
        assert!(fastest > WIGGLE * shortest, "{fastest} vs {shortest}");
        // Momentum overshoots: its path is longer than Nesterov's, which damps it.
        let nesterov = choose(s, "Nesterov", lineup(0.01, 0.01, 1.0)[2].opt);
        assert!(chosen > 1.1 * length(&nesterov.walk));
    }

    #[test]
    fn on_the_saddle_sgd_stalls_where_adaptive_methods_escape() {
        let s = &SURFACES[2];
        let Rule::FirstStep { length: first } = s.rule else {
            panic!("the saddle is searched by first step")
        };
        let choices = paths(s, &[]);
        // Equal first steps: within about half a grid step (10^0.05) of the target.
        for c in &choices {
            let ratio = first_step(&c.walk) / first;
            assert!((0.85..1.18).contains(&ratio), "{}: {ratio}", c.name);
        }
        // SGD ends at the saddle point, still on the ridge line y = 0 ...
        let sgd = by_name(&choices, "SGD");
        assert_eq!(sgd.walk.end, End::Finished);
        let (x, y) = sgd.walk.last();
        assert!(x.abs() < 0.05 && y.abs() < 0.3, "SGD at ({x}, {y})");
        // ... while the adaptive methods, in the same steps, are far from it or out.
        for name in ["Adagrad", "RMSprop", "Adam", "AdamW", "RAdam", "Adadelta"] {
            let c = by_name(&choices, name);
            let (_, yc) = c.walk.last();
            assert!(yc.abs() > 1.0, "{name}: {}", c.summary(s));
            assert!(yc.abs() > 5.0 * y.abs(), "{name}: {}", c.summary(s));
        }
        assert!(by_name(&choices, "Adam").summary(s).contains("escaped at step"));
    }

    #[test]
    fn a_fixed_rate_replaces_the_search_for_that_optimizer_only() {
        let s = &SURFACES[0];
        let searched = paths(s, &[]);
        let fixed = paths(s, &[("Adam", 0.05), ("SGD", 0.5)]);
        for (a, b) in searched.iter().zip(&fixed) {
            match b.name {
                "Adam" => {
                    assert_eq!((b.how, b.opt.lr()), (How::Fixed, 0.05));
                    assert_ne!(a.opt.lr(), 0.05);
                }
                "SGD" => {
                    // SGD at 0.5 jumps out of the view at once: drawn as it is.
                    assert_eq!((b.how, b.opt.lr()), (How::Fixed, 0.5));
                    assert_eq!(b.walk.end, End::LeftView(1));
                }
                _ => {
                    assert_eq!(b.how, How::Searched);
                    assert_eq!(a.opt.lr(), b.opt.lr(), "{}", a.name);
                    assert_eq!(a.walk.points, b.walk.points, "{}", a.name);
                }
            }
        }
    }
}
