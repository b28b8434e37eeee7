//! The first half of making a tile: what to ask each layer's source for, with no I/O, so that
//! the caller can await the features (the server) or read them in a worker (`seed`) before
//! the second half, [`super::encode`], turns them into MVT bytes.

use super::matrix::{MERCATOR_MAX_LAT, TileCoord, TileMatrixSet};
use super::shape::Frame;
use super::{TileError, Tiling, clip};
use crate::source::{Field, PixelGrid, TileQuery};
use geo_types::{Coord, Rect};
use std::sync::Arc;

/// One layer's part of a tile: the source query, and where the tile lies.
#[derive(Debug, Clone)]
pub struct LayerPlan {
    pub coord: TileCoord,
    /// The features to read: the tile and its buffer, in CRS84.
    pub query: TileQuery,
    /// The tile's box in the matrix set's CRS.
    bounds: Rect<f64>,
}

/// The tile's bounds in its matrix set's CRS, with the layer's buffer around.
fn buffered(bounds: Rect<f64>, tiling: &Tiling) -> Rect<f64> {
    let buffer = bounds.width() * tiling.buffer as f64 / tiling.extent as f64;
    crate::crs::grow(bounds, buffer)
}

/// The CRS84 box a layer's features are read from for tile `coord` (the tile and its
/// buffer); `None` when the layer's zoom range leaves the tile out.
pub fn query_box(
    tms: &TileMatrixSet,
    coord: TileCoord,
    tiling: &Tiling,
) -> Result<Option<Rect<f64>>, TileError> {
    if !tiling.covers(coord.z) {
        return Ok(None);
    }
    let b = tms.to_crs84(buffered(tms.bounds(coord), tiling))?;
    Ok(Some(Rect::new(
        Coord {
            x: b.min().x.max(-180.0),
            y: b.min().y.max(-90.0),
        },
        Coord {
            x: b.max().x.min(180.0),
            y: b.max().y.min(90.0),
        },
    )))
}

/// The plan for one layer of tile `coord`; `None` when its zoom range leaves the tile out.
pub fn plan_layer(
    tms: &TileMatrixSet,
    coord: TileCoord,
    tiling: &Tiling,
    fields: &[Field],
) -> Result<Option<LayerPlan>, TileError> {
    let Some(query_box) = query_box(tms, coord, tiling)? else {
        return Ok(None);
    };
    let detail = tiling.at(coord.z);
    let bounds = tms.bounds(coord);
    let span = bounds.width();
    let grown = buffered(bounds, tiling);
    // One pixel in degrees, on each axis (for Mercator a degree of latitude spans more).
    let pixel = span / tms.tile_size as f64;
    let per_unit = [
        query_box.width() / grown.width(),
        query_box.height() / grown.height(),
    ];
    // Where the features left out are counted: the tile's pixels over the query box.
    let tally = tiling.stand_ins.then(|| {
        let local = tms.local(query_box);
        let per_px = tms.tile_size as f64 / span;
        // Fine enough that Mercator's curve stays under a pixel from the mesh (the error goes
        // with the square of a cell: under 0.8 px at z0 even near ±85°, tested below).
        let steps = match query_box.height() {
            h if h > 40.0 => 64,
            h if h > 5.0 => 32,
            _ => 8,
        };
        let (min_x, max_y) = (bounds.min().x, bounds.max().y);
        // Within Mercator's latitudes: beyond them it is flat, and no mesh follows that.
        let lat = |v: f64| v.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT);
        let area = Rect::new(
            Coord {
                x: query_box.min().x,
                y: lat(query_box.min().y),
            },
            Coord {
                x: query_box.max().x,
                y: lat(query_box.max().y),
            },
        );
        Arc::new(PixelGrid::new(
            area,
            steps,
            tms.tile_size,
            tms.tile_size,
            |lon, lat| {
                let (x, y) = local.project(lon, lat).ok()?;
                Some([(x - min_x) * per_px, (max_y - y) * per_px])
            },
        ))
    });
    let columns: Vec<usize> = match &detail.properties {
        Some(p) => p.clone(),
        None => (0..fields.len()).collect(),
    };
    Ok(Some(LayerPlan {
        coord,
        query: TileQuery {
            bbox: query_box,
            pixel: per_unit.map(|k| detail.min_size_px * pixel * k),
            columns,
            // With stand-ins, an eighth of the features a tile may hold is kept for them, so
            // that what the count leaves out is still counted.
            max_features: detail.max_features - stand_in_reserve(tiling, detail.max_features),
            tally,
        },
        bounds,
    }))
}

/// How many of a tile's `max_features` are kept for stand-ins.
fn stand_in_reserve(tiling: &Tiling, max_features: usize) -> usize {
    if tiling.stand_ins && max_features > 1 {
        (max_features / 8).max(1)
    } else {
        0
    }
}

impl LayerPlan {
    /// How features are placed into the tile: CRS84 into tile units, and the clip square.
    pub fn frame<'a>(&self, tms: &'a TileMatrixSet, tiling: &Tiling) -> Frame<'a> {
        let extent = tiling.extent as f64;
        Frame {
            projection: tms.local(self.query.bbox),
            min_x: self.bounds.min().x,
            max_y: self.bounds.max().y,
            scale: extent / self.bounds.width(),
            square: clip::Square {
                lo: -(tiling.buffer as f64),
                hi: extent + tiling.buffer as f64,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_mesh_follows_mercator_within_a_pixel() {
        let tms = TileMatrixSet::web_mercator_quad();
        for coord in [
            TileCoord { z: 0, x: 0, y: 0 },
            TileCoord { z: 3, x: 4, y: 2 },
            TileCoord {
                z: 8,
                x: 135,
                y: 93,
            },
        ] {
            let plan = plan_layer(&tms, coord, &Tiling::default(), &[])
                .unwrap()
                .unwrap();
            let grid = plan.query.tally.as_ref().unwrap();
            let b = tms.bounds(coord);
            let per_px = 256.0 / b.width();
            let q = plan.query.bbox;
            let mut worst: f64 = 0.0;
            for i in 0..=50 {
                for j in 0..=50 {
                    let lon = q.min().x + q.width() * i as f64 / 50.0;
                    let lat = (q.min().y + q.height() * j as f64 / 50.0).clamp(-85.0, 85.0);
                    let (x, y) = tms.project(lon, lat).unwrap();
                    let exact = [(x - b.min().x) * per_px, (b.max().y - y) * per_px];
                    let p = grid.pixel(lon, lat).unwrap();
                    worst = worst.max((p[0] - exact[0]).hypot(p[1] - exact[1]));
                }
            }
            assert!(worst < 0.8, "{coord}: {worst} px");
        }
    }
}
