//! Zoomed out, data stays on the map: features too small to draw are counted into stand-ins
//! (`tessera:count`, `tessera:coverage`), every feature is in a tile once, as itself or
//! counted, and no tile goes over its budget.

mod common;
use common::geo::tile_of;
use common::{Server, mvt, require_tool};
use flatgeobuf::GeometryType;
use geo_types::{Geometry, LineString, Polygon};
use geozero::{ColumnValue, PropertyProcessor};
use serde_json::Value;
use std::collections::BTreeMap;

/// The default byte budget of a layer (tippecanoe's).
const MAX_BYTES: usize = 500_000;

/// A tile's layers by name (none for a 204), checked to be within the budget.
fn layers(s: &Server, path: &str) -> BTreeMap<String, mvt::Layer> {
    let r = s.get(path);
    match r.status {
        204 => BTreeMap::new(),
        200 => {
            let bad = mvt::violations(&r.body);
            assert!(bad.is_empty(), "{path}: {bad:?}");
            let layers: BTreeMap<String, mvt::Layer> = (mvt::decode(&r.body).into_iter())
                .map(|l| (l.name.clone(), l))
                .collect();
            // The budget is each layer's.
            assert!(
                r.body.len() <= MAX_BYTES * layers.len().max(1),
                "{path}: {} bytes",
                r.body.len()
            );
            layers
        }
        other => panic!("{path}: {other} {}", r.text()),
    }
}

/// The features a layer holds: each drawn one counts 1, each stand-in its count. Stand-ins
/// are checked on the way.
fn represented(l: &mvt::Layer) -> u64 {
    let mut n = 0;
    for f in &l.features {
        match f.properties.get("tessera:count") {
            None => n += 1,
            Some(c) => {
                let count = c.as_u64().expect("an integer count");
                assert!(count >= 1, "{}: a stand-in for nothing", l.name);
                let coverage = f.properties["tessera:coverage"].as_f64().unwrap();
                assert!(coverage > 0.0 && coverage <= 1.0, "coverage {coverage}");
                assert_eq!(f.id, None, "a stand-in is no feature of the layer");
                n += count;
            }
        }
    }
    n
}

fn stand_ins(l: &mvt::Layer) -> Vec<&mvt::Feature> {
    (l.features.iter())
        .filter(|f| f.properties.contains_key("tessera:count"))
        .collect()
}

#[test]
fn every_comune_is_in_the_low_zoom_tiles() {
    let s = Server::sample();
    for z in 0..=3u32 {
        // Tuscany lies in one tile down to z3.
        let (x, y) = tile_of(z, 11.0, 43.4);
        let tile = layers(
            &s,
            &format!("/collections/comuni/tiles/WebMercatorQuad/{z}/{y}/{x}"),
        );
        let comuni = &tile["comuni"];
        assert_eq!(represented(comuni), 273, "z{z}");
        let squares = stand_ins(comuni);
        assert!(
            !squares.is_empty(),
            "z{z}: the comuni are under a pixel here"
        );
        for f in squares {
            // A square of whole pixels (16 tile units a pixel).
            assert_eq!(f.kind, 3);
            let ring = &f.parts[0];
            assert_eq!(ring.len(), 4, "{ring:?}");
            let side = (ring[1][0] - ring[0][0])
                .abs()
                .max((ring[1][1] - ring[0][1]).abs());
            assert!(side >= 16 && side % 16 == 0, "side {side}");
            assert!(mvt::area(ring) > 0.0, "an exterior ring");
        }
    }
    // Closer, the comuni are drawn as themselves.
    let (x, y) = tile_of(9, 11.2558, 43.7696);
    let tile = layers(
        &s,
        &format!("/collections/comuni/tiles/WebMercatorQuad/9/{y}/{x}"),
    );
    assert!(stand_ins(&tile["comuni"]).is_empty());
    // And the whole dataset's z0 tile holds every layer, not only the points.
    let names: Vec<String> = layers(&s, "/tiles/WebMercatorQuad/0/0/0")
        .into_keys()
        .collect();
    let collections = s.json("/collections");
    for c in collections["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        assert!(
            names.iter().any(|n| n == id),
            "{id} missing at z0: {names:?}"
        );
    }
}

