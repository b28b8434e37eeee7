//! GeoJSON geometries from responses, as geo-types, for brute-force checks.

use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use serde_json::Value;

fn coord(v: &Value) -> Coord<f64> {
    Coord {
        x: v[0].as_f64().unwrap(),
        y: v[1].as_f64().unwrap(),
    }
}
fn line(v: &Value) -> LineString<f64> {
    LineString(v.as_array().unwrap().iter().map(coord).collect())
}
fn polygon(v: &Value) -> Polygon<f64> {
    let rings: Vec<LineString<f64>> = v.as_array().unwrap().iter().map(line).collect();
    let mut it = rings.into_iter();
    Polygon::new(it.next().unwrap(), it.collect())
}

pub fn geometry(v: &Value) -> Option<Geometry<f64>> {
    if v.is_null() {
        return None;
    }
    let c = &v["coordinates"];
    Some(match v["type"].as_str().unwrap() {
        "Point" => Geometry::Point(Point(coord(c))),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            c.as_array()
                .unwrap()
                .iter()
                .map(|p| Point(coord(p)))
                .collect(),
        )),
        "LineString" => Geometry::LineString(line(c)),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            c.as_array().unwrap().iter().map(line).collect(),
        )),
        "Polygon" => Geometry::Polygon(polygon(c)),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            c.as_array().unwrap().iter().map(polygon).collect(),
        )),
        other => panic!("unexpected geometry type {other}"),
    })
}

/// Every coordinate of a GeoJSON geometry.
pub fn coords(v: &Value, out: &mut Vec<(f64, f64)>) {
    match v {
        Value::Array(a) if a.len() >= 2 && a[0].is_number() => {
            out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
        }
        Value::Array(a) => a.iter().for_each(|x| coords(x, out)),
        _ => {}
    }
}

/// The Web Mercator tile holding a CRS84 point.
pub fn tile_of(z: u32, lon: f64, lat: f64) -> (u32, u32) {
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let r = lat.to_radians();
    let y =
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    (x, y)
}
