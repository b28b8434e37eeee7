//! Reading a PMTiles v3 archive as a [`TileSource`]: the header and root directory read once,
//! leaf directories when a tile needs them (a few kept), each tile one read of its bytes. The
//! reads go through [`Ranges`], so that a local file and, later, an object store serve alike.

use crate::source::{FieldType, SourceError};
use crate::tiles::matrix::{TileCoord, TileMatrixSet};
use crate::tiles::{Compression, TileError, TileLayerInfo, TileSource, TileSourceInfo};
use bytes::Bytes;
use geo_types::{Coord, Rect};
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// Where an archive's bytes come from.
pub trait Ranges: Send + Sync + std::fmt::Debug {
    /// `len` bytes from `offset` (fewer only at the end).
    fn read(&self, offset: u64, len: u64) -> std::io::Result<Vec<u8>>;
}

/// A local file, read with positioned reads (no shared cursor between threads).
#[derive(Debug)]
pub struct FileRanges {
    file: std::fs::File,
    /// The file's size when opened: an archive is replaced by a rename, never written in
    /// place, so the open file keeps it.
    size: u64,
}

impl FileRanges {
    pub fn open(path: &Path) -> std::io::Result<FileRanges> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        Ok(FileRanges { file, size })
    }
}

impl Ranges for FileRanges {
    fn read(&self, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        // No more than the file holds, whatever a (corrupt) directory says.
        let mut buf = vec![0; len.min(self.size.saturating_sub(offset)) as usize];
        let mut got = 0;
        while got < buf.len() {
            match self.file.read_at(&mut buf[got..], offset + got as u64)? {
                0 => break,
                n => got += n,
            }
        }
        buf.truncate(got);
        Ok(buf)
    }
}

/// The fixed part of an archive (the spec's 127-byte header).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub root: (u64, u64),
    pub metadata: (u64, u64),
    pub leaves: (u64, u64),
    pub data: (u64, u64),
    pub internal_gzip: bool,
    pub tile_compression: Compression,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// West, south, east, north.
    pub bounds: [f64; 4],
}

/// Why an archive cannot be read (a broken archive is the server's fault, not the client's).
fn bad(what: &str) -> TileError {
    TileError::Internal(format!("not a PMTiles v3 archive: {what}"))
}

fn header(b: &[u8]) -> Result<Header, TileError> {
    if b.len() < 127 || &b[..7] != b"PMTiles" {
        return Err(bad("no PMTiles header"));
    }
    if b[7] != 3 {
        return Err(bad(&format!("version {}, not 3", b[7])));
    }
    let u = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
    let e7 =
        |i: usize| f64::from(i32::from_le_bytes(b[i..i + 4].try_into().unwrap_or([0; 4]))) / 1e7;
    let compression = |c: u8| match c {
        1 => Ok(false),
        2 => Ok(true),
        other => Err(bad(&format!(
            "compression {other} (only none and gzip are read)"
        ))),
    };
    if b[99] != 1 {
        return Err(bad("its tiles are not vector tiles"));
    }
    Ok(Header {
        root: (u(8), u(16)),
        metadata: (u(24), u(32)),
        leaves: (u(40), u(48)),
        data: (u(56), u(64)),
        internal_gzip: compression(b[97])?,
        tile_compression: if compression(b[98])? {
            Compression::Gzip
        } else {
            Compression::None
        },
        min_zoom: b[100],
        max_zoom: b[101],
        bounds: [e7(102), e7(106), e7(110), e7(114)],
    })
}

/// One directory entry: tiles `tile_id .. tile_id + run_length` share the bytes at `offset`;
/// a run length of 0 points at a leaf directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u64,
    run_length: u64,
}

fn varint(b: &[u8], at: &mut usize) -> Result<u64, TileError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at).ok_or_else(|| bad("a directory ends early"))?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(bad("a number in a directory is too long"))
}

