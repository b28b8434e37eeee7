//! The HTML maps load nothing from anywhere but tessera itself unless a basemap is configured:
//! MapLibre GL JS and its CSS come from `/assets/`.

mod common;
use common::{Server, repo, temp_dir};

/// Every URL a page makes the browser fetch: `src` and stylesheet `href` attributes, and the
/// absolute URLs written in its scripts (tile and style URLs). Plain links are not fetched.
fn fetched_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let fetching =
            tag.starts_with("script") || tag.starts_with("img") || tag.starts_with("link");
        if !fetching {
            continue;
        }
        for attr in ["src=\"", "href=\""] {
            if let Some(i) = tag.find(attr) {
                let rest = &tag[i + attr.len()..];
                let url = &rest[..rest.find('"').unwrap_or(rest.len())];
                // Attributes are HTML-escaped; the browser reads them unescaped.
                urls.push(url.replace("&#x2f;", "/").replace("&amp;", "&"));
            }
        }
    }
    for script in html.split("<script").skip(1) {
        let body = script.split("</script>").next().unwrap_or("");
        for scheme in ["http://", "https://"] {
            for (i, _) in body.match_indices(scheme) {
                let rest = &body[i..];
                let end = rest
                    .find(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                    .unwrap_or(rest.len());
                urls.push(rest[..end].to_string());
            }
        }
    }
    urls
}

fn map_pages(s: &Server) -> Vec<String> {
    let mut pages = vec!["/?f=html".to_string()];
    for c in s.json("/collections")["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        pages.push(format!("/collections/{id}?f=html"));
        pages.push(format!("/collections/{id}/items?f=html&limit=2"));
        let first = s.json(&format!("/collections/{id}/items?limit=1"));
        if let Some(fid) = first["features"][0]["id"].as_u64() {
            pages.push(format!("/collections/{id}/items/{fid}?f=html"));
        }
    }
    for st in s.json("/strutture")["strutture"].as_array().unwrap() {
        pages.push(format!("/strutture/{}?f=html", st["id"].as_str().unwrap()));
    }
    pages
}

#[test]
fn every_map_page_fetches_from_this_server_only() {
    let s = Server::sample();
    let base = s.url("");
    let pages = map_pages(&s);
    let mut maps = 0;
    for page in &pages {
        let r = s.get(page);
        assert_eq!(r.status, 200, "{page}");
        let html = r.text();
        if html.contains("maplibregl") {
            maps += 1;
        }
        for url in fetched_urls(&html) {
            assert!(
                // A data: URL (the empty favicon) is in the page itself.
                url.starts_with(base.trim_end_matches('/'))
                    || url.starts_with('/')
                    || url.starts_with("data:"),
                "{page} makes the browser fetch {url}"
            );
        }
    }
    assert!(
        maps >= 10,
        "only {maps} of {} pages have a map",
        pages.len()
    );

    // With no basemap, the maps draw the base layers (comuni, province) as a reference, from
    // this server's vector tiles.
    let html = s
        .get("/collections/reticolo_idrografico/items?f=html")
        .text();
    let reference = fetched_urls(&html)
        .into_iter()
        .find(|u| u.ends_with("/strutture/base/tiles/WebMercatorQuad/tilejson.json"))
        .expect("the items map draws the base layers under the features");
    let tilejson: serde_json::Value = s.get(&reference[base.trim_end_matches('/').len()..]).json();
    let ids: Vec<&str> = tilejson["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"comuni") && ids.contains(&"province"),
        "{ids:?}"
    );
    for id in ["comuni", "province"] {
        assert!(
            html.contains(&format!("\"{id}\"")),
            "the reference outlines {id}"
        );
    }

    // The assets the maps name are served, versioned and cacheable for long.
    let js = s.get_with(
        "/assets/maplibre-gl-4.7.1.js",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(js.header("content-encoding"), Some("gzip"));
    assert!(js.header("cache-control").unwrap().contains("immutable"));
    let js = s.get("/assets/maplibre-gl-4.7.1.js");
    assert!(
        js.text().contains("\"4.7.1\""),
        "the embedded release is 4.7.1"
    );
    let css = s.get("/assets/maplibre-gl-4.7.1.css");
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.text().contains(".maplibregl-map"));
    assert!(
        s.get("/assets/maplibre-gl-LICENSE.txt")
            .text()
            .contains("BSD")
    );
    s.get("/assets/../Cargo.toml").assert_exception(404);
    s.get("/assets/maplibre-gl-4.7.0.js").assert_exception(404);
}

#[test]
fn a_configured_basemap_is_drawn_and_a_bad_one_refused() {
    let dir = temp_dir();
    let comuni = repo().join("sample-data/comuni_toscana.fgb");
    let config = dir.join("basemap.toml");
    std::fs::write(
        &config,
        "[server]\nbasemap = \"https://tiles.example.it/ortofoto/{z}/{x}/{y}.jpg\"\n\
         basemap_attribution = \"Regione Toscana\"\n",
    )
    .unwrap();
    let s = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        comuni.to_str().unwrap(),
    ]);
    let id = s.json("/collections")["collections"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for page in [
        format!("/collections/{id}?f=html"),
        format!("/collections/{id}/items?f=html"),
    ] {
        let html = s.get(&page).text();
        assert!(
            fetched_urls(&html)
                .iter()
                .any(|u| u == "https://tiles.example.it/ortofoto/{z}/{x}/{y}.jpg"),
            "{page} draws the basemap"
        );
        assert!(html.contains("Regione Toscana"));
        assert!(
            !fetched_urls(&html).iter().any(|u| u.contains("tilejson")),
            "a basemap replaces the base layers' outlines"
        );
    }

    std::fs::write(&config, "[server]\nbasemap = \"file:///etc/passwd\"\n").unwrap();
    let err = Server::try_start(&[
        "--config",
        config.to_str().unwrap(),
        comuni.to_str().unwrap(),
    ])
    .err()
    .expect("a basemap that is not an http(s) tile URL is refused");
    assert!(err.contains("server.basemap"), "{err}");
}
