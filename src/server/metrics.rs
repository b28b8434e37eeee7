//! Prometheus metrics in the text exposition format (0.0.4), on an address of their own
//! (`server.metrics_bind`): operators scrape it from inside, the public never sees it.
//!
//! Requests are counted by route template (`/collections/{collection_id}/items`, not each
//! URL, so the series stay few) and status, with a latency histogram per route. The rest is
//! read when scraped: the tile cache, the renders, open connections, failures of data
//! sources by what failed, and the resident memory.

use super::App;
use super::listen::Connections;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Requests at or under each bucket's bound (not cumulative here; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    seconds: f64,
}

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    routes: Mutex<HashMap<Arc<str>, RouteStats>>,
    /// By (what failed, kind of failure).
    failures: Mutex<BTreeMap<(String, &'static str), u64>>,
    connections: Connections,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            routes: Mutex::default(),
            failures: Mutex::default(),
            connections: Connections::default(),
        }
    }
}

impl Metrics {
    /// Where the listener counts connections.
    pub fn connections(&self) -> Connections {
        self.connections.clone()
    }

    fn record(&self, route: &str, status: u16, took: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if !routes.contains_key(route) {
            routes.insert(Arc::from(route), RouteStats::default());
        }
        let Some(stats) = routes.get_mut(route) else {
            return;
        };
        *stats.by_status.entry(status).or_default() += 1;
        let secs = took.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|&b| secs <= b) {
            stats.buckets[b] += 1;
        }
        stats.count += 1;
        stats.seconds += secs;
    }

    /// A data source or tile failure met while serving `what`, of `kind` (`unavailable`,
    /// `internal`, `timeout`, `busy`).
    pub fn failure(&self, what: &str, kind: &'static str) {
        let mut f = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        *f.entry((what.replace('`', ""), kind)).or_default() += 1;
    }
}

/// Inside the router, where the route is known: hands its template to [`track`] outside,
/// on the response.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(r) = route {
        res.extensions_mut().insert(r);
    }
    res
}

/// Outside every other layer, so that refusals before routing (400, 406, 414) and the time
/// to compress count: a request under its route template (`unmatched` when none matched).
pub async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let Some(metrics) = &app.metrics else {
        return next.run(req).await;
    };
    let start = Instant::now();
    let res = next.run(req).await;
    let route = res.extensions().get::<MatchedPath>();
    let route = route.map_or("unmatched", MatchedPath::as_str);
    metrics.record(route, res.status().as_u16(), start.elapsed());
    res
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `GET /metrics` on the metrics address.
pub async fn scrape(State(app): State<App>) -> Response {
    let Some(m) = &app.metrics else {
        return super::ApiError::not_found("metrics are off").into_response();
    };
    let mut out = String::with_capacity(8192);
    family(
        &mut out,
        "tessera_up_seconds",
        "gauge",
        "Seconds since the server started.",
    );
    let _ = writeln!(
        out,
        "tessera_up_seconds {}",
        m.started.elapsed().as_secs_f64()
    );
    let routes: Vec<(Arc<str>, RouteStats)> = {
        let r = m.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<_> = r.iter().map(|(k, s)| (k.clone(), s.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    out.push_str(
        "# HELP tessera_http_requests_total Requests answered, by route template and status.\n\
         # TYPE tessera_http_requests_total counter\n",
    );
    for (route, s) in &routes {
        for (status, n) in &s.by_status {
            let _ = writeln!(
                out,
                "tessera_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
    }
    out.push_str(
        "# HELP tessera_http_request_duration_seconds Time to answer, by route template.\n\
         # TYPE tessera_http_request_duration_seconds histogram\n",
    );
    for (route, s) in &routes {
        let route = escape(route);
        let mut below = 0;
        for (bound, n) in BUCKETS.iter().zip(s.buckets) {
            below += n;
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {below}"
            );
        }
        let _ = writeln!(
            out,
            "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
             tessera_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
             tessera_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
            s.count, s.seconds, s.count
        );
    }
    out.push_str(
        "# HELP tessera_source_failures_total Data sources or tiles that failed a request, by what and how.\n\
         # TYPE tessera_source_failures_total counter\n",
    );
    let failures = m
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for ((what, kind), n) in failures {
        let _ = writeln!(
            out,
            "tessera_source_failures_total{{what=\"{}\",kind=\"{kind}\"}} {n}",
            escape(&what)
        );
    }
    let (tiles, bytes) = app.tile_cache.usage().await;
    let cache = app.tile_cache.counts();
    let (running, queued) = app.renders.load();
    let degraded = (app.catalogue.layers().iter())
        .filter(|l| l.source.problem().is_some())
        .count();
    let gauges: [(&str, &str, &str, f64); 11] = [
        (
            "tessera_tile_cache_requests_total",
            "counter",
            "Tiles asked of the cache.",
            cache.requests as f64,
        ),
        (
            "tessera_tile_cache_misses_total",
            "counter",
            "Tiles the cache did not hold, made then.",
            cache.made as f64,
        ),
        (
            "tessera_tile_cache_tiles",
            "gauge",
            "Tiles in the cache.",
            tiles as f64,
        ),
        (
            "tessera_tile_cache_bytes",
            "gauge",
            "Weight of the cached tiles, in bytes.",
            bytes as f64,
        ),
        (
            "tessera_renders_running",
            "gauge",
            "Tiles being made now.",
            running as f64,
        ),
        (
            "tessera_renders_queued",
            "gauge",
            "Tiles waiting to be made.",
            queued as f64,
        ),
        (
            "tessera_connections_open",
            "gauge",
            "Client connections open now.",
            m.connections.open.load(Ordering::Relaxed) as f64,
        ),
        (
            "tessera_connections_accepted_total",
            "counter",
            "Client connections accepted.",
            m.connections.accepted.load(Ordering::Relaxed) as f64,
        ),
        (
            "tessera_collections",
            "gauge",
            "Collections published.",
            app.catalogue.layers().len() as f64,
        ),
        (
            "tessera_collections_degraded",
            "gauge",
            "Collections whose new data could not be served (see /health).",
            degraded as f64,
        ),
        (
            "tessera_resident_memory_bytes",
            "gauge",
            "Resident memory of the process (VmRSS).",
            resident_bytes().unwrap_or(0) as f64,
        ),
    ];
    for (name, kind, help, value) in gauges {
        family(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The process's resident memory, from `/proc/self/status` (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
