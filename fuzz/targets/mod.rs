//! The fuzz targets' bodies, shared by cargo-fuzz (`fuzz/fuzz_targets`, run by `fuzz/run.sh`)
//! and by the smoke test of the test suite (`tests/fuzz_smoke.rs`), which replays the kept
//! corpus and mutations of it.

pub mod config;
pub mod datetime;
pub mod flatgeobuf;
pub mod request;

/// The sample layers, from the repository's root or from `fuzz/`.
pub fn sample_data() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [here.join("sample-data"), here.join("../sample-data")]
        .into_iter()
        .find(|p| p.join("tessera.toml").is_file())
        .expect("the sample-data folder")
}
