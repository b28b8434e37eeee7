//! QGIS 3.22 itself (Debian's python3-qgis, run offscreen) reads tessera's vector tiles as an
//! XYZ vector tile layer, converts the server's MapLibre style with its own converter, and
//! renders a map in the style's colours.

mod common;

use common::Server;
use common::colour::{palette_colour, pixels_near, pixels_of_hue};
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

/// The colours a report counted.
fn colours(report: &Value) -> &serde_json::Map<String, Value> {
    report["colours"].as_object().unwrap()
}

#[test]
fn qgis_draws_the_tiles_with_the_style() {
    let s = Server::sample();
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
        let c = palette_colour(struttura, "di_fatto");
        let n = pixels_near(colours(&r), c, 120);
        assert!(
            n >= at_least,
            "{struttura} ({c:?}): {n} pixels in {}",
            png.display()
        );
    }
    // And one struttura's tiles with its own style hold no other struttura's layer; its hazard
    // areas (di diritto) come hatched from the sprite, in a hue of their own.
    let (r, png) = qgis(
        &s,
        "/strutture/idro_geomorfologica/tiles/WebMercatorQuad/{z}/{y}/{x}",
        "/styles/idro_geomorfologica",
        "10.9,43.6,11.5,43.95",
    );
    assert_eq!(r["convert_status"], 0, "{r}");
    assert_eq!(
        r["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        r["warnings"]
    );
    assert!(r["sprite_images"].as_u64().unwrap() >= 4, "{r}");
    // Loaded by its URL, as a QGIS user does, the style brings its sprite's hatch too.
    assert_eq!(r["url_style_patterns"], 1, "{r}");
    let rivers = palette_colour("idro_geomorfologica", "di_fatto");
    let hazard = palette_colour("idro_geomorfologica", "di_diritto");
    assert!(
        pixels_of_hue(colours(&r), rivers, 8.0) > 400,
        "rivers: {}",
        png.display()
    );
    assert!(
        pixels_of_hue(colours(&r), hazard, 8.0) > 2000,
        "hatch: {}",
        png.display()
    );
    assert_eq!(
        pixels_near(colours(&r), palette_colour("base", "di_fatto"), 10),
        0,
        "{}",
        png.display()
    );
}
