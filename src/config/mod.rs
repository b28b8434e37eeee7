//! The TOML configuration: parsed strictly (unknown keys are errors), `${ENV}` expanded first,
//! then validated into the typed layer catalogue. Every error names the file, the key and the fix.

mod env;
mod open;

use crate::catalogue::{CatalogueError, validate_id};
use crate::lr65::{
    Atto, Classificazione, Fase, Frequenza, StatoKind, Strumento, Struttura, TipoDiritto, Voce,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use env::expand_env;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error("layer `{layer}`: `{key}`: {message}")]
    Tiles {
        layer: String,
        key: String,
        message: String,
    },
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub databases: Vec<DatabaseConfig>,
    #[serde(default)]
    pub layers: Vec<LayerConfig>,
}

/// A PostgreSQL + PostGIS database layers are read from (`[[databases]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub id: String,
    /// `postgresql://user:password@host:port/db`; write the password as `${ENV}`.
    pub url: String,
    /// Schemas to look for tables in; every user schema when empty.
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Longest a statement may run, in milliseconds; then the request gets 503.
    #[serde(default = "default_statement_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// Matches counted exactly up to this many; above, items give the planner's estimate.
    #[serde(default = "default_exact_count_limit")]
    pub exact_count_limit: u64,
    /// Serve the tables neither a layer nor `tessera.layers` classifies, as unclassified
    /// previews. Off by default: a table is public only when someone said so.
    #[serde(default)]
    pub previews: bool,
    /// The CA certificate(s) that signed the database server's (PEM), to check it: with
    /// `sslmode=verify-full` in the URL, its name too. The system's CAs when absent.
    pub ca_file: Option<std::path::PathBuf>,
    /// Who makes the tables' tiles: tessera's engine, or PostGIS (`ST_AsMVT`).
    #[serde(default)]
    pub tiles: TileMaker,
}

/// Who makes a database's tiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TileMaker {
    /// The rows' geometry read as WKB and cut by tessera's engine (the faster: see README).
    #[default]
    Engine,
    /// `ST_AsMVT` in the database.
    StAsmvt,
}

fn default_pool_size() -> usize {
    8
}

fn default_exact_count_limit() -> u64 {
    crate::source::postgis::DEFAULT_EXACT_COUNT_LIMIT
}

fn default_statement_timeout_ms() -> u64 {
    10_000
}

