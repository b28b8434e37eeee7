//! The landing page, `/conformance` and `/health`.

use super::negotiate::Format;
use super::params::{format_param, parse_query};
use super::{
    ApiError, App, MEDIA_HTML, MEDIA_JSON, MEDIA_OPENAPI, html_response, json_response, link,
    self_links,
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
];

pub async fn landing(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = parse_query(raw.as_deref(), &[format_param()])?;
    let format = Format::choose(params.get("f"), &headers)?;
    let base = app.base(&headers);
    let mut links = self_links(&format!("{base}/"), &params, format, MEDIA_JSON);
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
    let body = json!({
        "title": app.config.title,
        "description": app.config.description,
        "links": links,
        "patrimonio_territoriale": super::collections::grouping_json(&app, &base),
    });
    match format {
        Format::Json => Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON)),
        Format::Html => Ok(html_response(app.html.landing(&app, &base, &body)?)),
    }
}

pub async fn conformance(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = parse_query(raw.as_deref(), &[format_param()])?;
    let format = Format::choose(params.get("f"), &headers)?;
    let base = app.base(&headers);
    let body = json!({
        "conformsTo": CONFORMANCE,
        "links": self_links(&format!("{base}/conformance"), &params, format, MEDIA_JSON),
    });
    match format {
        Format::Json => Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON)),
        Format::Html => Ok(html_response(app.html.page(
            "conformance.html",
            &app,
            &base,
            "Conformità",
            &body,
        )?)),
    }
}

/// Liveness and a summary: 200 while the server runs, with the number of layers published.
pub async fn health(State(app): State<App>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    parse_query(raw.as_deref(), &[])?;
    let body = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "collections": app.catalogue.layers().len(),
    });
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}
