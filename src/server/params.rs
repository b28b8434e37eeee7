//! Query parameters: one declaration per parameter, used both to validate requests (an
//! undeclared parameter is a 400) and to write the OpenAPI document, so the two cannot drift.

use super::error::ApiError;
use crate::catalogue::Layer;
use crate::config::ServerConfig;
use crate::source::{FieldType, Value};
use serde_json::{Value as Json, json};

/// Names the items endpoint reserves; a property with one of these names cannot be a filter.
pub const RESERVED: &[&str] = &["f", "limit", "offset", "cursor", "bbox", "datetime"];

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub description: String,
    pub schema: Json,
    /// Shared definition under `components/parameters` (referenced, not repeated).
    pub component: Option<&'static str>,
}

impl ParamSpec {
    pub fn openapi(&self) -> Json {
        json!({
            "name": self.name,
            "in": "query",
            "description": self.description,
            "required": false,
            "style": "form",
            "explode": false,
            "schema": self.schema,
        })
    }
}

pub fn format_param() -> ParamSpec {
    ParamSpec {
        name: "f".into(),
        description: "Output format, overriding the `Accept` header: `json` (GeoJSON for features) or `html`.".into(),
        schema: json!({"type": "string", "enum": ["json", "html"]}),
        component: Some("f"),
    }
}

/// A text of any characters but control characters (which every parameter refuses).
pub const NO_CONTROLS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

pub fn limit_param(server: &ServerConfig) -> ParamSpec {
    ParamSpec {
        name: "limit".into(),
        description: format!(
            "Number of features per page, from 1; at most {max} are returned. A larger value is not an error: the page is cut to {max} and the response header `Tessera-Limit` says so.",
            max = server.max_limit
        ),
        // The maximum is what a page holds at most (QGIS sizes its pages with it); a larger
        // `limit` is no error (up to 2^63 - 1, the largest `int64`).
        schema: json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": server.max_limit, "default": server.default_limit}),
        component: Some("limit"),
    }
}

pub fn offset_param() -> ParamSpec {
    ParamSpec {
        name: "offset".into(),
        description: "Number of matching features to skip; the `next` and `prev` links carry it."
            .into(),
        schema: json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX, "default": 0}),
        component: Some("offset"),
    }
}

/// The longest `cursor` taken: a key of the layer, as the last page's `next` link wrote it.
pub const MAX_CURSOR: usize = 1024;

pub fn cursor_param() -> ParamSpec {
    ParamSpec {
        name: "cursor".into(),
        description: "Where a page starts, as the `next` link of the page before gives it (for layers read by key, so that a deep page is as fast as the first); `offset` still says the page's place.".into(),
        schema: json!({"type": "string", "minLength": 1, "maxLength": MAX_CURSOR, "pattern": NO_CONTROLS}),
        component: Some("cursor"),
    }
}

pub fn bbox_param() -> ParamSpec {
    ParamSpec {
        name: "bbox".into(),
        description: "Only features that intersect the box `minLon,minLat,maxLon,maxLat` (CRS84; 6 numbers add heights, which are ignored). minLon > maxLon crosses the antimeridian; a box reaching past the poles or ±180° is cut there; one whose lower latitude is above its upper holds nothing.".into(),
        schema: json!({"type": "array", "items": {"type": "number"}, "oneOf": [
            {"minItems": 4, "maxItems": 4},
            {"minItems": 6, "maxItems": 6},
        ]}),
        component: Some("bbox"),
    }
}

pub fn datetime_param() -> ParamSpec {
    ParamSpec {
        name: "datetime".into(),
        description: "Only features whose time intersects this instant or interval (RFC 3339: `2020-01-01`, `2020-01-01T00:00:00Z`, `2020-01-01/..`, `../2020-12-31`; an interval that ends before it starts holds nothing). Features without a time match.".into(),
        schema: json!({"type": "string", "pattern": crate::temporal::DATETIME_PARAM_PATTERN}),
        component: Some("datetime"),
    }
}

/// Every parameter of a collection's items: the shared ones (`datetime` too: on a collection
/// without time every feature matches it, as OGC API - Features requires), and one equality
/// filter per simple property.
pub fn items_params(layer: &Layer, server: &ServerConfig) -> Vec<ParamSpec> {
    let mut v = vec![
        format_param(),
        limit_param(server),
        offset_param(),
        cursor_param(),
        bbox_param(),
        datetime_param(),
    ];
    for field in &layer.source.info().fields {
        if field.kind.filterable() && !RESERVED.contains(&field.name.as_str()) {
            // What `filter_value` takes: integers of 64 bits, finite numbers, `true` or
            // `false`, any text (date-times compare as the text stored).
            let schema = match field.kind {
                FieldType::Integer => {
                    json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX})
                }
                FieldType::Number => json!({"type": "number"}),
                FieldType::Boolean => json!({"type": "boolean"}),
                _ => json!({"type": "string", "pattern": NO_CONTROLS}),
            };
            v.push(ParamSpec {
                name: field.name.clone(),
                description: format!("Only features whose `{}` equals this value.", field.name),
                schema,
                component: None,
            });
        }
    }
    v
}

/// Parameters of one request, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The query string with `changes` applied (`None` removes a parameter), for links.
    pub fn with(&self, changes: &[(&str, Option<String>)]) -> String {
        let mut pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .cloned()
            .collect();
        for (k, v) in changes {
            if let Some(v) = v {
                pairs.push((k.to_string(), v.clone()));
            }
        }
        if pairs.is_empty() {
            return String::new();
        }
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            ser.append_pair(k, v);
        }
        format!("?{}", ser.finish())
    }
}

/// The query string split into parameters, after checking each is declared, given once and
/// free of control characters.
pub fn parse_query(raw: Option<&str>, allowed: &[ParamSpec]) -> Result<Params, ApiError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let Some(raw) = raw else {
        return Ok(Params(out));
    };
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        if k.is_empty() && v.is_empty() {
            continue;
        }
        if k.chars().chain(v.chars()).any(char::is_control) {
            return Err(ApiError::bad_request(format!(
                "parameter `{}` contains control characters",
                k.escape_debug()
            )));
        }
        if !allowed.iter().any(|p| p.name == k) {
            let names: Vec<&str> = allowed.iter().map(|p| p.name.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "unknown query parameter `{k}`; this resource accepts: {}",
                names.join(", ")
            )));
        }
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(ApiError::bad_request(format!(
                "parameter `{k}` is given more than once"
            )));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(Params(out))
}

/// Reads a filter value as the property's type, so `10` matches an integer 10.
pub fn filter_value(name: &str, kind: FieldType, raw: &str) -> Result<Value, ApiError> {
    let bad = |what: &str| ApiError::bad_request(format!("`{name}={raw}`: `{name}` is {what}"));
    Ok(match kind {
        FieldType::Integer => Value::Int(raw.trim().parse().map_err(|_| bad("an integer"))?),
        FieldType::Number => {
            let f: f64 = raw.trim().parse().map_err(|_| bad("a number"))?;
            if !f.is_finite() {
                return Err(bad("a finite number"));
            }
            Value::Float(f)
        }
        FieldType::Boolean => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("a boolean (true or false)")),
        },
        FieldType::String | FieldType::DateTime => Value::String(raw.to_string()),
        FieldType::Other => return Err(bad("not filterable")),
    })
}
