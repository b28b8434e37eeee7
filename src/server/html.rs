//! Server-side HTML: every JSON resource also as a page, with MapLibre maps of the features.

use super::{ApiError, App};
use crate::catalogue::{Layer, TilesetId};
use crate::lr65::{StatoKind, Struttura, Voce};
use crate::styles;
use crate::tiles::TileSource;
use axum::http::StatusCode;
use minijinja::{Environment, context};
use serde_json::Value as Json;

pub struct Templates {
    env: Environment<'static>,
}

/// The MapLibre layers that draw a collection's GeoJSON (source `f`) on the items and feature
/// maps: the same symbol as in its tiles' style.
fn geojson_layers(app: &App, layer: &Layer) -> Json {
    let symbol = app.palette.symbol(app.catalogue.layers(), layer, None);
    Json::from(styles::draw(layer, &symbol, "f", false))
}

/// A map's legend: groups (a struttura, or one untitled group) of stati, each with its layers'
/// entries, drawn as on the map (`view`: a struttura's map).
fn legend(app: &App, layers: &[&Layer], view: Option<Struttura>, by_struttura: bool) -> Json {
    let entry = |l: &Layer| {
        let symbol = app.palette.symbol(app.catalogue.layers(), l, view);
        styles::legend::entry(
            &l.meta.id,
            &l.meta.title,
            &symbol,
            &l.source.info().geometry_type,
        )
    };
    let stati = |of: &dyn Fn(&Layer) -> bool| -> Vec<Json> {
        let mut out: Vec<Json> = StatoKind::ALL
            .iter()
            .filter_map(|st| {
                let entries: Vec<_> = (layers.iter())
                    .filter(|l| of(l) && l.meta.classificazione.stato().map(|x| x.kind()) == Some(*st))
                    .map(|l| entry(l))
                    .collect();
                (!entries.is_empty()).then(|| {
                    serde_json::json!({"id": st.id(), "etichetta": st.etichetta(), "entries": entries})
                })
            })
            .collect();
        let previews: Vec<_> = (layers.iter())
            .filter(|l| of(l) && l.meta.classificazione.is_preview())
            .map(|l| entry(l))
            .collect();
        if !previews.is_empty() {
            out.push(serde_json::json!({"id": "", "etichetta": "Anteprime", "entries": previews}));
        }
        out
    };
    if !by_struttura {
        return serde_json::json!([{"id": "", "etichetta": "", "stati": stati(&|_| true)}]);
    }
    let mut groups: Vec<Json> = Struttura::ALL
        .iter()
        .filter_map(|s| {
            let st = stati(&|l: &Layer| l.meta.classificazione.strutture().contains(s));
            (!st.is_empty())
                .then(|| serde_json::json!({"id": s.id(), "etichetta": s.etichetta(), "stati": st}))
        })
        .collect();
    let previews = stati(&|l: &Layer| l.meta.classificazione.is_preview());
    if !previews.is_empty() {
        groups.push(
            serde_json::json!({"id": "", "etichetta": "Non classificati", "stati": previews}),
        );
    }
    Json::from(groups)
}

/// The configured basemap for the HTML maps (`null`: none, nothing loaded from elsewhere).
fn basemap(app: &App) -> Json {
    match &app.config.basemap {
        Some(tiles) => serde_json::json!({
            "tiles": tiles,
            "attribution": app.config.basemap_attribution.as_deref().unwrap_or(""),
        }),
        None => Json::Null,
    }
}

/// Without a basemap, the maps draw the base layers (struttura `base`: comuni, province) as
/// light outlines under the data, through their vector tiles, so a map still shows where it is.
/// `null` with a basemap or when no layer is `base`.
fn reference(app: &App, base: &str) -> Json {
    let layers: Vec<&str> = app
        .catalogue
        .layers()
        .iter()
        .filter(|l| {
            l.meta
                .classificazione
                .strutture()
                .contains(&Struttura::Base)
        })
        .map(|l| l.meta.id.as_str())
        .collect();
    if app.config.basemap.is_some() || layers.is_empty() {
        return Json::Null;
    }
    match app
        .catalogue
        .tileset(&TilesetId::Struttura(Struttura::Base), "")
    {
        Ok(t) => serde_json::json!({"tilejson": t.tilejson_url(base), "layers": layers}),
        Err(_) => Json::Null,
    }
}

