//! Writing small FlatGeobuf files for tests.

use flatgeobuf::{FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};

/// A writer of `geometry` features stored in EPSG:`epsg`, spatially indexed.
pub fn writer(name: &str, geometry: GeometryType, epsg: i32) -> FgbWriter<'static> {
    let opts = FgbWriterOptions {
        crs: FgbCrs {
            code: epsg,
            ..Default::default()
        },
        ..Default::default()
    };
    FgbWriter::create_with_options(name, geometry, opts).expect("a FlatGeobuf writer")
}
