//! The HTML maps in a real browser: Debian's Chromium, headless, with WebGL on SwiftShader,
//! driven by playwright-core (tests/browser/maps.mjs). Each map must load with no request
//! leaving the server and no console error, and draw its layers' colours over the base
//! layers' outlines. Screenshots are kept in target/browser-maps/.

mod common;
use common::{Server, repo, require_tool};
use serde_json::Value;
use std::process::Command;

fn hex(c: &str) -> Option<[i32; 3]> {
    let c = c.strip_prefix('#')?;
    if c.len() != 6 {
        return None;
    }
    let v = |i: usize| i32::from_str_radix(&c[i..i + 2], 16).ok();
    Some([v(0)?, v(2)?, v(4)?])
}

/// Pixels within a small distance of `colour` (antialiased edges blend it with the background).
fn pixels_near(counts: &serde_json::Map<String, Value>, colour: [i32; 3]) -> u64 {
    counts
        .iter()
        .filter_map(|(k, n)| Some((hex(k)?, n.as_u64()?)))
        .filter(|(c, _)| (0..3).map(|i| (c[i] - colour[i]).abs()).sum::<i32>() <= 24)
        .map(|(_, n)| n)
        .sum()
}

/// Every `#rrggbb` a text holds (the colours a page or a style gives its layers).
fn colours_in(text: &str) -> Vec<[i32; 3]> {
    text.match_indices('#')
        .filter_map(|(i, _)| text.get(i..i + 7).and_then(hex))
        .collect()
}

#[test]
fn maps_load_offline_and_draw_their_layers() {
    let chromium = require_tool("chromium");
    require_tool("node");
    let node_dir = std::env::var_os("TESSERA_TEST_NODE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo().join(".node"));
    assert!(
        node_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run the test suite with `bash tests/run-all.sh`, which installs it"
    );
    let s = Server::sample();
    let base = s.url("").trim_end_matches('/').to_string();
    let out = repo().join("target/browser-maps");
    std::fs::create_dir_all(&out).unwrap();
    let pages = [
        "/collections/reticolo_idrografico/items?f=html&limit=50",
        "/collections/pericolosita_idraulica?f=html",
        "/strutture/idro_geomorfologica?f=html",
        "/collections/comuni?f=html",
    ];
    let run = Command::new("node")
        .arg(repo().join("tests/browser/maps.mjs"))
        .arg(&base)
        .arg(&out)
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
    let reference = [0xa8, 0xa4, 0x9a];
    for (page, r) in pages.iter().zip(&results) {
        assert!(r.get("error").is_none(), "{page}: {}", r["error"]);
        assert_eq!(
            r["foreign"],
            serde_json::json!([]),
            "{page} fetched from elsewhere"
        );
        assert_eq!(r["errors"], serde_json::json!([]), "{page} logged errors");
        let counts = r["counts"].as_object().unwrap();
        // The colours the page gives its layers: in the page itself, or in the style it loads.
        let html = s.get(page).text();
        let mut expected = colours_in(&html);
        if let Some(i) = html.find("data-style=\"") {
            let url = &html[i + 12..];
            let url = url[..url.find('"').unwrap()].replace("&#x2f;", "/");
            expected.extend(colours_in(&s.get(&url[base.len()..]).text()));
        }
        expected.retain(|c| *c != reference && pixels_near(counts, *c) < 100_000);
        let drawn: u64 = expected
            .iter()
            .map(|c| pixels_near(counts, *c))
            .max()
            .unwrap_or(0);
        assert!(
            drawn >= 200,
            "{page}: {drawn} pixels in its layers' colours"
        );
        assert!(
            pixels_near(counts, reference) >= 200,
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
}
