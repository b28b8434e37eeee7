//! Builds the sample layers in `sample-data/` from `comuni_toscana.fgb`, deterministically:
//! the same run always writes the same features.
//!
//! ```sh
//! cargo run --release --example sample_data
//! ```
//!
//! Real: the comuni (ISTAT, via Openpolis) and the province derived from them by union.
//! Synthetic (marked so in their metadata): rivers, woods, urbanised perimeters, flood hazard
//! areas, landscape constraints and listed cultural sites, shaped around the real comuni.

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{Area, Buffer, Contains, InteriorPoint, unary_union};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use geozero::{ColumnValue, PropertyProcessor};
use std::collections::BTreeMap;
use std::path::Path;
use tessera::crs::Transformer;
use tessera::source::flatgeobuf::FlatGeobuf;
use tessera::source::{Cancel, Query, SourceOptions, Value};

mod synth;

use synth::{Rng, star_polygon};

struct Comune {
    istat: String,
    nome: String,
    provincia: String,
    sigla: String,
    geom: MultiPolygon<f64>,
    /// A point inside the comune, standing for its main town.
    centro: Point<f64>,
    area_km2: f64,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

fn read_comuni(path: &Path) -> Vec<Comune> {
    let src = FlatGeobuf::open(path, &SourceOptions::default()).expect("comuni_toscana.fgb");
    let fields = &src.info().fields;
    let col = |n: &str| fields.iter().position(|f| f.name == n).expect(n);
    let (istat, nome, prov, sigla) = (
        col("istat"),
        col("nome"),
        col("provincia"),
        col("sigla_prov"),
    );
    let page = src
        .query(
            &Query {
                limit: usize::MAX,
                ..Default::default()
            },
            &Cancel::never(),
        )
        .expect("reading comuni");
    let mut out: Vec<Comune> = page
        .features
        .into_iter()
        .map(|f| {
            let geom = match f.geometry.expect("geometry") {
                Geometry::MultiPolygon(m) => m,
                Geometry::Polygon(p) => MultiPolygon(vec![p]),
                other => panic!("unexpected geometry {other:?}"),
            };
            let centro = geom.interior_point().expect("non-empty");
            let area_km2 = geom.unsigned_area() * 111.0 * 111.0 * 0.72; // ~cos(43.5°)
            Comune {
                istat: text(&f.properties[istat]),
                nome: text(&f.properties[nome]),
                provincia: text(&f.properties[prov]),
                sigla: text(&f.properties[sigla]),
                geom,
                centro,
                area_km2,
            }
        })
        .collect();
    out.sort_by(|a, b| a.istat.cmp(&b.istat));
    out
}

/// A column declaration and how to write it.
#[derive(Clone, Copy)]
enum Col {
    S(&'static str),
    I(&'static str),
    F(&'static str),
    D(&'static str),
}

enum V {
    S(String),
    I(i64),
    F(f64),
}

fn write_layer(
    path: &Path,
    name: &str,
    gtype: GeometryType,
    epsg: i32,
    cols: &[Col],
    rows: Vec<(Geometry<f64>, Vec<V>)>,
) {
    let options = FgbWriterOptions {
        crs: FgbCrs {
            code: epsg,
            ..Default::default()
        },
        write_index: true,
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(name, gtype, options).expect("writer");
    for c in cols {
        let (n, t) = match c {
            Col::S(n) => (n, ColumnType::String),
            Col::I(n) => (n, ColumnType::Long),
            Col::F(n) => (n, ColumnType::Double),
            Col::D(n) => (n, ColumnType::DateTime),
        };
        fgb.add_column(n, t, |_, _| {});
    }
    let count = rows.len();
    for (g, vals) in rows {
        fgb.add_feature_geom(g, |w| {
            for (i, (c, v)) in cols.iter().zip(&vals).enumerate() {
                let name = match c {
                    Col::S(n) | Col::I(n) | Col::F(n) | Col::D(n) => *n,
                };
                let cv = match v {
                    V::S(s) if matches!(c, Col::D(_)) => ColumnValue::DateTime(s),
                    V::S(s) => ColumnValue::String(s),
                    V::I(x) => ColumnValue::Long(*x),
                    V::F(x) => ColumnValue::Double(*x),
                };
                w.property(i, name, &cv).expect("property");
            }
        })
        .expect("feature");
    }
    // Write to a temporary name, then rename: never a half-written file under the final name.
    let tmp = path.with_extension("fgb.tmp");
    let file = std::fs::File::create(&tmp).expect("create");
    let mut out = std::io::BufWriter::new(file);
    fgb.write(&mut out).expect("write");
    drop(out);
    std::fs::rename(&tmp, path).expect("rename");
    println!("{}: {count} features", path.display());
}

fn reproject(g: &mut Geometry<f64>, t: &Transformer) {
    t.geometry(g).expect("reprojection inside Italy");
}

/// An irregular star-shaped ring around `c` (lon/lat), radius in metres.
fn blob(rng: &mut Rng, c: Coord<f64>, radius_m: f64, vertices: usize) -> Polygon<f64> {
    star_polygon(rng, c, radius_m, vertices, (0.65, 1.0), 0.0)
}

fn random_point_in(
    rng: &mut Rng,
    region: &MultiPolygon<f64>,
    bbox: (f64, f64, f64, f64),
) -> Coord<f64> {
    loop {
        let c = Coord {
            x: rng.range(bbox.0, bbox.2),
            y: rng.range(bbox.1, bbox.3),
        };
        if region.contains(&Point(c)) {
            return c;
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let comuni = read_comuni(&dir.join("comuni_toscana.fgb"));
    assert_eq!(comuni.len(), 273, "expected the 273 comuni of Tuscany");
    let mut rng = Rng(0x7e55_e4a0_2014_0065);
    let to_3003 = Transformer::new(4326, 3003).expect("3003");
    let to_6707 = Transformer::new(4326, 6707).expect("6707");
    let from_6707 = Transformer::new(6707, 4326).expect("6707");
    let bbox = (9.68, 42.23, 12.38, 44.48);

    // Province: union of their comuni.
    let mut by_prov: BTreeMap<String, Vec<&Comune>> = BTreeMap::new();
    for c in &comuni {
        by_prov.entry(c.sigla.clone()).or_default().push(c);
    }
    let province: Vec<(Geometry<f64>, Vec<V>)> = by_prov
        .iter()
        .map(|(sigla, cs)| {
            let geom = unary_union(cs.iter().map(|c| &c.geom));
            let area = cs.iter().map(|c| c.area_km2).sum::<f64>();
            (
                Geometry::MultiPolygon(geom),
                vec![
                    V::S(sigla.clone()),
                    V::S(cs[0].provincia.clone()),
                    V::I(cs.len() as i64),
                    V::F((area * 10.0).round() / 10.0),
                ],
            )
        })
        .collect();
    assert_eq!(province.len(), 10, "Tuscany has 10 provinces");
    write_layer(
        &dir.join("province_toscana.fgb"),
        "province_toscana",
        GeometryType::MultiPolygon,
        4326,
        &[
            Col::S("sigla"),
            Col::S("nome"),
            Col::I("n_comuni"),
            Col::F("area_kmq"),
        ],
        province,
    );

    let toscana = unary_union(comuni.iter().map(|c| &c.geom));

    // Rivers: smooth random walks from inland towards the sea (west/south-west).
    let mut rivers: Vec<LineString<f64>> = Vec::new();
    let mut river_rows = Vec::new();
    for i in 0..80 {
        let mut c = random_point_in(&mut rng, &toscana, bbox);
        let mut heading = rng.range(2.6, 4.0); // radians: roughly west to south-west
        let mut pts = vec![c];
        let steps = 20 + (rng.next() % 60) as usize;
        for _ in 0..steps {
            heading += rng.range(-0.35, 0.35);
            heading = heading.clamp(2.2, 4.4);
            let step = rng.range(600.0, 1400.0);
            c = Coord {
                x: c.x + step * heading.cos() / (111_320.0 * c.y.to_radians().cos()),
                y: c.y + step * heading.sin() / 110_540.0,
            };
            if !toscana.contains(&Point(c)) {
                break;
            }
            pts.push(c);
        }
        if pts.len() < 4 {
            continue;
        }
        let ls = LineString(pts);
        let km = geo::Length::length(&geo::Haversine, &ls) / 1000.0;
        let ordine = 1 + (rng.next() % 4) as i64;
        river_rows.push((
            Geometry::LineString(ls.clone()),
            vec![
                V::S(format!("RI{:04}", i + 1)),
                V::S(format!("Corso d'acqua sintetico n. {}", i + 1)),
                V::I(ordine),
                V::F((km * 100.0).round() / 100.0),
            ],
        ));
        rivers.push(ls);
    }
    write_layer(
        &dir.join("reticolo_idrografico.fgb"),
        "reticolo_idrografico",
        GeometryType::LineString,
        4326,
        &[
            Col::S("codice"),
            Col::S("nome"),
            Col::I("ordine"),
            Col::F("lunghezza_km"),
        ],
        river_rows,
    );

    // Woods.
    let tipi_bosco = [
        "latifoglie",
        "conifere",
        "bosco misto",
        "macchia mediterranea",
        "castagneto",
    ];
    let boschi: Vec<(Geometry<f64>, Vec<V>)> = (0..400)
        .map(|i| {
            let c = random_point_in(&mut rng, &toscana, bbox);
            let radius = rng.range(300.0, 2500.0);
            let vertices = 10 + (rng.next() % 12) as usize;
            let p = blob(&mut rng, c, radius, vertices);
            let ha = p.unsigned_area() * 111_320.0 * 110_540.0 * c.y.to_radians().cos() / 10_000.0;
            (
                Geometry::MultiPolygon(MultiPolygon(vec![p])),
                vec![
                    V::S(format!("BO{:05}", i + 1)),
                    V::S(rng.pick(&tipi_bosco).to_string()),
                    V::F((ha * 10.0).round() / 10.0),
                ],
            )
        })
        .collect();
    write_layer(
        &dir.join("aree_boscate.fgb"),
        "aree_boscate",
        GeometryType::MultiPolygon,
        4326,
        &[
            Col::S("codice"),
            Col::S("tipo_bosco"),
            Col::F("superficie_ha"),
        ],
        boschi,
    );

    // Urbanised perimeter (art. 4) per comune, stored in Monte Mario / Gauss-Boaga (EPSG:3003).
    let tu: Vec<(Geometry<f64>, Vec<V>)> = comuni
        .iter()
        .map(|c| {
            let r = (c.area_km2.sqrt() * 180.0).clamp(400.0, 3000.0);
            let mut g =
                Geometry::MultiPolygon(MultiPolygon(vec![blob(&mut rng, c.centro.0, r, 16)]));
            reproject(&mut g, &to_3003);
            let anno = 2016 + (rng.next() % 9) as i64;
            (
                g,
                vec![
                    V::S(c.istat.clone()),
                    V::S(c.nome.clone()),
                    V::S(format!(
                        "{anno}-{:02}-{:02}",
                        1 + rng.next() % 12,
                        1 + rng.next() % 28
                    )),
                ],
            )
        })
        .collect();
    write_layer(
        &dir.join("territorio_urbanizzato.fgb"),
        "territorio_urbanizzato",
        GeometryType::MultiPolygon,
        3003,
        &[
            Col::S("istat"),
            Col::S("comune"),
            Col::S("data_approvazione"),
        ],
        tu,
    );

    // Flood hazard along rivers, as nested corridors, stored in RDN2008 / UTM 32N (EPSG:6707, E,N).
    let mut haz = Vec::new();
    for (i, r) in rivers.iter().enumerate() {
        let mut metric = Geometry::LineString(r.clone());
        reproject(&mut metric, &to_6707);
        let Geometry::LineString(line) = metric else {
            unreachable!()
        };
        for (classe, width, descr) in [
            ("P3", 120.0, "pericolosità elevata"),
            ("P2", 350.0, "pericolosità media"),
            ("P1", 700.0, "pericolosità bassa"),
        ] {
            let area = line.buffer(width);
            haz.push((
                Geometry::MultiPolygon(area),
                vec![
                    V::S(format!("PI{:04}{classe}", i + 1)),
                    V::S(classe.to_string()),
                    V::S(descr.to_string()),
                ],
            ));
        }
    }
    write_layer(
        &dir.join("pericolosita_idraulica.fgb"),
        "pericolosita_idraulica",
        GeometryType::MultiPolygon,
        6707,
        &[Col::S("codice"), Col::S("classe"), Col::S("descrizione")],
        haz,
    );

    // Landscape constraint, D.Lgs. 42/2004 art. 142 c. 1 lett. c: 150 m from each river bank.
    let vincoli: Vec<(Geometry<f64>, Vec<V>)> = rivers
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut metric = Geometry::LineString(r.clone());
            reproject(&mut metric, &to_6707);
            let Geometry::LineString(line) = metric else {
                unreachable!()
            };
            let mut g = Geometry::MultiPolygon(line.buffer(150.0));
            reproject(&mut g, &from_6707);
            (
                g,
                vec![
                    V::S(format!("V142C{:04}", i + 1)),
                    V::S("c".into()),
                    V::S("D.Lgs. 42/2004 art. 142 c.1 lett. c".into()),
                ],
            )
        })
        .collect();
    write_layer(
        &dir.join("vincoli_paesaggistici.fgb"),
        "vincoli_paesaggistici",
        GeometryType::MultiPolygon,
        4326,
        &[
            Col::S("codice"),
            Col::S("lettera"),
            Col::S("fonte_normativa"),
        ],
        vincoli,
    );

    // Listed cultural sites near the towns, each with the date of its listing.
    let tipi_bene = [
        "chiesa",
        "villa",
        "castello",
        "ponte",
        "area archeologica",
        "palazzo",
        "pieve",
    ];
    let beni: Vec<(Geometry<f64>, Vec<V>)> = (0..500)
        .map(|i| {
            let c = rng.pick(&comuni);
            let p = Coord {
                x: c.centro.x() + rng.range(-0.02, 0.02),
                y: c.centro.y() + rng.range(-0.015, 0.015),
            };
            let anno = 1910 + (rng.next() % 111) as i64;
            let data = format!(
                "{anno}-{:02}-{:02}T00:00:00Z",
                1 + rng.next() % 12,
                1 + rng.next() % 28
            );
            let tipo = rng.pick(&tipi_bene).to_string();
            (
                Geometry::Point(Point(p)),
                vec![
                    V::S(format!("BC{:05}", i + 1)),
                    V::S(format!("{tipo} sintetico n. {}", i + 1)),
                    V::S(tipo),
                    V::S(c.nome.clone()),
                    V::S(data),
                ],
            )
        })
        .collect();
    write_layer(
        &dir.join("beni_culturali.fgb"),
        "beni_culturali",
        GeometryType::Point,
        4326,
        &[
            Col::S("codice"),
            Col::S("denominazione"),
            Col::S("tipo"),
            Col::S("comune"),
            Col::D("data_vincolo"),
        ],
        beni,
    );
}
