//! The OpenAPI 3.0 document, generated from the catalogue and the parameter declarations the
//! handlers validate with, so it always describes what the server really accepts.

use super::negotiate::Format;
use super::params::{
    ParamSpec, bbox_param, cursor_param, datetime_param, format_param, items_params, limit_param,
    offset_param, parse_query,
};
use super::{
    ApiError, App, MEDIA_GEOJSON, MEDIA_HTML, MEDIA_JSON, MEDIA_OPENAPI, html_response,
    json_response,
};
use crate::lr65::{Struttura, Voce};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value as Json, json};

fn param_ref(p: &ParamSpec) -> Json {
    match p.component {
        Some(name) => json!({"$ref": format!("#/components/parameters/{name}")}),
        None => p.openapi(),
    }
}

fn errors(codes: &[&str]) -> Map<String, Json> {
    codes
        .iter()
        .map(|c| {
            (
                c.to_string(),
                json!({"$ref": format!("#/components/responses/E{c}")}),
            )
        })
        .collect()
}

fn operation(
    id: &str,
    summary: &str,
    tag: &str,
    params: Vec<Json>,
    ok: Json,
    error_codes: &[&str],
) -> Json {
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    responses.insert(
        "304".into(),
        json!({"description": "Not modified: the `If-None-Match` ETag is current."}),
    );
    // What any request may meet: a bad Host or parameter, an Accept or Accept-Encoding with
    // nothing offered, a body or URL too long, a bug.
    responses.extend(errors(&["400", "406", "413", "414", "500"]));
    responses.extend(errors(error_codes));
    json!({"get": {
        "operationId": id,
        "summary": summary,
        "tags": [tag],
        "parameters": params,
        "responses": responses,
    }})
}

fn ok(description: &str, media: &[(&str, &str)]) -> Json {
    let content: Map<String, Json> = media
        .iter()
        .map(|(m, schema)| {
            let s = if schema.is_empty() {
                debug_assert_eq!(*m, MEDIA_HTML, "a JSON response has a schema");
                json!({"type": "string"})
            } else {
                json!({"$ref": format!("#/components/schemas/{schema}")})
            };
            (m.to_string(), json!({"schema": s}))
        })
        .collect();
    json!({"description": description, "content": content})
}

