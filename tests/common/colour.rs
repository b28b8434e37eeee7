//! Colours of rendered maps (browser and QGIS screenshots, reported as `#rrggbb` → pixel count):
//! how many pixels are a colour, or of its hue once blended with a light background.

use serde_json::{Map, Value};

pub fn rgb(hex: &str) -> Option<[i32; 3]> {
    let c = hex.strip_prefix('#')?;
    if c.len() != 6 {
        return None;
    }
    let v = |i: usize| i32::from_str_radix(&c[i..i + 2], 16).ok();
    Some([v(0)?, v(2)?, v(4)?])
}

/// Pixels whose channels add up to within `slack` of `colour` (antialiased edges blend it).
pub fn pixels_near(counts: &Map<String, Value>, colour: [i32; 3], slack: i32) -> u64 {
    counts
        .iter()
        .filter_map(|(k, n)| Some((rgb(k)?, n.as_u64()?)))
        .filter(|(c, _)| (0..3).map(|i| (c[i] - colour[i]).abs()).sum::<i32>() <= slack)
        .map(|(_, n)| n)
        .sum()
}

/// Hue in degrees and saturation (HSV) of a colour.
pub fn hue(c: [i32; 3]) -> (f64, f64) {
    let [r, g, b] = c.map(|v| v as f64 / 255.0);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let d = max - min;
    let h = if d == 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (h, if max == 0.0 { 0.0 } else { d / max })
}

/// Pixels of `colour`'s hue (within `degrees`), however light: a translucent fill, a hatch or
/// an antialiased line keeps its hue over a grey background. Greys (saturation under 0.15)
/// never count.
pub fn pixels_of_hue(counts: &Map<String, Value>, colour: [i32; 3], degrees: f64) -> u64 {
    let (want, _) = hue(colour);
    counts
        .iter()
        .filter_map(|(k, n)| Some((rgb(k)?, n.as_u64()?)))
        .filter(|(c, _)| {
            let (h, s) = hue(*c);
            let d = (h - want).abs();
            s >= 0.15 && d.min(360.0 - d) <= degrees
        })
        .map(|(_, n)| n)
        .sum()
}

/// The first colour of struttura `s`'s list for `stato` in the palette (styles/strutture.json).
pub fn palette_colour(s: &str, stato: &str) -> [i32; 3] {
    let p: Value = serde_json::from_str(
        &std::fs::read_to_string(super::repo().join("styles/strutture.json")).unwrap(),
    )
    .unwrap();
    rgb(p["strutture"][s][stato][0].as_str().unwrap()).unwrap()
}
