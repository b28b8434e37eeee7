//! The server over test sources: each kind of source error gives its status and a body with
//! nothing internal; a request that times out stops the work it started.

use super::*;
use crate::catalogue::LayerMeta;
use crate::source::{
    Feature, FeatureSource, Page, Query, SourceError, SourceInfo, TileFeatures, TileQuery, blocking,
};
use axum::body::Body;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;

/// A secret a response must never show: where the data lives.
const SECRET: &str = "/srv/segreto/dati.fgb";

fn info() -> Arc<SourceInfo> {
    Arc::new(SourceInfo {
        fields: vec![],
        id_field: None,
        geometry_type: "Point".into(),
        storage_crs: 4326,
        feature_count: 1,
        extent: Some(geo_types::Rect::new(
            geo_types::Coord { x: 10.0, y: 43.0 },
            geo_types::Coord { x: 11.0, y: 44.0 },
        )),
        temporal_extent: None,
    })
}

/// A source that reads rows one by one, slowly, as a long scan does, counting them.
#[derive(Debug)]
struct Slow {
    info: Arc<SourceInfo>,
    rows: Arc<AtomicUsize>,
}

impl Slow {
    async fn scan<T: Send + 'static>(&self) -> Result<T, SourceError> {
        let rows = self.rows.clone();
        blocking::run(move |cancel| {
            loop {
                cancel.check()?;
                rows.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
        .await
    }
}

#[async_trait::async_trait]
impl FeatureSource for Slow {
    fn info(&self) -> Arc<SourceInfo> {
        self.info.clone()
    }
    async fn query(&self, _: &Query) -> Result<Page, SourceError> {
        self.scan().await
    }
    async fn feature(&self, _: &str) -> Result<Option<Feature>, SourceError> {
        self.scan().await
    }
    async fn tile_features(&self, _: &TileQuery) -> Result<TileFeatures, SourceError> {
        self.scan().await
    }
}

/// A source that fails every call with the error `make` gives.
#[derive(Debug)]
struct Failing {
    info: Arc<SourceInfo>,
    make: fn() -> SourceError,
}

#[async_trait::async_trait]
impl FeatureSource for Failing {
    fn info(&self) -> Arc<SourceInfo> {
        self.info.clone()
    }
    async fn query(&self, _: &Query) -> Result<Page, SourceError> {
        Err((self.make)())
    }
    async fn feature(&self, _: &str) -> Result<Option<Feature>, SourceError> {
        Err((self.make)())
    }
    async fn tile_features(&self, _: &TileQuery) -> Result<TileFeatures, SourceError> {
        Err((self.make)())
    }
}

fn app_with(source: Arc<dyn FeatureSource>, config: ServerConfig) -> Router {
    let mut catalogue = Catalogue::default();
    catalogue
        .add(Layer {
            meta: LayerMeta::anteprima("prova".into(), "prova.fgb"),
            source,
            tiling: crate::tiles::Tiling::default(),
            tiled_by_postgis: None,
        })
        .expect("one layer");
    router(AppState::new(catalogue, config))
}

async fn get(router: &Router, uri: &str) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(
            axum::http::Request::get(uri)
                .header("host", "localhost")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_stops_reading() {
    let rows = Arc::new(AtomicUsize::new(0));
    let source = Arc::new(Slow {
        info: info(),
        rows: rows.clone(),
    });
    let config = ServerConfig {
        request_timeout_secs: 1,
        tile_cache_mb: 0,
        ..ServerConfig::default()
    };
    let router = app_with(source, config);
    for uri in [
        "/collections/prova/items",
        "/collections/prova/items/1",
        "/collections/prova/tiles/WebMercatorQuad/8/93/135",
    ] {
        let started = std::time::Instant::now();
        let (status, body) = get(&router, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {body}");
        assert!(body.contains("longer than 1 s"), "{uri}: {body}");
        assert!(started.elapsed() < Duration::from_millis(1900), "{uri}");
        // The read notices within one row (10 ms); after that, no row is read.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = rows.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            rows.load(Ordering::SeqCst),
            after,
            "{uri}: the read went on after the client was answered"
        );
        assert!(after > 20, "{uri}: the read ran ({after} rows)");
        rows.store(0, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn each_kind_of_source_error_has_its_status_and_no_internals() {
    let cases: [(fn() -> SourceError, StatusCode); 6] = [
        (
            || SourceError::Invalid("the filter compares a text with a number".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            || SourceError::Io {
                path: SECRET.into(),
                source: std::io::Error::other("disk on fire"),
            },
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            || SourceError::Corrupt {
                path: SECRET.into(),
                detail: "feature 7: bad flatbuffer".into(),
            },
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            || SourceError::Unavailable(format!("connection to {SECRET} refused")),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            || SourceError::Internal(format!("index out of range in {SECRET}")),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (
            || SourceError::Crs(crate::crs::CrsError::Unknown(3003)),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ];
    for (make, want) in cases {
        let router = app_with(
            Arc::new(Failing { info: info(), make }),
            ServerConfig {
                tile_cache_mb: 0,
                ..ServerConfig::default()
            },
        );
        let secret = make().to_string();
        for uri in [
            "/collections/prova/items",
            "/collections/prova/items/0",
            "/collections/prova/tiles/WebMercatorQuad/8/93/135",
        ] {
            let (status, body) = get(&router, uri).await;
            assert_eq!(status, want, "{uri}: {body}");
            let problem: serde_json::Value = serde_json::from_str(&body).expect(&body);
            assert_eq!(problem["status"], want.as_u16(), "{body}");
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("prova"), "names what failed: {body}");
            if want == StatusCode::BAD_REQUEST {
                // Written for the client: it says what to fix.
                assert!(detail.contains(&secret), "{body}");
            } else {
                assert!(!body.contains(SECRET), "{uri}: leaks the path: {body}");
                assert!(!body.contains(&secret), "{uri}: leaks the cause: {body}");
                assert!(detail.contains("reference"), "{body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_render_queue_a_tile_gets_503_with_retry_after() {
    let source = Arc::new(Slow {
        info: info(),
        rows: Arc::new(AtomicUsize::new(0)),
    });
    let config = ServerConfig {
        request_timeout_secs: 1,
        max_renders: 1,
        max_queued_renders: 0,
        ..ServerConfig::default()
    };
    let router = app_with(source, config);
    let busy = router.clone();
    let (first, second) = tokio::join!(
        get(&router, "/collections/prova/tiles/WebMercatorQuad/8/93/135"),
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let res = busy
                .oneshot(
                    axum::http::Request::get("/collections/prova/tiles/WebMercatorQuad/8/94/135")
                        .header("host", "localhost")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            (
                res.status(),
                res.headers().get("retry-after").cloned(),
                std::time::Instant::now(),
            )
        }
    );
    assert_eq!(first.0, StatusCode::SERVICE_UNAVAILABLE, "{}", first.1);
    assert!(
        first.1.contains("longer than"),
        "the first one timed out: {}",
        first.1
    );
    let (status, retry, _) = second;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_ref().and_then(|v| v.to_str().ok()), Some("1"));
}
