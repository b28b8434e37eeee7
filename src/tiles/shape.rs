//! From a CRS84 geometry to what a tile holds: projected into the matrix set, scaled to tile
//! units, clipped to the tile and its buffer, simplified, snapped to the integer grid, with
//! rings and lines below the size limits dropped and rings wound as MVT wants.

use super::clip::{self, Overlap, Square};
use super::matrix::LocalProjection;
use super::mvt::TileGeometry;
use crate::crs::CrsError;
use geo::BooleanOps;
use geo_types::{Coord, Geometry, LineString, Polygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::IntOverlayOptions;
use i_overlay::core::simplify::Simplify as _;
use i_overlay::i_float::int::point::IntPoint;

/// Where a tile lies: its top-left corner in the matrix set's CRS and the scale to tile units.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// CRS84 into the matrix set's CRS, tuned for this tile.
    pub projection: LocalProjection<'a>,
    pub min_x: f64,
    pub max_y: f64,
    /// Tile units per CRS unit.
    pub scale: f64,
    /// The tile with its buffer, in tile units.
    pub square: Square,
}

/// How much detail a tile keeps, in tile units.
#[derive(Debug, Clone, Copy)]
pub struct Detail {
    /// Douglas–Peucker tolerance; 0 keeps every vertex.
    pub tolerance: f64,
    /// Rings of a smaller area are dropped.
    pub min_area: f64,
    /// Lines shorter than this are dropped.
    pub min_length: f64,
}

impl Frame<'_> {
    fn tile_point(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let (x, y) = self.projection.project(c.x, c.y)?;
        Ok(Coord {
            x: (x - self.min_x) * self.scale,
            y: (self.max_y - y) * self.scale,
        })
    }

    fn line(&self, ls: &LineString<f64>) -> Result<Vec<Coord<f64>>, CrsError> {
        let mut out = Vec::with_capacity(ls.0.len() + 1);
        for &c in &ls.0 {
            out.push(self.tile_point(c)?);
        }
        Ok(out)
    }
}

/// Shapes a CRS84 geometry for the tile `frame` describes.
pub fn shape(
    g: &Geometry<f64>,
    frame: &Frame,
    detail: &Detail,
    out: &mut TileGeometry,
) -> Result<(), CrsError> {
    match g {
        Geometry::Point(p) => point(frame.tile_point(p.0)?, frame, out),
        Geometry::MultiPoint(mp) => {
            for p in &mp.0 {
                point(frame.tile_point(p.0)?, frame, out);
            }
        }
        Geometry::Line(l) => line(
            &[frame.tile_point(l.start)?, frame.tile_point(l.end)?],
            frame,
            detail,
            out,
        ),
        Geometry::LineString(ls) => line(&frame.line(ls)?, frame, detail, out),
        Geometry::MultiLineString(m) => {
            for ls in &m.0 {
                line(&frame.line(ls)?, frame, detail, out);
            }
        }
        Geometry::Polygon(p) => polygon(p, frame, detail, out)?,
        Geometry::MultiPolygon(m) => {
            for p in &m.0 {
                polygon(p, frame, detail, out)?;
            }
        }
        Geometry::Rect(r) => polygon(&r.to_polygon(), frame, detail, out)?,
        Geometry::Triangle(t) => polygon(&t.to_polygon(), frame, detail, out)?,
        Geometry::GeometryCollection(c) => {
            for member in &c.0 {
                shape(member, frame, detail, out)?;
            }
        }
    }
    Ok(())
}

fn snap(c: Coord<f64>) -> [i32; 2] {
    // Ties to even compiles to one instruction; `round` is a library call.
    [c.x.round_ties_even() as i32, c.y.round_ties_even() as i32]
}

fn point(c: Coord<f64>, frame: &Frame, out: &mut TileGeometry) {
    if frame.square.contains(c) {
        out.points.push(snap(c));
    }
}

