//! Contour lines of a function on a grid, by marching squares: in each grid cell, the
//! points where a level crosses the cell's edges (linearly interpolated) are joined
//! in pairs; [`lines`] then chains the pairs into polylines (a figure draws a few
//! hundred lines instead of thousands of two-point segments).

use std::collections::HashMap;

/// A line segment.
pub type Segment = ((f64, f64), (f64, f64));

/// The segments of level `level` of `f` over `[x0, x1] x [y0, y1]` on an `n x n` cell grid.
pub fn segments(values: &Grid, level: f64) -> Vec<Segment> {
    let mut out = Vec::new();
    for j in 0..values.n {
        for i in 0..values.n {
            // Corners counter-clockwise from bottom-left; edges between consecutive corners.
            let c = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let mut hits = Vec::with_capacity(4);
            for e in 0..4 {
                let (a, b) = (c[e], c[(e + 1) % 4]);
                let (va, vb) = (values.at(a), values.at(b));
                if (va >= level) != (vb >= level) && va.is_finite() && vb.is_finite() {
                    let t = (level - va) / (vb - va);
                    let (pa, pb) = (values.point(a), values.point(b));
                    hits.push((pa.0 + t * (pb.0 - pa.0), pa.1 + t * (pb.1 - pa.1)));
                }
            }
            for pair in hits.chunks_exact(2) {
                out.push((pair[0], pair[1]));
            }
        }
    }
    out
}

/// The level `level` of the grid's function as polylines: the segments of
/// [`segments`] joined where one ends where the next begins.
pub fn lines(values: &Grid, level: f64) -> Vec<Vec<(f64, f64)>> {
    let segs = segments(values, level);
    // Two cells compute a shared crossing from the same edge, possibly with the ends
    // swapped: equal up to rounding. Points are matched on a lattice far finer than
    // a cell.
    let cell = ((values.x.1 - values.x.0) / values.n as f64)
        .abs()
        .max(f64::MIN_POSITIVE);
    let key = |p: (f64, f64)| {
        let q = cell * 1e-6;
        ((p.0 / q).round() as i64, (p.1 / q).round() as i64)
    };
    let mut at: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, (a, b)) in segs.iter().enumerate() {
        at.entry(key(*a)).or_default().push(i);
        at.entry(key(*b)).or_default().push(i);
    }
    let mut used = vec![false; segs.len()];
    // The other end of an unused segment that touches `p`, marking it used.
    let next = |p: (f64, f64), used: &mut Vec<bool>| -> Option<(f64, f64)> {
        let list = at.get(&key(p))?;
        let i = *list.iter().find(|&&i| !used[i])?;
        used[i] = true;
        let (a, b) = segs[i];
        Some(if key(a) == key(p) { b } else { a })
    };
    let mut out = Vec::new();
    for i in 0..segs.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let (a, b) = segs[i];
        let mut line = vec![a, b];
        while let Some(p) = next(line[line.len() - 1], &mut used) {
            line.push(p);
        }
        let mut head = Vec::new();
        while let Some(p) = next(head.last().copied().unwrap_or(a), &mut used) {
            head.push(p);
        }
        head.reverse();
        head.extend(line);
        out.push(head);
    }
    out
}

/// Values of a function at the `(n + 1)^2` corners of an `n x n` grid.
#[derive(Debug, Clone)]
pub struct Grid {
    n: usize,
    x: (f64, f64),
    y: (f64, f64),
    v: Vec<f64>,
}

impl Grid {
    /// Samples `f` over `[x.0, x.1] x [y.0, y.1]`.
    pub fn sample(f: fn(f64, f64) -> f64, x: (f64, f64), y: (f64, f64), n: usize) -> Grid {
        let mut g = Grid {
            n,
            x,
            y,
            v: Vec::with_capacity((n + 1) * (n + 1)),
        };
        for j in 0..=n {
            for i in 0..=n {
                let (px, py) = g.point((i, j));
                g.v.push(f(px, py));
            }
        }
        g
    }

    fn at(&self, (i, j): (usize, usize)) -> f64 {
        self.v[j * (self.n + 1) + i]
    }

    fn point(&self, (i, j): (usize, usize)) -> (f64, f64) {
        let n = self.n as f64;
        (
            self.x.0 + (self.x.1 - self.x.0) * i as f64 / n,
            self.y.0 + (self.y.1 - self.y.0) * j as f64 / n,
        )
    }

    /// The smallest and largest finite values.
    pub fn range(&self) -> (f64, f64) {
        self.v
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_chain_into_closed_lines() {
        // Levels that pass through no grid point (there a level touches a cell at a
        // corner, and marching squares may leave a gap).
        let g = Grid::sample(|x, y| x * x + y * y, (-2.0, 2.0), (-2.0, 2.0), 40);
        let segs = segments(&g, 1.1);
        let circle = lines(&g, 1.1);
        // One closed circle: every segment once, first point = last point.
        assert_eq!(circle.len(), 1);
        assert_eq!(circle[0].len(), segs.len() + 1);
        let (a, b) = (circle[0][0], circle[0][segs.len()]);
        assert!(
            (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9,
            "{a:?} {b:?}"
        );
        // Two levels of a saddle: open lines that end on the grid's border.
        let g = Grid::sample(|x, y| x * x - y * y, (-2.0, 2.0), (-2.0, 2.0), 40);
        let n: usize = lines(&g, 1.1).iter().map(|l| l.len() - 1).sum();
        assert_eq!(n, segments(&g, 1.1).len());
        assert_eq!(lines(&g, 1.1).len(), 2);
    }

    #[test]
    fn circle_level_lies_on_the_circle() {
        let g = Grid::sample(|x, y| x * x + y * y, (-2.0, 2.0), (-2.0, 2.0), 40);
        let segs = segments(&g, 1.0);
        assert!(segs.len() > 20);
        for (a, b) in segs {
            for p in [a, b] {
                let r = (p.0 * p.0 + p.1 * p.1).sqrt();
                assert!((r - 1.0).abs() < 0.01, "{r}");
            }
        }
    }
}
