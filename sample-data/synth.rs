//! Shared by the data generators (sample layers and benchmark parcels): a deterministic PRNG and
//! star-shaped polygons, which are always simple (valid) rings.

use geo_types::{Coord, LineString, Polygon};

/// splitmix64: tiny, fast and the same on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// A ring of `vertices` points around `centre` (lon/lat), at `radius_m` metres scaled by a
/// random factor in `scale`, with angles shifted by up to `angle_jitter` of a step. Angles stay
/// in order, so the ring never crosses itself.
pub fn star_polygon(
    rng: &mut Rng,
    centre: Coord<f64>,
    radius_m: f64,
    vertices: usize,
    scale: (f64, f64),
    angle_jitter: f64,
) -> Polygon<f64> {
    let kx = 1.0 / (111_320.0 * centre.y.to_radians().cos());
    let ky = 1.0 / 110_540.0;
    let phase = rng.range(0.0, std::f64::consts::TAU);
    let mut ring: Vec<Coord<f64>> = (0..vertices)
        .map(|i| {
            let jitter = if angle_jitter > 0.0 {
                rng.range(-angle_jitter, angle_jitter)
            } else {
                0.0
            };
            let step = i as f64 + jitter;
            let a = phase + std::f64::consts::TAU * step / vertices as f64;
            let r = radius_m * rng.range(scale.0, scale.1);
            Coord {
                x: centre.x + r * a.cos() * kx,
                y: centre.y + r * a.sin() * ky,
            }
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString(ring), vec![])
}
