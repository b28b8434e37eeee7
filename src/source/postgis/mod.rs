//! PostGIS tables as feature sources. A [`Database`] is a pool of connections (tokio-postgres,
//! deadpool) with a statement timeout; [`discover::tables`] finds what it holds; each geometry
//! column is a [`PostgisSource`]. Geometry travels as WKB, reprojected to CRS84 by PostGIS and
//! decoded here; properties come typed (the binary protocol, prepared statements).
//!
//! A tile's read skips what draws under a pixel in SQL, from the geometry's box, and returns
//! only those boxes, which are counted into the tile's stand-ins as a file's are.

pub mod as_mvt;
pub mod boxes;
pub mod discover;
pub mod follow;
pub mod schema;
pub mod sql;
pub mod time;
pub mod tls;

use crate::crs::Transformer;
use crate::source::{
    Feature, FeatureId, FeatureSource, Field, Page, Query, SourceError, SourceInfo, Tally,
    TileFeatures, TileQuery, Value,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use discover::Table;
use geo_types::{Coord, Geometry, Rect};
use geozero::ToGeo;
use sql::{Filter, ident};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How to reach a database, from the configuration or the command line.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// How `/health` names it: the configuration's id.
    pub id: String,
    /// `postgresql://user:password@host:port/db` (or the key=value form).
    pub url: String,
    /// Schemas to look for tables in; every user schema when empty.
    pub schemas: Vec<String>,
    pub pool_size: usize,
    pub statement_timeout: Duration,
    /// Matches counted exactly up to this many; above, `numberMatched` is the planner's
    /// estimate (counting a million rows takes longer than reading a page).
    pub exact_count_limit: u64,
    /// The CA that signed the server's certificate (PEM): see [`tls`].
    pub ca_file: Option<std::path::PathBuf>,
    /// Tiles made by PostGIS (`ST_AsMVT`, [`as_mvt`]) rather than by tessera's engine.
    pub st_asmvt: bool,
    /// Keys named by the configuration, for views (`tessera.layers` may name more).
    pub keys: Vec<discover::GivenKey>,
}

/// See [`DatabaseOptions::exact_count_limit`].
pub const DEFAULT_EXACT_COUNT_LIMIT: u64 = 100_000;

impl DatabaseOptions {
    pub fn new(url: &str) -> DatabaseOptions {
        DatabaseOptions {
            id: "postgresql".into(),
            url: url.to_string(),
            schemas: Vec::new(),
            pool_size: 8,
            statement_timeout: Duration::from_secs(10),
            exact_count_limit: DEFAULT_EXACT_COUNT_LIMIT,
            ca_file: None,
            st_asmvt: false,
            keys: Vec::new(),
        }
    }
}

/// A database's connections, shared by its tables' sources.
pub struct Database {
    pool: Pool,
    /// Host, port and database, never the password: for messages.
    pub name: String,
    /// The configuration's id, for `/health` (which names no address).
    id: String,
    /// Why the last read failed for want of the database, until one succeeds.
    failing: std::sync::Mutex<Option<String>>,
    /// Where and how to connect, TLS included.
    endpoint: tls::Endpoint,
    /// Who listens for the changes of the tables that notify them.
    listener: Arc<follow::Listener>,
    /// See [`DatabaseOptions::exact_count_limit`].
    exact_count_limit: u64,
    /// See [`DatabaseOptions::st_asmvt`].
    st_asmvt: bool,
    /// The listening task, stopped with the database (a reloaded catalogue has its own).
    listening: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(task) = self.listening.get_mut().ok().and_then(|t| t.take()) {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.name)
    }
}

/// A failure of the database, as a source error: a connection lost or refused, a timeout and
/// a table gone are `Unavailable`; the message names no password.
/// The start of every message that means the database is not there (down, restarting,
/// unreachable): only those mark its layers degraded in `/health`.
const OUTAGE: &str = "the database is not available";

pub(crate) fn error(e: tokio_postgres::Error) -> SourceError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return match code {
            // query_canceled: the statement timeout.
            "57014" => SourceError::Unavailable("the database took too long to answer".into()),
            // undefined_table, undefined_column: dropped or altered while served.
            "42P01" | "42703" => SourceError::Unavailable(format!(
                "the table changed in the database: {}",
                db.message()
            )),
            // A data exception: a value from the request does not fit its column's type.
            c if c.starts_with("22") => SourceError::Invalid(format!(
                "a value given does not fit its column: {}",
                db.message()
            )),
            c if c.starts_with("08") || c.starts_with("57") || c.starts_with("53") => {
                SourceError::Unavailable(format!("{OUTAGE}: {}", db.message()))
            }
            _ => SourceError::Internal(format!("the database refused a query: {}", db.message())),
        };
    }
    // No answer from the server (closed, refused, timed out) is an outage; anything else
    // (a value of the wrong type) is a bug here.
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io || e.to_string().contains("timed out") {
        return SourceError::Unavailable(format!("{OUTAGE}: the connection failed"));
    }
    SourceError::Internal(format!("reading from the database: {e}"))
}

fn pool_error(e: deadpool_postgres::PoolError) -> SourceError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => error(e),
        deadpool_postgres::PoolError::Timeout(_) => {
            SourceError::Unavailable(format!("{OUTAGE}: no connection came free in time"))
        }
        other => SourceError::Unavailable(format!("{OUTAGE}: {other}")),
    }
}

