//! Which representation a client gets (JSON or HTML), and the base URL links are built on.

use super::error::ApiError;
use axum::http::{HeaderMap, header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

impl Format {
    /// `f=json|html` wins; otherwise HTML only when the client prefers it to JSON, so `*/*`
    /// (OWSLib, curl) gets JSON and a browser gets HTML.
    pub fn choose(f: Option<&str>, headers: &HeaderMap) -> Result<Format, ApiError> {
        if let Some(f) = f {
            return match f {
                "json" | "geojson" | "application/json" | "application/geo+json" => {
                    Ok(Format::Json)
                }
                "html" | "text/html" => Ok(Format::Html),
                other => Err(ApiError::bad_request(format!(
                    "f={other} is not a format this server offers; use f=json or f=html"
                ))),
            };
        }
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Ok(Format::Json);
        };
        let (mut html, mut json, mut any) = (0.0f32, 0.0f32, 0.0f32);
        for part in accept.split(',') {
            let mut it = part.split(';');
            let media = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "text/html" | "application/xhtml+xml" => html = html.max(q),
                "*/*" | "application/*" => any = any.max(q),
                m if m.contains("json") => json = json.max(q),
                _ => {}
            }
        }
        let json = json.max(any);
        if html > json {
            Ok(Format::Html)
        } else if json > 0.0 || html == 0.0 && accept.trim().is_empty() {
            Ok(Format::Json)
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::NOT_ACCEPTABLE,
                format!(
                    "none of the media types in `Accept: {accept}` is offered; this resource is available as JSON and HTML"
                ),
            ))
        }
    }
}

/// The absolute base URL (no trailing slash): the configured public URL, or what the request
/// says through `Host` (and `X-Forwarded-Proto`/`X-Forwarded-Host` when the operator says a
/// proxy sets them: otherwise any client could make the links, and a shared cache, point elsewhere).
/// Whether `Accept-Encoding` takes `coding` (RFC 9110 §12.5.3): the coding's own q-value,
/// else that of `*`; a coding not named at all is refused, but for identity, which is always
/// acceptable unless refused. No header at all takes identity only. An entry whose weight is
/// not `;q=` and a valid q-value is ignored, as the compression layer ignores it: the two must
/// agree, or a response would be compressed in a coding the client refused.
pub fn accepts_coding(headers: &HeaderMap, coding: &str) -> bool {
    let entries = headers
        .get_all(axum::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| {
            let mut it = part.splitn(2, ';');
            let name = it.next().unwrap_or("").trim();
            let q = match it.next() {
                Some(weight) => qvalue(weight.trim())?,
                None => 1000,
            };
            Some((name, q))
        });
    let (mut own, mut any): (Option<u16>, Option<u16>) = (None, None);
    for (name, q) in entries {
        let gzip_alias = coding == "gzip" && name.eq_ignore_ascii_case("x-gzip");
        if name.eq_ignore_ascii_case(coding) || gzip_alias {
            // Named twice: the higher weight counts.
            own = Some(own.map_or(q, |o| o.max(q)));
        } else if name == "*" && any.is_none() {
            any = Some(q);
        }
    }
    match own.or(any) {
        Some(q) => q > 0,
        None => coding == "identity",
    }
}

/// `q=` and a q-value (RFC 9110 §12.4.2: 0 to 1, at most three decimals), in thousandths.
fn qvalue(weight: &str) -> Option<u16> {
    let v = weight.strip_prefix("q=").or(weight.strip_prefix("Q="))?;
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if !matches!(whole, "0" | "1")
        || fraction.len() > 3
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    let q = if whole == "1" { 1000 } else { 0 } + thousandths;
    (q <= 1000).then_some(q)
}

pub fn base_url(public_url: Option<&str>, trust_proxy: bool, headers: &HeaderMap) -> String {
    if let Some(u) = public_url {
        return u.trim_end_matches('/').to_string();
    }
    let get = |name: &str| {
        if name.starts_with("x-forwarded-") && !trust_proxy {
            return None;
        }
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let proto = get("x-forwarded-proto")
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".into());
    // Only host[:port] characters, so a forged header cannot inject markup or paths into links.
    let valid = |h: &String| {
        h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    };
    let host = get("x-forwarded-host")
        .filter(valid)
        .or_else(|| get("host").filter(valid))
        .unwrap_or_else(|| "localhost".into());
    format!("{proto}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, v.parse().unwrap());
        h
    }

    #[test]
    fn negotiation_follows_clients() {
        assert_eq!(
            Format::choose(None, &HeaderMap::new()).unwrap(),
            Format::Json
        );
        assert_eq!(Format::choose(None, &accept("*/*")).unwrap(), Format::Json);
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(
            Format::choose(None, &accept(browser)).unwrap(),
            Format::Html
        );
        assert_eq!(
            Format::choose(Some("json"), &accept(browser)).unwrap(),
            Format::Json
        );
        assert_eq!(
            Format::choose(None, &accept("application/geo+json, application/json")).unwrap(),
            Format::Json
        );
        assert_eq!(
            Format::choose(None, &accept("application/xml"))
                .unwrap_err()
                .status,
            axum::http::StatusCode::NOT_ACCEPTABLE
        );
        assert!(Format::choose(Some("xml"), &HeaderMap::new()).is_err());
    }

    #[test]
    fn base_url_prefers_config_then_forwarded_headers() {
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1:9000".parse().unwrap());
        assert_eq!(base_url(None, true, &h), "http://127.0.0.1:9000");
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        h.insert("x-forwarded-host", "gis.example.it".parse().unwrap());
        assert_eq!(base_url(None, true, &h), "https://gis.example.it");
        assert_eq!(base_url(None, false, &h), "http://127.0.0.1:9000");
        assert_eq!(
            base_url(Some("https://a.it/t/"), true, &h),
            "https://a.it/t"
        );
        h.insert("x-forwarded-host", "evil\"host".parse().unwrap());
        assert_eq!(base_url(None, true, &h), "https://127.0.0.1:9000");
    }
}
