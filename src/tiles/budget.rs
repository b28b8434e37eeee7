//! The byte budget's last resort: when a layer is still over `max_bytes` after a coarser
//! simplification, its smallest features are left out. Each feature's encoded size is known,
//! so the largest that fit are picked without encoding by trial.

use super::mvt::TileGeometry;
use super::shape;

/// Which of the `shaped` features to keep: the largest (area, then length; points last, in
/// their order) whose encoded `sizes` add up to at most `room` bytes.
pub fn largest_within<T>(shaped: &[(T, TileGeometry)], sizes: &[usize], room: usize) -> Vec<bool> {
    let weights: Vec<f64> = shaped.iter().map(|(_, g)| weight(g)).collect();
    let mut order: Vec<usize> = (0..shaped.len()).collect();
    order.sort_unstable_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    let mut keep = vec![false; shaped.len()];
    let mut used = 0usize;
    for i in order {
        if used + sizes[i] > room {
            break;
        }
        used += sizes[i];
        keep[i] = true;
    }
    keep
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