impl Database {
    /// A pool for `options` (nothing is connected yet: connections are made on first use,
    /// by the runtime that uses them).
    pub fn new(options: &DatabaseOptions) -> Result<Database, SourceError> {
        let mut endpoint = tls::prepare(&options.url, options.ca_file.as_deref())?;
        let config = &mut endpoint.config;
        // Tile and page reads are many and short: parallel workers cost more to start than
        // they save (a z12 read took 53 ms with two, 13 ms without), and under load there is
        // no core to give them; compiling a low-zoom scan (JIT) is slower than running it.
        config.options(format!(
            "-c statement_timeout={} -c max_parallel_workers_per_gather=0 -c jit=off",
            options.statement_timeout.as_millis()
        ));
        config.application_name("tessera");
        config.connect_timeout(options.statement_timeout);
        let name = describe(config);
        let manager = Manager::from_config(
            config.clone(),
            endpoint.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.statement_timeout))
            .create_timeout(Some(options.statement_timeout))
            .recycle_timeout(Some(options.statement_timeout))
            .build()
            .map_err(|e| SourceError::Internal(format!("the connection pool: {e}")))?;
        Ok(Database {
            pool,
            name,
            failing: std::sync::Mutex::new(None),
            id: options.id.clone(),
            endpoint,
            listener: Arc::default(),
            listening: Mutex::new(None),
            exact_count_limit: options.exact_count_limit,
            st_asmvt: options.st_asmvt,
        })
    }

    /// Notes whether a read found the database answering.
    fn track<T>(&self, r: Result<T, SourceError>) -> Result<T, SourceError> {
        let now = match &r {
            Ok(_) => None,
            Err(SourceError::Unavailable(m)) if m.starts_with(OUTAGE) => {
                Some("the database does not answer; requests get 503 until it does".to_string())
            }
            Err(_) => return r,
        };
        if let Ok(mut f) = self.failing.lock() {
            *f = now;
        }
        r
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, SourceError> {
        self.follow_changes();
        self.listener.read();
        self.pool.get().await.map_err(pool_error)
    }

    /// Starts listening for the followed tables' changes on the current runtime (the serving
    /// one: it is called on the way to every read), once. Until it listens nothing is cached
    /// that its start would not make stale.
    fn follow_changes(&self) {
        let l = &self.listener;
        if l.started.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if l.followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
            || l.started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let mut endpoint = self.endpoint.clone();
        // A connection that only waits: a peer gone silent is noticed within a minute.
        endpoint.config.keepalives_idle(Duration::from_secs(30));
        let task = runtime.spawn(follow::listen(
            endpoint,
            self.name.clone(),
            self.listener.clone(),
        ));
        *self
            .listening
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(task);
    }

    /// Runs `work` on a connection of its own, on a thread of its own with its own runtime,
    /// so that start-up and the command-line tools can call it from anywhere (the pool's
    /// connections belong to the serving runtime). The connection has the pool's timeouts
    /// and must find PostGIS installed.
    fn once<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl AsyncFnOnce(Arc<Database>, &mut tokio_postgres::Client) -> Result<T, SourceError>
        + Send
        + 'static,
    ) -> Result<T, SourceError> {
        let db = self.clone();
        let endpoint = self.endpoint.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| SourceError::Internal(e.to_string()))?;
            rt.block_on(async move {
                let (mut client, conn) = endpoint
                    .connect()
                    .await
                    .map_err(|e| start_error(&db.name, e))?;
                tokio::spawn(conn);
                let postgis: Option<String> = client
                    .query_opt(
                        "select extversion from pg_extension where extname = 'postgis'",
                        &[],
                    )
                    .await
                    .map_err(error)?
                    .map(|r| r.get(0));
                if postgis.is_none() {
                    return Err(SourceError::Unavailable(format!(
                        "{}: PostGIS is not installed in this database (`create extension postgis`)",
                        db.name
                    )));
                }
                work(db, &mut client).await
            })
        })
        .join()
        .map_err(|_| SourceError::Internal("a task on the database failed".into()))?
    }

    /// Opens the sources of every publishable table in `options.schemas`, says which were
    /// found but cannot be published, and reads the layers declared in `tessera.layers`.
    pub fn discover(self: &Arc<Self>, options: &DatabaseOptions) -> Result<Discovery, SourceError> {
        let schemas = options.schemas.clone();
        let mut keys = options.keys.clone();
        self.once(async move |db, client| {
            let declared = schema::declared(client).await?;
            keys.extend(declared.iter().filter_map(|d| {
                Some(discover::GivenKey {
                    schema: d.schema.clone(),
                    table: d.table.clone(),
                    column: d.key_column.clone()?,
                })
            }));
            let (tables, mut skipped) = discover::tables(&*client, &schemas, &keys).await?;
            let mut sources = Vec::with_capacity(tables.len());
            for t in tables {
                let label = t.label(true);
                match PostgisSource::describe(db.clone(), client, t).await {
                    Ok(s) => sources.push(s),
                    // One table's CRS unknown here leaves the others served.
                    Err(SourceError::Crs(e)) => skipped.push(discover::Skipped {
                        table: label,
                        reason: e.to_string(),
                    }),
                    Err(e) => return Err(e),
                }
            }
            Ok(Discovery {
                sources,
                skipped,
                declared,
            })
        })
    }

    /// `tessera db init`: creates or migrates the `tessera` schema and follows the tables.
    pub fn init(
        self: &Arc<Self>,
        options: &DatabaseOptions,
    ) -> Result<schema::InitReport, SourceError> {
        let schemas = options.schemas.clone();
        self.once(async move |_, client| schema::init(client, &schemas).await)
    }
}

/// What a database holds: the sources of its publishable tables, those it cannot publish,
/// and the layers its `tessera.layers` declares.
pub struct Discovery {
    pub sources: Vec<PostgisSource>,
    pub skipped: Vec<discover::Skipped>,
    pub declared: Vec<schema::Declared>,
}

/// Why a database cannot be reached at start-up, in words a person can act on.
fn start_error(name: &str, e: tokio_postgres::Error) -> SourceError {
    let detail = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        // The cause says what went wrong (a TLS handshake: which check failed).
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                let more = c.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                cause = c.source();
            }
            text
        }
    };
    SourceError::Unavailable(format!("cannot connect to the database {name}: {detail}"))
}

