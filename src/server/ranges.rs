//! Byte ranges (RFC 9110 §14): `Range: bytes=…` on any successful GET, answered with 206 and
//! one range, or `multipart/byteranges` for several, or 416 when none is inside the body.
//! Archive readers (PMTiles in a browser) read only by range.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// More ranges than this in one request are not worth answering piecewise: the whole body is
/// sent instead (a cheap defence against requests for thousands of tiny overlapping ranges).
const MAX_RANGES: usize = 16;

#[derive(Debug, PartialEq, Eq)]
pub enum Ranges {
    /// No usable `Range`: the whole body, 200.
    Whole,
    /// Inclusive byte ranges inside the body.
    Parts(Vec<(u64, u64)>),
    /// None of the ranges asked for is inside the body: 416.
    Unsatisfiable,
}

/// The ranges a `Range` header asks of a body of `len` bytes. A header that is not a valid
/// `bytes=` list is ignored, as RFC 9110 allows.
pub fn parse(header: &str, len: u64) -> Ranges {
    let Some(list) = header.trim().strip_prefix("bytes=") else {
        return Ranges::Whole;
    };
    let mut parts = Vec::new();
    let mut specs = 0;
    for spec in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        specs += 1;
        let Some((a, b)) = spec.split_once('-') else {
            return Ranges::Whole;
        };
        let num = |v: &str| v.trim().parse::<u64>().ok();
        let range = match (a.trim().is_empty(), b.trim().is_empty()) {
            // The last n bytes.
            (true, false) => match num(b) {
                Some(0) => None,
                Some(n) if len > 0 => Some((len.saturating_sub(n), len - 1)),
                Some(_) => None,
                None => return Ranges::Whole,
            },
            (false, true) => match num(a) {
                Some(first) if first < len => Some((first, len - 1)),
                Some(_) => None,
                None => return Ranges::Whole,
            },
            (false, false) => match (num(a), num(b)) {
                (Some(first), Some(last)) if first > last => return Ranges::Whole,
                (Some(first), Some(last)) if first < len => Some((first, last.min(len - 1))),
                (Some(_), Some(_)) => None,
                _ => return Ranges::Whole,
            },
            (true, true) => return Ranges::Whole,
        };
        parts.extend(range);
    }
    if specs == 0 || specs > MAX_RANGES {
        return Ranges::Whole;
    }
    if parts.is_empty() {
        return Ranges::Unsatisfiable;
    }
    Ranges::Parts(parts)
}

/// The 206 (or 416) answer to `ranges` of `body`, whose other headers are in `res` (a 200 of
/// it, without a body).
pub fn answer(mut res: Response, body: &Bytes, ranges: &[(u64, u64)]) -> Response {
    let len = body.len() as u64;
    *res.status_mut() = StatusCode::PARTIAL_CONTENT;
    let h = res.headers_mut();
    if let [(first, last)] = ranges {
        let slice = body.slice(*first as usize..=*last as usize);
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {first}-{last}/{len}")).expect("ascii"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(slice.len()));
        *res.body_mut() = Body::from(slice);
        return res;
    }
    let boundary = format!("tessera-{:016x}", xxhash_rust::xxh3::xxh3_64(body));
    let media = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut out = Vec::new();
    for (first, last) in ranges {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: {media}\r\nContent-Range: bytes {first}-{last}/{len}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(&body[*first as usize..=*last as usize]);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&format!("multipart/byteranges; boundary={boundary}"))
            .expect("ascii"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    *res.body_mut() = Body::from(out);
    res
}

/// 416 for a body of `len` bytes.
pub fn unsatisfiable(len: u64) -> Response {
    let mut res = super::ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        format!("no range asked for lies inside the {len} bytes of this resource"),
    )
    .into_response();
    res.headers_mut().insert(
        header::CONTENT_RANGE,
        HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_forms() {
        assert_eq!(parse("bytes=0-9", 100), Ranges::Parts(vec![(0, 9)]));
        assert_eq!(parse("bytes=90-", 100), Ranges::Parts(vec![(90, 99)]));
        assert_eq!(parse("bytes=-10", 100), Ranges::Parts(vec![(90, 99)]));
        assert_eq!(parse("bytes=-1000", 100), Ranges::Parts(vec![(0, 99)]));
        assert_eq!(parse("bytes=95-200", 100), Ranges::Parts(vec![(95, 99)]));
        assert_eq!(
            parse("bytes=0-0, 50-59", 100),
            Ranges::Parts(vec![(0, 0), (50, 59)])
        );
        assert_eq!(parse("bytes=100-", 100), Ranges::Unsatisfiable);
        assert_eq!(parse("bytes=100-200, 300-", 100), Ranges::Unsatisfiable);
        assert_eq!(parse("bytes=-0", 100), Ranges::Unsatisfiable);
        // Not a valid range header: the whole body.
        for bad in [
            "items=0-9",
            "bytes=9-0",
            "bytes=a-b",
            "bytes=-",
            "bytes=",
            "bytes=5",
        ] {
            assert_eq!(parse(bad, 100), Ranges::Whole, "{bad}");
        }
        let many = format!("bytes={}", vec!["0-0"; 17].join(","));
        assert_eq!(parse(&many, 100), Ranges::Whole);
    }
}
