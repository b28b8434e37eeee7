//! Writes the benchmark parcel layer: `cargo run --release --example parcels -- OUT.fgb [N]`
//! (N defaults to 1,000,000).

#[allow(dead_code)]
#[path = "../sample-data/synth.rs"]
mod synth;
#[allow(dead_code)]
#[path = "support/territorio.rs"]
mod territorio;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "particelle.fgb".into());
    let n: usize = args
        .next()
        .map(|v| v.parse().expect("N is a number"))
        .unwrap_or(1_000_000);
    let comuni =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/comuni_toscana.fgb");
    let t = std::time::Instant::now();
    territorio::generate(&comuni, std::path::Path::new(&out), n);
    println!("{out}: {n} parcels in {:.1} s", t.elapsed().as_secs_f64());
}
