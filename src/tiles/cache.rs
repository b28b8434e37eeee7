//! A bounded in-memory cache of finished tiles, each kept as MVT and, from the first client that
//! accepts it, gzip-compressed too, so that a hit is never compressed again. Concurrent misses of
//! one tile render it once.

use bytes::Bytes;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// A tile as served: its bytes, their gzip form once asked for, and a validator.
#[derive(Debug)]
pub struct CachedTile {
    /// MVT bytes; empty for a tile with no feature.
    pub raw: Bytes,
    gzip: OnceLock<Bytes>,
    /// Strong validator of the content (hex), without quotes or coding suffix.
    pub etag: String,
}

impl CachedTile {
    pub fn new(raw: Vec<u8>) -> CachedTile {
        CachedTile {
            etag: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&raw)),
            raw: Bytes::from(raw),
            gzip: OnceLock::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The gzip form, compressed on the first call (MVT compresses slowly: a few ms for a
    /// large tile, so it is done once, and only for clients that want it).
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(self.raw.len() * 3 / 4),
                flate2::Compression::new(6),
            );
            enc.write_all(&self.raw).expect("writing to memory");
            Bytes::from(enc.finish().expect("writing to memory"))
        })
    }

    /// Whether [`CachedTile::gzip`] is ready without work.
    pub fn has_gzip(&self) -> bool {
        self.gzip.get().is_some()
    }
}

/// Which tileset a tile belongs to (a collection, a struttura, a list of collections) and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub tileset: Arc<str>,
    pub matrix_set: &'static str,
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

pub struct TileCache {
    inner: Option<moka::sync::Cache<TileKey, Arc<CachedTile>>>,
    capacity: u64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TileCache({} bytes)", self.capacity)
    }
}

impl TileCache {
    /// A cache of at most `megabytes` MB of tiles; 0 disables it.
    pub fn new(megabytes: u64) -> TileCache {
        let capacity = megabytes.saturating_mul(1024 * 1024);
        let inner = (capacity > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                // The gzip form may come later: count it in from the start (MVT gzips to 2/3).
                .weigher(|k: &TileKey, v: &Arc<CachedTile>| {
                    (k.tileset.len() + v.raw.len() * 5 / 3 + 128).min(u32::MAX as usize) as u32
                })
                .build()
        });
        TileCache { inner, capacity }
    }

    /// The cached tile, or the one `render` makes (then cached). Concurrent callers for the
    /// same key wait for a single render.
    pub fn get_or_render<E: Send + Sync + 'static>(
        &self,
        key: TileKey,
        render: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<CachedTile>, Arc<E>> {
        let make = || render().map(|raw| Arc::new(CachedTile::new(raw)));
        match &self.inner {
            None => make().map_err(Arc::new),
            Some(c) => c.try_get_with(key, make),
        }
    }

    /// The cached tile, if it is there (never renders).
    pub fn get(&self, key: &TileKey) -> Option<Arc<CachedTile>> {
        self.inner.as_ref().and_then(|c| c.get(key))
    }

    /// Tiles currently held (an estimate while entries are being evicted).
    pub fn entries(&self) -> u64 {
        self.inner.as_ref().map_or(0, |c| {
            c.run_pending_tasks();
            c.entry_count()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(z: u8) -> TileKey {
        TileKey {
            tileset: "t".into(),
            matrix_set: "WebMercatorQuad",
            z,
            x: 0,
            y: 0,
        }
    }

    #[test]
    fn concurrent_misses_render_once() {
        let cache = Arc::new(TileCache::new(16));
        let renders = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, renders) = (cache.clone(), renders.clone());
                std::thread::spawn(move || {
                    cache
                        .get_or_render(key(3), || {
                            renders.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(100));
                            Ok::<_, ()>(vec![1, 2, 3])
                        })
                        .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(&t.join().unwrap().raw[..], &[1, 2, 3]);
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn disabled_cache_renders_every_time_and_errors_pass_through() {
        let cache = TileCache::new(0);
        let mut n = 0;
        for _ in 0..3 {
            cache
                .get_or_render(key(1), || {
                    n += 1;
                    Ok::<_, ()>(vec![])
                })
                .unwrap();
        }
        assert_eq!(n, 3);
        assert!(
            cache
                .get_or_render(key(1), || Err::<Vec<u8>, _>("boom"))
                .is_err()
        );
        let gz = CachedTile::new(vec![7; 1000]);
        assert!(!gz.has_gzip());
        assert!(gz.gzip().len() < 100 && gz.gzip()[..2] == [0x1f, 0x8b]);
        assert!(gz.has_gzip());
    }
}