fn line(pts: &[Coord<f64>], frame: &Frame, detail: &Detail, out: &mut TileGeometry) {
    for part in clip::clip_line(pts, frame.square) {
        let part = simplified(part, detail.tolerance);
        let mut snapped: Vec<[i32; 2]> = Vec::with_capacity(part.len());
        for c in part {
            let p = snap(c);
            if snapped.last() != Some(&p) {
                snapped.push(p);
            }
        }
        let length: f64 = snapped
            .windows(2)
            .map(|w| ((w[1][0] - w[0][0]) as f64).hypot((w[1][1] - w[0][1]) as f64))
            .sum();
        if snapped.len() >= 2 && length >= detail.min_length {
            out.lines.push(snapped);
        }
    }
}

fn simplified(mut pts: Vec<Coord<f64>>, tolerance: f64) -> Vec<Coord<f64>> {
    if tolerance > 0.0 && pts.len() > 4 && !sparse(&pts, tolerance) {
        douglas_peucker(&mut pts, tolerance);
    }
    pts
}

/// Whether the vertices are far apart for the tolerance (on average 8 times it): then
/// Douglas–Peucker would drop next to nothing, and keeping a vertex is always safe.
fn sparse(pts: &[Coord<f64>], tolerance: f64) -> bool {
    let length: f64 = pts
        .windows(2)
        .map(|w| (w[1].x - w[0].x).abs() + (w[1].y - w[0].y).abs())
        .sum();
    length > 8.0 * tolerance * (pts.len() - 1) as f64
}

/// Douglas–Peucker's work space: which vertices stay, and the spans still to look at.
type DpScratch = (Vec<bool>, Vec<(usize, usize)>);

thread_local! {
    /// Kept between features, so that simplifying allocates nothing.
    static DP: std::cell::RefCell<DpScratch> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Douglas–Peucker in place, on squared distances (no square roots), keeping both ends.
fn douglas_peucker(pts: &mut Vec<Coord<f64>>, tolerance: f64) {
    let tol2 = tolerance * tolerance;
    DP.with_borrow_mut(|(keep, stack)| {
        keep.clear();
        keep.resize(pts.len(), false);
        keep[0] = true;
        keep[pts.len() - 1] = true;
        stack.clear();
        stack.push((0, pts.len() - 1));
        while let Some((a, b)) = stack.pop() {
            let (pa, pb) = (pts[a], pts[b]);
            let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
            let len2 = dx * dx + dy * dy;
            let (mut far, mut far_d2) = (0, tol2);
            for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
                let (px, py) = (p.x - pa.x, p.y - pa.y);
                let d2 = if len2 == 0.0 {
                    px * px + py * py
                } else {
                    let t = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
                    let (ex, ey) = (px - t * dx, py - t * dy);
                    ex * ex + ey * ey
                };
                if d2 > far_d2 {
                    (far, far_d2) = (i, d2);
                }
            }
            if far != 0 {
                keep[far] = true;
                stack.push((a, far));
                stack.push((far, b));
            }
        }
        let mut k = keep.iter();
        pts.retain(|_| *k.next().unwrap_or(&false));
    });
}

fn polygon(
    p: &Polygon<f64>,
    frame: &Frame,
    detail: &Detail,
    out: &mut TileGeometry,
) -> Result<(), CrsError> {
    let sq = frame.square;
    let exterior = frame.line(p.exterior())?;
    let Some((min, max)) = bounds(&exterior) else {
        return Ok(());
    };
    let overlap = sq.classify(min, max);
    if overlap == Overlap::Outside {
        return Ok(());
    }
    let mut holes = Vec::with_capacity(p.interiors().len());
    let mut simple = overlap == Overlap::Inside || clip::entries(&exterior, sq) <= 1;
    for h in p.interiors() {
        let h = frame.line(h)?;
        let Some((hmin, hmax)) = bounds(&h) else {
            continue;
        };
        match sq.classify(hmin, hmax) {
            Overlap::Inside => holes.push(h),
            Overlap::Outside => {}
            // A clipped hole would run along the clipped exterior: let the exact operation do it.
            Overlap::Across => simple = false,
        }
    }
    if simple {
        let exterior = if overlap == Overlap::Inside {
            exterior
        } else {
            clip::clip_ring(&exterior, sq)
        };
        emit_polygon(exterior, holes, detail, out);
    } else {
        let tile_poly = Polygon::new(
            LineString(exterior),
            p.interiors()
                .iter()
                .map(|h| frame.line(h).map(LineString))
                .collect::<Result<_, _>>()?,
        );
        let square =
            geo_types::Rect::new(Coord { x: sq.lo, y: sq.lo }, Coord { x: sq.hi, y: sq.hi });
        for piece in tile_poly.intersection(&square.to_polygon()) {
            let (ext, holes) = piece.into_inner();
            emit_polygon(ext.0, holes.into_iter().map(|h| h.0).collect(), detail, out);
        }
    }
    Ok(())
}

