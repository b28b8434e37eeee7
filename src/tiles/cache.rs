//! A bounded in-memory cache of finished tiles, each kept as MVT and, from the first client that
//! accepts it, gzip-compressed too, so that a hit is never compressed again. Concurrent misses of
//! one tile make it once. [`Cached`] puts it in front of any [`TileSource`].

use super::TileError;
use super::kept;
use super::limit::RenderLimit;
use super::matrix::{TileCoord, TileMatrixSet};
use super::source::{Compression, FollowedInfo, TileSource, TileSourceInfo};
use bytes::Bytes;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Keeps `raw` as its source made it (in [`kept`] memory, see [`TileSource::tile`]).
    pub fn new(raw: Bytes) -> CachedTile {
        CachedTile {
            etag: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&raw)),
            raw,
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
            kept(&enc.finish().expect("writing to memory"))
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
    /// The data's revision when the tile was made: a newer one makes it stale.
    pub revision: u64,
    pub matrix_set: &'static str,
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

pub struct TileCache {
    inner: Option<moka::future::Cache<TileKey, Arc<CachedTile>>>,
    capacity: u64,
    requests: AtomicU64,
    made: AtomicU64,
}

/// See [`TileCache::counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheCounts {
    pub requests: u64,
    pub made: u64,
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
            moka::future::Cache::builder()
                .max_capacity(capacity)
                // The gzip form may come later: count it in from the start (parcel tiles gzip
                // to about 70 %, measured as the allocator's bytes in use after a full cache),
                // with the entry, its validator and the allocator's own overhead.
                .weigher(|k: &TileKey, v: &Arc<CachedTile>| {
                    (k.tileset.len() + v.raw.len() * 7 / 4 + 256).min(u32::MAX as usize) as u32
                })
                .build()
        });
        TileCache {
            inner,
            capacity,
            requests: AtomicU64::new(0),
            made: AtomicU64::new(0),
        }
    }

    /// The cached tile, or the one `make` makes (then cached). Concurrent callers for the
    /// same key wait for a single `make`; if its caller leaves, a waiting one takes over.
    pub async fn get_or_make<E: Send + Sync + 'static>(
        &self,
        key: TileKey,
        make: impl Future<Output = Result<Bytes, E>>,
    ) -> Result<Arc<CachedTile>, Arc<E>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let make = async {
            self.made.fetch_add(1, Ordering::Relaxed);
            make.await.map(|raw| Arc::new(CachedTile::new(raw)))
        };
        match &self.inner {
            None => make.await.map_err(Arc::new),
            Some(c) => c.try_get_with(key, make).await,
        }
    }

    /// The cached tile, if it is there (never makes one).
    pub async fn get(&self, key: &TileKey) -> Option<Arc<CachedTile>> {
        match &self.inner {
            Some(c) => c.get(key).await,
            None => None,
        }
    }

    /// Tiles asked of the cache, and made because it did not hold them, since the start.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            requests: self.requests.load(Ordering::Relaxed),
            made: self.made.load(Ordering::Relaxed),
        }
    }

    /// Drops every tile: after the data changed, so that their memory is free at once (stale
    /// tiles are never served anyway, their keys hold the old revision).
    pub fn clear(&self) {
        if let Some(c) = &self.inner {
            c.invalidate_all();
        }
    }

    /// Tiles held and their weight in bytes, once pending evictions are done.
    pub async fn usage(&self) -> (u64, u64) {
        match &self.inner {
            Some(c) => {
                c.run_pending_tasks().await;
                (c.entry_count(), c.weighted_size())
            }
            None => (0, 0),
        }
    }
}

/// A tile source behind the cache: its tiles are made once, then served from memory, under
/// the name `tileset` (two sources must not share one). It serves them uncompressed, whatever
/// the inner source's compression; the cache keeps the gzip form beside.
#[derive(Debug)]
pub struct Cached {
    inner: Arc<dyn TileSource>,
    info: FollowedInfo,
    cache: Arc<TileCache>,
    /// Bounds the tiles made at once, across every source that shares it.
    limit: Arc<RenderLimit>,
    tileset: Arc<str>,
}

