//! Tilesets resolve to the same layers through the library as through HTTP: a collection,
//! each struttura, the dataset and a `collections=` selection; and their tile template is the
//! one the library writes.

mod common;

use common::{Server, sample_config};
use tessera::catalogue::{Placeholders, TilesetId};
use tessera::config::Config;
use tessera::lr65::{Struttura, Voce};

fn ids(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
        .iter()
        .map(|l| l["id"].as_str().expect("a layer id").to_string())
        .collect()
}

#[test]
fn tilesets_hold_the_same_layers_in_the_library_and_over_http() {
    let config = Config::load(&sample_config()).expect("the sample configuration");
    let catalogue = config.open_catalogue().expect("the sample data");
    let s = Server::sample();
    let base = s.url("");
    let base = base.trim_end_matches('/');

    let mut cases = vec![
        (TilesetId::Dataset, "/tiles".to_string(), String::new()),
        (
            TilesetId::Selection(vec!["province".into(), "comuni".into()]),
            "/tiles".into(),
            "?collections=province,comuni".into(),
        ),
        (
            TilesetId::Collection("reticolo_idrografico".into()),
            "/collections/reticolo_idrografico/tiles".into(),
            String::new(),
        ),
    ];
    for st in Struttura::ALL {
        cases.push((
            TilesetId::Struttura(*st),
            format!("/strutture/{}/tiles", st.id()),
            String::new(),
        ));
    }
    let mut layers_seen = 0;
    for (id, path, query) in cases {
        let ts = catalogue
            .tileset(&id, &config.server.title)
            .unwrap_or_else(|e| panic!("{id:?}: {e}"));
        let library: Vec<String> = ts.layers.iter().map(|l| l.meta.id.clone()).collect();
        layers_seen += library.len();

        let meta = s.json(&format!("{path}/WebMercatorQuad{query}"));
        assert_eq!(
            ids(&meta, "layers"),
            library,
            "{path}{query}: tileset metadata"
        );
        let tilejson = s.json(&format!("{path}/WebMercatorQuad/tilejson.json{query}"));
        assert_eq!(
            ids(&tilejson, "vector_layers"),
            library,
            "{path}{query}: TileJSON"
        );
        // The tile template the server links is the library's.
        let item = meta["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "item")
            .expect("an item link");
        assert_eq!(
            item["href"],
            ts.tile_template(base, "WebMercatorQuad", Placeholders::Ogc),
            "{path}{query}"
        );
        assert_eq!(
            tilejson["tiles"][0],
            ts.tile_template(base, "WebMercatorQuad", Placeholders::Xyz),
            "{path}{query}"
        );
    }
    assert!(
        layers_seen > 12,
        "the sample's tilesets hold layers ({layers_seen})"
    );

    // What the library refuses, HTTP refuses too.
    assert!(
        catalogue
            .tileset(
                &TilesetId::Selection(vec!["comuni".into(), "comuni".into()]),
                ""
            )
            .is_err()
    );
    s.get("/tiles/WebMercatorQuad?collections=comuni,comuni")
        .assert_exception(400);
    assert!(
        catalogue
            .tileset(&TilesetId::Collection("nessuna".into()), "")
            .is_err()
    );
    s.get("/collections/nessuna/tiles/WebMercatorQuad")
        .assert_exception(404);
}
