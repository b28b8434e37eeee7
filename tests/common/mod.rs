//! Test harness: runs the real `tessera` binary on a free port and talks raw HTTP/1.1 to it,
//! so tests see exactly what clients see (including malformed requests a client library would
//! refuse to send).

#![allow(dead_code)]

pub mod colour;
pub mod fgb;
pub mod geo;
pub mod mvt;
pub mod postgis;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample_config() -> PathBuf {
    repo().join("sample-data/tessera.toml")
}

/// The sample's configuration as text with its data paths made absolute, to extend and write
/// elsewhere.
pub fn sample_config_text() -> String {
    std::fs::read_to_string(sample_config()).unwrap().replace(
        "flatgeobuf = \"",
        &format!("flatgeobuf = \"{}/", repo().join("sample-data").display()),
    )
}

/// A `[[layers]]` block of layer `id` from a FlatGeobuf file, with its `classificazione` (an
/// inline table's content) and `extra` lines.
pub fn layer_toml(id: &str, file: &Path, classificazione: &str, extra: &str) -> String {
    layer_toml_from(
        id,
        &format!("flatgeobuf = \"{}\"", file.display()),
        classificazione,
        extra,
    )
}

/// The same from any `source` (an inline table's content).
pub fn layer_toml_from(id: &str, source: &str, classificazione: &str, extra: &str) -> String {
    format!(
        r#"
[[layers]]
id = "{id}"
title = "{id}"
description = "Il layer {id}"
license = {{ id = "CC-BY-4.0", url = "https://creativecommons.org/licenses/by/4.0/" }}
attribution = "tessera, prove"
publisher = {{ name = "Regione Toscana", ipa = "r_toscan" }}
frequency = "annual"
source = {{ {source} }}
classificazione = {{ {classificazione} }}
{extra}
"#
    )
}

pub struct Server {
    child: Child,
    pub addr: String,
    pub stderr: PathBuf,
}

impl Server {
    /// `tessera serve --bind 127.0.0.1:0 ARGS…`; waits for the URL line on stdout.
    pub fn start(args: &[&str]) -> Server {
        Self::try_start(args).unwrap_or_else(|e| panic!("tessera did not start: {e}"))
    }

    pub fn sample() -> Server {
        Server::start(&["--config", sample_config().to_str().unwrap()])
    }

    pub fn try_start(args: &[&str]) -> Result<Server, String> {
        Self::try_start_with_env(args, &[])
    }

    /// As [`Server::try_start`], with extra environment variables.
    pub fn try_start_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let log = std::env::temp_dir().join(format!(
            "tessera-test-{}-{}.log",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .current_dir(repo())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.wait();
            return Err(format!(
                "no URL on stdout ({line:?}); stderr: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        };
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Ok(Server {
            child,
            addr,
            stderr: log,
        })
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its status, or `None`
    /// when it is still running.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        self.signal("TERM");
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends the signal `name` (`HUP`, `TERM`…) to the server.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{name}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", path, headers)
    }

    pub fn json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        raw_request(&self.addr, method, path, headers)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// Asserts an OGC exception body with this status.
    pub fn assert_exception(&self, status: u16) {
        assert_eq!(self.status, status, "body: {}", self.text());
        let ct = self.header("content-type").unwrap_or_default();
        assert!(ct.contains("json"), "content-type {ct}");
        let v = self.json();
        assert_eq!(v["status"], status);
        for key in ["type", "title", "detail"] {
            assert!(v[key].is_string(), "missing {key}: {v}");
        }
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole reply.
pub fn raw_request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head: bool) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head_text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status: u16 = status_line[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size = usize::from_str_radix(
            std::str::from_utf8(&data[..nl])
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap();
        data = &data[nl + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Fails loudly when a tool the test setup should have installed is missing.
pub fn require_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: run the test suite with `bash tests/run-all.sh`, which installs it")
    })
}

/// The Python of the test virtualenv (made by tests/run-all.sh).
pub fn venv_python() -> PathBuf {
    let p = std::env::var_os("TESSERA_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv"))
        .join("bin/python");
    assert!(
        p.is_file(),
        "{} is missing: run the test suite with `bash tests/run-all.sh`, which creates it",
        p.display()
    );
    p
}

/// A new empty folder under the system's temporary one.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tessera-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn copy_to_temp(src: &Path, name: &str) -> PathBuf {
    let dst = temp_dir().join(name);
    std::fs::copy(src, &dst).unwrap();
    dst
}

/// Follows `next` links from `first`, returning every page.
pub fn all_pages(server: &Server, first: &str) -> Vec<serde_json::Value> {
    let mut pages = Vec::new();
    let mut path = first.to_string();
    loop {
        let page = server.json(&path);
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string());
        pages.push(page);
        match next {
            Some(href) => {
                let p = href
                    .find("/collections")
                    .expect("absolute href with a path");
                path = href[p..].to_string();
            }
            None => return pages,
        }
        assert!(pages.len() < 10_000, "paging does not end");
    }
}

/// Waits (at most 10 s) until `check` holds.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "never: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A TCP port free now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The samples of a scrape, by their full name with labels.
pub fn scrape(addr: &str) -> std::collections::HashMap<String, f64> {
    let r = raw_request(addr, "GET", "/metrics", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = r.text();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').expect("name value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(
            samples.insert(name.to_string(), value).is_none(),
            "{name} twice"
        );
    }
    // Every family says its type once, before its samples.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let kind = line.split_whitespace().nth(3).unwrap();
        assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
    }
    samples
}
