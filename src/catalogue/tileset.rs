//! Tilesets: layers served together as one set of vector tiles, one MVT layer each. A
//! collection, a struttura of L.R. 65/2014, the whole dataset, or a selection of collections
//! of it. The catalogue resolves them, so that the HTTP layer, the styles, `seed` and the
//! catalogue records all agree on which layers a tileset holds and where its tiles are.

use super::{Catalogue, Layer};
use crate::lr65::{Struttura, Voce};
use crate::tiles::TileSource;
use crate::tiles::composite::Composite;
use crate::tiles::engine::{EngineLayer, EngineTiles};
use crate::tiles::in_database::DatabaseTiles;
use std::sync::Arc;

/// The matrix set of TileJSON and styles: the one MapLibre and QGIS's XYZ layers draw.
pub const WEB_MERCATOR: &str = "WebMercatorQuad";

/// Which tileset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TilesetId {
    Collection(String),
    Struttura(Struttura),
    /// Every collection.
    Dataset,
    /// Some collections of the dataset, in this order.
    Selection(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilesetError {
    #[error("there is no collection `{id}`; the collections are: {known}")]
    NoCollection { id: String, known: String },
    #[error("`{0}` is listed twice")]
    Repeated(String),
}

/// A tileset and the layers it holds, in MVT layer order.
#[derive(Debug, Clone)]
pub struct Tileset<'a> {
    pub id: TilesetId,
    pub title: String,
    pub layers: Vec<&'a Layer>,
}

/// How a tile URL template names the tile: `{z}/{y}/{x}` (XYZ clients: MapLibre, QGIS,
/// TileJSON) or `{tileMatrix}/{tileRow}/{tileCol}` (OGC API - Tiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    Xyz,
    Ogc,
}

