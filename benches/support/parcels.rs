//! A deterministic cadastral-parcel layer for benchmarks: small star-shaped polygons (6-20
//! vertices, 0.1-20 ha) clustered around the towns of Tuscany and kept inside their comune,
//! written as FlatGeobuf with a packed R-tree. The same `n` always gives the same file.

use crate::synth::{Rng, star_polygon};
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{Contains, InteriorPoint};
use geo_types::{Coord, Geometry, MultiPolygon, Point, Polygon};
use geozero::{ColumnValue, PropertyProcessor};
use std::path::{Path, PathBuf};
use tessera::source::flatgeobuf::FlatGeobufSource;
use tessera::source::{Query, Source, SourceOptions, Value};

pub struct Town {
    pub istat: String,
    pub centre: Coord<f64>,
    pub shape: MultiPolygon<f64>,
    /// Spread of the parcels around the centre, in degrees.
    pub spread: f64,
}

pub fn towns(comuni: &Path) -> Vec<Town> {
    let src = FlatGeobufSource::open(comuni, &SourceOptions::default()).expect("comuni");
    let istat = src
        .info()
        .fields
        .iter()
        .position(|f| f.name == "istat")
        .expect("istat");
    let page = src
        .query(&Query {
            limit: usize::MAX,
            ..Default::default()
        })
        .expect("read comuni");
    page.features
        .into_iter()
        .map(|f| {
            let shape = match f.geometry.expect("geometry") {
                Geometry::MultiPolygon(m) => m,
                Geometry::Polygon(p) => MultiPolygon(vec![p]),
                _ => unreachable!("comuni are polygons"),
            };
            let rect = geo::BoundingRect::bounding_rect(&shape).expect("non-empty");
            Town {
                istat: match &f.properties[istat] {
                    Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                },
                centre: shape.interior_point().expect("non-empty").0,
                spread: (rect.width() + rect.height()) / 8.0,
                shape,
            }
        })
        .collect()
}

fn parcel(rng: &mut Rng, c: Coord<f64>) -> (Polygon<f64>, f64) {
    // Log-uniform area between 0.1 and 20 ha.
    let ha = 0.1 * (200f64).powf(rng.unit());
    let r = (ha * 10_000.0 / std::f64::consts::PI).sqrt();
    let n = 6 + (rng.next() % 15) as usize;
    (star_polygon(rng, c, r, n, (0.8, 1.15), 0.3), ha)
}

/// Writes `n` parcels to `out` (through a temporary file renamed at the end).
pub fn generate(comuni: &Path, out: &Path, n: usize) {
    let towns = towns(comuni);
    let mut rng = Rng(0x5eed_0000_0065_2014);
    let opts = FgbWriterOptions {
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut w =
        FgbWriter::create_with_options("particelle", GeometryType::Polygon, opts).expect("writer");
    for (name, t) in [
        ("comune", ColumnType::String),
        ("foglio", ColumnType::Int),
        ("particella", ColumnType::String),
        ("superficie_ha", ColumnType::Double),
    ] {
        w.add_column(name, t, |_, _| {});
    }
    let mut written = 0usize;
    while written < n {
        let t = &towns[(rng.next() % towns.len() as u64) as usize];
        // Sum of uniforms: a bell around the town centre.
        let dx = (rng.unit() + rng.unit() + rng.unit() - 1.5) * t.spread;
        let dy = (rng.unit() + rng.unit() + rng.unit() - 1.5) * t.spread;
        let c = Coord {
            x: t.centre.x + dx,
            y: t.centre.y + dy,
        };
        if !t.shape.contains(&Point(c)) {
            continue;
        }
        let (poly, ha) = parcel(&mut rng, c);
        let foglio = 1 + (rng.next() % 120) as i32;
        let particella = format!("{}", 1 + rng.next() % 3000);
        w.add_feature_geom(Geometry::Polygon(poly), |f| {
            f.property(0, "comune", &ColumnValue::String(&t.istat))
                .expect("prop");
            f.property(1, "foglio", &ColumnValue::Int(foglio))
                .expect("prop");
            f.property(2, "particella", &ColumnValue::String(&particella))
                .expect("prop");
            f.property(
                3,
                "superficie_ha",
                &ColumnValue::Double((ha * 100.0).round() / 100.0),
            )
            .expect("prop");
        })
        .expect("feature");
        written += 1;
    }
    let tmp = out.with_extension("fgb.tmp");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).expect("output folder");
    }
    w.write(std::io::BufWriter::new(
        std::fs::File::create(&tmp).expect("create"),
    ))
    .expect("write");
    std::fs::rename(&tmp, out).expect("rename");
}

/// The benchmark layer, generated on first use under `target/bench-data/`.
pub fn bench_layer(n: usize) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = root.join(format!("target/bench-data/particelle_{n}.fgb"));
    if !out.is_file() {
        eprintln!("generating {} ({n} parcels, once)…", out.display());
        generate(&root.join("sample-data/comuni_toscana.fgb"), &out, n);
    }
    out
}
