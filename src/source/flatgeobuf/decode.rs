//! FlatGeobuf bytes into tessera's values and geo-types geometries, and the feature index
//! out of the file's R-tree leaves (or a scan, for files without an index).

use super::rtree::level_ranges;
use super::{Column, NODE_ITEM_LEN, Slot, corrupt};
use crate::source::{FieldType, SourceError, Value};
use crate::temporal;
use ::flatgeobuf::{ColumnType, GeometryType};
use geo::BoundingRect;
use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub(super) fn field_type(t: ColumnType) -> FieldType {
    match t {
        ColumnType::Bool => FieldType::Boolean,
        ColumnType::Byte
        | ColumnType::UByte
        | ColumnType::Short
        | ColumnType::UShort
        | ColumnType::Int
        | ColumnType::UInt
        | ColumnType::Long
        | ColumnType::ULong => FieldType::Integer,
        ColumnType::Float | ColumnType::Double => FieldType::Number,
        ColumnType::String => FieldType::String,
        ColumnType::DateTime => FieldType::DateTime,
        _ => FieldType::Other,
    }
}

pub(super) fn geometry_type_name(t: GeometryType) -> &'static str {
    match t {
        GeometryType::Point => "Point",
        GeometryType::LineString => "LineString",
        GeometryType::Polygon => "Polygon",
        GeometryType::MultiPoint => "MultiPoint",
        GeometryType::MultiLineString => "MultiLineString",
        GeometryType::MultiPolygon => "MultiPolygon",
        GeometryType::GeometryCollection => "GeometryCollection",
        _ => "Unknown",
    }
}

pub(super) use crate::crs::intersection;

pub(super) fn instant_of(v: &Value, end_of_day: bool) -> Option<i64> {
    match v {
        Value::String(s) => temporal::parse_instant(s, end_of_day),
        _ => None,
    }
}

pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) | Value::Json(s) => s.clone(),
    }
}

pub(super) fn slots_from_leaves(
    path: &Path,
    leaves: &[u8],
    data_len: u64,
) -> Result<Vec<Slot>, SourceError> {
    let n = leaves.len() / NODE_ITEM_LEN;
    let mut slots = Vec::with_capacity(n);
    let f = |b: &[u8], at: usize| f64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    for k in 0..n {
        let b = &leaves[k * NODE_ITEM_LEN..(k + 1) * NODE_ITEM_LEN];
        let offset = u64::from_le_bytes(b[32..40].try_into().expect("8 bytes"));
        slots.push(Slot {
            offset,
            len: 0,
            bbox: [f(b, 0), f(b, 8), f(b, 16), f(b, 24)],
        });
    }
    for k in 0..n {
        let end = if k + 1 < n {
            slots[k + 1].offset
        } else {
            data_len
        };
        let start = slots[k].offset;
        if end <= start || end - start > u32::MAX as u64 {
            return Err(corrupt(
                path,
                format!(
                    "index entry {k} points at byte {start}, not before the next feature ({end}); \
                     the file is truncated or its index is out of order"
                ),
            ));
        }
        slots[k].len = (end - start) as u32;
    }
    Ok(slots)
}

pub(super) fn scan_slots(
    path: &Path,
    file: &File,
    data_start: u64,
    file_len: u64,
    header_geometry: GeometryType,
) -> Result<Vec<Slot>, SourceError> {
    let mut data = vec![0u8; (file_len - data_start) as usize];
    file.read_exact_at(&mut data, data_start)
        .map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut slots = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        if pos + 4 > data.len() {
            return Err(corrupt(path, "the file ends inside a feature (truncated?)"));
        }
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().expect("4 bytes")) as usize + 4;
        if pos + len > data.len() {
            return Err(corrupt(path, "the file ends inside a feature (truncated?)"));
        }
        let fb = ::flatgeobuf::size_prefixed_root_as_feature(&data[pos..pos + len])
            .map_err(|e| corrupt(path, format!("feature {}: {e}", slots.len())))?;
        let geom = fb
            .geometry()
            .map(|g| decode_geometry(&g, header_geometry))
            .transpose()
            .map_err(|e| corrupt(path, e))?
            .flatten();
        let bbox = geom
            .and_then(|g| g.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .unwrap_or([f64::NAN; 4]);
        slots.push(Slot {
            offset: pos as u64,
            len: len as u32,
            bbox,
        });
        pos += len;
    }
    Ok(slots)
}