pub fn document(app: &App, base: &str) -> Json {
    let server = &app.config;
    let fp = || vec![param_ref(&format_param())];
    let common_errors = ["400", "406", "414", "500"];
    let mut paths = Map::new();
    paths.insert("/".into(), operation("getLandingPage", "Landing page", "Capabilities", fp(),
        ok("Links to the API definition, the conformance classes and the collections, with the collections grouped by struttura and stato (L.R. 65/2014).", &[(MEDIA_JSON, "landingPage"), (MEDIA_HTML, "")]), &common_errors));
    paths.insert(
        "/conformance".into(),
        operation(
            "getConformanceDeclaration",
            "Conformance classes implemented",
            "Capabilities",
            fp(),
            ok(
                "The conformance classes.",
                &[(MEDIA_JSON, "confClasses"), (MEDIA_HTML, "")],
            ),
            &common_errors,
        ),
    );
    paths.insert(
        "/api".into(),
        operation(
            "getAPIDefinition",
            "This OpenAPI document",
            "Capabilities",
            fp(),
            ok(
                "The API definition.",
                &[(MEDIA_OPENAPI, "openapi"), (MEDIA_HTML, "")],
            ),
            &common_errors,
        ),
    );
    paths.insert(
        "/collections".into(),
        operation(
            "getCollections",
            "The collections",
            "Capabilities",
            fp(),
            ok(
                "Every collection, with its metadata and classification.",
                &[(MEDIA_JSON, "collections"), (MEDIA_HTML, "")],
            ),
            &common_errors,
        ),
    );
    paths.insert(
        "/health".into(),
        operation(
            "getHealth",
            "Liveness",
            "Capabilities",
            vec![],
            ok(
                "The server runs; `degraded` lists the collections whose new data could not be served.",
                &[(MEDIA_JSON, "health")],
            ),
            &["400", "406", "413", "414"],
        ),
    );
    for layer in app.catalogue.layers() {
        let id = &layer.meta.id;
        let tag = layer.meta.title.as_str();
        paths.insert(
            format!("/collections/{id}"),
            operation(
                &format!("describeCollection.{id}"),
                &format!("Metadata of `{id}`"),
                tag,
                fp(),
                ok(
                    "The collection.",
                    &[(MEDIA_JSON, "collection"), (MEDIA_HTML, "")],
                ),
                &["400", "404", "406", "414", "500"],
            ),
        );
        let params: Vec<Json> = items_params(layer, server).iter().map(param_ref).collect();
        let mut page = ok(
            "A page of features, in CRS84.",
            &[
                (MEDIA_GEOJSON, "featureCollectionGeoJSON"),
                (MEDIA_HTML, ""),
            ],
        );
        // Where a client finds feature ids: in the page (an OpenAPI link, followed by tools).
        page["links"] = json!({"getFeature": {
            "operationId": format!("getFeature.{id}"),
            "parameters": {"featureId": "$response.body#/features/0/id"},
            "description": "The first feature of the page.",
        }});
        paths.insert(
            format!("/collections/{id}/items"),
            operation(
                &format!("getFeatures.{id}"),
                &format!("Features of `{id}`"),
                tag,
                params,
                page,
                &["400", "404", "406", "414", "500", "503"],
            ),
        );
        let mut fparams = fp();
        fparams.insert(0, json!({"$ref": "#/components/parameters/featureId"}));
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}"),
            operation(
                &format!("getFeature.{id}"),
                &format!("One feature of `{id}`"),
                tag,
                fparams,
                ok(
                    "The feature, in CRS84.",
                    &[(MEDIA_GEOJSON, "featureGeoJSON"), (MEDIA_HTML, "")],
                ),
                &["400", "404", "406", "414", "500", "503"],
            ),
        );
    }

    tile_paths(app, &mut paths);
    style_paths(app, &mut paths);

    let ids: Vec<&str> = (app.catalogue.layers().iter())
        .map(|l| l.meta.id.as_str())
        .collect();
    let mut parameters = Map::new();
    for p in [
        format_param(),
        limit_param(server),
        offset_param(),
        cursor_param(),
        bbox_param(),
        datetime_param(),
        super::tiles::collections_param(&ids),
    ] {
        parameters.insert(
            p.component.expect("shared parameter").to_string(),
            p.openapi(),
        );
    }
    for (name, description, schema) in [
        (
            "tileMatrixSetId",
            "The tile matrix set (tiling scheme).",
            json!({"type": "string", "enum": app.matrix_sets.iter().map(|t| t.id).collect::<Vec<_>>()}),
        ),
        (
            "tileMatrix",
            "The level of the tile matrix set (the zoom), e.g. `12`; one the set does not have is 404.",
            json!({"type": "string", "pattern": "^[0-9]{1,2}$"}),
        ),
        (
            "tileRow",
            "The row of the tile (y), from 0 at the top; one outside the matrix is 404.",
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
        ),
        (
            "tileCol",
            "The column of the tile (x), from 0 at the left; one outside the matrix is 404.",
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
        ),
        (
            "struttura",
            "A struttura of the patrimonio territoriale (L.R. 65/2014, art. 3).",
            json!({"type": "string", "enum": Struttura::ALL.iter().map(|s| s.id()).collect::<Vec<_>>()}),
        ),
    ] {
        parameters.insert(name.into(), json!({
            "name": name, "in": "path", "required": true, "description": description, "schema": schema,
        }));
    }
    parameters.insert("featureId".into(), json!({
        "name": "featureId", "in": "path", "required": true,
        "description": "The id of a feature: its position in the layer, or the value of the layer's id property.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": super::ID_PATTERN},
    }));
    let mut responses = Map::new();
    for (code, text) in [
        (
            "400",
            "Bad request: an unknown parameter, or a parameter with an invalid value.",
        ),
        (
            "404",
            "No such collection, feature, tile matrix set or tile (outside the tile matrix set limits).",
        ),
        (
            "406",
            "None of the media types in `Accept`, or none of the codings in `Accept-Encoding`, is offered.",
        ),
        (
            "413",
            "The request declares a body longer than the server accepts.",
        ),
        ("414", "The URL is longer than the server accepts."),
        ("500", "Internal error."),
        (
            "503",
            "The collection's data source cannot be read right now; other collections are not affected.",
        ),
    ] {
        responses.insert(format!("E{code}"), json!({
            "description": text,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/exception"}}},
        }));
    }

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": server.title,
            "description": format!("{}\n\nOGC API - Features - Part 1: Core and OGC API - Tiles - Part 1, served by tessera.", server.description),
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "EUPL-1.2", "url": "https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12"},
        },
        "servers": [{"url": base, "description": "This server"}],
        "tags": [
            {"name": "Capabilities", "description": "Landing page, conformance, API definition, collections"},
            {"name": "Tiles", "description": "Vector tiles (OGC API - Tiles, Mapbox Vector Tile): per collection, per struttura of L.R. 65/2014, and for the dataset"},
            {"name": "Styles", "description": "MapLibre styles of the vector tiles, for MapLibre GL JS and QGIS"},
        ],
        "paths": paths,
        "components": {
            "parameters": parameters,
            "responses": responses,
            "schemas": schemas(),
        },
    })
}

