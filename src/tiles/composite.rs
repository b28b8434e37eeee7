//! Several tile sources as one: a tile of each, joined. An MVT tile is a sequence of layers,
//! so the layers of several tiles concatenated are one valid tile (the sources' layer names
//! must differ, which [`Composite::new`] checks).

use super::TileError;
use super::matrix::{TileCoord, TileMatrixSet};
use super::source::{Compression, TileSource, TileSourceInfo};
use bytes::Bytes;
use std::io::Read;
use std::sync::Arc;

#[derive(Debug)]
pub struct Composite {
    parts: Vec<Arc<dyn TileSource>>,
    info: TileSourceInfo,
}

impl Composite {
    /// The sources' tiles in this order; refused if two give a layer of the same name.
    pub fn new(parts: Vec<Arc<dyn TileSource>>) -> Result<Composite, TileError> {
        let mut layers = Vec::new();
        for p in &parts {
            for l in &p.info().layers {
                if layers.iter().any(|x: &super::TileLayerInfo| x.id == l.id) {
                    return Err(TileError::Invalid(format!(
                        "two tile sources have a layer `{}`",
                        l.id
                    )));
                }
                layers.push(l.clone());
            }
        }
        // Served in the matrix sets that every part serves.
        let mut matrix_sets: Option<Vec<String>> = None;
        for p in &parts {
            if let Some(ids) = &p.info().matrix_sets {
                matrix_sets = Some(match matrix_sets {
                    None => ids.clone(),
                    Some(have) => have.into_iter().filter(|i| ids.contains(i)).collect(),
                });
            }
        }
        let info = TileSourceInfo {
            layers,
            compression: Compression::None,
            matrix_sets,
        };
        Ok(Composite { parts, info })
    }
}

#[async_trait::async_trait]
impl TileSource for Composite {
    fn info(&self) -> &TileSourceInfo {
        &self.info
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
            match part.info().compression {
                Compression::None => out.extend_from_slice(&tile),
                Compression::Gzip => {
                    flate2::read::GzDecoder::new(&tile[..])
                        .read_to_end(&mut out)
                        .map_err(|e| TileError::Internal(format!("a gzipped tile: {e}")))?;
                }
            }
        }
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }
}