/// A point of a collection's data: its first feature's first coordinate.
fn a_point_of(s: &Server, collection: &str) -> (f64, f64) {
    let page = s.json(&format!("/collections/{collection}/items?limit=1"));
    let mut coords = Vec::new();
    common::geo::coords(&page["features"][0]["geometry"]["coordinates"], &mut coords);
    coords[0]
}

#[test]
fn tiles_hold_data_at_every_zoom_they_advertise() {
    let s = Server::sample();
    let collections = s.json("/collections");
    let mut checked = 0;
    for c in collections["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let tj = s.json(&format!(
            "/collections/{id}/tiles/WebMercatorQuad/tilejson.json"
        ));
        let (min, max) = (
            tj["minzoom"].as_u64().unwrap(),
            tj["maxzoom"].as_u64().unwrap(),
        );
        assert_eq!(min, 0, "{id}");
        let (lon, lat) = a_point_of(&s, id);
        for z in min as u32..=max as u32 {
            let (x, y) = tile_of(z, lon, lat);
            let tile = layers(
                &s,
                &format!("/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
            );
            let l = tile
                .get(id)
                .unwrap_or_else(|| panic!("{id} z{z}: empty over its own data"));
            // Checks the stand-ins it holds, if any.
            represented(l);
            checked += 1;
        }
    }
    assert!(checked >= 8 * 17, "{checked}");
    // The same for the tiles of each struttura and of the whole dataset, over a point of
    // their first layer.
    let strutture = s.json("/strutture");
    let mut sets: Vec<(String, String)> = strutture["strutture"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|st| {
            let first = st["stati"]
                .as_array()?
                .iter()
                .find_map(|g| g["collections"][0]["id"].as_str())?;
            Some((
                format!("/strutture/{}", st["id"].as_str()?),
                first.to_string(),
            ))
        })
        .collect();
    sets.push((String::new(), "comuni".to_string()));
    for (prefix, layer) in sets {
        let tj = s.json(&format!("{prefix}/tiles/WebMercatorQuad/tilejson.json"));
        let (lon, lat) = a_point_of(&s, &layer);
        for z in tj["minzoom"].as_u64().unwrap() as u32..=tj["maxzoom"].as_u64().unwrap() as u32 {
            let (x, y) = tile_of(z, lon, lat);
            let tile = layers(&s, &format!("{prefix}/tiles/WebMercatorQuad/{z}/{y}/{x}"));
            assert!(tile.contains_key(&layer), "{prefix} z{z}: no {layer}");
        }
    }
}

/// `n` squares of 10–40 m, three quarters packed around Firenze, the rest spread over
/// Tuscany, in CRS84.
fn small_squares(n: usize) -> Vec<Polygon<f64>> {
    let mut seed = 0x5eed_u64;
    let mut unit = move || {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|i| {
            let (x, y) = if i % 4 != 0 {
                (11.15 + 0.2 * unit(), 43.70 + 0.15 * unit())
            } else {
                (10.0 + 2.0 * unit(), 42.6 + 1.6 * unit())
            };
            let side = (10.0 + 30.0 * unit()) / 111_000.0;
            Polygon::new(
                LineString::from(vec![
                    (x, y),
                    (x + side, y),
                    (x + side, y + side),
                    (x, y + side),
                    (x, y),
                ]),
                vec![],
            )
        })
        .collect()
}

