//! Missing, corrupt and truncated data: clear start-up errors naming the file; a file that goes
//! bad while serving fails its own layer only.

mod common;

use common::{Server, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tessera-fail-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A config with two layers read from `dir`: `comuni` (a copy) and `boschi`.
fn two_layer_config(dir: &Path) -> PathBuf {
    for f in ["comuni_toscana.fgb", "aree_boscate.fgb"] {
        std::fs::copy(repo().join("sample-data").join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(repo().join("sample-data/tessera.toml")).unwrap();
    // Keep the server section and the first layer, then add the woods layer.
    let comuni_end = text.find("[[layers]]\nid = \"province\"").unwrap();
    let boschi_start = text.find("[[layers]]\nid = \"aree_boscate\"").unwrap();
    let boschi_end = text
        .find("[[layers]]\nid = \"territorio_urbanizzato\"")
        .unwrap();
    let config = format!("{}{}", &text[..comuni_end], &text[boschi_start..boschi_end]);
    let path = dir.join("tessera.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn start_error(config: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "tessera started with broken data");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn missing_file_is_a_startup_error_naming_it() {
    let dir = temp("missing");
    let config = two_layer_config(&dir);
    std::fs::remove_file(dir.join("aree_boscate.fgb")).unwrap();
    let err = start_error(&config);
    assert!(
        err.contains("aree_boscate.fgb") && err.contains("No such file"),
        "{err}"
    );
}

#[test]
fn truncated_and_garbage_files_are_startup_errors() {
    let dir = temp("corrupt");
    let config = two_layer_config(&dir);
    let f = dir.join("comuni_toscana.fgb");
    let bytes = std::fs::read(&f).unwrap();
    for (what, content) in [
        (
            "truncated in the data",
            bytes[..bytes.len() - 1000].to_vec(),
        ),
        ("truncated in the index", bytes[..20_000].to_vec()),
        ("empty", Vec::new()),
        ("not a FlatGeobuf", b"<html>not found</html>".repeat(10)),
    ] {
        std::fs::write(&f, content).unwrap();
        let err = start_error(&config);
        assert!(err.contains("comuni_toscana.fgb"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}

#[test]
fn a_file_going_bad_while_serving_fails_only_its_layer() {
    let dir = temp("live");
    let config = two_layer_config(&dir);
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    assert_eq!(s.get("/collections/comuni/items").status, 200);
    // Truncate in place, as a failed copy would.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("comuni_toscana.fgb"))
        .unwrap();
    f.set_len(50_000).unwrap();
    drop(f);
    for path in [
        "/collections/comuni/items",
        "/collections/comuni/items/048017",
        "/collections/comuni/items?bbox=11,43,12,44",
    ] {
        let r = s.get(path);
        r.assert_exception(503);
        assert!(
            r.json()["detail"].as_str().unwrap().contains("comuni"),
            "{path}"
        );
        assert!(
            !r.text().contains(dir.to_str().unwrap()),
            "the error leaks a server path"
        );
    }
    assert_eq!(s.get("/collections/aree_boscate/items").status, 200);
    assert_eq!(s.get("/collections").status, 200);
    assert_eq!(s.get("/health").status, 200);
}

#[test]
fn previews_from_the_command_line() {
    let dir = temp("preview");
    std::fs::copy(
        repo().join("sample-data/beni_culturali.fgb"),
        dir.join("Beni Culturali.fgb"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("sample-data/province_toscana.fgb"),
        dir.join("province.fgb"),
    )
    .unwrap();
    let s = Server::start(&[dir.to_str().unwrap()]);
    let v = s.json("/collections");
    let ids: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["beni_culturali", "province"]);
    assert_eq!(v["collections"][0]["classificazione"]["anteprima"], true);
    assert_eq!(s.json("/collections/province/items")["numberMatched"], 10);
    // A preview names its file, never the folder it lives in on the server.
    for path in ["/collections", "/collections/province?f=html"] {
        let page = s.get(path).text();
        assert!(page.contains("province.fgb"), "{path}");
        assert!(
            !page.contains(dir.to_str().unwrap()),
            "{path} leaks a server path"
        );
    }
    // A missing source is an error naming it.
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve", "--bind", "127.0.0.1:0", "/nonexistent/x.fgb"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.fgb"));
}
