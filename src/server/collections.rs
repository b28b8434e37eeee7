//! `/collections` and `/collections/{collectionId}`: metadata, classification and links.

use super::params::format_param;
use super::{
    ApiError, App, MEDIA_GEOJSON, MEDIA_HTML, MEDIA_JSON, Req, link, path_param, self_links,
};
use crate::catalogue::{Layer, Tileset};
use crate::crs;
use crate::lr65::{StatoKind, Struttura, Voce};
use crate::temporal::format_instant;
use crate::tiles::TileSource;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value as Json, json};

/// One collection's description, identical in `/collections` and `/collections/{id}`.
pub fn collection_json(layer: &Layer, base: &str) -> Json {
    let m = &layer.meta;
    let info = layer.source.info();
    let url = format!("{base}/collections/{}", m.id);
    let tiles = Tileset::of_collection(layer);
    let mut links = vec![
        link(&url, "self", MEDIA_JSON, "Questa collezione"),
        link(
            format!("{url}?f=html"),
            "alternate",
            MEDIA_HTML,
            "Questa collezione in HTML",
        ),
        link(
            format!("{url}/items"),
            "items",
            MEDIA_GEOJSON,
            "Gli oggetti, in GeoJSON",
        ),
        link(
            format!("{url}/items?f=html"),
            "items",
            MEDIA_HTML,
            "Gli oggetti, in HTML",
        ),
    ];
    links.extend([
        link(
            tiles.list_url(base),
            super::tiles::REL_TILESETS_VECTOR,
            MEDIA_JSON,
            "Le tessere vettoriali",
        ),
        link(
            tiles.tilejson_url(base),
            "describedby",
            MEDIA_JSON,
            "TileJSON delle tessere vettoriali",
        ),
        link(
            format!("{url}/styles/default"),
            "stylesheet",
            super::styles::MEDIA_STYLE,
            "Lo stile MapLibre delle tessere vettoriali",
        ),
    ]);
    if let Some(l) = &m.license {
        links.push(link(&l.url, "license", MEDIA_HTML, &l.id));
    }
    let mut extent = json!({});
    if let Some(r) = info.extent {
        extent["spatial"] = json!({
            "bbox": [[r.min().x, r.min().y, r.max().x, r.max().y]],
            "crs": crs::CRS84_URI,
        });
    }
    if let Some(t) = info.temporal_extent {
        extent["temporal"] = json!({
            "interval": [[t.start.map(format_instant), t.end.map(format_instant)]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        });
    }
    let mut keywords = m.keywords.clone();
    for s in m.classificazione.strutture() {
        keywords.push(s.etichetta().to_string());
    }
    if let Some(st) = m.classificazione.stato() {
        keywords.push(st.kind().etichetta().to_string());
    }
    json!({
        "id": m.id,
        "title": m.title,
        "description": m.description,
        "keywords": keywords,
        "itemType": "feature",
        "crs": [crs::CRS84_URI],
        "extent": extent,
        "links": links,
        "attribution": m.attribution,
        "classificazione": m.classificazione.to_json(),
        "metadati": {
            "storage_crs": crs::uri(info.storage_crs),
            "geometry_type": info.geometry_type,
            "feature_count": info.feature_count,
            "licenza": m.license.as_ref().map(|l| json!({"id": l.id, "url": l.url})),
            "editore": m.publisher.as_ref().map(|p| json!({"nome": p.name, "codice_ipa": p.ipa})),
            "frequenza_aggiornamento": {"id": m.frequency.id(), "eu": m.frequency.eu_code()},
            "sintetico": m.synthetic,
            "anteprima": m.classificazione.is_preview(),
            "proprieta": info.fields.iter().map(|f| json!({"nome": f.name, "tipo": f.kind.json_type()})).collect::<Vec<_>>(),
        },
    })
}

/// The struttura × stato grouping, as an extra member of the landing page and `/collections`.
pub fn grouping_json(app: &App, base: &str) -> Json {
    let gruppi: Vec<Json> = app
        .catalogue
        .grouped()
        .into_iter()
        .map(|g| {
            json!({
                "struttura": g.struttura.map(|s| json!({"id": s.id(), "etichetta": s.etichetta(), "label": s.label_en()})),
                "stato": g.stato.map(|s| json!({"id": s.id(), "etichetta": s.etichetta(), "label": s.label_en()})),
                "anteprime": g.struttura.is_none(),
                "collections": g.layers.iter().map(|l| json!({
                    "id": l.meta.id,
                    "title": l.meta.title,
                    "href": format!("{base}/collections/{}", l.meta.id),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "norma": "L.R. Toscana 65/2014, art. 3 (strutture del patrimonio territoriale) e art. 55 (stato di fatto e di diritto)",
        "gruppi": gruppi,
    })
}

pub async fn collections(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let base = &req.base;
    let body = json!({
        "links": self_links(&format!("{base}/collections"), &req.params, req.format, MEDIA_JSON),
        "collections": app.catalogue.layers().iter().map(|l| collection_json(l, base)).collect::<Vec<_>>(),
        "patrimonio_territoriale": grouping_json(&app, base),
    });
    req.reply(&body, MEDIA_JSON, || {
        app.html
            .page("collections.html", &app, base, "Collezioni", &body)
    })
}

pub async fn collection(
    State(app): State<App>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = app.layer(path_param(path))?;
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let body = collection_json(layer, &req.base);
    req.reply(&body, MEDIA_JSON, || {
        app.html.collection(&app, &req.base, layer, &body)
    })
}

/// One struttura: its collections by stato, and links to its tiles and style.
fn struttura_json(app: &App, base: &str, s: Struttura) -> Result<Json, ApiError> {
    let url = format!("{base}/strutture/{}", s.id());
    let ts = app.catalogue.struttura_tileset(s);
    let tiles = app.tile_source(&ts);
    let stati: Vec<Json> = StatoKind::ALL
        .iter()
        .map(|st| {
            let collections: Vec<Json> = ts
                .layers
                .iter()
                .filter(|l| l.meta.classificazione.stato().map(|x| x.kind()) == Some(*st))
                .map(|l| json!({"id": l.meta.id, "title": l.meta.title, "href": format!("{base}/collections/{}", l.meta.id)}))
                .collect();
            json!({"id": st.id(), "etichetta": st.etichetta(), "collections": collections})
        })
        .collect();
    Ok(json!({
        "id": s.id(),
        "etichetta": s.etichetta(),
        "label": s.label_en(),
        "extent": crate::styles::StyleSource::new(&ts, &tiles.info(), base).bounds,
        "stati": stati,
        "links": [
            link(&url, "self", MEDIA_JSON, "Questa struttura"),
            link(format!("{url}?f=html"), "alternate", MEDIA_HTML, "Questa struttura in HTML"),
            link(ts.list_url(base), super::tiles::REL_TILESETS_VECTOR, MEDIA_JSON, "Le tessere vettoriali della struttura"),
            link(ts.tilejson_url(base), "describedby", MEDIA_JSON, "TileJSON"),
            link(format!("{base}/styles/{}", s.id()), "stylesheet", super::styles::MEDIA_STYLE, "Lo stile MapLibre della struttura"),
        ],
    }))
}

pub async fn strutture(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let base = &req.base;
    let list: Vec<Json> = Struttura::ALL
        .iter()
        .map(|s| struttura_json(&app, base, *s))
        .collect::<Result<_, _>>()?;
    let body = json!({
        "strutture": list,
        "links": self_links(&format!("{base}/strutture"), &req.params, req.format, MEDIA_JSON),
    });
    req.reply(&body, MEDIA_JSON, || {
        app.html
            .page("strutture.html", &app, base, "Strutture", &body)
    })
}

pub async fn struttura(
    State(app): State<App>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_param(path)?;
    let s = super::struttura(&id)?;
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let body = struttura_json(&app, &req.base, s)?;
    req.reply(&body, MEDIA_JSON, || {
        app.html.struttura(&app, &req.base, s, &body)
    })
}
