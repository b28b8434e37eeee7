//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`.

use super::negotiate::Format;
use super::params::{Params, filter_value, format_param, items_params};
use super::{
    ApiError, App, MEDIA_GEOJSON, MEDIA_HTML, MEDIA_JSON, Req, check_id, html_response,
    json_response, link, path_param, self_links, timed,
};
use crate::geojson;
use crate::source::{Page, Query};
use crate::temporal;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use geo_types::{Coord, Rect};

/// Reads `bbox=minx,miny,maxx,maxy[,...]` (4 or 6 numbers, CRS84) into one rectangle, or two
/// when it crosses the antimeridian (minx > maxx); none when it holds nothing (its lower
/// latitude above its upper). A box reaching past ±180° or the poles is cut there: it means
/// the world up to its edge.
pub fn parse_bbox(raw: &str) -> Result<Vec<Rect<f64>>, ApiError> {
    let nums: Vec<f64> = raw
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::bad_request(format!("bbox=`{raw}`: every value must be a number"))
        })?;
    let (minx, miny, maxx, maxy) = match nums.as_slice() {
        [a, b, c, d] => (*a, *b, *c, *d),
        [a, b, _, d, e, _] => (*a, *b, *d, *e),
        _ => {
            return Err(ApiError::bad_request(format!(
                "bbox=`{raw}`: give 4 numbers (minLon,minLat,maxLon,maxLat) or 6 (with heights)"
            )));
        }
    };
    if [minx, miny, maxx, maxy].iter().any(|v| !v.is_finite()) {
        return Err(ApiError::bad_request(format!(
            "bbox=`{raw}`: values must be finite"
        )));
    }
    let lon = |v: f64| v.clamp(-180.0, 180.0);
    let (minx, maxx) = (lon(minx), lon(maxx));
    let (miny, maxy) = (miny.max(-90.0), maxy.min(90.0));
    if miny > maxy {
        return Ok(Vec::new());
    }
    let r = |x0: f64, x1: f64| Rect::new(Coord { x: x0, y: miny }, Coord { x: x1, y: maxy });
    Ok(if minx <= maxx {
        vec![r(minx, maxx)]
    } else {
        vec![r(minx, 180.0), r(-180.0, maxx)]
    })
}

/// An integer from `min` to 2^63 - 1, as the OpenAPI document declares it (`int64`).
fn parse_count(name: &str, raw: &str, min: u64) -> Result<u64, ApiError> {
    match raw.trim().parse::<i64>() {
        Ok(v) if v >= min as i64 => Ok(v as u64),
        _ => Err(ApiError::bad_request(format!(
            "{name}=`{raw}`: {name} must be an integer from {min} to {}",
            i64::MAX
        ))),
    }
}

pub async fn items(
    State(app): State<App>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = app.layer(path_param(path))?;
    let specs = items_params(layer, &app.config);
    let req = Req::new(&app, raw.as_deref(), &headers, &specs)?;
    let (params, format, base) = (&req.params, req.format, &req.base);
    let max = app.config.max_limit as u64;
    let requested = match params.get("limit") {
        Some(v) => parse_count("limit", v, 1)?,
        None => app.config.default_limit as u64,
    };
    let limit = requested.min(max) as usize;
    let offset = params
        .get("offset")
        .map(|v| parse_count("offset", v, 0))
        .transpose()?
        .unwrap_or(0);
    let after = match params.get("cursor") {
        Some(c) if c.is_empty() || c.chars().count() > super::params::MAX_CURSOR => {
            return Err(ApiError::bad_request(format!(
                "cursor: give the value of a `next` link, 1 to {} characters",
                super::params::MAX_CURSOR
            )));
        }
        c => c.map(str::to_string),
    };
    let bbox = params.get("bbox").map(parse_bbox).transpose()?;
    let datetime = params
        .get("datetime")
        .map(|v| {
            temporal::parse_datetime_param(v)
                .map_err(|e| ApiError::bad_request(format!("datetime=`{v}`: {e}")))
        })
        .transpose()?;
    let fields = &layer.source.info().fields;
    let mut equals = Vec::new();
    for (name, value) in &params.0 {
        if let Some(i) = fields.iter().position(|f| &f.name == name)
            && specs
                .iter()
                .any(|s| &s.name == name && s.component.is_none())
        {
            equals.push((i, filter_value(name, fields[i].kind, value)?));
        }
    }
    // A box or an interval that holds nothing matches nothing: no need to ask the source.
    let nothing =
        bbox.as_ref().is_some_and(Vec::is_empty) || datetime.as_ref().is_some_and(|d| d.is_empty());
    let query = Query {
        bbox: bbox.unwrap_or_default(),
        datetime,
        equals,
        offset,
        limit,
        after,
    };
    let page = match nothing {
        true => Page::default(),
        false => timed(&app, &layer.label(), layer.source.query(&query)).await?,
    };

    let url = format!("{base}/collections/{}/items", layer.meta.id);
    let precision = app.config.precision();
    let body = write_collection(
        &page, fields, precision, &url, params, format, offset, limit,
    );
    let mut res = match format {
        Format::Json => json_response(body.bytes, MEDIA_GEOJSON),
        Format::Html => html_response(app.html.items(&app, base, layer, &as_json(&body.bytes)?)?),
    };
    let h = res.headers_mut();
    // The timeStamp changes on every response; the ETag covers everything else.
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{:032x}\"", body.content_hash)).expect("hex"),
    );
    if requested > max {
        h.insert(
            "tessera-limit",
            HeaderValue::from_str(&format!("{limit}; requested={requested}; maximum={max}"))
                .expect("ascii"),
        );
    }
    for l in &body.link_header {
        h.append(
            header::LINK,
            HeaderValue::from_str(l).expect("urls are ascii"),
        );
    }
    Ok(res)
}

