//! Queries: a page of matching features (bbox through the R-tree, exact tests only at the
//! edges, matched lists cached for paging), the features of a tile, one feature by id.

use super::decode::intersection;
use super::{FlatGeobuf, MATCH_CACHE_ENTRIES};
use crate::source::{
    Cancel, Feature, Page, Query, SourceError, Tally, TileFeatures, TileQuery, Value, too_small,
};
use crate::temporal::Interval;
use ::flatgeobuf::GeometryType;
use geo::{Contains, CoordsIter, Intersects};
use geo_types::{Coord, Rect};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct MatchKey {
    bbox: Vec<[u64; 4]>,
    datetime: Option<Interval>,
    equals: Vec<(usize, Value)>,
}

impl FlatGeobuf {
    fn matching(&self, q: &Query, cancel: &Cancel) -> Result<Option<Arc<Vec<u32>>>, SourceError> {
        if q.bbox.is_empty() && q.datetime.is_none() && q.equals.is_empty() {
            return Ok(None);
        }
        let key = MatchKey {
            bbox: q
                .bbox
                .iter()
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y].map(f64::to_bits))
                .collect(),
            datetime: q.datetime,
            equals: q.equals.clone(),
        };
        if let Some(hit) = self.cached(&key) {
            return Ok(Some(hit));
        }
        // Clip each box to the layer's extent first: nothing lies outside it, and a box far
        // away (another continent) may not even be representable in the storage CRS.
        let mut areas = Vec::with_capacity(q.bbox.len());
        for b in &q.bbox {
            if let Some(clipped) = self.info.extent.and_then(|e| intersection(b, &e)) {
                areas.push(self.from_crs84.area(clipped)?);
            }
        }
        let candidates: Vec<u32> = match &self.tree {
            None => Vec::new(),
            Some(_) if q.bbox.is_empty() => (0..self.slots.len() as u32).collect(),
            Some(tree) => {
                let mut hits = Vec::new();
                for a in &areas {
                    let r = a.envelope;
                    let bbox = [r.min().x, r.min().y, r.max().x, r.max().y];
                    hits.extend(tree.search(&self.slots, bbox));
                }
                hits.sort_unstable();
                hits.dedup();
                hits
            }
        };
        // Sort candidates by their box: surely inside a query area (no decoding needed unless
        // properties are filtered too), surely outside (dropped), or to be tested exactly.
        let needs_props = q.datetime.is_some() || !q.equals.is_empty();
        let mut sure = Vec::new();
        let mut to_check = Vec::new();
        for &i in &candidates {
            let s = &self.slots[i as usize].bbox;
            let leaf = Rect::new(Coord { x: s[0], y: s[1] }, Coord { x: s[2], y: s[3] });
            if !areas.is_empty() && areas.iter().all(|a| a.surely_misses(&leaf)) {
                continue;
            }
            if !needs_props && areas.iter().any(|a| a.surely_contains(&leaf)) {
                sure.push(i);
            } else {
                to_check.push(i);
            }
        }
        let mut matched = sure;
        let check_geometry = !q.bbox.is_empty();
        let inners: Vec<Rect<f64>> = areas.iter().filter_map(|a| a.inner).collect();
        // Decode only the columns the filters read.
        let mut used: Vec<usize> = q.equals.iter().map(|(i, _)| *i).collect();
        if q.datetime.is_some()
            && let Some((start, end)) = self.temporal
        {
            used.push(start);
            used.extend(end);
        }
        let mask = self.mask(used);

        self.for_each(&to_check, check_geometry, Some(&mask), cancel, |i, f| {
            if self.matches(q, &inners, f)? {
                matched.push(i);
            }
            Ok(())
        })?;
        matched.sort_unstable();
        let matched = Arc::new(matched);
        self.remember(key, matched.clone());
        Ok(Some(matched))
    }

    /// Whether a feature (geometry in the storage CRS) meets every criterion of `q`.
    fn matches(&self, q: &Query, inners: &[Rect<f64>], f: Feature) -> Result<bool, SourceError> {
        if let Some(want) = &q.datetime
            && let Some(t) = self.feature_time(&f)
            && !t.intersects(want)
        {
            return Ok(false);
        }
        if !q.equals.iter().all(|(i, v)| f.properties[*i].matches(v)) {
            return Ok(false);
        }
        let Some(g) = f.geometry else {
            // Features without a geometry match any bbox.
            return Ok(true);
        };
        if q.bbox.is_empty() {
            return Ok(true);
        }
        // A vertex inside an area's inner rectangle settles it without reprojecting.
        if g.coords_iter()
            .any(|c| inners.iter().any(|r| r.contains(&c)))
        {
            return Ok(true);
        }
        let g = self
            .published(Feature {
                geometry: Some(g),
                ..f
            })?
            .geometry;
        Ok(g.is_some_and(|g| q.bbox.iter().any(|b| g.intersects(b))))
    }

    fn cached(&self, key: &MatchKey) -> Option<Arc<Vec<u32>>> {
        let mut m = self.matches.lock().unwrap_or_else(|p| p.into_inner());
        let pos = m.iter().position(|(k, _)| k == key)?;
        let entry = m.remove(pos);
        let v = entry.1.clone();
        m.push(entry);
        Some(v)
    }

    fn remember(&self, key: MatchKey, v: Arc<Vec<u32>>) {
        let mut m = self.matches.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MATCH_CACHE_ENTRIES {
            m.remove(0);
        }
        m.push((key, v));
    }

    /// A page of the features matching `q`, and how many match in all.
    pub fn query(&self, q: &Query, cancel: &Cancel) -> Result<Page, SourceError> {
        // Without a time property every feature matches `datetime`: no need to read them.
        let untimed;
        let q = if q.datetime.is_some() && self.temporal.is_none() {
            untimed = Query {
                datetime: None,
                ..q.clone()
            };
            &untimed
        } else {
            q
        };
        self.check_unchanged()?;
        let matched = self.matching(q, cancel)?;
        let total = matched.as_ref().map_or(self.slots.len(), |m| m.len()) as u64;
        let start = q.offset.min(total) as usize;
        let end = (start + q.limit).min(total as usize);
        let page: Vec<u32> = match &matched {
            Some(m) => m[start..end].to_vec(),
            None => (start as u32..end as u32).collect(),
        };
        let mut features = Vec::with_capacity(page.len());
        self.for_each(&page, true, None, cancel, |_, f| {
            features.push(self.published(f)?);
            Ok(())
        })?;
        Ok(Page {
            features,
            number_matched: total,
            ..Page::default()
        })
    }

    /// The features of a tile, skipping those under a pixel from their index boxes alone
    /// (and counting them, when asked).
    pub fn tile_features(
        &self,
        q: &TileQuery,
        cancel: &Cancel,
    ) -> Result<TileFeatures, SourceError> {
        self.check_unchanged()?;
        let (Some(tree), Some(clipped)) = (
            &self.tree,
            self.info.extent.and_then(|e| intersection(&q.bbox, &e)),
        ) else {
            return Ok(TileFeatures::default());
        };
        let area = self.from_crs84.area(clipped)?;
        let r = area.envelope;
        let pixel = q.pixel_in(&clipped, &r, self.from_crs84.is_identity());
        let grid = q.grid_in(r, &self.to_crs84);
        let mut left_out = Tally::default();
        let mut count = |b: &[f64; 4], polygonal: bool| {
            if let Some(g) = &grid {
                left_out.add(g, [b[0], b[1]], [b[2], b[3]], polygonal);
            }
        };
        let polygonal = matches!(
            self.header_geometry,
            GeometryType::Polygon | GeometryType::MultiPolygon
        );
        let mut picked: Vec<(u32, f64)> = Vec::new();
        let query = [r.min().x, r.min().y, r.max().x, r.max().y];
        tree.visit(&self.slots, query, |h| {
            let b = &self.slots[h as usize].bbox;
            let (w, hgt) = (b[2] - b[0], b[3] - b[1]);
            if pixel[0] > 0.0 && too_small(w, hgt, pixel, polygonal) {
                count(b, polygonal);
                return;
            }
            let leaf = Rect::new(Coord { x: b[0], y: b[1] }, Coord { x: b[2], y: b[3] });
            if !area.surely_misses(&leaf) {
                picked.push((h, w * hgt));
            }
        });
        if picked.len() > q.max_features {
            picked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &(h, _) in &picked[q.max_features..] {
                count(&self.slots[h as usize].bbox, polygonal);
            }
            picked.truncate(q.max_features);
        }
        let mut indices: Vec<u32> = picked.into_iter().map(|(i, _)| i).collect();
        indices.sort_unstable();
        // The id property is read too: the feature id comes from it.
        let mask = self.mask(q.columns.iter().copied().chain(self.id_field));
        let mut features = Vec::with_capacity(indices.len());
        self.for_each(&indices, true, Some(&mask), cancel, |_, f| {
            features.push(self.published(f)?);
            Ok(())
        })?;
        Ok(TileFeatures { features, left_out })
    }

    /// One feature by the id it is published under.
    pub fn feature(&self, id: &str, cancel: &Cancel) -> Result<Option<Feature>, SourceError> {
        cancel.check()?;
        self.check_unchanged()?;
        let found = match self.id_field {
            None => match id.parse::<usize>() {
                Ok(i) if i < self.slots.len() && id == i.to_string() => Some(self.read_feature(i)?),
                _ => None,
            },
            Some(_) => self.feature_with_id(id)?,
        };
        found.map(|f| self.published(f)).transpose()
    }
}
