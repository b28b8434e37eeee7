//! Request guards and conditional GET: strong ETags, `304 Not Modified`, `Cache-Control`, byte
//! ranges ([`super::ranges`]), and HEAD answered with the same headers as GET.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What is wrong with the request's `Host`, if anything. RFC 9112 §3.2: an HTTP/1.1 request
/// carries exactly one, a valid host[:port] (links are built from it); HTTP/1.0 may omit it.
fn host_problem(req: &Request) -> Option<String> {
    let hosts: Vec<&HeaderValue> = req.headers().get_all(header::HOST).iter().collect();
    match hosts.as_slice() {
        [] if req.version() == axum::http::Version::HTTP_10 => None,
        [] => Some("an HTTP/1.1 request needs a Host header".into()),
        [h] => {
            let valid = h.to_str().ok().is_some_and(|v| {
                !v.is_empty()
                    && v.parse::<axum::http::uri::Authority>().is_ok()
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
            (!valid).then(|| "the Host header is not a valid host[:port]".into())
        }
        _ => Some("a request carries one Host header, not several".into()),
    }
}

/// Refuses requests with a wrong `Host`, over-long URLs and bodies over `max_body`, before
/// any routing or parsing. (No handler reads a body today; one that is not read is never
/// drained either: the connection closes after the response.)
pub async fn guard_uri(req: Request, next: Next, max_len: usize, max_body: u64) -> Response {
    if let Some(problem) = host_problem(&req) {
        return ApiError::bad_request(problem).into_response();
    }
    let declared = (req.headers().get(header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if let Some(len) = declared.filter(|&l| l > max_body) {
        let mut res = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is {len} bytes; the limit is {max_body}"),
        )
        .into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let uri = req.uri();
    let len = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if len > max_len {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("the URL is {len} characters long; the limit is {max_len}"),
        )
        .into_response();
    }
    next.run(req).await
}

/// A request whose `Accept-Encoding` refuses every coding offered (gzip, br and identity)
/// gets a 406 exception here, before any work: the compression layer would answer 406 with
/// the resource (or another error) as its body.
pub async fn refused_coding(req: Request, next: Next) -> Response {
    let h = req.headers();
    if ["identity", "gzip", "br"]
        .iter()
        .any(|c| super::negotiate::accepts_coding(h, c))
    {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        "Accept-Encoding refuses every coding offered here: accept gzip, br or identity",
    )
    .into_response()
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| bare(t) == bare(etag))
}

/// Buffers successful GET responses to give them a strong ETag (per content coding, so a
/// gzip and an identity body never share one) and answers `If-None-Match` with 304.
pub async fn conditional(mut req: Request, next: Next, max_age: u32) -> Response {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return next.run(req).await;
    }
    if head {
        // Run the GET so the validators describe the body a GET would return.
        *req.method_mut() = Method::GET;
    }
    let h = req.headers();
    let text = |name: header::HeaderName| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (if_none_match, range, if_range) = (
        text(header::IF_NONE_MATCH),
        text(header::RANGE),
        text(header::IF_RANGE),
    );
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return strip_if_head(res, head);
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::internal("the response", &e).into_response();
        }
    };
    let coding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let base = match parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
    {
        Some(tag) => tag.trim_matches('"').to_string(),
        None => format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes)),
    };
    let etag = match coding {
        Some(c) => format!("\"{base}-{c}\""),
        None => format!("\"{base}\""),
    };
    let etag_value = HeaderValue::from_str(&etag).expect("hex and a coding name are valid");
    parts.headers.insert(header::ETAG, etag_value);
    if !parts.headers.contains_key(header::CACHE_CONTROL) {
        parts.headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={max_age}")).expect("ascii"),
        );
    }
    if if_none_match.is_some_and(|inm| etag_matches(&inm, &etag)) {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        // What inner layers noted on the response (the route, for the metrics) stays.
        *not_modified.extensions_mut() = parts.extensions.clone();
        for name in [
            header::ETAG,
            header::CACHE_CONTROL,
            header::VARY,
            header::CONTENT_LOCATION,
        ] {
            if let Some(v) = parts.headers.get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        for (name, v) in parts.headers.iter() {
            if name.as_str().starts_with("access-control-") {
                not_modified.headers_mut().insert(name.clone(), v.clone());
            }
        }
        return not_modified;
    }
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // A range of this version only: an `If-Range` naming another sends it whole.
    let current = if_range.is_none_or(|tag| tag.trim() == etag);
    if let Some(range) = range.filter(|_| current) {
        match super::ranges::parse(&range, bytes.len() as u64) {
            super::ranges::Ranges::Whole => {}
            super::ranges::Ranges::Unsatisfiable => {
                let mut res = super::ranges::unsatisfiable(bytes.len() as u64);
                *res.extensions_mut() = parts.extensions;
                return res;
            }
            super::ranges::Ranges::Parts(parts_asked) => {
                let res = super::ranges::answer(
                    Response::from_parts(parts, Body::empty()),
                    &bytes,
                    &parts_asked,
                );
                return strip_if_head(res, head);
            }
        }
    }
    if head {
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn strip_if_head(res: Response, head: bool) -> Response {
    if !head {
        return res;
    }
    let (parts, _) = res.into_parts();
    Response::from_parts(parts, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abc-gzip\"", "\"abc\""));
    }
}
