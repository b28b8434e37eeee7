//! Decoding tiles in tests with geozero's MVT reader (prost), independent of tessera's encoder,
//! plus a plain reading of the geometry commands to check rings one by one.

use geo_types::Geometry;
use geozero::ToGeo;
use geozero::mvt::{Message, Tile, tile};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Feature {
    pub id: Option<u64>,
    pub kind: i32,
    pub properties: BTreeMap<String, Value>,
    /// In tile coordinates (y down).
    pub geometry: Geometry<f64>,
    /// The rings or lines as the commands draw them (polygons: without the closing point).
    pub parts: Vec<Vec<[i64; 2]>>,
}

pub struct Layer {
    pub name: String,
    pub version: u32,
    pub extent: u32,
    pub keys: Vec<String>,
    pub values: usize,
    pub features: Vec<Feature>,
}

fn value(v: &tile::Value) -> Value {
    if let Some(s) = &v.string_value {
        Value::from(s.clone())
    } else if let Some(f) = v.float_value {
        Value::from(f)
    } else if let Some(d) = v.double_value {
        Value::from(d)
    } else if let Some(i) = v.int_value {
        Value::from(i)
    } else if let Some(u) = v.uint_value {
        Value::from(u)
    } else if let Some(s) = v.sint_value {
        Value::from(s)
    } else if let Some(b) = v.bool_value {
        Value::from(b)
    } else {
        panic!("a value with no member")
    }
}

/// The parts drawn by a feature's commands; panics on anything the specification forbids.
pub fn parts(kind: i32, g: &[u32]) -> Vec<Vec<[i64; 2]>> {
    try_parts(kind, g).unwrap_or_else(|e| panic!("invalid geometry: {e}"))
}

/// The parts drawn by a feature's commands, or what breaks the specification (without
/// allocating for counts the parameters do not back).
pub fn try_parts(kind: i32, g: &[u32]) -> Result<Vec<Vec<[i64; 2]>>, String> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut out: Vec<Vec<[i64; 2]>> = Vec::new();
    let mut i = 0;
    let zz = |p: u32| ((p >> 1) as i64) ^ -((p & 1) as i64);
    // Polygons: each ring is MoveTo(1), LineTo(>= 2), ClosePath(1).
    let mut closed = true;
    while i < g.len() {
        let (id, count) = (g[i] & 7, (g[i] >> 3) as usize);
        i += 1;
        let params = |n: usize| -> Result<(), String> {
            if n > (g.len() - i) / 2 {
                Err(format!(
                    "a command of count {n} with only {} parameters left",
                    g.len() - i
                ))
            } else {
                Ok(())
            }
        };
        match id {
            1 => {
                if count == 0 {
                    return Err("MoveTo with count 0".into());
                }
                if kind != 1 && count != 1 {
                    return Err("MoveTo of a line or ring moves once".into());
                }
                if kind == 3 && !closed {
                    return Err("a ring not closed before the next MoveTo".into());
                }
                if kind == 1 && i > 1 {
                    return Err("a point geometry is a single MoveTo".into());
                }
                params(count)?;
                for _ in 0..count {
                    x += zz(g[i]);
                    y += zz(g[i + 1]);
                    i += 2;
                    out.push(vec![[x, y]]);
                }
                closed = false;
            }
            2 => {
                if kind == 1 {
                    return Err("LineTo in a point geometry".into());
                }
                if count == 0 {
                    return Err("LineTo with count 0".into());
                }
                params(count)?;
                let part = out.last_mut().ok_or("LineTo before any MoveTo")?;
                for _ in 0..count {
                    let (dx, dy) = (zz(g[i]), zz(g[i + 1]));
                    if dx == 0 && dy == 0 {
                        return Err("LineTo of length zero".into());
                    }
                    x += dx;
                    y += dy;
                    i += 2;
                    part.push([x, y]);
                }
            }
            7 => {
                if kind != 3 {
                    return Err("ClosePath outside a polygon".into());
                }
                if count != 1 {
                    return Err(format!("ClosePath count {count}, not 1"));
                }
                let ring = out.last().ok_or("ClosePath before any MoveTo")?;
                if ring.len() < 3 {
                    return Err(format!("a ring of {} points", ring.len()));
                }
                closed = true;
            }
            other => return Err(format!("unknown command {other}")),
        }
    }
    match kind {
        1 => Ok(vec![out.into_iter().flatten().collect()]),
        2 if out.iter().any(|l| l.len() < 2) => Err("a line of one point".into()),
        3 if !closed => Err("the last ring is not closed".into()),
        _ => Ok(out),
    }
}

