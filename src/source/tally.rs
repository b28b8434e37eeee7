//! Features a tile leaves out, counted where they lie. A feature under a pixel draws nothing,
//! and a source skips it without decoding it; but a map zoomed out must still show where
//! the data is and how dense it is. So the source counts each skipped feature in the tile's
//! pixel under its bounding box's centre, from the box alone, and the tile engine draws the
//! counted pixels as stand-ins.
//!
//! The engine says where the pixels lie with a [`PixelGrid`]; a source whose coordinates are
//! not CRS84 [reframes](PixelGrid::reframed) it into its own CRS once per tile, so that each
//! feature costs an interpolation and no reprojection. The price: two tiles interpolate a
//! centre a hair from their common edge each in its own way, and such a feature may be
//! counted on both sides, or neither (2 of 40,000 parcels stored in EPSG:3003, at z6, in
//! tests/low_zooms.rs).

use geo_types::{Geometry, Rect};

/// Where a tile's pixels lie: a mesh over a box of some CRS giving each node's position in
/// the tile's pixels (x to the right, y down). Between nodes the position is interpolated:
/// the caller picks a mesh fine enough that the projection is nearly linear over a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelGrid {
    area: Rect<f64>,
    steps: usize,
    /// `(steps + 1)²` positions, row by row from the box's minimum y; NaN where the
    /// projection fails.
    nodes: Vec<[f64; 2]>,
    /// The tile's size in pixels.
    pub cols: u32,
    pub rows: u32,
}

impl PixelGrid {
    /// A grid over `area` of a `cols` × `rows` pixel tile, `steps` mesh cells a side; `pixel`
    /// gives a point's position in pixels (`None` where it has none).
    pub fn new(
        area: Rect<f64>,
        steps: usize,
        cols: u32,
        rows: u32,
        pixel: impl Fn(f64, f64) -> Option<[f64; 2]>,
    ) -> PixelGrid {
        let steps = steps.max(1);
        let mut nodes = Vec::with_capacity((steps + 1) * (steps + 1));
        for j in 0..=steps {
            let y = area.min().y + area.height() * j as f64 / steps as f64;
            for i in 0..=steps {
                let x = area.min().x + area.width() * i as f64 / steps as f64;
                nodes.push(pixel(x, y).unwrap_or([f64::NAN, f64::NAN]));
            }
        }
        PixelGrid {
            area,
            steps,
            nodes,
            cols,
            rows,
        }
    }

    /// The same pixels seen from another CRS: a grid over `area` (in that CRS), whose points
    /// `to_this` takes into this grid's CRS.
    pub fn reframed(
        &self,
        area: Rect<f64>,
        to_this: impl Fn(f64, f64) -> Option<(f64, f64)>,
    ) -> PixelGrid {
        PixelGrid::new(area, self.steps, self.cols, self.rows, |x, y| {
            let (x, y) = to_this(x, y)?;
            self.pixel(x, y)
        })
    }

    /// Where a point lies in the tile's pixels; `None` where the projection failed. Past the
    /// grid's box the nearest mesh cell is extended: a reframed grid's box is the envelope
    /// of a curved image, and its corners lie a little outside.
    pub fn pixel(&self, x: f64, y: f64) -> Option<[f64; 2]> {
        self.locate(x, y).map(|(p, _)| p)
    }

    /// Where a point lies in pixels, and how many pixels a unit of each axis spans there.
    fn locate(&self, x: f64, y: f64) -> Option<([f64; 2], [f64; 2])> {
        let steps = self.steps as f64;
        let (ku, kv) = (
            if self.area.width() > 0.0 {
                steps / self.area.width()
            } else {
                0.0
            },
            if self.area.height() > 0.0 {
                steps / self.area.height()
            } else {
                0.0
            },
        );
        let (u, v) = ((x - self.area.min().x) * ku, (y - self.area.min().y) * kv);
        if !(u.is_finite() && v.is_finite()) {
            return None;
        }
        let cell = |t: f64| (t.max(0.0) as usize).min(self.steps - 1);
        let (i, j) = (cell(u), cell(v));
        let (tu, tv) = (u - i as f64, v - j as f64);
        let row = self.steps + 1;
        let at = |i: usize, j: usize| self.nodes[j * row + i];
        let (a, b, c, d) = (at(i, j), at(i + 1, j), at(i, j + 1), at(i + 1, j + 1));
        let lerp = |k: usize| {
            let bottom = a[k] + (b[k] - a[k]) * tu;
            let top = c[k] + (d[k] - c[k]) * tu;
            bottom + (top - bottom) * tv
        };
        let p = [lerp(0), lerp(1)];
        // Along x the pixel x changes by (b - a) then (d - c) a mesh cell; along y, the pixel
        // y by (c - a) then (d - b).
        let dx = ((b[0] - a[0]) + ((d[0] - c[0]) - (b[0] - a[0])) * tv) * ku;
        let dy = ((c[1] - a[1]) + ((d[1] - b[1]) - (c[1] - a[1])) * tu) * kv;
        (p[0].is_finite() && p[1].is_finite()).then_some((p, [dx.abs(), dy.abs()]))
    }
}

