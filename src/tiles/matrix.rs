//! Tile matrix sets (OGC 2D Tile Matrix Set 2.0): where each tile lies in the set's CRS, which
//! tiles cover an extent, and the JSON description clients read.
//!
//! A set is a quadtree described by its origin, the cell size and matrix size of level 0, and
//! how CRS84 coordinates reach its CRS. WebMercatorQuad is built in; WorldCRS84Quad or an
//! Italian grid (EPSG:7791, 3003) are other values of the same struct.

use crate::crs::{self, CrsError, Transformer};
use geo_types::{Coord, Rect};
use serde_json::{Value as Json, json};

/// Radius of the spherical Mercator used by EPSG:3857.
const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the WebMercatorQuad square, in metres.
pub const MERCATOR_HALF: f64 = std::f64::consts::PI * EARTH_RADIUS;
/// The latitude where the WebMercatorQuad square ends.
pub const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;
/// The OGC standard rendering pixel, in metres (TMS 2.0 `cellSize = scale × 0.28e-3`).
const STANDARD_PIXEL: f64 = 0.28e-3;

/// How CRS84 coordinates are carried into the set's CRS.
#[derive(Debug, Clone)]
enum Projection {
    /// EPSG:3857 in closed form: the axes are separable, so a CRS84 box maps onto a box.
    WebMercator,
    Other(Box<(Transformer, Transformer)>),
}

#[derive(Debug, Clone)]
pub struct TileMatrixSet {
    pub id: &'static str,
    pub title: &'static str,
    pub uri: &'static str,
    pub epsg: u32,
    pub well_known_scale_set: Option<&'static str>,
    /// Top-left corner of every level, in the set's CRS (easting, northing).
    pub origin: (f64, f64),
    /// Size of a cell (a pixel of a 256-pixel tile) at level 0, in CRS units.
    pub cell_size_0: f64,
    /// Tiles across and down at level 0; each level doubles both.
    pub matrix_0: (u32, u32),
    pub tile_size: u32,
    pub max_level: u8,
    /// Metres in a unit of the CRS (1 for projected CRSs, 2πR/360 for degrees), for the
    /// scale denominators.
    pub metres_per_unit: f64,
    /// Axis abbreviations, in the order of `origin`.
    pub axes: [&'static str; 2],
    projection: Projection,
}

/// A tile's place in a matrix set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl std::fmt::Display for TileCoord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// The range of tiles of one level that cover an extent (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub z: u8,
    pub min_col: u32,
    pub max_col: u32,
    pub min_row: u32,
    pub max_row: u32,
}

impl Limits {
    pub fn contains(&self, c: TileCoord) -> bool {
        c.z == self.z
            && (self.min_col..=self.max_col).contains(&c.x)
            && (self.min_row..=self.max_row).contains(&c.y)
    }
    pub fn count(&self) -> u64 {
        (self.max_col - self.min_col + 1) as u64 * (self.max_row - self.min_row + 1) as u64
    }
}

impl TileMatrixSet {
    pub fn web_mercator_quad() -> TileMatrixSet {
        TileMatrixSet {
            id: "WebMercatorQuad",
            title: "Google Maps Compatible for the World",
            uri: "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            epsg: 3857,
            well_known_scale_set: Some(
                "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
            ),
            origin: (-MERCATOR_HALF, MERCATOR_HALF),
            cell_size_0: 2.0 * MERCATOR_HALF / 256.0,
            matrix_0: (1, 1),
            tile_size: 256,
            max_level: 24,
            metres_per_unit: 1.0,
            axes: ["X", "Y"],
            projection: Projection::WebMercator,
        }
    }

    /// WorldCRS84Quad: longitude and latitude, two tiles of 180° at level 0.
    pub fn world_crs84_quad() -> TileMatrixSet {
        let mut t = TileMatrixSet::custom(
            "WorldCRS84Quad",
            "CRS84 for the World",
            "http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
            4326,
            (-180.0, 90.0),
            180.0 / 256.0,
            (2, 1),
            22,
        )
        .expect("EPSG:4326 is built in");
        t.well_known_scale_set = Some("http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad");
        t.metres_per_unit = 2.0 * MERCATOR_HALF / 360.0;
        t.axes = ["Lon", "Lat"];
        t
    }