/// The strutture of L.R. 65/2014 and the MapLibre styles.
fn style_paths(app: &App, paths: &mut Map<String, Json>) {
    let style = super::styles::MEDIA_STYLE;
    let struttura = json!({"$ref": "#/components/parameters/struttura"});
    paths.insert(
        "/strutture".into(),
        operation(
            "getStrutture",
            "The strutture of the patrimonio territoriale (L.R. 65/2014, art. 3)",
            "Capabilities",
            vec![param_ref(&format_param())],
            ok(
                "Each struttura with its collections by stato, and links to its tiles and style.",
                &[(MEDIA_JSON, "strutture"), (MEDIA_HTML, "")],
            ),
            &["400", "406", "414", "500"],
        ),
    );
    paths.insert(
        "/strutture/{struttura}".into(),
        operation(
            "getStruttura",
            "One struttura",
            "Capabilities",
            vec![struttura.clone(), param_ref(&format_param())],
            ok(
                "The struttura's collections by stato, with links to its tiles and style.",
                &[(MEDIA_JSON, "struttura"), (MEDIA_HTML, "")],
            ),
            &["400", "404", "406", "414", "500"],
        ),
    );
    paths.insert(
        "/styles".into(),
        operation(
            "getStyles",
            "The MapLibre styles",
            "Styles",
            vec![],
            ok(
                "One style per struttura and `tutto` for every collection.",
                &[(MEDIA_JSON, "styles")],
            ),
            &["400", "414", "500"],
        ),
    );
    let files: Map<String, Json> = super::assets::media_types()
        .into_iter()
        .map(|m| (m.to_string(), json!({"schema": {"type": "string"}})))
        .collect();
    paths.insert(
        "/assets/{name}".into(),
        operation(
            "getAsset",
            "A file the HTML maps use (MapLibre GL JS, its CSS, its licence), served from the binary",
            "Capabilities",
            vec![json!({"name": "name", "in": "path", "required": true,
                "schema": {"type": "string", "enum": super::assets::names()}})],
            json!({"description": "The file; its name carries its version.", "content": files}),
            &["404"],
        ),
    );
    for file in app.sprites.names() {
        let (media, schema) = if file.ends_with(".png") {
            ("image/png", json!({"type": "string", "format": "binary"}))
        } else {
            (MEDIA_JSON, json!({"type": "object"}))
        };
        paths.insert(
            format!("/styles/{file}"),
            operation(
                &format!("getSprite.{}", file.replace(['.', '@'], "_")),
                "The styles' sprite: the hatches of the di diritto areas (index or sheet; @2x for high-density screens)",
                "Styles",
                vec![],
                json!({"description": "The sprite file.", "content": {media: {"schema": schema}}}),
                &[],
            ),
        );
    }
    let ids: Vec<&str> = std::iter::once(super::styles::ALL)
        .chain(Struttura::ALL.iter().map(|s| s.id()))
        .collect();
    paths.insert("/styles/{styleId}".into(), operation("getStyle", "A MapLibre style (version 8)", "Styles",
        vec![json!({"name": "styleId", "in": "path", "required": true, "description": "`tutto` or a struttura.", "schema": {"type": "string", "enum": ids}})],
        ok("The style, its tile source pointing at this server.", &[(style, "style")]), &["400", "404", "414", "500"]));
    for layer in app.catalogue.layers() {
        let id = &layer.meta.id;
        paths.insert(
            format!("/collections/{id}/styles/default"),
            operation(
                &format!("getStyle.{id}"),
                &format!("The MapLibre style of `{id}`"),
                "Styles",
                vec![],
                ok(
                    "The style of the collection's vector tiles.",
                    &[(style, "style")],
                ),
                &["400", "404", "414", "500"],
            ),
        );
    }
}