impl DatabaseConfig {
    pub fn options(&self) -> crate::source::postgis::DatabaseOptions {
        crate::source::postgis::DatabaseOptions {
            id: self.id.clone(),
            url: self.url.clone(),
            schemas: self.schemas.clone(),
            pool_size: self.pool_size,
            statement_timeout: std::time::Duration::from_millis(self.statement_timeout_ms),
            exact_count_limit: self.exact_count_limit,
            ca_file: self.ca_file.clone(),
            st_asmvt: self.tiles == TileMaker::StAsmvt,
            keys: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; `--bind` overrides it.
    pub bind: String,
    /// The base URL clients see (behind a proxy). When absent, links are built from the
    /// request's `Host` header.
    pub public_url: Option<String>,
    /// Also use `X-Forwarded-Proto`/`X-Forwarded-Host`: only behind a proxy that sets them.
    pub trust_proxy_headers: bool,
    pub title: String,
    pub description: String,
    /// Items per page when the request has no `limit`.
    pub default_limit: u32,
    /// Largest page served; a larger `limit` is clamped to it (OGC API - Features 1, /req/core/fc-limit-response-1).
    pub max_limit: u32,
    /// `Cache-Control: max-age` for metadata and features, in seconds.
    pub cache_max_age: u32,
    /// Requests with a longer URL get 414.
    pub max_url_length: usize,
    /// Requests declaring a longer body get 413.
    pub max_body_bytes: u64,
    /// A query that reads for longer gets 503 (the client is answered; the read is dropped).
    pub request_timeout_secs: u64,
    /// Memory for finished tiles, in MB; 0 disables the cache. `TESSERA_TILE_CACHE_MB`
    /// overrides it.
    pub tile_cache_mb: u64,
    /// `Cache-Control: max-age` for tiles, in seconds.
    pub tile_max_age: u32,
    /// A request head must arrive within this many seconds; a kept-alive connection waits as
    /// long for its next request. Slower clients are disconnected.
    pub header_timeout_secs: u64,
    /// Connections open at once; past it, new ones wait and idle ones are closed.
    pub max_connections: usize,
    /// On SIGTERM or Ctrl-C, open connections get this many seconds to finish.
    pub shutdown_grace_secs: u64,
    /// Tiles made at once (each holds its features in memory); 0: twice the cores.
    pub max_renders: usize,
    /// Tiles waiting to be made; past it, a request gets 503 with `Retry-After`.
    pub max_queued_renders: usize,
    /// Which requests get a log line.
    pub access_log: AccessLog,
    /// Decimals of GeoJSON coordinates (degrees): 7 is about a centimetre.
    pub coordinate_decimals: u8,
    /// Where `/metrics` (Prometheus) is served, apart from the public address, e.g.
    /// `127.0.0.1:9184`; absent: no metrics.
    pub metrics_bind: Option<String>,
    /// Every so many seconds the layers' files are looked at, and a new version is served;
    /// 0: never (a new version needs a restart).
    pub watch_secs: u64,
    /// Raster tiles drawn under the HTML maps, as a URL template with `{z}`, `{x}` and `{y}`
    /// (e.g. a regional WMTS in Web Mercator, or OpenStreetMap's tiles); absent: no basemap,
    /// and the maps load nothing from anywhere but this server.
    pub basemap: Option<String>,
    /// Credit shown for the basemap (HTML allowed, e.g. a link to its licence).
    pub basemap_attribution: Option<String>,
    /// The bearer token of `POST /admin/reload` (write it as `${ENV}`); absent: no such route.
    pub admin_token: Option<String>,
}

/// Which requests get a log line (`server.access_log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLog {
    /// Every request.
    All,
    /// Errors (4xx, 5xx) and requests slower than a second: under heavy load the log stays
    /// small, and what needs a look is still there.
    Errors,
    Off,
}

impl AccessLog {
    pub fn logs(self, status: axum::http::StatusCode, latency: std::time::Duration) -> bool {
        match self {
            AccessLog::All => true,
            AccessLog::Errors => {
                status.is_client_error()
                    || status.is_server_error()
                    || latency >= std::time::Duration::from_secs(1)
            }
            AccessLog::Off => false,
        }
    }
}

impl ServerConfig {
    /// How GeoJSON coordinates are written (`coordinate_decimals`).
    pub fn precision(&self) -> crate::geojson::Precision {
        crate::geojson::Precision::decimals(self.coordinate_decimals)
    }

    /// `max_renders`, or twice the cores when it is 0.
    pub fn render_limit(&self) -> usize {
        match self.max_renders {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()) * 2,
            n => n,
        }
    }

    /// Settings the environment overrides: `TESSERA_TILE_CACHE_MB`.
    pub fn apply_env(&mut self) -> Result<(), String> {
        if let Ok(v) = std::env::var("TESSERA_TILE_CACHE_MB") {
            self.tile_cache_mb = v.trim().parse().map_err(|_| {
                format!(
                    "TESSERA_TILE_CACHE_MB=`{v}`: give the tile cache size in MB (0 disables it)"
                )
            })?;
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            trust_proxy_headers: false,
            title: "tessera".into(),
            description: "Dati territoriali della Toscana, ordinati secondo la L.R. 65/2014".into(),
            default_limit: 10,
            max_limit: 10_000,
            cache_max_age: 60,
            max_url_length: 8192,
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            tile_cache_mb: 256,
            tile_max_age: 3600,
            header_timeout_secs: 10,
            max_connections: 512,
            shutdown_grace_secs: 10,
            max_renders: 0,
            max_queued_renders: 256,
            access_log: AccessLog::All,
            coordinate_decimals: 7,
            watch_secs: 2,
            metrics_bind: None,
            basemap: None,
            basemap_attribution: None,
            admin_token: None,
        }
    }
}

