//! `tessera check` and configuration errors as an operator sees them.

mod common;

use common::{repo, sample_config};
use std::process::{Command, Output};

fn tessera(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.args(args).current_dir(repo());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn config_with(tag: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        repo().join("sample-data/comuni_toscana.fgb"),
        dir.join("comuni.fgb"),
    )
    .unwrap();
    let p = dir.join("tessera.toml");
    std::fs::write(&p, text).unwrap();
    p
}

const LAYER: &str = r#"
[[layers]]
id = "comuni"
title = "Comuni"
description = "I comuni"
license = { id = "CC-BY-4.0", url = "https://creativecommons.org/licenses/by/4.0/" }
attribution = "ISTAT"
publisher = { name = "Unione dei Comuni del Casentino", ipa = "uc_casen" }
frequency = "annual"
source = { flatgeobuf = "${DATA_FILE}" }
"#;

#[test]
fn check_prints_what_would_be_published() {
    let out = tessera(
        &["check", "--config", sample_config().to_str().unwrap()],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("8 collections"), "{text}");
    assert!(
        text.contains("pericolosita_idraulica") && text.contains("EPSG:6707"),
        "{text}"
    );
    assert!(text.contains("(sintetico)"));
    // With no --config, the bundled sample.
    let out = tessera(&["check"], &[]);
    assert!(out.status.success());
}

#[test]
fn missing_classification_is_refused_with_the_valid_values() {
    let p = config_with("nocls", LAYER);
    let out = tessera(
        &["check", "--config", p.to_str().unwrap()],
        &[("DATA_FILE", "comuni.fgb")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(p.to_str().unwrap()), "names the file: {err}");
    assert!(
        err.contains("layers[0].classificazione"),
        "names the key: {err}"
    );
    for v in [
        "idro_geomorfologica",
        "ecosistemica",
        "insediativa",
        "agro_forestale",
        "patrimonio_culturale_paesaggistico",
        "base",
        "di_fatto",
        "di_diritto",
    ] {
        assert!(err.contains(v), "lists {v}: {err}");
    }
}

#[test]
fn invalid_values_and_unknown_keys_are_refused() {
    for (tag, extra, needle) in [
        (
            "badstr",
            "classificazione = { struttura = [\"idraulica\"], stato = \"di_fatto\" }",
            "agro_forestale",
        ),
        (
            "badstato",
            "classificazione = { struttura = [\"base\"], stato = \"di_progetto\" }",
            "di_diritto",
        ),
        (
            "noatto",
            "classificazione = { struttura = [\"base\"], stato = \"di_diritto\", tipo_diritto = \"vincolo\" }",
            "atto",
        ),
        (
            "unknown",
            "classificazione = { struttura = [\"base\"], stato = \"di_fatto\" }\ncolore = \"rosso\"",
            "colore",
        ),
    ] {
        let p = config_with(tag, &format!("{LAYER}{extra}\n"));
        let out = tessera(
            &["check", "--config", p.to_str().unwrap()],
            &[("DATA_FILE", "comuni.fgb")],
        );
        assert!(!out.status.success(), "{tag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle) && err.contains("tessera.toml"),
            "{tag}: {err}"
        );
    }
}

#[test]
fn environment_variables_are_expanded() {
    let p = config_with(
        "env",
        &format!("{LAYER}classificazione = {{ struttura = [\"base\"], stato = \"di_fatto\" }}\n"),
    );
    let ok = tessera(
        &["check", "--config", p.to_str().unwrap()],
        &[("DATA_FILE", "comuni.fgb")],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let missing = tessera(&["check", "--config", p.to_str().unwrap()], &[]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("DATA_FILE"));
}

/// `styles/` holds the styles of the bundled sample as `tessera styles` writes them, and they
/// stay in step with the code (regenerate with `cargo run -- styles --out styles`).
#[test]
fn styles_command_writes_what_styles_holds() {
    let dir = std::env::temp_dir().join(format!("tessera-styles-cli-{}", std::process::id()));
    let out = tessera(
        &[
            "styles",
            "--config",
            sample_config().to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ],
        &[("TESSERA_BIND", "127.0.0.1:8080")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    written.sort();
    // Seven styles, and the sprite they name at 1x and 2x.
    assert_eq!(written.len(), 11, "{written:?}");
    for name in &written {
        let fresh = std::fs::read(dir.join(name)).unwrap();
        let committed = std::fs::read(repo().join("styles").join(name)).unwrap_or_else(|_| {
            panic!("styles/{name} is missing: run `cargo run -- styles --out styles`")
        });
        assert!(
            fresh == committed,
            "styles/{name} is stale: run `cargo run -- styles --out styles`"
        );
        if name.starts_with("sprite") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&fresh).unwrap();
        assert!(
            v["sources"]["tessera"]["tiles"][0]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:8080/")
        );
        assert_eq!(v["sprite"], "http://127.0.0.1:8080/styles/sprite");
    }
    let base = tessera(
        &[
            "styles",
            "--config",
            sample_config().to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--base-url",
            "https://gis.example.it/tessera/",
        ],
        &[],
    );
    assert!(base.status.success());
    let tutto = std::fs::read_to_string(dir.join("tutto.json")).unwrap();
    assert!(
        tutto.contains("\"https://gis.example.it/tessera/tiles/WebMercatorQuad/{z}/{y}/{x}\""),
        "{tutto}"
    );
    let refused = tessera(
        &[
            "styles",
            "--config",
            sample_config().to_str().unwrap(),
            "--out",
            "/proc/tessera-styles",
        ],
        &[],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("/proc/tessera-styles"));
}
