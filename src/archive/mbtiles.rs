//! MBTiles 1.3 archives, written with SQLite (`rusqlite`): the spec's `metadata` table
//! (`format = pbf`, and `json` with `vector_layers`), tiles gzipped, rows in TMS order (row 0
//! at the south), all in one transaction.

use super::{ArchiveMeta, failed, io, working_copy};
use crate::tiles::matrix::TileCoord;
use crate::tiles::{Compression, SinkError, TileSink};
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};

pub struct MbtilesSink {
    target: PathBuf,
    work: PathBuf,
    db: Connection,
}

impl MbtilesSink {
    pub fn create(target: &Path, meta: &ArchiveMeta) -> Result<MbtilesSink, SinkError> {
        let work = working_copy(target);
        // What an interrupted run left: never published, so it goes.
        if work.exists() {
            std::fs::remove_file(&work).map_err(io(&work))?;
        }
        let db = Connection::open(&work).map_err(|e| failed(&work, e))?;
        let sql_failed = |e: rusqlite::Error| failed(&work, e);
        // A new file nobody reads until it is renamed: no journal is needed.
        db.execute_batch(
            "pragma journal_mode = off; pragma synchronous = off;
             create table metadata (name text, value text);
             create table tiles (zoom_level integer, tile_column integer, tile_row integer,
                                 tile_data blob);
             create unique index tile_index on tiles (zoom_level, tile_column, tile_row);
             begin;",
        )
        .map_err(sql_failed)?;
        let (lon, lat, zoom) = meta.center();
        let (b, (min_zoom, max_zoom)) = (meta.bounds(), meta.zooms());
        let text = |key: &str| meta.tilejson[key].as_str().map(str::to_string);
        let json = serde_json::json!({
            "vector_layers": meta.tilejson["vector_layers"],
            "tessera:classificazione": meta.tilejson["tessera:classificazione"],
        });
        let mut rows: Vec<(&str, String)> = vec![
            ("name", text("name").unwrap_or_default()),
            ("format", "pbf".into()),
            ("type", "overlay".into()),
            ("version", "1.0.0".into()),
            ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
            ("center", format!("{lon},{lat},{zoom}")),
            ("minzoom", min_zoom.to_string()),
            ("maxzoom", max_zoom.to_string()),
            ("json", json.to_string()),
        ];
        for key in ["description", "attribution"] {
            if let Some(v) = text(key) {
                rows.push((key, v));
            }
        }
        for (name, value) in rows {
            db.execute(
                "insert into metadata (name, value) values (?1, ?2)",
                params![name, value],
            )
            .map_err(sql_failed)?;
        }
        Ok(MbtilesSink {
            target: target.to_path_buf(),
            work,
            db,
        })
    }
}

impl TileSink for MbtilesSink {
    fn wants(&self) -> Compression {
        Compression::Gzip
    }

    fn put(&mut self, c: TileCoord, tile: &[u8]) -> Result<(), SinkError> {
        // MBTiles counts rows from the south (TMS).
        let row = (1u32 << c.z) - 1 - c.y;
        self.db
            .prepare_cached(
                "insert into tiles (zoom_level, tile_column, tile_row, tile_data)
                 values (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![c.z, c.x, row, tile]))
            .map_err(|e| failed(&self.work, e))?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), SinkError> {
        let MbtilesSink { target, work, db } = *self;
        db.execute_batch("commit;").map_err(|e| failed(&work, e))?;
        db.close().map_err(|(_, e)| failed(&work, e))?;
        super::publish(&work, &target)
    }
}
