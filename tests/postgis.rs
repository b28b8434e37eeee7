//! PostGIS sources against a real PostgreSQL + PostGIS (tests/common/postgis.rs starts one):
//! tables found and published, features and tiles that agree with the same data read from
//! FlatGeobuf, hostile input, a database that goes away and comes back.

mod common;
use common::postgis::cluster;
use common::{Server, mvt, repo};
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn the_harness_loads_a_layer() {
    let c = cluster();
    let url = c.database("harness");
    c.load(
        &url,
        &repo().join("sample-data/comuni_toscana.fgb"),
        "comuni",
        None,
    );
    let db = url.rsplit('/').next().unwrap();
    assert_eq!(c.psql(db, "select count(*) from comuni"), "273");
}

/// Loads the sample's comuni as table `comuni` (CRS84) and its hazard areas as
/// `pericolosita`, in Monte Mario (EPSG:3003).
fn load_samples(c: &common::postgis::Cluster, url: &str) {
    c.load(
        url,
        &repo().join("sample-data/comuni_toscana.fgb"),
        "comuni",
        None,
    );
    c.load(
        url,
        &repo().join("sample-data/pericolosita_idraulica.fgb"),
        "pericolosita",
        Some(3003),
    );
}

/// The sample's comuni in PostGIS (CRS84) and its hazard areas in Monte Mario (EPSG:3003),
/// served with no configuration from the connection string.
fn served_from_postgis() -> (Server, Server) {
    let c = cluster();
    let url = c.database("quick");
    load_samples(c, &url);
    // A table without a key is found and not published.
    let db = url.rsplit('/').next().unwrap();
    c.psql(
        db,
        "create table senza_chiave as select geom from comuni limit 3; analyze",
    );
    // A text key, columns named like tessera's own aliases, points in Monte Mario; and a
    // negative integer key.
    c.psql(
        db,
        "create table strana (codice text primary key, b int, tessera_box text, geom geometry(Point, 3003));
         insert into strana values ('a/1', 1, 'x', ST_SetSRID(ST_MakePoint(1681000, 4849000), 3003)),
                                   ('b 2', 2, 'y', ST_SetSRID(ST_MakePoint(1682000, 4850000), 3003));
         create table negativa (id int4 primary key, geom geometry(Point, 4326));
         insert into negativa values (-5, ST_SetSRID(ST_MakePoint(11.25, 43.77), 4326))",
    );
    let pg = Server::start(&[&url]);
    let files = Server::start(&[
        repo()
            .join("sample-data/comuni_toscana.fgb")
            .to_str()
            .unwrap(),
        repo()
            .join("sample-data/pericolosita_idraulica.fgb")
            .to_str()
            .unwrap(),
    ]);
    (pg, files)
}

/// Features of a page by id: properties and the geometry's coordinates.
fn by_id(page: &Value) -> BTreeMap<String, (Value, Vec<(f64, f64)>)> {
    (page["features"].as_array().unwrap().iter())
        .map(|f| {
            let mut coords = Vec::new();
            common::geo::coords(&f["geometry"]["coordinates"], &mut coords);
            (f["id"].to_string(), (f["properties"].clone(), coords))
        })
        .collect()
}

