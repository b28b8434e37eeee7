//! How a layer is cut into tiles: its zoom range, MVT extent and buffer, and per zoom what
//! the tiles hold (properties, simplification, smallest feature, budget).

/// What a layer's tiles hold at one zoom level.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelDetail {
    /// Field indices of the properties written; `None` writes them all.
    pub properties: Option<Vec<usize>>,
    /// Simplification tolerance, in tile units (1/extent of the tile side).
    pub simplify: f64,
    /// Features, rings and lines smaller than this many pixels (1/256 of the tile) are dropped.
    pub min_size_px: f64,
    pub max_features: usize,
    pub max_bytes: usize,
}

impl Default for LevelDetail {
    fn default() -> Self {
        // tippecanoe's per-tile limits.
        LevelDetail {
            properties: None,
            simplify: 1.0,
            min_size_px: 1.0,
            max_features: 200_000,
            max_bytes: 500_000,
        }
    }
}

/// How a layer is cut into tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiling {
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub extent: u32,
    /// Around the tile, in tile units, so that lines and outlines continue past the border.
    pub buffer: u32,
    pub default: LevelDetail,
    /// Zoom ranges (inclusive) with their own detail; the last that holds a zoom wins.
    pub levels: Vec<(u8, u8, LevelDetail)>,
    /// Whether features left out of a tile (under a pixel, over the budget's count) are drawn
    /// as stand-ins ([`super::stand_in`]).
    pub stand_ins: bool,
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling {
            min_zoom: 0,
            max_zoom: 16,
            extent: 4096,
            buffer: 64,
            default: LevelDetail::default(),
            levels: Vec::new(),
            stand_ins: true,
        }
    }
}

impl Tiling {
    pub fn at(&self, z: u8) -> &LevelDetail {
        self.levels
            .iter()
            .rev()
            .find(|(from, to, _)| (*from..=*to).contains(&z))
            .map_or(&self.default, |(_, _, d)| d)
    }

    pub fn covers(&self, z: u8) -> bool {
        (self.min_zoom..=self.max_zoom).contains(&z)
    }
}
