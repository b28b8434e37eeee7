//! The second half of making a tile: one layer's features (as its source returned them for
//! the [`super::plan`]) shaped into tile coordinates and written as an MVT layer, within the
//! layer's budget. Pure CPU work, with no runtime needed: the server runs it on the blocking
//! pool, and a pyramid builder can run it on rayon's workers.

use super::matrix::TileMatrixSet;
use super::mvt::{LayerWriter, TileGeometry};
use super::plan::LayerPlan;
use super::shape::{self, Detail};
use super::stand_in::{self, Shape, StandIn};
use super::{TileError, Tiling, budget};
use crate::source::Kinds;
use crate::source::{Feature, FeatureId, SourceInfo, TileFeatures, Value};
use std::borrow::Cow;

/// What one layer added to a tile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub features: usize,
    /// Features read but not written as themselves (under a pixel once shaped, or over the
    /// budget): stand-ins count them, in `stood_for`, with those the source left out.
    pub dropped: usize,
    /// Stand-ins written, and the features left out that they stand for.
    pub stand_ins: usize,
    pub stood_for: u64,
}

/// Features ready to encode, with what each is made from.
type Shaped = Vec<(Drawn, TileGeometry)>;

/// What a layer's MVT feature is made from.
#[derive(Debug, Clone, Copy)]
enum Drawn {
    /// The source's feature at this index.
    Feature(usize),
    StandIn(StandIn),
}

/// Appends layer `name` to `tile` (nothing when no feature is left).
pub fn encode_layer(
    tms: &TileMatrixSet,
    plan: &LayerPlan,
    name: &str,
    tiling: &Tiling,
    source: &SourceInfo,
    read: &TileFeatures,
    tile: &mut Vec<u8>,
) -> Result<Written, TileError> {
    let features = &read.features[..];
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
    let encode = |subset: &[&(Drawn, TileGeometry)]| {
        encode_subset(name, tiling.extent, features, &columns, subset)
    };
    // Every feature shaped, and those that came out too small to draw.
    let shape_all = |tolerance: f64| -> Result<(Shaped, Vec<usize>), TileError> {
        let d = Detail {
            tolerance,
            min_area: (detail.min_size_px * px).powi(2),
            min_length: detail.min_size_px * px,
        };
        let mut shaped = Vec::with_capacity(features.len());
        let mut empty = Vec::new();
        for (i, f) in features.iter().enumerate() {
            if let Some(g) = &f.geometry {
                let mut s = TileGeometry::default();
                shape::shape(g, &frame, &d, &mut s)?;
                if s.is_empty() {
                    empty.push(i);
                } else {
                    shaped.push((Drawn::Feature(i), s));
                }
            }
        }
        Ok((shaped, empty))
    };
    // The layer's share of the budget: the tile's framing takes a few bytes.
    let max_bytes = detail.max_bytes.saturating_sub(8);
    // Stand-ins for what the source left out and for the features read but not drawn (too
    // small once shaped, or over the budget), within `room` bytes and the features that
    // the `drawn` ones leave.
    let shape_of_stand_ins = Shape::of(Kinds::of(&source.geometry_type));
    let stand_ins_for = |not_drawn: &mut dyn Iterator<Item = usize>, drawn: usize, room: usize| {
        let Some(grid) = &plan.query.tally else {
            return Vec::new();
        };
        let mut left_out = Cow::Borrowed(&read.left_out);
        for i in not_drawn {
            if let Some(g) = &features[i].geometry {
                left_out.to_mut().add_geometry(grid, g);
            }
        }
        let room_features = detail.max_features.saturating_sub(drawn);
        if room_features == 0 {
            return Vec::new();
        }
        stand_in::stand_ins(&left_out, px, shape_of_stand_ins, room, room_features)
            .into_iter()
            .map(|(s, g)| (Drawn::StandIn(s), g))
            .collect::<Vec<_>>()
    };
    let written = |all: &[&(Drawn, TileGeometry)]| Written::of(features.len(), all);

    let (mut shaped, mut empty) = shape_all(detail.simplify)?;
    let mut stand_ins = stand_ins_for(&mut empty.iter().copied(), shaped.len(), max_bytes / 2);
    if shaped.is_empty() && stand_ins.is_empty() {
        return Ok(written(&[]));
    }
    let all: Vec<&(Drawn, TileGeometry)> = shaped.iter().chain(&stand_ins).collect();
    let (mut writer, mut sizes) = encode(&all);
    if writer.len_keeping(None) <= max_bytes {
        writer.append_to_tile(None, tile);
        return Ok(written(&all));
    }
    // Over budget. Detailed outlines first lose vertices to a coarser simplification (it does
    // nothing for features of a few vertices, so it is tried only when they have many).
    let vertices: usize = shaped.iter().map(|(_, g)| g.vertices()).sum();
    if vertices > 16 * shaped.len() {
        (shaped, empty) = shape_all(detail.simplify.max(1.0) * 4.0)?;
        stand_ins = stand_ins_for(&mut empty.iter().copied(), shaped.len(), max_bytes / 2);
        let all: Vec<&(Drawn, TileGeometry)> = shaped.iter().chain(&stand_ins).collect();
        (writer, sizes) = encode(&all);
        if writer.len_keeping(None) <= max_bytes {
            writer.append_to_tile(None, tile);
            return Ok(written(&all));
        }
    }
    // Then the smallest features go, and join the stand-ins: the largest keep the room the
    // stand-ins leave (estimated from those for what goes, before encoding), a tenth less at
    // each try; once no feature is left, the stand-ins' room halves (coarser cells).
    let per_stand_in = match stand_ins.len() {
        0 => 24,
        n => sizes[shaped.len()..].iter().sum::<usize>() / n + 1,
    };
    let overhead = writer.overhead();
    let mut stand_in_room = max_bytes / 2;
    let mut room = max_bytes.saturating_sub(overhead + per_stand_in * stand_ins.len());
    let mut aimed = false;
    loop {
        let keep = budget::largest_within(&shaped, &sizes[..shaped.len()], room);
        let gone =
            (shaped.iter().zip(&keep))
                .filter(|(_, k)| !**k)
                .filter_map(|((d, _), _)| match d {
                    Drawn::Feature(i) => Some(*i),
                    Drawn::StandIn(_) => None,
                });
        let kept: Vec<&(Drawn, TileGeometry)> = (shaped.iter().zip(&keep))
            .filter(|(_, k)| **k)
            .map(|(s, _)| s)
            .collect();
        let more = stand_ins_for(
            &mut empty.iter().copied().chain(gone),
            kept.len(),
            stand_in_room,
        );
        let wanted = overhead + per_stand_in * more.len();
        if !aimed && room + wanted > max_bytes {
            aimed = true;
            room = max_bytes.saturating_sub(wanted);
            continue;
        }
        let all: Vec<&(Drawn, TileGeometry)> = kept.iter().copied().chain(&more).collect();
        let (writer, _) = encode(&all);
        if writer.len_keeping(None) <= max_bytes {
            writer.append_to_tile(None, tile);
            let w = written(&all);
            tracing::debug!(layer = name, tile = %plan.coord, kept = w.features, of = shaped.len(), "tile over its byte budget: the smallest features are stood in for");
            return Ok(w);
        }
        if !kept.is_empty() {
            room = if room > 64 { room * 9 / 10 } else { 0 };
        } else if stand_in_room > 64 && !more.is_empty() {
            stand_in_room /= 2;
        } else {
            // Not even one stand-in fits (a budget of a few bytes): the layer stays out.
            return Ok(written(&[]));
        }
    }
}

