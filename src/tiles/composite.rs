//! Several tile sources as one: a tile of each, joined. An MVT tile is a sequence of layers,
//! so the layers of several tiles concatenated are one valid tile (the sources' layer names
//! must differ, which [`Composite::new`] checks).

use super::matrix::{TileCoord, TileMatrixSet};
use super::source::{Compression, FollowedInfo, TileSource, TileSourceInfo};
use super::{TileError, kept};
use bytes::Bytes;
use std::sync::Arc;

#[derive(Debug)]
pub struct Composite {
    parts: Vec<Arc<dyn TileSource>>,
    info: FollowedInfo,
}

/// The parts' layers in order, in the matrix sets that every part serves.
fn joined(parts: &[Arc<dyn TileSource>]) -> TileSourceInfo {
    let infos: Vec<_> = parts.iter().map(|p| p.info()).collect();
    let mut matrix_sets: Option<Vec<String>> = None;
    for ids in infos.iter().filter_map(|i| i.matrix_sets.as_ref()) {
        matrix_sets = Some(match matrix_sets {
            None => ids.clone(),
            Some(have) => have.into_iter().filter(|i| ids.contains(i)).collect(),
        });
    }
    TileSourceInfo {
        layers: infos.iter().flat_map(|i| i.layers.clone()).collect(),
        compression: Compression::None,
        matrix_sets,
    }
}

impl Composite {
    /// The sources' tiles in this order; refused if two give a layer of the same name.
    pub fn new(parts: Vec<Arc<dyn TileSource>>) -> Result<Composite, TileError> {
        let info = joined(&parts);
        for (i, l) in info.layers.iter().enumerate() {
            if info.layers[..i].iter().any(|x| x.id == l.id) {
                return Err(TileError::Invalid(format!(
                    "two tile sources have a layer `{}`",
                    l.id
                )));
            }
        }
        let revision = parts.iter().map(|p| p.revision()).sum();
        Ok(Composite {
            info: FollowedInfo::new(revision, info),
            parts,
        })
    }
}

#[async_trait::async_trait]
impl TileSource for Composite {
    fn info(&self) -> Arc<TileSourceInfo> {
        self.info.at(self.revision(), || joined(&self.parts))
    }

    fn revision(&self) -> u64 {
        self.parts.iter().map(|p| p.revision()).sum()
    }

    fn revision_at(&self, tms: &TileMatrixSet, coord: TileCoord) -> u64 {
        self.parts.iter().map(|p| p.revision_at(tms, coord)).sum()
    }

    async fn tile(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Option<Bytes>, TileError> {
        let tiles =
            futures_util::future::try_join_all(self.parts.iter().map(|p| p.tile(tms, coord)))
                .await?;
        let mut out = Vec::new();
        for (part, tile) in self.parts.iter().zip(tiles) {
            let Some(tile) = tile else { continue };
            super::inflate_into(&tile, part.info().compression, &mut out)?;
        }
        Ok((!out.is_empty()).then(|| kept(&out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::flatgeobuf::FlatGeobufSource;
    use crate::tiles::Tiling;
    use crate::tiles::cache::{Cached, TileCache};
    use crate::tiles::engine::{EngineLayer, EngineTiles};

    fn layer(file: &str, name: &str) -> EngineLayer {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data")
            .join(file);
        EngineLayer {
            name: name.into(),
            title: name.into(),
            source: Arc::new(FlatGeobufSource::open(&path, &Default::default()).expect(file)),
            tiling: Tiling::default(),
        }
    }

    /// Over Florence: both layers have features there.
    const TILE: TileCoord = TileCoord {
        z: 9,
        x: 271,
        y: 187,
    };

    #[tokio::test]
    async fn a_composite_tile_is_its_parts_tiles_joined() {
        let (comuni, province) = (
            layer("comuni_toscana.fgb", "comuni"),
            layer("province_toscana.fgb", "province"),
        );
        let tms = TileMatrixSet::web_mercator_quad();
        let both = EngineTiles::new(vec![province.clone(), comuni.clone()]);
        let parts: Vec<Arc<dyn TileSource>> = vec![
            Arc::new(EngineTiles::new(vec![province.clone()])),
            Arc::new(EngineTiles::new(vec![comuni.clone()])),
        ];
        let composite = Composite::new(parts).expect("distinct layers");
        let joined = composite.tile(&tms, TILE).await.unwrap().expect("features");
        let whole = both.tile(&tms, TILE).await.unwrap().expect("features");
        assert!(whole.len() > 1000);
        assert_eq!(joined, whole);
        let info = composite.info();
        let ids: Vec<&str> = info.layers.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["province", "comuni"]);
        // Nothing anywhere gives no tile.
        let far = TileCoord { z: 9, x: 0, y: 0 };
        assert_eq!(composite.tile(&tms, far).await.unwrap(), None);
        // Two layers of one name would make an invalid tile.
        let twice: Vec<Arc<dyn TileSource>> = vec![
            Arc::new(EngineTiles::new(vec![comuni.clone()])),
            Arc::new(EngineTiles::new(vec![comuni])),
        ];
        assert!(matches!(Composite::new(twice), Err(TileError::Invalid(_))));
    }

    #[tokio::test]
    async fn the_cache_serves_what_its_source_makes() {
        let tms = TileMatrixSet::web_mercator_quad();
        let engine = Arc::new(EngineTiles::new(vec![layer(
            "comuni_toscana.fgb",
            "comuni",
        )]));
        let limit = Arc::new(crate::tiles::limit::RenderLimit::new(2, 8));
        let cached = Cached::new(engine.clone(), Arc::new(TileCache::new(8)), limit, "comuni");
        assert!(cached.hit(&tms, TILE).await.is_none());
        let first = cached.tile(&tms, TILE).await.unwrap();
        assert_eq!(first, engine.tile(&tms, TILE).await.unwrap());
        let hit = cached.hit(&tms, TILE).await.expect("kept");
        assert_eq!(Some(hit.raw.clone()), first);
        assert_eq!(cached.info().layers, engine.info().layers);
    }
}
