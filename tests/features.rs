//! OGC API - Features Part 1 over the sample data, through the real binary: the landing page,
//! conformance, collections, items, paging, bbox, datetime, property filters, single features.

mod common;

use common::{Server, all_pages, geo::coords, geo::geometry};
use geo::Intersects;
use geo_types::{Coord, Rect};
use serde_json::Value;
use std::collections::HashSet;

const CORE: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core";

fn links<'a>(v: &'a Value, rel: &str) -> Vec<&'a Value> {
    v["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == rel)
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].to_string())
        .collect()
}

#[test]
fn landing_page_links_everything_clients_need() {
    let s = Server::sample();
    let r = s.get_with("/", &[("Accept", "application/json")]);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let v = r.json();
    for l in v["links"].as_array().unwrap() {
        assert!(
            l["href"].as_str().unwrap().starts_with("http://"),
            "relative link {l}"
        );
        assert!(l["type"].is_string() && l["rel"].is_string());
    }
    let desc = links(&v, "service-desc");
    assert_eq!(
        desc[0]["type"],
        "application/vnd.oai.openapi+json;version=3.0"
    );
    assert_eq!(links(&v, "service-doc")[0]["type"], "text/html");
    assert!(!links(&v, "conformance").is_empty() && !links(&v, "data").is_empty());
    // The L.R. 65 grouping: 6 strutture × 2 stati.
    let gruppi = v["patrimonio_territoriale"]["gruppi"].as_array().unwrap();
    assert_eq!(
        gruppi.iter().filter(|g| !g["struttura"].is_null()).count(),
        12
    );
    // The service-desc link serves the OpenAPI media type.
    let api_path = desc[0]["href"]
        .as_str()
        .unwrap()
        .split_once(&s.addr)
        .unwrap()
        .1
        .to_string();
    let api = s.get_with(
        &api_path,
        &[("Accept", "application/vnd.oai.openapi+json;version=3.0")],
    );
    assert_eq!(api.status, 200);
    assert_eq!(
        api.header("content-type").unwrap(),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    assert_eq!(api.json()["openapi"], "3.0.3");
}

#[test]
fn conformance_declares_the_implemented_classes() {
    let s = Server::sample();
    let v = s.json("/conformance");
    let classes: Vec<&str> = v["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in ["core", "geojson", "html", "oas30"] {
        assert!(
            classes.contains(
                &format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}").as_str()
            ),
            "{c}"
        );
    }
    assert!(classes.contains(&CORE));
}

