//! From a validated configuration to the published catalogue: every layer's source opened,
//! its metadata and classification copied, its `[layers.tiles]` checked against the source's
//! properties. The catalogue itself knows nothing of TOML.

use super::{Config, ConfigError, LayerConfig, SourceConfig};
use crate::catalogue::{
    Catalogue, CatalogueError, Layer, LayerMeta, License, Publisher, open_flatgeobuf,
};
use crate::source::{FeatureSource, Field, SourceError, SourceOptions};
use crate::tiles::{LevelDetail, Tiling};
use std::sync::Arc;

impl Config {
    /// Opens every configured layer; the first failure stops start-up with its message.
    pub fn open_catalogue(&self) -> Result<Catalogue, ConfigError> {
        let mut cat = Catalogue::default();
        for (i, lc) in self.layers.iter().enumerate() {
            let source = self
                .open_source(lc)
                .map_err(|source| CatalogueError::Source {
                    layer: lc.id.clone(),
                    source,
                })?;
            cat.add(Layer {
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
                    classificazione: self.classificazione(i).clone(),
                },
                tiling: tiling(lc, &source.info().fields)?,
                source,
            })?;
        }
        Ok(cat)
    }

    fn open_source(&self, lc: &LayerConfig) -> Result<Arc<dyn FeatureSource>, SourceError> {
        let options = SourceOptions {
            id_property: lc.id_property.clone(),
            temporal_start: lc.temporal.as_ref().map(|t| t.start.clone()),
            temporal_end: lc.temporal.as_ref().and_then(|t| t.end.clone()),
            storage_crs: lc.storage_crs,
            // A configured layer names its id; none is guessed.
            id_if_unique: None,
        };
        match &lc.source {
            SourceConfig::Flatgeobuf(p) => open_flatgeobuf(&self.resolve(p), &options),
        }
    }
}

/// The layer's `[layers.tiles]` with property names checked against the source's fields.
fn tiling(lc: &LayerConfig, fields: &[Field]) -> Result<Tiling, ConfigError> {
    let defaults = Tiling::default();
    let Some(t) = &lc.tiles else {
        return Ok(defaults);
    };
    let columns =
        |key: String, names: &Option<Vec<String>>| -> Result<Option<Vec<usize>>, ConfigError> {
            let Some(names) = names else { return Ok(None) };
            names
                .iter()
                .map(|n| {
                    fields
                        .iter()
                        .position(|f| &f.name == n)
                        .ok_or_else(|| ConfigError::Tiles {
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
        stand_ins: t.stand_ins.unwrap_or(defaults.stand_ins),
    })
}
