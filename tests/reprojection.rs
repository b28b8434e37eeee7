//! Layers stored in EPSG:3003 and EPSG:6707 come out in CRS84 at the coordinates PROJ gives.

mod common;

use common::{Server, fgb, require_tool};
use flatgeobuf::GeometryType;
use geo_types::{Geometry, Point};
use geozero::{ColumnValue, PropertyProcessor};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TOWNS: &[(&str, f64, f64)] = &[
    ("Firenze", 11.2558, 43.7696),
    ("Pisa", 10.4017, 43.7228),
    ("Grosseto", 11.1139, 42.7635),
    ("Massa", 10.1417, 44.0354),
    ("Arezzo", 11.8798, 43.4633),
    ("Isola del Giglio", 10.9027, 42.3625),
    ("Siena", 11.3308, 43.3188),
    ("Sestino", 12.2975, 43.7093),
];

fn write_points(path: &Path, epsg: i32, points: &[(&str, f64, f64)]) {
    let mut w = fgb::writer("towns", GeometryType::Point, epsg);
    w.add_column("nome", flatgeobuf::ColumnType::String, |_, _| {});
    for (name, x, y) in points {
        w.add_feature_geom(Geometry::Point(Point::new(*x, *y)), |f| {
            f.property(0, "nome", &ColumnValue::String(name)).unwrap();
        })
        .unwrap();
    }
    w.write(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tessera-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// CRS84 coordinates the server returns for each town name.
fn served(s: &Server, layer: &str) -> Vec<(String, f64, f64)> {
    let v = s.json(&format!("/collections/{layer}/items?limit=100"));
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            (
                f["properties"]["nome"].as_str().unwrap().to_string(),
                c[0].as_f64().unwrap(),
                c[1].as_f64().unwrap(),
            )
        })
        .collect()
}

fn assert_close(name: &str, got: (f64, f64), want: (f64, f64)) {
    // 1e-7 degrees is about a centimetre.
    assert!(
        (got.0 - want.0).abs() < 1e-7 && (got.1 - want.1).abs() < 1e-7,
        "{name}: served {got:?}, expected {want:?}"
    );
}

#[test]
fn known_gauss_boaga_and_rdn2008_values() {
    // Firenze, projected by PROJ 9 (cs2cs): EPSG:3003 (E, N) and EPSG:6707 (stored E, N).
    let dir = temp_dir("known");
    write_points(
        &dir.join("gb.fgb"),
        3003,
        &[("Firenze", 1681587.633, 4848772.196)],
    );
    write_points(
        &dir.join("rdn.fgb"),
        6707,
        &[("Firenze", 681557.249, 4848756.385)],
    );
    let s = Server::start(&[dir.to_str().unwrap()]);
    for layer in ["gb", "rdn"] {
        let got = served(&s, layer);
        assert_close(layer, (got[0].1, got[0].2), (11.2558, 43.7696));
    }
    let c = s.json("/collections/gb");
    assert_eq!(
        c["metadati"]["storage_crs"],
        "http://www.opengis.net/def/crs/EPSG/0/3003"
    );
    assert_eq!(c["classificazione"]["anteprima"], true);
}

#[test]
fn towns_round_trip_through_cs2cs() {
    let cs2cs = require_tool("cs2cs");
    let dir = temp_dir("cs2cs");
    for (epsg, file) in [(3003, "gauss_boaga.fgb"), (6707, "rdn2008.fgb")] {
        let mut child = Command::new(&cs2cs)
            .args(["-f", "%.4f", "EPSG:4326", &format!("EPSG:{epsg}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input: String = TOWNS
            .iter()
            .map(|(_, lon, lat)| format!("{lat} {lon}\n"))
            .collect();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let projected: Vec<(&str, f64, f64)> = TOWNS
            .iter()
            .zip(text.lines())
            .map(|((name, _, _), line)| {
                let v: Vec<f64> = line
                    .split_whitespace()
                    .take(2)
                    .map(|x| x.parse().unwrap())
                    .collect();
                // EPSG:6707 is northing first for PROJ; store easting first as GIS files do.
                let (e, n) = if v[0] > v[1] {
                    (v[1], v[0])
                } else {
                    (v[0], v[1])
                };
                (*name, e, n)
            })
            .collect();
        assert_eq!(projected.len(), TOWNS.len(), "cs2cs output:\n{text}");
        write_points(&dir.join(file), epsg, &projected);
    }
    let s = Server::start(&[dir.to_str().unwrap()]);
    for layer in ["gauss_boaga", "rdn2008"] {
        let got = served(&s, layer);
        assert_eq!(got.len(), TOWNS.len());
        for (name, lon, lat) in TOWNS {
            let g = got.iter().find(|g| g.0 == *name).unwrap();
            assert_close(&format!("{layer} {name}"), (g.1, g.2), (*lon, *lat));
        }
    }
    // And a bbox around Firenze finds it in both.
    for layer in ["gauss_boaga", "rdn2008"] {
        let v = s.json(&format!(
            "/collections/{layer}/items?bbox=11.25,43.76,11.26,43.78"
        ));
        assert_eq!(v["numberMatched"], 1, "{layer}");
        assert_eq!(v["features"][0]["properties"]["nome"], "Firenze");
    }
}
