//! Vector tiles through the real server: tile matrix sets, tilesets lists and metadata (with
//! what the OGC test suite reads from them), TileJSON, and tiles decoded by geozero's reader,
//! independent of tessera's encoder.

mod common;

use common::Server;
use common::geo::{geometry, tile_of};
use common::mvt::{self, area};
use geo::{Intersects, Validation};
use geo_types::{Coord, Rect};
use serde_json::Value;
use std::collections::BTreeSet;

const EXTENT: i64 = 4096;
const BUFFER: i64 = 64;

/// A tile's CRS84 bounds, from the Web Mercator formulas (written here, not taken from tessera).
fn tile_bounds(z: u32, x: u32, y: u32) -> Rect<f64> {
    let n = (1u64 << z) as f64;
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| {
        (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    Rect::new(
        Coord {
            x: lon(x as f64),
            y: lat(y as f64 + 1.0),
        },
        Coord {
            x: lon(x as f64 + 1.0),
            y: lat(y as f64),
        },
    )
}

fn get_tile(s: &Server, path: &str) -> Vec<mvt::Layer> {
    let r = s.get(path);
    match r.status {
        200 => {
            assert_eq!(
                r.header("content-type"),
                Some("application/vnd.mapbox-vector-tile"),
                "{path}"
            );
            let found = mvt::violations(&r.body);
            assert!(found.is_empty(), "{path}: {found:?}");
            mvt::decode(&r.body)
        }
        204 => {
            assert!(r.body.is_empty());
            Vec::new()
        }
        other => panic!("GET {path}: {other} {}", r.text()),
    }
}

/// Everything the specification asks of a layer, and what tessera promises on top.
fn check_layer(layer: &mvt::Layer, what: &str) {
    assert_eq!(layer.version, 2, "{what}");
    assert_eq!(layer.extent as i64, EXTENT, "{what}");
    assert!(
        !layer.features.is_empty(),
        "{what}: a layer with no feature is left out"
    );
    let mut keys = layer.keys.clone();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), layer.keys.len(), "{what}: duplicate keys");
    for f in &layer.features {
        for part in &f.parts {
            for p in part {
                assert!(
                    (-BUFFER..=EXTENT + BUFFER).contains(&p[0])
                        && (-BUFFER..=EXTENT + BUFFER).contains(&p[1]),
                    "{what}: {p:?} beyond the buffer"
                );
            }
        }
        match f.kind {
            2 => assert!(f.parts.iter().all(|l| l.len() >= 2), "{what}: short line"),
            3 => {
                assert!(
                    area(&f.parts[0]) > 0.0,
                    "{what}: first ring is not an exterior"
                );
                for ring in &f.parts {
                    assert!(ring.len() >= 3, "{what}: ring of {} points", ring.len());
                    assert_ne!(ring.first(), ring.last(), "{what}: closing point repeated");
                    assert!(area(ring) != 0.0, "{what}: ring of zero area");
                }
                assert!(
                    f.geometry.is_valid(),
                    "{what}: invalid polygon {:?}",
                    f.geometry
                );
            }
            _ => {}
        }
    }
}

fn tilesets(s: &Server, path: &str) -> Vec<Value> {
    s.json(path)["tilesets"].as_array().unwrap().clone()
}

fn path_of(href: &str) -> &str {
    let rest = href.strip_prefix("http://").unwrap();
    &rest[rest.find('/').unwrap()..]
}

