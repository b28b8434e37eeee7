//! Output without waste: coordinates at a useful precision, an id written once in a tile, and
//! a quick look at a file that takes its `id` column as the feature id.

mod common;

use common::{Server, fgb, mvt, repo, temp_dir};
use flatgeobuf::GeometryType;
use geo_types::{Geometry, Point};
use geozero::{ColumnValue, PropertyProcessor};
use std::path::Path;

/// Decimals of every number inside the `coordinates` arrays of a GeoJSON text.
fn coordinate_decimals(body: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in body.split("\"coordinates\":").skip(1) {
        let end = part.find('}').unwrap_or(part.len());
        for number in part[..end].split(['[', ']', ',']) {
            if number.is_empty() {
                continue;
            }
            number.parse::<f64>().expect("a coordinate");
            out.push(number.split_once('.').map_or(0, |(_, d)| d.len()));
        }
    }
    out
}

fn server_with(settings: &str, extra: &[&str]) -> Server {
    let config = temp_dir().join("tessera.toml");
    std::fs::write(&config, format!("[server]\n{settings}\n")).unwrap();
    let mut args = vec!["--config", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

#[test]
fn coordinates_keep_seven_decimals_or_as_configured() {
    let comuni = repo().join("sample-data/comuni_toscana.fgb");
    let s = Server::start(&[comuni.to_str().unwrap()]);
    let body = s.get("/collections/comuni_toscana/items?limit=20").text();
    let decimals = coordinate_decimals(&body);
    assert!(decimals.len() > 1000, "{} coordinates", decimals.len());
    assert_eq!(decimals.iter().max(), Some(&7), "about a centimetre");

    let coarse = server_with("coordinate_decimals = 3", &[comuni.to_str().unwrap()]);
    let rough = coarse
        .get("/collections/comuni_toscana/items?limit=20")
        .text();
    assert_eq!(coordinate_decimals(&rough).iter().max(), Some(&3));
    assert!(rough.len() < body.len() * 3 / 4, "shorter bodies");
    // The same features, each coordinate within half a unit of the third decimal.
    let (fine, rough): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&body).unwrap(),
        serde_json::from_str(&rough).unwrap(),
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for f in fine["features"].as_array().unwrap() {
        common::geo::coords(&f["geometry"]["coordinates"], &mut a);
    }
    for f in rough["features"].as_array().unwrap() {
        common::geo::coords(&f["geometry"]["coordinates"], &mut b);
    }
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(&b) {
        assert!((p.0 - q.0).abs() <= 0.0005 + 1e-7 && (p.1 - q.1).abs() <= 0.0005 + 1e-7);
    }

    let bad = temp_dir().join("tessera.toml");
    std::fs::write(&bad, "[server]\ncoordinate_decimals = 13\n").unwrap();
    let err = Server::try_start(&["--config", bad.to_str().unwrap()])
        .err()
        .expect("13 decimals are refused");
    assert!(err.contains("coordinate_decimals"), "{err}");
}

/// Points around Firenze with an integer `id` column (`ids`) and a name.
fn write_points(path: &Path, ids: &[i64]) {
    let mut w = fgb::writer("punti", GeometryType::Point, 4326);
    w.add_column("id", flatgeobuf::ColumnType::Long, |_, _| {});
    w.add_column("nome", flatgeobuf::ColumnType::String, |_, _| {});
    for (i, id) in ids.iter().enumerate() {
        let p = Point::new(11.255 + i as f64 * 0.001, 43.77);
        w.add_feature_geom(Geometry::Point(p), |f| {
            f.property(0, "id", &ColumnValue::Long(*id)).unwrap();
            f.property(1, "nome", &ColumnValue::String(&format!("punto {i}")))
                .unwrap();
        })
        .unwrap();
    }
    w.write(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
}

/// The features of the z14 tile over the points, by MVT id.
fn tile_features(s: &Server, layer: &str) -> Vec<mvt::Feature> {
    // The z14 tile over (11.255..11.259, 43.77).
    let r = s.get(&format!(
        "/collections/{layer}/tiles/WebMercatorQuad/14/5972/8704"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let mut layers = mvt::decode(&r.body);
    assert_eq!(layers.len(), 1);
    layers.remove(0).features
}

#[test]
fn a_unique_id_column_is_the_feature_id_and_written_once_in_tiles() {
    let dir = temp_dir();
    let unique = dir.join("unici.fgb");
    let repeated = dir.join("ripetuti.fgb");
    let ids = [101, 7, 5000, 42, 3];
    write_points(&unique, &ids);
    write_points(&repeated, &[1, 2, 2, 3, 4]);
    let s = Server::start(&[unique.to_str().unwrap(), repeated.to_str().unwrap()]);

    // The quick look takes the unique column as the id: items, a feature by id, tiles.
    let page = s.json("/collections/unici/items");
    let served: Vec<i64> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["id"], f["properties"]["id"], "{f}");
            f["id"].as_i64().unwrap()
        })
        .collect();
    let mut want = ids.to_vec();
    let mut got = served.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(
        s.json("/collections/unici/items/5000")["properties"]["nome"],
        "punto 2"
    );
    s.get("/collections/unici/items/6").assert_exception(404);

    let features = tile_features(&s, "unici");
    assert_eq!(features.len(), ids.len());
    for f in &features {
        assert!(
            ids.contains(&(f.id.expect("an MVT id") as i64)),
            "{:?}",
            f.id
        );
        assert!(!f.properties.contains_key("id"), "the id only once");
        assert!(f.properties.contains_key("nome"));
    }
    // TileJSON does not list it as a property either.
    let tj = s.json("/collections/unici/tiles/WebMercatorQuad/tilejson.json");
    let fields = &tj["vector_layers"][0]["fields"];
    assert!(
        fields.get("nome").is_some() && fields.get("id").is_none(),
        "{fields}"
    );

    // Repeated values are no id: features are numbered by position, the column stays a property.
    let page = s.json("/collections/ripetuti/items?limit=10");
    let ids: Vec<i64> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    let features = tile_features(&s, "ripetuti");
    assert_eq!(features.len(), 5);
    assert!(features.iter().all(|f| f.properties.contains_key("id")));
}
