//! The vector tile engine: a pure function of (layers, tile) that `serve` and `seed` share.
//! Nothing here knows about HTTP.
//!
//! For each layer: the source is asked for the features whose box meets the tile and its
//! buffer, skipping those under a pixel undecoded; each geometry is projected into the tile
//! matrix set, clipped, simplified and snapped ([`shape`]), then written as MVT ([`mvt`]).
//!
//! **Tile budget.** Each layer has, per zoom, a `max_features` and a `max_bytes` limit. Over
//! `max_features`, the source keeps the features with the largest bounding boxes. Over
//! `max_bytes`, a layer of detailed outlines (over 16 vertices a feature on average) is shaped
//! again with a simplification four times coarser; if it is still too big, the smallest
//! features (by area, then length; points last in file order first) are dropped until it fits.
//! A tile therefore never exceeds the sum of its layers' budgets.

pub mod cache;
pub mod clip;
pub mod matrix;
pub mod mvt;
pub mod shape;

use crate::crs::CrsError;
use crate::source::{Feature, FeatureId, Source, SourceError, TileQuery};
use geo_types::{Coord, Rect};
use matrix::{TileCoord, TileMatrixSet};
use mvt::LayerWriter;
use mvt::TileGeometry;
use shape::{Detail, Frame};

#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Crs(#[from] CrsError),
}

/// What a layer's tiles hold at one zoom level.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelDetail {
    /// Field indices of the properties written; `None` writes them all.
    pub properties: Option<Vec<usize>>,
    /// Simplification tolerance, in tile units (1/extent of the tile side).
    pub simplify: f64,
    /// Features, rings and lines smaller than this many pixels (1/256 of the tile) are dropped.
    pub min_size_px: f64,
    pub max_features: usize,
    pub max_bytes: usize,
}

impl Default for LevelDetail {
    fn default() -> Self {
        // tippecanoe's per-tile limits.
        LevelDetail {
            properties: None,
            simplify: 1.0,
            min_size_px: 1.0,
            max_features: 200_000,
            max_bytes: 500_000,
        }
    }
}

/// How a layer is cut into tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiling {
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub extent: u32,
    /// Around the tile, in tile units, so that lines and outlines continue past the border.
    pub buffer: u32,
    pub default: LevelDetail,
    /// Zoom ranges (inclusive) with their own detail; the last that holds a zoom wins.
    pub levels: Vec<(u8, u8, LevelDetail)>,
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling {
            min_zoom: 0,
            max_zoom: 16,
            extent: 4096,
            buffer: 64,
            default: LevelDetail::default(),
            levels: Vec::new(),
        }
    }
}

impl Tiling {
    pub fn at(&self, z: u8) -> &LevelDetail {
        self.levels
            .iter()
            .rev()
            .find(|(from, to, _)| (*from..=*to).contains(&z))
            .map_or(&self.default, |(_, _, d)| d)
    }

    pub fn covers(&self, z: u8) -> bool {
        (self.min_zoom..=self.max_zoom).contains(&z)
    }
}

/// The zoom levels that some layer of `layers` has tiles at.
pub fn zoom_range(layers: &[&crate::catalogue::Layer]) -> Option<(u8, u8)> {
    let min = layers.iter().map(|l| l.tiling.min_zoom).min()?;
    let max = layers.iter().map(|l| l.tiling.max_zoom).max()?;
    Some((min, max))
}

/// The CRS84 extent of all of `layers`.
pub fn extent(layers: &[&crate::catalogue::Layer]) -> Option<Rect<f64>> {
    layers
        .iter()
        .filter_map(|l| l.source.info().extent)
        .reduce(|a, b| {
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
        })
}

/// One layer of a tile: its MVT layer name, its features and how to cut them.
pub struct LayerInput<'a> {
    pub name: &'a str,
    pub source: &'a dyn Source,
    pub tiling: &'a Tiling,
}

/// An encoded tile and what went into it.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// MVT bytes; empty when no layer has a feature here.
    pub bytes: Vec<u8>,
    pub features: usize,
    /// Features read but not written: under a pixel once shaped, or over the budget.
    pub dropped: usize,
}

