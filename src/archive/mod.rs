//! Tile archives: the files `tessera seed` writes a pyramid into, each a [`TileSink`] that
//! becomes visible under its final name only when complete. PMTiles v3 ([`pmtiles`]), MBTiles
//! ([`mbtiles`]), or a folder of `z/x/y.mvt` files ([`crate::tiles::sink::DirSink`]), chosen by
//! the target's extension.

pub mod mbtiles;
pub mod pmtiles;
pub mod pmtiles_read;

use crate::tiles::sink::DirSink;
use crate::tiles::{SinkError, TileSink};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// What an archive says about its tiles: its TileJSON (name, description, attribution,
/// bounds, center, zooms, `vector_layers`) without `tiles` (an archive has no URL), with
/// each layer's L.R. 65/2014 classification under `tessera:classificazione`.
#[derive(Debug, Clone)]
pub struct ArchiveMeta {
    pub tilejson: Json,
}

impl ArchiveMeta {
    pub fn zooms(&self) -> (u8, u8) {
        let z = |k: &str| self.tilejson[k].as_u64().unwrap_or(0).min(30) as u8;
        (z("minzoom"), z("maxzoom"))
    }

    /// West, south, east, north, in degrees (the world when unknown).
    pub fn bounds(&self) -> [f64; 4] {
        let b = |i: usize, d: f64| self.tilejson["bounds"][i].as_f64().unwrap_or(d);
        [b(0, -180.0), b(1, -85.0511), b(2, 180.0), b(3, 85.0511)]
    }

    /// Longitude, latitude and zoom to open at.
    pub fn center(&self) -> (f64, f64, u8) {
        let c = &self.tilejson["center"];
        let b = self.bounds();
        (
            c[0].as_f64().unwrap_or((b[0] + b[2]) / 2.0),
            c[1].as_f64().unwrap_or((b[1] + b[3]) / 2.0),
            c[2].as_u64().unwrap_or(u64::from(self.zooms().0)).min(30) as u8,
        )
    }
}

/// The kinds of archive, by the target's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pmtiles,
    Mbtiles,
    /// A folder of `z/x/y.mvt` files, uncompressed.
    Folder,
}

impl Format {
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pmtiles") => Format::Pmtiles,
            Some(e) if e.eq_ignore_ascii_case("mbtiles") => Format::Mbtiles,
            _ => Format::Folder,
        }
    }
}

/// A sink that will become `target`. An archive file already there is replaced only when the
/// new one is complete; a folder must not exist.
pub fn create(target: &Path, meta: &ArchiveMeta) -> Result<Box<dyn TileSink>, SinkError> {
    Ok(match Format::of(target) {
        Format::Pmtiles => Box::new(pmtiles::PmtilesSink::create(target, meta)?),
        Format::Mbtiles => Box::new(mbtiles::MbtilesSink::create(target, meta)?),
        Format::Folder => Box::new(DirSink::create(target)?),
    })
}

/// Where an archive is written until it is complete: beside the target, so that the final
/// rename stays on one file system.
pub fn working_copy(target: &Path) -> PathBuf {
    let mut work = target.as_os_str().to_owned();
    work.push(".partial");
    PathBuf::from(work)
}

/// Puts the finished working copy `work` in the place of `target`: its bytes on disk first,
/// so that after a power cut the name holds either the old archive or the whole new one.
fn publish(work: &Path, target: &Path) -> Result<(), SinkError> {
    std::fs::File::open(work)
        .and_then(|f| f.sync_all())
        .map_err(io(work))?;
    std::fs::rename(work, target).map_err(io(target))?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself, recorded in the folder (best effort: not every system can).
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// A failure of the archive's writer (SQLite, the PMTiles writer), as an I/O error on `path`.
fn failed(path: &Path, e: impl std::fmt::Display) -> SinkError {
    SinkError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The position of tile `x`, `y` along the Hilbert curve over level `z` (PMTiles' order
/// within a level).
pub fn hilbert(z: u8, x: u32, y: u32) -> u64 {
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let n = 1u64 << z;
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so that the curve continues (only the lower bits count on).
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_order_visits_neighbours_in_turn() {
        // Level 1: (0,0) (0,1) (1,1) (1,0), as PMTiles numbers them.
        let order: Vec<u64> = [(0, 0), (0, 1), (1, 1), (1, 0)]
            .iter()
            .map(|&(x, y)| hilbert(1, x, y))
            .collect();
        assert_eq!(order, [0, 1, 2, 3]);
        // Positions the PMTiles project's reader gives (tile id less the level's first).
        for (z, x, y, d) in [
            (3, 5, 2, 55),
            (10, 543, 374, 889_921),
            (14, 8700, 5960, 227_823_386),
            (5, 31, 0, 1023),
        ] {
            assert_eq!(hilbert(z, x, y), d, "{z}/{x}/{y}");
        }
        // Every position once, each a step from the one before.
        for z in 2..6u8 {
            let n = 1u32 << z;
            let mut cells: Vec<(u64, u32, u32)> = (0..n)
                .flat_map(|x| (0..n).map(move |y| (hilbert(z, x, y), x, y)))
                .collect();
            cells.sort();
            for (i, w) in cells.windows(2).enumerate() {
                assert_eq!(w[0].0, i as u64);
                let step = w[0].1.abs_diff(w[1].1) + w[0].2.abs_diff(w[1].2);
                assert_eq!(step, 1, "z{z} {w:?}");
            }
        }
    }
}
