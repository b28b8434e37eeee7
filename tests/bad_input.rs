//! Bad input gets the right 4xx with an OGC exception body; never a 500, a panic or a hang.

mod common;

use common::Server;

#[test]
fn unknown_collections_and_features_are_404() {
    let s = Server::sample();
    s.get("/collections/nonesiste").assert_exception(404);
    s.get("/collections/nonesiste/items").assert_exception(404);
    s.get("/collections/comuni/items/999999")
        .assert_exception(404);
    s.get("/collections/reticolo_idrografico/items/100000")
        .assert_exception(404);
    s.get("/collections/reticolo_idrografico/items/-1")
        .assert_exception(404);
    s.get("/collections/reticolo_idrografico/items/01")
        .assert_exception(404);
    s.get("/nothing/here").assert_exception(404);
}

#[test]
fn bad_bbox_is_400() {
    let s = Server::sample();
    for bbox in [
        "10,43,11",      // too few
        "10,43,11,44,1", // five
        "a,b,c,d",       // not numbers
        "NaN,43,11,44",
        "inf,43,11,44",
        "",
    ] {
        s.get(&format!("/collections/comuni/items?bbox={bbox}"))
            .assert_exception(400);
    }
    // Crossing the antimeridian is valid: no feature there, but 200.
    let r = s.get("/collections/comuni/items?bbox=177,65,-177,70");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numberMatched"], 0);
    // A box upside down holds nothing; one past the poles or ±180° is cut there (what the
    // OpenAPI document declares: any numbers).
    let matched = |bbox: &str| {
        let r = s.get(&format!("/collections/comuni/items?bbox={bbox}"));
        assert_eq!(r.status, 200, "{bbox}");
        r.json()["numberMatched"].as_u64().unwrap()
    };
    assert_eq!(matched("10,44,11,43"), 0);
    assert_eq!(matched("-200,-95,200,95"), 273);
    assert_eq!(matched("9,40,14,95"), 273);
}

#[test]
fn bad_limit_and_offset_are_400() {
    let s = Server::sample();
    for q in [
        "limit=unlimited",
        "limit=0",
        "limit=-5",
        "limit=1.5",
        "limit=",
        "offset=-1",
        "offset=x",
    ] {
        s.get(&format!("/collections/comuni/items?{q}"))
            .assert_exception(400);
    }
    // Past the end is an empty page, not an error.
    let r = s.get("/collections/comuni/items?offset=100000");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numberReturned"], 0);
}

#[test]
fn unknown_and_repeated_parameters_are_400() {
    let s = Server::sample();
    let r = s.get("/collections/comuni/items?unknownQueryParameter12345=1");
    r.assert_exception(400);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("unknownQueryParameter12345")
    );
    s.get("/collections/comuni/items?limit=1&limit=2")
        .assert_exception(400);
    s.get("/collections?foo=bar").assert_exception(400);
    s.get("/?limit=1").assert_exception(400);
    s.get("/collections/comuni?bbox=1,2,3,4")
        .assert_exception(400);
    s.get("/collections/comuni/items/048017?limit=1")
        .assert_exception(400);
    s.get("/collections/comuni/items?f=xml")
        .assert_exception(400);
}

#[test]
fn bad_datetime_is_400() {
    let s = Server::sample();
    for dt in [
        "yesterday",
        "2020-13-01",
        "2021-02-29",
        "../..",
        "2020-01-01/2020-02-01/2020-03-01",
        "..",
        // Strict RFC 3339: an offset past 23 hours, a time without an offset, a short date.
        "2020-01-01T00:00:00%2B25:00",
        "2020-01-01T00:00:00",
        "2020-1-1",
        // Forms RFC 3339 allows that the OpenAPI pattern leaves out: lower case, leap seconds.
        "2020-01-01t00:00:00Z",
        "2016-12-31T23:59:60Z",
    ] {
        s.get(&format!("/collections/beni_culturali/items?datetime={dt}"))
            .assert_exception(400);
    }
    // An interval that ends before it starts holds nothing: no error, no feature.
    let r = s.get("/collections/beni_culturali/items?datetime=2021-01-01/2020-01-01");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numberMatched"], 0);
}