/// `host:port/database` of a connection config (no user or password).
fn describe(c: &tokio_postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", c.get_dbname().unwrap_or(""))
}

/// One geometry column of a table, published as a collection.
#[derive(Debug)]
pub struct PostgisSource {
    db: Arc<Database>,
    table: Table,
    /// What it holds, its extent grown by the changes notified.
    info: Arc<Mutex<Arc<SourceInfo>>>,
    /// The changes seen, which make tiles stale.
    changes: Arc<follow::Changes>,
    /// Set when a change notified leaves the feature count and extent to be read again.
    stale_count: Arc<AtomicBool>,
    /// When they were last read.
    measured: Mutex<Instant>,
    /// The median size of a feature's box (area for polygons, longest side for the others,
    /// in the table's units), from its first rows: whether a tile's features mostly draw.
    typical: Option<f64>,
    /// Every row's box in memory, for a large followed table (see [`boxes`]).
    boxes: Option<Arc<boxes::Boxes>>,
    /// For a table without change triggers: its row counters when last polled.
    counters: Mutex<i64>,
    /// The table's CRS to CRS84 and back, for the pixel sizes and grids of tiles.
    to_crs84: Transformer,
    from_crs84: Transformer,
    /// `select` list of the key, the properties and the geometry.
    columns: String,
    /// A name for a row's box in tile queries that no column of the table has.
    box_alias: String,
}

impl PostgisSource {
    async fn describe(
        db: Arc<Database>,
        client: &tokio_postgres::Client,
        table: Table,
    ) -> Result<PostgisSource, SourceError> {
        let to_crs84 = Transformer::new(table.srid, 4326)?;
        let from_crs84 = Transformer::new(4326, table.srid)?;
        let Measured {
            extent,
            count,
            time,
        } = measure(client, &table, &to_crs84).await?;
        let typical = typical_size(client, &table).await?;
        let counters = if table.followed {
            0
        } else {
            counters(client, &table).await?
        };
        let info = SourceInfo {
            fields: table
                .fields
                .iter()
                .map(|c| c.field.clone())
                .collect::<Vec<Field>>(),
            id_field: Some(table.key),
            geometry_type: table.geometry_type.clone(),
            storage_crs: table.srid,
            feature_count: count,
            extent,
            temporal_extent: time,
        };
        let info = Arc::new(Mutex::new(Arc::new(info)));
        let changes = Arc::new(follow::Changes::default());
        let stale_count = Arc::new(AtomicBool::new(false));
        // The boxes in memory only where notices keep them in step, for a large table with an
        // integer key.
        let boxes = (table.followed
            && (boxes::MIN_ROWS..=boxes::MAX_ROWS).contains(&count)
            && table.fields[table.key].field.kind == crate::source::FieldType::Integer)
            .then(Arc::default);
        if table.followed {
            let followers = db.listener.followers.lock();
            (followers.unwrap_or_else(PoisonError::into_inner)).push(Arc::new(follow::Follower {
                table: table.clone(),
                to_crs84: to_crs84.clone(),
                boxes: boxes.clone(),
                changes: changes.clone(),
                info: info.clone(),
                stale_count: stale_count.clone(),
            }));
        }
        let mut columns: Vec<String> = table.fields.iter().map(sql::select).collect();
        columns.push(sql::geometry_wkb(&table));
        Ok(PostgisSource {
            db,
            info,
            changes,
            stale_count,
            measured: Mutex::new(Instant::now()),
            counters: Mutex::new(counters),
            typical,
            boxes,
            to_crs84,
            from_crs84,
            columns: columns.join(", "),
            box_alias: (0..)
                .map(|k| format!("tessera_box{k}"))
                .find(|a| table.fields.iter().all(|c| &c.name != a) && a != &table.geometry)
                .unwrap_or_default(),
            table,
        })
    }

    /// The table as `schema.name`.
    pub fn table_label(&self, several: bool) -> String {
        self.table.label(several)
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Makes columns `start` (and `end`) the layer's time, what `datetime` filters on (see
    /// [`time`]), and reads the interval they span; on an error nothing changes.
    pub fn set_time(&mut self, start: &str, end: Option<&str>) -> Result<(), SourceError> {
        let mut table = self.table.clone();
        table.time = Some(time::columns(&table, start, end)?);
        // Only the times: the count and extent were measured at discovery.
        let sql = format!(
            "select first, last, open, open_start from (select {} from {}) e",
            time::extent_select(&table),
            table.quoted()
        );
        let row = (self.db)
            .once(async move |_, client| client.query_one(&sql, &[]).await.map_err(error))?;
        self.table = table;
        let mut info = self.info.lock().unwrap_or_else(PoisonError::into_inner);
        *info = Arc::new(SourceInfo {
            temporal_extent: time::extent(row.get(0), row.get(1), row.get(2), row.get(3)),
            ..(**info).clone()
        });
        Ok(())
    }

    /// A row of `select {columns}` as a feature.
    fn feature(&self, row: &tokio_postgres::Row) -> Result<Feature, SourceError> {
        row_feature(&self.table, row, 0)
    }

    /// The key column, qualified by its table: in `order by`, a bare name would be the
    /// selected (cast) column of that name, which no index serves.
    fn key(&self) -> String {
        format!(
            "{}.{}",
            self.table.quoted(),
            ident(&self.table.fields[self.table.key].name)
        )
    }
}

/// The table's exact extent in CRS84 (the statistics' estimate leaves out the edges, and
/// tiles are read within it) and its row count.
/// A table's extent (CRS84), row count, and the interval its times span.
struct Measured {
    extent: Option<Rect<f64>>,
    count: u64,
    time: Option<crate::temporal::Interval>,
}

async fn measure(
    client: &impl tokio_postgres::GenericClient,
    table: &Table,
    to_crs84: &Transformer,
) -> Result<Measured, SourceError> {
    let (g, t) = (ident(&table.geometry), table.quoted());
    // One scan for all of them.
    let sql = format!(
        "with e as (select ST_Extent({g}) as b, count(*) as n, {} from {t})
         select ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b), n, first, last, open, open_start
         from e",
        time::extent_select(table)
    );
    let row = client.query_one(&sql, &[]).await.map_err(error)?;
    let time = time::extent(row.get(5), row.get(6), row.get(7), row.get(8));
    let count: i64 = row.get(4);
    let extent = match row.get::<_, Option<f64>>(0) {
        Some(x0) if count > 0 => {
            let r = Rect::new(
                Coord {
                    x: x0,
                    y: row.get(1),
                },
                Coord {
                    x: row.get(2),
                    y: row.get(3),
                },
            );
            Some(to_crs84.rect(r)?)
        }
        _ => None,
    };
    Ok(Measured {
        extent,
        count: count.max(0) as u64,
        time,
    })
}

