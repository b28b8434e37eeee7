//! tessera: OGC API - Features (and soon Tiles) for Tuscan territorial data, every layer
//! classified by L.R. Toscana 65/2014.
//!
//! The data flows one way: [`source`] → features → [`server`] (HTTP). The [`catalogue`] says
//! what is published and how it is classified; [`config`] reads and validates what the operator
//! wrote.

pub mod catalogue;
pub mod config;
pub mod crs;
pub mod geojson;
pub mod server;
pub mod source;
pub mod styles;
pub mod temporal;
pub mod tiles;
