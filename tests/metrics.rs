//! Prometheus metrics on their own address: requests by route and status with latency
//! histograms, the tile cache, renders, connections, data source failures and memory.

mod common;

use common::{Server, free_port, repo, scrape, temp_dir};

#[test]
fn metrics_count_requests_cache_failures_and_memory_apart_from_the_public_address() {
    let dir = temp_dir();
    let comuni = dir.join("comuni.fgb");
    std::fs::copy(repo().join("sample-data/comuni_toscana.fgb"), &comuni).unwrap();
    let port = free_port();
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        format!("[server]\nmetrics_bind = \"127.0.0.1:{port}\"\nwatch_secs = 0\n"),
    )
    .unwrap();
    let s = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        comuni.to_str().unwrap(),
    ]);
    let metrics = format!("127.0.0.1:{port}");

    for _ in 0..3 {
        assert_eq!(s.get("/collections/comuni/items?limit=2").status, 200);
    }
    s.get("/collections/comuni/items?limit=x")
        .assert_exception(400);
    s.get("/no/such/thing").assert_exception(404);
    let tile = "/collections/comuni/tiles/WebMercatorQuad/8/93/135";
    assert_eq!(s.get(tile).status, 200);
    assert_eq!(s.get(tile).status, 200);
    let etag = s
        .get("/collections/comuni")
        .header("etag")
        .unwrap()
        .to_string();
    let r = s.get_with("/collections/comuni", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    // Not on the public address.
    s.get("/metrics").assert_exception(404);

    let m = scrape(&metrics);
    let items = "route=\"/collections/{collection_id}/items\"";
    assert_eq!(
        m[&format!("tessera_http_requests_total{{{items},status=\"200\"}}")],
        3.0
    );
    assert_eq!(
        m[&format!("tessera_http_requests_total{{{items},status=\"400\"}}")],
        1.0
    );
    // `/no/such/thing` and `/metrics` on the public address.
    assert_eq!(
        m["tessera_http_requests_total{route=\"unmatched\",status=\"404\"}"],
        2.0
    );
    let collection = "route=\"/collections/{collection_id}\"";
    for status in [200, 304] {
        let sample = format!("tessera_http_requests_total{{{collection},status=\"{status}\"}}");
        assert_eq!(m[&sample], 1.0, "{sample}");
    }
    // The histogram: cumulative buckets, +Inf equal to the count.
    let count = m[&format!("tessera_http_request_duration_seconds_count{{{items}}}")];
    assert_eq!(count, 4.0);
    assert_eq!(
        m[&format!("tessera_http_request_duration_seconds_bucket{{{items},le=\"+Inf\"}}")],
        count
    );
    assert!(
        m[&format!("tessera_http_request_duration_seconds_bucket{{{items},le=\"0.001\"}}")]
            <= m[&format!("tessera_http_request_duration_seconds_bucket{{{items},le=\"10\"}}")]
    );
    assert!(m[&format!("tessera_http_request_duration_seconds_sum{{{items}}}")] > 0.0);
    // One tile made, then served from the cache.
    assert_eq!(m["tessera_tile_cache_misses_total"], 1.0);
    assert!(m["tessera_tile_cache_requests_total"] >= 1.0);
    assert_eq!(m["tessera_tile_cache_tiles"], 1.0);
    assert!(m["tessera_tile_cache_bytes"] > 0.0);
    assert_eq!(m["tessera_renders_running"], 0.0);
    assert_eq!(m["tessera_collections"], 1.0);
    assert!(m["tessera_connections_accepted_total"] >= 10.0);
    assert!(m["tessera_resident_memory_bytes"] > 1e6);

    // A file cut short in place: its reads fail, and the failures are counted by collection.
    let f = std::fs::File::options().write(true).open(&comuni).unwrap();
    f.set_len(50_000).unwrap();
    drop(f);
    s.get("/collections/comuni/items").assert_exception(503);
    let m = scrape(&metrics);
    assert_eq!(
        m["tessera_source_failures_total{what=\"collection comuni\",kind=\"unavailable\"}"],
        1.0
    );
    assert_eq!(
        m[&format!("tessera_http_requests_total{{{items},status=\"503\"}}")],
        1.0
    );
    // A scrape is not a public request.
    assert!(!m.keys().any(|k| k.contains("/metrics")));
}
