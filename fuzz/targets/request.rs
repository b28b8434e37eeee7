//! Any request target (path and query) with a few headers, through the whole HTTP stack over
//! the sample layers: every parser of a URL meets it (ids, tile paths, bbox, datetime,
//! limit/offset, filters, `f`, `collections`). The answer must never be a server error, and an
//! error must be a problem+json body that names no server path.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Uri, header};
use std::sync::OnceLock;
use tower::ServiceExt;

struct Served {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    data_dir: String,
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let config_path = super::sample_data().join("tessera.toml");
        let text = std::fs::read_to_string(&config_path).expect("the sample configuration");
        let mut config = tessera::config::Config::parse(&text, &config_path).expect("valid");
        config.server.tile_cache_mb = 16;
        let catalogue = config.open_catalogue().expect("the sample layers");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let app = tessera::server::AppState::new(catalogue, config.server.clone());
        Served {
            runtime,
            router: tessera::server::router(app),
            data_dir: super::sample_data().display().to_string(),
        }
    })
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let Ok(uri) = lines.next().unwrap_or("/").parse::<Uri>() else {
        return;
    };
    if uri.scheme().is_some() || !uri.path().starts_with('/') {
        return;
    }
    let mut req = Request::builder()
        .uri(uri)
        .header(header::HOST, "fuzz.example");
    for line in lines.take(4) {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.trim().as_bytes()),
            HeaderValue::from_str(v.trim()),
        ) && name != header::HOST
        {
            req = req.header(name, value);
        }
    }
    let Ok(req) = req.body(Body::empty()) else {
        return;
    };
    let s = served();
    let (status, content_type, body) = s.runtime.block_on(async {
        let res = s.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // A compressed body is not read here: its type is checked, not its words.
        let encoded = res.headers().contains_key(header::CONTENT_ENCODING);
        let body = axum::body::to_bytes(res.into_body(), 64 << 20)
            .await
            .expect("a body");
        (status, content_type, (!encoded).then_some(body))
    });
    assert!(!status.is_server_error(), "{status} for {text:?}: {body:?}");
    if status.is_client_error() {
        let json: serde_json::Value = match (content_type.as_deref(), body) {
            (Some("application/problem+json"), None) => return,
            (Some("application/problem+json"), Some(body)) => {
                serde_json::from_slice(&body).expect("a problem+json body is JSON")
            }
            (other, _) => panic!("{status} for {text:?} as {other:?}, not problem+json"),
        };
        assert_eq!(json["status"], status.as_u16(), "{json}");
        assert!(!json.to_string().contains(&s.data_dir), "a path in {json}");
    }
}
