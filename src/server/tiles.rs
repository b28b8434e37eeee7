//! OGC API - Tiles: the tile matrix sets, and for each tileset the catalogue resolves (a
//! collection, a struttura of L.R. 65/2014, the whole dataset or a `collections=` selection
//! of it) its tilesets list, its metadata, its TileJSON and its tiles, read from the
//! tileset's [`TileSource`] behind the tile cache.

use super::params::{ParamSpec, Params, parse_query};
use super::{ApiError, App, AppState, MEDIA_JSON, check_id, json_response, link, timed};
use crate::catalogue::{Placeholders, Tileset, TilesetId, WEB_MERCATOR};
use crate::lr65::Voce;
use crate::tiles::cache::{Cached, CachedTile};
use crate::tiles::matrix::{Limits, TileCoord, TileMatrixSet};
use crate::tiles::{TileSource, TileSourceInfo};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo_types::Rect;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;

pub const MEDIA_MVT: &str = "application/vnd.mapbox-vector-tile";
pub const REL_TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";
pub const REL_TILING_SCHEMES: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";

/// The tile sources of the fixed tilesets (every collection, struttura and the dataset), made
/// once at start-up, each behind the shared cache; selections get theirs per request.
pub(super) fn tile_sources(app: &AppState) -> HashMap<String, Arc<Cached>> {
    let mut ids: Vec<TilesetId> = app
        .catalogue
        .layers()
        .iter()
        .map(|l| TilesetId::Collection(l.meta.id.clone()))
        .collect();
    ids.extend(
        crate::lr65::Struttura::ALL
            .iter()
            .map(|s| TilesetId::Struttura(*s)),
    );
    ids.push(TilesetId::Dataset);
    ids.iter()
        .filter_map(|id| app.catalogue.tileset(id, &app.config.title).ok())
        .map(|ts| (ts.key(), cached(app, &ts)))
        .collect()
}

fn cached(app: &AppState, ts: &Tileset<'_>) -> Arc<Cached> {
    Arc::new(Cached::new(
        ts.tiles(),
        app.tile_cache.clone(),
        app.renders.clone(),
        &format!("{}#{}", app.generation, ts.key()),
    ))
}

impl AppState {
    /// The tile source of a resolved tileset.
    pub(super) fn tile_source(&self, ts: &Tileset<'_>) -> Arc<Cached> {
        match self.tile_sources.get(&ts.key()) {
            Some(c) => c.clone(),
            None => cached(self, ts),
        }
    }
}

/// `collections=`, of the collections `ids` (none: any name, for checking a request).
pub fn collections_param(ids: &[&str]) -> ParamSpec {
    let mut items = json!({"type": "string"});
    if !ids.is_empty() {
        items["enum"] = json!(ids);
    }
    ParamSpec {
        name: "collections".into(),
        description: "The collections in the tiles, comma-separated, each once, one MVT layer each in this order; all of them when absent.".into(),
        schema: json!({"type": "array", "minItems": 1, "uniqueItems": true, "items": items}),
        component: Some("collections"),
    }
}

fn f_param(formats: &[&str]) -> ParamSpec {
    ParamSpec {
        name: "f".into(),
        description: format!("Output format: {}.", formats.join(" or ")),
        schema: json!({"type": "string", "enum": formats}),
        component: None,
    }
}

/// The parameters a tile resource accepts: `f`, and `collections` on dataset tiles.
pub fn tile_params(dataset: bool, formats: &[&str]) -> Vec<ParamSpec> {
    let mut v = vec![f_param(formats)];
    if dataset {
        v.push(collections_param(&[]));
    }
    v
}

type PathMap = Result<Path<HashMap<String, String>>, PathRejection>;

/// The path parameters, each checked like an id.
fn path_map(p: PathMap) -> Result<HashMap<String, String>, ApiError> {
    let m = p
        .map(|p| p.0)
        .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))?;
    for v in m.values() {
        check_id(v)?;
    }
    Ok(m)
}

