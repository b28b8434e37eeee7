//! Keeping up with a database's edits. A table with tessera's change triggers (`tessera db
//! init`) notifies, per statement, the box its changed rows cover; one connection per database
//! LISTENs, and each source keeps the boxes since its last full change. A tile's revision is
//! the number of those boxes that touch it, so only the cached tiles an edit touches are made
//! again. A table without triggers (a view, a role that may not create them) is polled: the
//! statistics' row counters moving means the whole layer is stale.

use super::boxes::Boxes;
use super::discover::Table;
use crate::crs::Transformer;
use crate::source::SourceInfo;
use geo_types::{Coord, Rect};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How many changed boxes a source keeps before it counts everything as changed (a tile's
/// revision counts them, so they stay few).
const KEPT_BOXES: usize = 256;

/// The edits a source has seen: what its tiles' revisions are made of.
#[derive(Debug, Default)]
pub struct Changes {
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    /// Grows past every revision any tile had when the whole layer changes.
    base: u64,
    /// CRS84 boxes changed since.
    boxes: Vec<Rect<f64>>,
}

impl Changes {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Grows with every change.
    pub fn revision(&self) -> u64 {
        let log = self.log();
        log.base + log.boxes.len() as u64
    }

    /// Grows with every change that touches `bbox` (CRS84), and with every whole change.
    pub fn revision_in(&self, bbox: &Rect<f64>) -> u64 {
        let log = self.log();
        let touching = (log.boxes.iter())
            .filter(|b| crate::crs::intersection(b, bbox).is_some())
            .count();
        log.base + touching as u64
    }

    /// Rows within `bbox` (CRS84) changed.
    pub fn touched(&self, bbox: Rect<f64>) {
        let mut log = self.log();
        if log.boxes.len() >= KEPT_BOXES {
            drop(log);
            return self.everything();
        }
        log.boxes.push(bbox);
    }

    /// Anything may have changed: every tile's revision moves past any it had (no tile can
    /// come back to a revision it had before, whatever boxes touched it).
    pub fn everything(&self) {
        let mut log = self.log();
        log.base += log.boxes.len() as u64 + 1;
        log.boxes.clear();
    }
}

/// A source's table as the listener knows it: which notifications are its, how their boxes
/// read, and where its changes go.
#[derive(Debug)]
pub struct Follower {
    pub table: Table,
    pub to_crs84: Transformer,
    /// The table's boxes in memory, if it has them: patched before the change counts.
    pub boxes: Option<Arc<Boxes>>,
    pub changes: Arc<Changes>,
    /// The source's info, whose extent grows to hold what was added.
    pub info: Arc<Mutex<Arc<SourceInfo>>>,
    /// Set on every change: the feature count is to be read again.
    pub stale_count: Arc<AtomicBool>,
}

/// What a change trigger sends.
#[derive(Debug, serde::Deserialize)]
struct Notice {
    schema: String,
    table: String,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    boxes: std::collections::HashMap<String, [f64; 4]>,
}

impl Follower {
    /// Applies a notice meant for this table.
    fn concerns(&self, notice: &Notice) -> bool {
        notice.schema == self.table.schema && notice.table == self.table.name
    }

    /// Counts everything of the table as changed; its boxes are out of step until loaded again.
    fn everything(&self) {
        if let Some(b) = &self.boxes {
            b.drop_all();
            b.loading.store(false, Ordering::Release);
        }
        self.changes.everything();
    }

    /// Applies a notice meant for this table: the rows in the changed box read again into its
    /// boxes (on `client`, the listener's), then the tiles there count as changed.
    async fn apply(&self, notice: &Notice, client: &tokio_postgres::Client) {
        self.stale_count.store(true, Ordering::Relaxed);
        if notice.all {
            return self.everything();
        }
        let Some(&[x0, y0, x1, y1]) = notice.boxes.get(&self.table.geometry) else {
            return;
        };
        let native = Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 });
        if let Some(b) = &self.boxes {
            let inside = b.read(|t| {
                (t.locate_in_envelope_intersecting(&super::boxes::envelope(&native)))
                    .take(super::boxes::MAX_PATCH + 1)
                    .count()
            });
            match inside {
                // Not loaded (perhaps loading): a load under way must not miss this.
                None => b.changed(),
                Some(n) if n > super::boxes::MAX_PATCH => {
                    b.drop_all();
                    b.loading.store(false, Ordering::Release);
                }
                Some(_) => {
                    let within = format!("ST_MakeEnvelope($1, $2, $3, $4, {})", self.table.srid);
                    let sql = super::boxes::rows_sql(&self.table, Some(&within));
                    match client.query(&sql, &[&x0, &y0, &x1, &y1]).await {
                        Ok(rows) => {
                            let fresh = rows.iter().filter_map(super::boxes::entry).collect();
                            let b = b.clone();
                            // Inserting is CPU work under the tree's lock: off the async threads.
                            let patch =
                                tokio::task::spawn_blocking(move || b.replace(&native, fresh));
                            if patch.await.is_err() {
                                return self.everything();
                            }
                        }
                        Err(_) => return self.everything(),
                    }
                }
            }
        }
        match self.to_crs84.rect(native) {
            Ok(b) => {
                // A hair wider: the box went through one reprojection here and the tiles'
                // through another.
                let b = crate::crs::grow(b, 1e-6);
                let mut info = self.info.lock().unwrap_or_else(PoisonError::into_inner);
                let extent = info.extent.map_or(b, |e| crate::crs::union(e, b));
                if info.extent != Some(extent) {
                    *info = Arc::new(SourceInfo {
                        extent: Some(extent),
                        ..(**info).clone()
                    });
                }
                drop(info);
                self.changes.touched(b);
            }
            Err(_) => self.changes.everything(),
        }
    }
}

