//! Connections from slow, silent or leaving clients, through the real binary: heads that do
//! not arrive in time and idle keep-alive connections are closed, silent connections past the
//! limit do not starve a new client, a half-closed request is answered, and SIGTERM with a
//! stalled client exits within the grace period.

mod common;

use common::{Server, repo, temp_dir};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// A server of the sample comuni with these `[server]` settings.
fn start(settings: &str) -> Server {
    let dir = temp_dir();
    let config = dir.join("tessera.toml");
    std::fs::write(&config, format!("[server]\n{settings}\n")).unwrap();
    let comuni = repo().join("sample-data/comuni_toscana.fgb");
    Server::start(&[
        "--config",
        config.to_str().unwrap(),
        comuni.to_str().unwrap(),
    ])
}

/// Whether the server closes `s` within `within` (reads see the end, or a reset).
fn closed_within(s: &TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut s = s;
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return started.elapsed() <= within,
        }
    }
}

#[test]
fn slow_heads_are_cut_off_while_others_are_served() {
    let s = start("header_timeout_secs = 1");
    // Thirty clients trickle a request head, a byte every 200 ms, for ever.
    let slow: Vec<TcpStream> = (0..30)
        .map(|_| {
            let mut c = TcpStream::connect(&s.addr).unwrap();
            c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
            c
        })
        .collect();
    let writers: Vec<_> = slow
        .iter()
        .map(|c| {
            let mut c = c.try_clone().unwrap();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    if c.write_all(b"X").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();
    // The others are answered meanwhile.
    for _ in 0..5 {
        assert_eq!(s.get("/collections").status, 200);
    }
    for c in &slow {
        assert!(
            closed_within(c, Duration::from_secs(3)),
            "a slow head was not cut off"
        );
    }
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(s.get("/health").status, 200);
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let s = start("header_timeout_secs = 1");
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = c.read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "answered first"
    );
    let started = Instant::now();
    assert!(closed_within(&c, Duration::from_secs(4)));
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "closed too early"
    );
}

#[test]
fn silent_connections_past_the_limit_do_not_starve_a_new_client() {
    let s = start("header_timeout_secs = 60\nmax_connections = 8");
    let silent: Vec<TcpStream> = (0..24)
        .map(|_| TcpStream::connect(&s.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = s.get("/collections/comuni_toscana/items?limit=1");
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a new client waited {:?} behind silent connections",
        started.elapsed()
    );
    drop(silent);
    assert_eq!(s.get("/health").status, 200);
}

#[test]
fn past_the_limit_idle_connections_are_closed_to_serve_new_ones() {
    let s = start("header_timeout_secs = 60\nmax_connections = 8");
    // Twenty keep-alive clients, each asking once and then keeping its connection.
    let mut clients: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut c = TcpStream::connect(&s.addr).unwrap();
            c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            c
        })
        .collect();
    let started = Instant::now();
    for c in &mut clients {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 1024];
        let n = c.read(&mut buf).expect("answered");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Only eight may stay open: the server closed the others once they were idle.
    let closed = clients
        .iter()
        .filter(|c| closed_within(c, Duration::from_millis(300)))
        .count();
    assert!(closed >= 12, "only {closed} of 20 connections were closed");
}

#[test]
fn a_half_closed_request_is_answered() {
    let s = start("");
    for _ in 0..20 {
        let mut c = TcpStream::connect(&s.addr).unwrap();
        c.write_all(b"GET /collections/comuni_toscana/items?limit=2 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reply = Vec::new();
        let _ = c.read_to_end(&mut reply);
        let text = String::from_utf8_lossy(&reply);
        assert!(text.starts_with("HTTP/1.1 200"), "{text:.200}");
        assert!(text.contains("FeatureCollection"), "{text:.200}");
    }
}

#[test]
fn sigterm_with_a_stalled_client_exits_within_the_grace_period() {
    let mut s = start("header_timeout_secs = 60\nshutdown_grace_secs = 1");
    let mut stalled = TcpStream::connect(&s.addr).unwrap();
    stalled.write_all(b"GET /health HTTP/1.1\r\nHo").unwrap();
    let idle = TcpStream::connect(&s.addr).unwrap();
    assert_eq!(s.get("/health").status, 200);
    let started = Instant::now();
    let status = s
        .terminate(Duration::from_secs(5))
        .expect("tessera still runs 5 s after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    drop((stalled, idle));
}

#[test]
fn bodies_over_the_limit_are_refused_and_never_drained() {
    let s = start("max_body_bytes = 1000");
    // Declared over the limit: 413 with an exception body, and the connection closes.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.write_all(b"GET /collections HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reply = Vec::new();
    let _ = c.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 413"), "{text:.300}");
    assert!(text.contains("application/problem+json"), "{text:.300}");
    assert!(text.contains("the limit is 1000"), "{text}");
    // Within it: answered.
    let r = s.get_with("/collections", &[("Content-Length", "3")]);
    assert_eq!(r.status, 200);
    // A chunked body that never ends is not read: the answer comes, then the end.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.write_all(
        b"GET /collections HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n",
    )
    .unwrap();
    c.write_all(&[b'a'; 4096]).unwrap();
    let started = Instant::now();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reply = Vec::new();
    let _ = c.read_to_end(&mut reply);
    assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 200"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the server waited for the body"
    );
}
