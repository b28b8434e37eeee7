//! The `tessera` command: `serve` and `check`.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tessera::catalogue::Catalogue;
use tessera::config::Config;
use tessera::lr65::Voce;
use tessera::server;

/// mimalloc: the tile engine allocates per feature, and it renders tiles 13-17 % faster than
/// with the system allocator (benches/tiles.rs, z12-z14 parcels).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "OGC API - Features for Tuscan territorial data, classified by L.R. 65/2014"
)]
struct Cli {
    /// Log as JSON lines instead of text (for log collectors).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the configured layers; with no config and no SOURCE, the bundled sample data.
    Serve {
        /// TOML configuration file.
        #[arg(long, short, env = "TESSERA_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on (overrides `server.bind`), e.g. 0.0.0.0:8080.
        #[arg(long, short)]
        bind: Option<String>,
        /// FlatGeobuf files or folders, or PostgreSQL connection strings
        /// (`postgresql://user@host/db`), to publish at once as unclassified preview layers.
        sources: Vec<PathBuf>,
    },
    /// Validate a configuration and its data, and print what would be published.
    Check {
        #[arg(long, short, env = "TESSERA_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Build a tileset's tile pyramid into a PMTiles or MBTiles archive, or a folder of
    /// `z/x/y.mvt` files: every layer (the whole dataset), those given with --layer, or a
    /// struttura's; the same tiles `serve` makes.
    Seed {
        #[arg(long, short, env = "TESSERA_CONFIG")]
        config: Option<PathBuf>,
        /// A collection to put in (repeatable, in this order); all of them when absent.
        #[arg(long = "layer")]
        layers: Vec<String>,
        /// A struttura of L.R. 65/2014 instead: its collections, as its tiles hold them.
        #[arg(long, conflicts_with = "layers")]
        struttura: Option<String>,
        /// 0 by default (with --update, the archive's).
        #[arg(long)]
        minzoom: Option<u8>,
        /// 14 by default (with --update, the archive's).
        #[arg(long)]
        maxzoom: Option<u8>,
        /// west,south,east,north in degrees (CRS84); the data's extent when absent.
        #[arg(long)]
        bbox: Option<String>,
        /// Threads that make tiles; all the cores when absent.
        #[arg(long)]
        threads: Option<usize>,
        /// `FILE.pmtiles`, `FILE.mbtiles` or a folder that does not exist yet.
        #[arg(
            long,
            short,
            required_unless_present = "update",
            conflicts_with = "update"
        )]
        output: Option<PathBuf>,
        /// A PMTiles archive seeded before, to make again only around --bbox (the area that
        /// changed) and rewrite, keeping its other tiles.
        #[arg(long, requires = "bbox")]
        update: Option<PathBuf>,
        /// FlatGeobuf files or folders, or PostgreSQL connection strings, as for `serve`.
        sources: Vec<PathBuf>,
    },
    /// Work on a PostGIS database's `tessera` schema.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Write the MapLibre styles (`tutto` and one per struttura) into a folder, for clients
    /// that load a style from a file; their tiles point at the server.
    Styles {
        #[arg(long, short, env = "TESSERA_CONFIG")]
        config: Option<PathBuf>,
        /// Base URL of the server the tiles come from; by default `server.public_url`, or
        /// http:// and `server.bind`.
        #[arg(long)]
        base_url: Option<String>,
        /// Folder to write `tutto.json` and `<struttura>.json` into.
        #[arg(long, short)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Create or migrate the `tessera` schema (the layers' classification and metadata, in
    /// `tessera.layers`) and install the triggers that notify tessera of changed rows on every
    /// geometry table; safe to run again, e.g. after adding tables.
    Init {
        /// The databases of this configuration (all, or the one given with --database).
        #[arg(long, short, env = "TESSERA_CONFIG")]
        config: Option<PathBuf>,
        /// The id of one `[[databases]]` entry of the configuration.
        #[arg(long)]
        database: Option<String>,
        /// A connection string (`postgresql://user@host/db`) instead of a configuration.
        url: Option<String>,
    },
}