#[test]
fn postgis_tables_serve_the_same_features_and_tiles_as_the_files() {
    let (pg, files) = served_from_postgis();
    let ids: Vec<String> = (pg.json("/collections")["collections"]
        .as_array()
        .unwrap()
        .iter())
    .map(|c| c["id"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(
        ids,
        ["comuni", "negativa", "pericolosita", "strana"],
        "the keyless table is not published"
    );
    // Odd keys and names: found by key, whole-world boxes on a national CRS, tiles over them.
    assert_eq!(
        pg.json("/collections/strana/items/b%202")["properties"]["b"],
        2
    );
    let world = pg.json("/collections/strana/items?bbox=-180,-90,180,90");
    assert_eq!(world["numberMatched"], 2, "{world}");
    for z in [0u32, 8, 14] {
        // Over the point `b 2`.
        let (x, y) = common::geo::tile_of(z, 11.26134, 43.78055);
        let r = pg.get(&format!(
            "/collections/strana/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        assert_eq!(r.status, 200, "z{z}: {}", r.text());
    }
    assert_eq!(pg.json("/collections/negativa/items/-5")["id"], "-5");
    let meta = pg.json("/collections/pericolosita");
    assert_eq!(meta["metadati"]["anteprima"], true, "{meta}");

    // The comuni: same ids (the key), properties and coordinates, page after page.
    let a = pg.json("/collections/comuni/items?limit=300");
    assert_eq!(a["numberMatched"], 273);
    let b = files.json("/collections/comuni_toscana/items?limit=300");
    let (a, b) = (by_id(&a), by_id(&b));
    assert_eq!(a.len(), 273);
    for (id, (props, coords)) in &b {
        // The file's features are numbered from 0; ogr2ogr keyed the table from 1.
        let key = (id.parse::<u64>().unwrap() + 1).to_string();
        let (p, c) = a.get(&key).unwrap_or_else(|| panic!("comune {key}"));
        for (k, v) in props.as_object().unwrap() {
            assert_eq!(&p[k], v, "{key}.{k}");
        }
        assert_eq!(c.len(), coords.len(), "{key}");
        for (x, y) in c.iter().zip(coords) {
            assert!(
                (x.0 - y.0).abs() < 1e-7 && (x.1 - y.1).abs() < 1e-7,
                "{key}"
            );
        }
    }
    // A bbox and a property filter, as bound parameters.
    let fi = pg.json("/collections/comuni/items?bbox=11.1,43.7,11.3,43.85&limit=100");
    let fi_files =
        files.json("/collections/comuni_toscana/items?bbox=11.1,43.7,11.3,43.85&limit=100");
    assert_eq!(fi["numberMatched"], fi_files["numberMatched"]);
    let hostile = "x' or '1'='1; drop table comuni; --";
    let r = pg.get(&format!(
        "/collections/comuni/items?nome={}",
        urlencode(hostile)
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numberMatched"], 0);
    assert_eq!(
        pg.json("/collections/comuni/items?limit=1")["numberMatched"],
        273
    );
    // One feature by its key; a key of the wrong shape is not found.
    let one = pg.json("/collections/comuni/items/1");
    assert_eq!(one["id"], 1);
    pg.get("/collections/comuni/items/1.0")
        .assert_exception(404);
    pg.get("/collections/comuni/items/99999999999999999999999")
        .assert_exception(404);

    // Stored in EPSG:3003, served in CRS84 within a few centimetres of the file's.
    let p = by_id(&pg.json("/collections/pericolosita/items?limit=1000"));
    let f = by_id(&files.json("/collections/pericolosita_idraulica/items?limit=1000"));
    assert_eq!(p.len(), f.len());
    let (pc, fc) = (&p.values().next().unwrap().1, &f.values().next().unwrap().1);
    assert!(
        (pc[0].0 - fc[0].0).abs() < 1e-6 && (pc[0].1 - fc[0].1).abs() < 1e-6,
        "{pc:?} {fc:?}"
    );

    // Tiles: the same comuni in each, as themselves or stood in for.
    for (z, lon, lat) in [(3u32, 11.0, 43.4), (8, 11.25, 43.77), (12, 11.255, 43.772)] {
        let (x, y) = common::geo::tile_of(z, lon, lat);
        let count = |s: &Server, layer: &str| -> u64 {
            let r = s.get(&format!(
                "/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"
            ));
            assert_eq!(r.status, 200, "z{z} {layer}");
            let l = &mvt::decode(&r.body)[0];
            (l.features.iter())
                .map(|f| {
                    f.properties
                        .get("tessera:count")
                        .map_or(1, |c| c.as_u64().unwrap())
                })
                .sum()
        };
        assert_eq!(
            count(&pg, "comuni"),
            count(&files, "comuni_toscana"),
            "z{z}"
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let e = Server::try_start(&["postgresql://tessera:segreta@127.0.0.1:1/nessuno"])
        .err()
        .expect("refused");
    assert!(e.contains("127.0.0.1:1/nessuno"), "{e}");
    assert!(!e.contains("segreta"), "{e}");
}

/// The bounding box of a decoded polygon's rings of a pixel or more, in tile units (PostGIS
/// keeps the slivers that the engine leaves out).
fn tile_box(f: &mvt::Feature) -> [i64; 4] {
    let pixel = 16.0 * 16.0;
    let rings = f.parts.iter().filter(|r| mvt::area(r).abs() >= pixel);
    let pts = rings.flatten();
    let (xs, ys): (Vec<i64>, Vec<i64>) = pts.map(|p| (p[0], p[1])).unzip();
    [
        *xs.iter().min().unwrap(),
        *ys.iter().min().unwrap(),
        *xs.iter().max().unwrap(),
        *ys.iter().max().unwrap(),
    ]
}

#[test]
fn tiles_made_by_st_asmvt_agree_with_the_engines() {
    let c = cluster();
    let url = c.database("asmvt");
    load_samples(c, &url);
    let insediativa = r#"struttura = ["insediativa"], stato = "di_fatto""#;
    let dir = common::temp_dir();
    let mut text = String::from(
        "[[databases]]\nid = \"motore\"\nurl = \"${TESSERA_TEST_PG}\"\n\n[[databases]]\nid = \"sql\"\nurl = \"${TESSERA_TEST_PG}\"\ntiles = \"st_asmvt\"\n",
    );
    // In the struttura's tiles: an engine layer, two made by PostGIS, a file's.
    for (id, source) in [
        (
            "comuni_motore",
            r#"postgis = { database = "motore", table = "public.comuni" }"#.to_string(),
        ),
        (
            "comuni_sql",
            r#"postgis = { database = "sql", table = "public.comuni" }"#.into(),
        ),
        (
            "pericolosita_sql",
            r#"postgis = { database = "sql", table = "public.pericolosita" }"#.into(),
        ),
        (
            "pericolosita_file",
            format!(
                "flatgeobuf = {:?}",
                repo().join("sample-data/pericolosita_idraulica.fgb")
            ),
        ),
    ] {
        text += &common::layer_toml_from(id, &source, insediativa, "");
    }
    let config = dir.join("tessera.toml");
    std::fs::write(&config, text).unwrap();
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    let tile = |layer: &str, z: u32, (lon, lat): (f64, f64)| {
        let (x, y) = common::geo::tile_of(z, lon, lat);
        let r = s.get(&format!(
            "/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        assert_eq!(r.status, 200, "{layer} z{z}: {}", r.text());
        assert_eq!(
            mvt::violations(&r.body),
            Vec::<String>::new(),
            "{layer} z{z}"
        );
        let mut layers = mvt::decode(&r.body);
        assert_eq!(layers.len(), 1);
        layers.remove(0)
    };
    // Where every comune draws: the same features, properties and shapes (within the
    // simplification: each side simplifies its own way).
    for (z, place) in [
        (8u32, (11.25, 43.77)),
        (11, (11.255, 43.772)),
        (14, (11.255, 43.772)),
    ] {
        let (sql, engine) = (
            tile("comuni_sql", z, place),
            tile("comuni_motore", z, place),
        );
        assert_eq!(sql.name, "comuni_sql");
        assert_eq!(sql.extent, engine.extent);
        let (a, b) = (drawn_by_id(&sql), drawn_by_id(&engine));
        assert!(!a.is_empty(), "z{z}");
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "z{z}"
        );
        for (id, f) in &a {
            assert_eq!(f.properties, b[id].properties, "z{z} {id}");
            let (p, q) = (tile_box(f), tile_box(b[id]));
            for (u, v) in p.iter().zip(q) {
                assert!((u - v).abs() <= 16, "z{z} {id}: {p:?} {q:?}");
            }
        }
    }
    // At a low zoom the small comuni are left out, with no stand-ins.
    let low = tile("comuni_sql", 5, (11.0, 43.4));
    assert!(!low.features.is_empty());
    assert!(
        low.features
            .iter()
            .all(|f| !f.properties.contains_key("tessera:count"))
    );

    // The struttura's tiles join the four, in order, made each its own way.
    let (x, y) = common::geo::tile_of(9, 11.25, 43.77);
    let r = s.get(&format!(
        "/strutture/insediativa/tiles/WebMercatorQuad/9/{y}/{x}"
    ));
    assert_eq!(r.status, 200);
    let names: Vec<String> = mvt::decode(&r.body).into_iter().map(|l| l.name).collect();
    assert_eq!(
        names,
        [
            "comuni_motore",
            "comuni_sql",
            "pericolosita_sql",
            "pericolosita_file"
        ]
    );

    // An edit reaches the tiles PostGIS makes too.
    let db = url.rsplit('/').next().unwrap();
    let (z, place) = (12, (11.255, 43.772));
    let some = *ids_of(&tile("comuni_sql", z, place)).first().unwrap();
    c.psql(
        db,
        &format!("update comuni set nome = 'Rinominato' where id = {some}"),
    );
    common::eventually("the renamed comune in PostGIS's tile", || {
        (tile("comuni_sql", z, place).features.iter())
            .any(|f| f.id == Some(some) && f.properties["nome"] == "Rinominato")
    });
}

/// The features of a tile's layer that are themselves (not stand-ins), by id.
fn drawn_by_id(l: &mvt::Layer) -> BTreeMap<u64, &mvt::Feature> {
    (l.features.iter())
        .filter(|f| !f.properties.contains_key("tessera:count"))
        .map(|f| (f.id.expect("the key is the feature id"), f))
        .collect()
}

fn ids_of(l: &mvt::Layer) -> Vec<u64> {
    l.features.iter().filter_map(|f| f.id).collect()
}

#[test]
fn tls_is_used_as_sslmode_asks_and_the_certificate_checked() {
    let c = common::postgis::Cluster::own_tls("tls");
    let url = c.database("tls");
    c.load(
        &url,
        &repo().join("sample-data/pericolosita_idraulica.fgb"),
        "pericolosita",
        Some(3003),
    );
    let db = url.rsplit('/').next().unwrap().to_string();
    let tls = c.tls_dir();
    let ca = tls.join("ca.pem");
    let encrypted = || {
        c.psql(
            &db,
            "select coalesce(bool_and(s.ssl), false) || '/' || count(*) from pg_stat_ssl s
             join pg_stat_activity a using (pid) where a.application_name = 'tessera'",
        )
    };

    // By default TLS is used when the server offers it (this one takes nothing else).
    let s = Server::try_start(&[&url]).unwrap();
    let items = s.json("/collections/pericolosita/items?limit=3");
    assert_eq!(items["features"].as_array().unwrap().len(), 3, "{items}");
    let seen = encrypted();
    assert!(seen.starts_with("true/") && seen != "true/0", "{seen}");
    drop(s);

    // Without TLS the server refuses, and start-up says why.
    let e = Server::try_start(&[&format!("{url}?sslmode=disable")])
        .err()
        .expect("refused");
    assert!(e.contains("no encryption"), "{e}");

    // verify-full: the certificate names `localhost`; reached by that name it is accepted...
    let by_name = format!(
        "postgresql://postgres@localhost:{}/{db}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
        c.port,
        ca.display()
    );
    let s = Server::try_start(&[&by_name]).unwrap();
    assert_eq!(s.get("/collections/pericolosita/items?limit=1").status, 200);
    drop(s);
    // ...by address it is not, though verify-ca (the issuer only) takes it.
    let by_address = format!("{url}?sslmode=verify-full&sslrootcert={}", ca.display());
    let e = Server::try_start(&[&by_address]).err().expect("refused");
    assert!(e.contains("certificate") && e.contains("name"), "{e}");
    let s = Server::try_start(&[&by_address.replace("verify-full", "verify-ca")]).unwrap();
    assert_eq!(s.get("/collections/pericolosita/items?limit=1").status, 200);
    drop(s);
    // verify-ca still wants the certificate from its CA, and a CA to check it with.
    let other = tls.join("other-ca.pem");
    let e = Server::try_start(&[&format!(
        "{url}?sslmode=verify-ca&sslrootcert={}",
        other.display()
    )])
    .err()
    .expect("refused");
    assert!(e.contains("certificate"), "{e}");
    let e = Server::try_start(&[&format!("{url}?sslmode=verify-ca")])
        .err()
        .expect("refused");
    assert!(e.contains("ca_file"), "{e}");

    // A configured database names its CA file, found from the configuration's folder; a
    // certificate from another CA is refused by `tessera check` as by `serve`.
    let dir = common::temp_dir();
    for (file, trusted) in [("ca.pem", true), ("other-ca.pem", false)] {
        std::fs::copy(tls.join(file), dir.join("db-ca.pem")).unwrap();
        let config = dir.join("tessera.toml");
        std::fs::write(
            &config,
            "[[databases]]\nid = \"territorio\"\nurl = \"${TESSERA_TEST_PG}\"\nca_file = \"db-ca.pem\"\npreviews = true\n",
        )
        .unwrap();
        let (ok, text) = tessera(&["check", "--config", config.to_str().unwrap()], &by_name);
        assert_eq!(ok, trusted, "{file}: {text}");
        if trusted {
            assert!(text.contains("pericolosita"), "{text}");
        } else {
            assert!(
                text.contains("certificate") && text.contains("localhost:"),
                "{text}"
            );
        }
    }
}

#[test]
fn datetime_filters_postgis_layers_on_their_time_columns_as_for_files() {
    let c = cluster();
    let url = c.database("tempo");
    let db = url.rsplit('/').next().unwrap().to_string();
    c.psql(
        &db,
        "create table cantieri (id int primary key, nome text, inizio date, fine date,
                                geom geometry(Point, 4326));
         insert into cantieri values
           (1, 'anno 2020', '2020-01-01', '2020-12-31', 'SRID=4326;POINT(11.25 43.77)'),
           (2, 'aperto dal 2021', '2021-06-01', null, 'SRID=4326;POINT(11.26 43.78)'),
           (3, 'senza date', null, null, 'SRID=4326;POINT(11.27 43.79)'),
           (4, 'un giorno', '2022-03-15', '2022-03-15', 'SRID=4326;POINT(11.28 43.80)'),
           (5, 'per sempre', '2024-01-01', 'infinity', 'SRID=4326;POINT(11.29 43.81)');
         create table eventi (id int primary key, quando timestamptz, geom geometry(Point, 3003));
         insert into eventi values
           (1, '2023-05-01T10:00:00+02', 'SRID=3003;POINT(1681000 4849000)'),
           (2, '2023-05-02T10:00:00.75+02', 'SRID=3003;POINT(1682000 4850000)');",
    );
    // The same rows as a file, served with the same time properties: the answers must agree.
    // Dates as text (a FlatGeobuf file has date-times only, and GDAL would make each date its
    // midnight).
    let fgb = common::temp_dir().join("cantieri.fgb");
    let out = std::process::Command::new(common::require_tool("ogr2ogr"))
        .args(["-f", "FlatGeobuf"])
        .arg(&fgb)
        .arg(format!(
            "PG:host=127.0.0.1 port={} user=postgres dbname={db}",
            c.port
        ))
        .args([
            "-sql",
            "select nome, inizio::text as inizio, fine::text as fine, geom from cantieri",
            "-nln",
            "cantieri",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `eventi`'s time is declared in the database (version 2 of the tessera schema).
    let (ok, text) = tessera(&["db", "init", &url], &url);
    assert!(ok, "{text}");
    c.psql(
        &db,
        &declare(
            "eventi",
            "eventi",
            "Eventi",
            "struttura, stato, temporal_start = 'insediativa', 'di_fatto', 'quando'",
        ),
    );
    let time = r#"temporal = { start = "inizio", end = "fine" }"#;
    let insediativa = r#"struttura = ["insediativa"], stato = "di_fatto""#;
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            "[[databases]]\nid = \"territorio\"\nurl = \"${{TESSERA_TEST_PG}}\"\n{}{}",
            common::layer_toml_from(
                "cantieri",
                r#"postgis = { database = "territorio", table = "public.cantieri" }"#,
                insediativa,
                time
            ),
            common::layer_toml_from(
                "cantieri_file",
                &format!("flatgeobuf = {:?}", fgb),
                insediativa,
                time
            )
        ),
    )
    .unwrap();
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    let names = |collection: &str, datetime: &str| -> Vec<String> {
        let page = s.json(&format!(
            "/collections/{collection}/items?datetime={datetime}"
        ));
        let mut v: Vec<String> = (page["features"].as_array().unwrap().iter())
            .map(|f| f["properties"]["nome"].as_str().unwrap_or("").to_string())
            .collect();
        v.sort();
        v
    };
    for (datetime, expected) in [
        ("2020-06-01", &["anno 2020", "senza date"][..]),
        (
            "2021-01-01/..",
            &["aperto dal 2021", "per sempre", "senza date", "un giorno"],
        ),
        ("../2020-12-31", &["anno 2020", "senza date"]),
        // A date that ends lasts all day; an open end lasts for ever.
        (
            "2022-03-15T23:30:00Z",
            &["aperto dal 2021", "senza date", "un giorno"],
        ),
        ("2019-01-01/2019-12-31", &["senza date"]),
        ("2020-12-31T23:59:59Z", &["anno 2020", "senza date"]),
        (
            "2999-01-01",
            &["aperto dal 2021", "per sempre", "senza date"],
        ),
        // An empty interval holds no instant: nothing (the server does not ask the source).
        ("2021-01-01/2020-01-01", &[]),
    ] {
        assert_eq!(names("cantieri", datetime), expected, "{datetime}");
        // A file has no infinity: that row is left out of the comparison.
        let finite = |v: Vec<String>| -> Vec<String> {
            v.into_iter().filter(|n| n != "per sempre").collect()
        };
        assert_eq!(
            finite(names("cantieri_file", datetime)),
            finite(expected.iter().map(|n| n.to_string()).collect()),
            "{datetime} (file)"
        );
    }
    let interval = |collection: &str| {
        s.json(&format!("/collections/{collection}"))["extent"]["temporal"]["interval"][0].clone()
    };
    assert_eq!(
        interval("cantieri"),
        serde_json::json!(["2020-01-01T00:00:00Z", null])
    );
    // A timestamp with a zone, declared in the database: an instant, to the second.
    let at = |t: &str| {
        s.json(&format!("/collections/eventi/items?datetime={t}"))["numberMatched"].clone()
    };
    assert_eq!(at("2023-05-01T08:00:00Z"), 1);
    assert_eq!(at("2023-05-01T08:00:01Z"), 0);
    // A fraction is dropped, as from a file's times.
    assert_eq!(at("2023-05-02T08:00:00Z"), 1);
    assert_eq!(at("2023-05-01/2023-05-02"), 2);
    assert_eq!(
        interval("eventi"),
        serde_json::json!(["2023-05-01T08:00:00Z", "2023-05-02T08:00:00Z"])
    );
    drop(s);

    // A time column that is not a date or a time is refused, named.
    std::fs::write(
        &config,
        format!(
            "[[databases]]\nid = \"territorio\"\nurl = \"${{TESSERA_TEST_PG}}\"\n{}",
            common::layer_toml_from(
                "cantieri",
                r#"postgis = { database = "territorio", table = "public.cantieri" }"#,
                insediativa,
                r#"temporal = { start = "nome" }"#
            )
        ),
    )
    .unwrap();
    let (ok, text) = tessera(&["check", "--config", config.to_str().unwrap()], &url);
    assert!(
        !ok && text.contains("`nome`") && text.contains("date or timestamp"),
        "{text}"
    );
}

#[test]
fn a_role_that_cannot_read_a_table_is_told_so_and_hostile_values_get_400() {
    let c = cluster();
    let url = c.database("permessi");
    load_samples(c, &url);
    let db = url.rsplit('/').next().unwrap().to_string();
    let role = format!("lettore_{}", std::process::id());
    c.psql(
        &db,
        &format!(
            "drop role if exists {role}; create role {role} login;
             grant usage on schema public to {role};
             grant select on comuni, geometry_columns, spatial_ref_sys to {role};"
        ),
    );
    let as_role = url.replacen("postgres@", &format!("{role}@"), 1);
    let config = common::temp_dir().join("tessera.toml");
    std::fs::write(
        &config,
        "[[databases]]\nid = \"territorio\"\nurl = \"${TESSERA_TEST_PG}\"\npreviews = true\n",
    )
    .unwrap();
    let (ok, text) = tessera(&["check", "--config", config.to_str().unwrap()], &as_role);
    assert!(ok, "{text}");
    assert!(
        text.contains("public.pericolosita") && text.contains("no permission"),
        "{text}"
    );
    let s = Server::start(&[&as_role]);
    assert_eq!(s.get("/collections/comuni").status, 200);
    s.get("/collections/pericolosita").assert_exception(404);

    // Hostile values in every parameter reach no SQL as text: 400 or an empty answer, never
    // a 500, and the table is still there.
    for query in [
        "datetime=2020-13-45",
        "datetime=%27%3B%20drop%20table%20comuni%3B%20--",
        "datetime=99999-01-01",
        "datetime=2020-01-01%00",
        "datetime=2021-01-01/2020-01-01",
        "bbox=-1e308,-1e308,1e308,1e308",
        "bbox=nan,0,1,1",
        "bbox=1,2,3",
        "nome=%00",
        "nome=%27%20or%201%3D1%20--",
        &format!("nome={}", "x".repeat(5000)),
        "istat=1e400",
        "limit=99999999999999999999",
        "offset=-1",
        "cursor=%27%3B%20select%20pg_sleep(10)%3B%20--",
    ] {
        let r = s.get(&format!("/collections/comuni/items?{query}"));
        assert!(
            r.status == 200 || r.status == 400 || r.status == 414,
            "{query}: {} {}",
            r.status,
            r.text()
        );
        if r.status == 400 {
            r.assert_exception(400);
        }
    }
    assert_eq!(
        s.json("/collections/comuni/items?limit=1")["numberMatched"],
        273
    );
}

#[test]
fn views_are_published_by_the_key_they_are_given() {
    let c = cluster();
    let url = c.database("viste");
    load_samples(c, &url);
    let db = url.rsplit('/').next().unwrap().to_string();
    c.psql(
        &db,
        "create view fiorentini as
             select id as codice, nome, geom from comuni where sigla_prov = 'FI';
         create view pisani as select id, nome, geom from comuni where sigla_prov = 'PI';",
    );
    let fi: u64 = c
        .psql(&db, "select count(*) from fiorentini")
        .parse()
        .unwrap();
    assert!(fi > 10);
    // Without a key a view is not published, and `check` says what to do.
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    let write = |key: &str| {
        std::fs::write(
            &config,
            format!(
                "[[databases]]\nid = \"territorio\"\nurl = \"${{TESSERA_TEST_PG}}\"\npreviews = true\n{}",
                common::layer_toml_from(
                    "fiorentini",
                    &format!(r#"postgis = {{ database = "territorio", table = "fiorentini"{key} }}"#),
                    r#"struttura = ["insediativa"], stato = "di_fatto""#,
                    ""
                )
            ),
        )
        .unwrap();
    };
    write("");
    let (ok, text) = tessera(&["check", "--config", config.to_str().unwrap()], &url);
    assert!(!ok, "{text}");
    assert!(
        text.contains("cannot publish `fiorentini`") && text.contains("key = "),
        "{text}"
    );
    write(r#", key = "nessuna""#);
    let (ok, text) = tessera(&["check", "--config", config.to_str().unwrap()], &url);
    assert!(
        !ok && text.contains("no readable column `nessuna`"),
        "{text}"
    );

    // Given its key in the configuration; the other view by tessera.layers's key_column.
    write(r#", key = "codice""#);
    let (ok, text) = tessera(&["db", "init", &url], &url);
    assert!(ok, "{text}");
    c.psql(
        &db,
        &declare(
            "pisani",
            "pisani",
            "Comuni pisani",
            "struttura, stato, key_column = 'insediativa', 'di_fatto', 'id'",
        ),
    );
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    let (ids, _) = follow_pages(&s, "/collections/fiorentini/items?limit=7");
    assert_eq!(ids.len() as u64, fi);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "each feature once: {ids:?}");
    let one = s.json(&format!("/collections/fiorentini/items/{}", ids[0]));
    assert_eq!(one["id"].to_string(), ids[0]);
    let pisani = s.json("/collections/pisani");
    assert_eq!(
        pisani["classificazione"]["struttura"][0], "insediativa",
        "{pisani}"
    );
    let pi = s.json("/collections/pisani/items?limit=100");
    assert_eq!(
        pi["numberMatched"].to_string(),
        c.psql(&db, "select count(*) from pisani")
    );
    // The key is the MVT feature id of its tiles too.
    let (x, y) = common::geo::tile_of(9, 11.25, 43.77);
    let r = s.get(&format!(
        "/collections/fiorentini/tiles/WebMercatorQuad/9/{y}/{x}"
    ));
    assert_eq!(r.status, 200);
    assert!(
        mvt::decode(&r.body)[0]
            .features
            .iter()
            .any(|f| f.id.is_some())
    );
}

#[test]
fn seed_makes_the_tiles_serve_makes_from_postgis() {
    let c = cluster();
    let url = c.database("seme");
    load_samples(c, &url);
    let dir = common::temp_dir().join("piramide");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "seed",
            "--maxzoom",
            "11",
            "--bbox",
            "10.9,43.6,11.4,43.9",
            "-o",
        ])
        .arg(&dir)
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let s = Server::start(&[&url]);
    let mut compared = 0;
    for z in 0..=11u32 {
        let (x0, y0) = common::geo::tile_of(z, 10.9, 43.9);
        let (x1, y1) = common::geo::tile_of(z, 11.4, 43.6);
        for x in x0..=x1 {
            for y in y0..=y1 {
                let served = s.get(&format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
                let file = dir.join(format!("{z}/{x}/{y}.mvt"));
                if served.status == 200 {
                    let seeded = std::fs::read(&file)
                        .unwrap_or_else(|_| panic!("{z}/{x}/{y} was not seeded"));
                    assert!(seeded == served.body, "{z}/{x}/{y} differs");
                    compared += 1;
                } else {
                    assert!(!file.exists(), "{z}/{x}/{y}");
                }
            }
        }
    }
    assert!(compared > 20, "{compared}");
}

/// A configuration publishing `table` of the database at `${TESSERA_TEST_PG}` as layer `id`,
/// classified as `classificazione`.
fn config_for(table: &str, id: &str, classificazione: &str) -> std::path::PathBuf {
    let dir = common::temp_dir();
    let text = format!(
        "[[databases]]\nid = \"territorio\"\nurl = \"${{TESSERA_TEST_PG}}\"\nstatement_timeout_ms = 3000\n{}",
        common::layer_toml_from(
            id,
            &format!(r#"postgis = {{ database = "territorio", table = "{table}" }}"#),
            classificazione,
            ""
        )
    );
    let p = dir.join("tessera.toml");
    std::fs::write(&p, text).unwrap();
    p
}

const PERICOLOSITA: &str = r#"struttura = ["idro_geomorfologica"], stato = "di_diritto", tipo_diritto = "pericolosita", atto = { strumento = "SET", descrizione = "PGRA", numero = "1", data = "2022-12-20", fase = "approvato" }"#;

#[test]
fn a_configured_table_is_published_with_its_classification() {
    let c = cluster();
    let url = c.database("configured");
    c.load(
        &url,
        &repo().join("sample-data/pericolosita_idraulica.fgb"),
        "pericolosita",
        Some(3003),
    );
    let config = config_for("public.pericolosita", "pericolosita", PERICOLOSITA);
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    let meta = s.json("/collections/pericolosita");
    assert_eq!(
        meta["classificazione"]["struttura"][0], "idro_geomorfologica",
        "{meta}"
    );
    assert_ne!(meta["metadati"]["anteprima"], true);
    let items = s.json("/collections/pericolosita/items?limit=5");
    assert_eq!(items["features"].as_array().unwrap().len(), 5);
    // Its struttura's tiles hold it.
    let (x, y) = common::geo::tile_of(7, 11.25, 43.77);
    let r = s.get(&format!(
        "/strutture/idro_geomorfologica/tiles/WebMercatorQuad/7/{y}/{x}"
    ));
    assert_eq!(r.status, 200);
    assert!(
        mvt::decode(&r.body)
            .iter()
            .any(|l| l.name == "pericolosita")
    );

    // `tessera check` lists what the database holds but cannot publish, and why.
    let db = url.rsplit('/').next().unwrap();
    c.psql(
        db,
        "create table senza_chiave as select geom from pericolosita limit 2",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["check", "--config", config.to_str().unwrap()])
        .env("TESSERA_TEST_PG", &url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("public.senza_chiave.geom") && text.contains("no primary key"),
        "{text}"
    );
    // A table that is not there is named, with those that are.
    let config = config_for("public.nessuna", "nessuna", PERICOLOSITA);
    let e = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .err()
    .expect("refused");
    assert!(
        e.contains("nessuna") && e.contains("public.pericolosita"),
        "{e}"
    );
}

#[test]
fn while_the_database_is_down_requests_get_503_and_the_server_recovers() {
    let c = common::postgis::Cluster::own("outage");
    let url = c.database("outage");
    c.load(
        &url,
        &repo().join("sample-data/comuni_toscana.fgb"),
        "comuni",
        None,
    );
    let s = Server::start(&[&url]);
    assert_eq!(
        s.json("/collections/comuni/items?limit=1")["numberMatched"],
        273
    );
    c.pause();
    let started = std::time::Instant::now();
    let r = s.get("/collections/comuni/items?limit=1");
    assert_eq!(r.status, 503, "{}", r.text());
    // The body says which collection failed, not where its data lives.
    assert!(r.text().contains("comuni"), "{}", r.text());
    assert!(!r.text().contains("127.0.0.1"), "{}", r.text());
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let (x, y) = common::geo::tile_of(9, 11.25, 43.77);
    let tile = format!("/collections/comuni/tiles/WebMercatorQuad/9/{y}/{x}");
    assert_eq!(s.get(&tile).status, 503);
    // /health says so, without where the database is.
    let health = s.json("/health");
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["degraded"][0]["collection"], "comuni");
    assert_eq!(health["databases"][0]["answering"], false, "{health}");
    assert!(!health.to_string().contains("127.0.0.1"), "{health}");
    c.resume();
    // Back without a restart.
    let mut ok = false;
    for _ in 0..50 {
        if s.get("/collections/comuni/items?limit=1").status == 200 {
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(ok, "the server did not recover");
    assert_eq!(s.get(&tile).status, 200);
    assert_eq!(s.json("/health")["status"], "ok");
}

#[test]
fn a_query_over_the_statement_timeout_gets_503_in_time() {
    let c = cluster();
    let url = c.database("timeout");
    c.load(
        &url,
        &repo().join("sample-data/comuni_toscana.fgb"),
        "comuni",
        None,
    );
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    let text = format!(
        "[[databases]]\nid = \"t\"\nurl = \"{url}\"\nstatement_timeout_ms = 500\n{}",
        common::layer_toml_from(
            "comuni",
            r#"postgis = { database = "t", table = "comuni" }"#,
            r#"struttura = ["base"], stato = "di_fatto""#,
            ""
        )
    );
    std::fs::write(&config, text).unwrap();
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    assert_eq!(s.get("/collections/comuni/items?limit=1").status, 200);
    // Another session holds the table locked for 4 s: reads wait, until the timeout.
    let mut lock = std::process::Command::new("psql")
        .args(["-X", "-q", "--dbname", &url, "-c"])
        .arg("begin; lock table comuni in access exclusive mode; select pg_sleep(4); commit")
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let started = std::time::Instant::now();
    let r = s.get("/collections/comuni/items?limit=1");
    let took = started.elapsed();
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(took < std::time::Duration::from_secs(3), "{took:?}");
    // A timeout is no outage: the database still answers.
    assert_ne!(s.json("/health")["status"], "degraded");
    lock.wait().unwrap();
    assert_eq!(s.get("/collections/comuni/items?limit=1").status, 200);
}

/// Runs the tessera binary with `args` (and `TESSERA_TEST_PG` = `url`); its status and stdout.
fn tessera(args: &[&str], url: &str) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env("TESSERA_TEST_PG", url)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// A row of `tessera.layers` for `table`, as `id`, with the classification columns given.
fn declare(id: &str, table: &str, title: &str, classification: &str) -> String {
    let (columns, values) = classification.split_once(" = ").unwrap();
    format!(
        "insert into tessera.layers (id, table_name, title, description, license_id, license_url,
             attribution, publisher_name, publisher_ipa, {columns})
         values ('{id}', '{table}', '{title}', 'Dichiarato nel database', 'CC-BY-4.0',
             'https://creativecommons.org/licenses/by/4.0/', 'Unione dei Comuni', 'Unione dei Comuni',
             'u_prova', {values})"
    )
}

#[test]
fn a_classification_declared_in_the_database_publishes_its_table() {
    let c = cluster();
    let url = c.database("declared");
    let db = url.rsplit('/').next().unwrap().to_string();
    load_samples(c, &url);
    c.psql(
        &db,
        "create table bozze (id serial primary key, geom geometry(Point, 4326));
         insert into bozze (geom) values (ST_SetSRID(ST_MakePoint(11.25, 43.77), 4326))",
    );

    // `db init` creates the schema and follows every table; again, it finds it up to date.
    let (ok, out) = tessera(&["db", "init", &url], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains("created the tessera schema (version 2)"),
        "{out}"
    );
    assert!(out.contains("public.comuni: changes notified"), "{out}");
    let (ok, out) = tessera(&["db", "init", &url], &url);
    assert!(ok && out.contains("up to date"), "{out}");
    // A version 1 schema (before the time columns) is migrated, and read meanwhile.
    c.psql(
        &db,
        "alter table tessera.layers drop column temporal_start, drop column temporal_end,
             drop column key_column;
         update tessera.versione set versione = 1",
    );
    let s = Server::start(&[&url]);
    assert_eq!(s.get("/collections").status, 200);
    drop(s);
    let (ok, out) = tessera(&["db", "init", &url], &url);
    assert!(ok && out.contains("from version 1 to 2"), "{out}");
    assert_eq!(
        c.psql(&db, "select count(*) from information_schema.columns where table_schema = 'tessera' and column_name in ('temporal_start', 'temporal_end', 'key_column')"),
        "3"
    );
    assert_eq!(
        c.psql(
            &db,
            "select count(*) from tessera.strutture where id = 'agro_forestale'"
        ),
        "1"
    );

    // The database holds the taxonomy: a value outside it, or a di_diritto row without its
    // act, is refused where it is written (as QGIS would be told when saving).
    let e = c
        .try_psql(
            &db,
            &declare("x", "bozze", "X", "struttura, stato = 'boschi', 'di_fatto'"),
        )
        .unwrap_err();
    assert!(e.contains("foreign key"), "{e}");
    let e = c
        .try_psql(
            &db,
            &declare("x", "bozze", "X", "struttura, stato = 'base', 'di_diritto'"),
        )
        .unwrap_err();
    assert!(e.contains("stato_e_atto"), "{e}");
    let e = c
        .try_psql(
            &db,
            &declare(
                "x",
                "bozze",
                "X",
                "struttura, altre_strutture, stato = 'base', '{boschi}', 'di_fatto'",
            ),
        )
        .unwrap_err();
    assert!(e.contains("altre_strutture_valide"), "{e}");

    c.psql(
        &db,
        &declare(
            "comuni-db",
            "comuni",
            "Comuni",
            "struttura, altre_strutture, stato = 'base', '{insediativa}', 'di_fatto'",
        ),
    );
    c.psql(
        &db,
        &declare(
            "pericolosita-db",
            "pericolosita",
            "Pericolosità dal database",
            "struttura, stato, tipo_diritto, atto_strumento, atto_descrizione, atto_numero, atto_data, atto_fase
             = 'idro_geomorfologica', 'di_diritto', 'pericolosita', 'SET', 'PGRA', '7', '2022-12-20', 'approvato'",
        ),
    );

    // Served from the connection string: the declared tables classified, the other a preview.
    let s = Server::start(&[&url]);
    let comuni = s.json("/collections/comuni-db");
    assert_eq!(comuni["title"], "Comuni", "{comuni}");
    assert_eq!(
        comuni["classificazione"]["struttura"],
        serde_json::json!(["base", "insediativa"]),
        "{comuni}"
    );
    assert_eq!(comuni["metadati"]["anteprima"], false);
    let p = s.json("/collections/pericolosita-db");
    assert_eq!(p["classificazione"]["tipo_diritto"], "pericolosita", "{p}");
    assert_eq!(p["classificazione"]["atto"]["numero"], "7", "{p}");
    assert_eq!(s.json("/collections/bozze")["metadati"]["anteprima"], true);
    let (x, y) = common::geo::tile_of(8, 11.25, 43.77);
    let r = s.get(&format!(
        "/strutture/insediativa/tiles/WebMercatorQuad/8/{y}/{x}"
    ));
    assert_eq!(r.status, 200);
    assert!(mvt::decode(&r.body).iter().any(|l| l.name == "comuni-db"));
    drop(s);

    // With a configuration declaring pericolosita too, the configuration wins and `check`
    // names the conflict; comuni comes from the database; bozze is not public by default.
    let config = config_for("public.pericolosita", "pericolosita", PERICOLOSITA);
    let (ok, out) = tessera(&["check", "--config", config.to_str().unwrap()], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains("declared twice")
            && out.contains("tessera.layers `pericolosita-db`")
            && out.contains("id, title, description"),
        "{out}"
    );
    assert!(out.contains("comuni-db"), "{out}");
    assert!(
        out.contains("public.bozze") && out.contains("not classified"),
        "{out}"
    );
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    assert_eq!(s.get("/collections/pericolosita-db").status, 404);
    assert_eq!(
        s.json("/collections/pericolosita")["classificazione"]["atto"]["numero"],
        "1"
    );
    assert_eq!(s.json("/collections/comuni-db")["title"], "Comuni");
    assert_eq!(s.get("/collections/bozze").status, 404);
    drop(s);

    // A row that slipped past the constraints (dropped by hand) is checked as the
    // configuration is: its table is only a preview, and `check` says why.
    c.psql(
        &db,
        &format!(
            "alter table tessera.layers drop constraint stato_e_atto;
             {}",
            declare(
                "bozze-db",
                "bozze",
                "Bozze",
                "struttura, stato = 'base', 'di_diritto'"
            )
        ),
    );
    let (ok, out) = tessera(&["check", "--config", config.to_str().unwrap()], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains("tessera.layers `bozze-db`: tipo_diritto"),
        "{out}"
    );
}

/// A point in lon/lat as an EPSG:3003 geometry, in SQL.
fn monte_mario(lon: f64, lat: f64) -> String {
    format!("ST_Transform(ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326), 3003)")
}

/// The z14 tile over a place: its features' `nome`s and its ETag.
fn tile_at(s: &Server, layer: &str, place: (f64, f64)) -> (Vec<String>, String) {
    try_tile_at(s, layer, place).expect("a tile inside the layer's extent")
}

/// [`tile_at`], or `None` while the place is outside the layer's extent (404): a row added
/// there is drawn once its notice has grown the extent.
fn try_tile_at(s: &Server, layer: &str, (lon, lat): (f64, f64)) -> Option<(Vec<String>, String)> {
    let (x, y) = common::geo::tile_of(14, lon, lat);
    let r = s.get(&format!(
        "/collections/{layer}/tiles/WebMercatorQuad/14/{y}/{x}"
    ));
    if r.status == 404 {
        return None;
    }
    assert!(r.status == 200 || r.status == 204, "{}", r.text());
    let mut names: Vec<String> = (mvt::decode(&r.body).iter())
        .flat_map(|l| l.features.iter())
        .filter_map(|f| f.properties.get("nome").map(|v| v.to_string()))
        .collect();
    names.sort();
    Some((names, r.header("etag").unwrap_or_default().to_string()))
}

const FIRENZE: (f64, f64) = (11.2558, 43.7696);
const PISA: (f64, f64) = (10.4017, 43.7228);
const GROSSETO: (f64, f64) = (11.1139, 42.7635);

#[test]
fn edits_in_the_database_reach_the_tiles_they_touch_and_no_others() {
    let c = cluster();
    let url = c.database("fresh");
    let db = url.rsplit('/').next().unwrap().to_string();
    c.psql(
        &db,
        &format!(
            "create table punti (id serial primary key, nome text, geom geometry(Point, 3003));
             insert into punti (nome, geom) values ('firenze', {}), ('pisa', {});
             create table lenti (id serial primary key, nome text, geom geometry(Point, 3003));
             insert into lenti (nome, geom) values ('firenze', {});",
            monte_mario(FIRENZE.0, FIRENZE.1),
            monte_mario(PISA.0, PISA.1),
            monte_mario(FIRENZE.0, FIRENZE.1),
        ),
    );
    let (ok, out) = tessera(&["db", "init", &url], &url);
    assert!(ok, "{out}");
    // A table without the triggers (made after `db init`, say) is polled instead.
    c.psql(
        &db,
        "drop trigger tessera_inserite on lenti; drop trigger tessera_modificate on lenti;
         drop trigger tessera_cancellate on lenti; drop trigger tessera_svuotate on lenti",
    );
    let port = common::free_port();
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nwatch_secs = 1\nmetrics_bind = \"127.0.0.1:{port}\"\n\
             [[databases]]\nid = \"territorio\"\nurl = \"${{TESSERA_TEST_PG}}\"\npreviews = true\n"
        ),
    )
    .unwrap();
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    let misses = || common::scrape(&format!("127.0.0.1:{port}"))["tessera_tile_cache_misses_total"];

    // Once the server listens, a tile is made once and then served from the cache.
    common::eventually("the cache serves the tile", || {
        tile_at(&s, "punti", FIRENZE);
        let m = misses();
        tile_at(&s, "punti", FIRENZE);
        misses() == m
    });
    assert_eq!(
        s.json("/health")["databases"],
        serde_json::json!([{"id": "territorio", "answering": true, "changes": "notified"}])
    );
    let (firenze, firenze_etag) = tile_at(&s, "punti", FIRENZE);
    let (pisa, pisa_etag) = tile_at(&s, "punti", PISA);
    assert_eq!(
        (firenze, pisa),
        (
            vec!["\"firenze\"".to_string()],
            vec!["\"pisa\"".to_string()]
        )
    );
    let items_etag = s
        .get("/collections/punti/items")
        .header("etag")
        .unwrap()
        .to_string();
    let before = misses();
    assert_eq!(tile_at(&s, "punti", FIRENZE).1, firenze_etag);
    assert_eq!(misses(), before, "served from the cache");

    // An UPDATE in Firenze: its tile is made again, Pisa's stays in the cache.
    c.psql(
        &db,
        "update punti set nome = 'firenze nuova' where nome = 'firenze'",
    );
    common::eventually("the Firenze tile shows the edit", || {
        tile_at(&s, "punti", FIRENZE).0 == vec!["\"firenze nuova\"".to_string()]
    });
    assert_ne!(tile_at(&s, "punti", FIRENZE).1, firenze_etag);
    let after_edit = misses();
    assert_eq!(tile_at(&s, "punti", PISA).1, pisa_etag);
    assert_eq!(misses(), after_edit, "Pisa's tile was not made again");
    assert_ne!(
        s.get("/collections/punti/items").header("etag").unwrap(),
        items_etag
    );

    // An INSERT outside the layer's extent shows at once; a DELETE takes it away.
    c.psql(
        &db,
        &format!(
            "insert into punti (nome, geom) values ('grosseto', {})",
            monte_mario(GROSSETO.0, GROSSETO.1)
        ),
    );
    common::eventually("the new point is drawn", || {
        try_tile_at(&s, "punti", GROSSETO).is_some_and(|t| t.0 == ["\"grosseto\""])
    });
    c.psql(&db, "delete from punti where nome = 'grosseto'");
    common::eventually("the deleted point is gone", || {
        tile_at(&s, "punti", GROSSETO).0.is_empty()
    });
    // TRUNCATE empties every tile.
    c.psql(&db, "truncate punti");
    common::eventually("the table emptied", || {
        tile_at(&s, "punti", PISA).0.is_empty()
    });

    // A table without triggers is polled: an edit shows within seconds too.
    assert_eq!(
        tile_at(&s, "lenti", FIRENZE).0,
        vec!["\"firenze\"".to_string()]
    );
    c.psql(&db, "update lenti set nome = 'firenze lenta'");
    common::eventually("the polled table shows the edit", || {
        tile_at(&s, "lenti", FIRENZE).0 == vec!["\"firenze lenta\"".to_string()]
    });

    // A geometry column renamed under the triggers: writes still work; the layer, altered
    // while served, answers 503, and the others go on.
    c.psql(
        &db,
        &format!(
            "alter table punti rename column geom to luogo;
             insert into punti (nome, luogo) values ('pisa', {})",
            monte_mario(PISA.0, PISA.1)
        ),
    );
    s.get("/collections/punti/items").assert_exception(503);
    assert_eq!(s.get("/collections/lenti/items").status, 200);
}

#[test]
fn a_reload_publishes_new_tables_and_classifications_without_dropping_requests() {
    let c = cluster();
    let url = c.database("reload");
    let db = url.rsplit('/').next().unwrap().to_string();
    c.load(
        &url,
        &repo().join("sample-data/comuni_toscana.fgb"),
        "comuni",
        None,
    );
    let (ok, out) = tessera(&["db", "init", &url], &url);
    assert!(ok, "{out}");
    c.psql(
        &db,
        &declare(
            "comuni",
            "comuni",
            "Comuni",
            "struttura, stato = 'base', 'di_fatto'",
        ),
    );
    let token = "prova-prova-prova-1234";
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    let text = "[server]\nadmin_token = \"${TESSERA_TEST_TOKEN}\"\n\
                [[databases]]\nid = \"territorio\"\nurl = \"${TESSERA_TEST_PG}\"\n";
    std::fs::write(&config, text).unwrap();
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url), ("TESSERA_TEST_TOKEN", token)],
    )
    .unwrap();
    assert_eq!(s.get("/collections/comuni").status, 200);

    // A new table, declared: not there until a reload.
    c.psql(
        &db,
        &format!(
            "create table punti (id serial primary key, nome text, geom geometry(Point, 4326));
             insert into punti (nome, geom) values ('firenze', ST_SetSRID(ST_MakePoint({}, {}), 4326));
             {}",
            FIRENZE.0,
            FIRENZE.1,
            declare("punti", "punti", "Punti", "struttura, stato = 'insediativa', 'di_fatto'")
        ),
    );
    assert_eq!(s.get("/collections/punti").status, 404);

    // The admin route wants the token.
    let r = s.request("POST", "/admin/reload", &[]);
    r.assert_exception(401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    s.request(
        "POST",
        "/admin/reload",
        &[("Authorization", "Bearer sbagliato-sbagliato")],
    )
    .assert_exception(401);

    // Requests keep being answered while the catalogue changes under them.
    let addr = s.addr.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let asking = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || statuses.len() < 20 {
                let r =
                    common::raw_request(&addr, "GET", "/collections/comuni/items?limit=50", &[]);
                statuses.push(r.status);
            }
            statuses
        })
    };
    let bearer = format!("Bearer {token}");
    let r = s.request("POST", "/admin/reload", &[("Authorization", &bearer)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["collections"], 2);
    let p = s.json("/collections/punti");
    assert_eq!(p["classificazione"]["struttura"][0], "insediativa", "{p}");
    let (x, y) = common::geo::tile_of(12, FIRENZE.0, FIRENZE.1);
    let r = s.get(&format!(
        "/strutture/insediativa/tiles/WebMercatorQuad/12/{y}/{x}"
    ));
    assert!(mvt::decode(&r.body).iter().any(|l| l.name == "punti"));

    // A changed classification, on SIGHUP.
    c.psql(
        &db,
        "update tessera.layers set struttura = 'ecosistemica' where id = 'comuni'",
    );
    s.signal("HUP");
    common::eventually("the new classification is served", || {
        s.json("/collections/comuni")["classificazione"]["struttura"][0] == "ecosistemica"
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses = asking.join().unwrap();
    assert!(statuses.len() >= 20, "{statuses:?}");
    assert!(statuses.iter().all(|&st| st == 200), "{statuses:?}");

    // A configuration broken meanwhile is not served: the reload says why, the last stays.
    std::fs::write(&config, format!("{text}\n[[layers]]\nid = 3\n")).unwrap();
    let r = s.request("POST", "/admin/reload", &[("Authorization", &bearer)]);
    r.assert_exception(409);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("expected a string"),
        "{}",
        r.text()
    );
    assert_eq!(s.get("/collections/punti").status, 200);
}

/// Every feature id met following `next` links from `first`, and the pages' bodies.
fn follow_pages(s: &Server, first: &str) -> (Vec<String>, Vec<Value>) {
    let (mut ids, mut pages) = (Vec::new(), Vec::new());
    let mut next = Some(first.to_string());
    while let Some(path) = next {
        let page = s.json(&path);
        ids.extend((page["features"].as_array().unwrap().iter()).map(|f| f["id"].to_string()));
        next = (page["links"].as_array().unwrap().iter())
            .find(|l| l["rel"] == "next")
            .map(|l| {
                let href = l["href"].as_str().unwrap();
                href[href.find("/collections").unwrap()..].to_string()
            });
        pages.push(page);
        assert!(pages.len() < 100, "paging does not end");
    }
    (ids, pages)
}

#[test]
fn deep_pages_follow_the_key_and_large_counts_are_estimated() {
    let c = cluster();
    let url = c.database("paging");
    let db = url.rsplit('/').next().unwrap().to_string();
    c.psql(
        &db,
        "create table lotti (id int8 primary key, geom geometry(Point, 4326));
         insert into lotti select i, ST_SetSRID(ST_MakePoint(10 + (i % 50) * 0.01, 43 + (i / 50) * 0.01), 4326)
             from generate_series(1, 2500) i;
         create table codici (codice uuid primary key, geom geometry(Point, 4326));
         insert into codici select md5(i::text)::uuid, ST_SetSRID(ST_MakePoint(11, 43), 4326)
             from generate_series(1, 250) i;
         analyze",
    );
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        "[server]\nmax_limit = 1000\n[[databases]]\nid = \"territorio\"\nurl = \"${TESSERA_TEST_PG}\"\n\
         previews = true\nexact_count_limit = 1000\n",
    )
    .unwrap();
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();

    // 2,500 rows are more than the exact limit: an estimate, said so; the pages still reach
    // every row once, in key order, each `next` link continuing after the last key.
    let (ids, pages) = follow_pages(&s, "/collections/lotti/items?limit=100");
    assert!(pages[0].get("numberMatched").is_none(), "{}", pages[0]);
    let estimate = pages[0]["numberMatchedEstimate"].as_u64().unwrap();
    assert!((2000..=3000).contains(&estimate), "{estimate}");
    let expected: Vec<String> = (1..=2500).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    let next = (pages[10]["links"].as_array().unwrap().iter())
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        next.contains("cursor=1100") && next.contains("offset=1100"),
        "{next}"
    );
    // Page 12 by offset is the same as by cursor.
    let by_offset = s.json("/collections/lotti/items?limit=100&offset=1100");
    let first = |p: &Value| p["features"][0]["id"].clone();
    assert_eq!(first(&by_offset), first(&pages[11]));
    // Fewer matches than the limit are counted exactly.
    let few = s.json("/collections/lotti/items?bbox=9.99,42.99,10.105,43.105&limit=5");
    let inside = (1..=2500)
        .filter(|i| (i % 50) as f64 * 0.01 <= 0.105 && (i / 50) as f64 * 0.01 <= 0.105)
        .count();
    assert_eq!(few["numberMatched"], inside, "{few}");
    assert!(few.get("numberMatchedEstimate").is_none());

    // A uuid key pages the same way; ids that are no uuid name nothing.
    let (ids, _) = follow_pages(&s, "/collections/codici/items?limit=60");
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (250, 250));
    let one = ids[7].trim_matches('"').to_string();
    assert_eq!(
        s.json(&format!("/collections/codici/items/{one}"))["id"],
        one
    );
    s.get("/collections/codici/items/non-un-uuid")
        .assert_exception(404);

    // Hostile cursors: refused with 400, never run as SQL.
    for cursor in [
        "abc",
        "1%27%20or%20%271%27%3D%271",
        "1%3B%20drop%20table%20lotti",
        "99999999999999999999999",
        &"9".repeat(2000),
    ] {
        s.get(&format!("/collections/lotti/items?cursor={cursor}"))
            .assert_exception(400);
    }
    s.get("/collections/codici/items?cursor=%27%3B%20drop%20table%20codici%3B--")
        .assert_exception(400);
    s.get("/collections/lotti/items?cursor=1%00")
        .assert_exception(400);
    assert_eq!(c.psql(&db, "select count(*) from lotti"), "2500");
}

/// `lon lat` pairs, as a WGS84 geometry transformed to `srid` in SQL.
fn in_srid(wkt: &str, srid: u32) -> String {
    format!("ST_Transform(ST_GeomFromText('{wkt}', 4326), {srid})")
}

#[test]
fn every_geometry_type_and_italian_crs_is_served_in_crs84() {
    let c = cluster();
    let url = c.database("forme");
    let db = url.rsplit('/').next().unwrap().to_string();
    let (lon, lat) = FIRENZE;
    let line = format!("LINESTRING({lon} {lat}, {} {})", lon + 0.01, lat + 0.005);
    let square = format!(
        "POLYGON(({lon} {lat}, {x} {lat}, {x} {y}, {lon} {y}, {lon} {lat}))",
        x = lon + 0.01,
        y = lat + 0.01
    );
    // One table per CRS and type, and one with two geometry columns.
    let tables = [
        ("punti_6707", "Point", 6707, format!("POINT({lon} {lat})")),
        ("linee_7791", "LineString", 7791, line.clone()),
        ("aree_25832", "Polygon", 25832, square.clone()),
        (
            "multi_3857",
            "MultiPolygon",
            3857,
            format!("MULTIPOLYGON(({}))", &square[8..square.len() - 1]),
        ),
        (
            "misti_3003",
            "Geometry",
            3003,
            format!("POINT({lon} {lat})"),
        ),
        (
            "multilinee_4326",
            "MultiLineString",
            4326,
            format!("MULTILINESTRING(({}))", &line[11..line.len() - 1]),
        ),
        (
            "multipunti_3003",
            "MultiPoint",
            3003,
            format!("MULTIPOINT({lon} {lat}, {} {})", lon + 0.001, lat),
        ),
        (
            "collezioni_4326",
            "GeometryCollection",
            4326,
            format!("GEOMETRYCOLLECTION(POINT({lon} {lat}), {line})"),
        ),
        (
            "punti_z_4326",
            "PointZ",
            4326,
            format!("POINT Z({lon} {lat} 50)"),
        ),
    ];
    for (name, kind, srid, wkt) in &tables {
        let value = if kind.ends_with('Z') {
            format!("ST_GeomFromText('{wkt}', 4326)")
        } else {
            in_srid(wkt, *srid)
        };
        c.psql(
            &db,
            &format!(
                "create table {name} (id serial primary key, nome text, geom geometry({kind}, {srid}));
                 insert into {name} (nome, geom) values ('{name}', {value})"
            ),
        );
    }
    // A mixed column holds a line too.
    c.psql(
        &db,
        &format!(
            "insert into misti_3003 (nome, geom) values ('linea', {})",
            in_srid(&line, 3003)
        ),
    );
    c.psql(
        &db,
        &format!(
            "create table doppia (id serial primary key, nome text,
                 luogo geometry(Point, 6707), ambito geometry(Polygon, 3003));
             insert into doppia (nome, luogo, ambito) values ('doppia', {}, {})",
            in_srid(&format!("POINT({lon} {lat})"), 6707),
            in_srid(&square, 3003)
        ),
    );
    let s = Server::start(&[&url]);
    let mut ids: Vec<String> = (s.json("/collections")["collections"]
        .as_array()
        .unwrap()
        .iter())
    .map(|c| c["id"].as_str().unwrap().to_string())
    .collect();
    ids.sort();
    let mut expected: Vec<String> = tables.iter().map(|t| t.0.to_string()).collect();
    expected.extend(["doppia_luogo".to_string(), "doppia_ambito".to_string()]);
    expected.sort();
    assert_eq!(ids, expected);

    let (x, y) = common::geo::tile_of(14, lon + 1e-5, lat + 1e-5);
    for id in &ids {
        let items = s.json(&format!("/collections/{id}/items"));
        let first = &items["features"][0];
        let mut coords = Vec::new();
        let g = &first["geometry"];
        for part in std::iter::once(g).chain(g["geometries"].as_array().into_iter().flatten()) {
            common::geo::coords(&part["coordinates"], &mut coords);
        }
        assert!(!coords.is_empty(), "{id}: {first}");
        // The first vertex is Firenze's point, back in CRS84 within a centimetre or so.
        let near = coords
            .iter()
            .any(|c| (c.0 - lon).abs() < 2e-7 && (c.1 - lat).abs() < 2e-7);
        assert!(near, "{id}: {coords:?}");
        let r = s.get(&format!(
            "/collections/{id}/tiles/WebMercatorQuad/14/{y}/{x}"
        ));
        assert_eq!(r.status, 200, "{id}: {}", r.text());
        let drawn: usize = mvt::decode(&r.body).iter().map(|l| l.features.len()).sum();
        assert!(drawn >= 1, "{id}: nothing in its tile");
    }
    let meta = s.json("/collections/aree_25832");
    assert!(meta.to_string().contains("25832"), "{meta}");
    let mixed = s.json("/collections/misti_3003/items");
    let kinds: Vec<&str> = (mixed["features"].as_array().unwrap().iter())
        .map(|f| f["geometry"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Point", "LineString"]);
}

/// Features in a tile, as themselves or counted by stand-ins.
fn stood_for(r: &common::Response) -> u64 {
    (mvt::decode(&r.body).iter())
        .flat_map(|l| l.features.iter())
        .map(|f| {
            f.properties
                .get("tessera:count")
                .map_or(1, |c| c.as_u64().unwrap())
        })
        .sum()
}

#[test]
fn a_large_table_counts_its_small_features_from_boxes_in_memory_kept_in_step() {
    let c = cluster();
    let url = c.database("boxes");
    let db = url.rsplit('/').next().unwrap().to_string();
    // 30,000 squares of about 8 m in a 150 x 200 grid east of Firenze, and a big one.
    c.psql(
        &db,
        "create table lotti (id int8 primary key, nome text, geom geometry(Polygon, 4326));
         insert into lotti select i, 'lotto ' || i,
             ST_MakeEnvelope(11.30 + (i % 150) * 0.0005, 43.74 + (i / 150) * 0.0004,
                             11.30 + (i % 150) * 0.0005 + 0.0001, 43.74 + (i / 150) * 0.0004 + 0.00007, 4326)
             from generate_series(0, 29999) i;
         insert into lotti values (100000, 'grande', ST_MakeEnvelope(11.31, 43.75, 11.34, 43.77, 4326));
         analyze lotti",
    );
    let (ok, out) = tessera(&["db", "init", &url], &url);
    assert!(ok, "{out}");
    let s = Server::start(&[&url]);
    common::eventually("the boxes are in memory", || {
        std::fs::read_to_string(&s.stderr)
            .unwrap_or_default()
            .contains("boxes in memory")
    });
    // Every row under the z10 tile is drawn or counted, once.
    // (None while the tile is outside the layer's extent, as it was.)
    let count_in = |z: u32, lon: f64, lat: f64| -> Option<(u64, u64)> {
        let (x, y) = common::geo::tile_of(z, lon, lat);
        let r = s.get(&format!(
            "/collections/lotti/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        if r.status == 404 {
            return None;
        }
        assert!(r.status == 200 || r.status == 204, "{}", r.text());
        let n = 1u64 << z;
        let lon0 = x as f64 / n as f64 * 360.0 - 180.0;
        let lon1 = (x + 1) as f64 / n as f64 * 360.0 - 180.0;
        let lat_of = |t: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * t / n as f64))
                .sinh()
                .atan()
                .to_degrees()
        };
        let (lat0, lat1) = (lat_of((y + 1) as f64), lat_of(y as f64));
        // Counted where the box's centre falls: inside the tile proper.
        let sql = format!(
            "select count(*) from lotti where ST_X(ST_Centroid(Box2D(geom))) between {lon0} and {lon1}
             and ST_Y(ST_Centroid(Box2D(geom))) between {lat0} and {lat1}"
        );
        let rows: u64 = c.psql(&db, &sql).parse().unwrap();
        Some((stood_for(&r), rows))
    };
    let (drawn, rows) = count_in(10, 11.33, 43.78).unwrap();
    assert!(rows > 29_000, "{rows}");
    assert_eq!(drawn, rows);

    // A page in a box: counted in the same read, as many as the database finds.
    let page = s.json("/collections/lotti/items?bbox=11.30,43.74,11.31,43.75&limit=10");
    let matching = c.psql(
        &db,
        "select count(*) from lotti where ST_Intersects(geom, ST_MakeEnvelope(11.30, 43.74, 11.31, 43.75, 4326))",
    );
    assert_eq!(page["numberMatched"].to_string(), matching, "{page}");
    assert_eq!(page["features"].as_array().unwrap().len(), 10);

    // Moved far away, added, deleted: the boxes follow.
    c.psql(
        &db,
        &format!(
            "update lotti set geom = ST_Translate(geom, {}, {}) where id < 10",
            GROSSETO.0 - 11.30,
            GROSSETO.1 - 43.74
        ),
    );
    common::eventually("the moved ones are counted at Grosseto", || {
        count_in(10, GROSSETO.0 + 0.0005, GROSSETO.1 + 0.0005) == Some((10, 10))
    });
    common::eventually("and no longer at Firenze", || {
        count_in(10, 11.33, 43.78) == Some((rows - 10, rows - 10))
    });
    c.psql(&db, "delete from lotti where id < 5");
    common::eventually("the deleted ones are gone", || {
        count_in(10, GROSSETO.0 + 0.0005, GROSSETO.1 + 0.0005) == Some((5, 5))
    });
}

/// QGIS 3.22's OGC API - Features provider on `collection` (tests/clients/qgis_oapif.py): its
/// JSON report.
fn qgis_reads(s: &Server, collection: &str, attribute: &str, bbox: &str) -> Value {
    let out = std::process::Command::new("/usr/bin/python3")
        .arg(repo().join("tests/clients/qgis_oapif.py"))
        .args([&s.url(""), collection, attribute, bbox])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("Debian's python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "QGIS on {collection} (its Python bindings come with python3-qgis, which `bash tests/run-all.sh` installs): {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn qgis_reads_postgis_collections_through_every_page() {
    let c = cluster();
    let url = c.database("qgis");
    load_samples(c, &url);
    // Small pages, so that QGIS follows the next links from page to page.
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        "[server]\nmax_limit = 40\n\n[[databases]]\nid = \"territorio\"\nurl = \"${TESSERA_TEST_PG}\"\npreviews = true\n",
    )
    .unwrap();
    let s = Server::try_start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("TESSERA_TEST_PG", &url)],
    )
    .unwrap();
    let tuscany = |p: &Value| {
        let (x, y) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
        (9.6..12.5).contains(&x) && (42.2..44.6).contains(&y)
    };
    let bbox = "11.1,43.7,11.3,43.85";
    for (collection, attribute, count) in [("comuni", "nome", 273), ("pericolosita", "codice", 0)] {
        let r = qgis_reads(&s, collection, attribute, bbox);
        assert!(r["qgis"].as_str().unwrap().starts_with("3."), "{r}");
        assert_eq!(r["valid"], true, "{r}");
        assert_eq!(r["crs"], "EPSG:4326");
        assert!(tuscany(&r["extent"]), "{}", r["extent"]);
        // The attribute of every feature of the server's pages from `first` on, each once.
        let every = |first: String| {
            let mut values: Vec<String> = Vec::new();
            let mut next = Some(first);
            while let Some(page) = next {
                let page = s.json(&page);
                values.extend(
                    (page["features"].as_array().unwrap().iter())
                        .map(|f| f["properties"][attribute].as_str().unwrap().to_string()),
                );
                next = (page["links"].as_array().unwrap().iter())
                    .find(|l| l["rel"] == "next")
                    .map(|l| l["href"].as_str().unwrap().replace(&s.url(""), ""));
            }
            values.sort();
            values
        };
        // Every feature, each once, where it is (the hazard areas are stored in EPSG:3003).
        let server = every(format!("/collections/{collection}/items"));
        let features = r["features"].as_array().unwrap();
        if count > 0 {
            assert_eq!(features.len(), count, "{collection}");
        }
        // Each feature once: none lost, none read twice.
        let mut seen: Vec<&str> = features.iter().map(|f| f[0].as_str().unwrap()).collect();
        seen.sort();
        assert_eq!(
            seen,
            server.iter().map(String::as_str).collect::<Vec<_>>(),
            "{collection}"
        );
        assert!(
            features
                .iter()
                .all(|f| tuscany(&serde_json::json!([f[1], f[2]]))),
            "{collection}"
        );
        // The features in a box: those the server finds there.
        let expected = every(format!("/collections/{collection}/items?bbox={bbox}"));
        assert!(!expected.is_empty(), "{collection}");
        let got: Vec<String> = (r["in_box"].as_array().unwrap().iter())
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, expected, "{collection}");
    }
}

