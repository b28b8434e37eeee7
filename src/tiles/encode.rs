//! The second half of making a tile: one layer's features (as its source returned them for
//! the [`super::plan`]) shaped into tile coordinates and written as an MVT layer, within the
//! layer's budget. Pure CPU work, with no runtime needed: the server runs it on the blocking
//! pool, and a pyramid builder can run it on rayon's workers.

use super::matrix::TileMatrixSet;
use super::mvt::{LayerWriter, TileGeometry};
use super::plan::LayerPlan;
use super::shape::{self, Detail};
use super::{TileError, Tiling, budget};
use crate::source::{Feature, FeatureId, SourceInfo};

/// What one layer added to a tile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub features: usize,
    /// Features read but not written: under a pixel once shaped, or over the budget.
    pub dropped: usize,
}

/// Appends layer `name` to `tile` (nothing when no feature is left).
pub fn encode_layer(
    tms: &TileMatrixSet,
    plan: &LayerPlan,
    name: &str,
    tiling: &Tiling,
    source: &SourceInfo,
    features: &[Feature],
    tile: &mut Vec<u8>,
) -> Result<Written, TileError> {
    let detail = tiling.at(plan.coord.z);
    let frame = plan.frame(tms, tiling);
    let px = tiling.extent as f64 / tms.tile_size as f64;
    let columns = Columns {
        names: (plan.query.columns.iter())
            .map(|&i| source.fields[i].name.as_str())
            .collect(),
        indices: &plan.query.columns,
        id: source.id_field,
    };
    let encode = |subset: &[&(usize, TileGeometry)]| {
        encode_subset(name, tiling.extent, features, &columns, subset)
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
    let written = |n: usize| Written {
        features: n,
        dropped: features.len() - n,
    };
    // The layer's share of the budget: the tile's framing takes a few bytes.
    let max_bytes = detail.max_bytes.saturating_sub(8);

    let mut shaped = shape_all(detail.simplify)?;
    if shaped.is_empty() {
        return Ok(written(0));
    }
    let (mut writer, mut sizes) = encode(&shaped.iter().collect::<Vec<_>>());
    if writer.len_keeping(None) <= max_bytes {
        writer.append_to_tile(None, tile);
        return Ok(written(shaped.len()));
    }
    // Over budget. Detailed outlines first lose vertices to a coarser simplification (it does
    // nothing for features of a few vertices, so it is tried only when they have many).
    let vertices: usize = shaped.iter().map(|(_, g)| g.vertices()).sum();
    if vertices > 16 * shaped.len() {
        shaped = shape_all(detail.simplify.max(1.0) * 4.0)?;
        (writer, sizes) = encode(&shaped.iter().collect::<Vec<_>>());
        if writer.len_keeping(None) <= max_bytes {
            writer.append_to_tile(None, tile);
            return Ok(written(shaped.len()));
        }
    }
    // Then the smallest features go.
    let kept = budget::keep_largest(&shaped, &writer, &sizes, max_bytes, encode, tile);
    tracing::debug!(layer = name, tile = %plan.coord, kept, of = shaped.len(), "tile over its byte budget: smallest features dropped");
    Ok(written(kept))
}

/// The properties a layer's features carry in the tile.
struct Columns<'a> {
    names: Vec<&'a str>,
    indices: &'a [usize],
    /// The id property: left out of a feature whose id it already is.
    id: Option<usize>,
}

/// An MVT layer of the `shaped` features, and each one's encoded size.
fn encode_subset(
    name: &str,
    extent: u32,
    features: &[Feature],
    columns: &Columns,
    shaped: &[&(usize, TileGeometry)],
) -> (LayerWriter, Vec<usize>) {
    let mut w = LayerWriter::with_capacity(
        name,
        extent,
        shaped.iter().map(|(_, g)| 8 + 3 * g.vertices()).sum(),
    );
    let keys: Vec<u32> = columns.names.iter().map(|n| w.key(n)).collect();
    let mut sizes = Vec::with_capacity(shaped.len());
    let mut props = Vec::with_capacity(columns.indices.len());
    for (i, s) in shaped {
        let f = &features[*i];
        // An integer id is the MVT feature id; a string id stays a property only.
        let id = match &f.id {
            FeatureId::Int(i) => Some(*i),
            FeatureId::String(_) => None,
        };
        let repeated = columns.id.filter(|_| id.is_some());
        props.clear();
        props.extend(
            (keys.iter().zip(columns.indices))
                .filter(|&(_, &c)| Some(c) != repeated)
                .map(|(&k, &c)| (k, &f.properties[c])),
        );
        sizes.push(w.add(id, &props, s));
    }
    (w, sizes)
}
