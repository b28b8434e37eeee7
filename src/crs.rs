//! Coordinate reference systems: EPSG codes, their OGC URIs, and reprojection to CRS84.
//!
//! Pure Rust (proj4rs with the EPSG definitions of `crs-definitions`): it reproduces PROJ's
//! chosen Helmert for Monte Mario (EPSG:3003) and the null transform for RDN2008 to the
//! tenth of a millimetre, without a C/C++ build. Projected coordinates are always handled
//! easting first, whatever the EPSG axis order (EPSG:6707 is officially northing first).

use geo::{BoundingRect, Contains, Intersects};
use geo_types::{Coord, Geometry, LineString, Polygon, Rect};
use proj4rs::proj::Proj;

pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    #[error("EPSG:{0} is not a coordinate reference system tessera knows")]
    Unknown(u32),
    #[error("cannot transform ({x}, {y}) from EPSG:{from} to EPSG:{to}: {reason}")]
    Transform {
        from: u32,
        to: u32,
        x: f64,
        y: f64,
        reason: String,
    },
}

/// The OGC URI of an EPSG code; 4326 in lon/lat order is CRS84.
pub fn uri(epsg: u32) -> String {
    if epsg == 4326 {
        CRS84_URI.to_string()
    } else {
        format!("http://www.opengis.net/def/crs/EPSG/0/{epsg}")
    }
}

/// Reprojects coordinates from one EPSG code to another (degrees for geographic CRSs).
#[derive(Clone)]
pub struct Transformer {
    from_code: u32,
    to_code: u32,
    from: Option<Proj>,
    to: Option<Proj>,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Transformer(EPSG:{} -> EPSG:{})",
            self.from_code, self.to_code
        )
    }
}

fn proj(code: u32) -> Result<Proj, CrsError> {
    let short = u16::try_from(code).map_err(|_| CrsError::Unknown(code))?;
    Proj::from_epsg_code(short).map_err(|_| CrsError::Unknown(code))
}

impl Transformer {
    pub fn new(from: u32, to: u32) -> Result<Transformer, CrsError> {
        // Validate both codes even for the identity, so a typo is caught at start-up.
        let (p_from, p_to) = (proj(from)?, proj(to)?);
        let identity = from == to;
        Ok(Transformer {
            from_code: from,
            to_code: to,
            from: (!identity).then_some(p_from),
            to: (!identity).then_some(p_to),
        })
    }

    pub fn is_identity(&self) -> bool {
        self.from.is_none()
    }

    pub fn point(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let (Some(from), Some(to)) = (&self.from, &self.to) else {
            return Ok((x, y));
        };
        let mut p = if from.is_latlong() {
            (x.to_radians(), y.to_radians(), 0.0)
        } else {
            (x, y, 0.0)
        };
        proj4rs::transform::transform(from, to, &mut p).map_err(|e| CrsError::Transform {
            from: self.from_code,
            to: self.to_code,
            x,
            y,
            reason: e.to_string(),
        })?;
        if to.is_latlong() {
            p.0 = p.0.to_degrees();
            p.1 = p.1.to_degrees();
        }
        if !(p.0.is_finite() && p.1.is_finite()) {
            return Err(CrsError::Transform {
                from: self.from_code,
                to: self.to_code,
                x,
                y,
                reason: "result is not finite".into(),
            });
        }
        Ok((p.0, p.1))
    }

    pub fn geometry(&self, g: &mut Geometry<f64>) -> Result<(), CrsError> {
        if self.is_identity() {
            return Ok(());
        }
        let mut failure = None;
        for_each_coord(g, &mut |c| {
            if failure.is_none() {
                match self.point(c.x, c.y) {
                    Ok((x, y)) => *c = Coord { x, y },
                    Err(e) => failure = Some(e),
                }
            }
        });
        failure.map_or(Ok(()), Err)
    }

    /// The envelope of a rectangle after reprojection (its edges densified, so curved edges in
    /// the target CRS are still enclosed).
    pub fn rect(&self, r: Rect<f64>) -> Result<Rect<f64>, CrsError> {
        Ok(self.area(r)?.envelope)
    }