/// For each layer of a (decodable) tile, whether its bytes hold a version field: prost reads
/// a missing one as its default, 1, and the specification requires it.
fn versions_present(bytes: &[u8]) -> Vec<bool> {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        while *i < b.len() {
            let byte = b[*i];
            *i += 1;
            v |= ((byte & 0x7f) as u64) << shift;
            shift += 7;
            if byte < 0x80 || shift >= 64 {
                break;
            }
        }
        v
    }
    // The fields of a message: (number, wire type, start, end of the payload).
    fn fields(b: &[u8]) -> Vec<(u64, u64, usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i);
            let start = i;
            match key & 7 {
                0 => {
                    varint(b, &mut i);
                }
                1 => i += 8,
                2 => {
                    let n = varint(b, &mut i) as usize;
                    i = (i + n).min(b.len());
                    out.push((key >> 3, 2, i - n.min(i), i));
                    continue;
                }
                5 => i += 4,
                _ => break,
            }
            out.push((key >> 3, key & 7, start, i.min(b.len())));
        }
        out
    }
    fields(bytes)
        .into_iter()
        .filter(|f| f.0 == 3 && f.1 == 2)
        .map(|(_, _, a, b)| fields(&bytes[a..b]).iter().any(|f| f.0 == 15))
        .collect()
}

/// Everything in a tile that breaks the MVT 2.1 specification (empty when it is valid).
pub fn violations(bytes: &[u8]) -> Vec<String> {
    let tile = match Tile::decode(bytes) {
        Ok(t) => t,
        Err(e) => return vec![format!("not a tile: {e}")],
    };
    let mut v = Vec::new();
    let mut names = std::collections::HashSet::new();
    let versions = versions_present(bytes);
    for (li, l) in tile.layers.iter().enumerate() {
        // Version 1 tiles stay readable; anything else is not a tile this decoder knows.
        if !versions.get(li).copied().unwrap_or(false) {
            v.push(format!("layer `{}`: no version field", l.name));
        } else if l.version != 1 && l.version != 2 {
            v.push(format!("layer `{}`: version {}", l.name, l.version));
        }
        if l.name.is_empty() {
            v.push("a layer without a name".into());
        } else if !names.insert(l.name.clone()) {
            v.push(format!("two layers named `{}`", l.name));
        }
        for (k, value) in l.values.iter().enumerate() {
            let members = [
                value.string_value.is_some(),
                value.float_value.is_some(),
                value.double_value.is_some(),
                value.int_value.is_some(),
                value.uint_value.is_some(),
                value.sint_value.is_some(),
                value.bool_value.is_some(),
            ];
            if members.iter().filter(|m| **m).count() != 1 {
                v.push(format!(
                    "layer `{}`: value {k} does not have exactly one member",
                    l.name
                ));
            }
        }
        for (k, f) in l.features.iter().enumerate() {
            let at = format!("layer `{}` feature {k}", l.name);
            if f.tags.len() % 2 != 0 {
                v.push(format!("{at}: an odd number of tags"));
            }
            for pair in f.tags.chunks(2) {
                if pair[0] as usize >= l.keys.len()
                    || pair.get(1).is_some_and(|&i| i as usize >= l.values.len())
                {
                    v.push(format!("{at}: a tag points past the keys or values"));
                }
            }
            // A missing type reads as its default, UNKNOWN, which decoders may skip.
            match f.r#type {
                None | Some(0) => {}
                Some(t @ 1..=3) => {
                    if f.geometry.is_empty() {
                        v.push(format!("{at}: no geometry"));
                    } else if let Err(e) = try_parts(t, &f.geometry) {
                        v.push(format!("{at}: {e}"));
                    }
                }
                Some(t) => v.push(format!("{at}: geometry type {t}")),
            }
        }
    }
    v
}

/// Signed area in tile coordinates by the surveyor's formula (positive = exterior).
pub fn area(ring: &[[i64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            (a[0] * b[1] - b[0] * a[1]) as f64
        })
        .sum::<f64>()
        / 2.0
}

pub fn decode(bytes: &[u8]) -> Vec<Layer> {
    let tile = Tile::decode(bytes).expect("a protobuf tile");
    tile.layers
        .into_iter()
        .map(|l| {
            let features = l
                .features
                .iter()
                .map(|f| {
                    let mut properties = BTreeMap::new();
                    assert_eq!(f.tags.len() % 2, 0, "tags come in pairs");
                    for pair in f.tags.chunks(2) {
                        let k = l.keys[pair[0] as usize].clone();
                        let v = value(&l.values[pair[1] as usize]);
                        assert!(
                            properties.insert(k, v).is_none(),
                            "a key twice in a feature"
                        );
                    }
                    let kind = f.r#type.expect("geometry type");
                    Feature {
                        id: f.id,
                        kind,
                        properties,
                        geometry: f.to_geo().expect("geozero decodes the geometry"),
                        parts: parts(kind, &f.geometry),
                    }
                })
                .collect();
            Layer {
                name: l.name,
                version: l.version,
                extent: l.extent.unwrap_or(4096),
                keys: l.keys,
                values: l.values.len(),
                features,
            }
        })
        .collect()
}
