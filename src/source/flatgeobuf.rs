//! FlatGeobuf files, the embedded default that needs no database.
//!
//! At start-up the header is checked and the packed R-tree loaded into memory, with the byte
//! range of every feature. Queries then touch only what they need: a bbox goes through the
//! R-tree, a page deep into the layer is a direct read of its byte range, and a feature is
//! decoded only when it is returned or when its geometry straddles the bbox edge. Reads use
//! positional I/O on one open file, so concurrent requests need no lock; a file that is
//! truncated or rewritten while serving gives errors for its layer only.

use super::{
    Feature, FeatureId, Field, FieldType, Page, Query, Source, SourceError, SourceInfo,
    SourceOptions, TileQuery, Value,
};
use crate::crs::Transformer;
use crate::temporal::{self, Interval};
use ::flatgeobuf::packed_r_tree::{NodeItem, PackedRTree};
use ::flatgeobuf::{ColumnType, GeometryType};
use geo::{BoundingRect, Contains, CoordsIter, Intersects};
use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon, Rect,
};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

const MAGIC: [u8; 3] = *b"fgb";
const NODE_ITEM_LEN: usize = 40;
/// Matched-feature lists kept for paging through the same filtered query.
const MATCH_CACHE_ENTRIES: usize = 32;

#[derive(Debug, Clone)]
struct Column {
    name: String,
    ctype: ColumnType,
}

/// One feature's place in the file and its bounding box in the storage CRS.
#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
    bbox: [f64; 4],
}

pub struct FlatGeobufSource {
    path: PathBuf,
    file: File,
    /// (length, modification time) at open: any change means the index no longer fits the data.
    fingerprint: (u64, Option<SystemTime>),
    columns: Vec<Column>,
    header_geometry: GeometryType,
    /// Absolute file offset of the first feature.
    data_start: u64,
    /// Features in file order (the R-tree's leaf order).
    slots: Vec<Slot>,
    tree: Option<PackedRTree>,
    to_crs84: Transformer,
    from_crs84: Transformer,
    id_field: Option<usize>,
    id_lookup: OnceLock<Result<HashMap<String, u32>, String>>,
    temporal: Option<(usize, Option<usize>)>,
    info: SourceInfo,
    matches: Mutex<Vec<(MatchKey, Arc<Vec<u32>>)>>,
}

impl std::fmt::Debug for FlatGeobufSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlatGeobufSource")
            .field("path", &self.path)
            .field("features", &self.slots.len())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct MatchKey {
    bbox: Vec<[u64; 4]>,
    datetime: Option<Interval>,
    equals: Vec<(usize, Value)>,
}

fn corrupt(path: &Path, detail: impl Into<String>) -> SourceError {
    SourceError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn field_type(t: ColumnType) -> FieldType {
    match t {
        ColumnType::Bool => FieldType::Boolean,
        ColumnType::Byte
        | ColumnType::UByte
        | ColumnType::Short
        | ColumnType::UShort
        | ColumnType::Int
        | ColumnType::UInt
        | ColumnType::Long
        | ColumnType::ULong => FieldType::Integer,
        ColumnType::Float | ColumnType::Double => FieldType::Number,
        ColumnType::String => FieldType::String,
        ColumnType::DateTime => FieldType::DateTime,
        _ => FieldType::Other,
    }
}

fn geometry_type_name(t: GeometryType) -> &'static str {
    match t {
        GeometryType::Point => "Point",
        GeometryType::LineString => "LineString",
        GeometryType::Polygon => "Polygon",
        GeometryType::MultiPoint => "MultiPoint",
        GeometryType::MultiLineString => "MultiLineString",
        GeometryType::MultiPolygon => "MultiPolygon",
        GeometryType::GeometryCollection => "GeometryCollection",
        _ => "Unknown",
    }
}