/// The tileset a request names: by its path, and `collections=` on the dataset's.
fn tileset_id(path: &HashMap<String, String>, params: &Params) -> Result<TilesetId, ApiError> {
    if let Some(id) = path.get("collection_id") {
        return Ok(TilesetId::Collection(id.clone()));
    }
    if let Some(id) = path.get("struttura") {
        return Ok(TilesetId::Struttura(super::struttura(id)?));
    }
    Ok(match params.get("collections") {
        None => TilesetId::Dataset,
        Some(raw) => TilesetId::Selection(raw.split(',').map(|c| c.trim().to_string()).collect()),
    })
}

/// The tileset `id` with its layers, as the catalogue resolves it.
pub(super) fn resolve<'a>(app: &'a AppState, id: &TilesetId) -> Result<Tileset<'a>, ApiError> {
    if let TilesetId::Collection(c) = id {
        // Not found says so as every collection resource does.
        return Ok(Tileset::of_collection(app.layer(Ok(c.clone()))?));
    }
    app.catalogue
        .tileset(id, &app.config.title)
        .map_err(|e| match id {
            // A query parameter names them: the request is at fault, whatever is missing.
            TilesetId::Selection(ids) => {
                ApiError::bad_request(format!("collections=`{}`: {e}", ids.join(",")))
            }
            _ => ApiError::failure("the tileset", &e),
        })
}