fn emit_polygon(
    exterior: Vec<Coord<f64>>,
    holes: Vec<Vec<Coord<f64>>>,
    detail: &Detail,
    out: &mut TileGeometry,
) {
    let Some(ext) = snapped_ring(exterior, detail) else {
        return;
    };
    let start = out.rings.len();
    out.rings.push(ext);
    out.rings
        .extend(holes.into_iter().filter_map(|h| snapped_ring(h, detail)));
    if is_simple(&out.rings[start..]) {
        if !wind(&mut out.rings[start], true, detail) {
            out.rings.truncate(start);
            return;
        }
        let mut k = start + 1;
        while k < out.rings.len() {
            if wind(&mut out.rings[k], false, detail) {
                k += 1;
            } else {
                out.rings.remove(k);
            }
        }
        return;
    }
    // Simplification or snapping made rings cross or touch: rebuild valid polygons on the
    // integer grid (OGC rules), then keep what is still big enough.
    let rings: Vec<Vec<[i32; 2]>> = out.rings.drain(start..).collect();
    let contours: Vec<Vec<IntPoint>> = rings
        .iter()
        .map(|r| r.iter().map(|p| IntPoint::new(p[0], p[1])).collect())
        .collect();
    for shape in contours.simplify(FillRule::NonZero, IntOverlayOptions::ogc()) {
        let mut parts = shape
            .into_iter()
            .map(|c| c.into_iter().map(|p| [p.x, p.y]).collect::<Vec<[i32; 2]>>());
        let Some(mut ext) = parts.next() else {
            continue;
        };
        if !wind(&mut ext, true, detail) {
            continue;
        }
        out.rings.push(ext);
        out.rings
            .extend(parts.filter_map(|mut h| wind(&mut h, false, detail).then_some(h)));
    }
}

/// Whether no two edges of these rings cross or touch, but for neighbours in one ring.
fn is_simple(rings: &[Vec<[i32; 2]>]) -> bool {
    if let [ring] = rings
        && ring.len() <= 48
    {
        return small_ring_is_simple(ring);
    }
    sweep_is_simple(rings)
}

/// A sufficient test, in one pass: a ring that turns one way around its vertices' centroid,
/// once, is star-shaped from it, and so simple. Parcels and most outlines are.
fn star_shaped(r: &[[i32; 2]]) -> bool {
    let n = r.len() as f64;
    let cx = r.iter().map(|p| p[0] as f64).sum::<f64>() / n;
    let cy = r.iter().map(|p| p[1] as f64).sum::<f64>() / n;
    let mut sign = 0.0f64;
    let mut turns = 0;
    for i in 0..r.len() {
        let (a, b) = (r[i], r[(i + 1) % r.len()]);
        let (ax, ay) = (a[0] as f64 - cx, a[1] as f64 - cy);
        let (bx, by) = (b[0] as f64 - cx, b[1] as f64 - cy);
        let cross = ax * by - ay * bx;
        if cross == 0.0 || (sign != 0.0 && cross.signum() != sign) {
            return false;
        }
        sign = cross.signum();
        // Passing the direction of +x (the angle goes round through 0 in the turning sense).
        let up = if sign > 0.0 {
            ay < 0.0 && by >= 0.0
        } else {
            ay >= 0.0 && by < 0.0
        };
        if up && ax + (bx - ax) * (-ay / (by - ay)) > 0.0 {
            turns += 1;
        }
    }
    turns == 1
}

