//! `/styles`: the MapLibre styles of the vector tiles (one per struttura, `tutto` for every
//! collection) and `/collections/{id}/styles/default`.

use super::params::parse_query;
use super::tiles::resolve;
use super::{ApiError, App, MEDIA_JSON, check_id, json_response, link, path_param};
use crate::catalogue::TilesetId;
use crate::lr65::{Struttura, Voce};
use crate::styles;
use crate::tiles::TileSource;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

pub const MEDIA_STYLE: &str = "application/vnd.mapbox.style+json";
pub use crate::styles::ALL;

fn style_ids() -> impl Iterator<Item = (&'static str, String)> {
    std::iter::once((ALL, "Tutte le collezioni".to_string())).chain(
        Struttura::ALL
            .iter()
            .map(|s| (s.id(), s.etichetta().to_string())),
    )
}

pub async fn list(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    parse_query(raw.as_deref(), &[])?;
    let base = app.base(&headers);
    let list: Vec<_> = style_ids()
        .map(|(id, title)| {
            json!({
                "id": id,
                "title": title,
                "links": [link(format!("{base}/styles/{id}"), "stylesheet", MEDIA_STYLE, "Stile MapLibre")],
            })
        })
        .collect();
    let body = json!({
        "styles": list,
        "links": [link(format!("{base}/styles"), "self", MEDIA_JSON, "Gli stili delle tessere vettoriali")],
    });
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}

fn reply(body: &serde_json::Value) -> Response {
    json_response(body.to_string().into_bytes(), MEDIA_STYLE)
}

pub async fn style(
    State(app): State<App>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path
        .map(|p| p.0)
        .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))?;
    check_id(&id)?;
    parse_query(raw.as_deref(), &[])?;
    let base = app.base(&headers);
    if id == ALL {
        return Ok(reply(&styles::everything(
            &app.catalogue,
            &app.palette,
            &base,
            &app.config.title,
        )));
    }
    let s = Struttura::from_id(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "there is no style `{}`; the styles are: {}",
            id.escape_debug(),
            style_ids().map(|(i, _)| i).collect::<Vec<_>>().join(", ")
        ))
    })?;
    Ok(reply(&styles::of_struttura(
        &app.catalogue,
        &app.palette,
        &base,
        s,
    )))
}

pub async fn collection_style(
    State(app): State<App>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_param(path)?;
    parse_query(raw.as_deref(), &[])?;
    let ts = resolve(&app, &TilesetId::Collection(id.clone()))?;
    let tiles = app.tile_source(&ts);
    let source = styles::StyleSource::new(&ts, &tiles.info(), &app.base(&headers));
    Ok(reply(&styles::style(
        &id,
        &ts.title,
        &source,
        &app.catalogue,
        &app.palette,
        None,
    )))
}

/// The sprite, drawn once from the palette at start-up: its files by name.
pub struct Sprites(Vec<(String, Bytes)>);

impl Sprites {
    pub fn new(palette: &styles::Palette) -> Sprites {
        Sprites(
            (styles::sprite::files(palette).into_iter())
                .map(|(name, bytes)| (name, Bytes::from(bytes)))
                .collect(),
        )
    }

    /// The names under `/styles/`.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

pub async fn sprite(State(app): State<App>, uri: axum::http::Uri) -> Result<Response, ApiError> {
    let file = uri.path().rsplit('/').next().unwrap_or_default();
    let Some((_, body)) = app.sprites.0.iter().find(|(n, _)| n == file) else {
        return Err(ApiError::not_found("no such sprite file"));
    };
    let media = if file.ends_with(".png") {
        "image/png"
    } else {
        MEDIA_JSON
    };
    let mut res = body.clone().into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(res)
}
