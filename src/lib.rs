//! tessera: OGC API - Features and OGC API - Tiles for Tuscan territorial data, every layer
//! classified by L.R. Toscana 65/2014.
//!
//! The data flows one way: a [`source`] gives features → the items of the HTTP layer, or the
//! [`tiles`] engine → a tile source (and its cache) → [`server`] (HTTP). The modules stack in
//! that order, each importing only those below it:
//!
//! - [`lr65`], [`crs`], [`temporal`], [`error`]: the law's taxonomy, reprojection, time, kinds
//!   of failure; they import nothing of tessera.
//! - [`source`]: `FeatureSource` and the FlatGeobuf reader.
//! - [`tiles`]: the engine (plan, then encode), `TileSource`, its cache, `TileSink`.
//! - [`archive`]: PMTiles and MBTiles archives, as tile sinks.
//! - [`seed`]: a tileset's pyramid, made in parallel and put into a sink.
//! - [`catalogue`]: what is published, classified, and its tilesets; [`styles`] over it.
//! - [`config`]: the operator's TOML, validated once and opened into a catalogue.
//! - [`server`]: HTTP only; every error becomes a status in `server::error`.

pub mod archive;
pub mod catalogue;
pub mod config;
pub mod crs;
pub mod error;
pub mod geojson;
pub mod lr65;
pub mod seed;
pub mod server;
pub mod source;
pub mod styles;
pub mod temporal;
pub mod tiles;
