//! PostGIS sources against a real PostgreSQL + PostGIS (tests/common/postgis.rs starts one):
//! tables found and published, features and tiles that agree with the same data read from
//! FlatGeobuf, hostile input, a database that goes away and comes back.

mod common;
use common::postgis::cluster;
use common::repo;

#[test]
fn the_harness_loads_a_layer() {
    let c = cluster();
    let url = c.database("harness");
    c.load(
        &url,
        &repo().join("sample-data/comuni_toscana.fgb"),
        "comuni",
        None,
    );
    let db = url.rsplit('/').next().unwrap();
    assert_eq!(c.psql(db, "select count(*) from comuni"), "273");
}
