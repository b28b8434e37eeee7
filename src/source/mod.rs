//! Where features come from. Every backend of features (FlatGeobuf today, PostGIS tables
//! next) implements [`FeatureSource`]; nothing above this module knows which one it talks to.
//! Backends that give finished tiles instead (archives, `ST_AsMVT`) are tile sources, in the
//! tiles module above this one.
//!
//! The trait is async, as a database client is. A backend that reads files does its work on
//! tokio's blocking pool through [`blocking::run`], which stops the work when the caller's
//! future is dropped (a request that timed out, a client that left). Its synchronous reader
//! stays public, for tools that run without a runtime.

pub mod blocking;
pub mod flatgeobuf;
pub mod postgis;
pub mod tally;

use crate::crs::CrsError;
use crate::error::{ErrorKind, Kind};
use crate::temporal::Interval;
use geo_types::{Geometry, Rect};
use std::path::PathBuf;
use std::sync::Arc;

pub use blocking::Cancel;
pub use tally::{PixelGrid, Tally};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid FlatGeobuf file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    /// Rewritten in place: the version that was opened is gone. The new one is served once
    /// it opens cleanly ([`FeatureSource::refresh`]).
    #[error("{path}: the file was rewritten while it was being served")]
    Changed { path: PathBuf },
    #[error("{path}: {detail}")]
    Config { path: PathBuf, detail: String },
    #[error(transparent)]
    Crs(#[from] CrsError),
    /// The caller went away (timed out, disconnected); the work was stopped.
    #[error("the read was stopped: nobody waits for it any more")]
    Cancelled,
    /// The backend refuses the request as asked; the message is meant for the client.
    #[error("{0}")]
    Invalid(String),
    /// The backend cannot answer now (a database down, a pool exhausted).
    #[error("{0}")]
    Unavailable(String),
    /// A bug in a backend.
    #[error("{0}")]
    Internal(String),
}

impl Kind for SourceError {
    fn kind(&self) -> ErrorKind {
        match self {
            SourceError::Io { .. }
            | SourceError::Corrupt { .. }
            | SourceError::Changed { .. }
            | SourceError::Cancelled
            | SourceError::Unavailable(_) => ErrorKind::Unavailable,
            SourceError::Invalid(_) => ErrorKind::BadRequest,
            SourceError::Config { .. } | SourceError::Crs(_) | SourceError::Internal(_) => {
                ErrorKind::Internal
            }
        }
    }
}

/// The type of a property, as the OpenAPI document and queryables describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Boolean,
    Integer,
    Number,
    String,
    DateTime,
    /// JSON text or binary: returned, not filterable.
    Other,
}

impl FieldType {
    /// JSON Schema type name.
    pub fn json_type(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::String | FieldType::DateTime => "string",
            FieldType::Other => "object",
        }
    }
    /// Whether the property can be used as an equality filter in a query string.
    pub fn filterable(self) -> bool {
        !matches!(self, FieldType::Other)
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: FieldType,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// Raw JSON text (FlatGeobuf `Json` columns).
    Json(String),
}

impl Value {
    /// Equality as a query-string filter means it: numbers compare by value across types.
    pub fn matches(&self, wanted: &Value) -> bool {
        match (self, wanted) {
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == *b,
            (a, b) => a == b,
        }
    }
}

/// Feature ids are integers (position in the file, or an integer id property) or strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeatureId {
    Int(u64),
    String(String),
}

impl std::fmt::Display for FeatureId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeatureId::Int(i) => write!(f, "{i}"),
            FeatureId::String(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Feature {
    pub id: FeatureId,
    /// In CRS84 (lon, lat).
    pub geometry: Option<Geometry<f64>>,
    /// One value per field of [`SourceInfo::fields`], in the same order.
    pub properties: Vec<Value>,
}

/// What a source knows about itself once opened.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub fields: Vec<Field>,
    /// The property whose values are the feature ids, if one is. A tile does not repeat it
    /// as a property where it is already the MVT feature id.
    pub id_field: Option<usize>,
    /// Geometry type name as GeoJSON spells it (`MultiPolygon`, ...), or `Unknown`.
    pub geometry_type: String,
    pub storage_crs: u32,
    pub feature_count: u64,
    /// Extent in CRS84; `None` for an empty layer.
    pub extent: Option<Rect<f64>>,
    /// Extent of the temporal property, when the layer has one.
    pub temporal_extent: Option<Interval>,
}

