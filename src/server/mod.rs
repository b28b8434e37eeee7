//! The HTTP layer: OGC API - Features, OGC API - Tiles and styles over the catalogue. It only
//! translates HTTP to library calls and back: every source call is awaited under the request
//! timeout ([`timed`]), and every library error becomes a status in [`error`].

mod assets;
mod collections;
mod error;
mod html;
mod items;
mod landing;
mod listen;
mod metrics;
mod middleware;
mod negotiate;
mod openapi;
mod params;
mod ranges;
mod reload;
mod styles;
mod tiles;
mod watch;

pub use error::ApiError;
pub use reload::{Live, Loader};
pub use watch::watch_sources;

use crate::catalogue::{Catalogue, Layer};
use crate::config::ServerConfig;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use negotiate::Format;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

pub const MEDIA_JSON: &str = "application/json";
pub const MEDIA_GEOJSON: &str = "application/geo+json";
pub const MEDIA_HTML: &str = "text/html";
pub const MEDIA_OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

pub struct AppState {
    pub catalogue: Catalogue,
    pub config: ServerConfig,
    pub matrix_sets: Vec<crate::tiles::matrix::TileMatrixSet>,
    pub tile_cache: Arc<crate::tiles::cache::TileCache>,
    /// Tiles made at once, and waiting (`server.max_renders`, `max_queued_renders`).
    pub renders: Arc<crate::tiles::limit::RenderLimit>,
    pub palette: Arc<crate::styles::Palette>,
    /// The styles' sprite, drawn from the palette at start-up.
    pub sprites: Arc<styles::Sprites>,
    html: Arc<html::Templates>,
    /// Counters for `/metrics`, when `server.metrics_bind` is set.
    pub metrics: Option<Arc<metrics::Metrics>>,
    /// The tile sources of the fixed tilesets, by key (`tiles::tile_sources`).
    tile_sources: std::collections::HashMap<String, Arc<crate::tiles::cache::Cached>>,
    /// Grows with each catalogue reloaded: part of every tile's cache key, so that no tile of
    /// an earlier catalogue is served.
    generation: u64,
}

pub type App = Arc<AppState>;

impl AppState {
    pub fn new(catalogue: Catalogue, config: ServerConfig) -> App {
        let palette = Arc::new(crate::styles::Palette::default());
        let mut app = AppState {
            catalogue,
            matrix_sets: crate::tiles::matrix::TileMatrixSet::registry(),
            tile_cache: Arc::new(crate::tiles::cache::TileCache::new(config.tile_cache_mb)),
            renders: Arc::new(crate::tiles::limit::RenderLimit::new(
                config.render_limit(),
                config.max_queued_renders,
            )),
            sprites: Arc::new(styles::Sprites::new(&palette)),
            palette,
            metrics: config.metrics_bind.is_some().then(Arc::default),
            config,
            html: Arc::new(html::Templates::new()),
            tile_sources: Default::default(),
            generation: 0,
        };
        app.tile_sources = tiles::tile_sources(&app);
        Arc::new(app)
    }

    fn base(&self, headers: &HeaderMap) -> String {
        negotiate::base_url(
            self.config.public_url.as_deref(),
            self.config.trust_proxy_headers,
            headers,
        )
    }

    fn layer(&self, id: Result<String, ApiError>) -> Result<&Layer, ApiError> {
        let id = id?;
        self.catalogue.get(&id).ok_or_else(|| {
            ApiError::not_found(format!(
                "there is no collection `{}`; GET /collections lists them",
                id.escape_debug()
            ))
        })
    }
}

/// The router over a fixed `app` (no reloads).
pub fn router(app: App) -> Router {
    live_router(Live::new(app, None))
}

