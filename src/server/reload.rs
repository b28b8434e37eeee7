//! Publishing a new catalogue without a restart: on SIGHUP, and on `POST /admin/reload` with
//! the bearer token of `server.admin_token`. The catalogue is opened again (configuration,
//! databases, `tessera.layers`) off the async threads; if that fails, the one served stays.
//! Every request takes the catalogue current when it starts and keeps it to its end, so
//! requests in flight finish on the old one.

use super::{ApiError, App, AppState, MEDIA_JSON, json_response};
use crate::catalogue::Catalogue;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, PoisonError, RwLock};

/// Opens the catalogue anew, as at start-up.
pub type Loader = Arc<dyn Fn() -> Result<Catalogue, String> + Send + Sync>;

/// The application being served, replaced as a whole on each reload (cloned, the same one).
#[derive(Clone)]
pub struct Live(Arc<Held>);

struct Held {
    current: RwLock<App>,
    loader: Option<Loader>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl FromRef<Live> for App {
    fn from_ref(live: &Live) -> App {
        live.app()
    }
}

impl Live {
    /// Serves `app`; `loader` opens a new catalogue on reload (none: reloads are refused).
    pub fn new(app: App, loader: Option<Loader>) -> Live {
        Live(Arc::new(Held {
            current: RwLock::new(app),
            loader,
            reloading: tokio::sync::Mutex::new(()),
        }))
    }

    /// The application as it is now.
    pub fn app(&self) -> App {
        self.0
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Opens the catalogue again and serves it from now on; its number of collections.
    pub async fn reload(&self) -> Result<usize, String> {
        let _one = self.0.reloading.lock().await;
        let loader = (self.0.loader.clone()).ok_or("this server has no configuration to reload")?;
        let catalogue = tokio::task::spawn_blocking(move || loader())
            .await
            .map_err(|e| format!("opening the catalogue failed: {e}"))??;
        let n = catalogue.layers().len();
        let old = self.app();
        let new = old.succeeded_by(catalogue);
        *self
            .0
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = new;
        // The old catalogue's tiles are keyed by its generation: never served again.
        old.tile_cache.clear();
        tracing::info!(collections = n, "catalogue reloaded");
        Ok(n)
    }
}

impl AppState {
    /// The same server (cache, limits, metrics, settings) over a new catalogue, under a new
    /// generation of tile keys.
    fn succeeded_by(&self, catalogue: Catalogue) -> App {
        let mut app = AppState {
            catalogue,
            config: self.config.clone(),
            matrix_sets: self.matrix_sets.clone(),
            tile_cache: self.tile_cache.clone(),
            renders: self.renders.clone(),
            palette: self.palette.clone(),
            sprites: self.sprites.clone(),
            html: self.html.clone(),
            metrics: self.metrics.clone(),
            tile_sources: Default::default(),
            generation: self.generation + 1,
        };
        app.tile_sources = super::tiles::tile_sources(&app);
        Arc::new(app)
    }
}

/// Reloads on every SIGHUP, for as long as the server runs.
pub async fn on_hangup(live: Live) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP: reload with POST /admin/reload");
            return;
        };
        while hangups.recv().await.is_some() {
            if let Err(e) = live.reload().await {
                tracing::error!(error = %e, "the catalogue could not be reloaded; the one served stays");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = live;
}

/// `POST /admin/reload`: 200 with the number of collections once the new catalogue is served.
pub async fn admin_reload(State(live): State<Live>, headers: HeaderMap) -> Response {
    let app = live.app();
    // Without a token the route does not exist.
    let Some(token) = app.config.admin_token.as_deref() else {
        return ApiError::not_found(
            "no such resource; the landing page `/` links to everything served",
        )
        .into_response();
    };
    let given = (headers.get(header::AUTHORIZATION))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes())) {
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "reloading needs the server's admin token: send `Authorization: Bearer <token>`",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"tessera admin\""),
        );
        return r;
    }
    match live.reload().await {
        Ok(n) => {
            let body = serde_json::json!({"reloaded": true, "collections": n});
            json_response(body.to_string().into_bytes(), MEDIA_JSON).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "the catalogue could not be reloaded; the one served stays");
            // The caller holds the admin token: the reason is for them.
            ApiError::new(
                StatusCode::CONFLICT,
                format!("the catalogue could not be reloaded: {e}; the one served stays"),
            )
            .into_response()
        }
    }
}

/// Whether two tokens are equal, in a time that does not say where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}