fn directory(b: &[u8]) -> Result<Vec<Entry>, TileError> {
    let mut at = 0;
    let n = varint(b, &mut at)? as usize;
    // Each entry takes four bytes at least: a count beyond that is a corrupt archive.
    if n > b.len() / 4 {
        return Err(bad("a directory counts more entries than it holds"));
    }
    let mut entries = vec![
        Entry {
            tile_id: 0,
            offset: 0,
            length: 0,
            run_length: 0,
        };
        n
    ];
    let mut id = 0u64;
    for e in entries.iter_mut() {
        id = id
            .checked_add(varint(b, &mut at)?)
            .ok_or_else(|| bad("tile ids overflow"))?;
        e.tile_id = id;
    }
    for e in entries.iter_mut() {
        e.run_length = varint(b, &mut at)?;
    }
    for e in entries.iter_mut() {
        e.length = varint(b, &mut at)?;
    }
    for i in 0..n {
        let v = varint(b, &mut at)?;
        entries[i].offset = if v == 0 && i > 0 {
            (entries[i - 1].offset)
                .checked_add(entries[i - 1].length)
                .ok_or_else(|| bad("offsets overflow"))?
        } else {
            v.saturating_sub(1)
        };
    }
    Ok(entries)
}

/// A directory or the metadata, decompressed as the header says.
fn inflated(h: &Header, raw: Vec<u8>, name: &str) -> Result<Vec<u8>, TileError> {
    if !h.internal_gzip {
        return Ok(raw);
    }
    let mut out = Vec::new();
    // A directory or metadata that inflates past this is not one a writer made.
    const MAX: u64 = 256 << 20;
    flate2::read::GzDecoder::new(&raw[..])
        .take(MAX + 1)
        .read_to_end(&mut out)
        .map_err(|e| TileError::Internal(format!("{name}: {e}")))?;
    if out.len() as u64 > MAX {
        return Err(bad("a directory inflates past 256 MB"));
    }
    Ok(out)
}

/// The tile id of `z/x/y`: the tiles of the levels above, then the position along the
/// Hilbert curve.
pub fn tile_id(c: TileCoord) -> u64 {
    let above = ((1u64 << (2 * u64::from(c.z))) - 1) / 3;
    above + super::hilbert(c.z, c.x, c.y)
}

#[derive(Debug)]
pub struct PmtilesSource {
    ranges: Box<dyn Ranges>,
    header: Header,
    root: Arc<Vec<Entry>>,
    /// Leaf directories read lately, by offset.
    leaves: Mutex<Vec<(u64, Arc<Vec<Entry>>)>>,
    info: Arc<TileSourceInfo>,
    /// For messages: the archive's name, not its path.
    name: String,
}

/// Leaf directories kept in memory.
const LEAVES_KEPT: usize = 64;

impl PmtilesSource {
    pub fn open_file(path: &Path) -> Result<PmtilesSource, TileError> {
        let name = path
            .file_name()
            .map_or_else(|| "archive".into(), |n| n.to_string_lossy().into_owned());
        let ranges =
            FileRanges::open(path).map_err(|e| TileError::Invalid(format!("{name}: {e}")))?;
        PmtilesSource::open(Box::new(ranges), name)
    }