impl Written {
    /// What writing `drawn` (out of `read` features) adds up to.
    fn of(read: usize, drawn: &[&(Drawn, TileGeometry)]) -> Written {
        let mut w = Written {
            dropped: read,
            ..Written::default()
        };
        for (d, _) in drawn {
            match d {
                Drawn::Feature(_) => {
                    w.features += 1;
                    w.dropped -= 1;
                }
                Drawn::StandIn(s) => {
                    w.stand_ins += 1;
                    w.stood_for += s.count as u64;
                }
            }
        }
        w
    }
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
    shaped: &[&(Drawn, TileGeometry)],
) -> (LayerWriter, Vec<usize>) {
    let mut w = LayerWriter::with_capacity(
        name,
        extent,
        shaped.iter().map(|(_, g)| 8 + 3 * g.vertices()).sum(),
    );
    let keys: Vec<u32> = columns.names.iter().map(|n| w.key(n)).collect();
    let mut sizes = Vec::with_capacity(shaped.len());
    let mut props = Vec::with_capacity(columns.indices.len());
    let stand_in_keys = shaped
        .iter()
        .any(|(d, _)| matches!(d, Drawn::StandIn(_)))
        .then(|| [w.key(stand_in::COUNT), w.key(stand_in::COVERAGE)]);
    for (drawn, s) in shaped {
        let i = match drawn {
            Drawn::Feature(i) => *i,
            Drawn::StandIn(si) => {
                let [count, coverage] = stand_in_keys.expect("stand-ins have their keys");
                let values = [Value::Int(si.count as i64), Value::Float(si.coverage)];
                sizes.push(w.add(None, &[(count, &values[0]), (coverage, &values[1])], s));
                continue;
            }
        };
        let f = &features[i];
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