    /// The image of a rectangle in the target CRS, for spatial queries on projected data.
    pub fn area(&self, r: Rect<f64>) -> Result<Area, CrsError> {
        if self.is_identity() {
            return Ok(Area {
                ring: r.to_polygon(),
                envelope: r,
                inner: Some(r),
                tolerance: 0.0,
            });
        }
        const STEPS: usize = 16;
        let (min, max) = (r.min(), r.max());
        let lerp = |a: f64, b: f64, t: f64| a + (b - a) * t;
        // Counter-clockwise around the rectangle, `STEPS` segments per edge.
        let mut pts = Vec::with_capacity(4 * STEPS);
        let mut mids = Vec::with_capacity(4 * STEPS);
        for (from, to) in [
            ((min.x, min.y), (max.x, min.y)),
            ((max.x, min.y), (max.x, max.y)),
            ((max.x, max.y), (min.x, max.y)),
            ((min.x, max.y), (min.x, min.y)),
        ] {
            for i in 0..STEPS {
                let t = i as f64 / STEPS as f64;
                let tm = (i as f64 + 0.5) / STEPS as f64;
                pts.push((lerp(from.0, to.0, t), lerp(from.1, to.1, t)));
                mids.push((lerp(from.0, to.0, tm), lerp(from.1, to.1, tm)));
            }
        }
        let mut ring = Vec::with_capacity(pts.len() + 1);
        for (x, y) in pts {
            let (x, y) = self.point(x, y)?;
            ring.push(Coord { x, y });
        }
        ring.push(ring[0]);
        // How far the true (curved) edges stray from the sampled chords, measured at each
        // segment's midpoint: every test below allows twice that.
        let mut tolerance: f64 = 0.0;
        for (k, (x, y)) in mids.into_iter().enumerate() {
            let (x, y) = self.point(x, y)?;
            let (a, b) = (ring[k], ring[k + 1]);
            let chord_mid = Coord {
                x: (a.x + b.x) / 2.0,
                y: (a.y + b.y) / 2.0,
            };
            tolerance = tolerance.max((x - chord_mid.x).hypot(y - chord_mid.y));
        }
        let envelope = LineString::from(ring.clone())
            .bounding_rect()
            .expect("non-empty");
        tolerance = 2.0 * tolerance + (envelope.width() + envelope.height()) * 1e-9;
        // The largest axis-aligned rectangle between the four sampled edges.
        let edge = |k: usize| &ring[k * STEPS..=(k + 1) * STEPS];
        let x0 = edge(3).iter().map(|c| c.x).fold(f64::MIN, f64::max) + tolerance;
        let x1 = edge(1).iter().map(|c| c.x).fold(f64::MAX, f64::min) - tolerance;
        let y0 = edge(0).iter().map(|c| c.y).fold(f64::MIN, f64::max) + tolerance;
        let y1 = edge(2).iter().map(|c| c.y).fold(f64::MAX, f64::min) - tolerance;
        let inner =
            (x0 < x1 && y0 < y1).then(|| Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }));
        Ok(Area {
            ring: Polygon::new(LineString(ring), vec![]),
            envelope: grow(envelope, tolerance),
            inner,
            tolerance,
        })
    }
}

/// Where two rectangles overlap (edges included); `None` when they do not.
pub fn intersection(a: &Rect<f64>, b: &Rect<f64>) -> Option<Rect<f64>> {
    let (x0, y0) = (a.min().x.max(b.min().x), a.min().y.max(b.min().y));
    let (x1, y1) = (a.max().x.min(b.max().x), a.max().y.min(b.max().y));
    (x0 <= x1 && y0 <= y1).then(|| Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }))
}

/// The smallest rectangle holding both.
pub fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

/// `r` with `d` more on every side.
pub fn grow(r: Rect<f64>, d: f64) -> Rect<f64> {
    Rect::new(
        Coord {
            x: r.min().x - d,
            y: r.min().y - d,
        },
        Coord {
            x: r.max().x + d,
            y: r.max().y + d,
        },
    )
}

/// A query rectangle carried into another CRS: its sampled outline, its envelope and an inner
/// rectangle, so that candidate boxes can be sorted into surely in, surely out, and to check.
#[derive(Debug, Clone)]
pub struct Area {
    pub ring: Polygon<f64>,
    /// Encloses the whole image (for index searches).
    pub envelope: Rect<f64>,
    /// Lies inside the image.
    pub inner: Option<Rect<f64>>,
    /// How far the sampled outline may stray from the true one.
    pub tolerance: f64,
}

impl Area {
    /// Everything inside `b` is inside the area.
    pub fn surely_contains(&self, b: &Rect<f64>) -> bool {
        self.inner.is_some_and(|i| i.contains(b))
    }

    /// Nothing inside `b` can touch the area.
    pub fn surely_misses(&self, b: &Rect<f64>) -> bool {
        // Cheap rectangle tests first: most boxes are settled without the outline.
        if self.inner.is_some_and(|i| i.intersects(b)) {
            return false;
        }
        let grown = grow(*b, self.tolerance);
        if !self.envelope.intersects(&grown) {
            return true;
        }
        self.tolerance > 0.0 && !self.ring.intersects(&grown)
    }
}