#[test]
fn bad_filter_values_are_400() {
    let s = Server::sample();
    s.get("/collections/reticolo_idrografico/items?ordine=due")
        .assert_exception(400);
    s.get("/collections/reticolo_idrografico/items?lunghezza_km=lungo")
        .assert_exception(400);
}

#[test]
fn hostile_ids_are_rejected_cleanly() {
    let s = Server::sample();
    for path in [
        "/collections/..%2F..%2Fetc%2Fpasswd",
        "/collections/comuni%00/items",
        "/collections/comuni/items/%0d%0aSet-Cookie:x",
        "/collections/comuni/items/..%2F..%2Fsecret",
        "/collections/comuni/items/%ff%fe",
        "/collections/../../etc/passwd",
    ] {
        let r = s.get(path);
        assert!(r.status == 400 || r.status == 404, "{path}: {}", r.status);
        r.assert_exception(r.status);
    }
    // Control characters in a query value.
    s.get("/collections/comuni/items?nome=a%00b")
        .assert_exception(400);
}

#[test]
fn over_long_urls_are_414() {
    let s = Server::sample();
    let long = "x".repeat(10_000);
    s.get(&format!("/collections/comuni/items?nome={long}"))
        .assert_exception(414);
}

#[test]
fn other_methods_are_405_and_unacceptable_types_406() {
    let s = Server::sample();
    s.request(
        "POST",
        "/collections/comuni/items",
        &[("Content-Length", "0")],
    )
    .assert_exception(405);
    s.request("DELETE", "/collections/comuni", &[])
        .assert_exception(405);
    s.get_with("/collections", &[("Accept", "application/xml")])
        .assert_exception(406);
}

#[test]
fn server_survives_a_burst_of_bad_requests() {
    let s = Server::sample();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let addr = s.addr.clone();
            std::thread::spawn(move || {
                for j in 0..25 {
                    let path = format!(
                        "/collections/comuni/items?bbox={i},{j},x&limit={}",
                        j as i64 - 10
                    );
                    let r = common::raw_request(&addr, "GET", &path, &[]);
                    assert_eq!(r.status, 400);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(s.get("/health").status, 200);
}

/// Sends `raw` as is on a fresh connection and reads the reply's status line and body.
fn send_raw(addr: &str, raw: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    c.write_all(raw.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = c.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn http_1_1_requests_carry_one_valid_host() {
    let s = Server::sample();
    let a = &s.addr;
    for raw in [
        "GET /collections HTTP/1.1\r\nConnection: close\r\n\r\n".to_string(),
        format!("GET /collections HTTP/1.1\r\nHost: {a}\r\nHost: {a}\r\nConnection: close\r\n\r\n"),
        "GET /collections HTTP/1.1\r\nHost: a b<c>\r\nConnection: close\r\n\r\n".into(),
        "GET /collections HTTP/1.1\r\nHost: user@example.it\r\nConnection: close\r\n\r\n".into(),
    ] {
        let reply = send_raw(a, &raw);
        assert!(reply.starts_with("HTTP/1.1 400"), "{raw:?}: {reply:.120}");
        assert!(reply.contains("application/problem+json"), "{reply:.300}");
        assert!(reply.contains("Host"), "{reply}");
    }
    // HTTP/1.0 may leave it out; a valid one is served.
    let reply = send_raw(a, "GET /collections HTTP/1.0\r\n\r\n");
    assert!(
        reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200"),
        "{reply:.120}"
    );
    assert_eq!(s.get("/collections").status, 200);
}

#[test]
fn refused_codings_get_an_exception_not_the_resource() {
    let s = Server::sample();
    for path in [
        "/collections/comuni",
        "/collections/comuni/tiles/WebMercatorQuad/8/93/136",
        "/collections/nessuna",
    ] {
        let r = s.get_with(path, &[("Accept-Encoding", "identity;q=0")]);
        r.assert_exception(406);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert!(r.header("etag").is_none(), "{path}");
        assert!(
            !r.text().contains("\"links\""),
            "{path}: carries the resource"
        );
    }
    // gzip accepted: served.
    let r = s.get_with(
        "/collections/comuni",
        &[("Accept-Encoding", "gzip, identity;q=0")],
    );
    assert_eq!(r.status, 200);
}
