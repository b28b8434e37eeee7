//! Where generated tiles are stored: a [`TileSink`] takes tiles one by one, then finishes
//! atomically, so that a reader never sees half an archive under its final name (an
//! interrupted run leaves only its working copy, which the next run replaces). Archive
//! writers (PMTiles, MBTiles) implement it; [`DirSink`] writes `z/x/y.mvt` files.

use super::matrix::TileCoord;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: already exists; remove it or write elsewhere")]
    Exists(PathBuf),
}

pub trait TileSink {
    /// How it stores tiles: they are put compressed so (by the seeder, in parallel).
    fn wants(&self) -> super::Compression {
        super::Compression::None
    }
    /// Stores one tile (MVT bytes, compressed as [`TileSink::wants`]). Empty tiles are not
    /// put.
    fn put(&mut self, coord: TileCoord, tile: &[u8]) -> Result<(), SinkError>;
    /// Makes everything put visible under the final name at once.
    fn finish(self: Box<Self>) -> Result<(), SinkError>;
}

/// Tiles as files `DIR/z/x/y.mvt`, written in `DIR.partial` and renamed to `DIR` on finish.
#[derive(Debug)]
pub struct DirSink {
    target: PathBuf,
    work: PathBuf,
    extension: &'static str,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl DirSink {
    /// A sink that will become `target`, which must not exist yet.
    pub fn create(target: &Path) -> Result<DirSink, SinkError> {
        if target.exists() {
            return Err(SinkError::Exists(target.to_path_buf()));
        }
        let mut work = target.as_os_str().to_owned();
        work.push(".partial");
        let work = PathBuf::from(work);
        // What an interrupted run left: never published, so it goes.
        if work.exists() {
            std::fs::remove_dir_all(&work).map_err(io(&work))?;
        }
        std::fs::create_dir_all(&work).map_err(io(&work))?;
        Ok(DirSink {
            target: target.to_path_buf(),
            work,
            extension: "mvt",
        })
    }
}

impl TileSink for DirSink {
    fn put(&mut self, c: TileCoord, tile: &[u8]) -> Result<(), SinkError> {
        let dir = self.work.join(c.z.to_string()).join(c.x.to_string());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(format!("{}.{}", c.y, self.extension));
        std::fs::write(&path, tile).map_err(io(&path))
    }

    fn finish(self: Box<Self>) -> Result<(), SinkError> {
        std::fs::rename(&self.work, &self.target).map_err(io(&self.target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_appear_only_when_finished() {
        let root = std::env::temp_dir().join(format!("tessera-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let target = root.join("tiles");
        let mut sink: Box<dyn TileSink> = Box::new(DirSink::create(&target).unwrap());
        sink.put(
            TileCoord {
                z: 8,
                x: 136,
                y: 93,
            },
            b"abc",
        )
        .unwrap();
        assert!(!target.exists(), "visible before finish");
        sink.finish().unwrap();
        assert_eq!(std::fs::read(target.join("8/136/93.mvt")).unwrap(), b"abc");
        assert!(!root.join("tiles.partial").exists());
        // A second run does not overwrite a published folder.
        assert!(matches!(
            DirSink::create(&target),
            Err(SinkError::Exists(_))
        ));
        // An interrupted run's working copy is replaced.
        std::fs::create_dir_all(root.join("other.partial/1")).unwrap();
        let sink = DirSink::create(&root.join("other")).unwrap();
        assert!(!root.join("other.partial/1").exists());
        Box::new(sink).finish().unwrap();
        std::fs::remove_dir_all(&root).unwrap();
    }
}
