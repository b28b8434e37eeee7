//! Items pages per second through the real router (routing, parameter checks, R-tree query,
//! decoding, reprojection, GeoJSON writing), in process, on a 1,000,000-parcel FlatGeobuf layer.
//!
//! `cargo bench --bench items`; the layer is generated once under target/bench-data/.
//! TESSERA_BENCH_PARCELS changes the size.

#[allow(dead_code)]
#[path = "../sample-data/synth.rs"]
mod synth;
#[allow(dead_code)]
#[path = "support/territorio.rs"]
mod territorio;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;
use tessera::catalogue::Catalogue;
use tessera::config::ServerConfig;
use tower::ServiceExt;

// The allocator the server runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    // `cargo test --all-targets` runs benches once as a smoke test: keep that layer small.
    let measuring = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("TESSERA_BENCH_PARCELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 1_000_000 } else { 20_000 });
    let layer = territorio::bench_layer(n);
    let mut cat = Catalogue::default();
    cat.add_previews(std::slice::from_ref(&layer))
        .expect("open the parcel layer");
    let id = cat.layers()[0].meta.id.clone();
    let router =
        tessera::server::router(tessera::server::AppState::new(cat, ServerConfig::default()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let towns = territorio::towns(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/comuni_toscana.fgb"),
    );

    let get = |uri: String| {
        let router = router.clone();
        rt.block_on(async move {
            let res = router
                .oneshot(
                    Request::get(uri)
                        .header("host", "bench")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap()
                .len()
        })
    };

    let mut g = c.benchmark_group("items");
    g.throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(8));
    for (limit, size) in [(100usize, 0.03f64), (1000, 0.12)] {
        let mut rng = synth::Rng(42);
        g.bench_function(format!("random_bbox_limit_{limit}"), |b| {
            b.iter(|| {
                let t = &towns[(rng.next() % towns.len() as u64) as usize];
                let (x, y) = (
                    t.centre.x + rng.range(-0.02, 0.02),
                    t.centre.y + rng.range(-0.02, 0.02),
                );
                let s = size * rng.range(0.7, 1.3);
                get(format!(
                    "/collections/{id}/items?limit={limit}&bbox={},{},{},{}",
                    x - s / 2.0,
                    y - s / 2.0,
                    x + s / 2.0,
                    y + s / 2.0
                ))
            })
        });
    }
    for (name, offset) in [("page_1", 0usize), ("page_1000", 99_900)] {
        g.bench_function(format!("limit_100_{name}"), |b| {
            b.iter(|| get(format!("/collections/{id}/items?limit=100&offset={offset}")))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