/// The median size of the boxes of the first 10,000 rows: see [`PostgisSource::typical`].
async fn typical_size(
    client: &impl tokio_postgres::GenericClient,
    table: &Table,
) -> Result<Option<f64>, SourceError> {
    let g = ident(&table.geometry);
    let size = match table.geometry_type.as_str() {
        "Polygon" | "MultiPolygon" => "(ST_XMax(b) - ST_XMin(b)) * (ST_YMax(b) - ST_YMin(b))",
        _ => "greatest(ST_XMax(b) - ST_XMin(b), ST_YMax(b) - ST_YMin(b))",
    };
    let sql = format!(
        "select percentile_cont(0.5) within group (order by {size})
         from (select {g}::box2d as b from {} where {g} is not null limit 10000) s",
        table.quoted()
    );
    let row = client.query_one(&sql, &[]).await.map_err(error)?;
    Ok(row.get::<_, Option<f64>>(0))
}

/// The statistics' row counters of a table without change triggers (of a view, those of the
/// tables it reads): they move when rows are written, within a second or so of the commit.
async fn counters(
    client: &impl tokio_postgres::GenericClient,
    table: &Table,
) -> Result<i64, SourceError> {
    let row = client
        .query_one(
            "select coalesce(sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del + s.n_live_tup), 0)::int8
             from pg_stat_user_tables s
             where s.relid = $1::text::regclass
                or s.relid in (select d.refobjid from pg_rewrite r
                               join pg_depend d on d.objid = r.oid
                                   and d.classid = 'pg_rewrite'::regclass
                               where r.ev_class = $1::text::regclass)",
            &[&table.quoted()],
        )
        .await
        .map_err(error)?;
    Ok(row.get(0))
}

/// The feature in `row` whose key, properties and geometry are the columns from `at` on, in
/// the order of `select {columns}`.
fn row_feature(
    table: &Table,
    row: &tokio_postgres::Row,
    at: usize,
) -> Result<Feature, SourceError> {
    let mut properties = Vec::with_capacity(table.fields.len());
    for (i, c) in table.fields.iter().enumerate() {
        properties.push(value(row, at + i, c.field.kind));
    }
    let id = match &properties[table.key] {
        Value::Int(i) if *i >= 0 => FeatureId::Int(*i as u64),
        Value::Int(i) => FeatureId::String(i.to_string()),
        Value::String(s) => FeatureId::String(s.clone()),
        // A key is never null; a key of another type is refused at discovery.
        other => FeatureId::String(format!("{other:?}")),
    };
    let wkb: Option<&[u8]> = row.get(at + table.fields.len());
    Ok(Feature {
        id,
        geometry: wkb.map(decode).transpose()?,
        properties,
    })
}

fn value(row: &tokio_postgres::Row, i: usize, kind: crate::source::FieldType) -> Value {
    use crate::source::FieldType;
    // A value that does not read as its type (text that is not UTF-8 in a SQL_ASCII
    // database) is null rather than a failure; so is a NaN, which JSON cannot hold.
    match kind {
        FieldType::Integer => {
            (row.try_get::<_, Option<i64>>(i).ok().flatten()).map_or(Value::Null, Value::Int)
        }
        FieldType::Number => (row.try_get::<_, Option<f64>>(i).ok().flatten())
            .filter(|v| v.is_finite())
            .map_or(Value::Null, Value::Float),
        FieldType::Boolean => {
            (row.try_get::<_, Option<bool>>(i).ok().flatten()).map_or(Value::Null, Value::Bool)
        }
        FieldType::String | FieldType::DateTime => (row.try_get::<_, Option<String>>(i).ok())
            .flatten()
            .map_or(Value::Null, Value::String),
        FieldType::Other => {
            (row.try_get::<_, Option<String>>(i).ok().flatten()).map_or(Value::Null, Value::Json)
        }
    }
}

fn decode(wkb: &[u8]) -> Result<Geometry<f64>, SourceError> {
    geozero::wkb::Wkb(wkb.to_vec())
        .to_geo()
        .map_err(|e| SourceError::Internal(format!("a geometry from the database: {e}")))
}