/// A database's listener and the tables it follows.
#[derive(Debug, Default)]
pub struct Listener {
    pub followers: Mutex<Vec<Arc<Follower>>>,
    /// Whether the listener was started.
    pub started: AtomicBool,
    /// Whether it listens now.
    heard: AtomicBool,
    /// Whether something may have been read while it did not: notices then were lost, and
    /// what was made from those reads may be stale.
    missed: AtomicBool,
}

impl Listener {
    /// Notes a read: while nothing listens, its tiles may miss a change.
    pub fn read(&self) {
        if !self.heard.load(Ordering::Acquire) {
            self.missed.store(true, Ordering::Release);
        }
    }

    /// Whether it listens now.
    pub fn hears(&self) -> bool {
        self.heard.load(Ordering::Acquire)
    }

    /// How changes reach the tiles now: see [`crate::source::Backend::changes`].
    pub fn state(&self) -> &'static str {
        let none = (self.followers.lock())
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty();
        match (none, self.heard.load(Ordering::Acquire)) {
            (true, _) => "polled",
            (false, true) => "notified",
            (false, false) => "connecting",
        }
    }

    fn everything(&self) {
        for f in self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            f.everything();
        }
    }
}

/// Follows the listener's tables on the database at `config`, for as long as the runtime
/// runs: LISTEN on a connection of its own, connected again whenever it drops. When reads
/// happened while nothing listened, everything counts as changed once it listens.
pub async fn listen(endpoint: super::tls::Endpoint, name: String, listener: Arc<Listener>) {
    let mut wait = Duration::from_millis(250);
    let mut warned = false;
    loop {
        let r = listen_once(&endpoint, &listener).await;
        listener.heard.store(false, Ordering::Release);
        listener.missed.store(true, Ordering::Release);
        match r {
            Ok(()) => wait = Duration::from_millis(250),
            Err(e) => {
                if !warned {
                    tracing::warn!(database = %name, error = %e, "not following the database's changes; trying again");
                    warned = true;
                }
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

/// One connection's worth of listening: returns when it drops.
async fn listen_once(
    endpoint: &super::tls::Endpoint,
    listener: &Listener,
) -> Result<(), tokio_postgres::Error> {
    use futures_util::StreamExt;
    let (client, mut connection) = endpoint.connect().await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The connection is driven here, its notifications passed on; it ends when it drops.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client
        .batch_execute(&format!("listen {}", super::schema::CHANNEL))
        .await?;
    listener.heard.store(true, Ordering::Release);
    if listener.missed.swap(false, Ordering::AcqRel) {
        listener.everything();
    }
    tracing::info!("following the database's changes");
    while let Some(payload) = rx.recv().await {
        match serde_json::from_str::<Notice>(&payload) {
            Ok(notice) => {
                let concerned: Vec<Arc<Follower>> = (listener.followers.lock())
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .filter(|f| f.concerns(&notice))
                    .cloned()
                    .collect();
                for f in concerned {
                    f.apply(&notice, &client).await;
                }
            }
            // Not ours, or not understood: safe only as a change of everything.
            Err(_) => listener.everything(),
        }
    }
    drop(client);
    driver.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
    }

    #[test]
    fn only_the_tiles_a_change_touches_move_on_and_none_comes_back() {
        let c = Changes::default();
        let (here, there) = (rect(0.0, 0.0, 1.0, 1.0), rect(5.0, 5.0, 6.0, 6.0));
        let (h0, t0) = (c.revision_in(&here), c.revision_in(&there));
        c.touched(rect(0.5, 0.5, 0.6, 0.6));
        assert_eq!(c.revision_in(&there), t0);
        assert!(c.revision_in(&here) > h0);
        let mut seen_here = vec![h0, c.revision_in(&here)];
        let before = c.revision_in(&there);
        c.everything();
        assert!(c.revision_in(&there) > before);
        for _ in 0..(KEPT_BOXES + 3) {
            c.touched(rect(0.1, 0.1, 0.2, 0.2));
            let r = c.revision_in(&here);
            assert!(!seen_here.contains(&r), "revision {r} came back");
            seen_here.push(r);
        }
    }
}
