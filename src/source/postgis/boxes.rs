//! Every feature's box of a large table, in memory (an R-tree of `f32` boxes and integer
//! keys, about 40 bytes a row). At low zooms most of a tile's features are under a pixel:
//! with the boxes here they are counted without asking the database, which then only sends
//! the few that draw, by key. Kept in step with the table by the change notices: the rows in a
//! changed box are read again before the tiles there count as changed.

use super::discover::Table;
use super::sql::ident;
use geo_types::Rect;
use rstar::{AABB, RTree, RTreeObject};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

/// A change covering more boxes than this drops them all, to be loaded again: patching them
/// one by one would hold the tree longer than a load.
pub const MAX_PATCH: usize = 20_000;

/// Tables with fewer rows are read from the database alone: its index is quick enough.
pub const MIN_ROWS: u64 = 20_000;

/// Nor are larger ones: their boxes would take more than about 200 MB.
pub const MAX_ROWS: u64 = 5_000_000;

/// One row's box (rounded outward to `f32`) and key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub min: [f32; 2],
    pub max: [f32; 2],
    pub key: i64,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f32; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.min, self.max)
    }
}

/// The nearest `f32` at or below `v` (`down`), or at or above it: a box rounded outward still
/// holds its feature, and a point stays a point.
fn round(v: f64, down: bool) -> f32 {
    let f = v as f32;
    match (f as f64).partial_cmp(&v) {
        Some(std::cmp::Ordering::Greater) if down => f.next_down(),
        Some(std::cmp::Ordering::Less) if !down => f.next_up(),
        _ => f,
    }
}

impl Entry {
    pub fn new(key: i64, x0: f64, y0: f64, x1: f64, y1: f64) -> Entry {
        Entry {
            min: [round(x0, true), round(y0, true)],
            max: [round(x1, false), round(y1, false)],
            key,
        }
    }
}

/// A rectangle of the table's CRS as an envelope of the tree, rounded outward.
pub fn envelope(r: &Rect<f64>) -> AABB<[f32; 2]> {
    AABB::from_corners(
        [round(r.min().x, true), round(r.min().y, true)],
        [round(r.max().x, false), round(r.max().y, false)],
    )
}

