//! GDAL's real OGC API - Features client (Debian's gdal-bin) against the server.

mod common;

use common::{Server, require_tool};
use std::process::Command;

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(require_tool(tool))
        .args(args)
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?} failed:\n{text}");
    text
}

fn feature_count(info: &str) -> u64 {
    info.lines()
        .find_map(|l| l.trim().strip_prefix("Feature Count: "))
        .unwrap_or_else(|| panic!("no feature count in:\n{info}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn ogrinfo_counts_what_the_server_matches() {
    let s = Server::sample();
    let url = format!("OAPIF:{}", s.url("/"));
    for layer in ["comuni", "territorio_urbanizzato", "beni_culturali"] {
        let info = run("ogrinfo", &["-ro", "-so", &url, layer]);
        let matched = s.json(&format!("/collections/{layer}/items?limit=1"))["numberMatched"]
            .as_u64()
            .unwrap();
        assert_eq!(feature_count(&info), matched, "{layer}:\n{info}");
    }
}

#[test]
fn ogr2ogr_downloads_every_feature_through_paging() {
    let s = Server::sample();
    let url = format!("OAPIF:{}", s.url("/"));
    let dir = std::env::temp_dir().join(format!("tessera-gdal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (layer, extra) in [
        ("aree_boscate", vec!["-oo", "PAGE_SIZE=70"]),
        ("comuni", vec!["-spat", "11.0", "43.6", "11.4", "43.9"]),
        ("comuni", vec!["-where", "sigla_prov = 'PI'"]),
    ] {
        let out = dir.join(format!(
            "{layer}-{}.geojson",
            extra.len() + extra.first().map_or(0, |e| e.len())
        ));
        let _ = std::fs::remove_file(&out);
        let mut args = vec!["-f", "GeoJSON", out.to_str().unwrap(), url.as_str(), layer];
        args.extend(extra.iter().copied());
        run("ogr2ogr", &args);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let got = v["features"].as_array().unwrap().len() as u64;
        let query = match extra[0] {
            "-spat" => "&bbox=11.0,43.6,11.4,43.9",
            "-where" => "&sigla_prov=PI",
            _ => "",
        };
        let matched =
            s.json(&format!("/collections/{layer}/items?limit=1{query}"))["numberMatched"]
                .as_u64()
                .unwrap();
        assert_eq!(got, matched, "{layer} {extra:?}");
        assert!(got > 0);
    }
}
