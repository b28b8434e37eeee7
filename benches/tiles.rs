//! The tile engine on the 1,000,000-parcel FlatGeobuf layer: tiles per second per zoom (z6–z14)
//! on one thread (criterion), then a report of all-core throughput, CPU time per tile and the
//! largest tile per zoom. Tiles are made as the server makes them: the collection's tileset
//! from the catalogue, its engine awaited on a tokio runtime (reads and encoding on the
//! blocking pool).
//!
//! `cargo bench --bench tiles`; the layer is generated once under target/bench-data/.
//! TESSERA_BENCH_PARCELS changes its size.

#[allow(dead_code)]
#[path = "../sample-data/synth.rs"]
mod synth;
#[allow(dead_code)]
#[path = "support/territorio.rs"]
mod territorio;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::time::{Duration, Instant};
use tessera::catalogue::{Catalogue, TilesetId};
use tessera::source::{Cancel, TileQuery};
use tessera::tiles::engine::Rendered;
use tessera::tiles::matrix::{TileCoord, TileMatrixSet};

// The allocator the server runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Process CPU time (user + system) so far, from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Tiles at `z` over the towns, in a fixed order: the busy tiles a map client asks for.
fn tiles_at(tms: &TileMatrixSet, towns: &[territorio::Town], z: u8, n: usize) -> Vec<TileCoord> {
    let mut v: Vec<TileCoord> = towns
        .iter()
        .map(|t| {
            let l = tms
                .limits(z, geo_types::Rect::new(t.centre, t.centre))
                .expect("limits");
            TileCoord {
                z,
                x: l.min_col,
                y: l.min_row,
            }
        })
        .collect();
    v.sort();
    v.dedup();
    v.truncate(n);
    v
}

fn bench(c: &mut Criterion) {
    let measuring = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("TESSERA_BENCH_PARCELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 1_000_000 } else { 20_000 });
    let path = territorio::bench_layer(n);
    let mut cat = Catalogue::default();
    cat.add_previews(std::slice::from_ref(&path))
        .expect("open the parcel layer");
    let layer = &cat.layers()[0];
    let tileset = cat
        .tileset(&TilesetId::Collection(layer.meta.id.clone()), "")
        .expect("the parcels' tileset");
    let engine = tileset.engine();
    // One blocking thread per core, as rayon has: the reads and encodes run there.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(rayon::current_num_threads())
        .build()
        .expect("a runtime");
    let tms = TileMatrixSet::web_mercator_quad();
    let render =
        |t: TileCoord| -> Rendered { rt.block_on(engine.render(&tms, t)).expect("render") };
    let towns = territorio::towns(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/comuni_toscana.fgb"),
    );
    let zooms: Vec<u8> = if measuring {
        (6..=14).collect()
    } else {
        vec![8, 12]
    };

    // The report first: whole passes over each zoom's tiles, one thread and then all cores.
    println!(
        "parcels: {n}; tile budget {} features, {} bytes",
        layer.tiling.default.max_features, layer.tiling.default.max_bytes
    );
    println!(
        "zoom  tiles  1-thread tiles/s  all-cores tiles/s  CPU ms/tile  largest tile (bytes, ms)"
    );
    for &z in &zooms {
        let coords = tiles_at(&tms, &towns, z, if measuring { 400 } else { 10 });
        let (mut largest, mut largest_ms, mut features, mut dropped) =
            (0usize, 0.0f64, 0usize, 0usize);
        let started = Instant::now();
        let cpu0 = cpu_time();
        for &t in &coords {
            let t0 = Instant::now();
            let r = render(t);
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            features += r.features;
            dropped += r.dropped;
            if r.bytes.len() > largest {
                (largest, largest_ms) = (r.bytes.len(), ms);
            }
        }
        let one = coords.len() as f64 / started.elapsed().as_secs_f64();
        let cpu_ms = (cpu_time() - cpu0).as_secs_f64() * 1000.0 / coords.len() as f64;
        let started = Instant::now();
        let total: usize = coords.par_iter().map(|&t| render(t).bytes.len()).sum();
        let all = coords.len() as f64 / started.elapsed().as_secs_f64();
        println!(
            "z{z:<4} {:>5}  {one:>16.0}  {all:>17.0}  {cpu_ms:>11.2}  {largest:>9} B {largest_ms:>7.1} ms   (mean {} B, {} features, {} dropped)",
            coords.len(),
            total / coords.len().max(1),
            features / coords.len().max(1),
            dropped / coords.len().max(1),
        );
    }

    // How much of a tile is reading: the source's part alone, at z12, with the synchronous
    // reader.
    if measuring {
        let reader = tessera::source::flatgeobuf::FlatGeobuf::open(&path, &Default::default())
            .expect("the parcel layer");
        let coords = tiles_at(&tms, &towns, 12, 200);
        let started = Instant::now();
        let mut n = 0;
        for &t in &coords {
            let b = tms.to_crs84(tms.bounds(t)).expect("bounds");
            n += reader
                .tile_features(
                    &TileQuery {
                        bbox: b,
                        pixel: [b.width() / 256.0, b.height() / 256.0],
                        columns: (0..reader.info().fields.len()).collect(),
                        max_features: 200_000,
                        tally: None,
                    },
                    &Cancel::never(),
                )
                .expect("read")
                .features
                .len();
        }
        let read = started.elapsed().as_secs_f64() * 1000.0 / coords.len() as f64;
        println!(
            "z12 reading alone: {read:.2} ms/tile ({} features/tile)",
            n / coords.len()
        );
    }

    let mut group = c.benchmark_group("tiles");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(if measuring { 4 } else { 1 }));
    for &z in &zooms {
        let coords = tiles_at(&tms, &towns, z, 50);
        group.throughput(Throughput::Elements(coords.len() as u64));
        group.bench_function(format!("z{z}"), |b| {
            b.iter(|| {
                for &t in &coords {
                    std::hint::black_box(render(t));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