/// Every pair of edges, for the small rings most features have: no allocation, no sort.
fn small_ring_is_simple(r: &[[i32; 2]]) -> bool {
    if star_shaped(r) {
        return true;
    }
    let n = r.len();
    let p = |i: usize| [r[i % n][0] as i64, r[i % n][1] as i64];
    for i in 0..n {
        // Edges i and i+1 are neighbours, and so are the last and the first.
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue;
            }
            let (a, b, c, d) = (p(i), p(i + 1), p(j), p(j + 1));
            // Boxes apart: the edges cannot meet (most pairs stop here).
            if a[0].max(b[0]) < c[0].min(d[0])
                || c[0].max(d[0]) < a[0].min(b[0])
                || a[1].max(b[1]) < c[1].min(d[1])
                || c[1].max(d[1]) < a[1].min(b[1])
            {
                continue;
            }
            if segments_meet(a, b, c, d) {
                return false;
            }
        }
    }
    true
}

/// Edges sorted by their left end, each compared with those it overlaps in x.
fn sweep_is_simple(rings: &[Vec<[i32; 2]>]) -> bool {
    struct Edge {
        a: [i64; 2],
        b: [i64; 2],
        ring: usize,
        index: usize,
        len: usize,
    }
    let mut edges: Vec<Edge> = Vec::with_capacity(rings.iter().map(Vec::len).sum());
    for (ri, r) in rings.iter().enumerate() {
        for i in 0..r.len() {
            let (p, q) = (r[i], r[(i + 1) % r.len()]);
            let (a, b) = ([p[0] as i64, p[1] as i64], [q[0] as i64, q[1] as i64]);
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            edges.push(Edge {
                a,
                b,
                ring: ri,
                index: i,
                len: r.len(),
            });
        }
    }
    edges.sort_unstable_by_key(|e| e.a[0]);
    for i in 0..edges.len() {
        let e = &edges[i];
        let (ey0, ey1) = (e.a[1].min(e.b[1]), e.a[1].max(e.b[1]));
        for f in &edges[i + 1..] {
            if f.a[0] > e.b[0] {
                break;
            }
            if f.a[1].max(f.b[1]) < ey0 || f.a[1].min(f.b[1]) > ey1 {
                continue;
            }
            let neighbours = e.ring == f.ring
                && ((e.index + 1) % e.len == f.index || (f.index + 1) % f.len == e.index);
            if !neighbours && segments_meet(e.a, e.b, f.a, f.b) {
                return false;
            }
        }
    }
    true
}

fn orientation(a: [i64; 2], b: [i64; 2], c: [i64; 2]) -> i64 {
    ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])).signum()
}

fn on_segment(a: [i64; 2], b: [i64; 2], p: [i64; 2]) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Whether two segments share any point (crossing or touching), exactly on integers.
fn segments_meet(p1: [i64; 2], p2: [i64; 2], q1: [i64; 2], q2: [i64; 2]) -> bool {
    let (d1, d2) = (orientation(q1, q2, p1), orientation(q1, q2, p2));
    let (d3, d4) = (orientation(p1, p2, q1), orientation(p1, p2, q2));
    if d1 * d2 < 0 && d3 * d4 < 0 {
        return true;
    }
    (d1 == 0 && on_segment(q1, q2, p1))
        || (d2 == 0 && on_segment(q1, q2, p2))
        || (d3 == 0 && on_segment(p1, p2, q1))
        || (d4 == 0 && on_segment(p1, p2, q2))
}

/// Simplifies and snaps a ring, without collinear points; `None` when fewer than 3 are left.
fn snapped_ring(mut pts: Vec<Coord<f64>>, detail: &Detail) -> Option<Vec<[i32; 2]>> {
    if pts.first() != pts.last() {
        pts.push(pts[0]);
    }
    let pts = simplified(pts, detail.tolerance);
    let mut ring: Vec<[i32; 2]> = Vec::with_capacity(pts.len());
    for &c in &pts[..pts.len().saturating_sub(1)] {
        push_dropping_collinear(&mut ring, snap(c));
    }
    // The ring closes on itself: the seam can be collinear too.
    while ring.len() >= 3 {
        let n = ring.len();
        if collinear(ring[n - 2], ring[n - 1], ring[0]) {
            ring.pop();
        } else if collinear(ring[n - 1], ring[0], ring[1]) {
            ring.remove(0);
        } else {
            break;
        }
    }
    (ring.len() >= 3).then_some(ring)
}

