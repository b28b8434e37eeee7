//! Layers a database declares in its own `tessera.layers` table: each row becomes a layer's
//! metadata and classification by the same rules as the configuration's, and the tables no
//! one classified are published as previews.

use super::{
    Catalogue, CatalogueError, Layer, LayerMeta, License, Publisher, id_from, validate_id,
};
use crate::lr65::{
    Atto, Classificazione, Fase, Frequenza, StatoKind, Strumento, Struttura, TipoDiritto, Voce,
};
use crate::source::postgis::PostgisSource;
use crate::source::postgis::schema::Declared;
use crate::tiles::Tiling;
use std::sync::Arc;

/// The value `id` of taxonomy `V`, or why not (naming the column).
fn voce<V: Voce>(column: &str, id: &str) -> Result<V, String> {
    V::from_id(id).ok_or_else(|| format!("{column} = `{id}` is not one of: {}", V::valid_values()))
}

/// The metadata and classification a row declares, checked as the configuration's are.
pub fn meta(d: &Declared) -> Result<LayerMeta, String> {
    validate_id(&d.id)?;
    for (column, value) in [
        ("title", &d.title),
        ("description", &d.description),
        ("license_id", &d.license_id),
        ("license_url", &d.license_url),
        ("attribution", &d.attribution),
        ("publisher_name", &d.publisher_name),
        ("publisher_ipa", &d.publisher_ipa),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{column} is empty"));
        }
    }
    let strutture = (d.strutture.iter())
        .map(|s| voce::<Struttura>("struttura", s))
        .collect::<Result<Vec<_>, _>>()?;
    let stato = voce::<StatoKind>("stato", &d.stato)?;
    let tipo = (d.tipo_diritto.as_deref())
        .map(|t| voce::<TipoDiritto>("tipo_diritto", t))
        .transpose()?;
    let atto = match &d.atto {
        Some(a) => Some(Atto {
            strumento: voce::<Strumento>("atto_strumento", &a.strumento)?,
            descrizione: a.descrizione.clone(),
            numero: a.numero.clone(),
            data: a.data.clone(),
            fase: voce::<Fase>("atto_fase", &a.fase)?,
        }),
        None => None,
    };
    let classificazione = Classificazione::new(&strutture, stato, tipo, atto)
        .map_err(|e| format!("{}: {e}", e.parte))?;
    Ok(LayerMeta {
        id: d.id.clone(),
        title: d.title.clone(),
        description: d.description.clone(),
        keywords: d.keywords.clone(),
        license: Some(License {
            id: d.license_id.clone(),
            url: d.license_url.clone(),
        }),
        attribution: Some(d.attribution.clone()),
        publisher: Some(Publisher {
            name: d.publisher_name.clone(),
            ipa: d.publisher_ipa.clone(),
        }),
        frequency: voce::<Frequenza>("frequency", &d.frequency)?,
        synthetic: false,
        classificazione,
    })
}

/// Whether row `d` declares `source`'s table (and column, when it names one).
pub fn declares(d: &Declared, source: &PostgisSource) -> bool {
    let t = source.table();
    d.schema == t.schema
        && d.table == t.name
        && d.geometry.as_ref().is_none_or(|g| g == &t.geometry)
}

/// Where a declared layer differs from the configured one that publishes the same table: the
/// keys, for `tessera check` (the configuration wins).
pub fn differences(configured: &LayerMeta, declared: &LayerMeta) -> Vec<&'static str> {
    let license = |m: &LayerMeta| m.license.as_ref().map(|l| (l.id.clone(), l.url.clone()));
    let publisher = |m: &LayerMeta| {
        m.publisher
            .as_ref()
            .map(|p| (p.name.clone(), p.ipa.clone()))
    };
    [
        ("id", configured.id != declared.id),
        ("title", configured.title != declared.title),
        (
            "description",
            configured.description != declared.description,
        ),
        ("keywords", configured.keywords != declared.keywords),
        ("license", license(configured) != license(declared)),
        (
            "attribution",
            configured.attribution != declared.attribution,
        ),
        ("publisher", publisher(configured) != publisher(declared)),
        ("frequency", configured.frequency != declared.frequency),
        (
            "classificazione",
            configured.classificazione != declared.classificazione,
        ),
    ]
    .into_iter()
    .filter(|(_, differs)| *differs)
    .map(|(k, _)| k)
    .collect()
}

