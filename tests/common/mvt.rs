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
    let (mut x, mut y) = (0i64, 0i64);
    let mut out: Vec<Vec<[i64; 2]>> = Vec::new();
    let mut i = 0;
    let zz = |p: u32| ((p >> 1) as i64) ^ -((p & 1) as i64);
    while i < g.len() {
        let (id, count) = (g[i] & 7, (g[i] >> 3) as usize);
        i += 1;
        match id {
            1 => {
                assert!(count >= 1, "MoveTo with count 0");
                for _ in 0..count {
                    x += zz(g[i]);
                    y += zz(g[i + 1]);
                    i += 2;
                    out.push(vec![[x, y]]);
                }
                if kind != 1 {
                    assert_eq!(count, 1, "MoveTo of a line or ring moves once");
                }
            }
            2 => {
                let part = out.last_mut().expect("LineTo after a MoveTo");
                for _ in 0..count {
                    let (dx, dy) = (zz(g[i]), zz(g[i + 1]));
                    assert!(dx != 0 || dy != 0, "LineTo of length zero");
                    x += dx;
                    y += dy;
                    i += 2;
                    part.push([x, y]);
                }
            }
            7 => {
                assert_eq!(kind, 3, "ClosePath outside a polygon");
                assert_eq!(count, 1, "ClosePath count must be 1");
            }
            other => panic!("unknown command {other}"),
        }
    }
    if kind == 1 {
        // Points: one part of all the points.
        return vec![out.into_iter().flatten().collect()];
    }
    out
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