#[test]
fn small_features_are_counted_once_as_density_within_the_budget() {
    const N: usize = 40_000;
    let dir = common::temp_dir();
    let wgs84 = dir.join("particelle.fgb");
    let mut w = common::fgb::writer("particelle", GeometryType::Polygon, 4326);
    w.add_column("n", flatgeobuf::ColumnType::Int, |_, _| {});
    for (i, p) in small_squares(N).into_iter().enumerate() {
        w.add_feature_geom(Geometry::Polygon(p), |f| {
            f.property(0, "n", &ColumnValue::Int(i as i32)).unwrap();
        })
        .unwrap();
    }
    w.write(std::io::BufWriter::new(
        std::fs::File::create(&wgs84).unwrap(),
    ))
    .unwrap();
    // The same parcels stored in Monte Mario / Gauss-Boaga: counted through the reframed grid.
    let gauss_boaga = dir.join("particelle_3003.fgb");
    let ogr = std::process::Command::new(require_tool("ogr2ogr"))
        .args([
            "-f",
            "FlatGeobuf",
            "-s_srs",
            "EPSG:4326",
            "-t_srs",
            "EPSG:3003",
        ])
        .arg(&gauss_boaga)
        .arg(&wgs84)
        .output()
        .unwrap();
    assert!(
        ogr.status.success(),
        "{}",
        String::from_utf8_lossy(&ogr.stderr)
    );
    let s = Server::start(&[wgs84.to_str().unwrap(), gauss_boaga.to_str().unwrap()]);

    for z in [3u32, 6, 7] {
        let (x0, y0) = tile_of(z, 10.0, 44.3);
        let (x1, y1) = tile_of(z, 12.1, 42.5);
        let mut totals = [0u64; 2];
        let mut densest = (0u64, 0.0f64);
        let mut per_tile: Vec<[u64; 2]> = Vec::new();
        for x in x0..=x1 {
            for y in y0..=y1 {
                let mut here = [0u64; 2];
                for (k, id) in ["particelle", "particelle_3003"].into_iter().enumerate() {
                    let tile = layers(
                        &s,
                        &format!("/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
                    );
                    let Some(l) = tile.get(id) else { continue };
                    here[k] = represented(l);
                    totals[k] += here[k];
                    if k == 0 {
                        for f in stand_ins(l) {
                            let count = f.properties["tessera:count"].as_u64().unwrap();
                            if count > densest.0 {
                                let cov = f.properties["tessera:coverage"].as_f64().unwrap();
                                densest = (count, cov);
                            }
                        }
                    }
                }
                per_tile.push(here);
            }
        }
        // Every parcel is under a pixel here: each is counted once, in one tile. Stored in
        // another CRS, a parcel's centre is placed by interpolation, which can put one a hair
        // from a tile's edge on both sides, or neither.
        assert_eq!(totals[0], N as u64, "z{z}");
        assert!(
            totals[1].abs_diff(N as u64) <= N as u64 / 1000,
            "z{z}: {totals:?}"
        );
        // And lands in the same tile.
        for [a, b] in per_tile {
            assert!(a.abs_diff(b) <= 2, "z{z}: {a} and {b} parcels in one tile");
        }
        // Packed parcels read denser than spread ones.
        assert!(densest.0 > 20 && densest.1 > 0.0, "z{z}: {densest:?}");
    }
    // Firenze's z6 pixels hold hundreds of parcels, some 6 % of their area; a pixel out in
    // the country holds one or two and little of it.
    let (x, y) = tile_of(6, 11.25, 43.77);
    let tile = layers(
        &s,
        &format!("/collections/particelle/tiles/WebMercatorQuad/6/{y}/{x}"),
    );
    let coverage = |f: &&mvt::Feature| f.properties["tessera:coverage"].as_f64().unwrap();
    let all = stand_ins(&tile["particelle"]);
    let max = all.iter().map(coverage).fold(0.0, f64::max);
    let min = all.iter().map(coverage).fold(1.0, f64::min);
    assert!(max >= 5.0 * min, "coverage from {min} to {max}");
    // TileJSON lists the stand-ins' properties, so a client can style them.
    let tj = s.json("/collections/particelle/tiles/WebMercatorQuad/tilejson.json");
    let fields: &Value = &tj["vector_layers"][0]["fields"];
    assert!(
        fields.get("tessera:count").is_some() && fields.get("tessera:coverage").is_some(),
        "{fields}"
    );
}

#[test]
fn stand_ins_can_be_turned_off() {
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    let text = common::sample_config_text();
    // The comuni without stand-ins: empty at z0, as a plain tiler would have them.
    let text = text.replacen(
        "id_property = \"istat\"\n",
        "id_property = \"istat\"\ntiles = { stand_ins = false }\n",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    assert!(!layers(&s, "/collections/province/tiles/WebMercatorQuad/0/0/0").is_empty());
    let r = s.get("/collections/comuni/tiles/WebMercatorQuad/0/0/0");
    assert_eq!(r.status, 204, "{}", r.text());
    let tj = s.json("/collections/comuni/tiles/WebMercatorQuad/tilejson.json");
    assert!(
        tj["vector_layers"][0]["fields"]
            .get("tessera:count")
            .is_none()
    );
}

/// A configuration of the comuni alone, with `tiles` under `[layers.tiles]`.
fn comuni_with(tiles: &str) -> std::path::PathBuf {
    let dir = common::temp_dir();
    let text = common::layer_toml(
        "comuni",
        &common::repo().join("sample-data/comuni_toscana.fgb"),
        r#"struttura = ["base"], stato = "di_fatto""#,
        &format!("id_property = \"istat\"\n[layers.tiles]\n{tiles}"),
    );
    let p = dir.join("tessera.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn what_the_budget_leaves_out_is_stood_in_for() {
    // Twenty features a tile: the largest comuni drawn, every other one counted.
    let config = comuni_with("max_features = 20");
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    // Tuscany lies in one tile down to z4.
    for z in [3u32, 4] {
        let (x, y) = tile_of(z, 11.0, 43.4);
        let tile = layers(
            &s,
            &format!("/collections/comuni/tiles/WebMercatorQuad/{z}/{y}/{x}"),
        );
        let l = &tile["comuni"];
        assert!(l.features.len() <= 20, "z{z}: {}", l.features.len());
        assert_eq!(represented(l), 273, "z{z}");
    }
    // A byte budget of 6 KB: outlines simplified, then the smallest stood in for.
    let config = comuni_with("max_bytes = 6000");
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    for z in [4u32, 5] {
        let (x, y) = tile_of(z, 11.0, 43.4);
        let r = s.get(&format!(
            "/collections/comuni/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        assert!(r.body.len() <= 6000, "z{z}: {} bytes", r.body.len());
        let layers = mvt::decode(&r.body);
        assert!(!stand_ins(&layers[0]).is_empty(), "z{z}: the budget binds");
        // Tuscany spans two z5 tiles: each comune is in one as itself or counted, or in both.
        assert!(represented(&layers[0]) >= 100, "z{z}");
    }
    let (x, y) = tile_of(4, 11.0, 43.4);
    let tile = layers(
        &s,
        &format!("/collections/comuni/tiles/WebMercatorQuad/4/{y}/{x}"),
    );
    assert_eq!(represented(&tile["comuni"]), 273);
}

#[test]
fn a_property_in_the_reserved_prefix_is_refused() {
    let dir = common::temp_dir();
    let file = dir.join("riservata.fgb");
    let mut w = common::fgb::writer("riservata", GeometryType::Polygon, 4326);
    w.add_column("tessera:count", flatgeobuf::ColumnType::Int, |_, _| {});
    let p = small_squares(1).remove(0);
    w.add_feature_geom(Geometry::Polygon(p), |f| {
        f.property(0, "tessera:count", &ColumnValue::Int(7))
            .unwrap();
    })
    .unwrap();
    w.write(std::io::BufWriter::new(
        std::fs::File::create(&file).unwrap(),
    ))
    .unwrap();
    let e = Server::try_start(&[file.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(e.contains("tessera:count") && e.contains("tessera:"), "{e}");
}