#[test]
fn collections_are_complete_and_classified() {
    let s = Server::sample();
    let v = s.json("/collections");
    assert_eq!(links(&v, "self")[0]["type"], "application/json");
    assert_eq!(links(&v, "alternate")[0]["type"], "text/html");
    let cols = v["collections"].as_array().unwrap();
    assert_eq!(cols.len(), 8);
    let mut strutture = HashSet::new();
    let mut stati = HashSet::new();
    for c in cols {
        let id = c["id"].as_str().unwrap();
        assert_eq!(c["itemType"], "feature");
        assert_eq!(c["crs"][0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        let item_types: Vec<&str> = links(c, "items")
            .iter()
            .map(|l| l["type"].as_str().unwrap())
            .collect();
        assert!(
            item_types.contains(&"application/geo+json") && item_types.contains(&"text/html"),
            "{id}"
        );
        assert!(!links(c, "license").is_empty(), "{id} has no license link");
        let bbox = &c["extent"]["spatial"]["bbox"][0];
        assert!(
            bbox[0].as_f64().unwrap() > 9.5 && bbox[2].as_f64().unwrap() < 12.5,
            "{id} extent {bbox}"
        );
        for s in c["classificazione"]["struttura"].as_array().unwrap() {
            strutture.insert(s.as_str().unwrap().to_string());
        }
        stati.insert(c["classificazione"]["stato"].as_str().unwrap().to_string());
        // The single-collection document repeats the /collections entry.
        let one = s.json(&format!("/collections/{id}"));
        for key in ["id", "title", "description", "extent", "itemType"] {
            assert_eq!(one[key], c[key], "{id}.{key}");
        }
        for l in c["links"].as_array().unwrap() {
            assert!(one["links"].as_array().unwrap().contains(l), "{id}: {l}");
        }
    }
    assert_eq!(strutture.len(), 6, "{strutture:?}");
    assert_eq!(stati.len(), 2, "{stati:?}");
    let diritto = cols
        .iter()
        .find(|c| c["id"] == "pericolosita_idraulica")
        .unwrap();
    assert_eq!(diritto["classificazione"]["tipo_diritto"], "pericolosita");
    assert_eq!(diritto["classificazione"]["atto"]["fase"], "approvato");
    assert_eq!(
        diritto["metadati"]["storage_crs"],
        "http://www.opengis.net/def/crs/EPSG/0/6707"
    );
    assert_eq!(diritto["metadati"]["sintetico"], true);
}

#[test]
fn items_page_has_counts_links_and_timestamp() {
    let s = Server::sample();
    let r = s.get_with(
        "/collections/comuni/items",
        &[("Accept", "application/geo+json")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").unwrap(), "application/geo+json");
    let v = r.json();
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(v["numberReturned"], 10);
    assert_eq!(v["features"].as_array().unwrap().len(), 10);
    assert_eq!(v["numberMatched"], 273);
    let ts = v["timeStamp"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok(),
        "{ts}"
    );
    for rel in ["self", "alternate", "next", "collection"] {
        assert!(!links(&v, rel).is_empty(), "{rel}");
    }
    assert!(links(&v, "prev").is_empty());
    assert!(r.header("link").unwrap().contains("rel=\"next\""));
    // Every coordinate is CRS84 and inside Tuscany, whatever the storage CRS.
    for layer in [
        "comuni",
        "territorio_urbanizzato",
        "pericolosita_idraulica",
        "beni_culturali",
        "reticolo_idrografico",
    ] {
        let page = s.json(&format!("/collections/{layer}/items?limit=50"));
        let mut pts = Vec::new();
        for f in page["features"].as_array().unwrap() {
            coords(&f["geometry"]["coordinates"], &mut pts);
        }
        assert!(!pts.is_empty());
        for (x, y) in pts {
            assert!(
                (9.5..12.5).contains(&x) && (42.0..44.6).contains(&y),
                "{layer}: ({x}, {y})"
            );
        }
    }
}

#[test]
fn limit_above_maximum_is_clamped_and_said() {
    let s = Server::sample();
    let r = s.get("/collections/beni_culturali/items?limit=20000");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numberReturned"], 500);
    assert!(r.header("tessera-limit").unwrap().contains("maximum=10000"));
    let r = s.get("/collections/beni_culturali/items?limit=7");
    assert_eq!(r.json()["numberReturned"], 7);
}

#[test]
fn paging_with_next_returns_every_feature_once() {
    let s = Server::sample();
    for (first, total) in [
        ("/collections/aree_boscate/items?limit=37", 400),
        ("/collections/comuni/items?limit=50&f=json", 273),
        ("/collections/territorio_urbanizzato/items?limit=100", 273),
    ] {
        let pages = all_pages(&s, first);
        let mut seen = HashSet::new();
        for p in &pages {
            assert_eq!(p["numberMatched"], total);
            assert_eq!(
                p["numberReturned"].as_u64().unwrap() as usize,
                p["features"].as_array().unwrap().len()
            );
            for id in ids(p) {
                assert!(seen.insert(id.clone()), "{first}: {id} twice");
            }
        }
        assert_eq!(seen.len(), total, "{first}");
    }
    // prev goes back to the previous page.
    let second = s.json("/collections/aree_boscate/items?limit=37&offset=37");
    let prev = links(&second, "prev")[0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let prev_page = s.json(&prev[prev.find("/collections").unwrap()..]);
    assert_eq!(
        ids(&prev_page),
        ids(&s.json("/collections/aree_boscate/items?limit=37"))
    );
}

fn all_features(s: &Server, layer: &str) -> Vec<Value> {
    s.json(&format!("/collections/{layer}/items?limit=10000"))["features"]
        .as_array()
        .unwrap()
        .clone()
}

/// The server's bbox result equals a brute-force intersects over every feature of the layer.
fn assert_bbox_matches(
    s: &Server,
    layer: &str,
    all: &[Value],
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) {
    let rect = Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 });
    let expected: HashSet<String> = all
        .iter()
        .filter(|f| geometry(&f["geometry"]).is_none_or(|g| g.intersects(&rect)))
        .map(|f| f["id"].to_string())
        .collect();
    let page = s.json(&format!(
        "/collections/{layer}/items?limit=10000&bbox={x0},{y0},{x1},{y1}"
    ));
    let got: HashSet<String> = ids(&page).into_iter().collect();
    assert_eq!(got, expected, "{layer} bbox {x0},{y0},{x1},{y1}");
    assert_eq!(
        page["numberMatched"].as_u64().unwrap() as usize,
        expected.len()
    );
}

#[test]
fn bbox_matches_a_brute_force_filter() {
    let s = Server::sample();
    let boxes = [
        (11.0, 43.6, 11.4, 43.9),
        (10.0, 42.5, 10.6, 43.1),
        (9.0, 40.0, 13.0, 45.0),
        (11.2558, 43.7696, 11.2559, 43.7697),
        (0.0, 0.0, 1.0, 1.0),
    ];
    for layer in [
        "comuni",
        "territorio_urbanizzato",
        "pericolosita_idraulica",
        "beni_culturali",
        "reticolo_idrografico",
        "aree_boscate",
    ] {
        let all = all_features(&s, layer);
        for (x0, y0, x1, y1) in boxes {
            assert_bbox_matches(&s, layer, &all, (x0, y0, x1, y1));
        }
    }
}

#[test]
fn datetime_filters_temporal_layers() {
    let s = Server::sample();
    let all = all_features(&s, "beni_culturali");
    let year = |f: &Value| {
        f["properties"]["data_vincolo"].as_str().unwrap()[..4]
            .parse::<i32>()
            .unwrap()
    };
    for (param, test) in [
        (
            "1950-01-01/1960-12-31",
            Box::new(|y: i32| (1950..=1960).contains(&y)) as Box<dyn Fn(i32) -> bool>,
        ),
        ("../1920-12-31", Box::new(|y: i32| y <= 1920)),
        ("2000-01-01T00:00:00Z/..", Box::new(|y: i32| y >= 2000)),
    ] {
        let expected = all.iter().filter(|f| test(year(f))).count();
        let page = s.json(&format!(
            "/collections/beni_culturali/items?limit=10000&datetime={param}"
        ));
        assert_eq!(
            page["numberMatched"].as_u64().unwrap() as usize,
            expected,
            "{param}"
        );
        assert!(
            expected > 0,
            "{param} selects nothing: the test proves nothing"
        );
        for f in page["features"].as_array().unwrap() {
            assert!(test(year(f)), "{param}: {f}");
        }
    }
    let ext = &s.json("/collections/beni_culturali")["extent"]["temporal"]["interval"][0];
    assert!(ext[0].as_str().unwrap().starts_with("19"), "{ext}");
}

/// OGC API - Features /req/core/fc-time-response: on a collection without time, `datetime` is
/// accepted and every feature (having no time) matches it.
#[test]
fn datetime_on_a_collection_without_time_matches_every_feature() {
    let s = Server::sample();
    let all = s.json("/collections/comuni/items?limit=1")["numberMatched"].clone();
    assert!(all.as_u64().unwrap() > 200);
    for dt in ["2020-01-01", "1900-01-01T00:00:00Z/..", "../2020-12-31"] {
        let page = s.json(&format!("/collections/comuni/items?limit=1&datetime={dt}"));
        assert_eq!(page["numberMatched"], all, "{dt}");
    }
}

#[test]
fn property_filters_match_brute_force() {
    let s = Server::sample();
    let all = all_features(&s, "comuni");
    let fi = all
        .iter()
        .filter(|f| f["properties"]["sigla_prov"] == "FI")
        .count();
    let page = s.json("/collections/comuni/items?sigla_prov=FI&limit=100");
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, fi);
    assert!(fi > 30);
    assert!(
        page["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["sigla_prov"] == "FI")
    );
    // Integer property, combined with a bbox.
    let rivers = all_features(&s, "reticolo_idrografico");
    let second = rivers
        .iter()
        .filter(|f| f["properties"]["ordine"] == 2)
        .count();
    let page = s.json("/collections/reticolo_idrografico/items?ordine=2&limit=1000");
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, second);
    let page = s.json("/collections/comuni/items?sigla_prov=FI&nome=Firenze");
    assert_eq!(page["numberMatched"], 1);
}

#[test]
fn single_feature_by_id() {
    let s = Server::sample();
    let r = s.get("/collections/comuni/items/048017");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type").unwrap(), "application/geo+json");
    let f = r.json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], "048017");
    assert_eq!(f["properties"]["nome"], "Firenze");
    for rel in ["self", "alternate", "collection"] {
        assert!(!links(&f, rel).is_empty(), "{rel}");
    }
    // Position ids for layers without an id property, and the same feature as in the list.
    let list = s.json("/collections/reticolo_idrografico/items?limit=3&offset=5");
    let first = &list["features"][0];
    let one = s.json(&format!(
        "/collections/reticolo_idrografico/items/{}",
        first["id"]
    ));
    assert_eq!(one["geometry"], first["geometry"]);
    assert_eq!(one["properties"], first["properties"]);
}

