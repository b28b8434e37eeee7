//! Vector tiles: the engine that makes them, the [`TileSource`] seam every producer of tiles
//! sits behind, the cache in front of it and the [`TileSink`] that archives fill. Nothing here
//! knows about HTTP, the configuration or the catalogue.
//!
//! A tile is made in two halves that `serve` and `seed` share. [`plan`]: for each layer, the
//! box to read (the tile and its buffer) and the pixel size under which features are skipped
//! undecoded; no I/O. Then the caller gets the features (awaited from each layer's
//! `FeatureSource`). [`encode`]: each geometry is projected into the tile matrix set, clipped,
//! simplified and snapped ([`shape`]), then written as MVT ([`mvt`]) within the budget
//! ([`budget`]); pure CPU work. [`engine::EngineTiles`] puts the halves together as a
//! `TileSource`; [`composite::Composite`] joins several sources in one tile;
//! [`cache::Cached`] keeps finished tiles in memory.
//!
//! **Tile budget.** Each layer has, per zoom, a `max_features` and a `max_bytes` limit. Over
//! `max_features` (seven eighths of it with stand-ins), the source keeps the features with
//! the largest bounding boxes. Over `max_bytes`, a layer of detailed outlines (over 16
//! vertices a feature on average) is shaped again with a simplification four times coarser;
//! if it is still too big, the smallest features (by area, then length; points last in file
//! order first) are left out until it fits. A tile therefore never exceeds the sum of its
//! layers' budgets.
//!
//! **Stand-ins.** What a tile leaves out (under a pixel, past `max_features`, over
//! `max_bytes`) is counted by pixel: the [`plan`] gives the source the tile's pixels as a
//! `PixelGrid`, the source counts what it skips, the encoder what it drops, and
//! [`stand_in`] draws each counted pixel (or cell of pixels, within half the byte budget) as
//! one feature carrying the count.

mod budget;
pub mod cache;
pub mod clip;
pub mod composite;
pub mod encode;
pub mod engine;
pub mod in_database;
mod kept;
pub mod limit;
pub mod matrix;
pub mod mvt;
pub mod plan;
pub mod shape;
pub mod sink;
mod source;
pub mod stand_in;
mod tiling;

pub use kept::kept;
pub use sink::{SinkError, TileSink};
pub use source::{Compression, TileLayerInfo, TileSource, TileSourceInfo, inflate_into};
pub use tiling::{LevelDetail, Tiling};

use crate::crs::CrsError;
use crate::error::{ErrorKind, Kind};
use crate::source::SourceError;

#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Crs(#[from] CrsError),
    /// Sources that cannot be served together, a tile asked for outside what a source has.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
    /// Too many tiles are being made and waiting already.
    #[error("too many tiles are being made right now")]
    Busy,
    /// One failure handed to every caller that waited for the same tile.
    #[error(transparent)]
    Shared(std::sync::Arc<TileError>),
}

impl Kind for TileError {
    fn kind(&self) -> ErrorKind {
        match self {
            TileError::Source(e) => e.kind(),
            TileError::Invalid(_) => ErrorKind::BadRequest,
            TileError::Crs(_) | TileError::Internal(_) => ErrorKind::Internal,
            TileError::Shared(e) => e.kind(),
            TileError::Busy => ErrorKind::Busy,
        }
    }
}