/// Each collection's id property, for the popups' links on tile maps: an integer id travels
/// as the MVT feature id, any other as this property (`null`: the feature's number is its id).
fn id_properties(app: &App) -> Json {
    let ids: serde_json::Map<String, Json> = app
        .catalogue
        .layers()
        .iter()
        .map(|l| {
            let info = l.source.info();
            let field = info.id_field.map(|i| info.fields[i].name.clone());
            (l.meta.id.clone(), field.map_or(Json::Null, Json::String))
        })
        .collect();
    Json::Object(ids)
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("map.html", include_str!("templates/map.html")),
    ("map_common.html", include_str!("templates/map_common.html")),
    ("legend.html", include_str!("templates/legend.html")),
    ("landing.html", include_str!("templates/landing.html")),
    (
        "collections.html",
        include_str!("templates/collections.html"),
    ),
    ("collection.html", include_str!("templates/collection.html")),
    ("items.html", include_str!("templates/items.html")),
    ("feature.html", include_str!("templates/feature.html")),
    (
        "conformance.html",
        include_str!("templates/conformance.html"),
    ),
    ("api.html", include_str!("templates/api.html")),
    ("vector_map.html", include_str!("templates/vector_map.html")),
    ("struttura.html", include_str!("templates/struttura.html")),
    ("strutture.html", include_str!("templates/strutture.html")),
];

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        env.add_global("maplibre", super::assets::MAPLIBRE_VERSION);
        env.add_global("stand_ins_swatch", styles::legend::stand_ins_swatch());
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("templates are checked by the tests");
        }
        Templates { env }
    }

    /// Renders page `name` with `ctx` and what every page has: the site's title, the base URL
    /// and the maps' basemap, reference outlines and id properties.
    fn render(
        &self,
        name: &str,
        app: &App,
        base: &str,
        ctx: minijinja::Value,
    ) -> Result<String, ApiError> {
        let ctx = context! {
            site => app.config.title, base => base, basemap => basemap(app),
            reference => reference(app, base), id_properties => id_properties(app), ..ctx
        };
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| {
                tracing::error!(template = name, error = %e, "template failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the HTML page could not be rendered",
                )
            })
    }

    /// The struttura × stato table shared by the landing and collections pages.
    fn matrix(app: &App) -> Json {
        let rows: Vec<Json> = Struttura::ALL
            .iter()
            .map(|s| {
                let cells: Vec<Json> = StatoKind::ALL
                    .iter()
                    .map(|st| {
                        let layers: Vec<Json> = app
                            .catalogue
                            .layers()
                            .iter()
                            .filter(|l| {
                                l.meta.classificazione.strutture().contains(s)
                                    && l.meta.classificazione.stato().map(|x| x.kind()) == Some(*st)
                            })
                            .map(|l| serde_json::json!({"id": l.meta.id, "title": l.meta.title}))
                            .collect();
                        serde_json::json!({"stato": st.id(), "layers": layers})
                    })
                    .collect();
                serde_json::json!({"id": s.id(), "etichetta": s.etichetta(), "label": s.label_en(), "cells": cells})
            })
            .collect();
        let previews: Vec<Json> = app
            .catalogue
            .layers()
            .iter()
            .filter(|l| l.meta.classificazione.is_preview())
            .map(|l| serde_json::json!({"id": l.meta.id, "title": l.meta.title}))
            .collect();
        serde_json::json!({
            "stati": StatoKind::ALL.iter().map(|s| serde_json::json!({"id": s.id(), "etichetta": s.etichetta()})).collect::<Vec<_>>(),
            "rows": rows,
            "previews": previews,
        })
    }

    pub fn landing(&self, app: &App, base: &str, body: &Json) -> Result<String, ApiError> {
        self.render(
            "landing.html",
            app,
            base,
            context! {
                title => app.config.title,
                data => body, matrix => Self::matrix(app),
                legend => legend(app, &app.catalogue.layers().iter().collect::<Vec<_>>(), None, true),
                extent => {
                    let ts = app.catalogue.dataset_tileset(&app.config.title);
                    styles::StyleSource::new(&ts, &app.tile_source(&ts).info(), base).bounds
                },
            },
        )
    }

    /// A struttura's page: its map and legend in the struttura's colours.
    pub fn struttura(
        &self,
        app: &App,
        base: &str,
        s: Struttura,
        body: &Json,
    ) -> Result<String, ApiError> {
        let ts = app.catalogue.struttura_tileset(s);
        self.render(
            "struttura.html",
            app,
            base,
            context! {
                title => s.etichetta(),
                data => body, legend => legend(app, &ts.layers, Some(s), false),
            },
        )
    }

    pub fn page(
        &self,
        name: &str,
        app: &App,
        base: &str,
        title: &str,
        body: &Json,
    ) -> Result<String, ApiError> {
        self.render(
            name,
            app,
            base,
            context! {
                title => title,
                data => body, matrix => Self::matrix(app),
            },
        )
    }

    pub fn collection(
        &self,
        app: &App,
        base: &str,
        layer: &Layer,
        body: &Json,
    ) -> Result<String, ApiError> {
        self.render(
            "collection.html",
            app,
            base,
            context! {
                title => layer.meta.title,
                data => body, collection => body, legend => legend(app, &[layer], None, false),
            },
        )
    }

    pub fn items(
        &self,
        app: &App,
        base: &str,
        layer: &Layer,
        body: &Json,
    ) -> Result<String, ApiError> {
        let info = layer.source.info();
        let fields: Vec<&str> = info.fields.iter().map(|f| f.name.as_str()).collect();
        self.render("items.html", app, base, context! {
            title => layer.meta.title,
            data => body, collection => super::collections::collection_json(layer, base), fields => fields,
            map_layers => geojson_layers(app, layer), legend => legend(app, &[layer], None, false),
        })
    }

    pub fn feature(
        &self,
        app: &App,
        base: &str,
        layer: &Layer,
        body: &Json,
    ) -> Result<String, ApiError> {
        self.render(
            "feature.html",
            app,
            base,
            context! {
                title => format!("{} – {}", layer.meta.title, body["id"]),
                data => body, collection => super::collections::collection_json(layer, base),
                map_layers => geojson_layers(app, layer), legend => legend(app, &[layer], None, false),
            },
        )
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}