fn matrix_set<'a>(app: &'a AppState, id: &str) -> Result<&'a TileMatrixSet, ApiError> {
    app.matrix_sets.iter().find(|t| t.id == id).ok_or_else(|| {
        ApiError::not_found(format!(
            "there is no tile matrix set `{}`; the sets are: {}",
            id.escape_debug(),
            app.matrix_sets
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

fn limits_json(limits: &[Limits]) -> Json {
    limits
        .iter()
        .map(|l| {
            json!({
                "tileMatrix": l.z.to_string(),
                "minTileRow": l.min_row,
                "maxTileRow": l.max_row,
                "minTileCol": l.min_col,
                "maxTileCol": l.max_col,
            })
        })
        .collect()
}

/// The links every description of a tileset carries: the tiling scheme and the tile template.
fn tileset_links(base: &str, ts: &Tileset<'_>, tms: &TileMatrixSet) -> Vec<Json> {
    let mut item = link(
        ts.tile_template(base, tms.id, Placeholders::Ogc),
        "item",
        MEDIA_MVT,
        "Le tessere vettoriali (Mapbox Vector Tile)",
    );
    item["templated"] = true.into();
    let mut links = vec![
        link(
            format!("{base}/tileMatrixSets/{}", tms.id),
            REL_TILING_SCHEME,
            MEDIA_JSON,
            "La griglia delle tessere",
        ),
        item,
    ];
    // TileJSON describes Web Mercator tiles only.
    if tms.id == WEB_MERCATOR {
        links.push(link(
            ts.tilejson_url(base),
            "describedby",
            MEDIA_JSON,
            "TileJSON 3.0.0",
        ));
    }
    links
}

fn summary_json(
    base: &str,
    ts: &Tileset<'_>,
    info: &TileSourceInfo,
    tms: &TileMatrixSet,
) -> Result<Json, ApiError> {
    let limits = info
        .limits(tms)
        .map_err(|e| ApiError::internal("tile limits", &e))?;
    let mut links = vec![link(
        format!("{}{}", ts.url(base, tms.id), ts.query()),
        "self",
        MEDIA_JSON,
        "I metadati di questo insieme di tessere",
    )];
    links.extend(tileset_links(base, ts, tms));
    Ok(json!({
        "title": ts.title,
        "dataType": "vector",
        "crs": tms.crs_uri(),
        "tileMatrixSetId": tms.id,
        "tileMatrixSetURI": tms.uri,
        "tileMatrixSetLimits": limits_json(&limits),
        "links": links,
    }))
}

fn geometry_dimension(t: &str) -> Option<u8> {
    match t {
        "Point" | "MultiPoint" => Some(0),
        "LineString" | "MultiLineString" => Some(1),
        "Polygon" | "MultiPolygon" => Some(2),
        _ => None,
    }
}

/// A layer's properties as JSON Schema types.
fn fields_json(l: &crate::tiles::TileLayerInfo) -> impl Iterator<Item = (String, &'static str)> {
    l.fields.iter().map(|(n, t)| (n.clone(), t.json_type()))
}

fn tileset_json(
    app: &AppState,
    base: &str,
    ts: &Tileset<'_>,
    info: &TileSourceInfo,
    tms: &TileMatrixSet,
) -> Result<Json, ApiError> {
    let mut body = summary_json(base, ts, info, tms)?;
    let layers: Vec<Json> = info
        .layers
        .iter()
        .map(|l| {
            let props: serde_json::Map<String, Json> = fields_json(l)
                .map(|(n, t)| (n, json!({"type": t})))
                .collect();
            let mut v = json!({
                "id": l.id,
                "title": l.title,
                "dataType": "vector",
                "minTileMatrix": l.min_zoom.to_string(),
                "maxTileMatrix": l.max_zoom.min(tms.max_level).to_string(),
                "propertiesSchema": {"type": "object", "properties": props},
            });
            if app.catalogue.get(&l.id).is_some() {
                v["links"] = json!([link(
                    format!("{base}/collections/{}", l.id),
                    "collection",
                    MEDIA_JSON,
                    &l.title
                )]);
            }
            if let Some(d) = geometry_dimension(&l.geometry_type) {
                v["geometryDimension"] = d.into();
            }
            if let Some(e) = l.extent {
                v["boundingBox"] = bbox_json(tms, e)?;
            }
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    body["layers"] = layers.into();
    if let Some(e) = info.extent() {
        body["boundingBox"] = bbox_json(tms, e)?;
    }
    if let Some((min, max)) = info.zoom_range() {
        body["minTileMatrix"] = min.to_string().into();
        body["maxTileMatrix"] = max.min(tms.max_level).to_string().into();
    }
    Ok(body)
}

/// A CRS84 extent as a TMS 2.0 bounding box in the tile matrix set's CRS (where clients such as
/// GDAL look for it).
fn bbox_json(tms: &TileMatrixSet, e: Rect<f64>) -> Result<Json, ApiError> {
    let r = tms
        .from_crs84(e)
        .map_err(|e| ApiError::internal("the bounding box", &e))?;
    Ok(json!({
        "lowerLeft": [r.min().x, r.min().y],
        "upperRight": [r.max().x, r.max().y],
        "crs": tms.crs_uri(),
    }))
}

/// The request's `f` (refused unless one of `formats`) and the other parameters.
fn params(raw: Option<&str>, dataset: bool, formats: &[&str]) -> Result<Params, ApiError> {
    let p = parse_query(raw, &tile_params(dataset, formats))?;
    if let Some(f) = p.get("f")
        && !formats.contains(&f)
    {
        return Err(ApiError::bad_request(format!(
            "f={f} is not offered here; use f={}",
            formats.join(" or f=")
        )));
    }
    if !dataset && p.get("collections").is_some() {
        return Err(ApiError::bad_request(
            "`collections` selects collections of the dataset tiles at /tiles only",
        ));
    }
    Ok(p)
}

fn is_dataset(path: &HashMap<String, String>) -> bool {
    !path.contains_key("collection_id") && !path.contains_key("struttura")
}

/// What a request on a tileset names: its path parameters and the tileset.
fn tileset_of<'a>(
    app: &'a AppState,
    path: PathMap,
    raw: Option<&str>,
    formats: &[&str],
) -> Result<(HashMap<String, String>, Tileset<'a>), ApiError> {
    let path = path_map(path)?;
    let p = params(raw, is_dataset(&path), formats)?;
    let ts = resolve(app, &tileset_id(&path, &p)?)?;
    Ok((path, ts))
}

/// What a request on a tileset's matrix set names: its path parameters, the tileset, the set.
fn tileset_request<'a>(
    app: &'a AppState,
    path: PathMap,
    raw: Option<&str>,
    formats: &[&str],
) -> Result<(HashMap<String, String>, Tileset<'a>, &'a TileMatrixSet), ApiError> {
    let (path, ts) = tileset_of(app, path, raw, formats)?;
    let tms = matrix_set(app, &path["tms"])?;
    Ok((path, ts, tms))
}

pub async fn tile_matrix_sets(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params(raw.as_deref(), false, &["json"])?;
    let base = app.base(&headers);
    let sets: Vec<Json> = app
        .matrix_sets
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "title": t.title,
                "uri": t.uri,
                "crs": t.crs_uri(),
                "links": [link(format!("{base}/tileMatrixSets/{}", t.id), "self", MEDIA_JSON, t.title)],
            })
        })
        .collect();
    let body = json!({
        "tileMatrixSets": sets,
        "links": [link(format!("{base}/tileMatrixSets"), "self", MEDIA_JSON, "Le griglie delle tessere")],
    });
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}