impl Catalogue {
    /// Publishes the tables of database `database` (named in notes) that no configured layer
    /// took: those a row of `tessera.layers` declares, classified; the others as previews when
    /// `previews` is set. A row that cannot be used is noted with the reason, and its table
    /// served as a preview.
    pub fn add_discovered(
        &mut self,
        database: &str,
        sources: Vec<PostgisSource>,
        declared: &[Declared],
        previews: bool,
    ) -> Result<(), CatalogueError> {
        let mut used = vec![false; declared.len()];
        // A row that names no column, of a table with several, declares none of them.
        for (i, d) in declared.iter().enumerate() {
            if sources.iter().filter(|s| declares(d, s)).count() > 1 {
                used[i] = true;
                self.note_unpublished(
                    format!("tessera.layers `{}` ({database})", d.id),
                    format!(
                        "{}.{} has several geometry columns: name one in geometry_column",
                        d.schema, d.table
                    ),
                );
            }
        }
        let ambiguous = used.clone();
        let mut seen = std::collections::HashSet::new();
        let several: std::collections::HashSet<(String, String)> = (sources.iter())
            .map(|s| (s.table().schema.clone(), s.table().name.clone()))
            .filter(|t| !seen.insert(t.clone()))
            .collect();
        for mut source in sources {
            let rows: Vec<usize> = (0..declared.len())
                .filter(|&i| !ambiguous[i] && declares(&declared[i], &source))
                .collect();
            let label = source.table_label(false);
            let meta = match rows.as_slice() {
                [i] => {
                    used[*i] = true;
                    let d = &declared[*i];
                    match meta(d) {
                        Ok(m) if self.get(&m.id).is_some() => Err(format!(
                            "tessera.layers `{}`: another layer has this id",
                            d.id
                        )),
                        Ok(m) => match &d.temporal_start {
                            Some(start) => (source.set_time(start, d.temporal_end.as_deref()))
                                .map(|_| m)
                                .map_err(|why| format!("tessera.layers `{}`: {why}", d.id)),
                            None => Ok(m),
                        },
                        Err(why) => Err(format!("tessera.layers `{}`: {why}", d.id)),
                    }
                }
                [] => Err(String::new()),
                several => {
                    several.iter().for_each(|&i| used[i] = true);
                    Err(format!(
                        "several rows of tessera.layers declare it ({})",
                        (several.iter())
                            .map(|&i| declared[i].id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            };
            let meta = match meta {
                Ok(m) => m,
                Err(why) => {
                    if !why.is_empty() {
                        self.note_unpublished(
                            format!("{label} ({database})"),
                            format!("{why}; served as an unclassified preview"),
                        );
                    } else if !previews {
                        self.note_unpublished(
                            format!("{label} ({database})"),
                            "not classified: declare it in tessera.layers or the configuration (or set previews = true to serve it as a preview)".into(),
                        );
                        continue;
                    }
                    let t = source.table();
                    let name = if t.schema == "public" {
                        t.name.clone()
                    } else {
                        format!("{}_{}", t.schema, t.name)
                    };
                    // Each geometry column of a table with several is named by it too.
                    let id = match several.contains(&(t.schema.clone(), t.name.clone())) {
                        true => id_from(&format!("{name}_{}", t.geometry)),
                        false => id_from(&name),
                    };
                    // A name another layer has (one declared so), or none fit for a URL: the
                    // table is left out, and said so, rather than the whole catalogue.
                    let taken = self.get(&id).is_some();
                    if let Err(why) = validate_id(&id).and_then(|_| match taken {
                        true => Err(format!(
                            "its preview would be `{id}`, the id of another layer"
                        )),
                        false => Ok(()),
                    }) {
                        self.note_unpublished(format!("{label} ({database})"), why);
                        continue;
                    }
                    // Where the database lives is not for clients.
                    LayerMeta::anteprima(id, &format!("la tabella {label} di PostGIS"))
                }
            };
            let source = Arc::new(source);
            self.add(Layer {
                meta,
                tiled_by_postgis: source.tiled_by_postgis().then(|| source.clone()),
                source,
                tiling: Tiling::default(),
            })?;
        }
        for (d, used) in declared.iter().zip(used) {
            if !used {
                self.note_unpublished(
                    format!("tessera.layers `{}` ({database})", d.id),
                    format!(
                        "no publishable table {}.{}{}",
                        d.schema,
                        d.table,
                        d.geometry
                            .as_ref()
                            .map(|g| format!(" with a geometry column {g}"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        Ok(())
    }
}
