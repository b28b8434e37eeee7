//! Errors as OGC API exception bodies (`type`, `title`, `status`, `detail`), never a bare status.
//! The one place where the library's errors become HTTP: by their [`ErrorKind`], 400 and 404
//! with the library's message (written for the client), 503 for a backend that cannot answer,
//! 500 for a bug; those two say nothing of the cause (paths, hosts, internal text), which
//! goes to the log with a reference the body repeats.

use crate::error::{ErrorKind, Kind};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    /// Seconds after which the client may try again (`Retry-After`), for a server at capacity.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    /// The answer to error `e` met while serving `what` (e.g. "collection `comuni`").
    pub fn failure<E: Kind + std::fmt::Display + ?Sized>(what: &str, e: &E) -> ApiError {
        match e.kind() {
            ErrorKind::BadRequest => ApiError::bad_request(format!("{what}: {e}")),
            ErrorKind::NotFound => ApiError::not_found(format!("{what}: {e}")),
            ErrorKind::Unavailable => {
                let r = reference();
                tracing::error!(what, error = %e, reference = %r, "data source failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "{what} cannot be read right now: its data source failed; the server log has the details (reference {r}). Other collections are not affected."
                    ),
                )
            }
            ErrorKind::Internal => ApiError::internal(what, e),
            ErrorKind::Busy => {
                tracing::warn!(what, "at capacity: request refused");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "{what}: the server is making as many tiles as it can; try again in a second"
                        ),
                    )
                }
            }
        }
    }

    /// A 500 for a bug met while serving `what`: the cause is logged, not sent.
    pub fn internal(what: &str, cause: &(impl std::fmt::Display + ?Sized)) -> ApiError {
        let r = reference();
        tracing::error!(what, error = %cause, reference = %r, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what}: internal error; the server log has the details (reference {r})"),
        )
    }

    /// A 503 for a request that took longer than `seconds`.
    pub fn timed_out(what: &str, seconds: u64) -> ApiError {
        tracing::warn!(what, seconds, "request timed out");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{what}: the query took longer than {seconds} s; narrow it with a bbox or fewer filters"
            ),
        )
    }

    /// The exception body, also used by the OpenAPI examples.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "type": format!("https://httpwg.org/specs/rfc9110.html#status.{}", self.status.as_u16()),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, self.body().to_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

/// A short token that ties an error body to its log line: the process start and a counter.
fn reference() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    format!(
        "{:x}-{}",
        start & 0xff_ffff,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