impl FlatGeobufSource {
    pub fn open(path: &Path, options: &SourceOptions) -> Result<FlatGeobufSource, SourceError> {
        let io = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let file_len = meta.len();
        let fingerprint = (file_len, meta.modified().ok());

        let mut head = [0u8; 12];
        file.read_exact_at(&mut head, 0).map_err(|_| {
            corrupt(
                path,
                format!("only {file_len} bytes, shorter than a FlatGeobuf header"),
            )
        })?;
        if head[..3] != MAGIC {
            return Err(corrupt(path, "missing the `fgb` magic bytes"));
        }
        let header_len = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes")) as u64;
        if !(8..=10 * 1024 * 1024).contains(&header_len) || 12 + header_len > file_len {
            return Err(corrupt(
                path,
                format!("header size {header_len} does not fit the file"),
            ));
        }
        let mut header_buf = vec![0u8; 4 + header_len as usize];
        file.read_exact_at(&mut header_buf, 8).map_err(io)?;
        let header = ::flatgeobuf::size_prefixed_root_as_header(&header_buf)
            .map_err(|e| corrupt(path, format!("header: {e}")))?;

        let columns: Vec<Column> = header
            .columns()
            .map(|cols| {
                cols.iter()
                    .map(|c| Column {
                        name: c.name().to_string(),
                        ctype: c.type_(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let header_geometry = header.geometry_type();
        let file_crs = header.crs().map(|c| c.code()).filter(|c| *c > 0);
        let storage_crs = match (options.storage_crs, file_crs) {
            (Some(c), _) => c,
            (None, Some(c)) => c as u32,
            (None, None) => {
                return Err(SourceError::Config {
                    path: path.to_path_buf(),
                    detail: "the file does not say its CRS; set `storage_crs = <EPSG code>` for this layer".into(),
                });
            }
        };
        let count = header.features_count();
        let node_size = header.index_node_size();
        let mut data_start = 12 + header_len;

        let (slots, tree) = if count > 0 && node_size > 0 {
            let index_len = PackedRTree::index_size(count as usize, node_size) as u64;
            if data_start + index_len > file_len {
                return Err(corrupt(
                    path,
                    "the spatial index is cut short (truncated file?)",
                ));
            }
            let mut index = vec![0u8; index_len as usize];
            file.read_exact_at(&mut index, data_start).map_err(io)?;
            let tree = PackedRTree::from_buf(&index[..], count as usize, node_size)
                .map_err(|e| corrupt(path, format!("spatial index: {e}")))?;
            data_start += index_len;
            let leaves = &index[index.len() - count as usize * NODE_ITEM_LEN..];
            let slots = slots_from_leaves(path, leaves, file_len - data_start)?;
            (slots, Some(tree))
        } else {
            // No index in the file: scan once and build one in memory, in file order.
            let slots = scan_slots(path, &file, data_start, file_len, header_geometry)?;
            let tree = if slots.is_empty() {
                None
            } else {
                let nodes: Vec<NodeItem> = slots
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let mut n = NodeItem::bounds(s.bbox[0], s.bbox[1], s.bbox[2], s.bbox[3]);
                        n.offset = i as u64;
                        n
                    })
                    .collect();
                let extent = ::flatgeobuf::packed_r_tree::calc_extent(&nodes);
                Some(
                    PackedRTree::build(&nodes, &extent, 16)
                        .map_err(|e| corrupt(path, format!("building an index: {e}")))?,
                )
            };
            (slots, tree)
        };

        let to_crs84 = Transformer::new(storage_crs, 4326)?;
        let from_crs84 = Transformer::new(4326, storage_crs)?;
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| Field {
                name: c.name.clone(),
                kind: field_type(c.ctype),
                title: None,
            })
            .collect();
        let find = |name: &str, what: &str| -> Result<usize, SourceError> {
            columns
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| SourceError::Config {
                    path: path.to_path_buf(),
                    detail: format!(
                        "{what} `{name}` is not a property of the file; its properties are: {}",
                        columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        };
        let id_field = options
            .id_property
            .as_deref()
            .map(|n| find(n, "id_property"))
            .transpose()?;
        let temporal = match &options.temporal_start {
            Some(start) => Some((
                find(start, "temporal.start")?,
                options
                    .temporal_end
                    .as_deref()
                    .map(|e| find(e, "temporal.end"))
                    .transpose()?,
            )),
            None => None,
        };

        let extent = match &tree {
            Some(t) => {
                let e = t.extent();
                let r = Rect::new(
                    Coord {
                        x: e.min_x,
                        y: e.min_y,
                    },
                    Coord {
                        x: e.max_x,
                        y: e.max_y,
                    },
                );
                Some(to_crs84.rect(r)?)
            }
            None => None,
        };

        let mut source = FlatGeobufSource {
            path: path.to_path_buf(),
            file,
            fingerprint,
            columns,
            header_geometry,
            data_start,
            slots,
            tree,
            to_crs84,
            from_crs84,
            id_field,
            id_lookup: OnceLock::new(),
            temporal,
            info: SourceInfo {
                fields,
                geometry_type: geometry_type_name(header_geometry).to_string(),
                storage_crs,
                feature_count: count,
                extent,
                temporal_extent: None,
            },
            matches: Mutex::new(Vec::new()),
        };
        source.info.feature_count = source.slots.len() as u64;
        // Decode the first and last features now so a broken or truncated data section fails at
        // start-up, not on the first request.
        if let Some(last) = source.slots.len().checked_sub(1) {
            source.read_feature(0)?;
            source.read_feature(last)?;
        }
        if source.temporal.is_some() {
            source.info.temporal_extent = source.scan_temporal_extent()?;
        }
        Ok(source)
    }

    fn check_unchanged(&self) -> Result<(), SourceError> {
        let meta = self.file.metadata().map_err(|source| SourceError::Io {
            path: self.path.clone(),
            source,
        })?;
        if (meta.len(), meta.modified().ok()) != self.fingerprint {
            return Err(SourceError::Changed {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Bytes of features `first..=last` (consecutive in the file) in one read.
    fn read_run(&self, first: usize, last: usize) -> Result<Vec<u8>, SourceError> {
        let mut buf = Vec::new();
        self.read_run_into(first, last, &mut buf)?;
        Ok(buf)
    }

    /// Bytes of features `first..=last` into `buf` (reused between runs, so a long scan
    /// zeroes and maps fresh memory only when a run is longer than any before).
    fn read_run_into(
        &self,
        first: usize,
        last: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), SourceError> {
        let start = self.slots[first].offset;
        let end = self.slots[last].offset + self.slots[last].len as u64;
        buf.resize((end - start) as usize, 0);
        self.file
            .read_exact_at(buf, self.data_start + start)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    corrupt(&self.path, "the file ends inside a feature (truncated?)")
                } else {
                    SourceError::Io {
                        path: self.path.clone(),
                        source: e,
                    }
                }
            })
    }

    fn read_feature(&self, i: usize) -> Result<Feature, SourceError> {
        let buf = self.read_run(i, i)?;
        self.decode(i, &buf, true, None)
    }

    /// Decodes one size-prefixed feature buffer; the geometry stays in the storage CRS.
    /// With `columns`, only the columns marked true are decoded (the others read as null).
    fn decode(
        &self,
        i: usize,
        buf: &[u8],
        with_geometry: bool,
        columns: Option<&[bool]>,
    ) -> Result<Feature, SourceError> {
        let fb = ::flatgeobuf::size_prefixed_root_as_feature(buf)
            .map_err(|e| corrupt(&self.path, format!("feature {i}: {e}")))?;
        let properties = match fb.properties() {
            Some(bytes) => decode_properties(bytes.bytes(), &self.columns, columns)
                .map_err(|e| corrupt(&self.path, format!("feature {i}: {e}")))?,
            None => vec![Value::Null; self.columns.len()],
        };
        let geometry = if with_geometry {
            match fb.geometry() {
                Some(g) => decode_geometry(&g, self.header_geometry)
                    .map_err(|e| corrupt(&self.path, format!("feature {i}: {e}")))?,
                None => None,
            }
        } else {
            None
        };
        let id = match self.id_field {
            None => FeatureId::Int(i as u64),
            Some(f) => match &properties[f] {
                Value::Int(v) if *v >= 0 => FeatureId::Int(*v as u64),
                Value::Null => FeatureId::Int(i as u64),
                other => FeatureId::String(value_text(other)),
            },
        };
        Ok(Feature {
            id,
            geometry,
            properties,
        })
    }

    /// A column mask with `columns` set.
    fn mask(&self, columns: impl IntoIterator<Item = usize>) -> Vec<bool> {
        let mut m = vec![false; self.columns.len()];
        for c in columns {
            m[c] = true;
        }
        m
    }

    /// The feature as published: geometry in CRS84.
    fn published(&self, mut f: Feature) -> Result<Feature, SourceError> {
        if let Some(g) = f.geometry.as_mut() {
            self.to_crs84.geometry(g)?;
        }
        Ok(f)
    }

    /// Visits features `indices` (ascending) with their decoded contents, reading each
    /// consecutive run with a single read.
    fn for_each(
        &self,
        indices: &[u32],
        with_geometry: bool,
        columns: Option<&[bool]>,
        mut visit: impl FnMut(u32, Feature) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut k = 0;
        let mut buf = Vec::new();
        while k < indices.len() {
            let mut j = k;
            // Cap a run at a few MB so a huge page never needs one giant buffer.
            while j + 1 < indices.len()
                && indices[j + 1] == indices[j] + 1
                && self.slots[indices[j + 1] as usize].offset
                    - self.slots[indices[k] as usize].offset
                    < 4 << 20
            {
                j += 1;
            }
            let (first, last) = (indices[k] as usize, indices[j] as usize);
            self.read_run_into(first, last, &mut buf)?;
            let base = self.slots[first].offset;
            for i in first..=last {
                let s = self.slots[i];
                let lo = (s.offset - base) as usize;
                let f = self.decode(i, &buf[lo..lo + s.len as usize], with_geometry, columns)?;
                visit(i as u32, f)?;
            }
            k = j + 1;
        }
        Ok(())
    }

    fn feature_time(&self, f: &Feature) -> Option<Interval> {
        let (s, e) = self.temporal?;
        let start = instant_of(&f.properties[s], false);
        let end = match e {
            Some(e) => instant_of(&f.properties[e], true),
            None => start,
        };
        if start.is_none() && end.is_none() {
            return None;
        }
        Some(Interval { start, end })
    }

    fn scan_temporal_extent(&self) -> Result<Option<Interval>, SourceError> {
        let all: Vec<u32> = (0..self.slots.len() as u32).collect();
        let (mut lo, mut hi): (Option<i64>, Option<i64>) = (None, None);
        let mut open_end = false;
        let mask = self.mask(
            self.temporal
                .iter()
                .flat_map(|&(s, e)| std::iter::once(s).chain(e)),
        );
        self.for_each(&all, false, Some(&mask), |_, f| {
            if let Some(t) = self.feature_time(&f) {
                if let Some(s) = t.start {
                    lo = Some(lo.map_or(s, |l| l.min(s)));
                }
                match t.end {
                    Some(e) => hi = Some(hi.map_or(e, |h| h.max(e))),
                    None => open_end = true,
                }
            }
            Ok(())
        })?;
        if lo.is_none() && hi.is_none() {
            return Ok(None);
        }
        Ok(Some(Interval {
            start: lo,
            end: if open_end { None } else { hi },
        }))
    }

    /// Indices of the features matching every criterion of `q`, ascending; `None` means all.
    fn matching(&self, q: &Query) -> Result<Option<Arc<Vec<u32>>>, SourceError> {
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
                    let found = tree
                        .search(r.min().x, r.min().y, r.max().x, r.max().y)
                        .map_err(|e| corrupt(&self.path, format!("index search: {e}")))?;
                    hits.extend(found.into_iter().map(|h| h.index as u32));
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

        self.for_each(&to_check, check_geometry, Some(&mask), |i, f| {
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

    fn id_lookup(&self) -> Result<&HashMap<String, u32>, SourceError> {
        let field = self.id_field.expect("called only with an id property");
        let built = self.id_lookup.get_or_init(|| {
            let all: Vec<u32> = (0..self.slots.len() as u32).collect();
            let mut map = HashMap::with_capacity(all.len());
            self.for_each(&all, false, Some(&self.mask([field])), |i, f| {
                map.entry(value_text(&f.properties[field])).or_insert(i);
                Ok(())
            })
            .map(|_| map)
            .map_err(|e| e.to_string())
        });
        built.as_ref().map_err(|e| corrupt(&self.path, e.clone()))
    }
}

impl Source for FlatGeobufSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn query(&self, q: &Query) -> Result<Page, SourceError> {
        self.check_unchanged()?;
        let matched = self.matching(q)?;
        let total = matched.as_ref().map_or(self.slots.len(), |m| m.len()) as u64;
        let start = q.offset.min(total) as usize;
        let end = (start + q.limit).min(total as usize);
        let page: Vec<u32> = match &matched {
            Some(m) => m[start..end].to_vec(),
            None => (start as u32..end as u32).collect(),
        };
        let mut features = Vec::with_capacity(page.len());
        self.for_each(&page, true, None, |_, f| {
            features.push(self.published(f)?);
            Ok(())
        })?;
        Ok(Page {
            features,
            number_matched: total,
        })
    }

    fn tile_features(&self, q: &TileQuery) -> Result<Vec<Feature>, SourceError> {
        self.check_unchanged()?;
        let (Some(tree), Some(clipped)) = (
            &self.tree,
            self.info.extent.and_then(|e| intersection(&q.bbox, &e)),
        ) else {
            return Ok(Vec::new());
        };
        let area = self.from_crs84.area(clipped)?;
        let r = area.envelope;
        // A pixel in storage units; for a projected CRS, on the short side of the box so that
        // nothing visible is dropped.
        let pixel = if self.from_crs84.is_identity() {
            q.pixel
        } else if clipped.width() > 0.0 && clipped.height() > 0.0 {
            let per_degree = (r.width() / clipped.width()).min(r.height() / clipped.height());
            let side = q.pixel[0].min(q.pixel[1]) * per_degree;
            [side, side]
        } else {
            [0.0, 0.0]
        };
        let hits = tree
            .search(r.min().x, r.min().y, r.max().x, r.max().y)
            .map_err(|e| corrupt(&self.path, format!("index search: {e}")))?;
        let polygonal = matches!(
            self.header_geometry,
            GeometryType::Polygon | GeometryType::MultiPolygon
        );
        let mut picked: Vec<(u32, f64)> = Vec::with_capacity(hits.len());
        for h in hits {
            let b = self.slots[h.index].bbox;
            let (w, hgt) = (b[2] - b[0], b[3] - b[1]);
            if pixel[0] > 0.0 && super::too_small(w, hgt, pixel, polygonal) {
                continue;
            }
            let leaf = Rect::new(Coord { x: b[0], y: b[1] }, Coord { x: b[2], y: b[3] });
            if !area.surely_misses(&leaf) {
                picked.push((h.index as u32, w * hgt));
            }
        }
        if picked.len() > q.max_features {
            picked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            picked.truncate(q.max_features);
        }
        let mut indices: Vec<u32> = picked.into_iter().map(|(i, _)| i).collect();
        indices.sort_unstable();
        // The id property is read too: the feature id comes from it.
        let mask = self.mask(q.columns.iter().copied().chain(self.id_field));
        let mut features = Vec::with_capacity(indices.len());
        self.for_each(&indices, true, Some(&mask), |_, f| {
            features.push(self.published(f)?);
            Ok(())
        })?;
        Ok(features)
    }

    fn feature(&self, id: &str) -> Result<Option<Feature>, SourceError> {
        self.check_unchanged()?;
        let index = match self.id_field {
            None => match id.parse::<usize>() {
                Ok(i) if i < self.slots.len() && id == i.to_string() => Some(i),
                _ => None,
            },
            Some(_) => self.id_lookup()?.get(id).map(|&i| i as usize),
        };
        index
            .map(|i| self.read_feature(i).and_then(|f| self.published(f)))
            .transpose()
    }
}

fn intersection(a: &Rect<f64>, b: &Rect<f64>) -> Option<Rect<f64>> {
    let (x0, y0) = (a.min().x.max(b.min().x), a.min().y.max(b.min().y));
    let (x1, y1) = (a.max().x.min(b.max().x), a.max().y.min(b.max().y));
    (x0 <= x1 && y0 <= y1).then(|| Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }))
}

fn instant_of(v: &Value, end_of_day: bool) -> Option<i64> {
    match v {
        Value::String(s) => temporal::parse_instant(s, end_of_day),
        _ => None,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) | Value::Json(s) => s.clone(),
    }
}

fn slots_from_leaves(path: &Path, leaves: &[u8], data_len: u64) -> Result<Vec<Slot>, SourceError> {
    let n = leaves.len() / NODE_ITEM_LEN;
    let mut slots = Vec::with_capacity(n);
    let f = |b: &[u8], at: usize| f64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    for k in 0..n {
        let b = &leaves[k * NODE_ITEM_LEN..(k + 1) * NODE_ITEM_LEN];
        let offset = u64::from_le_bytes(b[32..40].try_into().expect("8 bytes"));
        slots.push(Slot {
            offset,
            len: 0,
            bbox: [f(b, 0), f(b, 8), f(b, 16), f(b, 24)],
        });
    }
    for k in 0..n {
        let end = if k + 1 < n {
            slots[k + 1].offset
        } else {
            data_len
        };
        let start = slots[k].offset;
        if end <= start || end - start > u32::MAX as u64 {
            return Err(corrupt(
                path,
                format!(
                    "index entry {k} points at byte {start}, not before the next feature ({end}); \
                     the file is truncated or its index is out of order"
                ),
            ));
        }
        slots[k].len = (end - start) as u32;
    }
    Ok(slots)
}

fn scan_slots(
    path: &Path,
    file: &File,
    data_start: u64,
    file_len: u64,
    header_geometry: GeometryType,
) -> Result<Vec<Slot>, SourceError> {
    let mut data = vec![0u8; (file_len - data_start) as usize];
    file.read_exact_at(&mut data, data_start)
        .map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut slots = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        if pos + 4 > data.len() {
            return Err(corrupt(path, "the file ends inside a feature (truncated?)"));
        }
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().expect("4 bytes")) as usize + 4;
        if pos + len > data.len() {
            return Err(corrupt(path, "the file ends inside a feature (truncated?)"));
        }
        let fb = ::flatgeobuf::size_prefixed_root_as_feature(&data[pos..pos + len])
            .map_err(|e| corrupt(path, format!("feature {}: {e}", slots.len())))?;
        let geom = fb
            .geometry()
            .map(|g| decode_geometry(&g, header_geometry))
            .transpose()
            .map_err(|e| corrupt(path, e))?
            .flatten();
        let bbox = geom
            .and_then(|g| g.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .unwrap_or([f64::NAN; 4]);
        slots.push(Slot {
            offset: pos as u64,
            len: len as u32,
            bbox,
        });
        pos += len;
    }
    Ok(slots)
}

/// Bytes a value of a fixed-size column type takes; `None` for length-prefixed types.
fn fixed_width(t: ColumnType) -> Option<usize> {
    match t {
        ColumnType::Bool | ColumnType::Byte | ColumnType::UByte => Some(1),
        ColumnType::Short | ColumnType::UShort => Some(2),
        ColumnType::Int | ColumnType::UInt | ColumnType::Float => Some(4),
        ColumnType::Long | ColumnType::ULong | ColumnType::Double => Some(8),
        _ => None,
    }
}

fn decode_properties(
    bytes: &[u8],
    columns: &[Column],
    wanted: Option<&[bool]>,
) -> Result<Vec<Value>, String> {
    let mut out = vec![Value::Null; columns.len()];
    let mut p = 0usize;
    let take = |p: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = bytes
            .get(*p..*p + n)
            .ok_or_else(|| "properties end early".to_string())?;
        *p += n;
        Ok(s)
    };
    while p < bytes.len() {
        let col = u16::from_le_bytes(take(&mut p, 2)?.try_into().expect("2")) as usize;
        let c = columns
            .get(col)
            .ok_or_else(|| format!("property column {col} does not exist"))?;
        if wanted.is_some_and(|w| !w[col]) {
            let width = match (fixed_width(c.ctype), c.ctype) {
                (Some(w), _) => w,
                (
                    None,
                    ColumnType::String
                    | ColumnType::Json
                    | ColumnType::DateTime
                    | ColumnType::Binary,
                ) => u32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as usize,
                (None, other) => return Err(format!("unsupported column type {other:?}")),
            };
            take(&mut p, width)?;
            continue;
        }
        let v = match c.ctype {
            ColumnType::Bool => Value::Bool(take(&mut p, 1)?[0] != 0),
            ColumnType::Byte => Value::Int(take(&mut p, 1)?[0] as i8 as i64),
            ColumnType::UByte => Value::Int(take(&mut p, 1)?[0] as i64),
            ColumnType::Short => {
                Value::Int(i16::from_le_bytes(take(&mut p, 2)?.try_into().expect("2")) as i64)
            }
            ColumnType::UShort => {
                Value::Int(u16::from_le_bytes(take(&mut p, 2)?.try_into().expect("2")) as i64)
            }
            ColumnType::Int => {
                Value::Int(i32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as i64)
            }
            ColumnType::UInt => {
                Value::Int(u32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as i64)
            }
            ColumnType::Long => {
                Value::Int(i64::from_le_bytes(take(&mut p, 8)?.try_into().expect("8")))
            }
            ColumnType::ULong => {
                let u = u64::from_le_bytes(take(&mut p, 8)?.try_into().expect("8"));
                i64::try_from(u)
                    .map(Value::Int)
                    .unwrap_or(Value::Float(u as f64))
            }
            ColumnType::Float => {
                Value::Float(f32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as f64)
            }
            ColumnType::Double => {
                Value::Float(f64::from_le_bytes(take(&mut p, 8)?.try_into().expect("8")))
            }
            ColumnType::String | ColumnType::DateTime | ColumnType::Json | ColumnType::Binary => {
                let n = u32::from_le_bytes(take(&mut p, 4)?.try_into().expect("4")) as usize;
                let raw = take(&mut p, n)?;
                match c.ctype {
                    ColumnType::Binary => Value::Null,
                    ColumnType::Json => Value::Json(
                        std::str::from_utf8(raw)
                            .map_err(|e| e.to_string())?
                            .to_string(),
                    ),
                    _ => Value::String(
                        std::str::from_utf8(raw)
                            .map_err(|e| e.to_string())?
                            .to_string(),
                    ),
                }
            }
            other => return Err(format!("unsupported column type {other:?}")),
        };
        out[col] = v;
    }
    Ok(out)
}

fn coords(g: &::flatgeobuf::Geometry) -> Vec<Coord<f64>> {
    let Some(xy) = g.xy() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(xy.len() / 2);
    let mut it = xy.iter();
    while let (Some(x), Some(y)) = (it.next(), it.next()) {
        out.push(Coord { x, y });
    }
    out
}

/// Splits a coordinate list at the `ends` offsets (in coordinate pairs).
fn split_rings(
    g: &::flatgeobuf::Geometry,
    cs: Vec<Coord<f64>>,
) -> Result<Vec<LineString<f64>>, String> {
    match g.ends() {
        None => Ok(vec![LineString(cs)]),
        // One ring: the list as it is, without a copy.
        Some(ends) if ends.len() == 1 && ends.get(0) as usize == cs.len() => {
            Ok(vec![LineString(cs)])
        }
        Some(ends) => {
            let mut out = Vec::with_capacity(ends.len());
            let mut start = 0usize;
            for e in ends.iter() {
                let e = e as usize;
                if e < start || e > cs.len() {
                    return Err("geometry ring ends out of range".into());
                }
                out.push(LineString(cs[start..e].to_vec()));
                start = e;
            }
            Ok(out)
        }
    }
}

fn polygon(g: &::flatgeobuf::Geometry) -> Result<Option<Polygon<f64>>, String> {
    let mut rings = split_rings(g, coords(g))?;
    if rings.is_empty() || rings[0].0.is_empty() {
        return Ok(None);
    }
    let exterior = rings.remove(0);
    Ok(Some(Polygon::new(exterior, rings)))
}

fn decode_geometry(
    g: &::flatgeobuf::Geometry,
    header_type: GeometryType,
) -> Result<Option<Geometry<f64>>, String> {
    let t = if header_type == GeometryType::Unknown {
        g.type_()
    } else {
        header_type
    };
    let geom = match t {
        GeometryType::Point => coords(g).first().map(|c| Geometry::Point(Point(*c))),
        GeometryType::MultiPoint => Some(Geometry::MultiPoint(MultiPoint(
            coords(g).into_iter().map(Point).collect(),
        ))),
        GeometryType::LineString => Some(Geometry::LineString(LineString(coords(g)))),
        GeometryType::MultiLineString => Some(Geometry::MultiLineString(MultiLineString(
            split_rings(g, coords(g))?,
        ))),
        GeometryType::Polygon => polygon(g)?.map(Geometry::Polygon),
        GeometryType::MultiPolygon => match g.parts() {
            Some(parts) => {
                let mut polys = Vec::with_capacity(parts.len());
                for part in parts.iter() {
                    if let Some(p) = polygon(&part)? {
                        polys.push(p);
                    }
                }
                Some(Geometry::MultiPolygon(MultiPolygon(polys)))
            }
            // A multipolygon of one part may be written without parts.
            None => polygon(g)?.map(|p| Geometry::MultiPolygon(MultiPolygon(vec![p]))),
        },
        GeometryType::GeometryCollection => {
            let mut members = Vec::new();
            if let Some(parts) = g.parts() {
                for part in parts.iter() {
                    if let Some(m) = decode_geometry(&part, GeometryType::Unknown)? {
                        members.push(m);
                    }
                }
            }
            Some(Geometry::GeometryCollection(GeometryCollection(members)))
        }
        other => return Err(format!("geometry type {other:?} is not supported")),
    };
    Ok(geom)
}
