//! MapLibre styles for the vector tiles: one per struttura of L.R. 65/2014, one for everything
//! and one per collection, made from the catalogue and the colour families of
//! `styles/strutture.json`, so that every configured layer is drawn without writing a style by
//! hand; the sprite their hatches come from; the legends of the HTML maps.
//!
//! The cartography is the [`palette`]'s: *di fatto* filled and solid, *di diritto* tinted,
//! hatched and outlined in its kind's pattern, base layers as outlines, each struttura in its
//! colour family. Features too small to draw come as stand-ins (see `tiles::stand_in`), drawn
//! as squares whose opacity grows with the share of the pixel they cover.
//!
//! Only what both MapLibre GL JS and QGIS's style converter (3.22) read is used: `fill`,
//! `line` and `circle` layers, legacy filters, constant `fill-pattern` names, zoom stops.
//! Whatever depends on a feature's property is a separate layer with a filter.

pub mod legend;
pub mod palette;
pub mod sprite;
pub mod tilejson;

pub use palette::{Palette, Role, Symbol};

use crate::catalogue::{Catalogue, Layer, Placeholders, Tileset, WEB_MERCATOR};
use crate::lr65::{Struttura, Voce};
use crate::source::Kinds;
use crate::tiles::TileSourceInfo;
use crate::tiles::matrix::MERCATOR_MAX_LAT;
use crate::tiles::stand_in::{COUNT, COVERAGE};
use serde_json::{Value as Json, json};

/// Where a style's tiles come from.
#[derive(Debug)]
pub struct StyleSource<'a> {
    /// Absolute tile URL template with `{z}`, `{x}`, `{y}`.
    pub tiles: String,
    /// The sprite's URL (without `.json`, `.png`, `@2x`).
    pub sprite: String,
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
            sprite: sprite_url(base),
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

/// The sprite of the styles served at `base`.
pub fn sprite_url(base: &str) -> String {
    format!("{base}/styles/sprite")
}

/// The style of tileset `ts` served at `base`; on a struttura's map (`view`) its layers take
/// that struttura's colours.
pub fn of_tileset(
    catalogue: &Catalogue,
    ts: &Tileset<'_>,
    style_id: &str,
    palette: &Palette,
    base: &str,
    view: Option<Struttura>,
) -> Json {
    let source = StyleSource::new(ts, &ts.tiles().info(), base);
    style(style_id, &ts.title, &source, catalogue, palette, view)
}

/// The style of every collection, `tutto`, served by the tiles at `base`.
pub fn everything(catalogue: &Catalogue, palette: &Palette, base: &str, title: &str) -> Json {
    let ts = catalogue.dataset_tileset(title);
    of_tileset(catalogue, &ts, ALL, palette, base, None)
}

/// A struttura's style: its layers from its tiles, in its colour family.
pub fn of_struttura(catalogue: &Catalogue, palette: &Palette, base: &str, s: Struttura) -> Json {
    let ts = catalogue.struttura_tileset(s);
    of_tileset(catalogue, &ts, s.id(), palette, base, Some(s))
}

/// The style of every collection together.
pub const ALL: &str = "tutto";

/// A MapLibre style (version 8) drawing `source.layers` from one vector tile source.
pub fn style(
    id: &str,
    name: &str,
    source: &StyleSource<'_>,
    catalogue: &Catalogue,
    palette: &Palette,
    view: Option<Struttura>,
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
    // The reference at the bottom; then areas, what is there under the constraints over it;
    // then outlines, lines and points over every area, so that a river stays visible across
    // the hazard zone along it.
    let mut drawn: Vec<(u8, Json)> = Vec::new();
    for l in source.layers {
        let symbol = palette.symbol(catalogue.layers(), l, view);
        let diritto = u8::from(symbol.is_diritto());
        for layer in draw(l, &symbol, "tessera", true) {
            let rank = match (symbol.role, layer["type"].as_str()) {
                (Role::Reference, _) => 0,
                (_, Some("fill")) => 1 + diritto,
                (_, Some("line"))
                    if layer["id"]
                        .as_str()
                        .is_some_and(|i| i.ends_with("-contorno")) =>
                {
                    3 + diritto
                }
                (_, Some("line")) => 5 + diritto,
                _ => 7 + diritto,
            };
            drawn.push((rank, layer));
        }
    }
    drawn.sort_by_key(|(rank, _)| *rank);
    layers.extend(drawn.into_iter().map(|(_, l)| l));
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
        "sprite": source.sprite,
        "sources": {"tessera": src},
        "layers": layers,
    })
}

/// Stand-ins by the share of their pixel that features cover: from, to, opacity.
pub const DENSITY: [(f64, f64, f64); 3] = [(0.0, 0.1, 0.25), (0.1, 0.4, 0.45), (0.4, 2.0, 0.7)];
/// Fill opacity of a di fatto area, and of the tint under a di diritto hatch.
pub const FILL_OPACITY: f64 = 0.35;
pub const TINT_OPACITY: f64 = 0.08;

