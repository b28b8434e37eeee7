//! A direct GeoJSON writer: features are written straight into a byte buffer, without an
//! intermediate JSON tree, because this is the hot path of every items page.

use crate::source::{Feature, FeatureId, Field, Value};
use geo_types::{Coord, Geometry, LineString, Polygon};

/// How many decimals coordinates keep. Seven in degrees is about a centimetre on the ground,
/// finer than any survey behind territorial data; full `f64` digits (17) would make every
/// coordinate twice as long for nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    decimals: u8,
    scale: f64,
}

impl Precision {
    /// The most decimals that are still meaningful for an `f64` of a few hundred units.
    pub const MAX_DECIMALS: u8 = 12;

    /// `decimals` after the point, at most [`Precision::MAX_DECIMALS`].
    pub fn decimals(decimals: u8) -> Precision {
        let decimals = decimals.min(Self::MAX_DECIMALS);
        Precision {
            decimals,
            scale: 10f64.powi(decimals as i32),
        }
    }
}

impl Default for Precision {
    fn default() -> Self {
        Precision::decimals(7)
    }
}

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

/// Writes `v` rounded to the precision, as the shortest decimal (no trailing zeros). The
/// rounded value is written from integers: exact, and quicker than formatting a float.
fn write_rounded(out: &mut Vec<u8>, v: f64, p: Precision) {
    let k = (v * p.scale).round();
    // Past 2^53 the integers are no longer exact: such a value is not a coordinate anyway.
    if !k.is_finite() || k.abs() >= 9_007_199_254_740_992.0 {
        return write_f64(out, v);
    }
    let k = k as i64;
    if k < 0 {
        out.push(b'-');
    }
    let unit = p.scale as u64;
    let (whole, mut frac) = (k.unsigned_abs() / unit, k.unsigned_abs() % unit);
    out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
    if frac == 0 {
        return;
    }
    let mut digits = p.decimals as usize;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    out.push(b'.');
    let mut b = itoa::Buffer::new();
    let s = b.format(frac);
    out.extend(std::iter::repeat_n(b'0', digits - s.len()));
    out.extend_from_slice(s.as_bytes());
}

fn write_coord(out: &mut Vec<u8>, c: &Coord<f64>, p: Precision) {
    out.push(b'[');
    write_rounded(out, c.x, p);
    out.push(b',');
    write_rounded(out, c.y, p);
    out.push(b']');
}

fn write_line(out: &mut Vec<u8>, ls: &LineString<f64>, p: Precision) {
    write_list(out, &ls.0, |o, c| write_coord(o, c, p));
}

fn write_polygon(out: &mut Vec<u8>, poly: &Polygon<f64>, p: Precision) {
    out.push(b'[');
    write_line(out, poly.exterior(), p);
    for r in poly.interiors() {
        out.push(b',');
        write_line(out, r, p);
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

/// Writes a GeoJSON geometry object (RFC 7946), coordinates rounded to `p`.
pub fn write_geometry(out: &mut Vec<u8>, g: &Geometry<f64>, p: Precision) {
    type Body<'a> = &'a dyn Fn(&mut Vec<u8>);
    let (kind, body): (&str, Body) = match g {
        Geometry::Point(pt) => ("Point", &|o| write_coord(o, &pt.0, p)),
        Geometry::MultiPoint(m) => ("MultiPoint", &|o| {
            write_list(o, &m.0, |o, pt| write_coord(o, &pt.0, p))
        }),
        Geometry::LineString(l) => ("LineString", &|o| write_line(o, l, p)),
        Geometry::Line(l) => ("LineString", &|o| {
            write_list(o, &[l.start, l.end], |o, c| write_coord(o, c, p))
        }),
        Geometry::MultiLineString(m) => ("MultiLineString", &|o| {
            write_list(o, &m.0, |o, l| write_line(o, l, p))
        }),
        Geometry::Polygon(poly) => ("Polygon", &|o| write_polygon(o, poly, p)),
        Geometry::MultiPolygon(m) => ("MultiPolygon", &|o| {
            write_list(o, &m.0, |o, poly| write_polygon(o, poly, p))
        }),
        Geometry::Rect(r) => ("Polygon", &|o| write_polygon(o, &r.to_polygon(), p)),
        Geometry::Triangle(t) => ("Polygon", &|o| write_polygon(o, &t.to_polygon(), p)),
        Geometry::GeometryCollection(c) => {
            out.extend_from_slice(b"{\"type\":\"GeometryCollection\",\"geometries\":");
            write_list(out, &c.0, |o, g| write_geometry(o, g, p));
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
pub fn write_feature(out: &mut Vec<u8>, f: &Feature, fields: &[Field], p: Precision, extra: &[u8]) {
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
    write_id(out, &f.id);
    out.extend_from_slice(b",\"geometry\":");
    match &f.geometry {
        Some(g) => write_geometry(out, g, p),
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
        write_feature(&mut out, &f, &fields, Precision::default(), b"");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], "a\"b");
        assert_eq!(v["geometry"]["type"], "Polygon");
        assert_eq!(v["geometry"]["coordinates"][0][1][0], 11.5);
        assert_eq!(v["properties"]["nome"], "Città");
        assert_eq!(v["properties"]["n"], -3);
        let mut out = Vec::new();
        write_geometry(
            &mut out,
            &Geometry::Point(point!(x: 1.0, y: f64::NAN)),
            Precision::default(),
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }

    fn rounded(v: f64, decimals: u8) -> String {
        let mut out = Vec::new();
        write_rounded(&mut out, v, Precision::decimals(decimals));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn coordinates_are_rounded_to_the_shortest_decimal() {
        assert_eq!(rounded(11.255_598_123_456_789, 7), "11.2555981");
        assert_eq!(rounded(-0.000_000_06, 7), "-0.0000001");
        assert_eq!(rounded(-0.000_000_04, 7), "0");
        assert_eq!(rounded(43.5, 7), "43.5");
        assert_eq!(rounded(10.0, 7), "10");
        assert_eq!(rounded(10.000_000_000_3, 7), "10");
        assert_eq!(rounded(1_681_234.567_89, 2), "1681234.57");
        assert_eq!(rounded(0.05, 0), "0");
        assert_eq!(rounded(-179.999_999_99, 7), "-180");
        // Beyond exact integers the value is written as it is.
        assert_eq!(rounded(1e300, 7), "1e300");
        // Every rounded value reads back within half a unit of the last decimal.
        for i in 0..10_000 {
            let v = (i as f64 * 0.012_345_678_9).sin() * 180.0;
            let back: f64 = rounded(v, 7).parse().unwrap();
            assert!((back - v).abs() <= 0.5e-7 + 1e-12, "{v} -> {back}");
        }
    }
}