/// A request for a page of features; every criterion is ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// In CRS84. Features whose geometry intersects any of these rectangles (or that have no
    /// geometry) match; empty means no spatial filter. A bbox across the antimeridian is two.
    pub bbox: Vec<Rect<f64>>,
    pub datetime: Option<Interval>,
    /// Equality on properties: (field index, value).
    pub equals: Vec<(usize, Value)>,
    pub offset: u64,
    pub limit: usize,
    /// A page's continuation ([`Page::next_after`] of the page before): a source that pages
    /// by key starts after it, however deep, and ignores `offset`.
    pub after: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub features: Vec<Feature>,
    /// How many features match in all: exact, unless `estimated`.
    pub number_matched: u64,
    /// `number_matched` is the database's estimate: counting them all would take too long.
    pub estimated: bool,
    /// Where the next page starts, for a source that pages by key ([`Query::after`]).
    pub next_after: Option<String>,
}

/// A backend several sources share, for `/health`: named without its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The configuration's id of the database (`postgresql` for one given on the command line).
    pub name: String,
    /// Whether its last read found it answering.
    pub answering: bool,
    /// How its tables' changes reach the tiles: `notified` (listening), `connecting` (to
    /// listen), `polled` (no table notifies).
    pub changes: &'static str,
}

/// Options a configured layer passes to its source.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub id_property: Option<String>,
    /// Without `id_property`: a property (any letter case) to take as the id if the source
    /// has it and its values are all present and unique (a quick look at an unknown file).
    pub id_if_unique: Option<String>,
    pub temporal_start: Option<String>,
    pub temporal_end: Option<String>,
    /// Overrides (or supplies) the CRS of the stored coordinates.
    pub storage_crs: Option<u32>,
}

/// What the tile engine asks for one tile of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct TileQuery {
    /// In CRS84: features whose bounding box meets it. The exact cut is the clip's job.
    pub bbox: Rect<f64>,
    /// In CRS84 degrees, the width and height of a pixel: a line whose bounding box is
    /// smaller than that on both axes, or a polygon whose box covers less than a pixel, would
    /// draw less than a pixel and is left out. Points, with an empty box, never are.
    pub pixel: [f64; 2],
    /// Field indices of the properties wanted; the others read as null.
    pub columns: Vec<usize>,
    /// At most this many features: those with the largest bounding boxes.
    pub max_features: usize,
    /// Where to count the features left out (under a pixel, past `max_features`), so that
    /// the tile can stand in for them; `None` counts nothing.
    pub tally: Option<Arc<PixelGrid>>,
}

impl TileQuery {
    /// A pixel in the units of a source's CRS, over `clipped` (the query box cut to the data,
    /// in CRS84) whose image there has `envelope`: for a projected CRS, the short side, so
    /// that nothing visible is skipped.
    pub fn pixel_in(&self, clipped: &Rect<f64>, envelope: &Rect<f64>, identity: bool) -> [f64; 2] {
        if identity {
            self.pixel
        } else if clipped.width() > 0.0 && clipped.height() > 0.0 {
            let per_degree =
                (envelope.width() / clipped.width()).min(envelope.height() / clipped.height());
            let side = self.pixel[0].min(self.pixel[1]) * per_degree;
            [side, side]
        } else {
            [0.0, 0.0]
        }
    }

    /// The tile's pixels seen from a source's CRS over `envelope` (`to_crs84` its way to
    /// CRS84), so that counting a feature reprojects nothing; `None` when nothing is counted.
    pub fn grid_in(
        &self,
        envelope: Rect<f64>,
        to_crs84: &crate::crs::Transformer,
    ) -> Option<std::borrow::Cow<'_, PixelGrid>> {
        let g = self.tally.as_deref()?;
        Some(if to_crs84.is_identity() {
            std::borrow::Cow::Borrowed(g)
        } else {
            std::borrow::Cow::Owned(g.reframed(envelope, |x, y| to_crs84.point(x, y).ok()))
        })
    }
}

/// What a source gives for one tile.
#[derive(Debug, Clone, Default)]
pub struct TileFeatures {
    /// The features to draw, in the source's order, geometry in CRS84.
    pub features: Vec<Feature>,
    /// The features left out, counted by pixel on [`TileQuery::tally`].
    pub left_out: Tally,
}

/// Which kinds of geometry a layer may hold, from its geometry type (GeoJSON's name): all
/// three for a mixed or unknown type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    pub areas: bool,
    pub lines: bool,
    pub points: bool,
}

impl Kinds {
    pub fn of(geometry_type: &str) -> Kinds {
        let (areas, lines, points) = match geometry_type {
            "Polygon" | "MultiPolygon" => (true, false, false),
            "LineString" | "MultiLineString" => (false, true, false),
            "Point" | "MultiPoint" => (false, false, true),
            _ => (true, true, true),
        };
        Kinds {
            areas,
            lines,
            points,
        }
    }
}

/// Whether a feature with a `w` × `h` bounding box draws less than a `pixel` (w, h).
pub fn too_small(w: f64, h: f64, pixel: [f64; 2], polygonal: bool) -> bool {
    let (x, y) = (w / pixel[0], h / pixel[1]);
    if polygonal {
        x * y < 1.0
    } else {
        x.max(y) > 0.0 && x < 1.0 && y < 1.0
    }
}