/// Tile matrix sets and, for the dataset, every struttura and every collection, the tilesets
/// list, the tileset, its TileJSON and its tiles (operation ids with the OGC dot suffixes).
fn tile_paths(app: &App, paths: &mut Map<String, Json>) {
    let fjson = || vec![super::tiles::tile_params(false, &["json"])[0].openapi()];
    let tms_ref = json!({"$ref": "#/components/parameters/tileMatrixSetId"});
    paths.insert(
        "/tileMatrixSets".into(),
        operation(
            "getTileMatrixSetsList",
            "The tile matrix sets",
            "Tiles",
            fjson(),
            ok(
                "The tile matrix sets the tiles use.",
                &[(MEDIA_JSON, "tileMatrixSets")],
            ),
            &["400", "414", "500"],
        ),
    );
    let mut p = fjson();
    p.insert(0, tms_ref.clone());
    paths.insert(
        "/tileMatrixSets/{tileMatrixSetId}".into(),
        operation(
            "getTileMatrixSet",
            "A tile matrix set (OGC TMS 2.0 JSON)",
            "Tiles",
            p,
            ok("The tile matrix set.", &[(MEDIA_JSON, "tileMatrixSet")]),
            &["400", "404", "414", "500"],
        ),
    );
    let mut scopes: Vec<(String, String, Option<Json>, bool)> = vec![
        ("/tiles".into(), "dataset".into(), None, true),
        (
            "/strutture/{struttura}/tiles".into(),
            "struttura".into(),
            Some(json!({"$ref": "#/components/parameters/struttura"})),
            false,
        ),
    ];
    for layer in app.catalogue.layers() {
        let id = &layer.meta.id;
        scopes.push((
            format!("/collections/{id}/tiles"),
            format!("collection.{id}"),
            None,
            false,
        ));
    }
    for (prefix, scope, scope_param, dataset) in scopes {
        let query = |formats: &[&str]| -> Vec<Json> {
            super::tiles::tile_params(dataset, formats)
                .iter()
                .map(param_ref)
                .collect()
        };
        let with = |mut path_params: Vec<Json>, formats: &[&str]| {
            if let Some(sp) = &scope_param {
                path_params.insert(0, sp.clone());
            }
            path_params.extend(query(formats));
            path_params
        };
        let errors = ["400", "404", "414", "500"];
        paths.insert(
            prefix.clone(),
            operation(
                &format!("{scope}.getTileSetsList"),
                "The tilesets",
                "Tiles",
                with(vec![], &["json"]),
                ok(
                    "The tilesets, one per tile matrix set.",
                    &[(MEDIA_JSON, "tileSets")],
                ),
                &errors,
            ),
        );
        paths.insert(
            format!("{prefix}/{{tileMatrixSetId}}"),
            operation(
                &format!("{scope}.getTileSet"),
                "A tileset's metadata",
                "Tiles",
                with(vec![tms_ref.clone()], &["json"]),
                ok(
                    "The tileset metadata (OGC TMS 2.0), with its tile matrix set limits.",
                    &[(MEDIA_JSON, "tileSet")],
                ),
                &errors,
            ),
        );
        paths.insert(
            format!("{prefix}/{{tileMatrixSetId}}/tilejson.json"),
            operation(
                &format!("{scope}.getTileJSON"),
                "The tileset as TileJSON 3.0.0",
                "Tiles",
                with(vec![tms_ref.clone()], &["json"]),
                ok(
                    "TileJSON 3.0.0 (WebMercatorQuad only).",
                    &[(MEDIA_JSON, "tileJSON")],
                ),
                &errors,
            ),
        );
        let mut tile = operation(
            &format!("{scope}.getTile"),
            "A vector tile",
            "Tiles",
            with(
                ["tileMatrix", "tileRow", "tileCol"].iter().fold(
                    vec![tms_ref.clone()],
                    |mut v, n| {
                        v.push(json!({"$ref": format!("#/components/parameters/{n}")}));
                        v
                    },
                ),
                &["mvt"],
            ),
            json!({"description": "The tile, one MVT layer per collection (gzip when accepted).",
                   "content": {super::tiles::MEDIA_MVT: {"schema": {"type": "string", "format": "binary"}}}}),
            &["400", "404", "414", "500", "503"],
        );
        tile["get"]["responses"]["204"] =
            json!({"description": "No feature in this tile (inside the tile matrix set limits)."});
        paths.insert(
            format!("{prefix}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
            tile,
        );
    }
}

fn schemas() -> Json {
    let link = json!({
        "type": "object", "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
            "title": {"type": "string"}, "hreflang": {"type": "string"},
        },
    });
    let links = json!({"type": "array", "items": {"$ref": "#/components/schemas/link"}});
    let mut all = json!({
        "link": link,
        "exception": {
            "type": "object", "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer"}, "detail": {"type": "string"},
            },
        },
        "landingPage": {
            "type": "object", "required": ["links"],
            "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": links},
        },
        "confClasses": {
            "type": "object", "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
        },
        "extent": {
            "type": "object",
            "properties": {
                "spatial": {"type": "object", "properties": {
                    "bbox": {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
                    "crs": {"type": "string"},
                }},
                "temporal": {"type": "object", "properties": {
                    "interval": {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string", "format": "date-time", "nullable": true}}},
                    "trs": {"type": "string"},
                }},
            },
        },
        "collection": {
            "type": "object", "required": ["id", "links"],
            "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                "links": links, "extent": {"$ref": "#/components/schemas/extent"},
                "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}},
                "classificazione": {"type": "object", "description": "Classification by L.R. Toscana 65/2014: struttura(e), stato, and for stato di diritto its kind and act."},
            },
        },
        "collections": {
            "type": "object", "required": ["links", "collections"],
            "properties": {"links": links, "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}},
        },
        "featureGeoJSON": {
            "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": {"type": "object", "nullable": true},
                "properties": {"type": "object", "nullable": true},
                "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "links": links,
            },
        },
        "featureCollectionGeoJSON": {
            "type": "object", "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                "links": links,
                "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberMatchedEstimate": {"type": "integer", "minimum": 0, "description": "In place of numberMatched when counting every match would take too long: the database's estimate."},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
    });
    let more = [service_schemas(&links), tile_schemas(&links)];
    let map = all.as_object_mut().expect("an object");
    for m in more {
        map.extend(m.as_object().expect("an object").clone());
    }
    all
}

