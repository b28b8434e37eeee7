//! Clipping to the tile square (plus its buffer), in tile coordinates.
//!
//! Rings are clipped Sutherland–Hodgman style, an order of magnitude faster than general
//! boolean operations. That is exact for a ring that enters the square at most once; a ring
//! that leaves and comes back several times could be joined by zero-width bridges along the
//! border, so [`entries`] tells the caller when to use an exact intersection instead.

use geo_types::Coord;

/// The clip square `[lo, hi]` on both axes.
#[derive(Debug, Clone, Copy)]
pub struct Square {
    pub lo: f64,
    pub hi: f64,
}

impl Square {
    pub fn contains(&self, c: Coord<f64>) -> bool {
        c.x >= self.lo && c.x <= self.hi && c.y >= self.lo && c.y <= self.hi
    }

    /// Whether the box `[min, max]` lies inside, outside, or across the border.
    pub fn classify(&self, min: Coord<f64>, max: Coord<f64>) -> Overlap {
        if max.x < self.lo || max.y < self.lo || min.x > self.hi || min.y > self.hi {
            Overlap::Outside
        } else if min.x >= self.lo && min.y >= self.lo && max.x <= self.hi && max.y <= self.hi {
            Overlap::Inside
        } else {
            Overlap::Across
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    Inside,
    Outside,
    Across,
}

/// How many times a closed ring comes into the square from outside (an edge may cross it
/// with both ends outside, so vertices alone do not tell).
pub fn entries(ring: &[Coord<f64>], sq: Square) -> usize {
    let mut n = 0;
    let closing = match (ring.first(), ring.last()) {
        (Some(a), Some(b)) if a != b => Some([*b, *a]),
        _ => None,
    };
    let segments = ring.windows(2).map(|w| [w[0], w[1]]).chain(closing);
    for [a, b] in segments {
        if let Some((p, _)) = clip_segment(a, b, sq)
            && (p != a || !sq.contains(a))
        {
            n += 1;
        }
    }
    n
}

/// The part of a ring inside the square (an open ring: the first point is not repeated).
pub fn clip_ring(ring: &[Coord<f64>], sq: Square) -> Vec<Coord<f64>> {
    let mut pts: Vec<Coord<f64>> = ring.to_vec();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let mut out = Vec::with_capacity(pts.len() + 8);
    // Left, right, top, bottom: each pass keeps the side of one edge.
    for edge in 0..4 {
        out.clear();
        let Some(&last) = pts.last() else {
            return out;
        };
        let keep = |c: Coord<f64>| match edge {
            0 => c.x >= sq.lo,
            1 => c.x <= sq.hi,
            2 => c.y >= sq.lo,
            _ => c.y <= sq.hi,
        };
        let cross = |a: Coord<f64>, b: Coord<f64>| -> Coord<f64> {
            let (v, ax, bx) = match edge {
                0 => (sq.lo, a.x, b.x),
                1 => (sq.hi, a.x, b.x),
                2 => (sq.lo, a.y, b.y),
                _ => (sq.hi, a.y, b.y),
            };
            let t = (v - ax) / (bx - ax);
            if edge < 2 {
                Coord {
                    x: v,
                    y: a.y + t * (b.y - a.y),
                }
            } else {
                Coord {
                    x: a.x + t * (b.x - a.x),
                    y: v,
                }
            }
        };
        let mut prev = last;
        for &cur in &pts {
            match (keep(prev), keep(cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
        std::mem::swap(&mut pts, &mut out);
    }
    pts
}

/// The pieces of a line inside the square (Liang–Barsky on each segment, joined where the
/// line stays inside).
pub fn clip_line(line: &[Coord<f64>], sq: Square) -> Vec<Vec<Coord<f64>>> {
    let mut parts = Vec::new();
    let mut current: Vec<Coord<f64>> = Vec::new();
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        match clip_segment(a, b, sq) {
            None => {
                if current.len() > 1 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    if current.len() > 1 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(p);
                }
                current.push(q);
                if q != b {
                    // The segment leaves the square: this piece ends here.
                    parts.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if current.len() > 1 {
        parts.push(current);
    }
    parts
}

fn clip_segment(a: Coord<f64>, b: Coord<f64>, sq: Square) -> Option<(Coord<f64>, Coord<f64>)> {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.x - sq.lo),
        (dx, sq.hi - a.x),
        (-dy, a.y - sq.lo),
        (dy, sq.hi - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            Coord {
                x: a.x + t * dx,
                y: a.y + t * dy,
            }
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    fn area(r: &[Coord<f64>]) -> f64 {
        let n = r.len();
        (0..n)
            .map(|i| r[i].x * r[(i + 1) % n].y - r[(i + 1) % n].x * r[i].y)
            .sum::<f64>()
            / 2.0
    }

    #[test]
    fn square_across_a_corner() {
        let sq = Square { lo: 0.0, hi: 10.0 };
        let ring = [
            c(-5.0, -5.0),
            c(5.0, -5.0),
            c(5.0, 5.0),
            c(-5.0, 5.0),
            c(-5.0, -5.0),
        ];
        let out = clip_ring(&ring, sq);
        assert!((area(&out).abs() - 25.0).abs() < 1e-9, "{out:?}");
        assert!(out.iter().all(|p| sq.contains(*p)));
        assert_eq!(entries(&ring, sq), 1);
        // A long thin ring whose edges cross the square twice with every vertex outside.
        let sliver = [
            c(-5.0, 2.0),
            c(15.0, 2.0),
            c(15.0, 3.0),
            c(-5.0, 3.0),
            c(-5.0, 2.0),
        ];
        assert_eq!(entries(&sliver, sq), 2);
    }

    #[test]
    fn ring_around_the_square_becomes_the_square() {
        let sq = Square { lo: 0.0, hi: 10.0 };
        let ring = [c(-1.0, -1.0), c(11.0, -1.0), c(11.0, 11.0), c(-1.0, 11.0)];
        assert!((area(&clip_ring(&ring, sq)).abs() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn u_shape_leaves_twice() {
        let sq = Square { lo: 0.0, hi: 10.0 };
        // A U whose two arms go out through the bottom edge.
        let ring = [
            c(1.0, 5.0),
            c(9.0, 5.0),
            c(9.0, 15.0),
            c(7.0, 15.0),
            c(7.0, 7.0),
            c(3.0, 7.0),
            c(3.0, 15.0),
            c(1.0, 15.0),
        ];
        assert_eq!(entries(&ring, sq), 2);
    }

    #[test]
    fn line_in_and_out() {
        let sq = Square { lo: 0.0, hi: 10.0 };
        let line = [
            c(-5.0, 5.0),
            c(5.0, 5.0),
            c(5.0, 15.0),
            c(8.0, 15.0),
            c(8.0, 5.0),
            c(9.0, 5.0),
        ];
        let parts = clip_line(&line, sq);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0], vec![c(0.0, 5.0), c(5.0, 5.0), c(5.0, 10.0)]);
        assert_eq!(parts[1], vec![c(8.0, 10.0), c(8.0, 5.0), c(9.0, 5.0)]);
        assert!(clip_line(&[c(-1.0, -1.0), c(-2.0, 20.0)], sq).is_empty());
    }
}