/// The info of `inner` as the cache serves it: uncompressed.
fn uncompressed(inner: &dyn TileSource) -> TileSourceInfo {
    TileSourceInfo {
        compression: Compression::None,
        ..(*inner.info()).clone()
    }
}

impl Cached {
    pub fn new(
        inner: Arc<dyn TileSource>,
        cache: Arc<TileCache>,
        limit: Arc<RenderLimit>,
        tileset: &str,
    ) -> Cached {
        Cached {
            info: FollowedInfo::new(inner.revision(), uncompressed(&*inner)),
            inner,
            cache,
            limit,
            tileset: Arc::from(tileset),
        }
    }

    fn key(&self, tms: &TileMatrixSet, c: TileCoord) -> TileKey {
        TileKey {
            tileset: self.tileset.clone(),
            revision: self.inner.revision_at(tms, c),
            matrix_set: tms.id,
            z: c.z,
            x: c.x,
            y: c.y,
        }
    }

    /// The tile as the cache holds it (uncompressed MVT, gzip on demand, a validator).
    pub async fn cached_tile(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Arc<CachedTile>, Arc<TileError>> {
        let make = async {
            let _running = self.limit.enter().await?;
            let tile = self.inner.tile(tms, coord).await?;
            match (tile, self.inner.info().compression) {
                (None, _) => Ok(Bytes::new()),
                (Some(b), Compression::None) => Ok(b),
                (Some(b), gzip) => {
                    let mut raw = Vec::with_capacity(b.len() * 3);
                    super::inflate_into(&b, gzip, &mut raw)?;
                    Ok(kept(&raw))
                }
            }
        };
        self.cache.get_or_make(self.key(tms, coord), make).await
    }

    /// The tile if the cache holds it, without making it.
    pub async fn hit(&self, tms: &TileMatrixSet, coord: TileCoord) -> Option<Arc<CachedTile>> {
        self.cache.get(&self.key(tms, coord)).await
    }
}

#[async_trait::async_trait]
impl TileSource for Cached {
    fn info(&self) -> Arc<TileSourceInfo> {
        self.info
            .at(self.inner.revision(), || uncompressed(&*self.inner))
    }

    fn revision(&self) -> u64 {
        self.inner.revision()
    }

    fn revision_at(&self, tms: &TileMatrixSet, coord: TileCoord) -> u64 {
        self.inner.revision_at(tms, coord)
    }

    async fn tile(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Option<Bytes>, TileError> {
        let t = self
            .cached_tile(tms, coord)
            .await
            .map_err(TileError::Shared)?;
        Ok((!t.is_empty()).then(|| t.raw.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(z: u8) -> TileKey {
        TileKey {
            tileset: "t".into(),
            revision: 0,
            matrix_set: "WebMercatorQuad",
            z,
            x: 0,
            y: 0,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_make_once() {
        let cache = Arc::new(TileCache::new(16));
        let makes = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, makes) = (cache.clone(), makes.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_make(key(3), async {
                            makes.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            Ok::<_, ()>(Bytes::from_static(&[1, 2, 3]))
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(&t.await.unwrap().raw[..], &[1, 2, 3]);
        }
        assert_eq!(makes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn disabled_cache_makes_every_time_and_errors_pass_through() {
        let cache = TileCache::new(0);
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            cache
                .get_or_make(key(1), async {
                    n.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ()>(Bytes::new())
                })
                .await
                .unwrap();
        }
        assert_eq!(n.load(Ordering::SeqCst), 3);
        assert!(
            cache
                .get_or_make(key(1), async { Err::<Bytes, _>("boom") })
                .await
                .is_err()
        );
        let gz = CachedTile::new(Bytes::from_static(&[7; 1000]));
        assert!(!gz.has_gzip());
        assert!(gz.gzip().len() < 100 && gz.gzip()[..2] == [0x1f, 0x8b]);
        assert!(gz.has_gzip());
    }
}