/// The router with every route and the HTTP behaviour (compression, CORS, ETag, logs), over
/// the application `live` serves now.
pub fn live_router(live: Live) -> Router {
    let app = live.app();
    let max_url = app.config.max_url_length;
    let max_body = app.config.max_body_bytes;
    let max_age = app.config.cache_max_age;
    let access_log = app.config.access_log;
    let router = Router::new()
        .route("/", get(landing::landing))
        .route("/conformance", get(landing::conformance))
        .route("/api", get(openapi::api))
        .route("/health", get(landing::health))
        .route("/collections", get(collections::collections))
        .route("/collections/{collection_id}", get(collections::collection))
        .route("/collections/{collection_id}/items", get(items::items))
        .route(
            "/collections/{collection_id}/items/{feature_id}",
            get(items::item),
        )
        .route("/tileMatrixSets", get(tiles::tile_matrix_sets))
        .route("/tileMatrixSets/{tms}", get(tiles::tile_matrix_set))
        .route("/strutture", get(collections::strutture))
        .route("/strutture/{struttura}", get(collections::struttura))
        .route("/styles", get(styles::list))
        .route("/styles/{style_id}", get(styles::style))
        .route("/assets/{name}", get(assets::asset))
        .route("/admin/reload", axum::routing::post(reload::admin_reload))
        .route(
            "/collections/{collection_id}/styles/default",
            get(styles::collection_style),
        );
    let router = (app.sprites.names()).fold(router, |r, file| {
        r.route(&format!("/styles/{file}"), get(styles::sprite))
    });
    // The same four resources for each kind of tileset: a collection, a struttura, the dataset.
    let router = [
        "/collections/{collection_id}/tiles",
        "/strutture/{struttura}/tiles",
        "/tiles",
    ]
    .into_iter()
    .fold(router, |r, prefix| {
        r.route(prefix, get(tiles::tilesets))
            .route(&format!("{prefix}/{{tms}}"), get(tiles::tileset))
            .route(
                &format!("{prefix}/{{tms}}/tilejson.json"),
                get(tiles::tilejson),
            )
            .route(
                &format!("{prefix}/{{tms}}/{{z}}/{{y}}/{{x}}"),
                get(tiles::tile),
            )
    });
    let router = router
        .fallback(|| async {
            ApiError::not_found("no such resource; the landing page `/` links to everything served")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this resource is read-only: use GET or HEAD",
            )
        });
    // The route template is noted for the metrics only when they are kept.
    let router = match app.metrics {
        Some(_) => router.layer(axum::middleware::from_fn(metrics::tag_route)),
        None => router,
    };
    router
        .with_state(live.clone())
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD])
                .allow_headers(Any)
                .expose_headers(Any),
        )
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(axum::middleware::from_fn(move |req, next| {
            middleware::conditional(req, next, max_age)
        }))
        .layer(axum::middleware::from_fn(middleware::refused_coding))
        .layer(axum::middleware::from_fn(move |req, next| {
            middleware::guard_uri(req, next, max_url, max_body)
        }))
        .layer(axum::middleware::from_fn_with_state(
            live.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), uri = %req.uri())
                })
                .on_response(
                    move |res: &Response, latency: std::time::Duration, _span: &tracing::Span| {
                        if access_log.logs(res.status(), latency) {
                            tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
                        }
                    },
                ),
        )
}

/// A struttura named in a path, or 404 with the list of them.
fn struttura(id: &str) -> Result<crate::lr65::Struttura, ApiError> {
    use crate::lr65::{Struttura, Voce};
    Struttura::from_id(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "there is no struttura `{}`; the strutture are: {}",
            id.escape_debug(),
            Struttura::valid_values()
        ))
    })
}

/// Maps a path-extraction failure (e.g. invalid percent-encoding) to a 400 exception.
fn path_param(p: Result<axum::extract::Path<String>, PathRejection>) -> Result<String, ApiError> {
    let s = p
        .map(|p| p.0)
        .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))?;
    check_id(&s)?;
    Ok(s)
}

/// What [`check_id`] takes, for the OpenAPI document (with `maxLength: 256`).
pub const ID_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f/\\\\]+$";

/// Ids in paths: 1 to 256 characters, no control characters, no path separators (what
/// [`ID_PATTERN`] declares).
fn check_id(s: &str) -> Result<(), ApiError> {
    if s.is_empty()
        || s.chars().count() > 256
        || s.chars().any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(ApiError::bad_request(format!(
            "`{}` is not a valid identifier (empty, too long, or with control characters or path separators)",
            s.escape_debug()
        )));
    }
    Ok(())
}

pub fn link(href: impl Into<String>, rel: &str, media: &str, title: &str) -> Json {
    json!({"href": href.into(), "rel": rel, "type": media, "title": title})
}