pub async fn tile_matrix_set(
    State(app): State<App>,
    path: PathMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let path = path_map(path)?;
    params(raw.as_deref(), false, &["json"])?;
    let tms = matrix_set(&app, &path["tms"])?;
    Ok(json_response(
        tms.to_json().to_string().into_bytes(),
        MEDIA_JSON,
    ))
}

pub async fn tilesets(
    State(app): State<App>,
    path: PathMap,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, ts) = tileset_of(&app, path, raw.as_deref(), &["json"])?;
    let base = app.base(&headers);
    let source = app.tile_source(&ts);
    let list: Vec<Json> = app
        .matrix_sets
        .iter()
        .filter(|tms| source.info().serves(tms))
        .map(|tms| summary_json(&base, &ts, &source.info(), tms))
        .collect::<Result<_, _>>()?;
    let body = json!({
        "tilesets": list,
        "links": [link(format!("{base}{}{}", ts.path(), ts.query()), "self", MEDIA_JSON, "Gli insiemi di tessere")],
    });
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}

pub async fn tileset(
    State(app): State<App>,
    path: PathMap,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, ts, tms) = tileset_request(&app, path, raw.as_deref(), &["json"])?;
    let source = app.tile_source(&ts);
    let body = tileset_json(&app, &app.base(&headers), &ts, &source.info(), tms)?;
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}

pub async fn tilejson(
    State(app): State<App>,
    path: PathMap,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, ts, tms) = tileset_request(&app, path, raw.as_deref(), &["json"])?;
    if tms.epsg != 3857 {
        return Err(ApiError::not_found(
            "TileJSON describes Web Mercator tiles: use the WebMercatorQuad tileset",
        ));
    }
    let tiles = app.tile_source(&ts);
    let source = crate::styles::StyleSource::new(&ts, &tiles.info(), &app.base(&headers));
    let body = crate::styles::tilejson::of(&ts.title, &tiles.info(), &source);
    Ok(json_response(body.to_string().into_bytes(), MEDIA_JSON))
}

/// `{tileMatrix}/{tileRow}/{tileCol}` as a tile of `tms`, or why not.
fn tile_coord(tms: &TileMatrixSet, m: &str, row: &str, col: &str) -> Result<TileCoord, ApiError> {
    let z = match m.parse::<u8>() {
        Ok(z) if z <= tms.max_level && z.to_string() == m => z,
        _ => {
            return Err(ApiError::not_found(format!(
                "there is no tile matrix `{}` in {}: its tile matrices are 0 to {}",
                m.escape_debug(),
                tms.id,
                tms.max_level
            )));
        }
    };
    let index = |name: &str, v: &str| {
        v.parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!(
                "{name} `{}` is not a row or column number (an integer from 0)",
                v.escape_debug()
            ))
        })
    };
    let c = TileCoord {
        z,
        y: index("tileRow", row)?,
        x: index("tileCol", col)?,
    };
    if !tms.contains(c) {
        let (w, h) = tms.matrix_size(z);
        return Err(ApiError::not_found(format!(
            "tile matrix {z} of {} has rows 0 to {} and columns 0 to {}",
            tms.id,
            h - 1,
            w - 1
        )));
    }
    Ok(c)
}