    /// The tile matrix sets the server offers, WebMercatorQuad first.
    pub fn registry() -> Vec<TileMatrixSet> {
        vec![Self::web_mercator_quad(), Self::world_crs84_quad()]
    }

    /// A quadtree matrix set in a CRS reached through proj4rs.
    #[allow(clippy::too_many_arguments)]
    pub fn custom(
        id: &'static str,
        title: &'static str,
        uri: &'static str,
        epsg: u32,
        origin: (f64, f64),
        cell_size_0: f64,
        matrix_0: (u32, u32),
        max_level: u8,
    ) -> Result<TileMatrixSet, CrsError> {
        Ok(TileMatrixSet {
            id,
            title,
            uri,
            epsg,
            well_known_scale_set: None,
            origin,
            cell_size_0,
            matrix_0,
            tile_size: 256,
            max_level,
            metres_per_unit: 1.0,
            axes: ["E", "N"],
            projection: Projection::Other(Box::new((
                Transformer::new(4326, epsg)?,
                Transformer::new(epsg, 4326)?,
            ))),
        })
    }

    pub fn crs_uri(&self) -> String {
        crs::uri(self.epsg)
    }

    pub fn matrix_size(&self, z: u8) -> (u32, u32) {
        (self.matrix_0.0 << z, self.matrix_0.1 << z)
    }

    /// The width (and height) of a tile at level `z`, in CRS units.
    pub fn tile_span(&self, z: u8) -> f64 {
        self.cell_size_0 * self.tile_size as f64 / (1u64 << z) as f64
    }

    /// Whether the tile exists in the set (whatever the data).
    pub fn contains(&self, c: TileCoord) -> bool {
        let (w, h) = self.matrix_size(c.z);
        c.z <= self.max_level && c.x < w && c.y < h
    }

    /// The tile's bounds in the set's CRS.
    pub fn bounds(&self, c: TileCoord) -> Rect<f64> {
        let span = self.tile_span(c.z);
        let minx = self.origin.0 + c.x as f64 * span;
        let maxy = self.origin.1 - c.y as f64 * span;
        Rect::new(
            Coord {
                x: minx,
                y: maxy - span,
            },
            Coord {
                x: minx + span,
                y: maxy,
            },
        )
    }

    /// CRS84 (lon, lat) into the set's CRS.
    pub fn project(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        match &self.projection {
            Projection::WebMercator => Ok(mercator(lon, lat)),
            Projection::Other(t) => t.0.point(lon, lat),
        }
    }

