//! The request sequences real clients send (QGIS 3.22, OWSLib, the OGC test suite), replayed
//! against the server, and OWSLib itself driving it.

mod common;

use common::{Server, venv_python};
use serde_json::Value;

fn rel<'a>(v: &'a Value, rel: &str, media: Option<&str>) -> Option<&'a str> {
    v["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel && media.is_none_or(|m| l["type"] == m))
        .and_then(|l| l["href"].as_str())
}

fn path_of<'a>(s: &Server, href: &'a str) -> &'a str {
    href.strip_prefix(&s.url(""))
        .unwrap_or_else(|| panic!("{href} is not absolute on this server"))
}

#[test]
fn qgis_3_22_sequence() {
    let s = Server::sample();
    let landing = s
        .get_with(
            "/",
            &[
                ("Accept", "application/json"),
                ("User-Agent", "Mozilla/5.0 QGIS/32216"),
            ],
        )
        .json();
    let api_href = rel(
        &landing,
        "service-desc",
        Some("application/vnd.oai.openapi+json;version=3.0"),
    )
    .expect("service-desc");
    let data_href = rel(&landing, "data", Some("application/json")).expect("data");
    let api = s
        .get_with(path_of(&s, api_href), &[("Accept", "application/vnd.oai.openapi+json;version=3.0, application/openapi+json;version=3.0, application/json")])
        .json();
    let limit = &api["components"]["parameters"]["limit"]["schema"];
    let (default, maximum) = (
        limit["default"].as_i64().unwrap(),
        limit["maximum"].as_i64().unwrap(),
    );
    let page_size = 1000.max(default).min(maximum);
    // QGIS strips the query from the data link and appends the collection id.
    let collections_path = path_of(&s, data_href.split('?').next().unwrap()).to_string();
    let collection = s.get_with(
        &format!("{collections_path}/beni_culturali"),
        &[("Accept", "application/json")],
    );
    assert_eq!(collection.status, 200);
    let items = format!("{collections_path}/beni_culturali/items");
    let first10 = s
        .get_with(
            &format!("{items}?limit=10"),
            &[("Accept", "application/geo+json, application/json")],
        )
        .json();
    assert_eq!(first10["features"].as_array().unwrap().len(), 10);
    let count = s.get(&format!("{items}?limit=1")).json()["numberMatched"]
        .as_u64()
        .unwrap();
    // Download in pages, following next links verbatim, with a bbox written the way QGIS does.
    let mut path = format!(
        "{items}?limit={page_size}&bbox=10.5,43.20000000000000284,11.5,43.79999999999999716"
    );
    let mut got = 0;
    loop {
        let page = s
            .get_with(
                &path,
                &[("Accept", "application/geo+json, application/json")],
            )
            .json();
        got += page["features"].as_array().unwrap().len();
        match rel(&page, "next", Some("application/geo+json")) {
            Some(next) => path = path_of(&s, next).to_string(),
            None => break,
        }
    }
    let matched = s
        .get(&format!("{items}?limit=1&bbox=10.5,43.2,11.5,43.8"))
        .json()["numberMatched"]
        .as_u64()
        .unwrap();
    assert_eq!(got as u64, matched);
    assert!(matched > 0 && matched < count);
}

#[test]
fn ogc_test_suite_probes() {
    let s = Server::sample();
    // FeaturesBBox sends these boxes to every collection: each must answer 200.
    for bbox in [
        "-1.5,50,1.5,53",
        "-80,-5,-70,5",
        "177,65,-177,70",
        "-180,85,180,90",
        "-180,-90,180,-85",
    ] {
        for c in ["comuni", "pericolosita_idraulica", "beni_culturali"] {
            let r = s.get_with(
                &format!("/collections/{c}/items?bbox={bbox}"),
                &[("Accept", "application/geo+json")],
            );
            assert_eq!(r.status, 200, "{c} bbox={bbox}: {}", r.text());
            assert_eq!(r.json()["numberMatched"], 0);
        }
    }
    // FeaturesLimit: limit = minimum, and halfway to the maximum (capped at 100).
    let min = s.json("/collections/comuni/items?limit=1");
    assert_eq!(min["features"].as_array().unwrap().len(), 1);
    let mid = s.json("/collections/comuni/items?limit=100");
    assert_eq!(mid["features"].as_array().unwrap().len(), 100);
    // numberMatched equals what paging at the maximum returns.
    let doc = s.json("/api");
    let max = doc["components"]["parameters"]["limit"]["schema"]["maximum"]
        .as_u64()
        .unwrap();
    let all = s.json(&format!("/collections/aree_boscate/items?limit={max}"));
    assert_eq!(
        all["numberMatched"].as_u64().unwrap() as usize,
        all["features"].as_array().unwrap().len()
    );
    // Feature: `{itemsUrl}/{id}` for the first feature of each collection.
    for c in s.json("/collections")["collections"].as_array().unwrap() {
        let items = rel(c, "items", Some("application/geo+json")).unwrap();
        let first = s
            .get_with(path_of(&s, items), &[("Accept", "application/geo+json")])
            .json();
        let id = &first["features"][0]["id"];
        let id = id
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| id.to_string());
        let f = s.get_with(
            &format!("{}/{id}", path_of(&s, items)),
            &[("Accept", "application/geo+json")],
        );
        assert_eq!(f.status, 200, "{items}/{id}");
        for rel_name in ["self", "alternate", "collection"] {
            assert!(
                rel(&f.json(), rel_name, None).is_some(),
                "{items}/{id}: {rel_name}"
            );
        }
    }
}

#[test]
fn owslib_reads_the_server() {
    let s = Server::sample();
    let script = r#"
import sys, json
from owslib.ogcapi.features import Features
w = Features(sys.argv[1])
out = {}
out["conformance"] = w.conformance()["conformsTo"]
out["collections"] = [c["id"] for c in w.feature_collections()] if isinstance(w.feature_collections()[0], dict) else w.feature_collections()
items = w.collection_items("comuni", bbox=[11.0, 43.6, 11.4, 43.9], limit=100)
out["bbox_matched"] = items["numberMatched"]
out["bbox_returned"] = len(items["features"])
out["firenze"] = w.collection_item("comuni", "048017")["properties"]["nome"]
out["api_openapi"] = w.api()["openapi"] if isinstance(w.api(), dict) else "parsed"
print(json.dumps(out))
"#;
    let out = std::process::Command::new(venv_python())
        .args(["-c", script, &s.url("/")])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "OWSLib failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["conformance"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().ends_with("/conf/core"))
    );
    assert_eq!(v["collections"].as_array().unwrap().len(), 8, "{v}");
    let expected =
        s.json("/collections/comuni/items?bbox=11.0,43.6,11.4,43.9&limit=1")["numberMatched"]
            .clone();
    assert_eq!(v["bbox_matched"], expected);
    assert_eq!(v["bbox_returned"], expected);
    assert_eq!(v["firenze"], "Firenze");
}
