//! Files the HTML pages need, served by tessera itself so that a map works offline, in a
//! municipal intranet or behind a strict proxy: MapLibre GL JS and its CSS, embedded in the
//! binary (version, origin and licence in `assets/maplibre-gl/README.md`). Their names carry
//! the version, so clients may keep them for a year.

use super::ApiError;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// The embedded MapLibre GL JS release (update `assets/maplibre-gl/` with it).
macro_rules! maplibre_version {
    () => {
        "4.7.1"
    };
}
pub const MAPLIBRE_VERSION: &str = maplibre_version!();

/// Name under `/assets/`, media type, content.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        concat!("maplibre-gl-", maplibre_version!(), ".js"),
        "text/javascript; charset=utf-8",
        include_bytes!("assets/maplibre-gl/maplibre-gl.js"),
    ),
    (
        concat!("maplibre-gl-", maplibre_version!(), ".css"),
        "text/css; charset=utf-8",
        include_bytes!("assets/maplibre-gl/maplibre-gl.css"),
    ),
    (
        "maplibre-gl-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("assets/maplibre-gl/LICENSE.txt"),
    ),
];

/// The names under `/assets/`.
pub fn names() -> Vec<&'static str> {
    FILES.iter().map(|(n, _, _)| *n).collect()
}

/// The media types of the files.
pub fn media_types() -> Vec<&'static str> {
    let mut m: Vec<&str> = FILES.iter().map(|(_, m, _)| *m).collect();
    m.dedup();
    m
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let Some((_, media, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return Err(ApiError::not_found("no such asset"));
    };
    let mut res = Bytes::from_static(body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_the_embedded_version() {
        assert!(FILES[0].0.contains(MAPLIBRE_VERSION));
        let js = std::str::from_utf8(FILES[0].2).unwrap();
        assert!(js.contains(&format!("\"{MAPLIBRE_VERSION}\"")));
    }
}
