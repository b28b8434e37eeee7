//! MapLibre styles for the vector tiles: one per struttura of L.R. 65/2014, one for everything
//! and one per collection, made from the catalogue and the colours of `styles/strutture.json`,
//! so that every configured layer is drawn without writing a style by hand.
//!
//! The cartography: each layer takes the colour of its (first) struttura; layers *di fatto*
//! are filled, layers *di diritto* are drawn as dashed outlines over a light tint, so that
//! constraints read as overlays on what is there; base reference layers (boundaries) are
//! outlines only. Only `fill`, `line` and `circle` layers and legacy filters are used, which
//! MapLibre GL JS and QGIS's style converter both read.

use crate::catalogue::{Catalogue, Layer, Placeholders, Tileset, WEB_MERCATOR};
use crate::lr65::{StatoKind, Struttura, Voce};
use crate::tiles::TileSource;
use crate::tiles::TileSourceInfo;
use crate::tiles::matrix::MERCATOR_MAX_LAT;
use serde_json::{Value as Json, json};

/// `styles/strutture.json`, built in.
const PALETTE: &str = include_str!("../styles/strutture.json");

pub struct Palette(Json);

impl Default for Palette {
    fn default() -> Self {
        Palette(
            serde_json::from_str(PALETTE)
                .expect("styles/strutture.json is valid JSON (checked by the tests)"),
        )
    }
}

impl Palette {
    /// The colour a layer is drawn with: its first struttura's, or the preview colour.
    pub fn colour(&self, layer: &Layer) -> String {
        let v = match layer.meta.classificazione.strutture().first() {
            Some(s) => &self.0["strutture"][s.id()],
            None => &self.0["anteprima"],
        };
        v.as_str().unwrap_or("#555555").to_string()
    }

    pub fn struttura_colour(&self, s: Struttura) -> String {
        self.0["strutture"][s.id()]
            .as_str()
            .unwrap_or("#555555")
            .to_string()
    }
}

pub fn is_diritto(layer: &Layer) -> bool {
    layer
        .meta
        .classificazione
        .stato()
        .is_some_and(|s| s.kind() == StatoKind::DiDiritto)
}

/// Where a style's tiles come from.
#[derive(Debug)]
pub struct StyleSource<'a> {
    /// Absolute tile URL template with `{z}`, `{x}`, `{y}`.
    pub tiles: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// CRS84 west, south, east, north.
    pub bounds: Option<[f64; 4]>,
    pub attribution: Option<String>,
    pub layers: &'a [&'a Layer],
}

impl<'a> StyleSource<'a> {
    /// The Web Mercator tiles of tileset `ts` (whose tile source is described by `info`)
    /// served at `base`: their zoom range, their extent (within Web Mercator's latitudes) and
    /// their attributions.
    pub fn new(ts: &'a Tileset<'a>, info: &TileSourceInfo, base: &str) -> StyleSource<'a> {
        let (min_zoom, max_zoom) = info.zoom_range().unwrap_or((0, 0));
        let lat = |v: f64| v.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT);
        StyleSource {
            tiles: ts.tile_template(base, WEB_MERCATOR, Placeholders::Xyz),
            min_zoom,
            max_zoom,
            bounds: info
                .extent()
                .map(|e| [e.min().x, lat(e.min().y), e.max().x, lat(e.max().y)]),
            attribution: ts.attribution(),
            layers: &ts.layers,
        }
    }
}

/// The style of tileset `ts` served at `base`, its layers in their struttura's colour or in
/// `colour`.
pub fn of_tileset(
    ts: &Tileset<'_>,
    style_id: &str,
    palette: &Palette,
    base: &str,
    colour: Option<String>,
) -> Json {
    let engine = ts.engine();
    let source = StyleSource::new(ts, &engine.info(), base);
    style(style_id, &ts.title, &source, palette, colour)
}

/// The style of every collection, `tutto`, served by the tiles at `base`.
pub fn everything(catalogue: &Catalogue, palette: &Palette, base: &str, title: &str) -> Json {
    of_tileset(&catalogue.dataset_tileset(title), ALL, palette, base, None)
}

/// A struttura's style: its layers from its tiles, all in its colour.
pub fn of_struttura(catalogue: &Catalogue, palette: &Palette, base: &str, s: Struttura) -> Json {
    let ts = catalogue.struttura_tileset(s);
    of_tileset(
        &ts,
        s.id(),
        palette,
        base,
        Some(palette.struttura_colour(s)),
    )
}

