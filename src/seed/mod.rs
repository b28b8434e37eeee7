//! `tessera seed`: a tileset's pyramid, made by tessera's engine tile by tile as `serve` makes
//! them (so that the bytes are the same), on a rayon pool of `threads`, compressed there as
//! the sink wants, and put into the [`TileSink`] by one writer in tile-id order (zoom by zoom,
//! along the Hilbert curve: a PMTiles archive comes out clustered).

use crate::archive::hilbert;
use crate::source::Cancel;
use crate::tiles::engine::EngineTiles;
use crate::tiles::matrix::{TileCoord, TileMatrixSet};
use crate::tiles::{Compression, SinkError, TileError, TileSink, TileSource};
use geo_types::Rect;
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// In CRS84; the data's extent when absent.
    pub bbox: Option<Rect<f64>>,
    pub threads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Invalid(String),
    #[error("tile {z}/{x}/{y}: {source}")]
    Tile {
        z: u8,
        x: u32,
        y: u32,
        #[source]
        source: TileError,
    },
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// One zoom level's tiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoomReport {
    pub z: u8,
    /// Tiles put in the sink.
    pub written: u64,
    /// Tiles with nothing in them, left out.
    pub empty: u64,
    /// Tiles identical to one written before (an archive stores them once).
    pub duplicates: u64,
    /// Bytes put, as stored (compressed as the sink wants).
    pub bytes: u64,
    /// The largest tile made, uncompressed.
    pub largest: u64,
    /// Tiles taken as they were from an older archive (`--update`).
    pub kept: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub zooms: Vec<ZoomReport>,
    pub elapsed: Duration,
}

/// How far a run is: tiles done of all, at zoom `z`.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub z: u8,
}

/// Tiles made at once before the writer takes them: enough to keep every thread busy, few
/// enough that their bytes stay small in memory.
const BATCH: usize = 512;

/// The tiles a run makes, level by level, each in tile-id order.
#[derive(Debug, Clone)]
pub struct Pyramid {
    levels: Vec<(u8, Vec<TileCoord>)>,
}

impl Pyramid {
    /// The tiles of `engine` in `tms` that `options` asks for, or why the request cannot be
    /// met: checked before anything is written.
    pub fn plan(
        engine: &EngineTiles,
        tms: &TileMatrixSet,
        options: &SeedOptions,
    ) -> Result<Pyramid, SeedError> {
        Ok(Pyramid {
            levels: levels(engine, tms, options)?,
        })
    }

    pub fn total(&self) -> u64 {
        self.levels.iter().map(|(_, c)| c.len() as u64).sum()
    }
}

/// The tiles of an archive that a run may keep: those whose query box (with the widest
/// buffer of any layer, and a pixel) is away from `changed` (in CRS84), at the zooms the
/// archive has, are taken from `old` as stored (compressed as the sink wants) instead of
/// being made again.
pub struct Reuse<'a> {
    pub changed: Rect<f64>,
    pub zooms: (u8, u8),
    /// The archive's layers: a run of other layers does not reuse it.
    pub layers: Vec<String>,
    pub old: &'a (dyn Fn(TileCoord) -> Result<Option<Vec<u8>>, TileError> + Sync),
}

/// How a run goes: its threads, the runtime for sources without blocking reads (PostGIS),
/// where progress is told, and what it may keep of an older archive.
pub struct Context<'a> {
    pub threads: usize,
    pub runtime: &'a tokio::runtime::Handle,
    pub progress: &'a (dyn Fn(Progress) + Sync),
    pub reuse: Option<Reuse<'a>>,
}

/// A tile, ready for the writer.
struct Made {
    coord: TileCoord,
    /// As the sink wants them; empty when the tile has nothing.
    bytes: Vec<u8>,
    /// Its size uncompressed; `None` for a tile kept from an older archive.
    plain: Option<u64>,
}