/// Visits every coordinate of a geometry in place (geo's `MapCoordsInPlace` cannot recurse
/// into collections with a fallible closure).
pub fn for_each_coord(g: &mut Geometry<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
    fn ring(ls: &mut geo_types::LineString<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
        ls.0.iter_mut().for_each(f);
    }
    fn poly(p: &mut geo_types::Polygon<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
        p.exterior_mut(|e| ring(e, f));
        p.interiors_mut(|is| is.iter_mut().for_each(|i| ring(i, f)));
    }
    match g {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start);
            f(&mut l.end);
        }
        Geometry::LineString(ls) => ring(ls, f),
        Geometry::Polygon(p) => poly(p, f),
        Geometry::MultiPoint(mp) => mp.0.iter_mut().for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(m) => m.0.iter_mut().for_each(|ls| ring(ls, f)),
        Geometry::MultiPolygon(m) => m.0.iter_mut().for_each(|p| poly(p, f)),
        Geometry::GeometryCollection(c) => c.0.iter_mut().for_each(|g| for_each_coord(g, f)),
        Geometry::Rect(r) => {
            let (mut a, mut b) = (r.min(), r.max());
            f(&mut a);
            f(&mut b);
            *r = Rect::new(a, b);
        }
        Geometry::Triangle(t) => {
            let (mut a, mut b, mut c) = (t.v1(), t.v2(), t.v3());
            f(&mut a);
            f(&mut b);
            f(&mut c);
            *t = geo_types::Triangle::new(a, b, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Firenze 11.2558 E 43.7696 N, reference values from PROJ (cs2cs).
    #[test]
    fn firenze_matches_proj() {
        let t = Transformer::new(4326, 3003).unwrap();
        let (x, y) = t.point(11.2558, 43.7696).unwrap();
        assert!(
            (x - 1681587.633).abs() < 0.01 && (y - 4848772.196).abs() < 0.01,
            "{x} {y}"
        );
        let t = Transformer::new(4326, 6707).unwrap();
        let (x, y) = t.point(11.2558, 43.7696).unwrap();
        assert!(
            (x - 681557.249).abs() < 0.01 && (y - 4848756.385).abs() < 0.01,
            "{x} {y}"
        );
        let back = Transformer::new(3003, 4326).unwrap();
        let (lon, lat) = back.point(1681587.633, 4848772.196).unwrap();
        assert!((lon - 11.2558).abs() < 1e-7 && (lat - 43.7696).abs() < 1e-7);
    }

    #[test]
    fn inner_rect_lies_inside_the_query() {
        let to = Transformer::new(4326, 3003).unwrap();
        let back = Transformer::new(3003, 4326).unwrap();
        let q = Rect::new(Coord { x: 11.8, y: 43.2 }, Coord { x: 12.3, y: 43.6 });
        let area = to.area(q).unwrap();
        let (inner, outer) = (area.inner.unwrap(), area.envelope);
        assert!(area.tolerance < 1.0, "{}", area.tolerance);
        assert!(area.surely_misses(&Rect::new(
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 1.0, y: 1.0 }
        )));
        assert!(!area.surely_misses(&inner));
        assert!(inner.width() > 0.85 * outer.width() && inner.height() > 0.85 * outer.height());
        for c in [
            inner.min(),
            inner.max(),
            Coord {
                x: inner.min().x,
                y: inner.max().y,
            },
            Coord {
                x: inner.max().x,
                y: inner.min().y,
            },
        ] {
            let (lon, lat) = back.point(c.x, c.y).unwrap();
            assert!(
                q.min().x <= lon && lon <= q.max().x && q.min().y <= lat && lat <= q.max().y,
                "{lon} {lat}"
            );
        }
    }

    #[test]
    fn unknown_code_is_an_error() {
        assert!(matches!(
            Transformer::new(4326, 99999),
            Err(CrsError::Unknown(99999))
        ));
    }

    #[test]
    fn rect_envelope_encloses_corners() {
        let t = Transformer::new(4326, 3003).unwrap();
        let r = t
            .rect(Rect::new(
                Coord { x: 10.0, y: 43.0 },
                Coord { x: 11.0, y: 44.0 },
            ))
            .unwrap();
        for (lon, lat) in [(10.0, 43.0), (11.0, 44.0), (10.5, 43.5), (10.0, 44.0)] {
            let (x, y) = t.point(lon, lat).unwrap();
            assert!(r.min().x <= x && x <= r.max().x && r.min().y <= y && y <= r.max().y);
        }
    }
}
