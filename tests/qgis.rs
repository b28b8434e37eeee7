//! QGIS 3.22 itself (Debian's python3-qgis, run offscreen) reads tessera's vector tiles as an
//! XYZ vector tile layer, converts the server's MapLibre style with its own converter, and
//! renders a map in the style's colours.

mod common;

use common::Server;
use serde_json::Value;

/// Debian's Python, which has the QGIS bindings (not the one a virtualenv or pyenv puts first).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

fn qgis(s: &Server, tiles: &str, style: &str, bbox: &str) -> (Value, std::path::PathBuf) {
    let ok = std::process::Command::new(SYSTEM_PYTHON)
        .args(["-c", "import qgis.core"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "QGIS's Python bindings are missing: run the test suite with `bash tests/run-all.sh`, which installs python3-qgis"
    );
    let png = std::env::temp_dir().join(format!(
        "tessera-qgis-{}-{}.png",
        std::process::id(),
        style.replace('/', "_")
    ));
    let out = std::process::Command::new(SYSTEM_PYTHON)
        .arg(common::repo().join("tests/clients/qgis_vector_tiles.py"))
        .args([&s.url(""), tiles, style, png.to_str().unwrap(), bbox])
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (report, png)
}

/// Pixels within a few levels of `hex` (antialiasing and transparency aside).
fn pixels_like(report: &Value, hex: &str, slack: i32) -> u64 {
    let rgb = |h: &str| {
        let v = i64::from_str_radix(h.trim_start_matches('#'), 16).unwrap();
        [
            (v >> 16) as i32 & 255,
            (v >> 8) as i32 & 255,
            v as i32 & 255,
        ]
    };
    let want = rgb(hex);
    report["colours"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(c, _)| rgb(c).iter().zip(want).all(|(a, b)| (a - b).abs() <= slack))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

#[test]
fn qgis_draws_the_tiles_with_the_style() {
    let s = Server::sample();
    let palette: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("styles/strutture.json")).unwrap(),
    )
    .unwrap();
    let (r, png) = qgis(
        &s,
        "/tiles/WebMercatorQuad/{z}/{y}/{x}",
        "/styles/tutto",
        "10.9,43.6,11.5,43.95",
    );
    assert!(r["qgis"].as_str().unwrap().starts_with("3."), "{r}");
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["crs"], "EPSG:3857");
    assert_eq!(r["convert_status"], 0, "QGIS converted the style: {r}");
    assert_eq!(
        r["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        r["warnings"]
    );
    assert!(
        r["render_errors"].as_array().unwrap().is_empty(),
        "{}",
        r["render_errors"]
    );
    // Every layer of the style became a QGIS style.
    let style = s.json("/styles/tutto");
    let converted: Vec<&str> = r["styles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for l in style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["type"] != "background")
    {
        assert!(
            converted.contains(&l["id"].as_str().unwrap()),
            "{} not converted: {converted:?}",
            l["id"]
        );
    }
    // The map has the strutture's colours: boundaries, water, woods.
    for (struttura, at_least) in [
        ("base", 200),
        ("idro_geomorfologica", 2000),
        ("agro_forestale", 200),
    ] {
        let hex = palette["strutture"][struttura].as_str().unwrap();
        let n = pixels_like(&r, hex, 40);
        assert!(
            n >= at_least,
            "{struttura} ({hex}): {n} pixels in {}",
            png.display()
        );
    }
    // And one struttura's tiles with its own style hold no other struttura's layer.
    let (r, png) = qgis(
        &s,
        "/strutture/idro_geomorfologica/tiles/WebMercatorQuad/{z}/{y}/{x}",
        "/styles/idro_geomorfologica",
        "10.9,43.6,11.5,43.95",
    );
    assert_eq!(r["convert_status"], 0, "{r}");
    let idro = palette["strutture"]["idro_geomorfologica"]
        .as_str()
        .unwrap();
    assert!(pixels_like(&r, idro, 40) > 2000, "{}", png.display());
    assert_eq!(
        pixels_like(&r, palette["strutture"]["base"].as_str().unwrap(), 10),
        0,
        "{}",
        png.display()
    );
}