/// The tile reads of a backend whose reads block anyway (a file), callable with no runtime:
/// a caller can then read and encode a tile in one trip to the blocking pool, or in a rayon
/// worker, instead of awaiting the read and moving the features to another thread.
pub trait BlockingFeatures: Send + Sync {
    fn tile_features(&self, q: &TileQuery, cancel: &Cancel) -> Result<TileFeatures, SourceError>;
}

#[async_trait::async_trait]
pub trait FeatureSource: Send + Sync + std::fmt::Debug {
    /// What the source holds now; a source that follows its data (a file replaced on disk)
    /// gives a new one after each change. Its fields and geometry type never change.
    fn info(&self) -> Arc<SourceInfo>;

    /// A number that grows each time the data behind the source changes: what was made from
    /// the older data (a cached tile) is stale.
    fn revision(&self) -> u64 {
        0
    }

    /// A number that grows each time the data within `bbox` (CRS84) changes: a tile there
    /// made before is stale. A source that cannot tell where its data changed gives
    /// [`FeatureSource::revision`].
    fn revision_in(&self, _bbox: &Rect<f64>) -> u64 {
        self.revision()
    }

    /// Looks for a new version of the data and, when there is one that opens cleanly, serves
    /// it from now on (`Ok(true)`). When the new version cannot be served, the error says why
    /// and the last good version stays. Whoever serves the source calls it now and then.
    async fn refresh(&self) -> Result<bool, SourceError> {
        Ok(false)
    }

    /// Why the source does not serve its data as it stands, if it does not; meant for the
    /// public health report, so without server paths.
    fn problem(&self) -> Option<String> {
        None
    }

    /// The shared backend the source reads from (a database), as the public health report
    /// shows it; `None` for a source of its own (a file).
    fn backend(&self) -> Option<Backend> {
        None
    }

    /// The same tile reads without a runtime, when the backend blocks anyway.
    fn blocking(&self) -> Option<&dyn BlockingFeatures> {
        None
    }
    /// A page of the features that match `query`, and how many match in all.
    async fn query(&self, query: &Query) -> Result<Page, SourceError>;
    /// One feature by the id it is published under.
    async fn feature(&self, id: &str) -> Result<Option<Feature>, SourceError>;

    /// The features of one tile, and those it leaves out counted. The default goes through
    /// [`FeatureSource::query`]; a source with an index should skip what it can undecoded.
    async fn tile_features(&self, q: &TileQuery) -> Result<TileFeatures, SourceError> {
        let page = self
            .query(&Query {
                bbox: vec![q.bbox],
                limit: usize::MAX,
                ..Query::default()
            })
            .await?;
        // Sizing and ranking every feature is CPU work: not on the async threads.
        let q = q.clone();
        tokio::task::spawn_blocking(move || for_tile(page.features, &q))
            .await
            .map_err(|e| SourceError::Internal(format!("picking a tile's features: {e}")))
    }
}

/// What a tile keeps of `features`: those drawing at least a pixel, at most
/// `q.max_features` of them (the largest boxes), in their order; the others counted.
pub fn for_tile(features: Vec<Feature>, q: &TileQuery) -> TileFeatures {
    use geo::BoundingRect;
    let boxes: Vec<Option<Rect<f64>>> = (features.iter())
        .map(|f| f.geometry.as_ref().and_then(|g| g.bounding_rect()))
        .collect();
    let mut left_out = Tally::default();
    let mut count = |f: &Feature| {
        if let (Some(grid), Some(g)) = (&q.tally, &f.geometry) {
            left_out.add_geometry(grid, g);
        }
    };
    let mut keep: Vec<bool> = (features.iter().zip(&boxes))
        .map(|(f, b)| {
            let (w, h) = b.map_or((0.0, 0.0), |r| (r.width(), r.height()));
            let polygonal = matches!(
                f.geometry,
                Some(Geometry::Polygon(_) | Geometry::MultiPolygon(_))
            );
            let big = !too_small(w, h, q.pixel, polygonal);
            if !big {
                count(f);
            }
            big
        })
        .collect();
    let kept = keep.iter().filter(|k| **k).count();
    if kept > q.max_features {
        let size = |i: usize| boxes[i].map_or(0.0, |r| r.width() * r.height());
        let mut order: Vec<usize> = (0..features.len()).filter(|&i| keep[i]).collect();
        order.sort_by(|&a, &b| size(b).total_cmp(&size(a)).then(a.cmp(&b)));
        for &i in &order[q.max_features..] {
            keep[i] = false;
            count(&features[i]);
        }
    }
    let mut k = keep.into_iter();
    let mut features = features;
    features.retain(|_| k.next().unwrap_or(false));
    TileFeatures { features, left_out }
}