    pub fn open(ranges: Box<dyn Ranges>, name: String) -> Result<PmtilesSource, TileError> {
        let io = |e: std::io::Error| TileError::Invalid(format!("{name}: {e}"));
        let header = header(&ranges.read(0, 127).map_err(io)?)
            .map_err(|e| TileError::Invalid(format!("{name}: {e}")))?;
        let read = |(offset, len): (u64, u64)| -> Result<Vec<u8>, TileError> {
            inflated(&header, ranges.read(offset, len).map_err(io)?, &name)
        };
        let root = Arc::new(directory(&read(header.root)?)?);
        let metadata: serde_json::Value =
            serde_json::from_slice(&read(header.metadata)?).unwrap_or_default();
        let info = Arc::new(info_of(&header, &metadata));
        Ok(PmtilesSource {
            ranges,
            header,
            root,
            leaves: Mutex::new(Vec::new()),
            info,
            name,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The directory entry holding tile `id`, following leaves (at most three deep, as the
    /// spec bounds them).
    fn find(&self, id: u64) -> Result<Option<Entry>, TileError> {
        let mut dir = self.root.clone();
        for _ in 0..4 {
            let i = dir.partition_point(|e| e.tile_id <= id);
            let Some(e) = i.checked_sub(1).map(|i| dir[i]) else {
                return Ok(None);
            };
            if e.run_length > 0 {
                return Ok((id < e.tile_id.saturating_add(e.run_length)).then_some(e));
            }
            dir = self.leaf(e.offset, e.length)?;
        }
        Err(bad("directories nest too deep"))
    }

    fn leaf(&self, offset: u64, length: u64) -> Result<Arc<Vec<Entry>>, TileError> {
        let kept = self.leaves.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, d)) = kept.iter().find(|(o, _)| *o == offset) {
            return Ok(d.clone());
        }
        drop(kept);
        let at = (self.header.leaves.0)
            .checked_add(offset)
            .ok_or_else(|| bad("a leaf directory's offset overflows"))?;
        let raw = self.ranges.read(at, length).map_err(|e| {
            TileError::Source(SourceError::Unavailable(format!("{}: {e}", self.name)))
        })?;
        let d = Arc::new(directory(&inflated(&self.header, raw, &self.name)?)?);
        let mut kept = self.leaves.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= LEAVES_KEPT {
            kept.remove(0);
        }
        kept.push((offset, d.clone()));
        Ok(d)
    }

    /// The bytes of tile `c` as stored (compressed as the header says), if it has any.
    pub fn read_tile(&self, c: TileCoord) -> Result<Option<Vec<u8>>, TileError> {
        if c.z > self.header.max_zoom || c.z < self.header.min_zoom {
            return Ok(None);
        }
        let Some(e) = self.find(tile_id(c))? else {
            return Ok(None);
        };
        let at = (self.header.data.0)
            .checked_add(e.offset)
            .ok_or_else(|| bad("a tile's offset overflows"))?;
        let bytes = self.ranges.read(at, e.length).map_err(|e| {
            TileError::Source(SourceError::Unavailable(format!("{}: {e}", self.name)))
        })?;
        // A cut archive: the tile is not all there.
        if bytes.len() as u64 != e.length {
            return Err(bad("a tile ends past the end of the file"));
        }
        Ok(Some(bytes))
    }
}

/// What the archive holds, from its header and its TileJSON metadata (`vector_layers`).
fn info_of(h: &Header, metadata: &serde_json::Value) -> TileSourceInfo {
    let b = h.bounds;
    let extent = Rect::new(Coord { x: b[0], y: b[1] }, Coord { x: b[2], y: b[3] });
    let layers = (metadata["vector_layers"].as_array().into_iter().flatten())
        .filter_map(|l| {
            let id = l["id"].as_str()?.to_string();
            let zoom = |k: &str, d: u8| l[k].as_u64().map_or(d, |z| z.min(30) as u8);
            let fields = (l["fields"].as_object().into_iter().flatten())
                .map(|(k, t)| {
                    // TileJSON writes `Number`; tessera's archives the JSON types in lower case.
                    let kind = match t.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("integer") => FieldType::Integer,
                        Some("number") => FieldType::Number,
                        Some("boolean") => FieldType::Boolean,
                        _ => FieldType::String,
                    };
                    (k.clone(), kind)
                })
                .collect();
            Some(TileLayerInfo {
                title: l["description"].as_str().unwrap_or(&id).to_string(),
                id,
                fields,
                geometry_type: "Unknown".into(),
                min_zoom: zoom("minzoom", h.min_zoom),
                max_zoom: zoom("maxzoom", h.max_zoom),
                extent: Some(extent),
            })
        })
        .collect();
    TileSourceInfo {
        layers,
        compression: h.tile_compression,
        matrix_sets: Some(vec!["WebMercatorQuad".into()]),
    }
}

#[async_trait::async_trait]
impl TileSource for PmtilesSource {
    fn info(&self) -> Arc<TileSourceInfo> {
        self.info.clone()
    }

