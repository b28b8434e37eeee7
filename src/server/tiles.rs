//! OGC API - Tiles over the tile engine: the tile matrix sets, and tilesets of three kinds (a
//! collection, a struttura of L.R. 65/2014, the whole dataset or a `collections=` selection of
//! it), each with its tilesets list, its metadata, its TileJSON and its tiles.

use super::params::{ParamSpec, Params, parse_query};
use super::{ApiError, App, AppState, MEDIA_JSON, blocking, check_id, json_response, link};
use crate::catalogue::Layer;
use crate::catalogue::lr65::Voce;
use crate::tiles::cache::{CachedTile, TileKey};
use crate::tiles::matrix::{Limits, TileCoord, TileMatrixSet};
use crate::tiles::{self, LayerInput};
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

/// Layers served together, one MVT layer each.
pub(super) struct Tileset<'a> {
    /// Names the tileset in the cache and in messages, e.g. `collections/comuni`.
    key: String,
    title: String,
    /// Path of its tilesets list: `/collections/x/tiles`, `/strutture/y/tiles` or `/tiles`.
    path: String,
    /// Query string every link carries (the `collections=` selection), with its `?`.
    query: String,
    pub(super) layers: Vec<&'a Layer>,
}

impl Tileset<'_> {
    pub(super) fn title(&self) -> &str {
        &self.title
    }

    /// The tiles as a style source: the XYZ template of its WebMercatorQuad tiles.
    pub(super) fn style_source(&self, base: &str) -> crate::styles::TileSource<'_> {
        crate::styles::TileSource::new(
            format!(
                "{base}{}/WebMercatorQuad/{{z}}/{{y}}/{{x}}{}",
                self.path, self.query
            ),
            &self.layers,
        )
    }

    fn zoom_range(&self) -> Option<(u8, u8)> {
        tiles::zoom_range(&self.layers)
    }

    /// The CRS84 extent of all its layers.
    fn extent(&self) -> Option<Rect<f64>> {
        tiles::extent(&self.layers)
    }

    /// The tiles that hold data, level by level.
    fn limits(&self, tms: &TileMatrixSet) -> Result<Vec<Limits>, ApiError> {
        let Some((min, max)) = self.zoom_range() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for z in min..=max.min(tms.max_level) {
            out.extend(self.limits_at(tms, z)?);
        }
        Ok(out)
    }

    /// The tiles of level `z` that hold data; none outside the tileset's zoom range.
    fn limits_at(&self, tms: &TileMatrixSet, z: u8) -> Result<Option<Limits>, ApiError> {
        let (Some((min, max)), Some(extent)) = (self.zoom_range(), self.extent()) else {
            return Ok(None);
        };
        if !(min..=max).contains(&z) {
            return Ok(None);
        }
        tms.limits(z, extent).map(Some).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("tile limits: {e}"),
            )
        })
    }
}

