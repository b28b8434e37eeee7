//! The landing page, `/conformance` and `/health`.

use super::params::{format_param, parse_query};
use super::{
    ApiError, App, MEDIA_HTML, MEDIA_JSON, MEDIA_OPENAPI, Req, json_response, link, self_links,
};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/collections-selection",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixsetlimits",
];

pub async fn landing(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let base = &req.base;
    let dataset = app.catalogue.dataset_tileset(&app.config.title);
    let mut links = self_links(&format!("{base}/"), &req.params, req.format, MEDIA_JSON);
    links.extend([
        link(
            format!("{base}/api"),
            "service-desc",
            MEDIA_OPENAPI,
            "La definizione dell'API (OpenAPI 3.0)",
        ),
        link(
            format!("{base}/api?f=html"),
            "service-doc",
            MEDIA_HTML,
            "La documentazione dell'API",
        ),
        link(
            format!("{base}/conformance"),
            "conformance",
            MEDIA_JSON,
            "Le classi di conformità OGC implementate",
        ),
        link(
            format!("{base}/conformance?f=html"),
            "conformance",
            MEDIA_HTML,
            "Le classi di conformità OGC (HTML)",
        ),
        link(
            format!("{base}/collections"),
            "data",
            MEDIA_JSON,
            "Le collezioni",
        ),
        link(
            format!("{base}/collections?f=html"),
            "data",
            MEDIA_HTML,
            "Le collezioni (HTML)",
        ),
    ]);
    // The same targets under the OGC link-relation URIs that newer clients look for.
    links.extend([
        link(
            format!("{base}/conformance"),
            "http://www.opengis.net/def/rel/ogc/1.0/conformance",
            MEDIA_JSON,
            "Le classi di conformità OGC implementate",
        ),
        link(
            format!("{base}/collections"),
            "http://www.opengis.net/def/rel/ogc/1.0/data",
            MEDIA_JSON,
            "Le collezioni",
        ),
        link(
            dataset.list_url(base),
            super::tiles::REL_TILESETS_VECTOR,
            MEDIA_JSON,
            "Le tessere vettoriali di tutte le collezioni",
        ),
        link(
            dataset.tilejson_url(base),
            "describedby",
            MEDIA_JSON,
            "TileJSON delle tessere di tutte le collezioni",
        ),
        link(
            format!("{base}/tileMatrixSets"),
            super::tiles::REL_TILING_SCHEMES,
            MEDIA_JSON,
            "Le griglie delle tessere",
        ),
        link(
            format!("{base}/styles"),
            "http://www.opengis.net/def/rel/ogc/1.0/styles",
            MEDIA_JSON,
            "Gli stili MapLibre delle tessere (uno per struttura)",
        ),
        link(
            format!("{base}/styles/{}", super::styles::ALL),
            "stylesheet",
            super::styles::MEDIA_STYLE,
            "Lo stile MapLibre di tutte le collezioni",
        ),
    ]);
    let body = json!({
        "title": app.config.title,
        "description": app.config.description,
        "links": links,
        "patrimonio_territoriale": super::collections::grouping_json(&app, base),
    });
    req.reply(&body, MEDIA_JSON, || app.html.landing(&app, base, &body))
}

pub async fn conformance(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let body = json!({
        "conformsTo": CONFORMANCE,
        "links": self_links(&format!("{}/conformance", req.base), &req.params, req.format, MEDIA_JSON),
    });
    req.reply(&body, MEDIA_JSON, || {
        app.html
            .page("conformance.html", &app, &req.base, "Conformità", &body)
    })
}

/// Liveness and a summary: 200 while the server runs, with the number of layers published.
pub async fn health(State(app): State<App>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    parse_query(raw.as_deref(), &[])?;
    let (entries, bytes) = app.tile_cache.usage().await;
    let (running, queued) = app.renders.load();
    // A layer whose data could not be followed to its new version.
    let degraded: Vec<_> = (app.catalogue.layers().iter())
        .filter_map(|l| {
            let problem = l.source.problem()?;
            Some(json!({"collection": l.meta.id, "problem": problem}))
        })
        .collect();
    // Each database once, as its layers' last reads found it.
    let mut databases: Vec<crate::source::Backend> = Vec::new();
    for b in (app.catalogue.layers().iter()).filter_map(|l| l.source.backend()) {
        match databases.iter_mut().find(|d| d.name == b.name) {
            Some(d) => d.answering &= b.answering,
            None => databases.push(b),
        }
    }
    let databases: Vec<_> = (databases.iter())
        .map(|d| json!({"id": d.name, "answering": d.answering, "changes": d.changes}))
        .collect();
    let body = json!({
        "status": if degraded.is_empty() { "ok" } else { "degraded" },
        "databases": databases,
        "version": env!("CARGO_PKG_VERSION"),
        "collections": app.catalogue.layers().len(),
        "degraded": degraded,
        "tile_cache": {"tiles": entries, "bytes": bytes, "limit_bytes": app.config.tile_cache_mb * 1024 * 1024},
        "renders": {"running": running, "queued": queued},
    });
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}
