//! From a validated configuration to the published catalogue: every layer's source opened,
//! its metadata and classification copied, its `[layers.tiles]` checked against the source's
//! properties. The catalogue itself knows nothing of TOML.

use super::{Config, ConfigError, DatabaseConfig, LayerConfig, SourceConfig};
use crate::catalogue::{
    Catalogue, CatalogueError, Layer, LayerMeta, License, Publisher, declared, open_flatgeobuf,
};
use crate::source::postgis::discover::GivenKey;
use crate::source::postgis::schema::Declared;
use crate::source::postgis::{Database, PostgisSource};
use crate::source::{FeatureSource, Field, SourceError, SourceOptions};
use crate::tiles::{LevelDetail, Tiling};
use std::collections::HashMap;
use std::sync::Arc;

impl Config {
    /// Opens every configured layer, then what the databases hold besides (the layers their
    /// `tessera.layers` declares, and previews); the first failure stops start-up with its
    /// message.
    pub fn open_catalogue(&self) -> Result<Catalogue, ConfigError> {
        let mut cat = Catalogue::default();
        let mut tables = Tables::default();
        // The keys layers name for views, given to their database's discovery.
        for lc in &self.layers {
            if let SourceConfig::Postgis(p) = &lc.source
                && let Some(column) = &p.key
            {
                let (schema, table) = p.table.split_once('.').unwrap_or(("public", &p.table));
                tables
                    .keys
                    .entry(p.database.clone())
                    .or_default()
                    .push(GivenKey {
                        schema: schema.into(),
                        table: table.into(),
                        column: column.clone(),
                    });
            }
        }
        for (i, lc) in self.layers.iter().enumerate() {
            let meta = LayerMeta {
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
            };
            let (source, tiled_by_postgis) = self
                .open_source(lc, &meta, &mut tables, &mut cat)
                .map_err(|source| CatalogueError::Source {
                    layer: lc.id.clone(),
                    source,
                })?;
            cat.add(Layer {
                meta,
                tiling: tiling(lc, &source.info().fields)?,
                source,
                tiled_by_postgis,
            })?;
        }
        // Every configured database, discovered or not yet.
        for db in &self.databases {
            if !tables.found.contains_key(&db.id) {
                tables
                    .discover(db)
                    .map_err(|source| CatalogueError::Source {
                        layer: format!("(database {})", db.id),
                        source,
                    })?;
            }
            let found = tables.found.remove(&db.id).expect("discovered above");
            let left: Vec<PostgisSource> = found.sources.into_iter().flatten().collect();
            let declared: Vec<_> = (found.declared.into_iter().zip(found.claimed))
                .filter(|(_, claimed)| !claimed)
                .map(|(d, _)| d)
                .collect();
            let name = format!("database {}", db.id);
            cat.add_discovered(&name, left, &declared, db.previews)?;
        }
        for (what, why) in tables.unpublished {
            cat.note_unpublished(what, why);
        }
        Ok(cat)
    }

    fn open_source(
        &self,
        lc: &LayerConfig,
        meta: &LayerMeta,
        tables: &mut Tables,
        cat: &mut Catalogue,
    ) -> Result<Opened, SourceError> {
        let options = SourceOptions {
            id_property: lc.id_property.clone(),
            temporal_start: lc.temporal.as_ref().map(|t| t.start.clone()),
            temporal_end: lc.temporal.as_ref().and_then(|t| t.end.clone()),
            storage_crs: lc.storage_crs,
            // A configured layer names its id; none is guessed.
            id_if_unique: None,
        };
        match &lc.source {
            SourceConfig::Flatgeobuf(p) => Ok((open_flatgeobuf(&self.resolve(p), &options)?, None)),
            SourceConfig::Postgis(p) => {
                let db = (self.databases.iter())
                    .find(|d| d.id == p.database)
                    .ok_or_else(|| SourceError::Invalid(format!("no database `{}`", p.database)))?;
                let mut source = tables.take(db, &p.table, p.geometry.as_deref())?;
                if let Some(t) = &lc.temporal {
                    source.set_time(&t.start, t.end.as_deref())?;
                }
                // The same table declared in the database too: the configuration wins.
                let found = tables.found.get_mut(&db.id).expect("discovered by take");
                for (d, claimed) in found.declared.iter().zip(found.claimed.iter_mut()) {
                    if !declared::declares(d, &source) {
                        continue;
                    }
                    *claimed = true;
                    let how = match declared::meta(d) {
                        Ok(m) => {
                            let keys = declared::differences(meta, &m);
                            if keys.is_empty() {
                                continue;
                            }
                            format!(
                                "tessera.layers `{}` in database {} declares the same table with another {}; the configuration's is used",
                                d.id,
                                db.id,
                                keys.join(", ")
                            )
                        }
                        Err(why) => format!(
                            "tessera.layers `{}` in database {} declares the same table, not validly ({why}); the configuration's is used",
                            d.id, db.id
                        ),
                    };
                    cat.note_conflict(lc.id.clone(), how);
                }
                let source = Arc::new(source);
                let by_postgis = source.tiled_by_postgis().then(|| source.clone());
                Ok((source, by_postgis))
            }
        }
    }
}