struct Written {
    bytes: Vec<u8>,
    content_hash: u128,
    link_header: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn write_collection(
    page: &Page,
    fields: &[crate::source::Field],
    precision: geojson::Precision,
    url: &str,
    params: &Params,
    format: Format,
    offset: u64,
    limit: usize,
) -> Written {
    let returned = page.features.len() as u64;
    let mut links = self_links(url, params, format, MEDIA_GEOJSON);
    let f = params.get("f").map(str::to_string);
    let page_href = |o: u64, cursor: Option<String>| {
        format!(
            "{url}{}",
            params.with(&[
                ("offset", Some(o.to_string())),
                ("cursor", cursor),
                ("limit", Some(limit.to_string())),
                ("f", f.clone())
            ])
        )
    };
    // Paging links keep the format of this page (an HTML page links HTML pages).
    let media = match format {
        Format::Json => MEDIA_GEOJSON,
        Format::Html => MEDIA_HTML,
    };
    let mut link_header = Vec::new();
    let mut paging = |rel: &str, o: u64, cursor: Option<String>, title: &str| {
        let href = page_href(o, cursor);
        link_header.push(format!("<{href}>; rel=\"{rel}\"; type=\"{media}\""));
        links.push(link(href, rel, media, title));
    };
    // An estimated count may be short or long: a full page may have another after it.
    // Paged by key, a full page has a next one (perhaps empty): rows added or deleted
    // before it since the first page would make the count mislead.
    let more = match (page.next_after.is_some(), page.estimated) {
        (true, _) => true,
        (false, false) => offset + returned < page.number_matched,
        (false, true) => returned == limit as u64 && returned > 0,
    };
    if more {
        let next = page.next_after.clone();
        paging("next", offset + returned, next, "Pagina successiva");
    }
    if offset > 0 {
        paging(
            "prev",
            offset.saturating_sub(limit as u64),
            None,
            "Pagina precedente",
        );
    }
    let collection_url = url.trim_end_matches("/items");
    links.push(link(
        collection_url,
        "collection",
        MEDIA_JSON,
        "La collezione",
    ));

    let mut out = Vec::with_capacity(256 + page.features.len() * 512);
    // An estimate is not `numberMatched`, which is exact when present.
    out.extend_from_slice(match page.estimated {
        false => b"{\"type\":\"FeatureCollection\",\"numberMatched\":",
        true => b"{\"type\":\"FeatureCollection\",\"numberMatchedEstimate\":",
    });
    out.extend_from_slice(page.number_matched.to_string().as_bytes());
    out.extend_from_slice(b",\"numberReturned\":");
    out.extend_from_slice(returned.to_string().as_bytes());
    out.extend_from_slice(b",\"links\":");
    serde_json::to_writer(&mut out, &links).expect("Vec write");
    out.extend_from_slice(b",\"features\":[");
    for (i, feat) in page.features.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        geojson::write_feature(&mut out, feat, fields, precision, b"");
    }
    out.push(b']');
    let content_hash = xxhash_rust::xxh3::xxh3_128(&out);
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    out.extend_from_slice(b",\"timeStamp\":\"");
    out.extend_from_slice(now.as_bytes());
    out.extend_from_slice(b"\"}");
    Written {
        bytes: out,
        content_hash,
        link_header,
    }
}

pub async fn item(
    State(app): State<App>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (cid, fid) = path
        .map(|p| p.0)
        .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))?;
    super::check_id(&cid)?;
    let layer = app.layer(Ok(cid))?;
    check_id(&fid)?;
    let req = Req::new(&app, raw.as_deref(), &headers, &[format_param()])?;
    let feature = timed(&app, &layer.label(), layer.source.feature(&fid))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "collection `{}` has no feature `{}`",
                layer.meta.id,
                fid.escape_debug()
            ))
        })?;
    let base = &req.base;
    let collection_url = format!("{base}/collections/{}", layer.meta.id);
    let url = format!(
        "{collection_url}/items/{}",
        form_urlencoded::byte_serialize(fid.as_bytes()).collect::<String>()
    );
    let mut links = self_links(&url, &req.params, req.format, MEDIA_GEOJSON);
    links.push(link(
        &collection_url,
        "collection",
        MEDIA_JSON,
        "La collezione",
    ));
    let mut extra = b",\"links\":".to_vec();
    serde_json::to_writer(&mut extra, &links).expect("Vec write");
    let mut out = Vec::new();
    let precision = app.config.precision();
    let fields = &layer.source.info().fields;
    geojson::write_feature(&mut out, &feature, fields, precision, &extra);
    match req.format {
        Format::Json => Ok(json_response(out, MEDIA_GEOJSON)),
        Format::Html => Ok(html_response(app.html.feature(
            &app,
            base,
            layer,
            &as_json(&out)?,
        )?)),
    }
}

/// Our own GeoJSON bytes as a JSON value, for the HTML templates.
fn as_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::internal("the HTML page", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_forms() {
        assert_eq!(parse_bbox("10,43,11,44").unwrap().len(), 1);
        assert_eq!(parse_bbox("10,43,0,11,44,100").unwrap()[0].max().y, 44.0);
        assert_eq!(parse_bbox("177,65,-177,70").unwrap().len(), 2);
        // Past the poles or ±180°: cut there. Upside down: holds nothing.
        let cut = parse_bbox("-200,-95,10,95").unwrap();
        assert_eq!((cut[0].min().x, cut[0].min().y), (-180.0, -90.0));
        assert_eq!(cut[0].max().y, 90.0);
        assert!(parse_bbox("10,44,11,43").unwrap().is_empty());
        for bad in ["10,43,11", "a,b,c,d", "NaN,1,2,3", "10,43,11,44,5", ""] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }
}