fn collections_param() -> ParamSpec {
    ParamSpec {
        name: "collections".into(),
        description: "The collections in the tiles, comma-separated, one MVT layer each in this order; all of them when absent.".into(),
        schema: json!({"type": "array", "items": {"type": "string"}}),
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
        v.push(collections_param());
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

pub(super) fn resolve<'a>(
    app: &'a AppState,
    path: &HashMap<String, String>,
    params: &Params,
) -> Result<Tileset<'a>, ApiError> {
    if let Some(id) = path.get("collection_id") {
        let layer = app.layer(Ok(id.clone()))?;
        return Ok(Tileset {
            key: format!("collections/{id}"),
            title: layer.meta.title.clone(),
            path: format!("/collections/{id}/tiles"),
            query: String::new(),
            layers: vec![layer],
        });
    }
    if let Some(id) = path.get("struttura") {
        let s = super::struttura(id)?;
        return Ok(Tileset {
            key: format!("strutture/{id}"),
            title: s.etichetta().to_string(),
            path: format!("/strutture/{id}/tiles"),
            query: String::new(),
            layers: app.catalogue.of_struttura(s),
        });
    }
    let all = app.catalogue.layers();
    let Some(raw) = params.get("collections") else {
        return Ok(Tileset {
            key: "dataset".into(),
            title: app.config.title.clone(),
            path: "/tiles".into(),
            query: String::new(),
            layers: all.iter().collect(),
        });
    };
    let mut layers: Vec<&Layer> = Vec::new();
    for id in raw.split(',').map(str::trim) {
        let layer = app.catalogue.get(id).ok_or_else(|| {
            ApiError::bad_request(format!(
                "collections=`{raw}`: there is no collection `{}`; the collections are: {}",
                id.escape_debug(),
                all.iter()
                    .map(|l| l.meta.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if layers.iter().any(|l| l.meta.id == layer.meta.id) {
            return Err(ApiError::bad_request(format!(
                "collections=`{raw}`: `{id}` is listed twice"
            )));
        }
        layers.push(layer);
    }
    let ids: Vec<&str> = layers.iter().map(|l| l.meta.id.as_str()).collect();
    let list = ids.join(",");
    Ok(Tileset {
        key: format!("dataset?collections={list}"),
        title: format!("{}: {}", app.config.title, ids.join(", ")),
        path: "/tiles".into(),
        query: params.with(&[("f", None), ("collections", Some(list))]),
        layers,
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
    let url = format!("{base}{}/{}", ts.path, tms.id);
    let mut item = link(
        format!("{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{}", ts.query),
        "item",
        MEDIA_MVT,
        "Le tessere vettoriali (Mapbox Vector Tile)",
    );
    item["templated"] = true.into();
    vec![
        link(
            format!("{base}/tileMatrixSets/{}", tms.id),
            REL_TILING_SCHEME,
            MEDIA_JSON,
            "La griglia delle tessere",
        ),
        item,
        link(
            format!("{url}/tilejson.json{}", ts.query),
            "describedby",
            MEDIA_JSON,
            "TileJSON 3.0.0",
        ),
    ]
}

fn summary_json(base: &str, ts: &Tileset<'_>, tms: &TileMatrixSet) -> Result<Json, ApiError> {
    let mut links = vec![link(
        format!("{base}{}/{}{}", ts.path, tms.id, ts.query),
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
        "tileMatrixSetLimits": limits_json(&ts.limits(tms)?),
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

/// The names and JSON types of the properties a layer's tiles carry at zoom `z`.
fn tile_fields(layer: &Layer, z: u8) -> Vec<(&str, &'static str)> {
    let fields = &layer.source.info().fields;
    match &layer.tiling.at(z).properties {
        Some(cols) => cols
            .iter()
            .map(|&c| (fields[c].name.as_str(), fields[c].kind.json_type()))
            .collect(),
        None => fields
            .iter()
            .map(|f| (f.name.as_str(), f.kind.json_type()))
            .collect(),
    }
}

fn tileset_json(base: &str, ts: &Tileset<'_>, tms: &TileMatrixSet) -> Result<Json, ApiError> {
    let mut body = summary_json(base, ts, tms)?;
    let layers: Vec<Json> = ts
        .layers
        .iter()
        .map(|l| {
            let info = l.source.info();
            let props: serde_json::Map<String, Json> = tile_fields(l, l.tiling.max_zoom)
                .into_iter()
                .map(|(n, t)| (n.to_string(), json!({"type": t})))
                .collect();
            let mut v = json!({
                "id": l.meta.id,
                "title": l.meta.title,
                "dataType": "vector",
                "minTileMatrix": l.tiling.min_zoom.to_string(),
                "maxTileMatrix": l.tiling.max_zoom.min(tms.max_level).to_string(),
                "propertiesSchema": {"type": "object", "properties": props},
                "links": [link(format!("{base}/collections/{}", l.meta.id), "collection", MEDIA_JSON, &l.meta.title)],
            });
            if let Some(d) = geometry_dimension(&info.geometry_type) {
                v["geometryDimension"] = d.into();
            }
            if let Some(e) = info.extent {
                v["boundingBox"] = bbox_json(tms, e)?;
            }
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    body["layers"] = layers.into();
    if let Some(e) = ts.extent() {
        body["boundingBox"] = bbox_json(tms, e)?;
    }
    if let Some((min, max)) = ts.zoom_range() {
        body["minTileMatrix"] = min.to_string().into();
        body["maxTileMatrix"] = max.min(tms.max_level).to_string().into();
    }
    Ok(body)
}

/// A CRS84 extent as a TMS 2.0 bounding box in the tile matrix set's CRS (where clients such as
/// GDAL look for it).
fn bbox_json(tms: &TileMatrixSet, e: Rect<f64>) -> Result<Json, ApiError> {
    let r = tms.from_crs84(e).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("bounding box: {e}"),
        )
    })?;
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

/// What a request on a tileset's matrix set names: its path parameters, the tileset, the set.
fn tileset_request<'a>(
    app: &'a AppState,
    path: PathMap,
    raw: Option<&str>,
    formats: &[&str],
) -> Result<(HashMap<String, String>, Tileset<'a>, &'a TileMatrixSet), ApiError> {
    let path = path_map(path)?;
    let p = params(raw, is_dataset(&path), formats)?;
    let ts = resolve(app, &path, &p)?;
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
    let path = path_map(path)?;
    let p = params(raw.as_deref(), is_dataset(&path), &["json"])?;
    let ts = resolve(&app, &path, &p)?;
    let base = app.base(&headers);
    let list: Vec<Json> = app
        .matrix_sets
        .iter()
        .map(|tms| summary_json(&base, &ts, tms))
        .collect::<Result<_, _>>()?;
    let body = json!({
        "tilesets": list,
        "links": [link(format!("{base}{}{}", ts.path, ts.query), "self", MEDIA_JSON, "Gli insiemi di tessere")],
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
    let body = tileset_json(&app.base(&headers), &ts, tms)?;
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
    let source = ts.style_source(&app.base(&headers));
    let (min, max) = (source.min_zoom, source.max_zoom);
    let mut body = json!({
        "tilejson": "3.0.0",
        "name": ts.title,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [source.tiles],
        "minzoom": min,
        "maxzoom": max,
        "vector_layers": ts.layers.iter().map(|l| {
            let fields: serde_json::Map<String, Json> = tile_fields(l, l.tiling.max_zoom)
                .into_iter()
                .map(|(n, t)| (n.to_string(), Json::from(t)))
                .collect();
            json!({
                "id": l.meta.id,
                "description": l.meta.title,
                "minzoom": l.tiling.min_zoom.max(min),
                "maxzoom": l.tiling.max_zoom.min(max),
                "fields": fields,
            })
        }).collect::<Vec<_>>(),
    });
    if let Some(a) = &source.attribution {
        body["attribution"] = a.clone().into();
    }
    if let Some(b) = source.bounds {
        body["bounds"] = json!(b);
        // A zoom where the extent spans a few tiles.
        let span = (b[2] - b[0]).max(b[3] - b[1]).max(1e-6);
        let z = ((360.0 / span).log2().floor() as i64 + 1).clamp(min as i64, max as i64);
        body["center"] = json!([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, z]);
    }
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
    let limits = ts.limits_at(tms, coord.z)?;
    if !limits.iter().any(|l| l.contains(coord)) {
        return Err(ApiError::not_found(
            match limits.iter().find(|l| l.z == coord.z) {
                Some(l) => format!(
                    "tile {}/{}/{} is outside the data: at tile matrix {} the rows go from {} to {} and the columns from {} to {} (tileMatrixSetLimits)",
                    coord.z, coord.y, coord.x, l.z, l.min_row, l.max_row, l.min_col, l.max_col
                ),
                None => match ts.zoom_range() {
                    Some((min, max)) => format!(
                        "this tileset has tile matrices {min} to {}; {} is outside them",
                        max.min(tms.max_level),
                        coord.z
                    ),
                    None => "this tileset has no data".to_string(),
                },
            },
        ));
    }
    let key = TileKey {
        tileset: Arc::from(ts.key.as_str()),
        matrix_set: tms.id,
        z: coord.z,
        x: coord.x,
        y: coord.y,
    };
    let gzip = accepts_gzip(&headers);
    // A hit is answered here, without a trip to the blocking pool (unless it still has to be
    // compressed for this client).
    if let Some(hit) = app.tile_cache.get(&key)
        && (!gzip || hit.is_empty() || hit.has_gzip())
    {
        return Ok(tile_response(&hit, gzip, app.config.tile_max_age));
    }
    let layer_ids: Vec<String> = ts.layers.iter().map(|l| l.meta.id.clone()).collect();
    let label = format!("tileset `{}`", ts.key);
    let app2 = app.clone();
    let tms_id = tms.id;
    let cached = blocking(&app, &label, move || {
        let app = &app2;
        let tms = app
            .matrix_sets
            .iter()
            .find(|t| t.id == tms_id)
            .expect("resolved above");
        app.tile_cache
            .get_or_render(key, || {
                let layers: Vec<&Layer> = layer_ids
                    .iter()
                    .filter_map(|id| app.catalogue.get(id))
                    .collect();
                let inputs: Vec<LayerInput<'_>> = layers
                    .iter()
                    .map(|l| LayerInput {
                        name: &l.meta.id,
                        source: l.source.as_ref(),
                        tiling: &l.tiling,
                    })
                    .collect();
                tiles::render(tms, coord, &inputs).map(|r| r.bytes)
            })
            .inspect(|t| {
                if gzip && !t.is_empty() {
                    t.gzip();
                }
            })
    })
    .await?;
    Ok(tile_response(&cached, gzip, app.config.tile_max_age))
}

/// Whether `Accept-Encoding` takes gzip (and does not refuse it with q=0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && q > 0.0
        })
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
        assert!(accepts_gzip(&h("gzip, deflate, br")));
        assert!(accepts_gzip(&h("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
