//! FlatGeobuf files, the embedded default that needs no database.
//!
//! At start-up the header is checked and the packed R-tree loaded into memory, with the byte
//! range of every feature. Queries then touch only what they need: a bbox goes through the
//! R-tree, a page deep into the layer is a direct read of its byte range, and a feature is
//! decoded only when it is returned or when its geometry straddles the bbox edge. Reads use
//! positional I/O on one open file, so concurrent requests need no lock; a file that is
//! truncated or rewritten while serving gives errors for its layer only.
//!
//! [`FlatGeobuf`] is the synchronous reader (opening in this file, reading runs of features in
//! `read`, queries in `query`, bytes to values and geometries in `decode`);
//! [`FlatGeobufSource`] (`follow`) serves it as a [`super::FeatureSource`], each call on the
//! blocking pool, and follows the file to its new versions.

mod decode;
mod follow;
mod ids;
mod query;
mod read;
mod rtree;

pub use follow::FlatGeobufSource;

use super::{Field, SourceError, SourceInfo, SourceOptions};
use crate::crs::Transformer;
use ::flatgeobuf::packed_r_tree::PackedRTree;
use ::flatgeobuf::{ColumnType, GeometryType};
use decode::{field_type, geometry_type_name, scan_slots, slots_from_leaves};
use geo_types::{Coord, Rect};
use ids::IdIndex;
use query::MatchKey;
use rtree::RTree;
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

/// Which file, in which version: a file renamed over the path has another inode, one
/// rewritten in place another length or modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    device: u64,
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Fingerprint {
    fn of(meta: &std::fs::Metadata) -> Fingerprint {
        use std::os::unix::fs::MetadataExt;
        Fingerprint {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// One feature's place in the file and its bounding box in the storage CRS.
#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
    bbox: [f64; 4],
}

/// An open FlatGeobuf file: its header, index and the place of every feature.
pub struct FlatGeobuf {
    path: PathBuf,
    file: File,
    /// At open: any change means the index no longer fits the data.
    fingerprint: Fingerprint,
    columns: Vec<Column>,
    header_geometry: GeometryType,
    /// Absolute file offset of the first feature.
    data_start: u64,
    /// Features in file order (the R-tree's leaf order).
    slots: Vec<Slot>,
    tree: Option<RTree>,
    to_crs84: Transformer,
    from_crs84: Transformer,
    id_field: Option<usize>,
    id_lookup: OnceLock<Result<IdIndex, String>>,
    temporal: Option<(usize, Option<usize>)>,
    info: SourceInfo,
    matches: Mutex<Vec<(MatchKey, Arc<Vec<u32>>)>>,
}

impl std::fmt::Debug for FlatGeobuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlatGeobuf")
            .field("path", &self.path)
            .field("features", &self.slots.len())
            .finish()
    }
}

fn corrupt(path: &Path, detail: impl Into<String>) -> SourceError {
    SourceError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

impl FlatGeobuf {
    pub fn open(path: &Path, options: &SourceOptions) -> Result<FlatGeobuf, SourceError> {
        let io = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let file_len = meta.len();
        let fingerprint = Fingerprint::of(&meta);

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

        if node_size == 1 {
            return Err(corrupt(
                path,
                "an index node size of 1 (it is 0 or at least 2)",
            ));
        }
        let (slots, tree) = if count > 0 && node_size > 0 {
            // Each feature has a 40-byte leaf in the index: a count the file cannot hold is a
            // lie (and the index size computed from it could overflow).
            if count > (file_len - data_start) / NODE_ITEM_LEN as u64 {
                return Err(corrupt(
                    path,
                    format!("the header counts {count} features, more than the file can hold"),
                ));
            }
            let index_len = PackedRTree::index_size(count as usize, node_size) as u64;
            if data_start + index_len > file_len {
                return Err(corrupt(
                    path,
                    "the spatial index is cut short (truncated file?)",
                ));
            }
            let mut index = vec![0u8; index_len as usize];
            file.read_exact_at(&mut index, data_start).map_err(io)?;
            decode::check_index(&index, count as usize, node_size)
                .map_err(|e| corrupt(path, format!("spatial index: {e}")))?;
            data_start += index_len;
            let (inner, leaves) = index.split_at(index.len() - count as usize * NODE_ITEM_LEN);
            let tree = RTree::from_file(inner, count as usize, node_size as usize);
            let slots = slots_from_leaves(path, leaves, file_len - data_start)?;
            (slots, Some(tree))
        } else {
            // No index in the file: scan once and build one in memory, in file order.
            let slots = scan_slots(path, &file, data_start, file_len, header_geometry)?;
            let tree = (!slots.is_empty()).then(|| RTree::build(&slots, 16));
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
                let r = Rect::new(Coord { x: e[0], y: e[1] }, Coord { x: e[2], y: e[3] });
                Some(to_crs84.rect(r)?)
            }
            None => None,
        };

        let mut source = FlatGeobuf {
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
                id_field,
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
        if source.id_field.is_none()
            && let Some(name) = &options.id_if_unique
        {
            source.adopt_unique_id(name)?;
        }
        Ok(source)
    }

    pub fn info(&self) -> &SourceInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Query, SourceError, TileQuery};

    fn comuni() -> FlatGeobuf {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/comuni_toscana.fgb");
        FlatGeobuf::open(&path, &SourceOptions::default()).expect("the sample comuni")
    }

    #[test]
    fn a_raised_cancel_stops_every_read() {
        let file = comuni();
        let cancel = super::super::Cancel::never();
        let all = Query {
            limit: 10,
            ..Query::default()
        };
        assert_eq!(file.query(&all, &cancel).unwrap().features.len(), 10);
        cancel.raise();
        // A page, a filtered scan (its match list is not remembered half-made), a tile, a feature.
        let filtered = Query {
            equals: vec![(0, crate::source::Value::String("048017".into()))],
            limit: 10,
            ..Query::default()
        };
        for q in [&all, &filtered] {
            assert!(matches!(
                file.query(q, &cancel),
                Err(SourceError::Cancelled)
            ));
        }
        let tile = TileQuery {
            bbox: Rect::new(Coord { x: 10.0, y: 43.0 }, Coord { x: 12.0, y: 44.0 }),
            pixel: [0.0, 0.0],
            columns: vec![],
            max_features: 100,
            tally: None,
        };
        assert!(matches!(
            file.tile_features(&tile, &cancel),
            Err(SourceError::Cancelled)
        ));
        assert!(matches!(
            file.feature("0", &cancel),
            Err(SourceError::Cancelled)
        ));
        let again = super::super::Cancel::never();
        assert!(file.query(&filtered, &again).is_ok());
    }
}