/// Features left out of a tile, per pixel: how many, and how much of the pixel they would
/// cover (in square pixels: a polygon's box area, a line's box diagonal times one pixel).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    cols: u32,
    rows: u32,
    /// Each count as it came (pixel, features, cover), while they are few: most tiles at a
    /// layer's own zooms count a handful, and a dense grid of a 512-pixel tile is 2 MB to
    /// clear and scan.
    few: Vec<(u32, u32, f32)>,
    /// Every pixel's sum, once there are many.
    cells: Vec<(u32, f32)>,
}

/// Counts kept one by one before the grid is made.
const FEW: usize = 16 * 1024;

impl PartialEq for Tally {
    fn eq(&self, other: &Tally) -> bool {
        self.size() == other.size() && self.pixels() == other.pixels()
    }
}

impl Tally {
    /// Counts a left-out feature whose bounding box runs from `min` to `max` (in the grid's
    /// CRS). A feature whose centre falls outside the tile is its neighbour's to count.
    pub fn add(&mut self, grid: &PixelGrid, min: [f64; 2], max: [f64; 2], polygonal: bool) {
        // One interpolation, at the box's centre: a left-out feature is smaller than a pixel
        // or two, over which the mesh is linear.
        let centre = ((min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0);
        let Some(([cx, cy], [sx, sy])) = grid.locate(centre.0, centre.1) else {
            return;
        };
        if !(cx >= 0.0 && cy >= 0.0 && cx < grid.cols as f64 && cy < grid.rows as f64) {
            return;
        }
        let (w, h) = ((max[0] - min[0]) * sx, (max[1] - min[1]) * sy);
        let cover = if polygonal { w * h } else { w.hypot(h) };
        // A broken box (a corrupt file) counts, and covers nothing.
        let cover = if cover.is_finite() {
            cover.max(0.0)
        } else {
            0.0
        };
        self.bump(grid, cx, cy, 1, cover);
    }

    /// Adds to the pixel at (`cx`, `cy`), inside the tile.
    fn bump(&mut self, grid: &PixelGrid, cx: f64, cy: f64, count: u32, cover: f64) {
        if self.is_empty() {
            (self.cols, self.rows) = (grid.cols, grid.rows);
        }
        let at = cy as u32 * self.cols + cx as u32;
        if self.cells.is_empty() {
            if self.few.len() < FEW {
                return self.few.push((at, count, cover as f32));
            }
            self.cells = vec![(0, 0.0); self.cols as usize * self.rows as usize];
            for (k, n, c) in std::mem::take(&mut self.few) {
                let cell = &mut self.cells[k as usize];
                cell.0 = cell.0.saturating_add(n);
                cell.1 += c;
            }
        }
        let cell = &mut self.cells[at as usize];
        cell.0 = cell.0.saturating_add(count);
        cell.1 += cover as f32;
    }

    /// Counts `count` left-out features whose boxes' centres fall at `centre` (in the grid's
    /// CRS) and cover `cover` of its units (square units for polygons, length for lines).
    pub fn add_many(
        &mut self,
        grid: &PixelGrid,
        centre: [f64; 2],
        count: u32,
        cover: f64,
        polygonal: bool,
    ) {
        let Some(([cx, cy], [sx, sy])) = grid.locate(centre[0], centre[1]) else {
            return;
        };
        if count == 0 || !(cx >= 0.0 && cy >= 0.0 && cx < grid.cols as f64 && cy < grid.rows as f64)
        {
            return;
        }
        let px = if polygonal {
            cover * sx * sy
        } else {
            cover * (sx + sy) / 2.0
        };
        let px = if px.is_finite() { px.max(0.0) } else { 0.0 };
        self.bump(grid, cx, cy, count, px);
    }

    /// Counts a left-out feature from its geometry (in the grid's CRS).
    pub fn add_geometry(&mut self, grid: &PixelGrid, g: &Geometry<f64>) {
        use geo::BoundingRect;
        if let Some(r) = g.bounding_rect() {
            let polygonal = matches!(g, Geometry::Polygon(_) | Geometry::MultiPolygon(_));
            let (a, b) = (r.min(), r.max());
            self.add(grid, [a.x, a.y], [b.x, b.y], polygonal);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty() && self.few.is_empty()
    }

    /// The tile's size in pixels (0 × 0 while nothing is counted).
    pub fn size(&self) -> (u32, u32) {
        (self.cols, self.rows)
    }

    /// How many features were counted.
    pub fn total(&self) -> u64 {
        let few: u64 = self.few.iter().map(|c| c.1 as u64).sum();
        few + self.cells.iter().map(|c| c.0 as u64).sum::<u64>()
    }

    /// The counted pixels, row by row: column, row, features, square pixels they cover.
    pub fn pixels(&self) -> Vec<(u32, u32, u32, f32)> {
        let cols = self.cols.max(1);
        let mut sums: Vec<(u32, u32, f32)> = Vec::new();
        if self.cells.is_empty() {
            let mut few = self.few.clone();
            few.sort_by_key(|c| c.0);
            for (k, n, c) in few {
                match sums.last_mut() {
                    Some(last) if last.0 == k => {
                        last.1 = last.1.saturating_add(n);
                        last.2 += c;
                    }
                    _ => sums.push((k, n, c)),
                }
            }
        } else {
            sums = (self.cells.iter().enumerate())
                .filter(|(_, c)| c.0 > 0)
                .map(|(k, c)| (k as u32, c.0, c.1))
                .collect();
        }
        (sums.into_iter())
            .filter(|c| c.1 > 0)
            .map(|(k, n, c)| (k % cols, k / cols, n, c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::Coord;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
    }

    #[test]
    fn a_linear_map_is_interpolated_exactly_and_reframed() {
        // Degrees 10..12 × 42..44 onto 256 px, y down.
        let grid = PixelGrid::new(rect(10.0, 42.0, 12.0, 44.0), 8, 256, 256, |x, y| {
            Some([(x - 10.0) * 128.0, (44.0 - y) * 128.0])
        });
        let p = grid.pixel(11.0, 43.5).unwrap();
        assert!(
            (p[0] - 128.0).abs() < 1e-9 && (p[1] - 64.0).abs() < 1e-9,
            "{p:?}"
        );
        let out = grid.pixel(9.0, 43.0).unwrap();
        assert!(
            (out[0] + 128.0).abs() < 1e-9 && (out[1] - 128.0).abs() < 1e-9,
            "{out:?}"
        );
        // The same pixels over a CRS in hundredths of a degree.
        let hundredths = grid.reframed(rect(1000.0, 4200.0, 1200.0, 4400.0), |x, y| {
            Some((x / 100.0, y / 100.0))
        });
        let q = hundredths.pixel(1100.0, 4350.0).unwrap();
        assert!(
            (q[0] - 128.0).abs() < 1e-9 && (q[1] - 64.0).abs() < 1e-9,
            "{q:?}"
        );
    }

    #[test]
    fn left_out_features_are_counted_in_the_pixel_under_their_centre() {
        let grid = PixelGrid::new(rect(0.0, 0.0, 256.0, 256.0), 4, 256, 256, |x, y| {
            Some([x, 256.0 - y])
        });
        let mut t = Tally::default();
        assert!(t.is_empty());
        t.add(&grid, [10.2, 200.2], [10.6, 200.7], true);
        t.add(&grid, [10.1, 200.1], [10.3, 200.3], true);
        t.add(&grid, [100.0, 100.0], [100.0, 100.0], false);
        // Centred outside the tile: not this tile's.
        t.add(&grid, [-3.0, 10.0], [-1.0, 11.0], true);
        assert_eq!(t.total(), 3);
        let mut px: Vec<_> = t.pixels();
        px.sort_by_key(|p| (p.0, p.1));
        assert_eq!((px[0].0, px[0].1, px[0].2), (10, 55, 2));
        assert!((px[0].3 - (0.4 * 0.5 + 0.2 * 0.2)).abs() < 1e-4);
        assert_eq!((px[1].0, px[1].1, px[1].2, px[1].3), (100, 156, 1, 0.0));
    }

    #[test]
    fn many_counts_sum_the_same_as_few() {
        let grid = PixelGrid::new(rect(0.0, 0.0, 256.0, 256.0), 4, 256, 256, |x, y| {
            Some([x, 256.0 - y])
        });
        let mut expected = std::collections::BTreeMap::new();
        let mut t = Tally::default();
        for i in 0..(3 * FEW) {
            // Points in a 97 x 89 pixel patch, several to a pixel.
            let (x, y) = ((i * 7 % 97) as f64 + 0.5, (i * 13 % 89) as f64 + 0.5);
            t.add(&grid, [x, y], [x, y], false);
            *expected.entry((x as u32, 255 - y as u32)).or_insert(0u32) += 1;
            if i == FEW / 2 {
                assert!(t.cells.is_empty(), "still counted one by one");
            }
        }
        assert!(!t.cells.is_empty(), "a grid by now");
        let got: std::collections::BTreeMap<(u32, u32), u32> =
            t.pixels().into_iter().map(|p| ((p.0, p.1), p.2)).collect();
        assert_eq!(got, expected);
        assert_eq!(t.total(), 3 * FEW as u64);
    }
}