    /// A projection for the coordinates of one tile: for Web Mercator, a Taylor series of the
    /// latitude term around the tile (within a couple of tile heights, where its error is far
    /// below a tile unit), and the exact formula elsewhere.
    pub fn local(&self, around: Rect<f64>) -> LocalProjection<'_> {
        let lat0 = around.center().y.to_radians();
        let span = (around.height().to_radians()).abs();
        let series = matches!(self.projection, Projection::WebMercator)
            && span < 0.03
            && lat0.abs() < MERCATOR_MAX_LAT.to_radians() - 2.0 * span;
        let (sec, tan) = (1.0 / lat0.cos(), lat0.tan());
        LocalProjection {
            tms: self,
            series: series.then(|| Series {
                lat0,
                max_d: 2.0 * span,
                y0: mercator(0.0, lat0.to_degrees()).1,
                // R times the derivatives of ln tan(pi/4 + phi/2), over k!.
                c: [
                    EARTH_RADIUS * sec,
                    EARTH_RADIUS * sec * tan / 2.0,
                    EARTH_RADIUS * sec * (2.0 * tan * tan + 1.0) / 6.0,
                    EARTH_RADIUS * sec * tan * (6.0 * tan * tan + 5.0) / 24.0,
                ],
            }),
        }
    }

    /// A box of the set's CRS as the CRS84 box that encloses it.
    pub fn to_crs84(&self, r: Rect<f64>) -> Result<Rect<f64>, CrsError> {
        match &self.projection {
            Projection::WebMercator => {
                let (x0, y0) = inverse_mercator(r.min().x, r.min().y);
                let (x1, y1) = inverse_mercator(r.max().x, r.max().y);
                Ok(Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }))
            }
            Projection::Other(t) => t.1.rect(r),
        }
    }

    /// A CRS84 box as the box of the set's CRS that encloses it.
    pub fn from_crs84(&self, extent: Rect<f64>) -> Result<Rect<f64>, CrsError> {
        match &self.projection {
            Projection::WebMercator => {
                let (x0, y0) = mercator(extent.min().x, extent.min().y);
                let (x1, y1) = mercator(extent.max().x, extent.max().y);
                Ok(Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }))
            }
            Projection::Other(t) => t.0.rect(extent),
        }
    }

    /// The tiles of level `z` that cover a CRS84 extent.
    pub fn limits(&self, z: u8, extent: Rect<f64>) -> Result<Limits, CrsError> {
        let r = self.from_crs84(extent)?;
        let span = self.tile_span(z);
        let (w, h) = self.matrix_size(z);
        let col = |x: f64| {
            (((x - self.origin.0) / span).floor().max(0.0) as u64).min(w as u64 - 1) as u32
        };
        let row = |y: f64| {
            (((self.origin.1 - y) / span).floor().max(0.0) as u64).min(h as u64 - 1) as u32
        };
        Ok(Limits {
            z,
            min_col: col(r.min().x),
            max_col: col(r.max().x),
            min_row: row(r.max().y),
            max_row: row(r.min().y),
        })
    }

    /// The set's definition as TMS 2.0 JSON.
    pub fn to_json(&self) -> Json {
        let matrices: Vec<Json> = (0..=self.max_level)
            .map(|z| {
                let cell = self.cell_size_0 / (1u64 << z) as f64;
                let (w, h) = self.matrix_size(z);
                json!({
                    "id": z.to_string(),
                    "scaleDenominator": cell * self.metres_per_unit / STANDARD_PIXEL,
                    "cellSize": cell,
                    "cornerOfOrigin": "topLeft",
                    "pointOfOrigin": [self.origin.0, self.origin.1],
                    "tileWidth": self.tile_size,
                    "tileHeight": self.tile_size,
                    "matrixWidth": w,
                    "matrixHeight": h,
                })
            })
            .collect();
        let mut v = json!({
            "id": self.id,
            "title": self.title,
            "uri": self.uri,
            "crs": self.crs_uri(),
            "orderedAxes": self.axes,
            "tileMatrices": matrices,
        });
        if let Some(w) = self.well_known_scale_set {
            v["wellKnownScaleSet"] = w.into();
        }
        v
    }
}

#[derive(Debug, Clone, Copy)]
struct Series {
    lat0: f64,
    max_d: f64,
    y0: f64,
    c: [f64; 4],
}

/// See [`TileMatrixSet::local`].
#[derive(Debug, Clone, Copy)]
pub struct LocalProjection<'a> {
    tms: &'a TileMatrixSet,
    series: Option<Series>,
}

impl LocalProjection<'_> {
    pub fn project(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        if let Some(s) = &self.series {
            let d = lat.to_radians() - s.lat0;
            if d.abs() <= s.max_d {
                let y = s.y0 + d * (s.c[0] + d * (s.c[1] + d * (s.c[2] + d * s.c[3])));
                return Ok((lon.to_radians() * EARTH_RADIUS, y));
            }
        }
        self.tms.project(lon, lat)
    }
}

/// CRS84 to EPSG:3857; latitudes beyond the square are held at its edge.
pub fn mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT);
    let x = lon.to_radians() * EARTH_RADIUS;
    let y = (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
        .tan()
        .ln()
        * EARTH_RADIUS;
    (x, y)
}

