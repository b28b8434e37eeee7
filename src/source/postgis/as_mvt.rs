//! A tile's layer made by PostGIS itself (`ST_AsMVT`), the other way to tile a table: the
//! database clips, simplifies and encodes, and tessera passes the bytes on. It reads what the
//! engine's read would (the same box, the same pixel rule, the same properties) and simplifies
//! as much, so that the two can be measured against each other; what it cannot do is in
//! [`MvtCut`].

use super::sql::{Filter, ident, select};
use super::{PostgisSource, error};
use crate::source::{FieldType, SourceError, TileQuery};
use geo_types::Rect;

/// One layer of one tile, as `ST_AsMVT` makes it. Unlike the engine's, its features left out
/// (under a pixel, past `query.max_features`) have no stand-ins, and nothing keeps it under a
/// byte budget.
#[derive(Debug, Clone)]
pub struct MvtCut<'a> {
    /// The MVT layer's name.
    pub name: &'a str,
    /// The tile's bounds in its matrix set's CRS, EPSG:`epsg`.
    pub bounds: Rect<f64>,
    pub epsg: u32,
    pub extent: u32,
    /// Around the tile, in tile units.
    pub buffer: u32,
    /// Simplification tolerance, in tile units.
    pub simplify: f64,
    /// What the engine would read for it: the query box, a pixel, the properties, the
    /// feature budget.
    pub query: &'a TileQuery,
}

impl PostgisSource {
    /// The layer's MVT bytes for `cut`; empty when no feature is in it.
    pub async fn as_mvt(&self, cut: &MvtCut<'_>) -> Result<Vec<u8>, SourceError> {
        self.db.track(self.read_as_mvt(cut).await)
    }

    async fn read_as_mvt(&self, cut: &MvtCut<'_>) -> Result<Vec<u8>, SourceError> {
        let Some(w) = self.window(cut.query)? else {
            return Ok(Vec::new());
        };
        let mut f = Filter::default();
        let (boxes, _, _) = self.boxes_in(&mut f, &w.r);
        // With no smallest size (`min_size = 0`) everything draws.
        let drawn = if w.pixel[0] > 0.0 {
            self.drawn(&mut f, &w)
        } else {
            "true".to_string()
        };
        let b = cut.bounds;
        let envelope = format!(
            "ST_MakeEnvelope({}, {}, {}, {}, {})",
            f.bind(b.min().x),
            f.bind(b.min().y),
            f.bind(b.max().x),
            f.bind(b.max().y),
            cut.epsg
        );
        let tolerance = f.bind(cut.simplify * b.width() / f64::from(cut.extent.max(1)));
        let (extent, buffer) = (
            f.bind(cut.extent.min(i32::MAX as u32) as i32),
            f.bind(cut.buffer.min(i32::MAX as u32) as i32),
        );
        let limit = f.bind(cut.query.max_features.min(i64::MAX as usize) as i64);
        let name = f.bind(cut.name.to_string());
        let g = ident(&self.table.geometry);
        let mut columns = vec![format!(
            "ST_AsMVTGeom(ST_Simplify(ST_Transform({g}, {}), {tolerance}, true), {envelope}, {extent}, {buffer}, true) as {g}",
            cut.epsg
        )];
        // An integer key travels as the MVT feature id, as the engine writes it.
        let key = &self.table.fields[self.table.key];
        let id = (key.field.kind == FieldType::Integer).then(|| {
            columns.push(format!("{} as {}", select(key), ident(&key.field.name)));
            f.bind(key.field.name.clone())
        });
        for &i in &cut.query.columns {
            if let Some(c) = self
                .table
                .fields
                .get(i)
                .filter(|_| id.is_none() || i != self.table.key)
            {
                columns.push(format!("{} as {}", select(c), ident(&c.field.name)));
            }
        }
        let geometry = f.bind(self.table.geometry.clone());
        let id = id.map(|i| format!(", {i}")).unwrap_or_default();
        // Over the budget the largest stay, as in the engine's tiles.
        let bx = ident(&self.box_alias);
        let size = if w.polygonal {
            format!("(ST_XMax({bx}) - ST_XMin({bx})) * (ST_YMax({bx}) - ST_YMin({bx}))")
        } else {
            format!("greatest(ST_XMax({bx}) - ST_XMin({bx}), ST_YMax({bx}) - ST_YMin({bx}))")
        };
        // The rows are named as no column is (a column `t` would be taken for them).
        let sql = format!(
            "select ST_AsMVT({bx}, {name}, {extent}, {geometry}{id}) from
             (select {} from {boxes} where {drawn} order by {size} desc limit {limit}) {bx}
             where {g} is not null",
            columns.join(", "),
        );
        let client = self.db.client().await?;
        let row = client.query_one(&sql, &f.refs()).await.map_err(error)?;
        Ok(row.get::<_, Option<Vec<u8>>>(0).unwrap_or_default())
    }
}
