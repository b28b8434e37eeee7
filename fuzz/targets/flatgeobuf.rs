//! Any bytes as a FlatGeobuf file, as a server meets untrusted files: opened (header, index,
//! first and last feature checked), then read every way the server reads it. Errors are fine;
//! a panic, a hang or an allocation out of proportion is not.

use geo_types::{Coord, Rect};
use tessera::source::flatgeobuf::FlatGeobuf;
use tessera::source::{Cancel, PixelGrid, Query, SourceOptions, TileQuery};

pub fn run(data: &[u8]) {
    // One file per thread, rewritten each time (under /dev/shm when there is one).
    thread_local! {
        static PATH: std::path::PathBuf = {
            let dir = if std::path::Path::new("/dev/shm").is_dir() {
                std::path::PathBuf::from("/dev/shm")
            } else {
                std::env::temp_dir()
            };
            dir.join(format!("tessera-fuzz-{}-{:?}.fgb", std::process::id(), std::thread::current().id()))
        };
    }
    PATH.with(|path| {
        if std::fs::write(path, data).is_err() {
            return;
        }
        let options = SourceOptions {
            id_if_unique: Some("id".into()),
            ..SourceOptions::default()
        };
        let Ok(file) = FlatGeobuf::open(path, &options) else {
            return;
        };
        let cancel = Cancel::never();
        let world = Rect::new(
            Coord {
                x: -180.0,
                y: -90.0,
            },
            Coord { x: 180.0, y: 90.0 },
        );
        let columns: Vec<usize> = (0..file.info().fields.len()).collect();
        let _ = file.query(
            &Query {
                limit: 50,
                ..Query::default()
            },
            &cancel,
        );
        let _ = file.query(
            &Query {
                bbox: vec![file.info().extent.unwrap_or(world)],
                limit: 50,
                offset: 1,
                ..Query::default()
            },
            &cancel,
        );
        let _ = file.tile_features(
            &TileQuery {
                bbox: world,
                // Features under a tenth of a degree are counted on a world grid.
                pixel: [0.1, 0.1],
                columns,
                max_features: 1000,
                tally: Some(std::sync::Arc::new(PixelGrid::new(
                    world,
                    4,
                    256,
                    256,
                    |x, y| Some([(x + 180.0) / 360.0 * 256.0, (90.0 - y) / 180.0 * 256.0]),
                ))),
            },
            &cancel,
        );
        let _ = file.feature("0", &cancel);
    });
}