/// Winds a snapped ring as MVT wants (exteriors positive); false when it is too small to keep.
fn wind(ring: &mut [[i32; 2]], exterior: bool, detail: &Detail) -> bool {
    if ring.len() < 3 {
        return false;
    }
    let area = shoelace(ring);
    if area.abs() < detail.min_area.max(0.5) {
        return false;
    }
    if (area > 0.0) != exterior {
        ring.reverse();
    }
    true
}

fn push_dropping_collinear(ring: &mut Vec<[i32; 2]>, p: [i32; 2]) {
    if ring.last() == Some(&p) {
        return;
    }
    ring.push(p);
    while ring.len() >= 3 {
        let n = ring.len();
        if collinear(ring[n - 3], ring[n - 2], ring[n - 1]) {
            ring.remove(n - 2);
        } else {
            break;
        }
    }
}

/// Whether `b` lies on the line through `a` and `c` (spikes and straight runs alike).
fn collinear(a: [i32; 2], b: [i32; 2], c: [i32; 2]) -> bool {
    let (ux, uy) = ((b[0] - a[0]) as i64, (b[1] - a[1]) as i64);
    let (vx, vy) = ((c[0] - b[0]) as i64, (c[1] - b[1]) as i64);
    ux * vy - uy * vx == 0
}

/// Area by the surveyor's formula, in tile coordinates (positive = clockwise on screen).
pub fn shoelace(ring: &[[i32; 2]]) -> f64 {
    let n = ring.len();
    let mut s: i64 = 0;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        s += a[0] as i64 * b[1] as i64 - b[0] as i64 * a[1] as i64;
    }
    s as f64 / 2.0
}