/// The MapLibre layers that draw collection `layer` as `symbol` says, from `source` (vector
/// tiles, whose source-layer is the collection's id, when `tiled`; else GeoJSON, which has
/// no zoom range and no stand-ins).
pub fn draw(layer: &Layer, symbol: &Symbol, source: &str, tiled: bool) -> Vec<Json> {
    let id = &layer.meta.id;
    let c = &layer.meta.classificazione;
    let colour = &symbol.colour;
    let metadata = json!({
        "tessera:collection": id,
        "tessera:strutture": c.strutture().iter().map(|s| s.id()).collect::<Vec<_>>(),
        "tessera:stato": c.stato().map(|s| s.kind().id()),
    });
    let common = |suffix: &str, kind: &str, filter: Json| {
        let mut l = json!({
            "id": format!("{id}-{suffix}"),
            "type": kind,
            "source": source,
            "filter": filter,
            "metadata": metadata,
        });
        if tiled {
            l["source-layer"] = id.clone().into();
            l["minzoom"] = layer.tiling.min_zoom.into();
        }
        l
    };
    // Features as themselves, and the stand-ins of one density class.
    let own = |geometry: &str| json!(["all", ["==", "$type", geometry], ["!has", COUNT]]);
    let stand_ins = |geometry: &str, (from, to, _): (f64, f64, f64)| {
        json!([
            "all",
            ["==", "$type", geometry],
            ["has", COUNT],
            [">=", COVERAGE, from],
            ["<", COVERAGE, to]
        ])
    };
    // Stand-ins of the reference layers are fainter: they only say where the map is.
    let faint = if symbol.role == Role::Reference {
        0.5
    } else {
        1.0
    };
    // The stand-ins of a geometry type, one layer per density class, painted by `paint`
    // with the class's opacity (none on GeoJSON, which has no stand-ins).
    let densities = |prefix: &str, kind: &str, geometry: &str, paint: &dyn Fn(f64) -> Json| {
        (DENSITY.iter().enumerate())
            .filter(|_| tiled)
            .map(|(k, class)| {
                let mut d = common(
                    &format!("{prefix}-{}", k + 1),
                    kind,
                    stand_ins(geometry, *class),
                );
                d["paint"] = paint(class.2 * faint);
                d
            })
            .collect::<Vec<Json>>()
    };
    let kinds = Kinds::of(&layer.source.info().geometry_type);
    let dash = symbol.dash();
    let mut out = Vec::new();
    if kinds.areas {
        match symbol.role {
            Role::Fatto | Role::Preview => {
                let mut fill = common("riempimento", "fill", own("Polygon"));
                fill["paint"] = json!({"fill-color": colour, "fill-opacity": FILL_OPACITY});
                out.push(fill);
            }
            Role::Diritto(_) => {
                let mut tint = common("velatura", "fill", own("Polygon"));
                tint["paint"] = json!({"fill-color": colour, "fill-opacity": TINT_OPACITY});
                out.push(tint);
                let mut hatch = common("tratteggio", "fill", own("Polygon"));
                hatch["paint"] = json!({"fill-pattern": symbol.pattern()});
                out.push(hatch);
            }
            Role::Reference => {}
        }
        let mut line = common("contorno", "line", own("Polygon"));
        let width = match symbol.role {
            Role::Reference => json!({"stops": [[6, 0.4], [14, 1.2]]}),
            Role::Diritto(_) => json!({"stops": [[6, 0.9], [14, 2.2]]}),
            _ => json!({"stops": [[6, 0.5], [14, 1.6]]}),
        };
        line["paint"] = json!({"line-color": colour, "line-width": width});
        if let Some(d) = dash {
            line["paint"]["line-dasharray"] = json!(d);
        }
        out.push(line);
        out.extend(densities(
            "densita",
            "fill",
            "Polygon",
            &|o| json!({"fill-color": colour, "fill-opacity": o}),
        ));
    }
    if kinds.lines {
        let mut line = common("linea", "line", own("LineString"));
        let width = json!({"stops": [[6, 0.6], [14, 2.5]]});
        line["paint"] = json!({"line-color": colour, "line-width": width});
        if let Some(d) = dash {
            line["paint"]["line-dasharray"] = json!(d);
        }
        line["layout"] = json!({"line-cap": "round", "line-join": "round"});
        out.push(line);
        out.extend(densities(
            "linea-densita",
            "line",
            "LineString",
            &|o| json!({"line-color": colour, "line-width": 1.5, "line-opacity": o}),
        ));
    }
    if kinds.points {
        let mut circle = common("punto", "circle", own("Point"));
        // Di diritto: a ring, the place a rule applies to; di fatto: a dot, what is there.
        circle["paint"] = if symbol.is_diritto() {
            json!({
                "circle-color": "#ffffff",
                "circle-radius": {"stops": [[6, 2.5], [14, 6]]},
                "circle-stroke-color": colour,
                "circle-stroke-width": 2,
            })
        } else {
            json!({
                "circle-color": colour,
                "circle-radius": {"stops": [[6, 2], [14, 6]]},
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1,
            })
        };
        out.push(circle);
        out.extend(densities(
            "punto-densita",
            "circle",
            "Point",
            &|o| json!({"circle-color": colour, "circle-radius": 2, "circle-opacity": o}),
        ));
    }
    out
}