/// The tiles of `pyramid`, made by `engine`, put into `sink`, which is finished at the end (a
/// run that fails leaves it unfinished: nothing appears under its name).
pub fn run(
    engine: &EngineTiles,
    tms: &TileMatrixSet,
    pyramid: &Pyramid,
    mut sink: Box<dyn TileSink>,
    cx: &Context<'_>,
) -> Result<Report, SeedError> {
    let started = Instant::now();
    let total = pyramid.total();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cx.threads.max(1))
        .build()
        .map_err(|e| SeedError::Invalid(format!("threads: {e}")))?;
    let gzip = sink.wants() == Compression::Gzip;
    // The widest reach of a layer's tile beyond its edges, as a share of the tile, and a
    // pixel more.
    let reach = (engine.layers().iter())
        .map(|l| f64::from(l.tiling.buffer) / f64::from(l.tiling.extent.max(1)))
        .fold(0.0, f64::max)
        + 1.0 / f64::from(tms.tile_size.max(1));
    let cancel = Cancel::never();
    let mut report = Report::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut done = 0u64;
    for (z, coords) in &pyramid.levels {
        let z = *z;
        let mut level = ZoomReport {
            z,
            ..ZoomReport::default()
        };
        for batch in coords.chunks(BATCH) {
            let made: Vec<Result<Made, SeedError>> = pool.install(|| {
                batch
                    .par_iter()
                    .map(|&c| {
                        let failed = |source| SeedError::Tile {
                            z: c.z,
                            x: c.x,
                            y: c.y,
                            source,
                        };
                        if let Some(kept) = reused(cx.reuse.as_ref(), tms, c, reach) {
                            return Ok(Made {
                                coord: c,
                                bytes: kept.map_err(failed)?.unwrap_or_default(),
                                plain: None,
                            });
                        }
                        let rendered = match engine.render_blocking(tms, c, &cancel) {
                            Some(r) => r,
                            None => cx.runtime.block_on(engine.render(tms, c)),
                        }
                        .map_err(failed)?;
                        let plain = Some(rendered.bytes.len() as u64);
                        if rendered.bytes.is_empty() || !gzip {
                            let bytes = rendered.bytes.to_vec();
                            return Ok(Made {
                                coord: c,
                                bytes,
                                plain,
                            });
                        }
                        let mut gz = flate2::write::GzEncoder::new(
                            Vec::with_capacity(rendered.bytes.len() / 2),
                            flate2::Compression::default(),
                        );
                        gz.write_all(&rendered.bytes)
                            .and_then(|_| gz.finish())
                            .map(|bytes| Made {
                                coord: c,
                                bytes,
                                plain,
                            })
                            .map_err(|e| failed(TileError::Internal(format!("gzip: {e}"))))
                    })
                    .collect()
            });
            for tile in made {
                let tile = tile?;
                if tile.bytes.is_empty() {
                    level.empty += 1;
                    continue;
                }
                if !seen.insert(xxhash_rust::xxh3::xxh3_64(&tile.bytes)) {
                    level.duplicates += 1;
                }
                sink.put(tile.coord, &tile.bytes)?;
                level.written += 1;
                level.bytes += tile.bytes.len() as u64;
                match tile.plain {
                    Some(n) => level.largest = level.largest.max(n),
                    None => level.kept += 1,
                }
            }
            done += batch.len() as u64;
            (cx.progress)(Progress { done, total, z });
        }
        report.zooms.push(level);
    }
    sink.finish()?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The old archive's tile `c`, when `reuse` keeps it: at a zoom the archive has, and with the
/// tile's reach (`reach` of a tile around it) away from the change.
fn reused(
    reuse: Option<&Reuse<'_>>,
    tms: &TileMatrixSet,
    c: TileCoord,
    reach: f64,
) -> Option<Result<Option<Vec<u8>>, TileError>> {
    let reuse = reuse?;
    if !(reuse.zooms.0..=reuse.zooms.1).contains(&c.z) {
        return None;
    }
    let b = tms.bounds(c);
    let around = crate::crs::grow(b, b.width() * reach);
    match tms.to_crs84(around) {
        Ok(r) if crate::crs::intersection(&r, &reuse.changed).is_none() => Some((reuse.old)(c)),
        _ => None,
    }
}

/// The tiles of each level, in tile-id order: those over the data's extent, cut to the bbox.
fn levels(
    engine: &EngineTiles,
    tms: &TileMatrixSet,
    options: &SeedOptions,
) -> Result<Vec<(u8, Vec<TileCoord>)>, SeedError> {
    if options.min_zoom > options.max_zoom {
        return Err(SeedError::Invalid(format!(
            "--minzoom {} is above --maxzoom {}",
            options.min_zoom, options.max_zoom
        )));
    }
    if options.max_zoom > tms.max_level {
        return Err(SeedError::Invalid(format!(
            "--maxzoom {} is beyond {}'s deepest level, {}",
            options.max_zoom, tms.id, tms.max_level
        )));
    }
    let Some(extent) = engine.info().extent() else {
        return Err(SeedError::Invalid("the layers hold no feature".into()));
    };
    let area = match &options.bbox {
        None => extent,
        Some(b) => crate::crs::intersection(b, &extent).ok_or_else(|| {
            SeedError::Invalid(format!(
                "--bbox {},{},{},{} is outside the data ({:.5},{:.5},{:.5},{:.5})",
                b.min().x,
                b.min().y,
                b.max().x,
                b.max().y,
                extent.min().x,
                extent.min().y,
                extent.max().x,
                extent.max().y
            ))
        })?,
    };
    let mut out = Vec::new();
    for z in options.min_zoom..=options.max_zoom {
        let l = tms
            .limits(z, area)
            .map_err(|e| SeedError::Invalid(e.to_string()))?;
        let mut coords: Vec<TileCoord> = (l.min_col..=l.max_col)
            .flat_map(|x| (l.min_row..=l.max_row).map(move |y| TileCoord { z, x, y }))
            .collect();
        coords.sort_by_key(|c| hilbert(c.z, c.x, c.y));
        out.push((z, coords));
    }
    Ok(out)
}