/// Vector tiles of a layer, as written (`[layers.tiles]`); every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TilesConfig {
    pub minzoom: Option<u8>,
    pub maxzoom: Option<u8>,
    /// Tile units across a tile (MVT extent).
    pub extent: Option<u32>,
    /// Tile units drawn around the tile.
    pub buffer: Option<u32>,
    /// Whether features too small to draw are counted into stand-ins (default true).
    pub stand_ins: Option<bool>,
    /// Properties written into tiles; all of them when absent.
    pub properties: Option<Vec<String>>,
    /// Simplification tolerance in tile units (1/extent of the tile side).
    pub simplify: Option<f64>,
    /// Features, rings and lines under this many pixels (1/256 of a tile) are dropped.
    pub min_size: Option<f64>,
    pub max_features: Option<usize>,
    pub max_bytes: Option<usize>,
    /// Zoom ranges with their own detail (`[[layers.tiles.zoom]]`).
    #[serde(default)]
    pub zoom: Vec<ZoomConfig>,
}

/// A zoom range (inclusive) whose tiles keep a different detail; unset keys come from
/// `[layers.tiles]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoomConfig {
    pub from: u8,
    pub to: u8,
    pub properties: Option<Vec<String>>,
    pub simplify: Option<f64>,
    pub min_size: Option<f64>,
    pub max_features: Option<usize>,
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    pub id: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub license: LicenseConfig,
    pub attribution: String,
    pub publisher: PublisherConfig,
    pub frequency: Frequenza,
    pub source: SourceConfig,
    /// Property whose value is the feature id; without it the id is the feature's position.
    pub id_property: Option<String>,
    /// Properties holding the feature's time (instant, or start and end).
    pub temporal: Option<TemporalConfig>,
    /// EPSG code of the stored coordinates, when the file does not say.
    pub storage_crs: Option<u32>,
    /// True for demonstration data made by a generator: shown in metadata and HTML.
    #[serde(default)]
    pub synthetic: bool,
    /// Vector tile settings; the defaults when absent.
    pub tiles: Option<TilesConfig>,
    pub classificazione: Option<ClassificazioneConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseConfig {
    /// SPDX-style identifier, e.g. `CC-BY-4.0`.
    pub id: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherConfig {
    pub name: String,
    /// Code of the body in the IPA index (e.g. `r_toscan`).
    pub ipa: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SourceConfig {
    /// Path to a FlatGeobuf file, relative to the configuration file.
    Flatgeobuf(PathBuf),
    /// A table of a `[[databases]]` entry.
    Postgis(PostgisSourceConfig),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgisSourceConfig {
    /// The `id` of a `[[databases]]` entry.
    pub database: String,
    /// `schema.table` (or `table`, in schema `public`).
    pub table: String,
    /// The geometry column, when the table has several.
    pub geometry: Option<String>,
    /// The column identifying each feature, for a view (or instead of the primary key).
    pub key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalConfig {
    pub start: String,
    pub end: Option<String>,
}

/// The classification as written; turned into [`Classificazione`] by [`LayerConfig::classificazione`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificazioneConfig {
    pub struttura: Vec<Struttura>,
    pub stato: StatoKind,
    pub tipo_diritto: Option<TipoDiritto>,
    pub atto: Option<AttoConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttoConfig {
    pub strumento: Strumento,
    pub descrizione: String,
    pub numero: String,
    pub data: String,
    pub fase: Fase,
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (for messages); `None` when built from command-line sources only.
    pub path: Option<PathBuf>,
    pub server: ServerConfig,
    pub databases: Vec<DatabaseConfig>,
    pub layers: Vec<LayerConfig>,
    /// Folder that relative source paths are resolved against.
    pub base_dir: PathBuf,
    /// Each layer's classification, checked once at load (same order as `layers`).
    classified: Vec<Classificazione>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let expanded =
            expand_env(text, |k| std::env::var(k).ok()).map_err(|message| ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            })?;
        let file: ConfigFile = toml::from_str(&expanded).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: parse_message(&e),
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let mut server = file.server;
        server.apply_env().map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        let mut databases = file.databases;
        for d in &mut databases {
            // Like a layer's file, a CA file is found from the configuration's folder.
            if let Some(ca) = d.ca_file.as_mut().filter(|p| p.is_relative()) {
                *ca = base_dir.join(&*ca);
            }
        }
        let mut config = Config {
            path: Some(path.to_path_buf()),
            server,
            databases,
            layers: file.layers,
            base_dir,
            classified: Vec::new(),
        };
        config.classified = config.validate()?;
        Ok(config)
    }

    /// A configuration with no file: defaults (and the environment's overrides), and layers
    /// added by the caller.
    pub fn empty() -> Result<Config, ConfigError> {
        let mut server = ServerConfig::default();
        server.apply_env().map_err(|message| ConfigError::Parse {
            path: "<environment>".into(),
            message,
        })?;
        Ok(Config {
            path: None,
            server,
            databases: Vec::new(),
            layers: Vec::new(),
            base_dir: PathBuf::from("."),
            classified: Vec::new(),
        })
    }

    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone().unwrap_or_else(|| "<command line>".into()),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Checks everything that needs no data, and returns the layers' classifications.
    fn validate(&self) -> Result<Vec<Classificazione>, ConfigError> {
        let s = &self.server;
        if s.default_limit == 0 || s.max_limit == 0 || s.default_limit > s.max_limit {
            return Err(self.invalid(
                "server.default_limit",
                format!(
                    "default_limit ({}) and max_limit ({}) must be at least 1, with default_limit <= max_limit",
                    s.default_limit, s.max_limit
                ),
            ));
        }
        if s.coordinate_decimals > crate::geojson::Precision::MAX_DECIMALS {
            return Err(self.invalid(
                "server.coordinate_decimals",
                format!(
                    "{}: give from 0 to {} (7 decimals of a degree are about 1 cm)",
                    s.coordinate_decimals,
                    crate::geojson::Precision::MAX_DECIMALS
                ),
            ));
        }
        if s.header_timeout_secs == 0 {
            return Err(self.invalid("server.header_timeout_secs", "must be at least 1 (seconds)"));
        }
        if !(1..=100_000).contains(&s.max_connections) {
            return Err(self.invalid(
                "server.max_connections",
                format!(
                    "{}: give from 1 to 100000 (keep it under the open-file limit, `ulimit -n`)",
                    s.max_connections
                ),
            ));
        }
        if s.request_timeout_secs == 0 {
            return Err(self.invalid(
                "server.request_timeout_secs",
                "must be at least 1 (seconds)",
            ));
        }
        if let Some(url) = &s.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(self.invalid(
                "server.public_url",
                format!("`{url}` is not an absolute http(s) URL; write e.g. https://gis.example.it/tessera"),
            ));
        }
        if let Some(url) = &s.basemap
            && !((url.starts_with("http://") || url.starts_with("https://"))
                && ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)))
        {
            return Err(self.invalid(
                "server.basemap",
                format!("`{url}` is not an http(s) tile URL with {{z}}, {{x}} and {{y}}; write e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png"),
            ));
        }
        if let Some(t) = &s.admin_token
            && (t.trim().len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(self.invalid(
                "server.admin_token",
                "give at least 16 characters with no spaces (e.g. `openssl rand -hex 24`), best as ${TESSERA_ADMIN_TOKEN}",
            ));
        }
        if s.tile_cache_mb > 64 * 1024 {
            return Err(self.invalid(
                "server.tile_cache_mb",
                format!(
                    "{} MB is more than 64 GB; give the cache a size in MB, or 0 to disable it",
                    s.tile_cache_mb
                ),
            ));
        }
        let mut databases = std::collections::HashSet::new();
        for (i, d) in self.databases.iter().enumerate() {
            let key = format!("databases[{i}]");
            validate_id(&d.id).map_err(|m| self.invalid(format!("{key}.id"), m))?;
            if !databases.insert(d.id.as_str()) {
                return Err(self.invalid(format!("{key}.id"), "another database has this id"));
            }
            if !(d.url.starts_with("postgresql://") || d.url.starts_with("postgres://")) {
                return Err(self.invalid(
                    format!("{key}.url"),
                    "write a postgresql://user:${PASSWORD}@host:port/database URL",
                ));
            }
            if d.exact_count_limit > 1_000_000_000 {
                return Err(self.invalid(
                    format!("{key}.exact_count_limit"),
                    "give at most 1000000000 (counting is slower than reading a page from about 100000)",
                ));
            }
            if d.pool_size == 0 || d.statement_timeout_ms == 0 {
                return Err(self.invalid(
                    key.clone(),
                    "pool_size and statement_timeout_ms must be at least 1",
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut classified = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let key = format!("layers[{i}]");
            validate_id(&layer.id).map_err(|m| self.invalid(format!("{key}.id"), m))?;
            if !seen.insert(layer.id.as_str()) {
                return Err(self.invalid(
                    format!("{key}.id"),
                    format!(
                        "the id `{}` is used by another layer; ids must be unique",
                        layer.id
                    ),
                ));
            }
            for (field, value) in [
                ("title", &layer.title),
                ("description", &layer.description),
                ("attribution", &layer.attribution),
                ("publisher.name", &layer.publisher.name),
                ("publisher.ipa", &layer.publisher.ipa),
                ("license.id", &layer.license.id),
                ("license.url", &layer.license.url),
            ] {
                if value.trim().is_empty() {
                    return Err(self.invalid(format!("{key}.{field}"), "must not be empty"));
                }
            }
            if let SourceConfig::Postgis(p) = &layer.source {
                if !databases.contains(p.database.as_str()) {
                    return Err(self.invalid(
                        format!("{key}.source.postgis.database"),
                        format!("no [[databases]] entry has the id `{}`", p.database),
                    ));
                }
                // A table's key is its features' id, in its own CRS.
                for (set, what) in [
                    (layer.id_property.is_some(), "id_property"),
                    (layer.storage_crs.is_some(), "storage_crs"),
                ] {
                    if set {
                        return Err(self.invalid(
                            format!("{key}.{what}"),
                            "not for a PostGIS layer: its id is the table's primary key and its CRS the column's SRID",
                        ));
                    }
                }
            }
            classified.push(self.classify(i)?);
            if let Some(t) = &layer.tiles {
                self.validate_tiles(&format!("{key}.tiles"), t)?;
            }
        }
        Ok(classified)
    }

    fn validate_tiles(&self, key: &str, t: &TilesConfig) -> Result<(), ConfigError> {
        const MAX_ZOOM: u8 = 24;
        let (min, max) = (t.minzoom.unwrap_or(0), t.maxzoom.unwrap_or(16));
        if min > max || max > MAX_ZOOM {
            return Err(self.invalid(
                format!("{key}.maxzoom"),
                format!("minzoom ({min}) and maxzoom ({max}) must satisfy 0 <= minzoom <= maxzoom <= {MAX_ZOOM}"),
            ));
        }
        let extent = t.extent.unwrap_or(4096);
        if !(256..=16384).contains(&extent) {
            return Err(self.invalid(
                format!("{key}.extent"),
                format!("{extent}: the MVT extent must lie in 256..16384 (4096 is usual)"),
            ));
        }
        if t.buffer.unwrap_or(64) > extent / 2 {
            return Err(self.invalid(
                format!("{key}.buffer"),
                format!("at most half the extent ({})", extent / 2),
            ));
        }
        let details = std::iter::once((
            key.to_string(),
            t.simplify,
            t.min_size,
            t.max_features,
            t.max_bytes,
        ))
        .chain(t.zoom.iter().enumerate().map(|(i, z)| {
            (
                format!("{key}.zoom[{i}]"),
                z.simplify,
                z.min_size,
                z.max_features,
                z.max_bytes,
            )
        }));
        for (k, simplify, min_size, max_features, max_bytes) in details {
            for (name, v) in [("simplify", simplify), ("min_size", min_size)] {
                if let Some(v) = v
                    && !(v.is_finite() && (0.0..=1024.0).contains(&v))
                {
                    return Err(self.invalid(
                        format!("{k}.{name}"),
                        format!("{v}: give a number from 0 to 1024"),
                    ));
                }
            }
            if max_features == Some(0) {
                return Err(self.invalid(format!("{k}.max_features"), "at least 1"));
            }
            if max_bytes.is_some_and(|b| b < 1024) {
                return Err(self.invalid(format!("{k}.max_bytes"), "at least 1024 bytes"));
            }
        }
        for (i, z) in t.zoom.iter().enumerate() {
            if z.from > z.to || z.to > MAX_ZOOM {
                return Err(self.invalid(
                    format!("{key}.zoom[{i}]"),
                    format!(
                        "from ({}) and to ({}) must satisfy from <= to <= {MAX_ZOOM}",
                        z.from, z.to
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks layer `i`'s classification against the law (the rules are in [`lr65`]); every
    /// missing or contradictory part is refused with a message that lists the valid values.
    fn classify(&self, i: usize) -> Result<Classificazione, ConfigError> {
        let layer = &self.layers[i];
        let key = format!("layers[{i}].classificazione");
        let Some(c) = &layer.classificazione else {
            return Err(self.invalid(
                &key,
                format!(
                    "layer `{}` has no classification; add a [layers.classificazione] table with \
                     `struttura` (one or more of: {}) and `stato` (one of: {})",
                    layer.id,
                    Struttura::valid_values(),
                    StatoKind::valid_values()
                ),
            ));
        };
        let atto = c.atto.as_ref().map(|a| Atto {
            strumento: a.strumento,
            descrizione: a.descrizione.clone(),
            numero: a.numero.clone(),
            data: a.data.clone(),
            fase: a.fase,
        });
        Classificazione::new(&c.struttura, c.stato, c.tipo_diritto, atto)
            .map_err(|e| self.invalid(format!("{key}.{}", e.parte), e.message))
    }

    /// The typed classification of layer `i`, checked when the configuration was loaded.
    pub fn classificazione(&self, i: usize) -> &Classificazione {
        &self.classified[i]
    }

    /// A layer's source path, resolved against the configuration's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// Makes toml's message point at the line and keep the list of expected values.
fn parse_message(e: &toml::de::Error) -> String {
    let msg = e.to_string();
    let mut out = msg.trim_end().to_string();
    if msg.contains("unknown field") {
        out.push_str("\nfix: remove or rename the key; the valid keys are listed above");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(extra: &str) -> String {
        format!(
            r#"
[[layers]]
id = "comuni"
title = "Comuni"
description = "d"
license = {{ id = "CC-BY-4.0", url = "https://creativecommons.org/licenses/by/4.0/" }}
attribution = "ISTAT"
publisher = {{ name = "Regione Toscana", ipa = "r_toscan" }}
frequency = "annual"
source = {{ flatgeobuf = "comuni.fgb" }}
{extra}
"#
        )
    }

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("/etc/tessera.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn valid_layer_parses() {
        let c = Config::parse(
            &layer("classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }"),
            Path::new("/x/t.toml"),
        )
        .unwrap();
        assert_eq!(c.layers.len(), 1);
        assert_eq!(c.resolve(Path::new("a.fgb")), PathBuf::from("/x/a.fgb"));
        assert!(matches!(
            c.classificazione(0),
            Classificazione::Classificato {
                stato: crate::lr65::Stato::DiFatto,
                ..
            }
        ));
    }

    #[test]
    fn missing_classification_lists_values() {
        let e = err(&layer(""));
        assert!(e.contains("/etc/tessera.toml"), "{e}");
        assert!(e.contains("layers[0].classificazione"), "{e}");
        assert!(
            e.contains("idro_geomorfologica") && e.contains("di_diritto"),
            "{e}"
        );
    }

    #[test]
    fn invalid_struttura_lists_values() {
        let e = err(&layer(
            "classificazione = { struttura = [\"idraulica\"], stato = \"di_fatto\" }",
        ));
        assert!(
            e.contains("idraulica") && e.contains("agro_forestale"),
            "{e}"
        );
        assert!(e.contains("line"), "{e}");
    }

    #[test]
    fn diritto_needs_kind_and_act() {
        let e = err(&layer(
            "classificazione = { struttura = [\"base\"], stato = \"di_diritto\" }",
        ));
        assert!(
            e.contains("tipo_diritto") && e.contains("pericolosita"),
            "{e}"
        );
        let e = err(&layer(
            "classificazione = { struttura = [\"base\"], stato = \"di_diritto\", tipo_diritto = \"vincolo\" }",
        ));
        assert!(e.contains("atto") && e.contains("strumento"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = err(&format!(
            "{}\ncolour = 3",
            layer("classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }")
        ));
        assert!(e.contains("colour"), "{e}");
        let e = err("[server]\nbindd = \"x\"\n");
        assert!(e.contains("bindd") && e.contains("bind"), "{e}");
    }

    #[test]
    fn connection_settings_are_checked() {
        for (text, key) in [
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            (
                "[server]\nheader_timeout_secs = 0\n",
                "server.header_timeout_secs",
            ),
        ] {
            let e = err(text);
            assert!(e.contains(key), "{e}");
        }
        let c = Config::parse("[server]\nmax_connections = 64\n", Path::new("t.toml")).unwrap();
        assert_eq!(c.server.max_connections, 64);
        assert_eq!(c.server.header_timeout_secs, 10);
    }

    #[test]
    fn access_log_modes() {
        use axum::http::StatusCode;
        let fast = std::time::Duration::from_millis(3);
        let slow = std::time::Duration::from_secs(2);
        assert!(AccessLog::All.logs(StatusCode::OK, fast));
        assert!(!AccessLog::Errors.logs(StatusCode::OK, fast));
        assert!(AccessLog::Errors.logs(StatusCode::OK, slow));
        assert!(AccessLog::Errors.logs(StatusCode::NOT_FOUND, fast));
        assert!(AccessLog::Errors.logs(StatusCode::SERVICE_UNAVAILABLE, fast));
        assert!(!AccessLog::Off.logs(StatusCode::INTERNAL_SERVER_ERROR, slow));
        let c = Config::parse("[server]\naccess_log = \"errors\"\n", Path::new("t.toml")).unwrap();
        assert_eq!(c.server.access_log, AccessLog::Errors);
        assert!(err("[server]\naccess_log = \"some\"\n").contains("errors"));
    }

    #[test]
    fn bad_ids_are_refused() {
        let text = layer("classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }")
            .replace("\"comuni\"", "\"Comuni.v2\"");
        let e = err(&text);
        assert!(e.contains("layers[0].id") && e.contains("a-z"), "{e}");
    }
}
