//! Writes the benchmark layers of the tile, PostGIS and seeding work into a folder:
//! `cargo run --release --example territorio -- OUT_DIR [PARCELS] [BUILDINGS] [ROADS]`
//! (1,000,000 parcels, 500,000 buildings and 200,000 roads by default), as
//! `particelle.fgb`, `edifici.fgb` and `strade.fgb`.

#[allow(dead_code)]
#[path = "../sample-data/synth.rs"]
mod synth;
#[allow(dead_code)]
#[path = "support/territorio.rs"]
mod territorio;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "territorio".into()));
    let mut count = |default: usize| -> usize {
        args.next()
            .map(|v| v.parse().expect("counts are numbers"))
            .unwrap_or(default)
    };
    let (parcels, buildings, roads) = (count(1_000_000), count(500_000), count(200_000));
    let comuni =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/comuni_toscana.fgb");
    let t = std::time::Instant::now();
    territorio::generate(&comuni, &dir.join("particelle.fgb"), parcels);
    println!(
        "particelle.fgb: {parcels} parcels ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let t = std::time::Instant::now();
    territorio::generate_buildings(&comuni, &dir.join("edifici.fgb"), buildings);
    println!(
        "edifici.fgb: {buildings} buildings ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let t = std::time::Instant::now();
    territorio::generate_roads(&comuni, &dir.join("strade.fgb"), roads);
    println!(
        "strade.fgb: {roads} roads ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
}