/// Renders one tile of `layers` (layers whose zoom range excludes the tile are left out).
pub fn render(
    tms: &TileMatrixSet,
    coord: TileCoord,
    layers: &[LayerInput<'_>],
) -> Result<Rendered, TileError> {
    let mut out = Rendered::default();
    for layer in layers {
        if !layer.tiling.covers(coord.z) {
            continue;
        }
        let (features, dropped) = render_layer(tms, coord, layer, &mut out.bytes)?;
        out.features += features;
        out.dropped += dropped;
    }
    Ok(out)
}

/// Appends one layer to `tile` (nothing when no feature is left); says how many features it
/// wrote and how many it read but left out.
fn render_layer(
    tms: &TileMatrixSet,
    coord: TileCoord,
    layer: &LayerInput<'_>,
    tile: &mut Vec<u8>,
) -> Result<(usize, usize), TileError> {
    let tiling = layer.tiling;
    let detail = tiling.at(coord.z);
    let bounds = tms.bounds(coord);
    let span = bounds.width();
    let extent = tiling.extent as f64;
    let buffer = span * tiling.buffer as f64 / extent;
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
    let fields = &layer.source.info().fields;
    let columns: Vec<usize> = match &detail.properties {
        Some(p) => p.clone(),
        None => (0..fields.len()).collect(),
    };
    let features = layer.source.tile_features(&TileQuery {
        bbox: query_box,
        pixel: per_unit.map(|k| detail.min_size_px * pixel * k),
        columns: columns.clone(),
        max_features: detail.max_features,
    })?;

    let px = extent / tms.tile_size as f64;
    let frame = Frame {
        projection: tms.local(query_box),
        min_x: bounds.min().x,
        max_y: bounds.max().y,
        scale: extent / span,
        square: clip::Square {
            lo: -(tiling.buffer as f64),
            hi: extent + tiling.buffer as f64,
        },
    };
    // The layer's share of the budget: the tile's framing takes a few bytes.
    let max_bytes = detail.max_bytes.saturating_sub(8);
    let names: Vec<&str> = columns.iter().map(|&i| fields[i].name.as_str()).collect();
    let encode = |subset: &[&(usize, TileGeometry)]| {
        encode_subset(
            layer.name,
            tiling.extent,
            &features,
            &columns,
            &names,
            subset,
        )
    };
    let shape_all = |tolerance: f64| -> Result<Vec<(usize, TileGeometry)>, TileError> {
        let d = Detail {
            tolerance,
            min_area: (detail.min_size_px * px).powi(2),
            min_length: detail.min_size_px * px,
        };
        let mut shaped = Vec::with_capacity(features.len());
        for (i, f) in features.iter().enumerate() {
            if let Some(g) = &f.geometry {
                let mut s = TileGeometry::default();
                shape::shape(g, &frame, &d, &mut s)?;
                if !s.is_empty() {
                    shaped.push((i, s));
                }
            }
        }
        Ok(shaped)
    };

    let mut shaped = shape_all(detail.simplify)?;
    let (mut writer, mut sizes) = encode(&shaped.iter().collect::<Vec<_>>());
    if shaped.is_empty() {
        return Ok((0, features.len()));
    }
    if writer.len_keeping(None) <= max_bytes {
        writer.append_to_tile(None, tile);
        let n = shaped.len();
        return Ok((n, features.len() - n));
    }
    // Over budget. Detailed outlines first lose vertices to a coarser simplification (it does
    // nothing for features of a few vertices, so it is tried only when they have many).
    let vertices: usize = shaped.iter().map(|(_, g)| g.vertices()).sum();
    if vertices > 16 * shaped.len() {
        shaped = shape_all(detail.simplify.max(1.0) * 4.0)?;
        (writer, sizes) = encode(&shaped.iter().collect::<Vec<_>>());
        if writer.len_keeping(None) <= max_bytes {
            writer.append_to_tile(None, tile);
            let n = shaped.len();
            return Ok((n, features.len() - n));
        }
    }
    // Then the smallest features go: keep the largest that fit, knowing each one's bytes.
    let weights: Vec<f64> = shaped.iter().map(|(_, g)| size(g)).collect();
    let mut order: Vec<usize> = (0..shaped.len()).collect();
    order.sort_unstable_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    let pick = |room: usize| {
        let mut keep = vec![false; shaped.len()];
        let (mut used, mut kept) = (0usize, 0usize);
        for &i in &order {
            if used + sizes[i] > room {
                break;
            }
            used += sizes[i];
            keep[i] = true;
            kept += 1;
        }
        (keep, kept)
    };
    let overhead = writer.overhead();
    let kept = if overhead <= max_bytes / 2 {
        // The dropped features' keys and values stay in the tables: the size is exact.
        let (keep, kept) = pick(max_bytes - overhead);
        if kept > 0 {
            writer.append_to_tile(Some(&keep), tile);
        }
        kept
    } else {
        // Tables of mostly unique values: encode the kept ones again, so that the tables
        // shrink with them, until it fits.
        let mut room = max_bytes * 9 / 10;
        loop {
            let (keep, kept) = pick(room);
            let subset: Vec<&(usize, TileGeometry)> = shaped
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(s, _)| s)
                .collect();
            let w = encode(&subset).0;
            if kept == 0 {
                break 0;
            }
            if w.len_keeping(None) <= max_bytes {
                w.append_to_tile(None, tile);
                break kept;
            }
            room = room * 9 / 10;
        }
    };
    tracing::debug!(layer = layer.name, tile = %coord, kept, of = shaped.len(), "tile over its byte budget: smallest features dropped");
    Ok((kept, features.len() - kept))
}

/// A feature's weight for the byte budget: area for polygons, length for lines, 0 for points.
fn size(s: &TileGeometry) -> f64 {
    let area: f64 = s.rings.iter().map(|r| shape::shoelace(r).max(0.0)).sum();
    let length: f64 = s
        .lines
        .iter()
        .flat_map(|l| l.windows(2))
        .map(|w| ((w[1][0] - w[0][0]) as f64).hypot((w[1][1] - w[0][1]) as f64))
        .sum();
    area + length
}

fn encode_subset(
    name: &str,
    extent: u32,
    features: &[Feature],
    columns: &[usize],
    names: &[&str],
    shaped: &[&(usize, TileGeometry)],
) -> (LayerWriter, Vec<usize>) {
    let mut w = LayerWriter::with_capacity(
        name,
        extent,
        shaped.iter().map(|(_, g)| 8 + 3 * g.vertices()).sum(),
    );
    let keys: Vec<u32> = names.iter().map(|n| w.key(n)).collect();
    let mut sizes = Vec::with_capacity(shaped.len());
    let mut props = Vec::with_capacity(columns.len());
    for (i, s) in shaped {
        let f = &features[*i];
        props.clear();
        props.extend(
            keys.iter()
                .zip(columns)
                .map(|(&k, &c)| (k, &f.properties[c])),
        );
        let id = match &f.id {
            FeatureId::Int(i) => Some(*i),
            FeatureId::String(_) => None,
        };
        sizes.push(w.add(id, &props, s));
    }
    (w, sizes)
}