#[test]
fn html_pages_for_browsers() {
    let s = Server::sample();
    let browser = [(
        "Accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    )];
    for (path, needle) in [
        ("/", "Struttura idro-geomorfologica"),
        ("/collections", "pericolosita_idraulica"),
        ("/collections/pericolosita_idraulica", "6707"),
        ("/collections/comuni/items", "maplibre"),
        ("/collections/comuni/items/048017", "Firenze"),
        ("/conformance", "ogcapi-features-1"),
        ("/api", "getFeatures.comuni"),
    ] {
        let r = s.get_with(path, &browser);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{path}"
        );
        assert!(r.text().contains(needle), "{path} lacks {needle}");
    }
    // `*/*` gets JSON, and f=json wins over a browser's Accept.
    assert!(
        s.get_with("/collections", &[("Accept", "*/*")])
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(
        s.get_with("/collections?f=json", &browser)
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(
        s.get("/collections?f=html")
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

#[test]
fn html_pages_link_html_pages() {
    let s = Server::sample();
    let r = s.get("/collections/aree_boscate/items?f=html&limit=10&offset=10");
    assert_eq!(r.status, 200);
    let link: Vec<&str> = r
        .headers
        .iter()
        .filter(|(k, _)| k == "link")
        .map(|(_, v)| v.as_str())
        .collect();
    let link = link.join(", ");
    assert!(
        link.contains("rel=\"next\"; type=\"text/html\"") && link.contains("f=html"),
        "{link}"
    );
    assert!(link.contains("rel=\"prev\""), "{link}");
    let landing = s.json("/");
    assert!(!links(&landing, "http://www.opengis.net/def/rel/ogc/1.0/data").is_empty());
}

#[test]
fn bbox_on_projected_layers_matches_brute_force_for_many_boxes() {
    // Layers stored in EPSG:3003 and EPSG:6707: the query box is carried into the storage CRS,
    // so edge cases (features near the curved edges of its image) are worth many boxes.
    let s = Server::sample();
    let mut seed = 0x2014_0065u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for layer in ["territorio_urbanizzato", "pericolosita_idraulica"] {
        let all = all_features(&s, layer);
        for _ in 0..30 {
            let size = 0.005 + next() * 0.6;
            let (x0, y0) = (9.7 + next() * 2.5, 42.3 + next() * 2.0);
            let (x1, y1) = (x0 + size, y0 + size * (0.5 + next()));
            assert_bbox_matches(&s, layer, &all, (x0, y0, x1, y1));
        }
    }
}
