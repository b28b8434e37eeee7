//! The HTML maps in a real browser: Debian's Chromium, headless, with WebGL on SwiftShader,
//! driven by playwright-core (tests/browser/maps.mjs). Each map must load with no request
//! leaving the server and no console error, and draw its layers' colours over the base
//! layers' outlines. Screenshots are kept in target/browser-maps/.

mod common;
use common::colour::{hue, palette_colour, pixels_near, pixels_of_hue, rgb};
use common::{Server, repo, require_tool};
use serde_json::Value;
use std::process::Command;

/// Every `#rrggbb` a text holds (the colours a page or a style gives its layers).
fn colours_in(text: &str) -> Vec<[i32; 3]> {
    text.match_indices('#')
        .filter_map(|(i, _)| text.get(i..i + 7).and_then(rgb))
        .collect()
}

/// Opens `pages` of the server at `base` in Chromium; screenshots go to `out` as
/// `{prefix}-{n}.png`. One report per page (see tests/browser/maps.mjs).
fn browse(base: &str, out: &std::path::Path, prefix: &str, pages: &[&str]) -> Vec<Value> {
    let chromium = require_tool("chromium");
    require_tool("node");
    let node_dir = std::env::var_os("TESSERA_TEST_NODE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo().join(".node"));
    assert!(
        node_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run the test suite with `bash tests/run-all.sh`, which installs it"
    );
    std::fs::create_dir_all(out).unwrap();
    let run = Command::new("node")
        .arg(repo().join("tests/browser/maps.mjs"))
        .arg(base)
        .arg(out)
        .arg(prefix)
        .args(pages)
        .env("NODE_DIR", &node_dir)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the browser run failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(results.len(), pages.len());
    for (page, r) in pages.iter().zip(&results) {
        assert!(r.get("error").is_none(), "{page}: {}", r["error"]);
        assert_eq!(
            r["foreign"],
            serde_json::json!([]),
            "{page} fetched from elsewhere"
        );
        assert_eq!(r["errors"], serde_json::json!([]), "{page} logged errors");
    }
    results
}

#[test]
fn maps_load_offline_and_draw_their_layers() {
    let s = Server::sample();
    let base = s.url("").trim_end_matches('/').to_string();
    let pages = [
        "/collections/reticolo_idrografico/items?f=html&limit=50",
        "/collections/pericolosita_idraulica?f=html",
        "/strutture/idro_geomorfologica?f=html",
        "/collections/comuni?f=html",
        "/?f=html",
    ];
    let results = browse(&base, &repo().join("target/browser-maps"), "map", &pages);
    let reference = [0xa8, 0xa4, 0x9a];
    for (page, r) in pages.iter().zip(&results) {
        let counts = r["counts"].as_object().unwrap();
        // The colours the page gives its layers: in the page itself, or in the style it loads.
        let html = s.get(page).text();
        let mut expected = colours_in(&html);
        if let Some(i) = html.find("data-style=\"") {
            let url = &html[i + 12..];
            let url = url[..url.find('"').unwrap()].replace("&#x2f;", "/");
            expected.extend(colours_in(&s.get(&url[base.len()..]).text()));
        }
        expected.retain(|c| *c != reference && pixels_near(counts, *c, 24) < 100_000);
        let drawn: u64 = expected
            .iter()
            .map(|c| pixels_near(counts, *c, 24))
            .max()
            .unwrap_or(0);
        assert!(
            drawn >= 200,
            "{page}: {drawn} pixels in its layers' colours"
        );
        // The comuni and province: as light outlines under the data, or as the landing
        // map's own base layers.
        // map's own base layers (grey lines of 0.4 to 1.2 px, blended with the background by
        // antialiasing: counted as grey pixels darker than the background).
        let outlines = if *page == "/?f=html" {
            (counts.iter())
                .filter_map(|(k, n)| Some((rgb(k)?, n.as_u64()?)))
                .filter(|(c, _)| hue(*c).1 < 0.15 && c.iter().sum::<i32>() < 600)
                .map(|(_, n)| n)
                .sum()
        } else {
            pixels_near(counts, reference, 24)
        };
        assert!(
            outlines >= 200,
            "{page}: the comuni and province outlines are drawn"
        );
        // A click on a feature opens a popup that links to the feature's page.
        let link = r["popup"]
            .as_str()
            .unwrap_or_else(|| panic!("{page}: no popup"));
        let link = link.strip_prefix(&base).unwrap_or(link);
        assert!(
            link.starts_with("/collections/") && link.contains("/items/"),
            "{page}: the popup links to {link:?}"
        );
        let feature = s.get(link);
        assert_eq!(feature.status, 200, "{page}: {link}");
        assert!(feature.text().contains("<html"), "{link} is a page");
    }
    // On the idro-geomorfologica map the rivers (di fatto) and the hazard areas (di diritto)
    // are drawn in hues of their own: the hatch does not read as a thicker river.
    let idro = results[2]["counts"].as_object().unwrap();
    let rivers = pixels_of_hue(idro, palette_colour("idro_geomorfologica", "di_fatto"), 8.0);
    let hazard = pixels_of_hue(
        idro,
        palette_colour("idro_geomorfologica", "di_diritto"),
        8.0,
    );
    assert!(
        rivers >= 300 && hazard >= 300,
        "rivers {rivers} and hazard areas {hazard} pixels of their own hue"
    );
    // The landing page opens on every layer, with a check box per struttura and stato that
    // shows and hides them.
    let switched = &results[4]["switched"];
    let ids = |k: &str| -> Vec<String> {
        (switched[k].as_array().unwrap().iter())
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids("all").len() > 10, "{switched}");
    assert!(ids("none").is_empty(), "every box unticked: {switched}");
    let one = ids("insediativaDiritto");
    assert!(
        !one.is_empty()
            && one
                .iter()
                .all(|id| id.starts_with("territorio_urbanizzato-")),
        "{one:?}"
    );
}

#[allow(dead_code)]
#[path = "../sample-data/synth.rs"]
mod synth;
#[allow(dead_code)]
#[path = "../benches/support/territorio.rs"]
mod territorio;

/// The sample with 100,000 synthetic cadastral parcels around the towns: zoomed out, the
/// landing map shows the comuni and where the parcels are dense; zoomed in, the parcels.
#[test]
fn zoomed_out_the_map_shows_the_comuni_and_the_parcels_density() {
    let dir = common::temp_dir();
    let parcels = dir.join("particelle.fgb");
    territorio::generate(
        &repo().join("sample-data/comuni_toscana.fgb"),
        &parcels,
        100_000,
    );
    let config = dir.join("tessera.toml");
    let layer = common::layer_toml(
        "particelle",
        &parcels,
        r#"struttura = ["insediativa"], stato = "di_fatto""#,
        "",
    );
    std::fs::write(&config, common::sample_config_text() + &layer).unwrap();
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    let base = s.url("").trim_end_matches('/').to_string();
    let pages = [
        "/?f=html#0/43.4/11",
        "/?f=html#6/43.45/11",
        "/?f=html#9/43.77/11.25",
        "/?f=html#13/43.772/11.255",
    ];
    let results = browse(
        &base,
        &repo().join("target/browser-maps"),
        "particelle",
        &pages,
    );
    let red = palette_colour("insediativa", "di_fatto");
    let drawn = |k: usize, layer: &str, what: &str| {
        results[k]["rendered"][layer][what].as_u64().unwrap_or(0)
    };
    let hue = |k: usize| pixels_of_hue(results[k]["counts"].as_object().unwrap(), red, 10.0);
    // z0: Tuscany is a few pixels, made of stand-ins for the comuni and the parcels (under
    // the cultural heritage points, drawn on top).
    assert!(
        drawn(0, "comuni", "standIns") >= 1,
        "{}",
        results[0]["rendered"]
    );
    assert!(
        drawn(0, "particelle", "standIns") >= 1,
        "{}",
        results[0]["rendered"]
    );
    let z0 = results[0]["counts"].as_object().unwrap();
    let all: u64 = z0.values().map(|n| n.as_u64().unwrap()).sum();
    let background = pixels_near(z0, rgb("#f5f3ee").unwrap(), 6);
    assert!(
        all - background >= 10,
        "z0: {} pixels drawn",
        all - background
    );
    // z6: the comuni as themselves, the parcels as a density map of their own colour.
    assert!(
        drawn(1, "comuni", "features") >= 100,
        "{}",
        results[1]["rendered"]
    );
    assert!(
        drawn(1, "particelle", "standIns") >= 300,
        "{}",
        results[1]["rendered"]
    );
    assert!(hue(1) >= 2000, "z6: {} parcel pixels", hue(1));
    // z13: the parcels themselves.
    assert!(
        drawn(3, "particelle", "features") >= 20,
        "{}",
        results[3]["rendered"]
    );
    assert!(hue(3) >= 2000, "z13: {} parcel pixels", hue(3));
}