fn bounds(pts: &[Coord<f64>]) -> Option<(Coord<f64>, Coord<f64>)> {
    let first = *pts.first()?;
    let (mut min, mut max) = (first, first);
    for c in pts {
        min.x = min.x.min(c.x);
        min.y = min.y.min(c.y);
        max.x = max.x.max(c.x);
        max.y = max.y.max(c.y);
    }
    Some((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiles::matrix::{TileCoord, TileMatrixSet};

    fn frame(tms: &TileMatrixSet, c: TileCoord) -> Frame<'_> {
        let b = tms.bounds(c);
        Frame {
            projection: tms.local(tms.to_crs84(b).unwrap()),
            min_x: b.min().x,
            max_y: b.max().y,
            scale: 4096.0 / b.width(),
            square: Square {
                lo: -64.0,
                hi: 4160.0,
            },
        }
    }

    const DETAIL: Detail = Detail {
        tolerance: 1.0,
        min_area: 16.0,
        min_length: 4.0,
    };

    #[test]
    fn counter_clockwise_lon_lat_becomes_a_positive_exterior() {
        let tms = TileMatrixSet::web_mercator_quad();
        let f = frame(&tms, TileCoord { z: 0, x: 0, y: 0 });
        // CCW in lon/lat (the usual GeoJSON winding), with a CW hole.
        let p = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (40.0, 0.0),
                (40.0, 40.0),
                (0.0, 40.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (10.0, 10.0),
                (10.0, 20.0),
                (20.0, 20.0),
                (20.0, 10.0),
                (10.0, 10.0),
            ])],
        );
        let mut out = TileGeometry::default();
        shape(&Geometry::Polygon(p), &f, &DETAIL, &mut out).unwrap();
        assert_eq!(out.rings.len(), 2);
        assert!(shoelace(&out.rings[0]) > 0.0);
        assert!(shoelace(&out.rings[1]) < 0.0);
        assert_eq!(out.rings[0].len(), 4, "{:?}", out.rings[0]);
    }

    #[test]
    fn a_u_across_the_border_is_cut_exactly() {
        let sq = Square { lo: 0.0, hi: 100.0 };
        // In tile units: a U whose arms go out through the bottom of the square.
        let ext: Vec<Coord<f64>> = [
            (10.0, 50.0),
            (90.0, 50.0),
            (90.0, 150.0),
            (70.0, 150.0),
            (70.0, 70.0),
            (30.0, 70.0),
            (30.0, 150.0),
            (10.0, 150.0),
            (10.0, 50.0),
        ]
        .iter()
        .map(|&(x, y)| Coord { x, y })
        .collect();
        assert_eq!(clip::entries(&ext, sq), 2);
        let poly = Polygon::new(LineString(ext), vec![]);
        let square = geo_types::Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 100.0, y: 100.0 });
        let pieces = poly.intersection(&square.to_polygon());
        assert_eq!(
            pieces.0.len(),
            1,
            "the U's base joins both arms inside the square"
        );
        let mut out = TileGeometry::default();
        for piece in pieces {
            let (e, h) = piece.into_inner();
            emit_polygon(e.0, h.into_iter().map(|h| h.0).collect(), &DETAIL, &mut out);
        }
        assert_eq!(out.rings.len(), 1);
        assert_eq!(shoelace(&out.rings[0]), 80.0 * 20.0 + 2.0 * 20.0 * 30.0);
    }

    #[test]
    fn crossing_rings_are_rebuilt_valid() {
        // A bow tie: its two halves come back as two valid triangles.
        let bow = vec![[0, 0], [100, 100], [100, 0], [0, 100]];
        assert!(!is_simple(std::slice::from_ref(&bow)));
        let pts: Vec<Coord<f64>> = bow
            .iter()
            .map(|p| Coord {
                x: p[0] as f64,
                y: p[1] as f64,
            })
            .collect();
        let mut out = TileGeometry::default();
        emit_polygon(
            pts,
            vec![],
            &Detail {
                tolerance: 0.0,
                ..DETAIL
            },
            &mut out,
        );
        assert_eq!(out.rings.len(), 2, "{:?}", out.rings);
        assert!(out.rings.iter().all(|r| shoelace(r) > 0.0 && r.len() == 3));
        assert!(is_simple(&out.rings[..1]) && is_simple(&out.rings[1..]));
        // A hole touching its exterior at a vertex is not simple either.
        let ext = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
        let hole = vec![[0, 0], [5, 2], [2, 5]];
        assert!(!is_simple(&[ext.clone(), hole]));
        assert!(is_simple(&[ext, vec![[2, 2], [2, 5], [5, 2]]]));
    }

    #[test]
    fn star_shaped_rings_are_simple() {
        let square = [[0, 0], [10, 0], [10, 10], [0, 10]];
        assert!(star_shaped(&square));
        let mut reversed = square;
        reversed.reverse();
        assert!(star_shaped(&reversed));
        // A bow tie turns both ways; a ring going round twice turns twice.
        assert!(!star_shaped(&[[0, 0], [100, 100], [100, 0], [0, 100]]));
        let twice: Vec<[i32; 2]> = (0..10)
            .map(|k| {
                let a = k as f64 * 4.0 * std::f64::consts::PI / 10.0;
                [(100.0 * a.cos()) as i32, (100.0 * a.sin()) as i32]
            })
            .collect();
        assert!(!star_shaped(&twice));
        assert!(!small_ring_is_simple(&twice));
        // An L is simple but not star-shaped from its vertices' centroid: the pairwise test decides.
        let l = [[0, 0], [100, 0], [100, 10], [10, 10], [10, 100], [0, 100]];
        assert!(small_ring_is_simple(&l));
    }

    #[test]
    fn tiny_rings_and_collinear_points_go() {
        let ring = vec![
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 5.0, y: 0.0 },
            Coord { x: 10.0, y: 0.0 },
            Coord { x: 10.0, y: 10.0 },
            Coord { x: 0.0, y: 10.0 },
        ];
        let r = snapped_ring(
            ring,
            &Detail {
                tolerance: 0.0,
                ..DETAIL
            },
        )
        .unwrap();
        assert_eq!(r.len(), 4);
        let tiny = vec![
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 2.0, y: 0.0 },
            Coord { x: 2.0, y: 2.0 },
        ];
        let mut out = TileGeometry::default();
        emit_polygon(tiny, vec![], &DETAIL, &mut out);
        assert!(out.rings.is_empty());
    }
}
