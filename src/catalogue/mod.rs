//! The layer catalogue: what is published, with its metadata and its L.R. 65/2014
//! classification, apart from where the features come from; and its tilesets ([`tileset`]).
//! It knows nothing of the configuration file or of HTTP: `config` builds it, `server`,
//! `styles` and the command-line tools read it.

pub mod declared;
mod tileset;

pub use tileset::{Placeholders, Tileset, TilesetError, TilesetId, WEB_MERCATOR};

use crate::lr65::{Classificazione, Frequenza, StatoKind, Struttura, Voce};
use crate::source::flatgeobuf::FlatGeobufSource;
use crate::source::postgis::PostgisSource;
use crate::source::{FeatureSource, SourceError, SourceOptions};
use crate::tiles::Tiling;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("layer `{layer}`: {source}")]
    Source {
        layer: String,
        #[source]
        source: SourceError,
    },
    #[error("{path}: {message}")]
    Preview { path: PathBuf, message: String },
    #[error("a layer with id `{0}` is already published")]
    Duplicate(String),
    #[error("layer `{0}`: its tiles name a property its source does not have")]
    Tiling(String),
    /// Tiles carry tessera's own properties (the stand-ins' `tessera:count`, …) under this
    /// prefix: a layer's property there would be mistaken for them.
    #[error(
        "layer `{layer}`: the property `{property}` uses the prefix `tessera:`, which tessera keeps for its own properties; rename it in the data"
    )]
    ReservedProperty { layer: String, property: String },
}

#[derive(Debug, Clone)]
pub struct License {
    pub id: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct Publisher {
    pub name: String,
    /// Code in the Indice delle Pubbliche Amministrazioni.
    pub ipa: String,
}

/// Everything published about a layer besides its features.
#[derive(Debug, Clone)]
pub struct LayerMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub license: Option<License>,
    pub attribution: Option<String>,
    pub publisher: Option<Publisher>,
    pub frequency: Frequenza,
    pub synthetic: bool,
    pub classificazione: Classificazione,
}