#[test]
fn tile_matrix_set_and_conformance() {
    let s = Server::sample();
    let list = s.json("/tileMatrixSets");
    assert_eq!(list["tileMatrixSets"][0]["id"], "WebMercatorQuad");
    let t = s.json("/tileMatrixSets/WebMercatorQuad");
    assert_eq!(t["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
    assert_eq!(t["tileMatrices"].as_array().unwrap().len(), 25);
    let m5 = &t["tileMatrices"][5];
    assert_eq!(m5["matrixWidth"], 32);
    assert!((m5["cellSize"].as_f64().unwrap() - 156_543.033_928_041 / 32.0).abs() < 1e-6);
    let conf = s.json("/conformance");
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "core",
        "tileset",
        "tilesets-list",
        "dataset-tilesets",
        "collections-selection",
        "mvt",
    ] {
        assert!(
            classes.contains(
                &format!("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{c}").as_str()
            ),
            "{c}"
        );
    }
    let landing = s.json("/");
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert!(rels.contains(&"http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"));
    assert!(rels.contains(&"http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"));
}

/// The OGC test suite's tile test, on every tileset: each list entry has the matrix set id,
/// limits and a templated link; (tm, maxTileRow, minTileCol) answers 200 or 204 and the row
/// after it 404.
#[test]
fn every_tileset_passes_the_ets_tile_probe() {
    let s = Server::sample();
    let mut lists = vec![
        "/tiles".to_string(),
        "/tiles?collections=comuni,beni_culturali".into(),
    ];
    for c in s.json("/collections")["collections"].as_array().unwrap() {
        let link = c["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
            .expect("collections link their tilesets");
        lists.push(path_of(link["href"].as_str().unwrap()).to_string());
    }
    for st in ["idro_geomorfologica", "insediativa", "base"] {
        lists.push(format!("/strutture/{st}/tiles"));
    }
    for (list, t) in lists
        .iter()
        .flat_map(|l| tilesets(&s, l).into_iter().map(move |t| (l, t)))
    {
        let id = t["tileMatrixSetId"].as_str().unwrap();
        assert!(
            ["WebMercatorQuad", "WorldCRS84Quad"].contains(&id),
            "{list}: {id}"
        );
        assert_eq!(t["dataType"], "vector");
        let links = t["links"].as_array().unwrap();
        assert!(
            links
                .iter()
                .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme")
        );
        let item = links
            .iter()
            .find(|l| l["rel"] == "item")
            .unwrap_or_else(|| panic!("{list}: no item link"));
        assert_eq!(item["templated"], true);
        assert_eq!(item["type"], "application/vnd.mapbox-vector-tile");
        let template = item["href"].as_str().unwrap();
        for p in ["{tileMatrix}", "{tileRow}", "{tileCol}"] {
            assert!(template.contains(p), "{template}");
        }
        let limits = t["tileMatrixSetLimits"].as_array().unwrap();
        assert!(!limits.is_empty(), "{list}");
        // Probe a few levels, as the suite does with the first.
        for l in limits.iter().step_by(5) {
            let (tm, row, col) = (
                l["tileMatrix"].as_str().unwrap(),
                l["maxTileRow"].as_u64().unwrap(),
                l["minTileCol"].as_u64().unwrap(),
            );
            let url = |row: u64| {
                path_of(template)
                    .replace("{tileMatrix}", tm)
                    .replace("{tileRow}", &row.to_string())
                    .replace("{tileCol}", &col.to_string())
            };
            let r = s.get(&url(row));
            assert!(
                r.status == 200 || r.status == 204,
                "{}: {}",
                url(row),
                r.status
            );
            s.get(&url(row + 1)).assert_exception(404);
        }
        // The metadata the list links to.
        let me = links.iter().find(|l| l["rel"] == "self").unwrap();
        let meta = s.json(path_of(me["href"].as_str().unwrap()));
        assert_eq!(
            meta["tileMatrixSetURI"],
            format!("http://www.opengis.net/def/tilematrixset/OGC/1.0/{id}")
        );
        assert!(!meta["layers"].as_array().unwrap().is_empty(), "{list}");
    }
    for list in &lists {
        assert_eq!(
            tilesets(&s, list).len(),
            2,
            "{list}: one tileset per tile matrix set"
        );
    }
}

/// The same data in WorldCRS84Quad tiles: square degrees, two tiles across at level 0.
#[test]
fn crs84_tiles_hold_the_same_features() {
    let s = Server::sample();
    let t = s.json("/tileMatrixSets/WorldCRS84Quad");
    assert_eq!(t["crs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    assert_eq!(t["tileMatrices"][0]["matrixWidth"], 2);
    s.get("/tiles/WorldCRS84Quad/tilejson.json")
        .assert_exception(404);
    for (layer, id_property, z) in [("beni_culturali", "codice", 10u32), ("comuni", "istat", 8)] {
        let span = 180.0 / (1u64 << z) as f64;
        let (x, y) = (
            ((11.2558 + 180.0) / span) as u32,
            ((90.0 - 43.7696) / span) as u32,
        );
        let b = Rect::new(
            Coord {
                x: -180.0 + x as f64 * span,
                y: 90.0 - (y + 1) as f64 * span,
            },
            Coord {
                x: -180.0 + (x + 1) as f64 * span,
                y: 90.0 - y as f64 * span,
            },
        );
        let layers = get_tile(
            &s,
            &format!("/collections/{layer}/tiles/WorldCRS84Quad/{z}/{y}/{x}"),
        );
        let l = &layers[0];
        check_layer(l, &format!("CRS84 {layer}"));
        let tile: BTreeSet<String> = l
            .features
            .iter()
            .map(|f| f.properties[id_property].as_str().unwrap().to_string())
            .collect();
        let page = s.json(&format!(
            "/collections/{layer}/items?limit=10000&bbox={},{},{},{}",
            b.min().x,
            b.min().y,
            b.max().x,
            b.max().y
        ));
        let inside: BTreeSet<String> = page["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| geometry(&f["geometry"]).is_some_and(|g| g.intersects(&b)))
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!inside.is_empty());
        let missing: Vec<_> = inside.difference(&tile).collect();
        assert!(missing.is_empty(), "{layer}: {missing:?}");
    }
}

#[test]
fn tilejson_is_complete_and_points_here() {
    let s = Server::sample();
    for path in [
        "/tiles/WebMercatorQuad/tilejson.json",
        "/collections/comuni/tiles/WebMercatorQuad/tilejson.json",
        "/strutture/ecosistemica/tiles/WebMercatorQuad/tilejson.json",
        "/tiles/WebMercatorQuad/tilejson.json?collections=province,comuni",
    ] {
        let j = s.json(path);
        assert_eq!(j["tilejson"], "3.0.0");
        let tiles = j["tiles"].as_array().unwrap();
        let t = tiles[0].as_str().unwrap();
        assert!(t.starts_with(&format!("http://{}/", s.addr)), "{t}");
        assert!(
            t.contains("{z}") && t.contains("{x}") && t.contains("{y}"),
            "{t}"
        );
        let (min, max) = (
            j["minzoom"].as_u64().unwrap(),
            j["maxzoom"].as_u64().unwrap(),
        );
        assert!(min <= max && max <= 30);
        for l in j["vector_layers"].as_array().unwrap() {
            assert!(l["id"].is_string());
            assert!(
                l["fields"]
                    .as_object()
                    .unwrap()
                    .values()
                    .all(Value::is_string)
            );
            assert!(l["minzoom"].as_u64().unwrap() >= min && l["maxzoom"].as_u64().unwrap() <= max);
        }
        let b: Vec<f64> = j["bounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(b[0] < b[2] && b[1] < b[3]);
        let c = j["center"].as_array().unwrap();
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!(b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3]);
        // Every template answers.
        let (x, y) = tile_of(8, lon, lat);
        let url = path_of(t)
            .replace("{z}", "8")
            .replace("{x}", &x.to_string())
            .replace("{y}", &y.to_string());
        let r = s.get(&url);
        assert!(r.status == 200 || r.status == 204, "{url}: {}", r.status);
    }
    let j = s.json("/tiles/WebMercatorQuad/tilejson.json?collections=province,comuni");
    let ids: Vec<&str> = j["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["province", "comuni"]);
    assert!(
        j["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("?collections=province%2Ccomuni")
    );
}

/// Tiles of every sample layer at several zooms over Tuscany, decoded and checked.
#[test]
fn tiles_decode_valid_at_every_zoom() {
    let s = Server::sample();
    let collections = s.json("/collections");
    let ids: Vec<String> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut features = 0;
    for z in [5u32, 7, 9, 11, 13] {
        // A few tiles around Firenze, Pisa and Grosseto.
        for (lon, lat) in [(11.2558, 43.7696), (10.4017, 43.7228), (11.1136, 42.7635)] {
            let (x, y) = tile_of(z, lon, lat);
            let layers = get_tile(&s, &format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
            for l in &layers {
                assert!(ids.contains(&l.name), "{}", l.name);
                check_layer(l, &format!("{z}/{y}/{x} {}", l.name));
                features += l.features.len();
            }
            let names: BTreeSet<&str> = layers.iter().map(|l| l.name.as_str()).collect();
            assert_eq!(names.len(), layers.len(), "layer names are unique");
            if z <= 9 {
                assert!(
                    names.contains("comuni") && names.contains("province"),
                    "{z}: {names:?}"
                );
            }
        }
    }
    assert!(features > 1000, "{features}");
}

/// A comune cut by a tile border is in both tiles, and both halves reach into the buffer.
#[test]
fn features_across_a_border_are_on_both_sides() {
    let s = Server::sample();
    let z = 10;
    // Firenze's comune (048017) is larger than a z10 tile is wide around it.
    let (x, y) = tile_of(z, 11.2558, 43.7696);
    let mut seen = Vec::new();
    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1)] {
        let (tx, ty) = ((x as i64 + dx) as u32, (y as i64 + dy) as u32);
        let layers = get_tile(
            &s,
            &format!("/collections/comuni/tiles/WebMercatorQuad/{z}/{ty}/{tx}"),
        );
        let l = layers.iter().find(|l| l.name == "comuni").expect("comuni");
        let f = l
            .features
            .iter()
            .find(|f| f.properties["istat"] == "048017");
        seen.push(f.is_some());
        if let Some(f) = f {
            let touches_border = f
                .parts
                .iter()
                .flatten()
                .any(|p| p[0] <= 0 || p[0] >= EXTENT || p[1] <= 0 || p[1] >= EXTENT);
            assert!(touches_border, "Firenze spans more than one tile at z{z}");
        }
    }
    assert!(seen.iter().filter(|s| **s).count() >= 2, "{seen:?}");
}

/// A tile holds the features the items endpoint returns for the tile's bbox, and nothing
/// beyond its buffer.
#[test]
fn tiles_agree_with_the_features_api() {
    let s = Server::sample();
    // Layers with string ids carry them as a property (`codice`, `istat`): MVT ids are integers.
    for (layer, id_property, z, lon, lat) in [
        ("beni_culturali", "codice", 11u32, 11.2558, 43.7696),
        ("beni_culturali", "codice", 9, 10.4017, 43.7228),
        ("reticolo_idrografico", "", 12, 11.2558, 43.7696),
        ("comuni", "istat", 9, 11.2558, 43.7696),
    ] {
        let (x, y) = tile_of(z, lon, lat);
        let b = tile_bounds(z, x, y);
        let items = |r: Rect<f64>| -> BTreeSet<String> {
            let page = s.json(&format!(
                "/collections/{layer}/items?limit=10000&bbox={},{},{},{}",
                r.min().x,
                r.min().y,
                r.max().x,
                r.max().y
            ));
            page["features"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    // Whole-tile clipping drops what only touches the buffer's outer edge.
                    geometry(&f["geometry"]).is_some_and(|g| g.intersects(&r))
                })
                .map(|f| match &f["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        };
        let inside = items(b);
        let pad = b.width() * BUFFER as f64 / EXTENT as f64;
        let outer = items(tessera::crs::grow(b, pad));
        let layers = get_tile(
            &s,
            &format!("/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
        );
        let tile: BTreeSet<String> = layers
            .iter()
            .flat_map(|l| &l.features)
            .map(|f| match f.id {
                Some(id) => id.to_string(),
                None => f.properties[id_property].as_str().unwrap().to_string(),
            })
            .collect();
        assert!(
            !inside.is_empty(),
            "{layer} {z}/{y}/{x}: pick a tile with data"
        );
        let missing: Vec<_> = inside.difference(&tile).collect();
        assert!(
            missing.is_empty(),
            "{layer} {z}/{y}/{x}: in the bbox but not in the tile: {missing:?}"
        );
        let extra: Vec<_> = tile.difference(&outer).collect();
        assert!(
            extra.is_empty(),
            "{layer} {z}/{y}/{x}: in the tile but beyond its buffer: {extra:?}"
        );
    }
}

#[test]
fn composite_tilesets_hold_their_layers() {
    let s = Server::sample();
    let (x, y) = tile_of(8, 11.2558, 43.7696);
    let names =
        |path: &str| -> Vec<String> { get_tile(&s, path).into_iter().map(|l| l.name).collect() };
    assert_eq!(
        names(&format!(
            "/tiles/WebMercatorQuad/8/{y}/{x}?collections=province,comuni"
        )),
        ["province", "comuni"]
    );
    let base = names(&format!("/strutture/base/tiles/WebMercatorQuad/8/{y}/{x}"));
    assert_eq!(base, ["comuni", "province"]);
    let idro = names(&format!(
        "/strutture/idro_geomorfologica/tiles/WebMercatorQuad/8/{y}/{x}"
    ));
    assert!(
        idro.contains(&"reticolo_idrografico".to_string()) && !idro.contains(&"comuni".to_string()),
        "{idro:?}"
    );
    let all = names(&format!("/tiles/WebMercatorQuad/8/{y}/{x}"));
    assert!(all.len() >= 6, "{all:?}");
}

#[test]
fn empty_tiles_inside_the_limits_are_204() {
    let s = Server::sample();
    // Between the coast and the islands the comuni layer's extent has open sea.
    let sets = tilesets(&s, "/collections/comuni/tiles");
    let l9 = sets[0]["tileMatrixSetLimits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["tileMatrix"] == "9")
        .unwrap()
        .clone();
    let mut empty = 0;
    for row in l9["minTileRow"].as_u64().unwrap()..=l9["maxTileRow"].as_u64().unwrap() {
        let col = l9["minTileCol"].as_u64().unwrap();
        let r = s.get(&format!(
            "/collections/comuni/tiles/WebMercatorQuad/9/{row}/{col}"
        ));
        match r.status {
            204 => {
                empty += 1;
                assert!(r.body.is_empty());
                assert!(r.header("cache-control").unwrap().contains("max-age"));
            }
            200 => {}
            other => panic!("{other}"),
        }
    }
    assert!(empty > 0, "the westernmost column at z9 is mostly sea");
}

#[test]
fn bad_tile_requests_are_4xx_with_a_body() {
    let s = Server::sample();
    let (x, y) = tile_of(8, 11.2558, 43.7696);
    for (path, status) in [
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/31/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/25/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/-1/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/abc/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/08/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/{y}/256"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/999999999999/{x}"),
            400,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/-3/{x}"),
            400,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/{y}/x"),
            400,
        ),
        (
            "/collections/comuni/tiles/WebMercatorQuad/8/0/0".to_string(),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/17/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/comuni/tiles/WorldCRS84Quad/8/{y}/{x}"),
            404,
        ),
        (
            format!("/collections/nessuna/tiles/WebMercatorQuad/8/{y}/{x}"),
            404,
        ),
        ("/collections/nessuna/tiles".to_string(), 404),
        ("/strutture/idraulica/tiles".to_string(), 404),
        ("/tileMatrixSets/GoogleCRS84Quad".to_string(), 404),
        (
            format!("/tiles/WebMercatorQuad/8/{y}/{x}?collections=comuni,nessuna"),
            400,
        ),
        (
            format!("/tiles/WebMercatorQuad/8/{y}/{x}?collections=comuni,comuni"),
            400,
        ),
        (
            format!("/tiles/WebMercatorQuad/8/{y}/{x}?collections="),
            400,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/{y}/{x}?collections=comuni"),
            400,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/{y}/{x}?f=png"),
            400,
        ),
        (
            format!("/collections/comuni/tiles/WebMercatorQuad/8/{y}/{x}?zoom=3"),
            400,
        ),
        ("/tiles/WebMercatorQuad?f=xml".to_string(), 400),
    ] {
        s.get(&path).assert_exception(status);
    }
}

#[test]
fn tiles_are_served_compressed_with_validators() {
    let s = Server::sample();
    let (x, y) = tile_of(8, 11.2558, 43.7696);
    let path = format!("/collections/comuni/tiles/WebMercatorQuad/8/{y}/{x}");
    let plain = s.get(&path);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("cache-control"), Some("public, max-age=3600"));
    assert!(
        plain
            .header("vary")
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let gz = s.get_with(&path, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain.body, "the same tile either way");
    assert_ne!(
        gz.header("etag"),
        plain.header("etag"),
        "one ETag per coding"
    );
    let etag = gz.header("etag").unwrap().to_string();
    let again = s.get_with(
        &path,
        &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let head = s.request("HEAD", &path, &[("Accept-Encoding", "gzip")]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    assert_eq!(
        head.header("content-length").unwrap(),
        gz.body.len().to_string()
    );
}

#[test]
fn gdal_reads_a_tile() {
    common::require_tool("ogrinfo");
    let s = Server::sample();
    let (x, y) = tile_of(8, 11.2558, 43.7696);
    let url = s.url(&format!(
        "/tiles/WebMercatorQuad/8/{y}/{x}?collections=comuni"
    ));
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so", &format!("MVT:{url}")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Layer name: comuni"), "{text}");
    let count: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mine = get_tile(
        &s,
        &format!("/tiles/WebMercatorQuad/8/{y}/{x}?collections=comuni"),
    );
    assert_eq!(count, mine[0].features.len() as u64);
    // The README's form, which Debian's GDAL 3.6 opens: the dataset tile at 8/93/136.
    let readme = s.url("/tiles/WebMercatorQuad/8/93/136");
    let out = std::process::Command::new("ogrinfo")
        .args([
            "-ro",
            "-al",
            "-so",
            &format!("MVT:/vsicurl?url={readme}&use_head=no"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Layer name: comuni"), "{text}");
    assert!(text.contains("istat: String"), "{text}");
}

#[test]
fn openapi_declares_the_tile_resources() {
    let s = Server::sample();
    let doc = s.json("/api");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/tileMatrixSets",
        "/tileMatrixSets/{tileMatrixSetId}",
        "/tiles",
        "/tiles/{tileMatrixSetId}",
        "/tiles/{tileMatrixSetId}/tilejson.json",
        "/strutture/{struttura}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/collections/comuni/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    ] {
        assert!(paths.contains_key(p), "{p} not declared");
    }
    let tile = &doc["paths"]["/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]["get"];
    assert!(tile["operationId"].as_str().unwrap().ends_with(".getTile"));
    for code in ["200", "204", "400", "404", "503"] {
        assert!(tile["responses"][code].is_object(), "{code}");
    }
    let names: Vec<String> = tile["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match p["$ref"].as_str() {
            Some(r) => r.rsplit('/').next().unwrap().to_string(),
            None => p["name"].as_str().unwrap().to_string(),
        })
        .collect();
    for n in [
        "tileMatrixSetId",
        "tileMatrix",
        "tileRow",
        "tileCol",
        "f",
        "collections",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
}

/// A layer configured with a small budget, a zoom range and per-zoom properties.
fn budget_config(extra_server: &str, tiles: &str) -> std::path::PathBuf {
    let dir = common::temp_dir();
    let data = common::repo().join("sample-data/comuni_toscana.fgb");
    let text = format!(
        "[server]\n{extra_server}\n{}\n[layers.tiles]\n{tiles}\n",
        common::layer_toml(
            "comuni",
            &data,
            r#"struttura = ["base"], stato = "di_fatto""#,
            r#"id_property = "istat""#
        )
    );
    let p = dir.join("tessera.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Bounding-box area (degrees) and Web Mercator area of each comune that shows in the tile
/// (over a few pixels of it), and whether the comune lies wholly inside the tile.
fn comuni_around(s: &Server, z: u32, x: u32, y: u32, key: &str) -> Vec<(String, f64, f64, bool)> {
    let b = tile_bounds(z, x, y);
    // The buffer is a fraction of the tile on each axis (the tile is square in Mercator).
    let (px, py) = (
        b.width() * BUFFER as f64 / EXTENT as f64,
        b.height() * BUFFER as f64 / EXTENT as f64,
    );
    let page = s.json(&format!(
        "/collections/comuni/items?limit=10000&bbox={},{},{},{}",
        b.min().x - px,
        b.min().y - py,
        b.max().x + px,
        b.max().y + py
    ));
    let merc = |(lon, lat): (f64, f64)| {
        let r = 6_378_137.0f64;
        (
            lon.to_radians() * r,
            (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .ln()
                * r,
        )
    };
    page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut c = Vec::new();
            common::geo::coords(&f["geometry"]["coordinates"], &mut c);
            let (x0, x1) = c
                .iter()
                .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
            let (y0, y1) = c
                .iter()
                .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
            let g = geometry(&f["geometry"]).unwrap();
            let projected = geo::MapCoords::map_coords(&g, |c| {
                let (x, y) = merc((c.x, c.y));
                Coord { x, y }
            });
            let area = geo::Area::unsigned_area(&projected);
            let inside = x0 >= b.min().x && x1 <= b.max().x && y0 >= b.min().y && y1 <= b.max().y;
            let (t0, t1) = (merc((b.min().x, b.min().y)), merc((b.max().x, b.max().y)));
            let tile =
                Rect::new(Coord { x: t0.0, y: t0.1 }, Coord { x: t1.0, y: t1.1 }).to_polygon();
            let shown = match &projected {
                geo_types::Geometry::MultiPolygon(m) => {
                    geo::Area::unsigned_area(&geo::BooleanOps::intersection(m, &tile))
                }
                geo_types::Geometry::Polygon(p) => {
                    geo::Area::unsigned_area(&geo::BooleanOps::intersection(p, &tile))
                }
                _ => 0.0,
            };
            let pixel = (t1.0 - t0.0) / 256.0;
            let name = f["properties"][key].as_str().unwrap().to_string();
            (shown > 4.0 * pixel * pixel).then_some((name, (x1 - x0) * (y1 - y0), area, inside))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

#[test]
fn the_tile_budget_holds() {
    let config = budget_config(
        "",
        r#"
minzoom = 4
maxzoom = 10
properties = ["nome"]
max_features = 30

[[layers.tiles.zoom]]
from = 4
to = 6
properties = ["istat"]
max_features = 100000
max_bytes = 4096
"#,
    );
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    for z in [4u32, 5, 6, 7, 8, 9, 10] {
        let (x, y) = tile_of(z, 11.2558, 43.7696);
        let r = s.get(&format!(
            "/collections/comuni/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        assert_eq!(r.status, 200, "z{z}");
        let layers = mvt::decode(&r.body);
        let l = &layers[0];
        check_layer(l, &format!("z{z}"));
        let key = if z <= 6 { "istat" } else { "nome" };
        let own: Vec<&String> = l
            .keys
            .iter()
            .filter(|k| !k.starts_with("tessera:"))
            .collect();
        assert_eq!(own, [key], "z{z}");
        // Stand-ins for what the budget leaves out carry a count, not the comune's properties.
        let kept: BTreeSet<String> = l
            .features
            .iter()
            .filter(|f| !f.properties.contains_key("tessera:count"))
            .map(|f| f.properties[key].as_str().unwrap().to_string())
            .collect();
        let around = comuni_around(&s, z, x, y, key);
        let (mut smallest_kept, mut largest_left) = (f64::MAX, 0.0f64);
        if z <= 6 {
            // The byte budget: the smallest outlines go first.
            assert!(r.body.len() <= 4096, "z{z}: {} bytes", r.body.len());
            if z == 6 {
                assert!(kept.len() < around.len(), "z{z}: the budget should bind");
            }
            for (name, _, area, inside) in &around {
                if *inside && kept.contains(name) {
                    smallest_kept = smallest_kept.min(*area);
                } else if *inside {
                    largest_left = largest_left.max(*area);
                }
            }
            // Simplified and snapped outlines are a few percent off their true area; at z4-5 a
            // tile unit is over 300 m and the ranking is too coarse to compare.
            if z == 6 {
                assert!(
                    smallest_kept >= 0.9 * largest_left,
                    "z{z}: {smallest_kept} < {largest_left}"
                );
            }
        } else {
            // The feature budget: the largest boxes stay.
            assert!(
                l.features.len() <= 30,
                "z{z}: {} features",
                l.features.len()
            );
            for (name, bbox, _, _) in &around {
                if kept.contains(name) {
                    smallest_kept = smallest_kept.min(*bbox);
                } else {
                    largest_left = largest_left.max(*bbox);
                }
            }
            assert!(
                smallest_kept >= largest_left,
                "z{z}: {smallest_kept} < {largest_left}"
            );
        }
    }
    let (x, y) = tile_of(11, 11.2558, 43.7696);
    s.get(&format!(
        "/collections/comuni/tiles/WebMercatorQuad/11/{y}/{x}"
    ))
    .assert_exception(404);
    let (x, y) = tile_of(3, 11.2558, 43.7696);
    s.get(&format!(
        "/collections/comuni/tiles/WebMercatorQuad/3/{y}/{x}"
    ))
    .assert_exception(404);
    let tj = s.json("/collections/comuni/tiles/WebMercatorQuad/tilejson.json");
    assert_eq!(
        (tj["minzoom"].as_u64(), tj["maxzoom"].as_u64()),
        (Some(4), Some(10))
    );
    let limits = tilesets(&s, "/collections/comuni/tiles")[0]["tileMatrixSetLimits"].clone();
    let levels: Vec<&str> = limits
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["tileMatrix"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["4", "5", "6", "7", "8", "9", "10"]);
}

#[test]
fn tile_settings_are_checked_at_start_up() {
    for (tiles, expected) in [
        ("minzoom = 9\nmaxzoom = 4", "layers[0].tiles.maxzoom"),
        ("maxzoom = 31", "layers[0].tiles.maxzoom"),
        (
            "properties = [\"nome\", \"abitanti\"]",
            "`abitanti` is not a property",
        ),
        ("extent = 100", "layers[0].tiles.extent"),
        ("buffer = 5000", "layers[0].tiles.buffer"),
        ("max_bytes = 10", "layers[0].tiles.max_bytes"),
        ("simplify = -1", "layers[0].tiles.simplify"),
        ("colore = \"rosso\"", "colore"),
        (
            "[[layers.tiles.zoom]]\nfrom = 8\nto = 2",
            "layers[0].tiles.zoom[0]",
        ),
    ] {
        let config = budget_config("", tiles);
        let err = match Server::try_start(&["--config", config.to_str().unwrap()]) {
            Ok(_) => panic!("`{tiles}` was accepted"),
            Err(e) => e,
        };
        assert!(err.contains(expected), "`{tiles}`: {err}");
    }
}

#[test]
fn the_cache_size_comes_from_the_environment() {
    let config = budget_config("tile_cache_mb = 64", "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["check", "--config", config.to_str().unwrap()])
        .env("TESSERA_TILE_CACHE_MB", "molti")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TESSERA_TILE_CACHE_MB"), "{err}");
    // With the cache off, tiles are rendered on every request, the same each time.
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TILE_CACHE_MB", "0")],
    )
    .unwrap();
    let (x, y) = tile_of(9, 11.2558, 43.7696);
    let path = format!("/collections/comuni/tiles/WebMercatorQuad/9/{y}/{x}");
    let (a, b) = (s.get(&path), s.get(&path));
    assert_eq!(a.status, 200);
    assert_eq!(a.body, b.body);
    assert_eq!(a.header("etag"), b.header("etag"));
}

/// Many clients asking at once for tiles nobody asked for before all get the same tile.
#[test]
fn concurrent_requests_for_one_new_tile_agree() {
    let s = std::sync::Arc::new(Server::sample());
    let (x, y) = tile_of(10, 11.2558, 43.7696);
    let path = format!("/tiles/WebMercatorQuad/10/{y}/{x}");
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let (s, path) = (s.clone(), path.clone());
            std::thread::spawn(move || {
                let gzip = if i % 2 == 0 { "gzip" } else { "identity" };
                let r = s.get_with(&path, &[("Accept-Encoding", gzip)]);
                assert_eq!(r.status, 200);
                let mut body = r.body.clone();
                if r.header("content-encoding") == Some("gzip") {
                    body.clear();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(&r.body[..]),
                        &mut body,
                    )
                    .unwrap();
                }
                body
            })
        })
        .collect();
    let bodies: Vec<Vec<u8>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every client got the same tile"
    );
    assert!(!mvt::decode(&bodies[0]).is_empty());
}

/// GDAL 3.12's OGC API driver (the pyogrio wheel in the test venv) reads the collection's
/// tiles through the OGC API - Tiles resources alone: tilesets, tileset, matrix set, tiles. It
/// picks WorldCRS84Quad (with WebMercatorQuad it looks for the collection's CRS84 extent in
/// metres and finds tiles at level 0 only: a limit of the driver, not of the tiles).
#[test]
fn gdal_ogcapi_driver_reads_the_tiles() {
    let s = Server::sample();
    let script = r#"
import sys, json, pyogrio, pyogrio.raw as raw
url = "OGCAPI:" + sys.argv[1] + "/collections/comuni"
out = {"gdal": pyogrio.__gdal_version_string__, "layers": [str(l[0]) for l in pyogrio.list_layers(url)]}
meta, _, geometry, fields = raw.read(url, layer=8)
istat = fields[list(meta["fields"]).index("istat")]
out.update(crs=meta["crs"], features=len(geometry), istat=sorted(set(str(v) for v in istat)))
print(json.dumps(out))
"#;
    let out = std::process::Command::new(common::venv_python())
        .args(["-c", script, &s.url("")])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "GDAL's OGCAPI driver failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["layers"].as_array().unwrap().len(),
        17,
        "zoom levels 0 to 16: {v}"
    );
    assert!(v["crs"].as_str().unwrap().contains("CRS84"), "{v}");
    // The comuni GDAL read at level 8 are those of the tiles inside the limits, decoded here.
    let sets = tilesets(&s, "/collections/comuni/tiles");
    let crs84 = sets
        .iter()
        .find(|t| t["tileMatrixSetId"] == "WorldCRS84Quad")
        .unwrap();
    let l8 = crs84["tileMatrixSetLimits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["tileMatrix"] == "8")
        .unwrap()
        .clone();
    let mut mine = BTreeSet::new();
    for row in l8["minTileRow"].as_u64().unwrap()..=l8["maxTileRow"].as_u64().unwrap() {
        for col in l8["minTileCol"].as_u64().unwrap()..=l8["maxTileCol"].as_u64().unwrap() {
            for l in get_tile(
                &s,
                &format!("/collections/comuni/tiles/WorldCRS84Quad/8/{row}/{col}"),
            ) {
                mine.extend(
                    l.features
                        .iter()
                        .map(|f| f.properties["istat"].as_str().unwrap().to_string()),
                );
            }
        }
    }
    let gdal: BTreeSet<String> = v["istat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect();
    assert_eq!(gdal, mine);
    assert!(mine.len() > 250, "{}", mine.len());
    assert!(v["features"].as_u64().unwrap() >= mine.len() as u64);
}
