//! Mapbox Vector Tile 2.1 encoding: protobuf written directly from integer tile coordinates,
//! with keys and values deduplicated per layer.
//!
//! The geometry is already clipped, simplified, quantised and wound by the caller
//! ([`super::shape`]); this module only writes commands and the protobuf framing.

use crate::source::Value;
use std::collections::HashMap;

/// A feature's geometry in tile coordinates, ready to encode, by MVT geometry type (a
/// geometry collection may fill all three; each non-empty one becomes an MVT feature).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TileGeometry {
    pub points: Vec<[i32; 2]>,
    /// Each line has at least two distinct points.
    pub lines: Vec<Vec<[i32; 2]>>,
    /// Open rings (the first point is not repeated), each polygon's exterior (positive area in
    /// tile coordinates, y down) followed by its holes (negative area).
    pub rings: Vec<Vec<[i32; 2]>>,
}

impl TileGeometry {
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.lines.is_empty() && self.rings.is_empty()
    }

    pub fn vertices(&self) -> usize {
        self.points.len()
            + self.lines.iter().map(Vec::len).sum::<usize>()
            + self.rings.iter().map(Vec::len).sum::<usize>()
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

/// A multiply-rotate hash (as in rustc's FxHash) for the value tables: values come from the
/// layer's own data, not from requests, so a keyed hash buys nothing and costs time.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(tail) ^ rest.len() as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Fast = std::hash::BuildHasherDefault<FastHasher>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    String(String),
    Double(u64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}

/// One layer of a tile being written.
#[derive(Debug)]
pub struct LayerWriter {
    name: String,
    extent: u32,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<ValueKey>,
    /// Strings apart, so that a lookup borrows instead of cloning.
    string_index: HashMap<String, u32, Fast>,
    value_index: HashMap<ValueKey, u32, Fast>,
    features: Vec<u8>,
    /// Where each [`LayerWriter::add`] wrote its features, to finish with only some of them.
    spans: Vec<(usize, usize)>,
    count: usize,
    /// The current feature's tags and geometry commands, as packed varints.
    tags: Vec<u8>,
    commands: Vec<u8>,
}

impl LayerWriter {
    pub fn new(name: &str, extent: u32) -> LayerWriter {
        Self::with_capacity(name, extent, 0)
    }

    /// A writer with room for `bytes` of features.
    pub fn with_capacity(name: &str, extent: u32, bytes: usize) -> LayerWriter {
        LayerWriter {
            name: name.to_string(),
            extent,
            keys: Vec::new(),
            key_index: HashMap::new(),
            values: Vec::new(),
            string_index: HashMap::default(),
            value_index: HashMap::default(),
            features: Vec::with_capacity(bytes),
            spans: Vec::new(),
            count: 0,
            tags: Vec::new(),
            commands: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The index of a property name in the layer's keys (added on first use).
    pub fn key(&mut self, name: &str) -> u32 {
        match self.key_index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.keys.len() as u32;
                self.keys.push(name.to_string());
                self.key_index.insert(name.to_string(), i);
                i
            }
        }
    }

    /// Adds a feature (one per geometry type it has) with its properties by key index (see
    /// [`LayerWriter::key`]), and says how many bytes its feature messages took; null
    /// properties are left out, as MVT has no null.
    pub fn add(
        &mut self,
        id: Option<u64>,
        properties: &[(u32, &Value)],
        geometry: &TileGeometry,
    ) -> usize {
        let before = self.features.len();
        if geometry.is_empty() {
            self.spans.push((before, before));
            return 0;
        }
        self.tags.clear();
        for &(ki, v) in properties {
            let vi = match v {
                Value::Null => continue,
                Value::String(s) | Value::Json(s) => match self.string_index.get(s.as_str()) {
                    Some(&i) => i,
                    None => {
                        let i = self.values.len() as u32;
                        self.values.push(ValueKey::String(s.clone()));
                        self.string_index.insert(s.clone(), i);
                        i
                    }
                },
                other => {
                    let vk = value_key(other).expect("not null");
                    match self.value_index.get(&vk) {
                        Some(&i) => i,
                        None => {
                            let i = self.values.len() as u32;
                            self.values.push(vk.clone());
                            self.value_index.insert(vk, i);
                            i
                        }
                    }
                }
            };
            varint(&mut self.tags, ki as u64);
            varint(&mut self.tags, vi as u64);
        }
        for kind in [Kind::Point, Kind::LineString, Kind::Polygon] {
            self.commands.clear();
            if !encode_geometry(geometry, kind, &mut self.commands) {
                continue;
            }
            // The feature message's length comes first: add up its fields, then write them.
            let packed_len = |b: &[u8]| {
                if b.is_empty() {
                    0
                } else {
                    1 + varint_len(b.len() as u64) + b.len()
                }
            };
            let len = id.map_or(0, |id| 1 + varint_len(id))
                + packed_len(&self.tags)
                + 2
                + packed_len(&self.commands);
            key(&mut self.features, 2, 2);
            varint(&mut self.features, len as u64);
            if let Some(id) = id {
                field_varint(&mut self.features, 1, id);
            }
            if !self.tags.is_empty() {
                field_bytes(&mut self.features, 2, &self.tags);
            }
            field_varint(&mut self.features, 3, kind as u64);
            field_bytes(&mut self.features, 4, &self.commands);
            self.count += 1;
        }
        self.spans.push((before, self.features.len()));
        self.features.len() - before
    }

    /// Bytes of the layer besides its features (name, keys, values, extent).
    pub fn overhead(&self) -> usize {
        self.len_keeping(Some(&[]))
    }

    /// The layer with only the features of the `add` calls marked true (all with `None`).
    /// The keys and values of the others stay in the tables: a feature's cost is then exactly
    /// the bytes [`LayerWriter::add`] reported.
    pub fn finish_keeping(&self, keep: Option<&[bool]>) -> Vec<u8> {
        let mut l = Vec::new();
        self.write(keep, &mut l, false);
        l
    }

    /// Appends the layer (as [`LayerWriter::finish_keeping`] makes it) to a tile being written,
    /// with no intermediate copy.
    pub fn append_to_tile(&self, keep: Option<&[bool]>, tile: &mut Vec<u8>) {
        self.write(keep, tile, true);
    }

    /// The layer's bytes with `keep`, as [`LayerWriter::finish_keeping`] would write them.
    pub fn len_keeping(&self, keep: Option<&[bool]>) -> usize {
        let (head, tables) = self.frame();
        head.len() + self.kept(keep).map(|(a, b)| b - a).sum::<usize>() + tables.len()
    }

    fn kept<'s>(&'s self, keep: Option<&'s [bool]>) -> impl Iterator<Item = (usize, usize)> + 's {
        self.spans
            .iter()
            .enumerate()
            .filter(move |(i, _)| keep.is_none_or(|k| k.get(*i).copied().unwrap_or(false)))
            .map(|(_, s)| *s)
    }

    /// What comes before the features (version first, as the specification asks, and the
    /// name) and after them (keys, values, extent).
    fn frame(&self) -> (Vec<u8>, Vec<u8>) {
        let mut head = Vec::with_capacity(self.name.len() + 8);
        field_varint(&mut head, 15, 2);
        field_bytes(&mut head, 1, self.name.as_bytes());
        let mut tables = Vec::with_capacity(16 * (self.keys.len() + self.values.len()));
        for k in &self.keys {
            field_bytes(&mut tables, 3, k.as_bytes());
        }
        let mut v = Vec::new();
        for value in &self.values {
            v.clear();
            match value {
                ValueKey::String(s) => field_bytes(&mut v, 1, s.as_bytes()),
                ValueKey::Double(bits) => {
                    key(&mut v, 3, 1);
                    v.extend_from_slice(&bits.to_le_bytes());
                }
                ValueKey::Uint(u) => field_varint(&mut v, 5, *u),
                ValueKey::Sint(i) => field_varint(&mut v, 6, ((*i << 1) ^ (*i >> 63)) as u64),
                ValueKey::Bool(b) => field_varint(&mut v, 7, *b as u64),
            }
            field_bytes(&mut tables, 4, &v);
        }
        field_varint(&mut tables, 5, self.extent as u64);
        (head, tables)
    }

    fn write(&self, keep: Option<&[bool]>, out: &mut Vec<u8>, as_tile_field: bool) {
        let (head, tables) = self.frame();
        let len = head.len() + self.kept(keep).map(|(a, b)| b - a).sum::<usize>() + tables.len();
        out.reserve(len + 8);
        if as_tile_field {
            key(out, 3, 2);
            varint(out, len as u64);
        }
        out.extend_from_slice(&head);
        for (a, b) in self.kept(keep) {
            out.extend_from_slice(&self.features[a..b]);
        }
        out.extend_from_slice(&tables);
    }
}

fn value_key(v: &Value) -> Option<ValueKey> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => ValueKey::Bool(*b),
        Value::Int(i) if *i >= 0 => ValueKey::Uint(*i as u64),
        Value::Int(i) => ValueKey::Sint(*i),
        Value::Float(f) => ValueKey::Double(f.to_bits()),
        Value::String(s) | Value::Json(s) => ValueKey::String(s.clone()),
    })
}