impl LayerMeta {
    /// An unclassified quick-look layer `id`, read from `file`.
    pub fn anteprima(id: String, file: &str) -> LayerMeta {
        LayerMeta {
            title: format!("{id} (anteprima)"),
            description: format!(
                "Anteprima non classificata di {file}: aggiungere il layer alla configurazione con la sua classificazione L.R. 65/2014 per pubblicarlo."
            ),
            id,
            keywords: vec!["anteprima".into()],
            license: None,
            attribution: None,
            publisher: None,
            frequency: Frequenza::Unknown,
            synthetic: false,
            classificazione: Classificazione::Anteprima,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub meta: LayerMeta,
    pub source: Arc<dyn FeatureSource>,
    /// How the layer is cut into vector tiles.
    pub tiling: Tiling,
    /// Its table, when its tiles are made by PostGIS (`ST_AsMVT`) rather than the engine.
    pub tiled_by_postgis: Option<Arc<PostgisSource>>,
}

impl Layer {
    /// How messages name it.
    pub fn label(&self) -> String {
        format!("collection `{}`", self.meta.id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    layers: Vec<Layer>,
    by_id: HashMap<String, usize>,
    /// Data found but not published (a table without a key…): what, and why.
    unpublished: Vec<(String, String)>,
    /// Layers declared twice, differently (configuration and database): which, and how.
    conflicts: Vec<(String, String)>,
}

/// Opens the FlatGeobuf file at `path` as a source.
pub fn open_flatgeobuf(
    path: &Path,
    options: &SourceOptions,
) -> Result<Arc<dyn FeatureSource>, SourceError> {
    Ok(Arc::new(FlatGeobufSource::open(path, options)?))
}

impl Catalogue {
    /// Adds quick-look layers for FlatGeobuf files, or folders of them, named on the command
    /// line. They are marked as unclassified previews.
    pub fn add_previews(&mut self, paths: &[PathBuf]) -> Result<(), CatalogueError> {
        for p in paths {
            let files = if p.is_dir() {
                let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                    .map_err(|e| CatalogueError::Preview {
                        path: p.clone(),
                        message: e.to_string(),
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x.eq_ignore_ascii_case("fgb")))
                    .collect();
                v.sort();
                if v.is_empty() {
                    return Err(CatalogueError::Preview {
                        path: p.clone(),
                        message: "the folder holds no .fgb file".into(),
                    });
                }
                v
            } else {
                vec![p.clone()]
            };
            for f in files {
                let id = preview_id(&f);
                validate_id(&id).map_err(|m| CatalogueError::Preview {
                    path: f.clone(),
                    message: m,
                })?;
                if self.by_id.contains_key(&id) {
                    return Err(CatalogueError::Preview {
                        path: f.clone(),
                        message: format!("a layer with id `{id}` is already published"),
                    });
                }
                // A quick look has no configuration: an `id` column of unique values is
                // what a GIS user would expect as the feature id.
                let options = SourceOptions {
                    id_if_unique: Some("id".into()),
                    ..SourceOptions::default()
                };
                let source =
                    open_flatgeobuf(&f, &options).map_err(|source| CatalogueError::Source {
                        layer: id.clone(),
                        source,
                    })?;
                // The file's name, not its path: where the data lives is not for clients.
                let file = f.file_name().map(|n| n.to_string_lossy().into_owned());
                self.add(Layer {
                    meta: LayerMeta::anteprima(id, file.as_deref().unwrap_or("un file")),
                    source,
                    tiling: Tiling::default(),
                    tiled_by_postgis: None,
                })?;
            }
        }
        Ok(())
    }

    /// Publishes a PostGIS database given on the command line (`tessera serve postgresql://…`):
    /// the tables its `tessera.layers` declares, classified, and the other publishable geometry
    /// columns as unclassified previews; says which tables were found but not published.
    pub fn add_database_previews(&mut self, url: &str) -> Result<(), CatalogueError> {
        use crate::source::postgis::{Database, DatabaseOptions};
        let options = DatabaseOptions::new(url);
        let failed = |source| CatalogueError::Source {
            layer: "postgresql".into(),
            source,
        };
        let db = Arc::new(Database::new(&options).map_err(failed)?);
        let found = db.discover(&options).map_err(failed)?;
        for s in found.skipped {
            self.note_unpublished(format!("{} ({})", s.table, db.name), s.reason);
        }
        self.add_discovered(&db.name, found.sources, &found.declared, true)
    }

    /// Publishes `layer`, after the others; its id must be new, and the properties its
    /// tiles name must be the source's.
    pub fn add(&mut self, layer: Layer) -> Result<(), CatalogueError> {
        if self.by_id.contains_key(&layer.meta.id) {
            return Err(CatalogueError::Duplicate(layer.meta.id));
        }
        if let Some(f) =
            (layer.source.info().fields.iter()).find(|f| f.name.starts_with("tessera:"))
        {
            return Err(CatalogueError::ReservedProperty {
                layer: layer.meta.id,
                property: f.name.clone(),
            });
        }
        let fields = layer.source.info().fields.len();
        let t = &layer.tiling;
        let details = std::iter::once(&t.default).chain(t.levels.iter().map(|(_, _, d)| d));
        if details
            .filter_map(|d| d.properties.as_ref())
            .any(|p| p.iter().any(|&c| c >= fields))
        {
            return Err(CatalogueError::Tiling(layer.meta.id));
        }
        self.by_id.insert(layer.meta.id.clone(), self.layers.len());
        self.layers.push(layer);
        Ok(())
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Notes data that was found but cannot be published, and why (for `tessera check`).
    pub fn note_unpublished(&mut self, what: String, why: String) {
        self.unpublished.push((what, why));
    }

    pub fn unpublished(&self) -> &[(String, String)] {
        &self.unpublished
    }

    /// Notes a layer declared both in the configuration and in its database, differently
    /// (the configuration's declaration is the one published).
    pub fn note_conflict(&mut self, layer: String, how: String) {
        self.conflicts.push((layer, how));
    }

    pub fn conflicts(&self) -> &[(String, String)] {
        &self.conflicts
    }

    pub fn get(&self, id: &str) -> Option<&Layer> {
        self.by_id.get(id).map(|&i| &self.layers[i])
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers of a struttura (a layer may belong to several), in catalogue order.
    pub fn of_struttura(&self, s: Struttura) -> Vec<&Layer> {
        self.layers
            .iter()
            .filter(|l| l.meta.classificazione.strutture().contains(&s))
            .collect()
    }

    /// Layers grouped by struttura × stato; a layer with several strutture appears under each.
    /// Previews come last, under no struttura.
    pub fn grouped(&self) -> Vec<Gruppo<'_>> {
        let mut out = Vec::new();
        for s in Struttura::ALL {
            for st in StatoKind::ALL {
                let layers: Vec<&Layer> = self
                    .layers
                    .iter()
                    .filter(|l| {
                        l.meta.classificazione.strutture().contains(s)
                            && l.meta.classificazione.stato().map(|x| x.kind()) == Some(*st)
                    })
                    .collect();
                out.push(Gruppo {
                    struttura: Some(*s),
                    stato: Some(*st),
                    layers,
                });
            }
        }
        let previews: Vec<&Layer> = self
            .layers
            .iter()
            .filter(|l| l.meta.classificazione.is_preview())
            .collect();
        if !previews.is_empty() {
            out.push(Gruppo {
                struttura: None,
                stato: None,
                layers: previews,
            });
        }
        out
    }
}

/// One cell of the struttura × stato table (or the previews, with both `None`).
pub struct Gruppo<'a> {
    pub struttura: Option<Struttura>,
    pub stato: Option<StatoKind>,
    pub layers: Vec<&'a Layer>,
}

/// A collection id from a file name: lower case, other characters turned into `_`.
fn preview_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    id_from(&stem)
}

/// A name as an id: lower case, other characters than a-z, 0-9, `-`, `_` as `_`.
fn id_from(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// Collection ids appear in URLs: keep them to `[a-z0-9_-]` (a dot breaks some QGIS versions).
pub fn validate_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a valid id: use 1 to 64 characters among a-z, 0-9, `_` and `-`"
        ))
    }
}
