//! TileJSON 3.0 of a tileset's Web Mercator tiles: served at `…/tilejson.json`, and written
//! into the archives `tessera seed` makes (without the URL).

use super::StyleSource;
use crate::tiles::TileSourceInfo;
use serde_json::{Value as Json, json};

/// The TileJSON of tiles described by `info`, served as `source` says.
pub fn of(name: &str, info: &TileSourceInfo, source: &StyleSource<'_>) -> Json {
    let (min, max) = (source.min_zoom, source.max_zoom);
    let mut body = json!({
        "tilejson": "3.0.0",
        "name": name,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [source.tiles],
        "minzoom": min,
        "maxzoom": max,
        "vector_layers": info.layers.iter().map(|l| {
            let fields: serde_json::Map<String, Json> = (l.fields.iter())
                .map(|(n, t)| (n.clone(), Json::from(t.json_type())))
                .collect();
            json!({
                "id": l.id,
                "description": l.title,
                "minzoom": l.min_zoom.max(min),
                "maxzoom": l.max_zoom.min(max),
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
    body
}
