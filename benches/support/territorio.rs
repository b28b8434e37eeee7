//! Deterministic territorial layers for benchmarks, clustered around the towns of Tuscany and
//! kept inside their comune, written as FlatGeobuf with a packed R-tree: cadastral parcels
//! (star-shaped polygons of 6-20 vertices, 0.1-20 ha), buildings (rotated rectangles and L
//! shapes, 40-2,500 m², denser near the centre) and roads (wandering polylines of 3-40
//! vertices, 150 m to 6 km). The same counts always give the same files.

use crate::synth::{Rng, star_polygon};
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{Contains, InteriorPoint};
use geo_types::LineString;
use geo_types::{Coord, Geometry, MultiPolygon, Point, Polygon};
use geozero::{ColumnValue, PropertyProcessor};
use std::path::{Path, PathBuf};
use tessera::source::flatgeobuf::FlatGeobuf;
use tessera::source::{Cancel, Query, SourceOptions, Value};

pub struct Town {
    pub istat: String,
    pub centre: Coord<f64>,
    pub shape: MultiPolygon<f64>,
    /// Spread of the parcels around the centre, in degrees.
    pub spread: f64,
}

pub fn towns(comuni: &Path) -> Vec<Town> {
    let src = FlatGeobuf::open(comuni, &SourceOptions::default()).expect("comuni");
    let istat = src
        .info()
        .fields
        .iter()
        .position(|f| f.name == "istat")
        .expect("istat");
    let page = src
        .query(
            &Query {
                limit: usize::MAX,
                ..Default::default()
            },
            &Cancel::never(),
        )
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

fn writer<'a>(name: &str, kind: GeometryType, columns: &[(&str, ColumnType)]) -> FgbWriter<'a> {
    let opts = FgbWriterOptions {
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut w = FgbWriter::create_with_options(name, kind, opts).expect("writer");
    for (name, t) in columns {
        w.add_column(name, *t, |_, _| {});
    }
    w
}

/// Writes the layer through a temporary file renamed at the end.
fn finish(w: FgbWriter<'_>, out: &Path) {
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

/// A point of a town's cluster, inside its comune: a bell (sum of uniforms) around the
/// centre, `tightness` times narrower than the parcels'.
fn near_town<'t>(rng: &mut Rng, towns: &'t [Town], tightness: f64) -> (&'t Town, Coord<f64>) {
    loop {
        let t = &towns[(rng.next() % towns.len() as u64) as usize];
        let spread = t.spread / tightness;
        let dx = (rng.unit() + rng.unit() + rng.unit() - 1.5) * spread;
        let dy = (rng.unit() + rng.unit() + rng.unit() - 1.5) * spread;
        let c = Coord {
            x: t.centre.x + dx,
            y: t.centre.y + dy,
        };
        if t.shape.contains(&Point(c)) {
            return (t, c);
        }
    }
}

/// Metres to degrees of longitude and latitude at a latitude.
fn metres(lat: f64) -> (f64, f64) {
    (1.0 / (111_320.0 * lat.to_radians().cos()), 1.0 / 110_540.0)
}

/// Writes `n` parcels to `out` (through a temporary file renamed at the end).
pub fn generate(comuni: &Path, out: &Path, n: usize) {
    let towns = towns(comuni);
    let mut rng = Rng(0x5eed_0000_0065_2014);
    let mut w = writer(
        "particelle",
        GeometryType::Polygon,
        &[
            ("comune", ColumnType::String),
            ("foglio", ColumnType::Int),
            ("particella", ColumnType::String),
            ("superficie_ha", ColumnType::Double),
        ],
    );
    let mut written = 0usize;
    while written < n {
        let (t, c) = near_town(&mut rng, &towns, 1.0);
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
    finish(w, out);
}

/// Writes `n` buildings: rectangles or L shapes, rotated, closer to the centres than parcels.
pub fn generate_buildings(comuni: &Path, out: &Path, n: usize) {
    let towns = towns(comuni);
    let mut rng = Rng(0x5eed_0000_0ed1_f1c1);
    let mut w = writer(
        "edifici",
        GeometryType::Polygon,
        &[
            ("comune", ColumnType::String),
            ("uso", ColumnType::String),
            ("piani", ColumnType::Int),
            ("altezza_m", ColumnType::Double),
            ("superficie_m2", ColumnType::Double),
        ],
    );
    const USI: [&str; 5] = [
        "residenziale",
        "residenziale",
        "produttivo",
        "servizi",
        "agricolo",
    ];
    for _ in 0..n {
        let (t, c) = near_town(&mut rng, &towns, 2.5);
        // Log-uniform footprint between 40 and 2,500 m², 1:1 to 1:3.
        let area = 40.0 * (62.5f64).powf(rng.unit());
        let ratio = rng.range(1.0, 3.0);
        let (a, b) = ((area * ratio).sqrt(), (area / ratio).sqrt());
        let l_shape = rng.unit() < 0.3;
        // Corners in metres around the centre; an L cuts away one quarter.
        let corners: Vec<(f64, f64)> = if l_shape {
            vec![
                (-a / 2.0, -b / 2.0),
                (a / 2.0, -b / 2.0),
                (a / 2.0, 0.0),
                (0.0, 0.0),
                (0.0, b / 2.0),
                (-a / 2.0, b / 2.0),
            ]
        } else {
            vec![
                (-a / 2.0, -b / 2.0),
                (a / 2.0, -b / 2.0),
                (a / 2.0, b / 2.0),
                (-a / 2.0, b / 2.0),
            ]
        };
        let angle = rng.range(0.0, std::f64::consts::PI);
        let (kx, ky) = metres(c.y);
        let mut ring: Vec<Coord<f64>> = corners
            .iter()
            .map(|&(x, y)| Coord {
                x: c.x + (x * angle.cos() - y * angle.sin()) * kx,
                y: c.y + (x * angle.sin() + y * angle.cos()) * ky,
            })
            .collect();
        ring.push(ring[0]);
        let piani = 1 + (rng.next() % if area > 600.0 { 8 } else { 4 }) as i32;
        let uso = *rng.pick(&USI);
        let footprint = if l_shape { area * 0.75 } else { area };
        w.add_feature_geom(
            Geometry::Polygon(Polygon::new(LineString(ring), vec![])),
            |f| {
                f.property(0, "comune", &ColumnValue::String(&t.istat))
                    .expect("prop");
                f.property(1, "uso", &ColumnValue::String(uso))
                    .expect("prop");
                f.property(2, "piani", &ColumnValue::Int(piani))
                    .expect("prop");
                f.property(3, "altezza_m", &ColumnValue::Double(piani as f64 * 3.2))
                    .expect("prop");
                f.property(4, "superficie_m2", &ColumnValue::Double(footprint.round()))
                    .expect("prop");
            },
        )
        .expect("feature");
    }
    finish(w, out);
}

/// Writes `n` roads: polylines that wander away from a town, turning a little at each vertex.
pub fn generate_roads(comuni: &Path, out: &Path, n: usize) {
    let towns = towns(comuni);
    let mut rng = Rng(0x5eed_0000_0057_2ade);
    let mut w = writer(
        "strade",
        GeometryType::LineString,
        &[
            ("comune", ColumnType::String),
            ("classe", ColumnType::String),
            ("nome", ColumnType::String),
            ("corsie", ColumnType::Int),
        ],
    );
    // Class, share of the roads, length range (m), lanes.
    const CLASSI: [(&str, f64, (f64, f64), i32); 4] = [
        ("statale", 0.04, (2000.0, 6000.0), 2),
        ("provinciale", 0.16, (1000.0, 4000.0), 2),
        ("comunale", 0.5, (300.0, 1500.0), 2),
        ("vicinale", 0.3, (150.0, 800.0), 1),
    ];
    for i in 0..n {
        let (t, c) = near_town(&mut rng, &towns, 1.2);
        let mut pick = rng.unit();
        let (classe, _, (lo, hi), corsie) = *CLASSI
            .iter()
            .find(|k| {
                pick -= k.1;
                pick <= 0.0
            })
            .unwrap_or(&CLASSI[3]);
        let length = rng.range(lo, hi);
        let vertices = 3 + (rng.next() % 38) as usize;
        let step = length / (vertices - 1) as f64;
        let (kx, ky) = metres(c.y);
        let mut heading = rng.range(0.0, std::f64::consts::TAU);
        let mut p = c;
        let mut line = vec![p];
        for _ in 1..vertices {
            heading += rng.range(-0.35, 0.35);
            p = Coord {
                x: p.x + step * heading.cos() * kx,
                y: p.y + step * heading.sin() * ky,
            };
            line.push(p);
        }
        let nome = match classe {
            "statale" => format!("SS {}", 1 + i % 80),
            "provinciale" => format!("SP {}", 1 + i % 400),
            "comunale" => format!("Via {}", 1 + i % 5000),
            _ => format!("Strada vicinale {}", 1 + i % 9000),
        };
        w.add_feature_geom(Geometry::LineString(LineString(line)), |f| {
            f.property(0, "comune", &ColumnValue::String(&t.istat))
                .expect("prop");
            f.property(1, "classe", &ColumnValue::String(classe))
                .expect("prop");
            f.property(2, "nome", &ColumnValue::String(&nome))
                .expect("prop");
            f.property(3, "corsie", &ColumnValue::Int(corsie))
                .expect("prop");
        })
        .expect("feature");
    }
    finish(w, out);
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