/// `self` and `alternate` links for a resource offered as JSON (of `json_type`) and HTML.
fn self_links(url: &str, query: &params::Params, format: Format, json_type: &str) -> Vec<Json> {
    let json_href = format!("{url}{}", query.with(&[("f", Some("json".into()))]));
    let html_href = format!("{url}{}", query.with(&[("f", Some("html".into()))]));
    let (j, h) = match format {
        Format::Json => ("self", "alternate"),
        Format::Html => ("alternate", "self"),
    };
    vec![
        link(json_href, j, json_type, "Questo documento in JSON"),
        link(html_href, h, MEDIA_HTML, "Questo documento in HTML"),
    ]
}

/// What every handler starts from: the checked parameters, the chosen format, the base URL.
struct Req {
    params: params::Params,
    format: Format,
    base: String,
}

impl Req {
    fn new(
        app: &AppState,
        raw: Option<&str>,
        headers: &HeaderMap,
        specs: &[params::ParamSpec],
    ) -> Result<Req, ApiError> {
        let params = params::parse_query(raw, specs)?;
        let format = Format::choose(params.get("f"), headers)?;
        Ok(Req {
            params,
            format,
            base: app.base(headers),
        })
    }

    /// The JSON body as is (with `media`), or the HTML page `html` renders from it.
    fn reply(
        &self,
        body: &Json,
        media: &'static str,
        html: impl FnOnce() -> Result<String, ApiError>,
    ) -> Result<Response, ApiError> {
        match self.format {
            Format::Json => Ok(json_response(body.to_string().into_bytes(), media)),
            Format::Html => Ok(html_response(html()?)),
        }
    }
}

fn json_response(body: Vec<u8>, media: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    res
}

fn html_response(body: String) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// Awaits `work` for `what` (e.g. "collection `comuni`") under the request timeout. On
/// timeout the future is dropped, which stops the reads and renders it started; a failure
/// becomes its status in one place ([`ApiError::failure`]).
async fn timed<T, E: crate::error::Kind + std::fmt::Display>(
    app: &AppState,
    what: &str,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ApiError> {
    use crate::error::ErrorKind;
    let limit = std::time::Duration::from_secs(app.config.request_timeout_secs);
    let count = |kind| {
        if let Some(m) = &app.metrics {
            m.failure(what, kind);
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            match e.kind() {
                ErrorKind::Unavailable => count("unavailable"),
                ErrorKind::Internal => count("internal"),
                ErrorKind::Busy => count("busy"),
                ErrorKind::BadRequest | ErrorKind::NotFound => {}
            }
            Err(ApiError::failure(what, &e))
        }
        Err(_) => {
            count("timeout");
            Err(ApiError::timed_out(what, limit.as_secs()))
        }
    }
}

/// Serves `app` on `listener`, and its metrics on `metrics` when given, until Ctrl-C or
/// SIGTERM, with the connection limits of its configuration (see [`listen`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
    live: Live,
) -> std::io::Result<()> {
    // Read from the first catalogue's app, which is then let go: a reload must be able to
    // free it (its databases' connections, listeners and boxes).
    let limits = {
        let app = live.app();
        let config = &app.config;
        listen::Limits {
            header_timeout: std::time::Duration::from_secs(config.header_timeout_secs),
            max_connections: config.max_connections,
            shutdown_grace: std::time::Duration::from_secs(config.shutdown_grace_secs),
            counters: app.metrics.as_ref().map(|m| m.connections()),
        }
    };
    if let Some(listener) = metrics {
        let router = Router::new()
            .route("/metrics", get(metrics::scrape))
            .with_state(live.clone());
        // Scrapers are few and trusted: a handful of connections, the same timeouts.
        let limits = listen::Limits {
            max_connections: 16,
            counters: None,
            ..limits.clone()
        };
        tokio::spawn(listen::serve_until(
            listener,
            router,
            limits,
            listen::stop_signal(),
        ));
    }
    tokio::spawn(reload::on_hangup(live.clone()));
    listen::serve_until(listener, live_router(live), limits, listen::stop_signal()).await
}

#[cfg(test)]
mod tests;