#[async_trait::async_trait]
impl FeatureSource for PostgisSource {
    fn info(&self) -> Arc<SourceInfo> {
        self.info
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn revision(&self) -> u64 {
        self.changes.revision()
    }

    fn revision_in(&self, bbox: &Rect<f64>) -> u64 {
        self.changes.revision_in(bbox)
    }

    /// A followed table's changes come as notices; this only reads its feature count and
    /// extent again after some (at most once a minute: both scan the table). A table without
    /// triggers is polled: when its row counters moved, all of it is stale.
    async fn refresh(&self) -> Result<bool, SourceError> {
        self.db.follow_changes();
        self.load_boxes();
        match self.db.track(self.poll().await) {
            // An outage is reported by `/health` already, and polled again next time.
            Err(SourceError::Unavailable(_)) => Ok(false),
            r => r,
        }
    }

    /// The database's state as the last read found it (for `/health`; no address in it).
    fn problem(&self) -> Option<String> {
        self.db.failing.lock().ok()?.clone()
    }

    fn backend(&self) -> Option<crate::source::Backend> {
        Some(crate::source::Backend {
            name: self.db.id.clone(),
            answering: self.problem().is_none(),
            changes: self.db.listener.state(),
        })
    }

    async fn query(&self, q: &Query) -> Result<Page, SourceError> {
        self.db.track(self.read_page(q).await)
    }

    async fn feature(&self, id: &str) -> Result<Option<Feature>, SourceError> {
        self.db.track(self.read_feature(id).await)
    }

    async fn tile_features(&self, q: &TileQuery) -> Result<TileFeatures, SourceError> {
        self.db.track(self.read_tile(q).await)
    }
}

/// Where a tile's features lie, in a table's CRS.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// The query box's envelope.
    r: Rect<f64>,
    /// A pixel's width and height.
    pixel: [f64; 2],
    polygonal: bool,
}

/// How far past the extent boxes are cut, in degrees (about 10 cm): the extent went through
/// one reprojection here and the boxes go through PostGIS's, and a feature on the extent's
/// edge must not fall between them.
const EDGE: f64 = 1e-6;

impl PostgisSource {
    /// Whether its database's tiles are made by PostGIS ([`DatabaseOptions::st_asmvt`]).
    pub fn tiled_by_postgis(&self) -> bool {
        self.db.st_asmvt
    }

    /// The extent, a hair larger ([`EDGE`]).
    fn reach(&self) -> Option<Rect<f64>> {
        self.info().extent.map(|e| crate::crs::grow(e, EDGE))
    }

    /// See [`FeatureSource::refresh`].
    async fn poll(&self) -> Result<bool, SourceError> {
        let due = || {
            self.stale_count.load(Ordering::Acquire)
                && (self.measured.lock().unwrap_or_else(PoisonError::into_inner)).elapsed()
                    >= Duration::from_secs(60)
        };
        if self.table.followed && !due() {
            return Ok(false);
        }
        let client = self.db.client().await?;
        let changed = if self.table.followed {
            false
        } else {
            let now = counters(&**client, &self.table).await?;
            let mut seen = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
            let moved = *seen != now;
            *seen = now;
            moved
        };
        if changed {
            self.changes.everything();
            self.stale_count.store(true, Ordering::Relaxed);
        }
        if changed || due() {
            self.stale_count.store(false, Ordering::Release);
            let Measured {
                extent,
                count,
                time,
            } = measure(&**client, &self.table, &self.to_crs84).await?;
            *self.measured.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
            let mut info = self.info.lock().unwrap_or_else(PoisonError::into_inner);
            // Never narrower than before: a change notified meanwhile may lie outside what
            // was measured, and tiles are read only within the extent.
            let extent = match (extent, info.extent) {
                (Some(a), Some(b)) => Some(crate::crs::union(a, b)),
                (a, b) => a.or(b),
            };
            *info = Arc::new(SourceInfo {
                extent,
                feature_count: count,
                temporal_extent: time,
                ..(**info).clone()
            });
        }
        Ok(changed)
    }