/// The style of every collection together.
pub const ALL: &str = "tutto";

/// A MapLibre style (version 8) drawing `source.layers` from one vector tile source.
pub fn style(
    id: &str,
    name: &str,
    source: &StyleSource<'_>,
    palette: &Palette,
    colour: Option<String>,
) -> Json {
    let mut src = json!({
        "type": "vector",
        "tiles": [source.tiles],
        "minzoom": source.min_zoom,
        "maxzoom": source.max_zoom,
    });
    if let Some(b) = source.bounds {
        src["bounds"] = json!(b);
    }
    if let Some(a) = &source.attribution {
        src["attribution"] = a.clone().into();
    }
    let mut layers = vec![json!({
        "id": "sfondo",
        "type": "background",
        "paint": {"background-color": "#f5f3ee"},
    })];
    // What is there first, the constraints over it.
    let mut ordered: Vec<&&Layer> = source.layers.iter().collect();
    ordered.sort_by_key(|l| is_diritto(l));
    for l in ordered {
        layers.extend(draw(l, colour.clone().unwrap_or_else(|| palette.colour(l))));
    }
    let (lon, lat, zoom) = match source.bounds {
        Some(b) => ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 8),
        None => (11.0, 43.4, 7),
    };
    json!({
        "version": 8,
        "name": name,
        "metadata": {"tessera:style": id, "tessera:norma": "L.R. Toscana 65/2014"},
        "center": [lon, lat],
        "zoom": zoom,
        "sources": {"tessera": src},
        "layers": layers,
    })
}

/// The MapLibre layers that draw one collection.
fn draw(layer: &Layer, colour: String) -> Vec<Json> {
    let id = &layer.meta.id;
    let diritto = is_diritto(layer);
    let base = layer
        .meta
        .classificazione
        .strutture()
        .iter()
        .all(|s| *s == Struttura::Base)
        && !layer.meta.classificazione.is_preview();
    let min = layer.tiling.min_zoom;
    let common = |suffix: &str, kind: &str, geometry: &str| {
        json!({
            "id": format!("{id}-{suffix}"),
            "type": kind,
            "source": "tessera",
            "source-layer": id,
            "minzoom": min,
            "filter": ["==", "$type", geometry],
            "metadata": {"tessera:collection": id},
        })
    };
    let info = layer.source.info();
    let (polygons, lines, points) = match info.geometry_type.as_str() {
        "Polygon" | "MultiPolygon" => (true, false, false),
        "LineString" | "MultiLineString" => (false, true, false),
        "Point" | "MultiPoint" => (false, false, true),
        _ => (true, true, true),
    };
    let mut out = Vec::new();
    if polygons {
        if !base {
            let mut fill = common("riempimento", "fill", "Polygon");
            fill["paint"] =
                json!({"fill-color": colour, "fill-opacity": if diritto { 0.12 } else { 0.35 }});
            out.push(fill);
        }
        let mut line = common("contorno", "line", "Polygon");
        let width = if base {
            json!({"stops": [[6, 0.4], [14, 1.2]]})
        } else {
            json!({"stops": [[6, 0.5], [14, 1.6]]})
        };
        line["paint"] = json!({"line-color": colour, "line-width": width});
        if diritto {
            line["paint"]["line-dasharray"] = json!([3, 2]);
            line["paint"]["line-width"] = json!({"stops": [[6, 0.8], [14, 2.2]]});
        }
        out.push(line);
    }
    if lines {
        let mut line = common("linea", "line", "LineString");
        line["paint"] =
            json!({"line-color": colour, "line-width": {"stops": [[6, 0.6], [14, 2.5]]}});
        if diritto {
            line["paint"]["line-dasharray"] = json!([3, 2]);
        }
        line["layout"] = json!({"line-cap": "round", "line-join": "round"});
        out.push(line);
    }
    if points {
        let mut circle = common("punto", "circle", "Point");
        circle["paint"] = json!({
            "circle-color": colour,
            "circle-radius": {"stops": [[6, 2], [14, 6]]},
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1,
            "circle-opacity": if diritto { 0.6 } else { 0.9 },
        });
        out.push(circle);
    }
    out
}
