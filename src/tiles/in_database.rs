//! Tiles of PostGIS tables made by PostGIS (`ST_AsMVT`), the other way to tile them: planned
//! by the engine (the same query box, pixel, properties and budget of features), clipped,
//! simplified and encoded in the database, each layer's bytes joined into the tile. Chosen
//! per database (`tiles = "st_asmvt"`); the README says when it is the better choice.

use super::engine::EngineTiles;
use super::matrix::{TileCoord, TileMatrixSet};
use super::source::{TileSource, TileSourceInfo};
use super::{TileError, kept};
use crate::source::postgis::PostgisSource;
use crate::source::postgis::as_mvt::MvtCut;
use bytes::Bytes;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct DatabaseTiles {
    /// The layers as the engine would cut them, for their plans, info and revisions.
    engine: EngineTiles,
    /// Each layer's table.
    tables: Arc<[Arc<PostgisSource>]>,
}

impl DatabaseTiles {
    /// The tiles of `engine`'s layers, the i-th read from `tables[i]`. Their tiling draws no
    /// stand-ins: the database does not count what it leaves out.
    pub fn new(engine: EngineTiles, tables: Vec<Arc<PostgisSource>>) -> DatabaseTiles {
        let layers = (engine.layers().iter())
            .map(|l| {
                let mut l = l.clone();
                l.tiling.stand_ins = false;
                l
            })
            .collect();
        DatabaseTiles {
            engine: EngineTiles::new(layers),
            tables: tables.into(),
        }
    }
}

#[async_trait::async_trait]
impl TileSource for DatabaseTiles {
    fn info(&self) -> Arc<TileSourceInfo> {
        self.engine.info()
    }

    fn revision(&self) -> u64 {
        self.engine.revision()
    }

    fn revision_at(&self, tms: &TileMatrixSet, coord: TileCoord) -> u64 {
        self.engine.revision_at(tms, coord)
    }

    async fn tile(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Option<Bytes>, TileError> {
        let planned = self.engine.plan(tms, coord)?;
        let bounds = tms.bounds(coord);
        let reads = planned.iter().map(|(i, plan)| {
            let l = &self.engine.layers()[*i];
            let cut = MvtCut {
                name: &l.name,
                bounds,
                epsg: tms.epsg,
                extent: l.tiling.extent,
                buffer: l.tiling.buffer,
                simplify: l.tiling.at(coord.z).simplify,
                query: &plan.query,
            };
            let table = self.tables[*i].clone();
            async move { table.as_mvt(&cut).await }
        });
        let layers = futures_util::future::try_join_all(reads).await?;
        let tile: Vec<u8> = layers.concat();
        Ok((!tile.is_empty()).then(|| kept(&tile)))
    }
}
