//! PMTiles v3 archives, written with the `pmtiles` crate: tiles gzipped, clustered (put in
//! tile-id order: zoom by zoom, along the Hilbert curve), identical tiles stored once, empty
//! tiles left out; the metadata is the TileJSON of [`ArchiveMeta`].

use super::{ArchiveMeta, failed, io, working_copy};
use crate::tiles::matrix::TileCoord;
use crate::tiles::{SinkError, TileSink};
use pmtiles::{Compression, PmTilesStreamWriter, PmTilesWriter, TileType};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub struct PmtilesSink {
    target: PathBuf,
    work: PathBuf,
    writer: PmTilesStreamWriter<BufWriter<File>>,
}

impl PmtilesSink {
    pub fn create(target: &Path, meta: &ArchiveMeta) -> Result<PmtilesSink, SinkError> {
        let work = working_copy(target);
        let file = File::create(&work).map_err(io(&work))?;
        let (lon, lat, zoom) = meta.center();
        let (b, (min_zoom, max_zoom)) = (meta.bounds(), meta.zooms());
        let writer = PmTilesWriter::new(TileType::Mvt)
            .tile_compression(Compression::Gzip)
            .internal_compression(Compression::Gzip)
            .min_zoom(min_zoom)
            .max_zoom(max_zoom)
            .bounds(b[0], b[1], b[2], b[3])
            .center(lon, lat)
            .center_zoom(zoom)
            .metadata(&meta.tilejson.to_string())
            .create(BufWriter::new(file))
            .map_err(|e| failed(&work, e))?;
        Ok(PmtilesSink {
            target: target.to_path_buf(),
            work,
            writer,
        })
    }
}

impl TileSink for PmtilesSink {
    fn wants(&self) -> crate::tiles::Compression {
        crate::tiles::Compression::Gzip
    }

    fn put(&mut self, c: TileCoord, tile: &[u8]) -> Result<(), SinkError> {
        let coord = pmtiles::TileCoord::new(c.z, c.x, c.y).map_err(|e| failed(&self.work, e))?;
        // Gzipped already, as `wants` asked.
        self.writer
            .add_raw_tile(coord, tile)
            .map_err(|e| failed(&self.work, e))
    }

    fn finish(self: Box<Self>) -> Result<(), SinkError> {
        let PmtilesSink {
            target,
            work,
            writer,
        } = *self;
        writer.finalize().map_err(|e| failed(&work, e))?;
        super::publish(&work, &target)
    }
}
