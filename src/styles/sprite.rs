//! The styles' sprite: the hatches of the *di diritto* areas, one per kind of diritto and
//! colour of the palette, drawn here (no image files to keep in step) at 1× and 2×, as the
//! sprite format wants: a PNG sheet and a JSON index of where each image lies. MapLibre fetches
//! it from the style's `sprite` URL; QGIS takes it with the style (its converter reads
//! `fill-pattern` images from the same sheet).

use super::palette::{Hatch, Palette, pattern_name};
use crate::lr65::{TipoDiritto, Voce};
use serde_json::{Value as Json, json};
use std::io::Write;

/// One hatch tile, in CSS pixels; its lines repeat every [`PERIOD`] so that tiles join.
const SIDE: u32 = 16;
pub const PERIOD: f64 = 8.0;
/// Hatch lines, in CSS pixels, and how opaque they are.
pub const LINE: f64 = 1.4;
pub const ALPHA: f64 = 0.85;
/// Images a row of the sheet.
const PER_ROW: u32 = 8;

/// A sprite sheet at one pixel ratio.
pub struct Sheet {
    pub index: Json,
    pub png: Vec<u8>,
}

/// The sprite's files, as the styles name them (`sprite` + `.json`, `.png`, `@2x.json`,
/// `@2x.png`), with their content.
pub fn files(palette: &Palette) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (ratio, suffix) in [(1, ""), (2, "@2x")] {
        let s = sheet(palette, ratio);
        let index = serde_json::to_string_pretty(&s.index).unwrap_or_default() + "\n";
        out.push((format!("sprite{suffix}.json"), index.into_bytes()));
        out.push((format!("sprite{suffix}.png"), s.png));
    }
    out
}

/// Every image the styles name, at `ratio` (1 or 2) device pixels a CSS pixel.
pub fn sheet(palette: &Palette, ratio: u32) -> Sheet {
    let ratio = ratio.clamp(1, 4);
    let mut images = Vec::new();
    for colour in palette.diritto_colours() {
        for t in TipoDiritto::ALL {
            images.push((pattern_name(*t, colour), Hatch::of(*t), rgb(colour)));
        }
    }
    let side = SIDE * ratio;
    let cols = PER_ROW.min(images.len().max(1) as u32);
    let rows = (images.len() as u32).div_ceil(cols).max(1);
    let (w, h) = (cols * side, rows * side);
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    let mut index = serde_json::Map::new();
    for (k, (name, hatch, colour)) in images.into_iter().enumerate() {
        let (x0, y0) = ((k as u32 % cols) * side, (k as u32 / cols) * side);
        for y in 0..side {
            for x in 0..side {
                // The pixel's centre in CSS pixels, and how much of it the hatch covers.
                let (cx, cy) = (
                    (x as f64 + 0.5) / ratio as f64,
                    (y as f64 + 0.5) / ratio as f64,
                );
                let a = coverage(hatch, cx, cy, ratio as f64) * ALPHA;
                let at = (((y0 + y) * w + x0 + x) * 4) as usize;
                rgba[at..at + 3].copy_from_slice(&colour);
                rgba[at + 3] = (a * 255.0).round() as u8;
            }
        }
        index.insert(
            name,
            json!({"x": x0, "y": y0, "width": side, "height": side, "pixelRatio": ratio}),
        );
    }
    Sheet {
        index: Json::Object(index),
        png: png(w, h, &rgba),
    }
}

/// How much of the pixel centred at (`x`, `y`) a hatch line covers (antialiased over one
/// device pixel).
fn coverage(hatch: Hatch, x: f64, y: f64, ratio: f64) -> f64 {
    // Distance to the nearest line of the family a·x + b·y = k·PERIOD, in CSS pixels: the
    // lines lie PERIOD / |(a, b)| apart.
    let to_lines = |a: f64, b: f64| {
        let norm = a.hypot(b);
        let (along, period) = ((a * x + b * y) / norm, PERIOD / norm);
        let r = along.rem_euclid(period);
        r.min(period - r)
    };
    let d = match hatch {
        // y grows downwards: x + y constant rises to the right.
        Hatch::Rising => to_lines(1.0, 1.0),
        Hatch::Falling => to_lines(1.0, -1.0),
        Hatch::Level => to_lines(0.0, 1.0),
        Hatch::Crossed => to_lines(1.0, 1.0).min(to_lines(1.0, -1.0)),
    };
    let half = LINE / 2.0;
    let soft = 0.5 / ratio;
    ((half + soft - d) / (2.0 * soft)).clamp(0.0, 1.0)
}

