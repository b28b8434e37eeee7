//! Where finished tiles come from. Everything that serves or stores tiles (the HTTP layer,
//! `seed`) reads a [`TileSource`] without knowing what is behind it: tessera's engine over
//! feature sources ([`super::engine`]), several sources in one tile ([`super::composite`]),
//! the cache in front of either ([`super::cache`]), and later archives or PostGIS `ST_AsMVT`.

use super::TileError;
use super::matrix::{Limits, TileCoord, TileMatrixSet};
use crate::crs::CrsError;
use crate::source::FieldType;
use bytes::Bytes;
use geo_types::Rect;
use std::sync::{Arc, Mutex, PoisonError};

/// How the bytes of a source's tiles are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

/// One MVT layer of a source's tiles, as TileJSON's `vector_layers` and the OGC tileset
/// metadata describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct TileLayerInfo {
    /// The MVT layer name.
    pub id: String,
    pub title: String,
    /// The properties its features carry at its highest zoom, with their types.
    pub fields: Vec<(String, FieldType)>,
    /// As GeoJSON names it (`MultiPolygon`, …), or `Unknown`.
    pub geometry_type: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// In CRS84.
    pub extent: Option<Rect<f64>>,
}

/// What a tile source holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSourceInfo {
    pub layers: Vec<TileLayerInfo>,
    /// The tiles are Mapbox Vector Tiles, compressed so.
    pub compression: Compression,
    /// The matrix sets it has tiles in (by id); `None`: any, rendered on demand.
    pub matrix_sets: Option<Vec<String>>,
}

impl TileSourceInfo {
    /// The info of `layers`, served in any matrix set.
    pub fn of_layers(layers: Vec<TileLayerInfo>, compression: Compression) -> TileSourceInfo {
        TileSourceInfo {
            layers,
            compression,
            matrix_sets: None,
        }
    }

    /// The zoom levels that some layer has tiles at.
    pub fn zoom_range(&self) -> Option<(u8, u8)> {
        let min = self.layers.iter().map(|l| l.min_zoom).min()?;
        let max = self.layers.iter().map(|l| l.max_zoom).max()?;
        Some((min, max))
    }

    /// The CRS84 extent of all its layers.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.layers
            .iter()
            .filter_map(|l| l.extent)
            .reduce(crate::crs::union)
    }

    /// Whether it has tiles in `tms`.
    pub fn serves(&self, tms: &TileMatrixSet) -> bool {
        self.matrix_sets
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == tms.id))
    }

    /// The tiles of level `z` that hold data; `None` outside its zoom range or with no data.
    pub fn limits_at(&self, tms: &TileMatrixSet, z: u8) -> Result<Option<Limits>, CrsError> {
        let (Some((min, max)), Some(extent)) = (self.zoom_range(), self.extent()) else {
            return Ok(None);
        };
        if !(min..=max).contains(&z) || z > tms.max_level {
            return Ok(None);
        }
        tms.limits(z, extent).map(Some)
    }

    /// The tiles that hold data, level by level.
    pub fn limits(&self, tms: &TileMatrixSet) -> Result<Vec<Limits>, CrsError> {
        let Some((min, max)) = self.zoom_range() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for z in min..=max.min(tms.max_level) {
            out.extend(self.limits_at(tms, z)?);
        }
        Ok(out)
    }
}

/// The info of a source over data that changes, made again when the data's revision moves on.
#[derive(Debug)]
pub struct FollowedInfo(Mutex<(u64, Arc<TileSourceInfo>)>);

impl FollowedInfo {
    pub fn new(revision: u64, info: TileSourceInfo) -> FollowedInfo {
        FollowedInfo(Mutex::new((revision, Arc::new(info))))
    }

    /// The info at `revision`, from `make` if it is not the one held.
    pub fn at(&self, revision: u64, make: impl FnOnce() -> TileSourceInfo) -> Arc<TileSourceInfo> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if held.0 != revision {
            *held = (revision, Arc::new(make()));
        }
        held.1.clone()
    }
}

/// Appends `tile`, compressed as `compression` says, to `out` as plain MVT bytes.
pub fn inflate_into(
    tile: &[u8],
    compression: Compression,
    out: &mut Vec<u8>,
) -> Result<(), TileError> {
    match compression {
        Compression::None => out.extend_from_slice(tile),
        Compression::Gzip => {
            use std::io::Read;
            flate2::read::GzDecoder::new(tile)
                .read_to_end(out)
                .map_err(|e| TileError::Internal(format!("a gzipped tile: {e}")))?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
pub trait TileSource: Send + Sync + std::fmt::Debug {
    /// What it holds now: a source over data that changes (a file replaced) gives a new
    /// info after each change, with the new extent and so the new tile matrix set limits.
    fn info(&self) -> Arc<TileSourceInfo>;

    /// A number that grows when the data behind the tiles changes: a tile made before is
    /// stale. (The sum of the sources' revisions, for tiles made from several.)
    fn revision(&self) -> u64 {
        0
    }

    /// A number that grows when the data behind tile `coord` changes (by default, when any
    /// of the data does).
    fn revision_at(&self, _tms: &TileMatrixSet, _coord: TileCoord) -> u64 {
        self.revision()
    }

    /// Tile `coord` of `tms`, compressed as `info().compression` says; `None` when it holds
    /// no feature. Dropping the future stops the reads it started. The bytes outlive the
    /// call (in the cache, in responses): a source that makes them returns them in
    /// [`super::kept`] memory, so that they pin none of the memory it made them with.
    async fn tile(&self, tms: &TileMatrixSet, coord: TileCoord)
    -> Result<Option<Bytes>, TileError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzipped_tiles_are_inflated_plain_ones_copied() {
        let mvt = vec![0x1a, 0x02, 0x78, 0x02];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&mvt).unwrap();
        let gz = gz.finish().unwrap();
        let mut out = vec![9];
        inflate_into(&gz, Compression::Gzip, &mut out).unwrap();
        inflate_into(&mvt, Compression::None, &mut out).unwrap();
        assert_eq!(out, [&[9][..], &mvt, &mvt].concat());
        assert!(matches!(
            inflate_into(&mvt, Compression::Gzip, &mut out),
            Err(TileError::Internal(_))
        ));
    }
}