pub async fn tile(
    State(app): State<App>,
    path: PathMap,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (path, ts, tms) = tileset_request(&app, path, raw.as_deref(), &["mvt"])?;
    let coord = tile_coord(tms, &path["z"], &path["y"], &path["x"])?;
    let source = app.tile_source(&ts);
    let info = source.info();
    let limits = info
        .limits_at(tms, coord.z)
        .map_err(|e| ApiError::internal("tile limits", &e))?;
    if !info.serves(tms) || !limits.iter().any(|l| l.contains(coord)) {
        return Err(ApiError::not_found(match &limits {
            Some(l) => format!(
                "tile {}/{}/{} is outside the data: at tile matrix {} the rows go from {} to {} and the columns from {} to {} (tileMatrixSetLimits)",
                coord.z, coord.y, coord.x, l.z, l.min_row, l.max_row, l.min_col, l.max_col
            ),
            None => match info.zoom_range() {
                Some((min, max)) => format!(
                    "this tileset has tile matrices {min} to {}; {} is outside them",
                    max.min(tms.max_level),
                    coord.z
                ),
                None => "this tileset has no data".to_string(),
            },
        }));
    }
    let gzip = super::negotiate::accepts_coding(&headers, "gzip");
    // A hit is answered here, without a trip to the blocking pool (unless it still has to be
    // compressed for this client).
    if let Some(hit) = source.hit(tms, coord).await
        && (!gzip || hit.is_empty() || hit.has_gzip())
    {
        return Ok(tile_response(&hit, gzip, app.config.tile_max_age));
    }
    let label = format!("tileset `{}`", ts.key());
    let tile = timed(&app, &label, source.cached_tile(tms, coord)).await?;
    if gzip && !tile.is_empty() && !tile.has_gzip() {
        // Compressing a large tile takes milliseconds: not on the async threads.
        let t = tile.clone();
        tokio::task::spawn_blocking(move || {
            t.gzip();
        })
        .await
        .map_err(|e| ApiError::internal(&label, &e))?;
    }
    Ok(tile_response(&tile, gzip, app.config.tile_max_age))
}

fn tile_response(tile: &CachedTile, gzip: bool, max_age: u32) -> Response {
    let cache_control =
        HeaderValue::from_str(&format!("public, max-age={max_age}")).expect("ascii");
    if tile.is_empty() {
        // No feature here: 204, as OGC API - Tiles allows.
        let mut res = StatusCode::NO_CONTENT.into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, cache_control);
        return res;
    }
    let body = if gzip {
        tile.gzip().clone()
    } else {
        tile.raw.clone()
    };
    let mut res = Response::new(Body::from(body));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_MVT));
    h.insert(header::CACHE_CONTROL, cache_control);
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", tile.etag)).expect("hex"),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            m
        };
        let gzip = |m: &HeaderMap| super::super::negotiate::accepts_coding(m, "gzip");
        let identity = |m: &HeaderMap| super::super::negotiate::accepts_coding(m, "identity");
        assert!(gzip(&h("gzip, deflate, br")));
        assert!(gzip(&h("br;q=1.0, gzip;q=0.8")));
        assert!(gzip(&h("*")));
        assert!(!gzip(&h("gzip;q=0")));
        assert!(!gzip(&h("gzip;q=0, *")), "its own q wins over *");
        assert!(!gzip(&h("br")));
        assert!(!gzip(&HeaderMap::new()));
        assert!(identity(&HeaderMap::new()) && identity(&h("br")));
        assert!(!identity(&h("identity;q=0")) && !identity(&h("*;q=0")));
        assert!(identity(&h("*;q=0, identity")));
        // A weight that is not a q-value drops its entry, as the compression layer does.
        assert!(!gzip(&h("gzip;q50")) && !gzip(&h("gzip;q=0.5;x=1")) && !gzip(&h("gzip;q=2")));
        assert!(gzip(&h("x-gzip;q=0.001")) && gzip(&h("gzip;Q=1.000")));
        assert!(!gzip(&h("gzip;q=1.0001")) && !gzip(&h("gzip;q=0.000")));
        assert!(identity(&h("identity;q=zero")));
    }
}
