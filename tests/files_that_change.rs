//! Data files replaced while tessera serves them: a new version renamed over the old one or
//! written in place is served without a restart, with fresh tiles; a half-written or
//! incompatible version is never served, and `/health` says so without naming server paths.

mod common;

use common::{Server, eventually, fgb, mvt, temp_dir};
use flatgeobuf::GeometryType;
use geo_types::{Geometry, Point};
use geozero::{ColumnValue, PropertyProcessor};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where the last point goes when a version reaches Grosseto, and its z14 tile.
const GROSSETO: (f64, f64) = (11.1139, 42.7635);
const GROSSETO_TILE: &str = "/collections/punti/tiles/WebMercatorQuad/14/6034/8697";

/// A FlatGeobuf file of `n` points near Firenze (the last one in Grosseto with `far`), with
/// the property `column`, as bytes.
fn points_reaching(n: usize, column: &str, far: bool) -> Vec<u8> {
    let mut w = fgb::writer("punti", GeometryType::Point, 4326);
    w.add_column(column, flatgeobuf::ColumnType::String, |_, _| {});
    for i in 0..n {
        let p = match far && i == n - 1 {
            true => Point::new(GROSSETO.0, GROSSETO.1),
            false => Point::new(11.255 + i as f64 * 0.0005, 43.77),
        };
        w.add_feature_geom(Geometry::Point(p), |f| {
            f.property(0, column, &ColumnValue::String(&format!("punto {i}")))
                .unwrap();
        })
        .unwrap();
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

fn points(n: usize, column: &str) -> Vec<u8> {
    points_reaching(n, column, false)
}

/// Writes `bytes` beside `path` and renames them over it, as deploy tools do. The new file
/// is dated a minute back, so it counts as finished at once.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(&tmp).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    drop(f);
    std::fs::rename(&tmp, path).unwrap();
}

fn matched(s: &Server) -> Option<u64> {
    let r = s.get("/collections/punti/items");
    (r.status == 200).then(|| r.json()["numberMatched"].as_u64().unwrap())
}

/// The z14 tile over the points: its features and its ETag.
fn tile(s: &Server) -> (usize, String) {
    let r = s.get("/collections/punti/tiles/WebMercatorQuad/14/5972/8704");
    assert_eq!(r.status, 200, "{}", r.text());
    let layers = mvt::decode(&r.body);
    (
        layers[0].features.len(),
        r.header("etag").unwrap().to_string(),
    )
}

fn serve(dir: &Path) -> (Server, PathBuf) {
    let file = dir.join("punti.fgb");
    replace(&file, &points(3, "nome"));
    let config = dir.join("tessera.toml");
    std::fs::write(&config, "[server]\nwatch_secs = 1\n").unwrap();
    let s = Server::start(&["--config", config.to_str().unwrap(), file.to_str().unwrap()]);
    (s, file)
}

fn health(s: &Server) -> serde_json::Value {
    let r = s.get("/health");
    assert_eq!(r.status, 200);
    r.json()
}

#[test]
fn a_file_renamed_over_is_served_anew_with_fresh_tiles() {
    let dir = temp_dir();
    let (s, file) = serve(&dir);
    assert_eq!(matched(&s), Some(3));
    let (before, etag) = tile(&s);
    assert_eq!(before, 3);
    // Cached now: the same tile again is a hit with the same validator.
    assert_eq!(tile(&s).1, etag);

    // Grosseto is outside the data: its tile is outside the tileset's limits.
    s.get(GROSSETO_TILE).assert_exception(404);
    let bounds = |s: &Server| {
        s.json("/collections/punti/tiles/WebMercatorQuad/tilejson.json")["bounds"][1]
            .as_f64()
            .unwrap()
    };
    assert!(bounds(&s) > 43.7);

    // The new version reaches Grosseto.
    replace(&file, &points_reaching(6, "nome", true));
    eventually("the new version is served", || matched(&s) == Some(6));
    let (after, new_etag) = tile(&s);
    assert_eq!(after, 5, "the cached tile of the old version is not served");
    assert_ne!(new_etag, etag);
    // The tileset follows the data: its bounds and limits reach Grosseto, and so do tiles.
    assert!((bounds(&s) - GROSSETO.1).abs() < 1e-6, "{}", bounds(&s));
    let r = s.get(GROSSETO_TILE);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(mvt::decode(&r.body)[0].features.len(), 1);
    // Ids of the new version: six features, numbered from 0 in file order.
    let last = s.json("/collections/punti/items/5");
    assert!(
        last["properties"]["nome"]
            .as_str()
            .unwrap()
            .starts_with("punto ")
    );
    s.get("/collections/punti/items/6").assert_exception(404);
    assert_eq!(health(&s)["status"], "ok");
}

#[test]
fn a_half_written_or_different_file_is_never_served() {
    let dir = temp_dir();
    let (s, file) = serve(&dir);
    let secret = dir.to_str().unwrap().to_string();

    // Half a file, renamed over: the last good version stays, and /health says why.
    let whole = points(40, "nome");
    replace(&file, &whole[..whole.len() / 2]);
    eventually("the health report names the problem", || {
        health(&s)["status"] == "degraded"
    });
    let h = health(&s);
    let problem = h["degraded"][0]["problem"].as_str().unwrap();
    assert_eq!(h["degraded"][0]["collection"], "punti");
    assert!(problem.contains("last good version"), "{problem}");
    assert!(!h.to_string().contains(&secret), "a server path in {h}");
    assert_eq!(matched(&s), Some(3));
    assert_eq!(tile(&s).0, 3);

    // Another schema is refused the same way: it needs a restart.
    replace(&file, &points(4, "denominazione"));
    eventually("the schema change is reported", || {
        health(&s)["degraded"][0]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("restart"))
    });
    assert_eq!(matched(&s), Some(3));

    // The whole file is then served, and the report clears.
    replace(&file, &whole);
    eventually("the whole file is served", || matched(&s) == Some(40));
    assert_eq!(health(&s)["status"], "ok");
}

#[test]
fn a_file_rewritten_in_place_is_served_once_whole() {
    let dir = temp_dir();
    let (s, file) = serve(&dir);
    assert_eq!(matched(&s), Some(3));
    // A copy over the file in place, cut short: the old version is gone, so reads fail.
    let whole = points(8, "nome");
    std::fs::write(&file, &whole[..whole.len() - 40]).unwrap();
    let r = s.get("/collections/punti/items");
    r.assert_exception(503);
    assert!(!r.text().contains(dir.to_str().unwrap()));
    eventually("the broken rewrite is reported", || {
        health(&s)["degraded"][0]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("overwritten"))
    });
    // The copy completes.
    std::fs::write(&file, &whole).unwrap();
    eventually("the rewritten file is served", || matched(&s) == Some(8));
    assert_eq!(tile(&s).0, 8);
    assert_eq!(health(&s)["status"], "ok");
}