pub fn inverse_mercator(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_mercator_matches_the_registry() {
        let t = TileMatrixSet::web_mercator_quad();
        let j = t.to_json();
        assert_eq!(j["tileMatrices"].as_array().unwrap().len(), 25);
        let l0 = &j["tileMatrices"][0];
        assert!((l0["scaleDenominator"].as_f64().unwrap() - 559_082_264.028_717).abs() < 1e-3);
        assert!((l0["cellSize"].as_f64().unwrap() - 156_543.033_928_041).abs() < 1e-6);
        assert_eq!(j["tileMatrices"][12]["matrixWidth"], 4096);
        // Firenze, against the closed form figures of PROJ.
        let (x, y) = t.project(11.2558, 43.7696).unwrap();
        assert!((x - 1_252_989.924).abs() < 0.01 && (y - 5_429_856.207).abs() < 0.01);
    }

    #[test]
    fn world_crs84_matches_the_registry() {
        let t = TileMatrixSet::world_crs84_quad();
        let j = t.to_json();
        let l0 = &j["tileMatrices"][0];
        assert!(
            (l0["scaleDenominator"].as_f64().unwrap() - 279_541_132.014_358_9).abs() < 1e-3,
            "{l0}"
        );
        assert_eq!(
            (l0["matrixWidth"].as_u64(), l0["matrixHeight"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(j["crs"], crate::crs::CRS84_URI);
        let b = t
            .to_crs84(t.bounds(TileCoord { z: 1, x: 2, y: 0 }))
            .unwrap();
        assert_eq!(
            (b.min().x, b.min().y, b.max().x, b.max().y),
            (0.0, 0.0, 90.0, 90.0)
        );
        let l = t
            .limits(
                6,
                Rect::new(Coord { x: 10.0, y: 43.0 }, Coord { x: 12.0, y: 44.0 }),
            )
            .unwrap();
        // 2.8125° tiles: columns from (190/2.8125) = 67, rows from (90-44)/2.8125 = 16.
        assert_eq!(
            (l.min_col, l.max_col, l.min_row, l.max_row),
            (67, 68, 16, 16)
        );
    }

    #[test]
    fn tuscany_at_z8() {
        let t = TileMatrixSet::web_mercator_quad();
        let toscana = Rect::new(Coord { x: 10.0, y: 43.0 }, Coord { x: 12.0, y: 44.0 });
        let l = t.limits(8, toscana).unwrap();
        assert_eq!(
            (l.min_col, l.max_col, l.min_row, l.max_row),
            (135, 136, 93, 94)
        );
        let b = t
            .to_crs84(t.bounds(TileCoord {
                z: 8,
                x: 135,
                y: 93,
            }))
            .unwrap();
        assert!((b.min().x - 9.84375).abs() < 1e-9 && (b.max().x - 11.25).abs() < 1e-9);
        assert!((b.min().y - 43.068_887_8).abs() < 1e-6 && (b.max().y - 44.087_585).abs() < 1e-6);
    }

    #[test]
    fn the_local_series_matches_the_formula() {
        let t = TileMatrixSet::web_mercator_quad();
        for z in [8u8, 12, 16] {
            let c = TileCoord {
                z,
                x: 136 << (z - 8),
                y: 93 << (z - 8),
            };
            let b = t.to_crs84(t.bounds(c)).unwrap();
            let local = t.local(b);
            assert!(local.series.is_some());
            let unit = t.tile_span(z) / 4096.0;
            for k in 0..=40 {
                let lat = b.min().y - b.height() + 3.0 * b.height() * k as f64 / 40.0;
                let exact = t.project(11.0, lat).unwrap();
                let approx = local.project(11.0, lat).unwrap();
                assert!(
                    (exact.1 - approx.1).abs() < unit / 100.0,
                    "z{z} {lat}: {exact:?} {approx:?}"
                );
                assert_eq!(exact.0, approx.0);
            }
        }
    }

    #[test]
    fn whole_world_limits_stay_in_the_matrix() {
        let t = TileMatrixSet::web_mercator_quad();
        let world = Rect::new(
            Coord {
                x: -180.0,
                y: -90.0,
            },
            Coord { x: 180.0, y: 90.0 },
        );
        let l = t.limits(3, world).unwrap();
        assert_eq!((l.min_col, l.max_col, l.min_row, l.max_row), (0, 7, 0, 7));
        assert!(!t.contains(TileCoord { z: 3, x: 8, y: 0 }));
        assert!(!t.contains(TileCoord { z: 25, x: 0, y: 0 }));
    }
}
