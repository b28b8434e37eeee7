//! Compression, CORS, conditional requests, HEAD, caching headers and content types.

mod common;

use common::Server;
use std::io::Read;

#[test]
fn gzip_and_brotli_when_accepted() {
    let s = Server::sample();
    let plain = s.get("/collections/comuni/items?limit=20");
    assert!(plain.header("content-encoding").is_none());
    let gz = s.get_with(
        "/collections/comuni/items?limit=20",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert!(
        gz.header("vary")
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut out)
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(a["features"], plain.json()["features"]);
    assert!(gz.body.len() < out.len() / 2);

    let br = s.get_with(
        "/collections/comuni/items?limit=20",
        &[("Accept-Encoding", "br")],
    );
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut out = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut out)
        .unwrap();
    let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(b["features"], plain.json()["features"]);
}

#[test]
fn cors_and_preflight() {
    let s = Server::sample();
    let r = s.get_with(
        "/collections",
        &[("Origin", "https://geoportale.example.it")],
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let pre = s.request(
        "OPTIONS",
        "/collections/comuni/items",
        &[
            ("Origin", "https://geoportale.example.it"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "if-none-match"),
        ],
    );
    assert!(pre.status == 200 || pre.status == 204, "{}", pre.status);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert!(
        pre.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
}

#[test]
fn strong_etags_and_304() {
    let s = Server::sample();
    for path in [
        "/collections/comuni",
        "/collections/comuni/items?limit=5",
        "/api",
        "/",
    ] {
        let r = s.get(path);
        let etag = r
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"))
            .to_string();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
        assert!(
            r.header("cache-control").unwrap().contains("max-age"),
            "{path}"
        );
        let again = s.get_with(path, &[("If-None-Match", &etag)]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let other = s.get_with(path, &[("If-None-Match", "\"something-else\"")]);
        assert_eq!(other.status, 200);
        // A compressed body has its own validator.
        let gz = s.get_with(path, &[("Accept-Encoding", "gzip")]);
        if gz.header("content-encoding").is_some() {
            assert_ne!(gz.header("etag"), Some(etag.as_str()), "{path}");
            let gz_etag = gz.header("etag").unwrap().to_string();
            let again = s.get_with(
                path,
                &[("Accept-Encoding", "gzip"), ("If-None-Match", &gz_etag)],
            );
            assert_eq!(again.status, 304);
        }
    }
    // Different pages differ.
    let a = s.get("/collections/comuni/items?limit=5");
    let b = s.get("/collections/comuni/items?limit=5&offset=5");
    assert_ne!(a.header("etag"), b.header("etag"));
    // Errors are not cached.
    assert_eq!(
        s.get("/collections/x").header("cache-control"),
        Some("no-store")
    );
}

#[test]
fn head_on_every_get_route() {
    let s = Server::sample();
    for path in [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/comuni",
        "/collections/comuni/items",
        "/collections/comuni/items/048017",
        "/health",
    ] {
        let get = s.get(path);
        let head = s.request("HEAD", path, &[]);
        assert_eq!(head.status, 200, "{path}");
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_eq!(
            head.header("content-length"),
            get.header("content-length"),
            "{path}"
        );
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
    }
    assert_eq!(s.request("HEAD", "/collections/nope", &[]).status, 404);
}

#[test]
fn content_types_and_health() {
    let s = Server::sample();
    let cases = [
        ("/", "application/json"),
        ("/conformance", "application/json"),
        ("/collections", "application/json"),
        ("/collections/comuni/items", "application/geo+json"),
        ("/collections/comuni/items/048017", "application/geo+json"),
        ("/api", "application/vnd.oai.openapi+json;version=3.0"),
        ("/api?f=html", "text/html; charset=utf-8"),
    ];
    for (path, ct) in cases {
        assert_eq!(s.get(path).header("content-type"), Some(ct), "{path}");
    }
    let h = s.json("/health");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["collections"], 8);
}

#[test]
fn request_logs_are_structured() {
    let s = Server::sample();
    s.get("/collections/comuni/items?limit=1");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = std::fs::read_to_string(&s.stderr).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("/collections/comuni/items"))
        .expect("a request log line");
    assert!(
        line.contains("status=200") && line.contains("latency_ms="),
        "{line}"
    );
}

#[test]
fn access_log_errors_keeps_only_what_needs_a_look() {
    let dir = common::temp_dir();
    let config = dir.join("tessera.toml");
    std::fs::write(&config, "[server]\naccess_log = \"errors\"\n").unwrap();
    let comuni = common::repo().join("sample-data/comuni_toscana.fgb");
    let s = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        comuni.to_str().unwrap(),
    ]);
    assert_eq!(
        s.get("/collections/comuni_toscana/items?limit=1").status,
        200
    );
    assert_eq!(s.get("/collections/nessuna").status, 404);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = std::fs::read_to_string(&s.stderr).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("/collections/nessuna") && l.contains("status=404")),
        "{log}"
    );
    assert!(
        !log.lines().any(|l| l.contains("status=200")),
        "a success was logged: {log}"
    );
}