/// Health, the OpenAPI document itself, strutture and styles.
fn service_schemas(links: &Json) -> Json {
    json!({
        "health": {
            "type": "object", "required": ["status", "version", "collections", "degraded", "tile_cache", "renders"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "degraded"]},
                "version": {"type": "string"},
                "collections": {"type": "integer", "minimum": 0},
                "degraded": {"type": "array", "items": {
                    "type": "object", "required": ["collection", "problem"],
                    "properties": {"collection": {"type": "string"}, "problem": {"type": "string"}},
                }},
                "databases": {"type": "array", "items": {
                    "type": "object", "required": ["id", "answering", "changes"],
                    "properties": {
                        "id": {"type": "string"}, "answering": {"type": "boolean"},
                        "changes": {"type": "string", "enum": ["notified", "connecting", "polled"]},
                    },
                }},
                "tile_cache": {"type": "object", "required": ["tiles", "bytes", "limit_bytes"], "properties": {
                    "tiles": {"type": "integer", "minimum": 0}, "bytes": {"type": "integer", "minimum": 0},
                    "limit_bytes": {"type": "integer", "minimum": 0},
                }},
                "renders": {"type": "object", "required": ["running", "queued"], "properties": {
                    "running": {"type": "integer", "minimum": 0}, "queued": {"type": "integer", "minimum": 0},
                }},
            },
        },
        "openapi": {
            "type": "object", "required": ["openapi", "info", "paths"],
            "properties": {"openapi": {"type": "string"}, "info": {"type": "object"}, "paths": {"type": "object"}},
        },
        "struttura": {
            "type": "object", "required": ["id", "etichetta", "stati", "links"],
            "properties": {
                "id": {"type": "string"}, "etichetta": {"type": "string"}, "label": {"type": "string"},
                "extent": {"type": "array", "items": {"type": "number"}},
                "stati": {"type": "array", "items": {
                    "type": "object", "required": ["id", "collections"],
                    "properties": {"id": {"type": "string", "enum": ["di_fatto", "di_diritto"]}, "etichetta": {"type": "string"},
                        "collections": {"type": "array", "items": {"type": "object"}}},
                }},
                "links": links,
            },
        },
        "strutture": {
            "type": "object", "required": ["strutture", "links"],
            "properties": {"strutture": {"type": "array", "items": {"$ref": "#/components/schemas/struttura"}}, "links": links},
        },
        "styles": {
            "type": "object", "required": ["styles", "links"],
            "properties": {
                "styles": {"type": "array", "items": {
                    "type": "object", "required": ["id", "links"],
                    "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "links": links},
                }},
                "links": links,
            },
        },
        "style": {
            "type": "object", "required": ["version", "sources", "layers"],
            "description": "A MapLibre style, version 8.",
            "properties": {
                "version": {"type": "integer", "enum": [8]},
                "name": {"type": "string"},
                "metadata": {"type": "object"},
                "center": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
                "zoom": {"type": "number"},
                "sources": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["type"], "properties": {"type": {"type": "string"}},
                }},
                "layers": {"type": "array", "items": {
                    "type": "object", "required": ["id", "type"],
                    "properties": {"id": {"type": "string"}, "type": {"type": "string"}},
                }},
            },
        },
    })
}