/// Bytes a value of a fixed-size column type takes; `None` for length-prefixed types.
fn fixed_width(t: ColumnType) -> Option<usize> {
    match t {
        ColumnType::Bool | ColumnType::Byte | ColumnType::UByte => Some(1),
        ColumnType::Short | ColumnType::UShort => Some(2),
        ColumnType::Int | ColumnType::UInt | ColumnType::Float => Some(4),
        ColumnType::Long | ColumnType::ULong | ColumnType::Double => Some(8),
        _ => None,
    }
}

pub(super) fn decode_properties(
    bytes: &[u8],
    columns: &[Column],
    wanted: Option<&[bool]>,
) -> Result<Vec<Value>, String> {
    let mut out = vec![Value::Null; columns.len()];
    let mut p = 0usize;
    let take = |p: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = bytes
            .get(*p..*p + n)
            .ok_or_else(|| "properties end early".to_string())?;
        *p += n;
        Ok(s)
    };
    while p < bytes.len() {
        let col = u16::from_le_bytes(take(&mut p, 2)?.try_into().expect("2")) as usize;
        let c = columns
            .get(col)
            .ok_or_else(|| format!("property column {col} does not exist"))?;
        if wanted.is_some_and(|w| !w[col]) {
            let width = match (fixed_width(c.ctype), c.ctype) {
                (Some(w), _) => w,
                (
                    None,
                    ColumnType::String
                    | ColumnType::Json
                    | ColumnType::DateTime
                    | ColumnType::Binary,
                ) => u32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as usize,
                (None, other) => return Err(format!("unsupported column type {other:?}")),
            };
            take(&mut p, width)?;
            continue;
        }
        let v = match c.ctype {
            ColumnType::Bool => Value::Bool(take(&mut p, 1)?[0] != 0),
            ColumnType::Byte => Value::Int(take(&mut p, 1)?[0] as i8 as i64),
            ColumnType::UByte => Value::Int(take(&mut p, 1)?[0] as i64),
            ColumnType::Short => {
                Value::Int(i16::from_le_bytes(take(&mut p, 2)?.try_into().expect("2")) as i64)
            }
            ColumnType::UShort => {
                Value::Int(u16::from_le_bytes(take(&mut p, 2)?.try_into().expect("2")) as i64)
            }
            ColumnType::Int => {
                Value::Int(i32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as i64)
            }
            ColumnType::UInt => {
                Value::Int(u32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as i64)
            }
            ColumnType::Long => {
                Value::Int(i64::from_le_bytes(take(&mut p, 8)?.try_into().expect("8")))
            }
            ColumnType::ULong => {
                let u = u64::from_le_bytes(take(&mut p, 8)?.try_into().expect("8"));
                i64::try_from(u)
                    .map(Value::Int)
                    .unwrap_or(Value::Float(u as f64))
            }
            ColumnType::Float => {
                Value::Float(f32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as f64)
            }
            ColumnType::Double => {
                Value::Float(f64::from_le_bytes(take(&mut p, 8)?.try_into().expect("8")))
            }
            ColumnType::String | ColumnType::DateTime | ColumnType::Json | ColumnType::Binary => {
                let n = u32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as usize;
                let raw = take(&mut p, n)?;
                match c.ctype {
                    ColumnType::Binary => Value::Null,
                    ColumnType::Json => Value::Json(
                        std::str::from_utf8(raw)
                            .map_err(|e| e.to_string())?
                            .to_string(),
                    ),
                    _ => Value::String(
                        std::str::from_utf8(raw)
                            .map_err(|e| e.to_string())?
                            .to_string(),
                    ),
                }
            }
            other => return Err(format!("unsupported column type {other:?}")),
        };
        out[col] = v;
    }
    Ok(out)
}

fn coords(g: &::flatgeobuf::Geometry) -> Vec<Coord<f64>> {
    let Some(xy) = g.xy() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(xy.len() / 2);
    let mut it = xy.iter();
    while let (Some(x), Some(y)) = (it.next(), it.next()) {
        out.push(Coord { x, y });
    }
    out
}