/// The sample configuration: `sample-data/tessera.toml` here, or in the source tree.
fn bundled_config() -> Option<PathBuf> {
    [
        PathBuf::from("sample-data/tessera.toml"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/tessera.toml"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn load(config: Option<PathBuf>, sources: &[PathBuf]) -> Result<(Config, Catalogue), String> {
    let path = match config {
        Some(p) => Some(p),
        None if sources.is_empty() => Some(bundled_config().ok_or(
            "no --config given and the sample data (sample-data/tessera.toml) is not here: run from the tessera folder, or pass --config FILE or a FlatGeobuf file",
        )?),
        None => None,
    };
    let config = match &path {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::empty().map_err(|e| e.to_string())?,
    };
    let mut catalogue = config.open_catalogue().map_err(|e| error_chain(&e))?;
    // A SOURCE is a FlatGeobuf file or folder, or a PostgreSQL connection string.
    let (databases, files): (Vec<&PathBuf>, Vec<&PathBuf>) = sources.iter().partition(|p| {
        p.to_str()
            .is_some_and(|s| s.starts_with("postgresql://") || s.starts_with("postgres://"))
    });
    let files: Vec<PathBuf> = files.into_iter().cloned().collect();
    catalogue
        .add_previews(&files)
        .map_err(|e| error_chain(&e))?;
    for url in databases {
        catalogue
            .add_database_previews(&url.to_string_lossy())
            .map_err(|e| error_chain(&e))?;
    }
    for (what, why) in catalogue.unpublished() {
        tracing::warn!(%what, %why, "found but not published");
    }
    Ok((config, catalogue))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_json);
    match cli.command {
        Command::Check { config } => match load(config, &[]) {
            Ok((config, catalogue)) => {
                print_summary(&config, &catalogue);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tessera: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Seed {
            config,
            layers,
            struttura,
            minzoom,
            maxzoom,
            bbox,
            threads,
            output,
            update,
            sources,
        } => {
            let run = || {
                let (config, catalogue) = load(config, &sources)?;
                let threads = threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                let bbox = bbox.as_deref().map(parse_bbox).transpose()?;
                let chosen = (layers.as_slice(), struttura.as_deref());
                let request = SeedRequest {
                    zooms: (minzoom, maxzoom),
                    bbox,
                    threads,
                };
                match (output, update) {
                    (Some(output), _) => seed(&config, &catalogue, chosen, &request, &output, None),
                    (None, Some(archive)) => {
                        update_archive(&config, &catalogue, chosen, &request, &archive)
                    }
                    (None, None) => Err("give --output or --update".into()),
                }
            };
            match run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tessera: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Db {
            command:
                DbCommand::Init {
                    config,
                    database,
                    url,
                },
        } => match db_init(config, database.as_deref(), url.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tessera: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Styles {
            config,
            base_url,
            out,
        } => match load(config, &[]).and_then(|(config, catalogue)| {
            let base = base_url
                .or(config.server.public_url.clone())
                .unwrap_or_else(|| format!("http://{}", config.server.bind));
            write_styles(&config, &catalogue, base.trim_end_matches('/'), &out)
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tessera: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Serve {
            config,
            bind,
            sources,
        } => {
            no_transparent_huge_pages();
            // A reload opens the same configuration and sources again.
            let (path, again) = (config.clone(), sources.clone());
            let loader: server::Loader =
                std::sync::Arc::new(move || load(path.clone(), &again).map(|(_, c)| c));
            let (config, catalogue) = match load(config, &sources) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("tessera: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // Opening the layers (indexes, id scans) left garbage on this thread.
            return_memory();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                // mimalloc purges a thread's freed pages only when that thread allocates again:
                // a thread that served a burst of renders and then idles, or ends, would keep
                // them resident. Both give them back.
                .on_thread_park(return_memory_when_idle)
                .on_thread_stop(return_memory)
                // A blocking thread (renders, file reads) that idles a second ends, giving its
                // memory back; with tokio's 10 s the watcher's periodic file checks would keep
                // waking idle ones in turn, and none would ever end.
                .thread_keep_alive(std::time::Duration::from_secs(1))
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("tessera: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let bind = bind.unwrap_or_else(|| config.server.bind.clone());
            match runtime.block_on(run(config, catalogue, loader, &bind)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tessera: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// [`return_memory`] for a worker about to idle, at most once a second per thread (a busy
/// worker parks and wakes many times a second; the pages it frees are reused meanwhile).
fn return_memory_when_idle() {
    use std::cell::Cell;
    use std::time::{Duration, Instant};
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    let now = Instant::now();
    if LAST
        .get()
        .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
    {
        LAST.set(Some(now));
        return_memory();
    }
}

/// Turns transparent huge pages off for this process. The allocators give freed memory back
/// in 64 KiB pieces, and a 2 MiB page stays resident for a few live bytes. Measured on a
/// million parcels with 64 clients asking for cold tiles: peak RSS about 600 -> 510 MB, and
/// 30 s after the load about 360 -> 330 MB, at the same rate of tiles.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes integers only and sets a flag of this process.
        let done = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } == 0;
        if !done {
            tracing::debug!("transparent huge pages could not be turned off");
        }
    }
}

/// Gives the calling thread's free allocator memory back to the system.
fn return_memory() {
    // SAFETY: mi_collect only walks the calling thread's own heap; it takes no pointers and
    // is safe to call at any time from a thread that uses mimalloc.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Each style goes to a temporary file renamed into place, so no half-written style is left.
fn write_styles(
    config: &Config,
    catalogue: &Catalogue,
    base: &str,
    out: &Path,
) -> Result<(), String> {
    use tessera::lr65::Struttura;
    use tessera::styles::{self, Palette};
    let palette = Palette::default();
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut all = vec![(
        styles::ALL.to_string(),
        styles::everything(catalogue, &palette, base, &config.server.title),
    )];
    for s in Struttura::ALL {
        all.push((
            s.id().to_string(),
            styles::of_struttura(catalogue, &palette, base, *s),
        ));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (id, style) in all {
        let text = serde_json::to_string_pretty(&style).map_err(|e| e.to_string())? + "\n";
        files.push((format!("{id}.json"), text.into_bytes()));
    }
    // The sprite the styles name, so that the folder is complete.
    files.extend(styles::sprite::files(&palette));
    for (name, bytes) in files {
        let path = out.join(&name);
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

async fn run(
    config: Config,
    catalogue: Catalogue,
    loader: server::Loader,
    bind: &str,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let n = catalogue.layers().len();
    let app = server::AppState::new(catalogue, config.server.clone());
    let live = server::Live::new(app, Some(loader));
    server::watch_sources(&live);
    let url = match &config.server.public_url {
        Some(u) => u.clone(),
        None if addr.ip().is_unspecified() => format!("http://localhost:{}/", addr.port()),
        None => format!("http://{addr}/"),
    };
    // The first line on stdout is the URL: tests and scripts read it to find the port.
    println!("tessera: serving {n} collections at {url}");
    tracing::info!(%addr, collections = n, "listening");
    let metrics = match &config.server.metrics_bind {
        Some(m) => {
            let l = tokio::net::TcpListener::bind(m)
                .await
                .map_err(|e| format!("cannot listen on {m} (server.metrics_bind): {e}"))?;
            let at = l.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(%at, "metrics at http://{at}/metrics");
            Some(l)
        }
        None => None,
    };
    server::serve(listener, metrics, live)
        .await
        .map_err(|e| e.to_string())
}

/// `tessera db init`: the databases named, each brought to the current schema, with a report.
fn db_init(config: Option<PathBuf>, id: Option<&str>, url: Option<&str>) -> Result<(), String> {
    use tessera::source::postgis::{Database, DatabaseOptions};
    let targets: Vec<(String, DatabaseOptions)> = match (url, config) {
        (Some(_), Some(_)) => return Err("give a connection string or --config, not both".into()),
        (Some(u), None) => vec![("the database".into(), DatabaseOptions::new(u))],
        (None, Some(path)) => {
            let config = Config::load(&path).map_err(|e| e.to_string())?;
            let chosen: Vec<_> = (config.databases.iter())
                .filter(|d| id.is_none_or(|i| d.id == i))
                .map(|d| (format!("database {}", d.id), d.options()))
                .collect();
            if chosen.is_empty() {
                return Err(match id {
                    Some(i) => format!("{} has no [[databases]] entry `{i}`", path.display()),
                    None => format!("{} has no [[databases]]", path.display()),
                });
            }
            chosen
        }
        (None, None) => {
            return Err(
                "name the database: a postgresql:// connection string, or --config FILE".into(),
            );
        }
    };
    for (name, options) in targets {
        let db = std::sync::Arc::new(Database::new(&options).map_err(|e| e.to_string())?);
        let report = db
            .init(&options)
            .map_err(|e| format!("{name} ({}): {e}", db.name))?;
        if report.from == report.to {
            println!(
                "{name}: the tessera schema is up to date (version {})",
                report.to
            );
        } else if report.from == 0 {
            println!("{name}: created the tessera schema (version {})", report.to);
        } else {
            println!(
                "{name}: migrated the tessera schema from version {} to {}",
                report.from, report.to
            );
        }
        for t in &report.followed {
            println!("  {t}: changes notified");
        }
        for (t, why) in &report.not_followed {
            println!("  {t}: changes not notified ({why})");
        }
        println!(
            "  declare each table's classification in tessera.layers (grant the role tessera serves with: usage on schema tessera, select on tessera.layers)"
        );
    }
    Ok(())
}

fn print_summary(config: &Config, catalogue: &Catalogue) {
    if let Some(p) = &config.path {
        println!("{}: valid", p.display());
    }
    println!(
        "{} collections would be published:",
        catalogue.layers().len()
    );
    for l in catalogue.layers() {
        let info = l.source.info();
        let c = &l.meta.classificazione;
        let strutture: Vec<&str> = c.strutture().iter().map(|s| s.id()).collect();
        let stato = c.stato().map(|s| s.kind().id()).unwrap_or("anteprima");
        let extent = info
            .extent
            .map(|r| {
                format!(
                    "{:.4},{:.4},{:.4},{:.4}",
                    r.min().x,
                    r.min().y,
                    r.max().x,
                    r.max().y
                )
            })
            .unwrap_or_else(|| "empty".into());
        println!(
            "  {:<28} {:>8} {:<16} EPSG:{:<6} [{}] {}{}  bbox {}",
            l.meta.id,
            info.feature_count,
            info.geometry_type,
            info.storage_crs,
            strutture.join(","),
            stato,
            if l.meta.synthetic { " (sintetico)" } else { "" },
            extent
        );
    }
    if !catalogue.unpublished().is_empty() {
        println!("found but not published:");
        for (what, why) in catalogue.unpublished() {
            println!("  {what}: {why}");
        }
    }
    if !catalogue.conflicts().is_empty() {
        println!("declared twice:");
        for (layer, how) in catalogue.conflicts() {
            println!("  {layer}: {how}");
        }
    }
}

/// `--bbox west,south,east,north`.
fn parse_bbox(text: &str) -> Result<geo_types::Rect<f64>, String> {
    let v: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--bbox {text}: give west,south,east,north in degrees"))?;
    match v[..] {
        [w, s, e, n]
            if v.iter().all(|x| x.is_finite())
                && (-180.0..=180.0).contains(&w)
                && (-180.0..=180.0).contains(&e)
                && (-90.0..=90.0).contains(&s)
                && (-90.0..=90.0).contains(&n)
                && w < e
                && s < n =>
        {
            Ok(geo_types::Rect::new((w, s), (e, n)))
        }
        _ => Err(format!(
            "--bbox {text}: give west,south,east,north in degrees, west < east and south < north"
        )),
    }
}

/// `tessera seed`: the tileset chosen, its archive's metadata, the run with its progress,
/// and the summary.
/// What `tessera seed` was asked for; zooms not given come from the tileset (up to 14).
struct SeedRequest {
    zooms: (Option<u8>, Option<u8>),
    bbox: Option<geo_types::Rect<f64>>,
    threads: usize,
}

fn seed(
    config: &Config,
    catalogue: &Catalogue,
    (layers, struttura): (&[String], Option<&str>),
    request: &SeedRequest,
    output: &Path,
    reuse: Option<tessera::seed::Reuse<'_>>,
) -> Result<(), String> {
    use tessera::catalogue::TilesetId;
    use tessera::tiles::TileSource;
    let id = match (struttura, layers) {
        (Some(s), _) => {
            TilesetId::Struttura(tessera::lr65::Struttura::from_id(s).ok_or_else(|| {
                format!(
                    "there is no struttura `{s}`; the strutture are: {}",
                    tessera::lr65::Struttura::valid_values()
                )
            })?)
        }
        (None, []) => TilesetId::Dataset,
        (None, [one]) => TilesetId::Collection(one.clone()),
        (None, many) => TilesetId::Selection(many.to_vec()),
    };
    let ts = catalogue
        .tileset(&id, &config.server.title)
        .map_err(|e| e.to_string())?;
    // The engine's tiles, even for a database whose `serve` tiles PostGIS makes.
    let engine = ts.engine();
    let info = engine.info();
    if let Some(r) = &reuse {
        let ids: Vec<&str> = info.layers.iter().map(|l| l.id.as_str()).collect();
        if r.layers != ids {
            return Err(format!(
                "{} holds the layers {:?}; this tileset has {ids:?}: seed it anew with --output",
                output.display(),
                r.layers
            ));
        }
    }
    let (low, high) = info.zoom_range().unwrap_or((0, 14));
    let options = tessera::seed::SeedOptions {
        min_zoom: request.zooms.0.unwrap_or(low),
        max_zoom: request.zooms.1.unwrap_or(high.min(14)),
        bbox: request.bbox,
        threads: request.threads,
    };
    let options = &options;
    // Checked before the archive is begun: a bad request writes nothing.
    let tms = tessera::tiles::matrix::TileMatrixSet::web_mercator_quad();
    let pyramid =
        tessera::seed::Pyramid::plan(&engine, &tms, options).map_err(|e| e.to_string())?;
    let source = tessera::styles::StyleSource::new(&ts, &info, "");
    let mut tilejson = tessera::styles::tilejson::of(&ts.title, &info, &source);
    let (min, max) = (options.min_zoom, options.max_zoom);
    if let Some(map) = tilejson.as_object_mut() {
        map.remove("tiles");
    }
    tilejson["minzoom"] = min.into();
    tilejson["maxzoom"] = max.into();
    for l in tilejson["vector_layers"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        let clamp = |v: &serde_json::Value, d: u8| {
            v.as_u64()
                .map_or(d, |z| z.clamp(min.into(), max.into()) as u8)
        };
        l["minzoom"] = clamp(&l["minzoom"], min).into();
        l["maxzoom"] = clamp(&l["maxzoom"], max).into();
    }
    if let Some(b) = &options.bbox {
        tilejson["bounds"] = serde_json::json!([b.min().x, b.min().y, b.max().x, b.max().y]);
    }
    // The centre of what is seeded, at a zoom it has.
    if let Some(b) = tilejson["bounds"].as_array().cloned() {
        let f = |i: usize| b.get(i).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let z = tilejson["center"][2]
            .as_u64()
            .unwrap_or(min.into())
            .clamp(min.into(), max.into());
        tilejson["center"] = serde_json::json!([(f(0) + f(2)) / 2.0, (f(1) + f(3)) / 2.0, z]);
    }
    if !config.server.description.trim().is_empty() {
        tilejson["description"] = config.server.description.clone().into();
    }
    tilejson["tessera:classificazione"] = ts
        .layers
        .iter()
        .map(|l| (l.meta.id.clone(), l.meta.classificazione.to_json()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let meta = tessera::archive::ArchiveMeta { tilejson };
    let sink = tessera::archive::create(output, &meta).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} tiles, z{msg}, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // Not on a terminal (a batch job's log): a line every tenth of the way instead.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logged = std::sync::atomic::AtomicU64::new(0);
    let progress = |p: tessera::seed::Progress| {
        if terminal {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(p.z.to_string());
        } else {
            let tenth = p.done * 10 / p.total.max(1);
            if logged.fetch_max(tenth, std::sync::atomic::Ordering::Relaxed) < tenth {
                tracing::info!(done = p.done, total = p.total, zoom = p.z, "seeding");
            }
        }
    };
    let cx = tessera::seed::Context {
        threads: options.threads,
        runtime: runtime.handle(),
        progress: &progress,
        reuse,
    };
    let report =
        tessera::seed::run(&engine, &tms, &pyramid, sink, &cx).map_err(|e| error_chain(&e))?;
    bar.finish_and_clear();
    let (mut written, mut empty, mut duplicates, mut bytes, mut kept) = (0, 0, 0, 0, 0);
    println!("zoom  tiles  empty  same  bytes  largest (uncompressed)");
    for z in &report.zooms {
        println!(
            "{:>4} {:>6} {:>6} {:>5} {:>6} {:>8}",
            z.z,
            z.written,
            z.empty,
            z.duplicates,
            human(z.bytes),
            human(z.largest)
        );
        written += z.written;
        empty += z.empty;
        duplicates += z.duplicates;
        bytes += z.bytes;
        kept += z.kept;
    }
    let secs = report.elapsed.as_secs_f64();
    let once = match tessera::archive::Format::of(output) {
        tessera::archive::Format::Pmtiles => ", stored once",
        _ => "",
    };
    let kept = match kept {
        0 => String::new(),
        n => format!(", {n} kept as they were"),
    };
    println!(
        "{}: {written} tiles ({duplicates} the same as another{once}{kept}), {empty} empty left out, {} in {secs:.1} s ({:.0} tiles/s)",
        output.display(),
        human(bytes),
        (written + empty) as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// `tessera seed --update ARCHIVE --bbox …`: the archive made again over the data's extent
/// and its zooms, the tiles away from the bbox taken from it as they are, then put in its
/// place.
fn update_archive(
    config: &Config,
    catalogue: &Catalogue,
    chosen: (&[String], Option<&str>),
    request: &SeedRequest,
    archive: &Path,
) -> Result<(), String> {
    use tessera::archive::{Format, pmtiles_read::PmtilesSource};
    use tessera::tiles::{Compression, TileSource};
    if Format::of(archive) != Format::Pmtiles {
        return Err(format!(
            "--update {}: only PMTiles archives are updated yet; seed an MBTiles archive or a folder again",
            archive.display()
        ));
    }
    let changed = request
        .bbox
        .ok_or("--update needs --bbox: the area that changed")?;
    let old =
        PmtilesSource::open_file(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let h = old.header().clone();
    if h.tile_compression != Compression::Gzip {
        return Err(format!(
            "{}: its tiles are not gzipped as tessera's are: seed it anew with --output",
            archive.display()
        ));
    }
    // The archive keeps its area and, unless told otherwise, its zooms.
    let b = h.bounds;
    let request = SeedRequest {
        zooms: (
            request.zooms.0.or(Some(h.min_zoom)),
            request.zooms.1.or(Some(h.max_zoom)),
        ),
        bbox: Some(geo_types::Rect::new((b[0], b[1]), (b[2], b[3]))),
        threads: request.threads,
    };
    let read = |c| old.read_tile(c);
    let reuse = tessera::seed::Reuse {
        changed,
        zooms: (h.min_zoom, h.max_zoom),
        layers: old.info().layers.iter().map(|l| l.id.clone()).collect(),
        old: &read,
    };
    seed(config, catalogue, chosen, &request, archive, Some(reuse))
}

/// Bytes as KB or MB, for the summary.
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 10 << 20 => format!("{} MB", b >> 20),
        b if b >= 10 << 10 => format!("{} KB", b >> 10),
        b => format!("{b} B"),
    }
}
