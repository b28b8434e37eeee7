//! A direct GeoJSON writer: features are written straight into a byte buffer, without an
//! intermediate JSON tree, because this is the hot path of every items page.

use crate::source::{Feature, FeatureId, Field, Value};
use geo_types::{Coord, Geometry, LineString, Polygon};

pub fn write_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut b = ryu::Buffer::new();
        let s = b.format_finite(v);
        // ryu writes integers as `12.0`; keep it, it is valid JSON and unambiguous.
        out.extend_from_slice(s.as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_coord(out: &mut Vec<u8>, c: &Coord<f64>) {
    out.push(b'[');
    write_f64(out, c.x);
    out.push(b',');
    write_f64(out, c.y);
    out.push(b']');
}

fn write_line(out: &mut Vec<u8>, ls: &LineString<f64>) {
    out.push(b'[');
    for (i, c) in ls.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_coord(out, c);
    }
    out.push(b']');
}

fn write_polygon(out: &mut Vec<u8>, p: &Polygon<f64>) {
    out.push(b'[');
    write_line(out, p.exterior());
    for r in p.interiors() {
        out.push(b',');
        write_line(out, r);
    }
    out.push(b']');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, it);
    }
    out.push(b']');
}

/// Writes a GeoJSON geometry object (RFC 7946).
pub fn write_geometry(out: &mut Vec<u8>, g: &Geometry<f64>) {
    type Body<'a> = &'a dyn Fn(&mut Vec<u8>);
    let (kind, body): (&str, Body) = match g {
        Geometry::Point(p) => ("Point", &|o| write_coord(o, &p.0)),
        Geometry::MultiPoint(m) => ("MultiPoint", &|o| {
            write_list(o, &m.0, |o, p| write_coord(o, &p.0))
        }),
        Geometry::LineString(l) => ("LineString", &|o| write_line(o, l)),
        Geometry::Line(l) => ("LineString", &|o| {
            write_list(o, &[l.start, l.end], write_coord)
        }),
        Geometry::MultiLineString(m) => ("MultiLineString", &|o| write_list(o, &m.0, write_line)),
        Geometry::Polygon(p) => ("Polygon", &|o| write_polygon(o, p)),
        Geometry::MultiPolygon(m) => ("MultiPolygon", &|o| write_list(o, &m.0, write_polygon)),
        Geometry::Rect(r) => ("Polygon", &|o| write_polygon(o, &r.to_polygon())),
        Geometry::Triangle(t) => ("Polygon", &|o| write_polygon(o, &t.to_polygon())),
        Geometry::GeometryCollection(c) => {
            out.extend_from_slice(b"{\"type\":\"GeometryCollection\",\"geometries\":");
            write_list(out, &c.0, write_geometry);
            out.push(b'}');
            return;
        }
    };
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"coordinates\":");
    body(out);
    out.push(b'}');
}

pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(f) => write_f64(out, *f),
        Value::String(s) => write_str(out, s),
        // Embedded JSON is re-serialised so a malformed cell cannot break the document.
        Value::Json(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(v) => serde_json::to_writer(&mut *out, &v).expect("Vec write"),
            Err(_) => write_str(out, s),
        },
    }
}

pub fn write_id(out: &mut Vec<u8>, id: &FeatureId) {
    match id {
        FeatureId::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        FeatureId::String(s) => write_str(out, s),
    }
}

/// Writes a Feature object; `extra` is appended raw before the closing brace (e.g. `,"links":[…]`).
pub fn write_feature(out: &mut Vec<u8>, f: &Feature, fields: &[Field], extra: &[u8]) {
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
    write_id(out, &f.id);
    out.extend_from_slice(b",\"geometry\":");
    match &f.geometry {
        Some(g) => write_geometry(out, g),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"properties\":{");
    for (i, (field, v)) in fields.iter().zip(&f.properties).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, &field.name);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
    out.extend_from_slice(extra);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FieldType;
    use geo_types::{point, polygon};

    #[test]
    fn writes_valid_geojson() {
        let fields = vec![
            Field {
                name: "nome".into(),
                kind: FieldType::String,
                title: None,
            },
            Field {
                name: "n".into(),
                kind: FieldType::Integer,
                title: None,
            },
        ];
        let f = Feature {
            id: FeatureId::String("a\"b".into()),
            geometry: Some(Geometry::Polygon(
                polygon![(x: 10.0, y: 43.0), (x: 11.5, y: 43.0), (x: 11.0, y: 44.0)],
            )),
            properties: vec![Value::String("Città".into()), Value::Int(-3)],
        };
        let mut out = Vec::new();
        write_feature(&mut out, &f, &fields, b"");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], "a\"b");
        assert_eq!(v["geometry"]["type"], "Polygon");
        assert_eq!(v["geometry"]["coordinates"][0][1][0], 11.5);
        assert_eq!(v["properties"]["nome"], "Città");
        assert_eq!(v["properties"]["n"], -3);
        let mut out = Vec::new();
        write_geometry(&mut out, &Geometry::Point(point!(x: 1.0, y: f64::NAN)));
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }
}
