//! MapLibre styles and the struttura pages: every style validates with MapLibre's own style
//! validator (npm `@maplibre/maplibre-gl-style-spec`), draws only layers its tiles hold, and
//! points at this server.

mod common;

use common::Server;
use serde_json::Value;
use std::collections::BTreeSet;

fn validator() -> std::path::PathBuf {
    let p = std::env::var_os("TESSERA_TEST_NODE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::repo().join(".node"))
        .join("node_modules/.bin/gl-style-validate");
    assert!(
        p.is_file(),
        "{} is missing: run the test suite with `bash tests/run-all.sh`, which installs it",
        p.display()
    );
    p
}

fn path_of(href: &str) -> &str {
    let rest = href.strip_prefix("http://").unwrap();
    &rest[rest.find('/').unwrap()..]
}

/// The MVT layer names the style's tile source holds, from a tile of each zoom's TileJSON.
fn source_layers(s: &Server, style: &Value) -> BTreeSet<String> {
    let tiles = style["sources"]["tessera"]["tiles"][0].as_str().unwrap();
    let tilejson = tiles.replace("/{z}/{y}/{x}", "/tilejson.json");
    s.json(path_of(&tilejson))["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_style_validates_and_matches_its_tiles() {
    let s = Server::sample();
    let list = s.json("/styles");
    let mut hrefs: Vec<String> = list["styles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["links"][0]["href"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hrefs.len(), 7, "one per struttura and one for everything");
    hrefs.push(s.url("/collections/pericolosita_idraulica/styles/default"));
    hrefs.push(s.url("/collections/beni_culturali/styles/default"));
    let dir = std::env::temp_dir().join(format!("tessera-styles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for href in &hrefs {
        let r = s.get(path_of(href));
        assert_eq!(r.status, 200, "{href}");
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.mapbox.style+json")
        );
        let style = r.json();
        let file = dir.join("style.json");
        std::fs::write(&file, &r.body).unwrap();
        let out = std::process::Command::new(validator())
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{href} does not validate:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(style["version"], 8);
        let tiles = style["sources"]["tessera"]["tiles"][0].as_str().unwrap();
        assert!(tiles.starts_with(&s.url("/")), "{tiles}");
        let held = source_layers(&s, &style);
        let mut ids = BTreeSet::new();
        for l in style["layers"].as_array().unwrap() {
            assert!(
                ids.insert(l["id"].as_str().unwrap().to_string()),
                "duplicate id"
            );
            let kind = l["type"].as_str().unwrap();
            assert!(
                ["background", "fill", "line", "circle"].contains(&kind),
                "{kind}: QGIS reads fill, line and circle"
            );
            if kind != "background" {
                let sl = l["source-layer"].as_str().unwrap();
                assert!(held.contains(sl), "{href}: {sl} is not in the tiles");
            }
        }
        // Every layer of the tiles is drawn.
        for h in &held {
            assert!(
                style["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["source-layer"] == h.as_str()),
                "{href}: {h} is not drawn"
            );
        }
    }
}

#[test]
fn cartography_follows_the_classification() {
    let s = Server::sample();
    let palette: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("styles/strutture.json")).unwrap(),
    )
    .unwrap();
    let all = s.json("/styles/tutto");
    let layers = all["layers"].as_array().unwrap();
    let find = |id: &str| {
        layers
            .iter()
            .find(|l| l["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let colours = |s: &str, stato: &str| palette["strutture"][s][stato].clone();
    // Di diritto: a light tint, a hatch from the sprite in the struttura's di diritto colour,
    // and an outline in its kind's pattern (pericolosità: dots), above the di fatto areas.
    let idro_diritto = colours("idro_geomorfologica", "di_diritto")[0].clone();
    let pericolosita = find("pericolosita_idraulica-contorno");
    assert_eq!(
        pericolosita["paint"]["line-dasharray"],
        serde_json::json!([1.0, 1.5])
    );
    assert_eq!(pericolosita["paint"]["line-color"], idro_diritto);
    assert_eq!(
        find("pericolosita_idraulica-velatura")["paint"]["fill-opacity"],
        0.08
    );
    let hatch = find("pericolosita_idraulica-tratteggio")["paint"]["fill-pattern"]
        .as_str()
        .unwrap();
    let hex = idro_diritto.as_str().unwrap().trim_start_matches('#');
    assert_eq!(hatch, format!("pericolosita-{hex}"));
    // The sprite the style names holds that hatch, at both pixel ratios.
    let sprite = all["sprite"].as_str().unwrap();
    assert_eq!(sprite, s.url("/styles/sprite"));
    for ratio in ["", "@2x"] {
        let index = s.json(&format!("/styles/sprite{ratio}.json"));
        assert!(index[hatch]["width"].as_u64().unwrap() >= 16, "{ratio}");
        let png = s.get(&format!("/styles/sprite{ratio}.png"));
        assert_eq!(png.header("content-type"), Some("image/png"));
        assert!(png.body.starts_with(b"\x89PNG"));
    }
    // A vincolo's outline is solid, a plan provision's dash-dot: the pattern says the kind.
    assert!(find("vincoli_paesaggistici-contorno")["paint"]["line-dasharray"].is_null());
    assert_eq!(
        find("territorio_urbanizzato-contorno")["paint"]["line-dasharray"],
        serde_json::json!([5.0, 2.0, 1.0, 2.0])
    );
    assert!(
        find("vincoli_paesaggistici-tratteggio")["paint"]["fill-pattern"]
            .as_str()
            .unwrap()
            .starts_with("vincolo-")
    );
    let position = |id: &str| layers.iter().position(|l| l["id"] == id).unwrap();
    assert!(position("pericolosita_idraulica-tratteggio") > position("aree_boscate-riempimento"));
    // Lines over every area: the rivers stay visible across the hazard zones along them.
    assert!(position("reticolo_idrografico-linea") > position("pericolosita_idraulica-tratteggio"));
    // Di fatto: filled, solid, in the struttura's di fatto colour.
    let boschi = find("aree_boscate-contorno");
    assert!(boschi["paint"]["line-dasharray"].is_null());
    assert_eq!(
        find("aree_boscate-riempimento")["paint"]["fill-opacity"],
        0.35
    );
    assert_eq!(
        find("aree_boscate-riempimento")["paint"]["fill-color"],
        colours("agro_forestale", "di_fatto")[0]
    );
    // Base layers: outlines only.
    assert!(layers.iter().all(|l| l["id"] != "comuni-riempimento"));
    // Stand-ins for features too small to draw: squares, more opaque where they cover more.
    let densities: Vec<f64> = (1..=3)
        .map(|k| {
            find(&format!("aree_boscate-densita-{k}"))["paint"]["fill-opacity"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(densities.windows(2).all(|w| w[0] < w[1]), "{densities:?}");
    // Points and lines; a di diritto point is a ring.
    assert_eq!(find("beni_culturali-punto")["type"], "circle");
    assert_eq!(
        find("beni_culturali-punto")["paint"]["circle-color"],
        "#ffffff"
    );
    assert_eq!(find("reticolo_idrografico-linea")["type"], "line");
    // A struttura's style draws its layers in its colour family; each layer's layers carry
    // its strutture and stato, for the landing map's switcher.
    let eco = s.json("/styles/ecosistemica");
    let family: Vec<Value> = ["di_fatto", "di_diritto"]
        .iter()
        .flat_map(|st| colours("ecosistemica", st).as_array().unwrap().clone())
        .collect();
    for l in eco["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["type"] == "line")
    {
        assert!(family.contains(&l["paint"]["line-color"]), "{}", l["id"]);
        assert!(
            l["metadata"]["tessera:strutture"]
                .as_array()
                .unwrap()
                .contains(&"ecosistemica".into())
        );
        assert!(l["metadata"]["tessera:stato"].is_string());
    }
    s.get("/styles/nessuno").assert_exception(404);
    s.get("/collections/nessuna/styles/default")
        .assert_exception(404);
    s.get("/styles/tutto?f=json").assert_exception(400);
}

#[test]
fn struttura_pages_show_their_tiles() {
    let s = Server::sample();
    let list = s.json("/strutture");
    assert_eq!(list["strutture"].as_array().unwrap().len(), 6);
    let idro = s.json("/strutture/idro_geomorfologica");
    let ids: Vec<&str> = idro["stati"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["collections"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"reticolo_idrografico") && ids.contains(&"pericolosita_idraulica"),
        "{ids:?}"
    );
    let rels: Vec<&str> = idro["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert!(
        rels.contains(&"stylesheet")
            && rels.contains(&"http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
    );
    let page = s.get_with("/strutture/idro_geomorfologica", &[("Accept", "text/html")]);
    assert_eq!(page.status, 200);
    // Attributes are HTML-escaped (`/` as `&#x2f;`); a browser reads them unescaped.
    let html = page.text().replace("&#x2f;", "/");
    assert!(
        html.contains(&format!("{}/styles/idro_geomorfologica", s.url(""))),
        "the map draws the struttura's style"
    );
    assert!(html.contains("Reticolo idrografico"));
    let collection = s
        .get_with("/collections/aree_boscate", &[("Accept", "text/html")])
        .text()
        .replace("&#x2f;", "/");
    assert!(
        collection.contains("/collections/aree_boscate/styles/default"),
        "the collection map draws its tiles"
    );
    s.get("/strutture/idraulica").assert_exception(404);
    let landing = s.get_with("/", &[("Accept", "text/html")]).text();
    assert!(landing.contains("/strutture/insediativa?f=html"));
}
