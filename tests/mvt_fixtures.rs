//! The MVT decoder the tile tests rely on, run over `@mapbox/mvt-fixtures` (npm): every tile the
//! fixtures call valid in version 2 decodes to its `tile.json` with no violation found, and every
//! invalid one is reported, without a panic or an allocation its bytes do not back.

mod common;

use common::mvt::violations;
use geozero::mvt::{Message, Tile};
use serde_json::Value;

fn fixtures() -> std::path::PathBuf {
    let p = std::env::var_os("TESSERA_TEST_NODE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::repo().join(".node"))
        .join("node_modules/@mapbox/mvt-fixtures/fixtures");
    assert!(
        p.is_dir(),
        "{} is missing: run the test suite with `bash tests/run-all.sh`, which installs it",
        p.display()
    );
    p
}

/// The decoded tile in the shape of the fixtures' `tile.json`.
fn as_json(t: &Tile) -> Value {
    let layers: Vec<Value> = t
        .layers
        .iter()
        .map(|l| {
            let values: Vec<Value> = l
                .values
                .iter()
                .map(|v| {
                    let mut o = serde_json::Map::new();
                    if let Some(s) = &v.string_value {
                        o.insert("string_value".into(), s.clone().into());
                    }
                    if let Some(f) = v.float_value {
                        o.insert("float_value".into(), f.into());
                    }
                    if let Some(d) = v.double_value {
                        o.insert("double_value".into(), d.into());
                    }
                    if let Some(i) = v.int_value {
                        o.insert("int_value".into(), i.into());
                    }
                    if let Some(u) = v.uint_value {
                        o.insert("uint_value".into(), u.into());
                    }
                    if let Some(s) = v.sint_value {
                        o.insert("sint_value".into(), s.into());
                    }
                    if let Some(b) = v.bool_value {
                        o.insert("bool_value".into(), b.into());
                    }
                    Value::Object(o)
                })
                .collect();
            let features: Vec<Value> = l
                .features
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f.id, "tags": f.tags, "type": f.r#type.unwrap_or(0), "geometry": f.geometry,
                    })
                })
                .collect();
            serde_json::json!({
                "version": l.version, "name": l.name, "keys": l.keys, "values": values,
                "extent": l.extent.unwrap_or(4096), "features": features,
            })
        })
        .collect();
    serde_json::json!({ "layers": layers })
}

/// Compares numbers by value (the fixtures write 1.0 or 1, float32 values with few digits).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || ((x - y).abs() <= 1e-6 * x.abs().max(y.abs()))
        }
        // 076's tile.json writes the string value "613" as the number 613.
        (Value::String(x), Value::Number(y)) => *x == y.to_string(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            // A member the fixture leaves out is the default (no id, no tags, extent 4096).
            let default = |k: &str, v: &Value| {
                v.is_null()
                    || v.as_array().is_some_and(|a| a.is_empty())
                    || (k == "extent" && v == 4096)
            };
            x.iter()
                .all(|(k, v)| y.get(k).map_or(default(k, v), |w| same(v, w)))
                && y.keys().all(|k| x.contains_key(k))
        }
        _ => a == b,
    }
}

#[test]
fn fixtures_are_read_as_their_validity_says() {
    let root = fixtures();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let (mut valid, mut invalid) = (0, 0);
    for d in &dirs {
        let name = d.file_name().unwrap().to_string_lossy().to_string();
        let info: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("info.json")).unwrap()).unwrap();
        let bytes = std::fs::read(d.join("tile.mvt")).unwrap();
        let found = violations(&bytes);
        // 003 ("missing geometry type", invalid) has the very bytes of 016 ("UNKNOWN type",
        // valid): proto2 does not write a default. The specification allows UNKNOWN, so 016 wins.
        if name == "003" {
            assert_eq!(bytes, std::fs::read(root.join("016/tile.mvt")).unwrap());
            continue;
        }
        // 057 calls valid a MoveTo of count 2^29-1 backed by one point, the very shape 051
        // calls fatal ("count too large"); the specification wants the parameters, as in 051.
        if name == "057" {
            assert!(found.iter().any(|e| e.contains("536870911")), "{found:?}");
            continue;
        }
        if info["validity"]["v2"] == true {
            valid += 1;
            assert!(found.is_empty(), "{name} is valid, but: {found:?}");
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("tile.json")).unwrap())
                    .unwrap();
            let decoded = as_json(&Tile::decode(&bytes[..]).unwrap());
            assert!(
                same(&decoded, &expected),
                "{name}: decoded {decoded}\nexpected {expected}"
            );
        } else {
            invalid += 1;
            assert!(
                !found.is_empty(),
                "{name} is invalid ({}), and nothing was found",
                info["description"]
            );
        }
    }
    assert!(
        valid >= 40 && invalid >= 25,
        "{valid} valid, {invalid} invalid fixtures"
    );
}