/// A layer's source, and its table when PostGIS makes its tiles.
type Opened = (Arc<dyn FeatureSource>, Option<Arc<PostgisSource>>);

/// The tables of the configured databases, each discovered once, at its first layer.
#[derive(Default)]
struct Tables {
    /// By database id: what it holds, its sources taken by the layers that name them.
    found: HashMap<String, Found>,
    /// Tables found that cannot be published, and why.
    unpublished: Vec<(String, String)>,
    /// By database id: the keys layers name (for views).
    keys: HashMap<String, Vec<GivenKey>>,
}

/// A database's discovery, as the configured layers take from it.
struct Found {
    sources: Vec<Option<PostgisSource>>,
    declared: Vec<Declared>,
    /// Per declared row: a configured layer publishes its table.
    claimed: Vec<bool>,
}

impl Tables {
    fn discover(&mut self, db: &DatabaseConfig) -> Result<(), SourceError> {
        let mut options = db.options();
        options.keys = self.keys.get(&db.id).cloned().unwrap_or_default();
        let database = Arc::new(Database::new(&options)?);
        let found = database.discover(&options)?;
        for s in found.skipped {
            let what = format!("{} (database {})", s.table, db.id);
            self.unpublished.push((what, s.reason));
        }
        self.found.insert(
            db.id.clone(),
            Found {
                sources: found.sources.into_iter().map(Some).collect(),
                claimed: vec![false; found.declared.len()],
                declared: found.declared,
            },
        );
        Ok(())
    }

    fn take(
        &mut self,
        db: &DatabaseConfig,
        table: &str,
        geometry: Option<&str>,
    ) -> Result<PostgisSource, SourceError> {
        if !self.found.contains_key(&db.id) {
            self.discover(db)?;
        }
        let (schema, name) = table.split_once('.').unwrap_or(("public", table));
        let list = &mut self
            .found
            .get_mut(&db.id)
            .expect("discovered above")
            .sources;
        let matches = |s: &PostgisSource| {
            let t = s.table();
            t.schema == schema && t.name == name && geometry.is_none_or(|g| t.geometry == g)
        };
        let at: Vec<usize> = (list.iter().enumerate())
            .filter(|(_, s)| s.as_ref().is_some_and(matches))
            .map(|(i, _)| i)
            .collect();
        match at.as_slice() {
            [i] => Ok(list[*i].take().expect("present")),
            [] => {
                // Found but not publishable: say why.
                let (prefix, suffix) =
                    (format!("{schema}.{name}."), format!("(database {})", db.id));
                let why = (self.unpublished.iter())
                    .find(|(what, _)| what.starts_with(&prefix) && what.ends_with(&suffix))
                    .map(|(_, why)| why.clone());
                if let Some(why) = why {
                    return Err(SourceError::Invalid(format!(
                        "the database `{}` cannot publish `{table}`: {why}",
                        db.id
                    )));
                }
                let list = &self.found[&db.id].sources;
                let known: Vec<String> = (list.iter().flatten())
                    .map(|s| format!("{}.{}", s.table().schema, s.table().name))
                    .collect();
                Err(SourceError::Invalid(format!(
                    "the database `{}` has no publishable table `{table}`{} (the tables it has: {}; run `tessera check` for those it cannot publish)",
                    db.id,
                    geometry
                        .map(|g| format!(" with a geometry column `{g}`"))
                        .unwrap_or_default(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )))
            }
            _ => Err(SourceError::Invalid(format!(
                "`{table}` has several geometry columns: name one with `geometry = \"…\"`"
            ))),
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