/// A GDAL tool's output; it must succeed.
fn gdal(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(common::require_tool(tool))
        .args(args)
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} {args:?}:\n{text}");
    text
}

#[test]
fn gdal_reads_postgis_collections_through_every_page() {
    let c = cluster();
    let url = c.database("gdal");
    load_samples(c, &url);
    let s = Server::start(&[&url]);
    let oapif = format!("OAPIF:{}", s.url("/"));
    let info = gdal("ogrinfo", &["-ro", "-so", &oapif, "comuni"]);
    assert!(info.contains("Feature Count: 273"), "{info}");
    let dir = common::temp_dir();
    for (layer, extra, query) in [
        ("comuni", vec!["-oo", "PAGE_SIZE=50"], ""),
        (
            "comuni",
            vec!["-spat", "11.0", "43.6", "11.4", "43.9"],
            "&bbox=11.0,43.6,11.4,43.9",
        ),
        (
            "comuni",
            vec!["-where", "sigla_prov = 'PI'"],
            "&sigla_prov=PI",
        ),
        ("pericolosita", vec!["-oo", "PAGE_SIZE=40"], ""),
    ] {
        let out = dir.join(format!("{layer}-{}.geojson", query.len() + extra.len()));
        let mut args = vec![
            "-f",
            "GeoJSON",
            out.to_str().unwrap(),
            oapif.as_str(),
            layer,
        ];
        args.extend(extra.iter().copied());
        gdal("ogr2ogr", &args);
        let got: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let features = got["features"].as_array().unwrap();
        let matched =
            s.json(&format!("/collections/{layer}/items?limit=1{query}"))["numberMatched"]
                .as_u64()
                .unwrap();
        assert!(matched > 0);
        assert_eq!(features.len() as u64, matched, "{layer} {extra:?}");
        // In CRS84 whatever the storage CRS: Tuscany's longitudes and latitudes.
        let mut coords = Vec::new();
        common::geo::coords(&features[0]["geometry"]["coordinates"], &mut coords);
        assert!(
            coords
                .iter()
                .all(|p| (9.0..13.0).contains(&p.0) && (42.0..45.0).contains(&p.1)),
            "{layer}: {:?}",
            &coords[..3.min(coords.len())]
        );
    }
}
