//! The byte budget's last resort: when a layer is still over `max_bytes` after a coarser
//! simplification, its smallest features are left out. Each feature's encoded size is known,
//! so the largest that fit are kept without encoding by trial.

use super::mvt::{LayerWriter, TileGeometry};
use super::shape;

/// Appends to `tile` the largest of the `shaped` features (area, then length; points last)
/// whose layer fits `max_bytes`; says how many it kept. `writer` and `sizes` are all of them
/// encoded; `encode` encodes a subset again.
pub fn keep_largest(
    shaped: &[(usize, TileGeometry)],
    writer: &LayerWriter,
    sizes: &[usize],
    max_bytes: usize,
    encode: impl Fn(&[&(usize, TileGeometry)]) -> (LayerWriter, Vec<usize>),
    tile: &mut Vec<u8>,
) -> usize {
    let weights: Vec<f64> = shaped.iter().map(|(_, g)| weight(g)).collect();
    let mut order: Vec<usize> = (0..shaped.len()).collect();
    order.sort_unstable_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    let pick = |room: usize| {
        let mut keep = vec![false; shaped.len()];
        let (mut used, mut kept) = (0usize, 0usize);
        for &i in &order {
            if used + sizes[i] > room {
                break;
            }
            used += sizes[i];
            keep[i] = true;
            kept += 1;
        }
        (keep, kept)
    };
    let overhead = writer.overhead();
    if overhead <= max_bytes / 2 {
        // The dropped features' keys and values stay in the tables: the size is exact.
        let (keep, kept) = pick(max_bytes - overhead);
        if kept > 0 {
            writer.append_to_tile(Some(&keep), tile);
        }
        return kept;
    }
    // Tables of mostly unique values: encode the kept ones again, so that the tables shrink
    // with them, until it fits.
    let mut room = max_bytes * 9 / 10;
    loop {
        let (keep, kept) = pick(room);
        if kept == 0 {
            return 0;
        }
        let subset: Vec<&(usize, TileGeometry)> = shaped
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| s)
            .collect();
        let w = encode(&subset).0;
        if w.len_keeping(None) <= max_bytes {
            w.append_to_tile(None, tile);
            return kept;
        }
        room = room * 9 / 10;
    }
}

/// A feature's weight for the byte budget: area for polygons, length for lines, 0 for points.
fn weight(s: &TileGeometry) -> f64 {
    let area: f64 = s.rings.iter().map(|r| shape::shoelace(r).max(0.0)).sum();
    let length: f64 = s
        .lines
        .iter()
        .flat_map(|l| l.windows(2))
        .map(|w| ((w[1][0] - w[0][0]) as f64).hypot((w[1][1] - w[0][1]) as f64))
        .sum();
    area + length
}
