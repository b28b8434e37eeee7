//! The layer catalogue: what is published, with its metadata and its L.R. 65/2014
//! classification, apart from where the features come from.

pub mod lr65;

use crate::config::{Config, ConfigError, LayerConfig, SourceConfig, validate_id};
use crate::source::flatgeobuf::FlatGeobufSource;
use crate::source::{Field, Source, SourceError, SourceOptions};
use crate::tiles::{LevelDetail, Tiling};
use lr65::{Classificazione, Frequenza, StatoKind, Struttura, Voce};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("layer `{layer}`: {source}")]
    Source {
        layer: String,
        #[source]
        source: SourceError,
    },
    #[error("{path}: {message}")]
    Preview { path: PathBuf, message: String },
    #[error("layer `{layer}`: `{key}`: {message}")]
    Tiles {
        layer: String,
        key: String,
        message: String,
    },
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

#[derive(Debug, Clone)]
pub struct Layer {
    pub meta: LayerMeta,
    pub source: Arc<dyn Source>,
    /// How the layer is cut into vector tiles.
    pub tiling: Tiling,
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
}

fn open_source(path: &Path, options: &SourceOptions) -> Result<Arc<dyn Source>, SourceError> {
    Ok(Arc::new(FlatGeobufSource::open(path, options)?))
}

impl Catalogue {
    /// Opens every configured layer; the first failure stops start-up with its message.
    pub fn from_config(config: &Config) -> Result<Catalogue, CatalogueError> {
        let mut cat = Catalogue::default();
        for (i, lc) in config.layers.iter().enumerate() {
            let classificazione = config.classificazione(i)?;
            let source =
                Self::open_configured(config, lc).map_err(|source| CatalogueError::Source {
                    layer: lc.id.clone(),
                    source,
                })?;
            cat.push(Layer {
                meta: LayerMeta {
                    id: lc.id.clone(),
                    title: lc.title.clone(),
                    description: lc.description.clone(),
                    keywords: lc.keywords.clone(),
                    license: Some(License {
                        id: lc.license.id.clone(),
                        url: lc.license.url.clone(),
                    }),
                    attribution: Some(lc.attribution.clone()),
                    publisher: Some(Publisher {
                        name: lc.publisher.name.clone(),
                        ipa: lc.publisher.ipa.clone(),
                    }),
                    frequency: lc.frequency,
                    synthetic: lc.synthetic,
                    classificazione,
                },
                tiling: tiling(lc, &source.info().fields)?,
                source,
            });
        }
        Ok(cat)
    }

    fn open_configured(config: &Config, lc: &LayerConfig) -> Result<Arc<dyn Source>, SourceError> {
        let options = SourceOptions {
            id_property: lc.id_property.clone(),
            temporal_start: lc.temporal.as_ref().map(|t| t.start.clone()),
            temporal_end: lc.temporal.as_ref().and_then(|t| t.end.clone()),
            storage_crs: lc.storage_crs,
        };
        match &lc.source {
            SourceConfig::Flatgeobuf(p) => open_source(&config.resolve(p), &options),
        }
    }

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
                let source = open_source(&f, &SourceOptions::default()).map_err(|source| {
                    CatalogueError::Source {
                        layer: id.clone(),
                        source,
                    }
                })?;
                self.push(Layer {
                    meta: LayerMeta {
                        title: format!("{id} (anteprima)"),
                        description: format!(
                            "Anteprima non classificata di {}: aggiungere il layer alla configurazione con la sua classificazione L.R. 65/2014 per pubblicarlo.",
                            f.display()
                        ),
                        id,
                        keywords: vec!["anteprima".into()],
                        license: None,
                        attribution: None,
                        publisher: None,
                        frequency: Frequenza::Unknown,
                        synthetic: false,
                        classificazione: Classificazione::Anteprima,
                    },
                    source,
                    tiling: Tiling::default(),
                });
            }
        }
        Ok(())
    }

    fn push(&mut self, layer: Layer) {
        self.by_id.insert(layer.meta.id.clone(), self.layers.len());
        self.layers.push(layer);
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
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

/// The layer's `[layers.tiles]` with property names checked against the source's fields.
fn tiling(lc: &LayerConfig, fields: &[Field]) -> Result<Tiling, CatalogueError> {
    let defaults = Tiling::default();
    let Some(t) = &lc.tiles else {
        return Ok(defaults);
    };
    let columns =
        |key: String, names: &Option<Vec<String>>| -> Result<Option<Vec<usize>>, CatalogueError> {
            let Some(names) = names else { return Ok(None) };
            names
                .iter()
                .map(|n| {
                    fields
                        .iter()
                        .position(|f| &f.name == n)
                        .ok_or_else(|| CatalogueError::Tiles {
                            layer: lc.id.clone(),
                            key: key.clone(),
                            message: format!(
                                "`{n}` is not a property of the layer; its properties are: {}",
                                fields
                                    .iter()
                                    .map(|f| f.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
    let base = LevelDetail {
        properties: columns("tiles.properties".into(), &t.properties)?,
        simplify: t.simplify.unwrap_or(defaults.default.simplify),
        min_size_px: t.min_size.unwrap_or(defaults.default.min_size_px),
        max_features: t.max_features.unwrap_or(defaults.default.max_features),
        max_bytes: t.max_bytes.unwrap_or(defaults.default.max_bytes),
    };
    let mut levels = Vec::with_capacity(t.zoom.len());
    for (i, z) in t.zoom.iter().enumerate() {
        let properties = match columns(format!("tiles.zoom[{i}].properties"), &z.properties)? {
            Some(p) => Some(p),
            None => base.properties.clone(),
        };
        levels.push((
            z.from,
            z.to,
            LevelDetail {
                properties,
                simplify: z.simplify.unwrap_or(base.simplify),
                min_size_px: z.min_size.unwrap_or(base.min_size_px),
                max_features: z.max_features.unwrap_or(base.max_features),
                max_bytes: z.max_bytes.unwrap_or(base.max_bytes),
            },
        ));
    }
    Ok(Tiling {
        min_zoom: t.minzoom.unwrap_or(defaults.min_zoom),
        max_zoom: t.maxzoom.unwrap_or(defaults.max_zoom),
        extent: t.extent.unwrap_or(defaults.extent),
        buffer: t.buffer.unwrap_or(defaults.buffer),
        default: base,
        levels,
    })
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
    stem.chars()
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