/// Tile matrix sets, tilesets and TileJSON.
fn tile_schemas(links: &Json) -> Json {
    json!({
        "tileMatrixSets": {
            "type": "object", "required": ["tileMatrixSets"],
            "properties": {
                "tileMatrixSets": {"type": "array", "items": {
                    "type": "object", "required": ["id", "links"],
                    "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "uri": {"type": "string"},
                        "crs": {"type": "string"}, "links": links},
                }},
                "links": links,
            },
        },
        "tileMatrixSet": {
            "type": "object", "required": ["id", "crs", "tileMatrices"],
            "description": "OGC Two Dimensional Tile Matrix Set 2.0.",
            "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "uri": {"type": "string"},
                "crs": {"type": "string"}, "wellKnownScaleSet": {"type": "string"},
                "orderedAxes": {"type": "array", "items": {"type": "string"}},
                "tileMatrices": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "scaleDenominator", "cellSize", "pointOfOrigin", "tileWidth", "tileHeight", "matrixWidth", "matrixHeight"],
                    "properties": {
                        "id": {"type": "string"}, "scaleDenominator": {"type": "number"}, "cellSize": {"type": "number"},
                        "cornerOfOrigin": {"type": "string", "enum": ["topLeft", "bottomLeft"]},
                        "pointOfOrigin": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
                        "tileWidth": {"type": "integer", "minimum": 1}, "tileHeight": {"type": "integer", "minimum": 1},
                        "matrixWidth": {"type": "integer", "minimum": 1}, "matrixHeight": {"type": "integer", "minimum": 1},
                    },
                }},
            },
        },
        "tileSet": {
            "type": "object", "required": ["dataType", "crs", "links"],
            "description": "Tileset metadata (OGC API - Tiles, TMS 2.0 tileset).",
            "properties": {
                "title": {"type": "string"},
                "dataType": {"type": "string", "enum": ["vector"]},
                "crs": {"type": "string"},
                "tileMatrixSetId": {"type": "string"},
                "tileMatrixSetURI": {"type": "string"},
                "tileMatrixSetLimits": {"type": "array", "items": {
                    "type": "object", "required": ["tileMatrix", "minTileRow", "maxTileRow", "minTileCol", "maxTileCol"],
                    "properties": {
                        "tileMatrix": {"type": "string"},
                        "minTileRow": {"type": "integer", "minimum": 0}, "maxTileRow": {"type": "integer", "minimum": 0},
                        "minTileCol": {"type": "integer", "minimum": 0}, "maxTileCol": {"type": "integer", "minimum": 0},
                    },
                }},
                "minTileMatrix": {"type": "string"}, "maxTileMatrix": {"type": "string"},
                "boundingBox": {"type": "object", "required": ["lowerLeft", "upperRight"], "properties": {
                    "lowerLeft": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
                    "upperRight": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
                    "crs": {"type": "string"},
                }},
                "layers": {"type": "array", "items": {
                    "type": "object", "required": ["id", "dataType"],
                    "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                        "dataType": {"type": "string", "enum": ["vector"]},
                        "propertiesSchema": {"type": "object"}, "links": links},
                }},
                "links": links,
            },
        },
        "tileSets": {
            "type": "object", "required": ["tilesets"],
            "properties": {"tilesets": {"type": "array", "items": {"$ref": "#/components/schemas/tileSet"}}, "links": links},
        },
        "tileJSON": {
            "type": "object", "required": ["tilejson", "tiles", "vector_layers"],
            "description": "TileJSON 3.0.0.",
            "properties": {
                "tilejson": {"type": "string", "pattern": "^3\\.[0-9]+\\.[0-9]+$"},
                "name": {"type": "string"}, "version": {"type": "string"}, "attribution": {"type": "string"},
                "scheme": {"type": "string", "enum": ["xyz"]},
                "tiles": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "minzoom": {"type": "integer", "minimum": 0, "maximum": 30},
                "maxzoom": {"type": "integer", "minimum": 0, "maximum": 30},
                "bounds": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                "center": {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "number"}},
                "vector_layers": {"type": "array", "items": {
                    "type": "object", "required": ["id", "fields"],
                    "properties": {
                        "id": {"type": "string"}, "description": {"type": "string"},
                        "minzoom": {"type": "integer", "minimum": 0}, "maxzoom": {"type": "integer", "minimum": 0},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }},
            },
        },
    })
}
pub async fn api(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = parse_query(raw.as_deref(), &[format_param()])?;
    // Clients ask with the OpenAPI media type, which is JSON: only `f` or a browser gets HTML.
    let format = match params.get("f") {
        Some(f) => Format::choose(Some(f), &headers)?,
        None => Format::choose(None, &headers).unwrap_or(Format::Json),
    };
    let base = app.base(&headers);
    let doc = document(&app, &base);
    match format {
        Format::Json => Ok(json_response(doc.to_string().into_bytes(), MEDIA_OPENAPI)),
        Format::Html => Ok(html_response(
            app.html.page("api.html", &app, &base, "API", &doc)?,
        )),
    }
}
