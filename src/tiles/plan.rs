//! The first half of making a tile: what to ask each layer's source for, with no I/O, so that
//! the caller can await the features (the server) or read them in a worker (`seed`) before
//! the second half, [`super::encode`], turns them into MVT bytes.

use super::matrix::{TileCoord, TileMatrixSet};
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

/// The plan for one layer of tile `coord`; `None` when its zoom range leaves the tile out.
pub fn plan_layer(
    tms: &TileMatrixSet,
    coord: TileCoord,
    tiling: &Tiling,
    fields: &[Field],
) -> Result<Option<LayerPlan>, TileError> {
    if !tiling.covers(coord.z) {
        return Ok(None);
    }
    let detail = tiling.at(coord.z);
    let bounds = tms.bounds(coord);
    let span = bounds.width();
    let buffer = span * tiling.buffer as f64 / tiling.extent as f64;
    let grown = crate::crs::grow(bounds, buffer);
    let query_box = tms.to_crs84(grown)?;
    let query_box = Rect::new(
        Coord {
            x: query_box.min().x.max(-180.0),
            y: query_box.min().y.max(-90.0),
        },
        Coord {
            x: query_box.max().x.min(180.0),
            y: query_box.max().y.min(90.0),
        },
    );
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
        // A mesh cell of a degree or two keeps Mercator's curve well under a pixel.
        let steps = if query_box.height() > 5.0 { 32 } else { 8 };
        let (min_x, max_y) = (bounds.min().x, bounds.max().y);
        Arc::new(PixelGrid::new(
            query_box,
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
            max_features: detail.max_features,
            tally,
        },
        bounds,
    }))
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
