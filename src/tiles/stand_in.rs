//! Stand-ins: what a tile draws for the features it leaves out. A feature under a pixel draws
//! nothing, so a layer of small features (parcels, buildings, or the comuni seen from z0)
//! would vanish as the map zooms out. Instead the source counts them by pixel
//! ([`crate::source::Tally`]) and each counted pixel becomes one stand-in: a pixel-sized
//! square for areas, a pixel-long line for lines, a point for points, carrying how many
//! features it stands for (`tessera:count`) and how much of its pixel they cover
//! (`tessera:coverage`, 0–1). A style draws sparse data faint and dense data solid from it.
//!
//! This is tippecanoe's "tiny polygon reduction" turned into a density map: where tippecanoe
//! spends its accumulated area on whole pixels and loses what does not add up to one, every
//! pixel holding data gets a stand-in, so that zooming out never hides where data is. When
//! a layer's stand-ins would take more than half its byte budget, or more features than its
//! budget leaves, they are made for cells of 2, 4, 8… pixels instead: coarser, never dropped.

use super::mvt::TileGeometry;
use crate::source::{Kinds, Tally};
use std::collections::HashMap;

/// Property names a stand-in carries.
pub const COUNT: &str = "tessera:count";
pub const COVERAGE: &str = "tessera:coverage";

/// What a stand-in says of the features it replaces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandIn {
    pub count: u32,
    /// The share of its cell the features' boxes would cover, 0.01 to 1, rounded to
    /// hundredths (so that the tile's value table stays small).
    pub coverage: f64,
}

/// How a layer's stand-ins are drawn, after its geometry type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Point,
    Line,
    Square,
}

impl Shape {
    /// Squares wherever a layer may hold areas; lines or points for layers of only those.
    pub fn of(kinds: Kinds) -> Shape {
        if kinds.areas {
            Shape::Square
        } else if kinds.lines {
            Shape::Line
        } else {
            Shape::Point
        }
    }

    /// About what one stand-in takes in a tile (feature framing, tags, geometry).
    fn bytes(self) -> usize {
        match self {
            Shape::Point => 12,
            Shape::Line => 16,
            Shape::Square => 24,
        }
    }
}

/// The stand-ins for what `left_out` counted, in tile units of `px` a pixel: one per pixel,
/// or per cell of 2, 4, 8… pixels when that many would not fit `room_bytes` and
/// `room_features`.
pub fn stand_ins(
    left_out: &Tally,
    px: f64,
    shape: Shape,
    room_bytes: usize,
    room_features: usize,
) -> Vec<(StandIn, TileGeometry)> {
    if left_out.is_empty() {
        return Vec::new();
    }
    let (cols, rows) = left_out.size();
    let mut cell = 1u32;
    let cells = loop {
        let cells = merged(left_out, cell);
        let fits = cells.len() * shape.bytes() <= room_bytes && cells.len() <= room_features;
        if fits || cell >= cols.max(rows) {
            break cells;
        }
        cell *= 2;
    };
    let side = cell as f64 * px;
    let mut out: Vec<(StandIn, TileGeometry)> = cells
        .into_iter()
        .map(|((c, r), (count, cover))| {
            let (x0, y0) = (c as f64 * side, r as f64 * side);
            let at = |x: f64, y: f64| [x.round() as i32, y.round() as i32];
            let mut g = TileGeometry::default();
            match shape {
                Shape::Point => g.points.push(at(x0 + side / 2.0, y0 + side / 2.0)),
                Shape::Line => g.lines.push(vec![
                    at(x0, y0 + side / 2.0),
                    at(x0 + side, y0 + side / 2.0),
                ]),
                // Clockwise on screen: a positive exterior, as MVT wants.
                Shape::Square => g.rings.push(vec![
                    at(x0, y0),
                    at(x0 + side, y0),
                    at(x0 + side, y0 + side),
                    at(x0, y0 + side),
                ]),
            }
            let coverage = (cover as f64 / (cell as f64 * cell as f64)).clamp(0.01, 1.0);
            let stand_in = StandIn {
                count,
                coverage: (coverage * 100.0).round() / 100.0,
            };
            (stand_in, g)
        })
        .collect();
    // Row by row, so that the tile reads in order (and is the same from run to run).
    out.sort_by_key(|(_, g)| {
        let p = (g.points.first())
            .or(g.lines.first().map(|l| &l[0]))
            .or(g.rings.first().map(|r| &r[0]))
            .copied()
            .unwrap_or_default();
        (p[1], p[0])
    });
    out
}

/// The counted pixels gathered into cells of `cell` × `cell` pixels: count and square
/// pixels covered, by cell column and row.
fn merged(left_out: &Tally, cell: u32) -> HashMap<(u32, u32), (u32, f32)> {
    let mut cells: HashMap<(u32, u32), (u32, f32)> = HashMap::new();
    for (c, r, count, cover) in left_out.pixels() {
        let e = cells.entry((c / cell, r / cell)).or_default();
        e.0 += count;
        e.1 += cover;
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::PixelGrid;
    use geo_types::{Coord, Rect};

    fn tally(points: &[([f64; 2], [f64; 2])]) -> Tally {
        let grid = PixelGrid::new(
            Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 256.0, y: 256.0 }),
            4,
            256,
            256,
            |x, y| Some([x, y]),
        );
        let mut t = Tally::default();
        for (a, b) in points {
            t.add(&grid, *a, *b, true);
        }
        t
    }

    #[test]
    fn each_counted_pixel_becomes_a_square_with_its_count() {
        let t = tally(&[
            ([3.1, 7.1], [3.6, 7.6]),
            ([3.2, 7.2], [3.4, 7.4]),
            ([200.0, 10.0], [200.5, 10.5]),
        ]);
        let s = stand_ins(&t, 16.0, Shape::Square, 250_000, 100_000);
        assert_eq!(s.len(), 2);
        let (first, g) = &s[0];
        assert_eq!(first.count, 2);
        assert!((first.coverage - 0.29).abs() < 1e-9, "{first:?}");
        assert_eq!(g.rings[0], vec![[48, 112], [64, 112], [64, 128], [48, 128]]);
        assert!(super::super::shape::shoelace(&g.rings[0]) > 0.0);
        assert_eq!(s[1].0.count, 1);
    }

    #[test]
    fn over_half_the_budget_the_cells_grow_and_nothing_is_lost() {
        // A full 256 × 256 tile of tiny features.
        let mut pts = Vec::new();
        for r in 0..256 {
            for c in 0..256 {
                let (x, y) = (c as f64 + 0.3, r as f64 + 0.3);
                pts.push(([x, y], [x + 0.5, y + 0.5]));
            }
        }
        let t = tally(&pts);
        let s = stand_ins(&t, 16.0, Shape::Square, 250_000, 100_000);
        // 65 536 pixels would take 1.5 MB: cells of 4 × 4 pixels (4 096 of them) fit.
        assert_eq!(s.len(), 4096);
        assert_eq!(s.iter().map(|(s, _)| s.count as u64).sum::<u64>(), 65_536);
        assert!(s.iter().all(|(s, _)| (s.coverage - 0.25).abs() < 1e-9));
        assert_eq!(s[1].1.rings[0][0], [64, 0]);
        // A tiny budget ends on a single cell for the whole tile.
        let one = stand_ins(&t, 16.0, Shape::Square, 10, 5);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0.count, 65_536);
    }
}
