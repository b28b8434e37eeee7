//! Following the data: at start and every `server.watch_secs` each layer's source looks for a
//! new version of its data ([`crate::source::FeatureSource::refresh`]). A new version is served at once
//! (and for a file, the tile cache emptied); one that cannot be served is logged once, reported by
//! `/health`, and the last good version stays.

use super::Live;
use std::time::Duration;

/// Starts following the layers' data on the current runtime (nothing when `watch_secs` is 0).
pub fn watch_sources(live: &Live) {
    let watch_secs = live.app().config.watch_secs;
    if watch_secs == 0 {
        return;
    }
    tokio::spawn(watch(live.clone(), Duration::from_secs(watch_secs)));
}

async fn watch(live: Live, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first look is at once: a database's listener starts with it, before requests.
    loop {
        tick.tick().await;
        // The catalogue served now (it may have been reloaded).
        let app = live.app();
        let mut changed = false;
        for layer in app.catalogue.layers() {
            match layer.source.refresh().await {
                Ok(false) => {}
                Ok(true) => {
                    // A new file replaces a layer: its old tiles' memory is freed at once. A
                    // database's changes come often and touch a few tiles: their stale tiles
                    // (keyed by the old revisions, never served) are left to age out, rather
                    // than every layer's tiles emptied each time.
                    changed |= layer.source.backend().is_none();
                    let info = layer.source.info();
                    tracing::info!(
                        collection = %layer.meta.id,
                        features = info.feature_count,
                        "a new version of the data is served"
                    );
                }
                Err(e) => tracing::warn!(
                    collection = %layer.meta.id,
                    error = %e,
                    "a new version of the data cannot be served; the last good version stays"
                ),
            }
        }
        if changed {
            app.tile_cache.clear();
        }
    }
}