    async fn read_page(&self, q: &Query) -> Result<Page, SourceError> {
        let mut f = Filter::default();
        // Boxes cut to the data first: a world box has no image in a national CRS.
        let boxes: Vec<Rect<f64>> = (q.bbox.iter())
            .filter_map(|b| crate::crs::intersection(b, &self.reach()?))
            .collect();
        if !q.bbox.is_empty() && boxes.is_empty() {
            f.conditions.push("false".into());
        }
        f.bbox(&self.table, &boxes);
        for (i, v) in &q.equals {
            f.equals(&self.table.fields[*i], v);
        }
        // A row without a key (a view's, that nothing keeps from being NULL) cannot be
        // named or paged past: it is not a feature.
        if self.table.key_given {
            f.conditions.push(format!("{} is not null", self.key()));
        }
        // Without a time property every feature matches `datetime` (as for files).
        if let (Some(want), Some(tc)) = (&q.datetime, self.table.time) {
            time::filter(&mut f, &self.table, tc, want);
        }
        let t = self.table.quoted();
        let (matching, bound) = (f.clause(), f.params.len());
        // Keyset paging: after the last key of the page before, by the key's index, however
        // deep; `offset` only when there is none.
        let start = match &q.after {
            Some(after) => {
                let key = self.key_param(&mut f, after).ok_or_else(|| {
                    SourceError::Invalid(format!(
                        "cursor=`{}` is not a key of this collection: follow the `next` link as given",
                        after.escape_debug()
                    ))
                })?;
                f.conditions.push(format!("{} > {key}", self.key()));
                String::new()
            }
            None => format!(" offset {}", f.bind(q.offset.min(i64::MAX as u64) as i64)),
        };
        let limit = f.bind(q.limit.min(i64::MAX as usize) as i64);
        // A first page of few matches is counted in the same read: the page is sorted from
        // all of them anyway.
        let together = q.after.is_none() && q.offset == 0 && self.few_match(q, &boxes)?;
        let page_sql = format!(
            "select {}{} from {t}{} order by {} limit {limit}{start}",
            self.columns,
            if together { ", count(*) over ()" } else { "" },
            f.clause(),
            self.key()
        );
        let refs = f.refs();
        let page = async {
            let client = self.db.client().await?;
            client.query(&page_sql, &refs).await.map_err(error)
        };
        let (rows, (number_matched, estimated)) = if together {
            let rows = page.await?;
            let at = self.table.fields.len() + 1;
            let n = rows.first().map_or(0, |r| r.get::<_, i64>(at));
            (rows, (n.max(0) as u64, false))
        } else {
            // The page and the count on two connections at once.
            let count = self.count(&t, &matching, &refs[..bound]);
            futures_util::try_join!(page, count)?
        };
        let features: Vec<Feature> = rows
            .iter()
            .map(|r| self.feature(r))
            .collect::<Result<_, _>>()?;
        // The next page starts after this one's last key.
        let next_after = (features.len() == q.limit)
            .then(|| features.last())
            .flatten()
            .and_then(|f| match &f.properties[self.table.key] {
                Value::Int(i) => Some(i.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            });
        Ok(Page {
            features,
            number_matched,
            estimated,
            next_after,
        })
    }

    /// Whether surely at most `exact_count_limit` rows match `q` (cut to `boxes`), from what is
    /// known without asking: the boxes in memory, or the row count.
    fn few_match(&self, q: &Query, boxes: &[Rect<f64>]) -> Result<bool, SourceError> {
        let limit = self.db.exact_count_limit;
        if !q.equals.is_empty() {
            return Ok(false);
        }
        if q.bbox.is_empty() {
            return Ok(self.info().feature_count <= limit / 2);
        }
        let Some(index) = &self.boxes else {
            return Ok(false);
        };
        let mut envelopes = Vec::with_capacity(boxes.len());
        for b in boxes {
            envelopes.push(boxes::envelope(&self.from_crs84.area(*b)?.envelope));
        }
        // Boxes that meet the query's: as many as match, or more.
        let candidates = index.read(|tree| {
            (envelopes.iter())
                .map(|e| tree.locate_in_envelope_intersecting(e).count() as u64)
                .sum::<u64>()
        });
        Ok(candidates.is_some_and(|n| n <= limit))
    }

    /// How many rows match `clause`: counted when the planner expects at most the database's
    /// `exact_count_limit` (and there are at most that many), else the planner's estimate.
    async fn count(
        &self,
        t: &str,
        clause: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<(u64, bool), SourceError> {
        let client = self.db.client().await?;
        let limit = self.db.exact_count_limit;
        let plan = client
            .query(&format!("explain select 1 from {t}{clause}"), params)
            .await
            .map_err(error)?;
        // The top line reads `… (cost=… rows=N width=…)`.
        let estimate = (plan.first())
            .and_then(|r| r.try_get::<_, String>(0).ok())
            .and_then(|line| {
                let rows = line.split("rows=").nth(1)?;
                rows.split_whitespace().next()?.parse::<u64>().ok()
            })
            .unwrap_or(0);
        // Far above the limit: counting up to it would be wasted.
        if estimate > limit.saturating_mul(4) {
            return Ok((estimate, true));
        }
        let sql = format!(
            "select count(*) from (select 1 from {t}{clause} limit {}) s",
            limit + 1
        );
        let n = client
            .query_one(&sql, params)
            .await
            .map_err(error)?
            .get::<_, i64>(0) as u64;
        Ok(match n > limit {
            false => (n, false),
            true => (estimate.max(n), true),
        })
    }

    /// `$n` bound to `text` as the key's own type, or `None` when it cannot be one.
    fn key_param(&self, f: &mut Filter, text: &str) -> Option<String> {
        let key = &self.table.fields[self.table.key];
        Some(match key.field.kind {
            crate::source::FieldType::Integer => match text.parse::<i64>() {
                Ok(i) if i.to_string() == text => format!("{}::int8", f.bind(i)),
                _ => return None,
            },
            // Cast to the column's type (uuid, varchar…), so that its index serves.
            _ => format!(
                "cast({}::text as {})",
                f.bind(text.to_string()),
                key.sql_type
            ),
        })
    }

    async fn read_feature(&self, id: &str) -> Result<Option<Feature>, SourceError> {
        let mut f = Filter::default();
        // The key column as it is, so that its index serves the lookup.
        let Some(param) = self.key_param(&mut f, id) else {
            return Ok(None);
        };
        let sql = format!(
            "select {} from {} where {} = {param}",
            self.columns,
            self.table.quoted(),
            self.key()
        );
        let client = self.db.client().await?;
        let row = match client.query_opt(&sql, &f.refs()).await.map_err(error) {
            // An id that is no value of the key's type (not a uuid…) names no feature.
            Err(SourceError::Invalid(_)) => return Ok(None),
            r => r?,
        };
        row.map(|r| self.feature(&r)).transpose()
    }

    /// Where a tile's features lie in the table's CRS, and a pixel there; `None` when the
    /// tile misses the data.
    fn window(&self, q: &TileQuery) -> Result<Option<Window>, SourceError> {
        let info = self.info();
        let Some(extent) = info.extent else {
            return Ok(None);
        };
        let Some(clipped) = crate::crs::intersection(&q.bbox, &crate::crs::grow(extent, EDGE))
        else {
            return Ok(None);
        };
        let r = self.from_crs84.area(clipped)?.envelope;
        Ok(Some(Window {
            pixel: q.pixel_in(&clipped, &r, self.from_crs84.is_identity()),
            r,
            polygonal: matches!(info.geometry_type.as_str(), "Polygon" | "MultiPolygon"),
        }))
    }

    /// The rows whose box meets `r` (in the table's CRS), each with its box as the column
    /// `box_alias` (named so that no column of the table can be mistaken for it); and the
    /// parameters holding `r`'s lower corner.
    fn boxes_in(&self, f: &mut Filter, r: &Rect<f64>) -> (String, String, String) {
        let (x0, y0, x1, y1) = (
            f.bind(r.min().x),
            f.bind(r.min().y),
            f.bind(r.max().x),
            f.bind(r.max().y),
        );
        let g = ident(&self.table.geometry);
        let sql = format!(
            "(select {g}::box2d as {bx}, * from {} where {g} && ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, {srid})) s",
            self.table.quoted(),
            bx = ident(&self.box_alias),
            srid = self.table.srid
        );
        (sql, x0, y0)
    }

    /// The condition that a row of [`PostgisSource::boxes_in`] draws at least a pixel: the
    /// same test as `too_small`, in SQL, on the box.
    fn drawn(&self, f: &mut Filter, w: &Window) -> String {
        let bx = ident(&self.box_alias);
        let (px, py) = (f.bind(w.pixel[0]), f.bind(w.pixel[1]));
        let (width, height) = (
            format!("(ST_XMax({bx}) - ST_XMin({bx}))"),
            format!("(ST_YMax({bx}) - ST_YMin({bx}))"),
        );
        if w.polygonal {
            format!("{width} / {px} * {height} / {py} >= 1")
        } else {
            format!("(({width} = 0 and {height} = 0) or {width} >= {px} or {height} >= {py})")
        }
    }

    async fn read_tile(&self, q: &TileQuery) -> Result<TileFeatures, SourceError> {
        let Some(w) = self.window(q)? else {
            return Ok(TileFeatures::default());
        };
        let Window {
            r,
            pixel,
            polygonal,
        } = w;
        let bx = ident(&self.box_alias);
        let mut f = Filter::default();
        let (boxes, x0, y0) = self.boxes_in(&mut f, &r);
        // What draws at least a pixel: the same test as `too_small`, in SQL, on the box
        // (named so that no column of the table can be mistaken for it).
        // Where most features draw (at high zooms), one read of every row in the tile costs
        // less than reading the drawn ones and counting the others in a second scan: the few
        // under a pixel are counted here.
        let one_pass = pixel[0] <= 0.0
            || (self.typical).is_some_and(|t| match polygonal {
                true => t >= 16.0 * pixel[0] * pixel[1],
                false => t >= 4.0 * pixel[0].max(pixel[1]),
            });
        if !one_pass && q.tally.is_some() {
            self.load_boxes();
            if let Some(done) = self.tile_from_boxes(q, r, pixel, polygonal).await? {
                return Ok(done);
            }
        }
        let big = if one_pass {
            "true".to_string()
        } else {
            self.drawn(&mut f, &w)
        };
        let drawn_sql = format!(
            "select ST_XMin({bx}), ST_YMin({bx}), ST_XMax({bx}), ST_YMax({bx}), {} from {boxes} where {big}",
            self.columns
        );
        let client = self.db.client().await?;
        let rows = client.query(&drawn_sql, &f.refs()).await.map_err(error)?;
        // What draws under a pixel, counted in the database by cells of half a pixel, so
        // that a million parcels at z6 cost a few thousand rows.
        let cells = match &q.tally {
            Some(grid) if !one_pass => {
                let (dx, dy) = (
                    f.bind(r.width() / (2.0 * grid.cols.max(1) as f64)),
                    f.bind(r.height() / (2.0 * grid.rows.max(1) as f64)),
                );
                let cover = if polygonal {
                    format!("(ST_XMax({bx}) - ST_XMin({bx})) * (ST_YMax({bx}) - ST_YMin({bx}))")
                } else {
                    format!(
                        "sqrt((ST_XMax({bx}) - ST_XMin({bx})) ^ 2 + (ST_YMax({bx}) - ST_YMin({bx})) ^ 2)"
                    )
                };
                // Each cell is placed at its features' mean centre, not its own: cells need
                // not line up with pixels, and one across a tile's edge splits right.
                let (cx, cy) = (
                    format!("(ST_XMin({bx}) + ST_XMax({bx})) / 2"),
                    format!("(ST_YMin({bx}) + ST_YMax({bx})) / 2"),
                );
                let cells_sql = format!(
                    "select avg({cx})::float8, avg({cy})::float8, count(*)::int8, sum({cover})::float8
                     from {boxes} where not {big}
                     group by floor(({cx} - {x0}) / {dx}), floor(({cy} - {y0}) / {dy})"
                );
                let rows = client.query(&cells_sql, &f.refs()).await.map_err(error)?;
                (rows.iter())
                    .map(|row| Cell {
                        centre: [row.get(0), row.get(1)],
                        count: row.get::<_, i64>(2).clamp(0, u32::MAX as i64) as u32,
                        cover: row.get::<_, Option<f64>>(3).unwrap_or(0.0),
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        drop(client);
        let q = q.clone();
        let this = Reader {
            table: self.table.clone(),
            to_crs84: self.to_crs84.clone(),
            polygonal,
            area_env: r,
            sort: (one_pass && pixel[0] > 0.0).then_some(pixel),
        };
        // Decoding and counting are CPU work: not on the async threads.
        tokio::task::spawn_blocking(move || this.pick(rows, cells, &q))
            .await
            .map_err(|e| SourceError::Internal(format!("reading a tile's rows: {e}")))?
    }
}

impl PostgisSource {
    /// Starts loading the table's boxes into memory, on the current runtime, once (again
    /// after they fell out of step).
    fn load_boxes(&self) {
        let Some(boxes) = self.boxes.clone() else {
            return;
        };
        // Not before the listener hears changes: what changed before would be missing.
        if boxes.loading.load(Ordering::Acquire)
            || !boxes.may_load()
            || !self.db.listener.hears()
            || tokio::runtime::Handle::try_current().is_err()
        {
            return;
        }
        if boxes.loading.swap(true, Ordering::AcqRel) {
            return;
        }
        let (db, table) = (self.db.clone(), self.table.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            // A change while they load may be missing from them: then again, a few times.
            for _ in 0..3 {
                let before = boxes.epoch();
                // Streamed: a million rows held at once would be a few hundred MB.
                let read = async {
                    use futures_util::TryStreamExt;
                    let client = db.client().await?;
                    let sql = boxes::rows_sql(&table, None);
                    let none: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
                    let rows = client.query_raw(&sql, none).await.map_err(error)?;
                    let mut rows = std::pin::pin!(rows);
                    let mut entries = Vec::new();
                    while let Some(row) = rows.try_next().await.map_err(error)? {
                        entries.extend(boxes::entry(&row));
                    }
                    Ok::<_, SourceError>(entries)
                };
                match read.await {
                    Ok(entries) => {
                        let b = boxes.clone();
                        let n = entries.len();
                        let set = tokio::task::spawn_blocking(move || b.set(entries, before));
                        if set.await.unwrap_or(false) {
                            tracing::info!(table = %table.label(false), rows = n, "boxes in memory: small features are counted without the database");
                            boxes.loaded_in(started.elapsed());
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(table = %table.label(false), error = %e, "the boxes could not be read; tiles are read from the database alone");
                        break;
                    }
                }
            }
            // Loaded again on the next change or refresh, in time.
            boxes.loaded_in(started.elapsed());
            boxes.loading.store(false, Ordering::Release);
        });
    }

    /// A tile whose features mostly do not draw, from the boxes in memory: those under a
    /// pixel counted here, the others (at most `max_features`) read by key, an index scan
    /// each, about what a box read costs a row. `None` when the boxes are not loaded.
    async fn tile_from_boxes(
        &self,
        q: &TileQuery,
        r: Rect<f64>,
        pixel: [f64; 2],
        polygonal: bool,
    ) -> Result<Option<TileFeatures>, SourceError> {
        let Some(boxes) = self.boxes.clone() else {
            return Ok(None);
        };
        let (q2, to_crs84) = (q.clone(), self.to_crs84.clone());
        // Walking the boxes is CPU work: not on the async threads.
        let picked = tokio::task::spawn_blocking(move || {
            boxes.read(|tree| {
                let grid = q2.grid_in(r, &to_crs84);
                let mut left_out = Tally::default();
                let mut count = |e: &boxes::Entry| {
                    if let Some(g) = &grid {
                        let (min, max) = (e.min.map(f64::from), e.max.map(f64::from));
                        left_out.add(g, min, max, polygonal);
                    }
                };
                let mut big: Vec<(f64, boxes::Entry)> = Vec::new();
                for e in tree.locate_in_envelope_intersecting(&boxes::envelope(&r)) {
                    let (w, h) = ((e.max[0] - e.min[0]) as f64, (e.max[1] - e.min[1]) as f64);
                    match crate::source::too_small(w, h, pixel, polygonal) {
                        true => count(e),
                        false => big.push((w * h, *e)),
                    }
                }
                // The largest first past `max_features`, as from the database.
                if big.len() > q2.max_features {
                    big.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.key.cmp(&b.1.key)));
                    big[q2.max_features..].iter().for_each(|(_, e)| count(e));
                    big.truncate(q2.max_features);
                }
                (
                    big.into_iter().map(|b| b.1.key).collect::<Vec<i64>>(),
                    left_out,
                )
            })
        })
        .await
        .map_err(|e| SourceError::Internal(format!("reading a tile's boxes: {e}")))?;
        let Some((keys, left_out)) = picked else {
            return Ok(None);
        };
        let mut features = Vec::with_capacity(keys.len());
        if !keys.is_empty() {
            let sql = format!(
                "select {} from {} where {} = any($1::int8[]) order by {}",
                self.columns,
                self.table.quoted(),
                self.key(),
                self.key()
            );
            let client = self.db.client().await?;
            let rows = client.query(&sql, &[&keys]).await.map_err(error)?;
            drop(client);
            for row in &rows {
                features.push(self.feature(row)?);
            }
        }
        Ok(Some(TileFeatures { features, left_out }))
    }
}

/// Features under a pixel, counted in the database: a cell's centre (in the table's CRS), how
/// many, and what their boxes cover (area, or length for lines, in the table's units).
struct Cell {
    centre: [f64; 2],
    count: u32,
    cover: f64,
}

/// What picking a tile's rows needs, off the async threads.
struct Reader {
    table: Table,
    to_crs84: Transformer,
    polygonal: bool,
    area_env: Rect<f64>,
    /// The pixel, when the rows under one are among those read, to be counted here.
    sort: Option<[f64; 2]>,
}

impl Reader {
    fn pick(
        &self,
        rows: Vec<tokio_postgres::Row>,
        cells: Vec<Cell>,
        q: &TileQuery,
    ) -> Result<TileFeatures, SourceError> {
        let grid = q.grid_in(self.area_env, &self.to_crs84);
        let mut left_out = Tally::default();
        if let Some(g) = &grid {
            for c in &cells {
                left_out.add_many(g, c.centre, c.count, c.cover, self.polygonal);
            }
        }
        // The drawn ones, largest boxes first past `max_features` (the rest counted).
        let mut big: Vec<(f64, usize)> = Vec::with_capacity(rows.len());
        for (k, row) in rows.iter().enumerate() {
            let b = [row.get::<_, f64>(0), row.get(1), row.get(2), row.get(3)];
            let (w, h) = (b[2] - b[0], b[3] - b[1]);
            match self.sort {
                Some(pixel) if crate::source::too_small(w, h, pixel, self.polygonal) => {
                    if let Some(g) = &grid {
                        left_out.add(g, [b[0], b[1]], [b[2], b[3]], self.polygonal);
                    }
                }
                _ => big.push((w * h, k)),
            }
        }
        if big.len() > q.max_features {
            big.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for &(_, k) in &big[q.max_features..] {
                let r = &rows[k];
                if let Some(g) = &grid {
                    left_out.add(
                        g,
                        [r.get(0), r.get(1)],
                        [r.get(2), r.get(3)],
                        self.polygonal,
                    );
                }
            }
            big.truncate(q.max_features);
            big.sort_unstable_by_key(|b| b.1);
        }
        let features = (big.into_iter())
            .map(|(_, k)| row_feature(&self.table, &rows[k], 4))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TileFeatures { features, left_out })
    }
}