impl Catalogue {
    /// The layers of tileset `id`; `title` names the dataset.
    pub fn tileset(&self, id: &TilesetId, title: &str) -> Result<Tileset<'_>, TilesetError> {
        let (title, layers) = match id {
            TilesetId::Collection(c) => return Ok(Tileset::of_collection(self.find(c)?)),
            TilesetId::Struttura(s) => return Ok(self.struttura_tileset(*s)),
            TilesetId::Dataset => return Ok(self.dataset_tileset(title)),
            TilesetId::Selection(ids) => {
                let mut layers: Vec<&Layer> = Vec::with_capacity(ids.len());
                for c in ids {
                    let layer = self.find(c)?;
                    if layers.iter().any(|l| l.meta.id == layer.meta.id) {
                        return Err(TilesetError::Repeated(c.clone()));
                    }
                    layers.push(layer);
                }
                (format!("{title}: {}", ids.join(", ")), layers)
            }
        };
        Ok(Tileset {
            id: id.clone(),
            title,
            layers,
        })
    }

    /// Every collection, as the tileset titled `title`.
    pub fn dataset_tileset(&self, title: &str) -> Tileset<'_> {
        Tileset {
            id: TilesetId::Dataset,
            title: title.to_string(),
            layers: self.layers().iter().collect(),
        }
    }

    /// The collections of struttura `s`.
    pub fn struttura_tileset(&self, s: Struttura) -> Tileset<'_> {
        Tileset {
            id: TilesetId::Struttura(s),
            title: s.etichetta().to_string(),
            layers: self.of_struttura(s),
        }
    }

    fn find(&self, id: &str) -> Result<&Layer, TilesetError> {
        self.get(id).ok_or_else(|| TilesetError::NoCollection {
            id: id.escape_debug().to_string(),
            known: self
                .layers()
                .iter()
                .map(|l| l.meta.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

impl<'a> Tileset<'a> {
    /// The tiles of one collection.
    pub fn of_collection(layer: &'a Layer) -> Tileset<'a> {
        Tileset {
            id: TilesetId::Collection(layer.meta.id.clone()),
            title: layer.meta.title.clone(),
            layers: vec![layer],
        }
    }

    /// Names the tileset in the tile cache and in messages, e.g. `collections/comuni`.
    pub fn key(&self) -> String {
        match &self.id {
            TilesetId::Collection(c) => format!("collections/{c}"),
            TilesetId::Struttura(s) => format!("strutture/{}", s.id()),
            TilesetId::Dataset => "dataset".into(),
            TilesetId::Selection(ids) => format!("dataset?collections={}", ids.join(",")),
        }
    }

    /// Where its tilesets list is, below the server's base URL: `/collections/{id}/tiles`,
    /// `/strutture/{id}/tiles` or `/tiles`.
    pub fn path(&self) -> String {
        match &self.id {
            TilesetId::Collection(c) => format!("/collections/{c}/tiles"),
            TilesetId::Struttura(s) => format!("/strutture/{}/tiles", s.id()),
            TilesetId::Dataset | TilesetId::Selection(_) => "/tiles".into(),
        }
    }

    /// The query string each of its URLs carries (`?collections=…` for a selection), or "".
    pub fn query(&self) -> String {
        match &self.id {
            TilesetId::Selection(ids) => {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("collections", &ids.join(","));
                format!("?{}", q.finish())
            }
            _ => String::new(),
        }
    }

    /// The URL of its tilesets list.
    pub fn list_url(&self, base: &str) -> String {
        format!("{base}{}{}", self.path(), self.query())
    }

    /// The URL of its TileJSON (Web Mercator tiles).
    pub fn tilejson_url(&self, base: &str) -> String {
        format!(
            "{}/tilejson.json{}",
            self.url(base, WEB_MERCATOR),
            self.query()
        )
    }

    /// The URL of its tiles in matrix set `tms` (the tileset's metadata), without the query.
    pub fn url(&self, base: &str, tms: &str) -> String {
        format!("{base}{}/{tms}", self.path())
    }

    /// The templated URL of its tiles in matrix set `tms`.
    pub fn tile_template(&self, base: &str, tms: &str, names: Placeholders) -> String {
        let zyx = match names {
            Placeholders::Xyz => "{z}/{y}/{x}",
            Placeholders::Ogc => "{tileMatrix}/{tileRow}/{tileCol}",
        };
        format!("{}/{zyx}{}", self.url(base, tms), self.query())
    }

    /// The layers' attributions, each once, joined.
    pub fn attribution(&self) -> Option<String> {
        let mut seen: Vec<&str> = Vec::new();
        for a in self
            .layers
            .iter()
            .filter_map(|l| l.meta.attribution.as_deref())
        {
            if !seen.contains(&a) {
                seen.push(a);
            }
        }
        (!seen.is_empty()).then(|| seen.join(" · "))
    }

    /// Its tiles as tessera's engine renders them from the layers' features.
    pub fn engine(&self) -> EngineTiles {
        EngineTiles::new(self.layers.iter().map(|l| engine_layer(l)).collect())
    }

    /// Its tiles as they are served: by the engine, and by PostGIS for the layers whose
    /// database makes them (`tiles = "st_asmvt"`), joined in layer order.
    pub fn tiles(&self) -> Arc<dyn TileSource> {
        // Runs of neighbouring layers made the same way, each one source.
        let mut runs: Vec<Vec<&Layer>> = Vec::new();
        for l in &self.layers {
            match runs.last_mut() {
                Some(run) if run[0].tiled_by_postgis.is_some() == l.tiled_by_postgis.is_some() => {
                    run.push(l)
                }
                _ => runs.push(vec![l]),
            }
        }
        let mut parts: Vec<Arc<dyn TileSource>> = (runs.into_iter())
            .map(|run| {
                let engine = EngineTiles::new(run.iter().map(|l| engine_layer(l)).collect());
                let tables: Vec<_> = run
                    .iter()
                    .filter_map(|l| l.tiled_by_postgis.clone())
                    .collect();
                if tables.is_empty() {
                    Arc::new(engine) as Arc<dyn TileSource>
                } else {
                    Arc::new(DatabaseTiles::new(engine, tables))
                }
            })
            .collect();
        if parts.len() == 1 {
            return parts.remove(0);
        }
        match Composite::new(parts) {
            Ok(c) => Arc::new(c),
            // Layer ids are unique in a tileset: their MVT names cannot clash.
            Err(_) => Arc::new(self.engine()),
        }
    }
}

fn engine_layer(l: &Layer) -> EngineLayer {
    EngineLayer {
        name: l.meta.id.clone(),
        title: l.meta.title.clone(),
        source: l.source.clone(),
        tiling: l.tiling.clone(),
    }
}

impl crate::error::Kind for TilesetError {
    fn kind(&self) -> crate::error::ErrorKind {
        match self {
            TilesetError::NoCollection { .. } => crate::error::ErrorKind::NotFound,
            TilesetError::Repeated(_) => crate::error::ErrorKind::BadRequest,
        }
    }
}
