//! `tessera seed`: the pyramid it writes holds the very tiles `serve` makes; its PMTiles
//! archive is read back by the PMTiles project's own Python reader, its MBTiles archive by
//! SQLite and GDAL; bad arguments are refused clearly; an interrupted run leaves the archive
//! that was there.

mod common;

use common::{Server, sample_config};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Florence and around: a few hundred tiles up to z12.
const FLORENCE: &str = "11.0,43.65,11.45,43.9";

/// From the sea off Livorno to Florence: tiles of sea (nothing in them) and of land.
const COAST: (f64, f64, f64, f64) = (9.9, 43.4, 11.3, 43.85);

fn seed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("seed")
        .args(["--config", sample_config().to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

/// A seed with `args` fails, saying `says`.
fn refused(args: &[&str], says: &str) {
    let r = seed(args);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "{args:?}");
    assert!(err.contains(says), "{args:?}: {err}");
}

fn seeded(args: &[&str]) -> String {
    let out = seed(args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Every `z/x/y.mvt` under `dir`.
fn files(dir: &Path) -> Vec<(u32, u32, u32, PathBuf)> {
    let mut out = Vec::new();
    for z in std::fs::read_dir(dir).unwrap() {
        let z = z.unwrap().path();
        for x in std::fs::read_dir(&z).unwrap() {
            let x = x.unwrap().path();
            for y in std::fs::read_dir(&x).unwrap() {
                let y = y.unwrap().path();
                let n = |p: &Path| -> u32 {
                    let s = p.file_name().unwrap().to_str().unwrap();
                    s.trim_end_matches(".mvt").parse().unwrap()
                };
                out.push((n(&z), n(&x), n(&y), y.clone()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn seeded_tiles_are_the_tiles_served_byte_for_byte() {
    let dir = common::temp_dir().join("tiles");
    let (w, so, e, n) = COAST;
    let bbox = format!("{w},{so},{e},{n}");
    let summary = seeded(&[
        "--minzoom",
        "0",
        "--maxzoom",
        "12",
        "--bbox",
        &bbox,
        "--threads",
        "2",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(summary.contains("tiles"), "{summary}");
    let s = Server::sample();
    let tiles = files(&dir);
    assert!(tiles.len() > 50, "{}", tiles.len());
    for z in 0..=12 {
        assert!(tiles.iter().any(|t| t.0 == z), "no tile at z{z}");
    }
    for (z, x, y, path) in &tiles {
        let served = s.get(&format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
        assert_eq!(served.status, 200, "{z}/{x}/{y}");
        assert!(
            served.body == std::fs::read(path).unwrap(),
            "{z}/{x}/{y} differs from the served tile"
        );
    }
    // Every other tile over the bbox is one the server has nothing in (sea, mostly: those
    // under a tile with nothing in it are not even made).
    let mut empty = 0;
    for z in 0..=12u32 {
        let (x0, y0) = common::geo::tile_of(z, w, n);
        let (x1, y1) = common::geo::tile_of(z, e, so);
        for x in x0..=x1 {
            for y in y0..=y1 {
                if tiles.iter().any(|t| (t.0, t.1, t.2) == (z, x, y)) {
                    continue;
                }
                empty += 1;
                let served = s.get(&format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
                assert_ne!(served.status, 200, "{z}/{x}/{y} was left out");
            }
        }
    }
    assert!(empty > 10, "{empty} tiles of sea");
    // A tile the bbox leaves out is not there.
    assert!(!dir.join("12/2180").exists());
    // A folder already there is not overwritten.
    refused(
        &["--maxzoom", "3", "-o", dir.to_str().unwrap()],
        "already exists",
    );
}

#[test]
fn a_pmtiles_archive_reads_back_with_the_pmtiles_reader() {
    let file = common::temp_dir().join("toscana.pmtiles");
    seeded(&[
        "--maxzoom",
        "10",
        "--struttura",
        "idro_geomorfologica",
        "-o",
        file.to_str().unwrap(),
    ]);
    let script = r#"
import gzip, json, sys
from pmtiles.reader import Reader, MmapSource
with open(sys.argv[1], "rb") as f:
    r = Reader(MmapSource(f))
    h = r.header()
    meta = r.metadata()
    out = {"header": {k: (v.value if hasattr(v, "value") else v) for k, v in h.items()}, "metadata": meta}
    got = {}
    for (z, x, y) in json.loads(sys.argv[2]):
        t = r.get(z, x, y)
        got[f"{z}/{x}/{y}"] = gzip.decompress(t).hex() if t else None
    out["tiles"] = got
    print(json.dumps(out))
"#;
    let s = Server::sample();
    // Tiles over the Arno and the coast, and one out at sea.
    let coords: Vec<(u32, u32, u32)> = [
        (6, 10.5, 43.6),
        (8, 11.25, 43.77),
        (10, 11.25, 43.77),
        (10, 10.3, 43.55),
        (9, 9.0, 42.0),
    ]
    .iter()
    .map(|&(z, lon, lat)| {
        let (x, y) = common::geo::tile_of(z, lon, lat);
        (z, x, y)
    })
    .collect();
    let out = Command::new(common::venv_python())
        .args(["-c", script, file.to_str().unwrap()])
        .arg(serde_json::to_string(&coords).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = &r["header"];
    assert_eq!(h["tile_type"], 1, "MVT: {h}");
    assert_eq!(h["tile_compression"], 2, "gzip: {h}");
    assert_eq!(h["clustered"], true, "{h}");
    assert_eq!(
        (h["min_zoom"].as_u64(), h["max_zoom"].as_u64()),
        (Some(0), Some(10))
    );
    let meta = &r["metadata"];
    let ids: Vec<&str> = (meta["vector_layers"].as_array().unwrap().iter())
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    let tilejson = s.json("/strutture/idro_geomorfologica/tiles/WebMercatorQuad/tilejson.json");
    let served: Vec<&str> = (tilejson["vector_layers"].as_array().unwrap().iter())
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, served);
    for id in ids {
        assert!(
            meta["tessera:classificazione"][id]["struttura"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "idro_geomorfologica"),
            "{meta}"
        );
    }
    // tessera's own reader, as `serve` will read archives, finds the same bytes.
    let archive = tessera::archive::pmtiles_read::PmtilesSource::open_file(&file).unwrap();
    for (z, x, y) in coords {
        let served = s.get(&format!(
            "/strutture/idro_geomorfologica/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        let own = archive
            .read_tile(tessera::tiles::matrix::TileCoord { z: z as u8, x, y })
            .unwrap();
        assert_eq!(
            own.map(|t| gunzip(&t)),
            (served.status == 200).then(|| served.body.to_vec()),
            "{z}/{x}/{y}"
        );
        let stored = &r["tiles"][format!("{z}/{x}/{y}")];
        if served.status == 200 {
            let hex: String = served.body.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(stored.as_str(), Some(hex.as_str()), "{z}/{x}/{y}");
        } else {
            assert!(stored.is_null(), "{z}/{x}/{y}: {stored}");
        }
    }
}

#[test]
fn an_mbtiles_archive_opens_in_sqlite_and_gdal() {
    let file = common::temp_dir().join("firenze.mbtiles");
    seeded(&[
        "--maxzoom",
        "11",
        "--bbox",
        FLORENCE,
        "--layer",
        "comuni",
        "-o",
        file.to_str().unwrap(),
    ]);
    // The spec's tables, and rows counted from the south (TMS).
    let script = r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
meta = dict(db.execute("select name, value from metadata"))
rows = db.execute("select zoom_level, tile_column, tile_row, length(tile_data), substr(tile_data, 1, 2) from tiles").fetchall()
print(json.dumps({"meta": meta, "tiles": [[z, x, y, n, g.hex()] for z, x, y, n, g in rows]}))
"#;
    let out = Command::new("python3")
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let meta = &r["meta"];
    assert_eq!(meta["format"], "pbf");
    assert_eq!(meta["minzoom"], "0");
    assert_eq!(meta["maxzoom"], "11");
    let json: serde_json::Value = serde_json::from_str(meta["json"].as_str().unwrap()).unwrap();
    assert_eq!(json["vector_layers"][0]["id"], "comuni");
    let tiles = r["tiles"].as_array().unwrap();
    let s = Server::sample();
    let (x, y) = common::geo::tile_of(11, 11.25, 43.77);
    let tms_row = (1u32 << 11) - 1 - y;
    assert!(
        tiles
            .iter()
            .any(|t| t[0] == 11 && t[1] == x && t[2] == tms_row),
        "no row {tms_row} for tile 11/{x}/{y}"
    );
    // Every tile gzipped.
    assert!(tiles.iter().all(|t| t[4] == "1f8b"));
    let served = s.get(&format!(
        "/collections/comuni/tiles/WebMercatorQuad/11/{y}/{x}"
    ));
    assert_eq!(served.status, 200);
    // GDAL opens it as a vector dataset with the layer and its features.
    let info = Command::new(common::require_tool("ogrinfo"))
        .args(["-ro", "-so", "-al", "-oo", "ZOOM_LEVEL=11"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&info.stderr)
    );
    assert!(text.contains("Layer name: comuni"), "{text}");
    let count: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(count > 5, "{text}");
}

#[test]
fn bad_arguments_are_refused_clearly_and_write_nothing() {
    let dir = common::temp_dir();
    let out = dir.join("out.pmtiles");
    let o = out.to_str().unwrap();
    for (args, says) in [
        (
            vec!["--minzoom", "9", "--maxzoom", "4"],
            "--minzoom 9 is above --maxzoom 4",
        ),
        (vec!["--layer", "nessuno"], "nessuno"),
        (
            vec!["--struttura", "nessuna"],
            "there is no struttura `nessuna`",
        ),
        (vec!["--bbox", "1,2,3"], "--bbox 1,2,3"),
        (vec!["--bbox", "20,50,21,51"], "outside the data"),
        (vec!["--maxzoom", "40"], "--maxzoom 40"),
    ] {
        let mut all = args.clone();
        all.extend(["-o", o]);
        refused(&all, says);
        assert!(!out.exists() && !Path::new(&format!("{o}.partial")).exists());
    }
    refused(
        &["-o", "/nessuna/cartella/out.pmtiles"],
        "/nessuna/cartella/out.pmtiles",
    );
}

#[test]
fn an_interrupted_run_leaves_the_archive_that_was_there() {
    let dir = common::temp_dir();
    let file = dir.join("toscana.mbtiles");
    std::fs::write(&file, b"the archive before").unwrap();
    let partial = dir.join("toscana.mbtiles.partial");
    // Deep enough to take a while.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("seed")
        .args(["--config", sample_config().to_str().unwrap()])
        .args(["--maxzoom", "16", "--threads", "1", "-o"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::eventually("the working copy appears", || partial.exists());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    child.wait().unwrap();
    assert!(running, "finished too soon to interrupt");
    assert_eq!(std::fs::read(&file).unwrap(), b"the archive before");
    // The next run replaces the working copy, and then the archive.
    seeded(&["--maxzoom", "4", "-o", file.to_str().unwrap()]);
    assert!(!partial.exists());
    assert_ne!(std::fs::read(&file).unwrap(), b"the archive before");
}

/// The sample's cultural heritage points as a FlatGeobuf file at `to`, with the name of
/// those inside `changed` (west, south, east, north) replaced when it is given.
fn beni(to: &Path, changed: Option<(f64, f64, f64, f64)>) {
    let name = match changed {
        Some((w, s, e, n)) => format!(
            "case when ST_X(geometry) between {w} and {e} and ST_Y(geometry) between {s} and {n} then 'cambiato' else denominazione end"
        ),
        None => "denominazione".into(),
    };
    let _ = std::fs::remove_file(to);
    let out = Command::new(common::require_tool("ogr2ogr"))
        .args(["-f", "FlatGeobuf"])
        .arg(to)
        .arg(common::repo().join("sample-data/beni_culturali.fgb"))
        .args(["-nln", "beni", "-dialect", "SQLite", "-sql"])
        .arg(format!(
            "select codice, {name} as denominazione, tipo, comune, geometry from beni_culturali"
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_update_equals_a_full_seed_of_the_changed_data() {
    use tessera::archive::pmtiles_read::PmtilesSource;
    use tessera::tiles::matrix::TileCoord;
    let dir = common::temp_dir();
    let data = dir.join("beni.fgb");
    beni(&data, None);
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        common::layer_toml_from(
            "beni",
            r#"flatgeobuf = "beni.fgb""#,
            r#"struttura = ["patrimonio_culturale_paesaggistico"], stato = "di_fatto""#,
            "",
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("seed")
            .args(["--config", config.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let archive = dir.join("beni.pmtiles");
    run(&["--maxzoom", "11", "-o", archive.to_str().unwrap()]);
    let before = std::fs::read(&archive).unwrap();
    // Florence's points are renamed; the archive is made again around them only.
    let florence = (11.1, 43.6, 11.4, 43.9);
    beni(&data, Some(florence));
    let b = format!(
        "{},{},{},{}",
        florence.0, florence.1, florence.2, florence.3
    );
    // Its zooms come from the archive.
    let summary = run(&["--update", archive.to_str().unwrap(), "--bbox", &b]);
    let kept: u64 = summary
        .split(", ")
        .find_map(|p| p.split_once(" kept as they were").map(|(n, _)| n))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(kept > 10, "{summary}");
    let full = dir.join("full.pmtiles");
    run(&["--maxzoom", "11", "-o", full.to_str().unwrap()]);
    std::fs::write(dir.join("before.pmtiles"), &before).unwrap();
    let (updated, full, before) = (
        PmtilesSource::open_file(&archive).unwrap(),
        PmtilesSource::open_file(&full).unwrap(),
        PmtilesSource::open_file(&dir.join("before.pmtiles")).unwrap(),
    );
    let (u, f) = (updated.header(), full.header());
    assert_eq!(
        (u.min_zoom, u.max_zoom, u.tile_compression),
        (f.min_zoom, f.max_zoom, f.tile_compression)
    );
    let (mut same, mut changed) = (0, 0);
    for z in 0..=11u8 {
        let (x0, y0) = common::geo::tile_of(z.into(), 9.7, 44.45);
        let (x1, y1) = common::geo::tile_of(z.into(), 12.3, 42.3);
        for x in x0..=x1 {
            for y in y0..=y1 {
                let c = TileCoord { z, x, y };
                let (u, f) = (updated.read_tile(c).unwrap(), full.read_tile(c).unwrap());
                assert!(u == f, "{z}/{x}/{y}: the update differs from a full seed");
                if f == before.read_tile(c).unwrap() {
                    same += 1;
                } else {
                    changed += 1;
                }
            }
        }
    }
    // Some tiles changed (those over Florence), most did not.
    assert!(
        changed > 5 && same > changed,
        "{changed} changed, {same} the same"
    );
}