/// Checks that every inner node of a packed R-tree points at nodes of the level below: a
/// search follows these pointers, and one into the wrong level sends it out of bounds. The
/// levels are laid out as the FlatGeobuf specification says (root first, leaves last).
pub(super) fn check_index(index: &[u8], count: usize, node_size: u16) -> Result<(), String> {
    let levels = level_ranges(count, node_size.max(2) as usize);
    let total = levels.last().map_or(0, |l| l.end);
    if total * NODE_ITEM_LEN != index.len() {
        return Err(format!("{} bytes for {total} nodes", index.len()));
    }
    for pair in levels.windows(2) {
        for node in pair[0].clone() {
            let at = node * NODE_ITEM_LEN + 32;
            let child = u64::from_le_bytes(index[at..at + 8].try_into().expect("8 bytes"));
            if !pair[1].contains(&(child as usize)) {
                return Err(format!("node {node} points outside the level below it"));
            }
        }
    }
    Ok(())
}

/// Splits a coordinate list at the `ends` offsets (in coordinate pairs).
fn split_rings(
    g: &::flatgeobuf::Geometry,
    cs: Vec<Coord<f64>>,
) -> Result<Vec<LineString<f64>>, String> {
    match g.ends() {
        None => Ok(vec![LineString(cs)]),
        // One ring: the list as it is, without a copy.
        Some(ends) if ends.len() == 1 && ends.get(0) as usize == cs.len() => {
            Ok(vec![LineString(cs)])
        }
        Some(ends) => {
            let mut out = Vec::with_capacity(ends.len());
            let mut start = 0usize;
            for e in ends.iter() {
                let e = e as usize;
                if e < start || e > cs.len() {
                    return Err("geometry ring ends out of range".into());
                }
                out.push(LineString(cs[start..e].to_vec()));
                start = e;
            }
            Ok(out)
        }
    }
}

fn polygon(g: &::flatgeobuf::Geometry) -> Result<Option<Polygon<f64>>, String> {
    let mut rings = split_rings(g, coords(g))?;
    if rings.is_empty() || rings[0].0.is_empty() {
        return Ok(None);
    }
    let exterior = rings.remove(0);
    Ok(Some(Polygon::new(exterior, rings)))
}

pub(super) fn decode_geometry(
    g: &::flatgeobuf::Geometry,
    header_type: GeometryType,
) -> Result<Option<Geometry<f64>>, String> {
    let t = if header_type == GeometryType::Unknown {
        g.type_()
    } else {
        header_type
    };
    let geom = match t {
        GeometryType::Point => coords(g).first().map(|c| Geometry::Point(Point(*c))),
        GeometryType::MultiPoint => Some(Geometry::MultiPoint(MultiPoint(
            coords(g).into_iter().map(Point).collect(),
        ))),
        GeometryType::LineString => Some(Geometry::LineString(LineString(coords(g)))),
        GeometryType::MultiLineString => Some(Geometry::MultiLineString(MultiLineString(
            split_rings(g, coords(g))?,
        ))),
        GeometryType::Polygon => polygon(g)?.map(Geometry::Polygon),
        GeometryType::MultiPolygon => match g.parts() {
            Some(parts) => {
                let mut polys = Vec::with_capacity(parts.len());
                for part in parts.iter() {
                    if let Some(p) = polygon(&part)? {
                        polys.push(p);
                    }
                }
                Some(Geometry::MultiPolygon(MultiPolygon(polys)))
            }
            // A multipolygon of one part may be written without parts.
            None => polygon(g)?.map(|p| Geometry::MultiPolygon(MultiPolygon(vec![p]))),
        },
        GeometryType::GeometryCollection => {
            let mut members = Vec::new();
            if let Some(parts) = g.parts() {
                for part in parts.iter() {
                    if let Some(m) = decode_geometry(&part, GeometryType::Unknown)? {
                        members.push(m);
                    }
                }
            }
            Some(Geometry::GeometryCollection(GeometryCollection(members)))
        }
        other => return Err(format!("geometry type {other:?} is not supported")),
    };
    Ok(geom.filter(finite))
}

/// Whether every coordinate is a number. One that is not (GDAL writes an empty point as NaN,
/// a hostile file anything) makes no place: the feature is kept without a geometry, which is
/// what the geometric tests and the tile engine can handle.
pub(super) fn finite(g: &Geometry<f64>) -> bool {
    use geo::CoordsIter;
    g.coords_iter().all(|c| c.x.is_finite() && c.y.is_finite())
}