fn rgb(hex: &str) -> [u8; 3] {
    let h = hex.trim_start_matches('#');
    let v = |i: usize| h.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok());
    [v(0).unwrap_or(0), v(2).unwrap_or(0), v(4).unwrap_or(0)]
}

/// A PNG of 8-bit RGBA pixels: signature, header, one zlib stream, end.
fn png(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&w.to_be_bytes());
    header.extend_from_slice(&h.to_be_bytes());
    // 8 bits a channel, RGBA, deflate, adaptive filters, no interlace.
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for row in rgba.chunks((w * 4) as usize) {
        // Each row starts with its filter: none.
        let _ = z.write_all(&[0]).and_then(|_| z.write_all(row));
    }
    let data = z.finish().unwrap_or_default();
    chunk(&mut out, b"IDAT", &data);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_colour_has_its_hatch_at_both_ratios() {
        let p = Palette::default();
        for ratio in [1, 2] {
            let s = sheet(&p, ratio);
            let n = p.diritto_colours().len() * TipoDiritto::ALL.len();
            assert_eq!(s.index.as_object().unwrap().len(), n);
            let pericolosita = &s.index["pericolosita-00838f"];
            assert_eq!(pericolosita["width"], 16 * ratio);
            assert_eq!(pericolosita["pixelRatio"], ratio);
            assert!(s.png.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
    }

    #[test]
    fn the_sheet_is_a_valid_png() {
        use std::io::Read;
        let s = sheet(&Palette::default(), 2);
        let png = &s.png[8..];
        let mut chunks = Vec::new();
        let mut at = 0;
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let (kind, data) = (&png[at + 4..at + 8], &png[at + 8..at + 8 + len]);
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            let mut h = crc32fast::Hasher::new();
            h.update(kind);
            h.update(data);
            assert_eq!(h.finalize(), crc, "{}", String::from_utf8_lossy(kind));
            chunks.push((kind.to_vec(), data.to_vec()));
            at += 12 + len;
        }
        let kinds: Vec<&[u8]> = chunks.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(kinds, [&b"IHDR"[..], b"IDAT", b"IEND"]);
        let ihdr = &chunks[0].1;
        let w = u32::from_be_bytes(ihdr[0..4].try_into().unwrap()) as usize;
        let h = u32::from_be_bytes(ihdr[4..8].try_into().unwrap()) as usize;
        assert_eq!(&ihdr[8..], &[8, 6, 0, 0, 0]);
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&chunks[1].1[..])
            .read_to_end(&mut raw)
            .unwrap();
        // A filter byte and w RGBA pixels a row.
        assert_eq!(raw.len(), h * (1 + 4 * w));
        assert!(raw.chunks(1 + 4 * w).all(|row| row[0] == 0));
        // Some pixels drawn, some clear: a hatch.
        let alphas: Vec<u8> = raw
            .chunks(1 + 4 * w)
            .flat_map(|r| r[1..].iter().skip(3).step_by(4).copied())
            .collect();
        assert!(alphas.contains(&0) && alphas.iter().any(|&a| a > 200));
    }

    #[test]
    fn hatches_are_lines_with_gaps_that_tile() {
        // Level lines at y = 0, 8, 16…: covered there, clear half way.
        assert!(coverage(Hatch::Level, 3.0, 0.2, 1.0) > 0.9);
        assert_eq!(coverage(Hatch::Level, 3.0, 4.0, 1.0), 0.0);
        // Rising lines through (0, 8) and (8, 0); the tile's edges match.
        assert!(coverage(Hatch::Rising, 4.0, 4.0, 2.0) > 0.9);
        assert_eq!(coverage(Hatch::Rising, 4.0, 0.0, 2.0), 0.0);
        for t in [Hatch::Rising, Hatch::Falling, Hatch::Level, Hatch::Crossed] {
            for y in 0..16 {
                let (a, b) = (
                    coverage(t, 0.25, y as f64 + 0.5, 2.0),
                    coverage(t, 16.25, y as f64 + 0.5, 2.0),
                );
                assert!((a - b).abs() < 1e-9, "{t:?} at row {y}");
            }
        }
        // Crossed covers more than either of its directions.
        let count = |t: Hatch| {
            (0..16 * 16)
                .filter(|k| coverage(t, (k % 16) as f64 + 0.5, (k / 16) as f64 + 0.5, 1.0) > 0.5)
                .count()
        };
        assert!(count(Hatch::Crossed) > count(Hatch::Rising));
        assert!(count(Hatch::Rising) > 16 && count(Hatch::Rising) < 128);
    }
}