#[test]
fn links_ignore_forwarded_headers_unless_trusted() {
    let s = Server::sample();
    let v = s
        .get_with(
            "/",
            &[
                ("X-Forwarded-Host", "evil.example"),
                ("X-Forwarded-Proto", "https"),
            ],
        )
        .json();
    for l in v["links"].as_array().unwrap() {
        assert!(l["href"].as_str().unwrap().starts_with(&s.url("/")), "{l}");
    }
}

#[test]
fn byte_ranges_of_tiles_and_documents() {
    let s = Server::sample();
    let tile = "/collections/comuni/tiles/WebMercatorQuad/8/93/136";
    for (path, enc) in [
        (tile, "gzip"),
        (tile, "identity"),
        ("/collections", "identity"),
    ] {
        let whole = s.get_with(path, &[("Accept-Encoding", enc)]);
        assert_eq!(whole.status, 200, "{path}");
        assert_eq!(whole.header("accept-ranges"), Some("bytes"));
        let len = whole.body.len();
        assert!(len > 100, "{path}: {len}");
        let etag = whole.header("etag").unwrap().to_string();

        let r = s.get_with(path, &[("Accept-Encoding", enc), ("Range", "bytes=10-19")]);
        assert_eq!(r.status, 206, "{path}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes 10-19/{len}").as_str())
        );
        assert_eq!(r.body, whole.body[10..20]);

        let r = s.get_with(path, &[("Accept-Encoding", enc), ("Range", "bytes=-5")]);
        assert_eq!(r.body, whole.body[len - 5..], "{path}: suffix");

        // Two ranges: multipart/byteranges with each part and its Content-Range.
        let r = s.get_with(
            path,
            &[("Accept-Encoding", enc), ("Range", "bytes=0-3,20-29")],
        );
        assert_eq!(r.status, 206);
        let ct = r.header("content-type").unwrap().to_string();
        let boundary = ct
            .strip_prefix("multipart/byteranges; boundary=")
            .expect(&ct);
        let body = &r.body;
        let find = |needle: &[u8]| body.windows(needle.len()).position(|w| w == needle);
        for (a, b) in [(0usize, 3usize), (20, 29)] {
            let head = format!("Content-Range: bytes {a}-{b}/{len}\r\n\r\n");
            let at = find(head.as_bytes()).expect("a part") + head.len();
            assert_eq!(&body[at..at + b - a + 1], &whole.body[a..=b]);
        }
        assert!(find(format!("--{boundary}--").as_bytes()).is_some());

        // Past the end: 416 with the length.
        let r = s.get_with(
            path,
            &[
                ("Accept-Encoding", enc),
                ("Range", &format!("bytes={len}-")),
            ],
        );
        r.assert_exception(416);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes */{len}").as_str())
        );

        // If-Range of another version: the whole body; of this one: the range.
        let r = s.get_with(
            path,
            &[
                ("Accept-Encoding", enc),
                ("Range", "bytes=0-9"),
                ("If-Range", "\"other\""),
            ],
        );
        assert_eq!((r.status, r.body.len()), (200, len));
        let r = s.get_with(
            path,
            &[
                ("Accept-Encoding", enc),
                ("Range", "bytes=0-9"),
                ("If-Range", &etag),
            ],
        );
        assert_eq!((r.status, r.body.len()), (206, 10));
        // HEAD: the same headers, no body.
        let r = s.request(
            "HEAD",
            path,
            &[("Accept-Encoding", enc), ("Range", "bytes=0-9")],
        );
        assert_eq!(r.status, 206);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes 0-9/{len}").as_str())
        );
    }
}

#[test]
fn health_reports_the_tile_cache_and_renders() {
    let s = Server::sample();
    let before = s.json("/health");
    assert_eq!(before["tile_cache"]["tiles"], 0);
    assert_eq!(before["tile_cache"]["limit_bytes"], 256 * 1024 * 1024);
    assert_eq!(
        s.get("/collections/comuni/tiles/WebMercatorQuad/8/93/136")
            .status,
        200
    );
    let after = s.json("/health");
    assert_eq!(after["tile_cache"]["tiles"], 1);
    assert!(
        after["tile_cache"]["bytes"].as_u64().unwrap() > 1000,
        "{after}"
    );
    assert_eq!(after["renders"]["running"], 0);
    assert_eq!(after["renders"]["queued"], 0);
}
