//! Any text as a configuration file: parsed and checked, never a panic.

pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tessera::config::Config::parse(text, std::path::Path::new("/fuzz/tessera.toml"));
    }
}