    async fn tile(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Option<Bytes>, TileError> {
        if !self.info.serves(tms) {
            return Ok(None);
        }
        // A local file's positioned reads come from the page cache in microseconds: not
        // worth a trip to the blocking pool (an object store's reads will be async).
        Ok(self.read_tile(coord)?.map(Bytes::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::ArchiveMeta;
    use crate::archive::pmtiles::PmtilesSink;
    use crate::tiles::TileSink;

    #[test]
    fn what_the_writer_stores_reads_back_through_leaf_directories() {
        let dir = std::env::temp_dir().join(format!("tessera-pmtiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("prova.pmtiles");
        let meta = ArchiveMeta {
            tilejson: serde_json::json!({
                "minzoom": 0, "maxzoom": 12, "bounds": [9.6, 42.2, 12.4, 44.5],
                "vector_layers": [{"id": "prova", "fields": {"n": "Number"}}],
            }),
        };
        let mut sink: Box<dyn TileSink> = Box::new(PmtilesSink::create(&path, &meta).unwrap());
        // Enough tiles for the root directory to point at leaves; every third one the same.
        let mut coords: Vec<TileCoord> = (0..150u32)
            .flat_map(|x| {
                (0..150u32).map(move |y| TileCoord {
                    z: 12,
                    x: 2100 + x,
                    y: 1400 + y,
                })
            })
            .collect();
        coords.sort_by_key(|c| tile_id(*c));
        let bytes = |c: TileCoord| -> Vec<u8> {
            match c.x % 3 {
                0 => b"sempre uguale".to_vec(),
                _ => format!("{}/{}/{}", c.z, c.x, c.y).into_bytes(),
            }
        };
        for &c in &coords {
            sink.put(c, &bytes(c)).unwrap();
        }
        sink.finish().unwrap();
        let source = PmtilesSource::open_file(&path).unwrap();
        assert!(source.header().leaves.1 > 0, "no leaf directories");
        assert_eq!(
            (source.header().min_zoom, source.header().max_zoom),
            (0, 12)
        );
        for &c in coords.iter().step_by(7) {
            assert_eq!(source.read_tile(c).unwrap(), Some(bytes(c)), "{c:?}");
        }
        assert_eq!(
            source.read_tile(TileCoord { z: 12, x: 0, y: 0 }).unwrap(),
            None
        );
        assert_eq!(
            source
                .read_tile(TileCoord {
                    z: 13,
                    x: 4200,
                    y: 2800
                })
                .unwrap(),
            None
        );
        assert_eq!(source.info().layers[0].id, "prova");

        // A file that is not an archive, or one cut short: an error, never a panic.
        std::fs::write(dir.join("no.pmtiles"), b"GIF89a not an archive").unwrap();
        let e = PmtilesSource::open_file(&dir.join("no.pmtiles")).unwrap_err();
        assert!(e.to_string().contains("not a PMTiles v3 archive"), "{e}");
        let whole = std::fs::read(&path).unwrap();
        for cut in [100, 127, 200, whole.len() / 2] {
            std::fs::write(dir.join("cut.pmtiles"), &whole[..cut]).unwrap();
            if let Ok(s) = PmtilesSource::open_file(&dir.join("cut.pmtiles")) {
                for &c in coords.iter().step_by(501) {
                    let _ = s.read_tile(c);
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tile_ids_count_the_levels_above() {
        assert_eq!(tile_id(TileCoord { z: 0, x: 0, y: 0 }), 0);
        assert_eq!(tile_id(TileCoord { z: 1, x: 0, y: 0 }), 1);
        assert_eq!(tile_id(TileCoord { z: 1, x: 1, y: 0 }), 4);
        assert_eq!(tile_id(TileCoord { z: 2, x: 0, y: 0 }), 5);
    }
}