/// The boxes of a table, when they are loaded and in step.
#[derive(Debug, Default)]
pub struct Boxes {
    tree: RwLock<Option<RTree<Entry>>>,
    /// Moves on with every change seen, under the tree's lock: a load that began before one
    /// is not served (it may miss it).
    epoch: AtomicU64,
    /// Whether a load runs (or ran and failed: it is tried again on the next change).
    pub loading: std::sync::atomic::AtomicBool,
    /// No load starts before then: see [`Boxes::loaded_in`].
    not_before: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Boxes {
    /// Whether a load may start now.
    pub fn may_load(&self) -> bool {
        let not_before = self
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        not_before.is_none_or(|t| std::time::Instant::now() >= t)
    }

    /// A load took `took`: the next waits ten times as long, so that a table changed in bulk
    /// again and again costs its database a tenth of its time in loads at most (the tiles
    /// are read from the database alone meanwhile).
    pub fn loaded_in(&self, took: std::time::Duration) {
        let mut not_before = self
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *not_before = Some(std::time::Instant::now() + took * 10);
    }

    /// Reads the tree if it is loaded and in step.
    pub fn read<T>(&self, f: impl FnOnce(&RTree<Entry>) -> T) -> Option<T> {
        let tree = self.tree.read().unwrap_or_else(PoisonError::into_inner);
        tree.as_ref().map(f)
    }

    /// The changes seen so far, to give [`Boxes::set`] before reading the rows.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Serves `entries` from now on, if no change was seen since `epoch` (read before
    /// them); `false` when one was, and they may miss it.
    pub fn set(&self, entries: Vec<Entry>, epoch: u64) -> bool {
        let tree = RTree::bulk_load(entries);
        let mut held = self.tree.write().unwrap_or_else(PoisonError::into_inner);
        if self.epoch.load(Ordering::Acquire) != epoch {
            return false;
        }
        *held = Some(tree);
        true
    }

    /// A change was seen while the boxes are not loaded: a load under way may miss it.
    pub fn changed(&self) {
        let _held = self.tree.write().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Out of step (a change was missed): not used until loaded again.
    pub fn drop_all(&self) {
        let mut held = self.tree.write().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        *held = None;
    }

    /// The rows within `area` were read again as `fresh`: those the tree held there go (a
    /// row deleted or moved away), the fresh ones come in.
    pub fn replace(&self, area: &Rect<f64>, fresh: Vec<Entry>) {
        let mut tree = self.tree.write().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(t) = tree.as_mut() {
            let old: Vec<Entry> = t.drain_in_envelope_intersecting(envelope(area)).collect();
            drop(old);
            for e in fresh {
                t.insert(e);
            }
        }
    }
}

/// `select` of the key and box of the rows of `table` (in a box, with `within`).
pub fn rows_sql(table: &Table, within: Option<&str>) -> String {
    let (g, key) = (ident(&table.geometry), ident(&table.fields[table.key].name));
    format!(
        "select {key}::int8, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
         from (select {key}, {g}::box2d as b from {} where {g} is not null and not ST_IsEmpty({g}){}) s",
        table.quoted(),
        within
            .map(|w| format!(" and {g} && {w}"))
            .unwrap_or_default()
    )
}

/// The entry of a row read by [`rows_sql`]; `None` for one without a box.
pub fn entry(row: &tokio_postgres::Row) -> Option<Entry> {
    let v = |i| row.try_get::<_, Option<f64>>(i).ok().flatten();
    Some(Entry::new(
        row.try_get::<_, i64>(0).ok()?,
        v(1)?,
        v(2)?,
        v(3)?,
        v(4)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::Coord;

    #[test]
    fn boxes_round_outward_and_points_stay_points() {
        let e = Entry::new(1, 11.2558, 43.7696, 11.2559, 43.7697);
        assert!((e.min[0] as f64) <= 11.2558 && (e.max[0] as f64) >= 11.2559);
        assert!((e.min[1] as f64) <= 43.7696 && (e.max[1] as f64) >= 43.7697);
        let p = Entry::new(2, 1_681_000.3, 4_849_000.7, 1_681_000.3, 4_849_000.7);
        assert!((p.min[0] as f64) <= 1_681_000.3 && (p.max[0] as f64) >= 1_681_000.3);
        assert!(p.max[0] - p.min[0] <= 0.25, "{p:?}");
    }

    #[test]
    fn a_changed_area_is_replaced_by_what_is_there_now() {
        let b = Boxes::default();
        assert!(b.read(|t| t.size()).is_none(), "nothing before a load");
        // A load that began before a change is not served.
        let before = b.epoch();
        b.changed();
        assert!(!b.set(vec![Entry::new(9, 0.0, 0.0, 1.0, 1.0)], before));
        assert!(b.read(|t| t.size()).is_none());
        assert!(b.set(
            vec![
                Entry::new(1, 0.0, 0.0, 1.0, 1.0),
                Entry::new(2, 5.0, 5.0, 6.0, 6.0),
            ],
            b.epoch()
        ));
        let area = Rect::new(Coord { x: -1.0, y: -1.0 }, Coord { x: 2.0, y: 2.0 });
        // Row 1 moved out of the area (to 9, 9) and row 3 came in.
        b.replace(
            &Rect::new(Coord { x: -1.0, y: -1.0 }, Coord { x: 10.0, y: 10.0 }),
            vec![
                Entry::new(1, 9.0, 9.0, 9.5, 9.5),
                Entry::new(2, 5.0, 5.0, 6.0, 6.0),
                Entry::new(3, 0.5, 0.5, 0.6, 0.6),
            ],
        );
        let mut here: Vec<i64> = b
            .read(|t| {
                (t.locate_in_envelope_intersecting(&envelope(&area)))
                    .map(|e| e.key)
                    .collect()
            })
            .unwrap();
        here.sort();
        assert_eq!(here, [3]);
        assert_eq!(b.read(|t| t.size()), Some(3));
        b.drop_all();
        assert!(b.read(|t| t.size()).is_none());
    }
}
