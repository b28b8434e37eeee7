//! A FlatGeobuf file served as a [`FeatureSource`], following the file on disk. Deploy tools
//! write a new version beside the old one and rename it over; others rewrite the file in
//! place. Either way [`FeatureSource::refresh`] notices (another inode, length or
//! modification time), opens the new version and serves it from then on, with no restart.
//!
//! A new version is served only once it opens cleanly: a file still being written (modified
//! in the last second), truncated, broken or with other properties is refused, and the last
//! good version stays. After a rename that version is still whole, because the open file
//! keeps the old inode; after a rewrite in place it is gone, and the layer answers 503 until
//! the file is whole again.

use super::{Fingerprint, FlatGeobuf};
use crate::source::{
    BlockingFeatures, Cancel, Feature, FeatureSource, FieldType, Page, Query, SourceError,
    SourceInfo, SourceOptions, TileFeatures, TileQuery, blocking,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

/// A file modified more recently than this may still be being written: it is looked at again
/// on the next refresh.
const SETTLE: Duration = Duration::from_secs(1);

/// The version being served.
#[derive(Debug, Clone)]
struct Version {
    reader: Arc<FlatGeobuf>,
    info: Arc<SourceInfo>,
}

impl Version {
    fn of(reader: FlatGeobuf) -> Version {
        let info = Arc::new(reader.info().clone());
        Version {
            reader: Arc::new(reader),
            info,
        }
    }
}

/// A version on disk that was not served, and why (for the health report).
#[derive(Debug, Clone)]
struct Refused {
    /// `None`: the file was missing.
    on_disk: Option<Fingerprint>,
    reason: String,
}

/// A FlatGeobuf file as a [`FeatureSource`]: each call runs the reader on the blocking pool,
/// and stops when its caller is gone.
#[derive(Debug)]
pub struct FlatGeobufSource {
    path: PathBuf,
    options: SourceOptions,
    current: RwLock<Version>,
    revision: AtomicU64,
    refused: Mutex<Option<Refused>>,
}

/// What a look at the file on disk found.
enum OnDisk {
    /// The version served.
    Served,
    /// One refused before, or one still being written.
    Pending,
    New(Box<FlatGeobuf>),
}

impl FlatGeobufSource {
    pub fn open(path: &Path, options: &SourceOptions) -> Result<FlatGeobufSource, SourceError> {
        Ok(FlatGeobufSource {
            path: path.to_path_buf(),
            options: options.clone(),
            current: RwLock::new(Version::of(FlatGeobuf::open(path, options)?)),
            revision: AtomicU64::new(0),
            refused: Mutex::new(None),
        })
    }

    /// The synchronous reader of the version served now.
    pub fn reader(&self) -> Arc<FlatGeobuf> {
        self.version().reader
    }

    fn version(&self) -> Version {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, Option<Refused>> {
        self.refused.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens the version of `path` on disk if it is new, settled and not refused before.
fn look(
    served: &FlatGeobuf,
    path: &Path,
    options: &SourceOptions,
    refused: Option<Option<Fingerprint>>,
) -> Result<OnDisk, (Option<Fingerprint>, SourceError)> {
    let on_disk = match std::fs::metadata(path) {
        Ok(meta) => Fingerprint::of(&meta),
        Err(_) if refused == Some(None) => return Ok(OnDisk::Pending),
        Err(e) => return Err((None, io(path, e))),
    };
    if on_disk == served.fingerprint {
        return Ok(OnDisk::Served);
    }
    let age = on_disk
        .modified
        .and_then(|m| SystemTime::now().duration_since(m).ok());
    if refused == Some(Some(on_disk)) || age.is_some_and(|a| a < SETTLE) {
        return Ok(OnDisk::Pending);
    }
    let fail = |e| (Some(on_disk), e);
    let new = FlatGeobuf::open(path, options).map_err(fail)?;
    let (a, b) = (served.info(), new.info());
    fn shape(i: &SourceInfo) -> (Vec<(&str, FieldType)>, &str, u32) {
        let fields = i.fields.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        (fields, &i.geometry_type, i.storage_crs)
    }
    if shape(a) != shape(b) {
        return Err(fail(SourceError::Config {
            path: path.to_path_buf(),
            detail: format!(
                "the new version has other properties, geometry type or CRS ({} {}, EPSG:{}; \
                 served: {} {}, EPSG:{}); restart tessera to publish it",
                b.geometry_type,
                names(b),
                b.storage_crs,
                a.geometry_type,
                names(a),
                a.storage_crs
            ),
        }));
    }
    Ok(OnDisk::New(Box::new(new)))
}

fn names(i: &SourceInfo) -> String {
    let n: Vec<&str> = i.fields.iter().map(|f| f.name.as_str()).collect();
    format!("[{}]", n.join(", "))
}

fn io(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why a version was refused, in words fit for anyone: no server path.
fn public_reason(e: &SourceError) -> String {
    match e {
        SourceError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "the file is missing".into()
        }
        SourceError::Io { source, .. } => format!("the file cannot be read ({})", source.kind()),
        SourceError::Corrupt { detail, .. } => {
            format!("the file on disk is not a valid FlatGeobuf file ({detail})")
        }
        SourceError::Config { detail, .. } => detail.clone(),
        other => other.to_string(),
    }
}

impl BlockingFeatures for FlatGeobufSource {
    fn tile_features(&self, q: &TileQuery, cancel: &Cancel) -> Result<TileFeatures, SourceError> {
        self.reader().tile_features(q, cancel)
    }
}

#[async_trait::async_trait]
impl FeatureSource for FlatGeobufSource {
    fn info(&self) -> Arc<SourceInfo> {
        self.version().info
    }

    fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    fn blocking(&self) -> Option<&dyn BlockingFeatures> {
        Some(self)
    }

    async fn refresh(&self) -> Result<bool, SourceError> {
        let served = self.reader();
        let refused = self.refused().as_ref().map(|r| r.on_disk);
        let (path, options) = (self.path.clone(), self.options.clone());
        let looked =
            blocking::run(move |_| Ok::<_, SourceError>(look(&served, &path, &options, refused)))
                .await?;
        match looked {
            Ok(OnDisk::Pending) => Ok(false),
            Ok(OnDisk::Served) => {
                *self.refused() = None;
                Ok(false)
            }
            Ok(OnDisk::New(reader)) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Version::of(*reader);
                self.revision.fetch_add(1, Ordering::AcqRel);
                *self.refused() = None;
                Ok(true)
            }
            Err((on_disk, e)) => {
                *self.refused() = Some(Refused {
                    on_disk,
                    reason: public_reason(&e),
                });
                Err(e)
            }
        }
    }

    fn problem(&self) -> Option<String> {
        let reason = self.refused().as_ref()?.reason.clone();
        let still = self.reader().check_unchanged().is_ok();
        Some(if still {
            format!("{reason}; the last good version is served")
        } else {
            format!(
                "{reason}; the version served before was overwritten, so reads fail until the file is whole"
            )
        })
    }

    async fn query(&self, q: &Query) -> Result<Page, SourceError> {
        let (file, q) = (self.reader(), q.clone());
        blocking::run(move |cancel| file.query(&q, cancel)).await
    }

    async fn tile_features(&self, q: &TileQuery) -> Result<TileFeatures, SourceError> {
        let (file, q) = (self.reader(), q.clone());
        blocking::run(move |cancel| file.tile_features(&q, cancel)).await
    }

    async fn feature(&self, id: &str) -> Result<Option<Feature>, SourceError> {
        let (file, id) = (self.reader(), id.to_string());
        blocking::run(move |cancel| file.feature(&id, cancel)).await
    }
}
