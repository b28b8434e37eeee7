//! A short fuzz smoke: the bodies of the cargo-fuzz targets (fuzz/targets) run over the kept
//! corpus (fuzz/corpus) and a few hundred mutations of each entry. `bash fuzz/run.sh` is the
//! long run, with libFuzzer's coverage guidance.

#[path = "../fuzz/targets/mod.rs"]
mod targets;

use std::path::Path;

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `data` changed a little: bytes flipped, set to edge values, inserted, removed, cut.
fn mutate(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len());
        match rng.below(6) {
            0 if !out.is_empty() => out[at] ^= 1 << rng.below(8),
            1 if !out.is_empty() => out[at] = [0, 0xff, 0x7f, 0x80, b'/', b','][rng.below(6)],
            2 => out.insert(at, rng.next() as u8),
            3 if !out.is_empty() => {
                out.remove(at);
            }
            4 => out.truncate(at),
            _ => {
                let from = rng.below(out.len());
                let len = rng.below(16).min(out.len() - from.min(out.len()));
                let chunk = out[from..from + len].to_vec();
                out.splice(at..at, chunk);
            }
        }
    }
    out
}

/// Runs `target` on every corpus entry and about `mutations` mutations spread over them; how
/// many inputs it tried.
fn smoke(name: &str, mutations: usize, target: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 3,
        "{name}: a corpus of {} entries",
        entries.len()
    );
    let mut rng = Rng(0x5eed_7e55_e7a0_0001);
    let per_entry = mutations.div_ceil(entries.len());
    let mut tried = 0;
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        target(&data);
        tried += 1;
        for _ in 0..per_entry {
            let input = mutate(&data, &mut rng);
            let outcome = std::panic::catch_unwind(|| target(&input));
            assert!(
                outcome.is_ok(),
                "{name}: a mutation of {} fails: {:?}",
                path.display(),
                String::from_utf8_lossy(&input)
            );
            tried += 1;
        }
    }
    tried
}

#[test]
fn requests() {
    assert!(smoke("request", 2000, targets::request::run) >= 2000);
}

#[test]
fn configuration_files() {
    assert!(smoke("config", 2000, targets::config::run) >= 2000);
}

#[test]
fn flatgeobuf_files() {
    assert!(smoke("flatgeobuf", 3000, targets::flatgeobuf::run) >= 3000);
}

#[test]
fn datetime_values() {
    assert!(smoke("datetime", 5000, targets::datetime::run) >= 5000);
}