fn command(id: u32, count: usize) -> u32 {
    (id & 0x7) | ((count as u32) << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Writes the commands of the `kind` part of `g` as packed varints; false when it has none.
fn encode_geometry(g: &TileGeometry, kind: Kind, out: &mut Vec<u8>) -> bool {
    // The cursor carries over from one part to the next within a feature.
    let mut cursor = [0i32; 2];
    let mut delta = |p: [i32; 2], out: &mut Vec<u8>| {
        varint(out, zigzag(p[0] - cursor[0]) as u64);
        varint(out, zigzag(p[1] - cursor[1]) as u64);
        cursor = p;
    };
    let cmd = |out: &mut Vec<u8>, id: u32, count: usize| varint(out, command(id, count) as u64);
    match kind {
        Kind::Point => {
            cmd(out, 1, g.points.len());
            for &p in &g.points {
                delta(p, out);
            }
            !g.points.is_empty()
        }
        Kind::LineString => {
            for line in &g.lines {
                cmd(out, 1, 1);
                delta(line[0], out);
                cmd(out, 2, line.len() - 1);
                for &p in &line[1..] {
                    delta(p, out);
                }
            }
            !g.lines.is_empty()
        }
        Kind::Polygon => {
            for ring in &g.rings {
                cmd(out, 1, 1);
                delta(ring[0], out);
                cmd(out, 2, ring.len() - 1);
                for &p in &ring[1..] {
                    delta(p, out);
                }
                cmd(out, 7, 1);
            }
            !g.rings.is_empty()
        }
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, ((field << 3) | wire) as u64);
}

fn field_varint(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, 0);
    varint(out, v);
}

fn field_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packed varints back as numbers.
    fn unpack(b: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        let (mut v, mut shift) = (0u32, 0);
        for &byte in b {
            v |= ((byte & 0x7f) as u32) << shift;
            shift += 7;
            if byte < 0x80 {
                out.push(v);
                (v, shift) = (0, 0);
            }
        }
        out
    }

    #[test]
    fn spec_example_commands() {
        // The specification's examples: a point at (25, 17), and a line (2,2) (2,10) (10,10).
        let g = TileGeometry {
            points: vec![[25, 17]],
            lines: vec![vec![[2, 2], [2, 10], [10, 10]]],
            rings: vec![vec![[3, 6], [8, 12], [20, 34]]],
        };
        let mut c = Vec::new();
        encode_geometry(&g, Kind::Point, &mut c);
        assert_eq!(unpack(&c), vec![9, 50, 34]);
        c.clear();
        encode_geometry(&g, Kind::LineString, &mut c);
        assert_eq!(unpack(&c), vec![9, 4, 4, 18, 0, 16, 16, 0]);
        c.clear();
        encode_geometry(&g, Kind::Polygon, &mut c);
        assert_eq!(unpack(&c), vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
        assert_eq!(unpack(&[0xac, 0x02]), vec![300]);
    }

    #[test]
    fn keys_and_values_are_shared() {
        let mut w = LayerWriter::new("l", 4096);
        let a = Value::String("x".into());
        let g = TileGeometry {
            points: vec![[1, 1]],
            ..TileGeometry::default()
        };
        let (k, n) = (w.key("k"), w.key("n"));
        w.add(Some(1), &[(k, &a), (n, &Value::Null)], &g);
        w.add(Some(2), &[(k, &a)], &g);
        assert_eq!((w.key("k"), w.values.len(), w.len()), (0, 1, 2));
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(0), 1);
        // The precomputed length is the length written.
        let mut one = LayerWriter::new("l", 4096);
        let k = one.key("k");
        one.add(Some(300), &[(k, &a)], &g);
        let body = &one.features[2..];
        assert_eq!(one.features[1] as usize, body.len());
    }
}
