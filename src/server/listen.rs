//! Connections: accepting them, bounding them and closing them. Each connection is served by
//! hyper's HTTP/1 with a timer, so that:
//!
//! - a request head must arrive within `header_timeout`, and a kept-alive connection waits at
//!   most as long for its next request (slow or silent clients are closed);
//! - at most `max_connections` are open; past that, new ones wait in the kernel's backlog, and
//!   the open ones are asked to close as soon as they are idle, so that silent connections
//!   cannot starve a new client;
//! - a client that half-closes its side after its request still gets the answer;
//! - on Ctrl-C or SIGTERM no connection is accepted any more, each open one closes after its
//!   current response, and after `shutdown_grace` the rest are dropped.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// How connections are treated (from `[server]`).
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
    /// Where to count connections, for the metrics.
    pub counters: Option<Connections>,
}

/// Connections open now and accepted since the start.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    pub open: Arc<AtomicUsize>,
    pub accepted: Arc<AtomicU64>,
}

/// Counts one connection as open while it lives.
struct Open(Option<Connections>);

impl Open {
    fn new(counters: &Option<Connections>) -> Open {
        if let Some(c) = counters {
            c.accepted.fetch_add(1, Ordering::Relaxed);
            c.open.fetch_add(1, Ordering::Relaxed);
        }
        Open(counters.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Serves `router` on `listener` until `stop` resolves, then drains within the grace period.
pub async fn serve_until(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Bumped when every slot is taken: idle connections then close to make room. (A watch,
    // not a Notify: a connection accepted just before the bump still sees it.)
    let (crowded, _) = watch::channel(0u64);
    // Set once on shutdown: every connection finishes its response and closes.
    let (closing, _) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(_) => {
                tracing::warn!(
                    limit = limits.max_connections,
                    "every connection slot is taken: idle connections are closed to make room"
                );
                crowded.send_modify(|n| *n += 1);
                tokio::select! {
                    s = slots.clone().acquire_owned() => s.map_err(std::io::Error::other)?,
                    _ = &mut stop => break,
                }
            }
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most often: wait instead of spinning; the
                    // connections already open are not affected.
                    tracing::error!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let (mut crowded, mut closing) = (crowded.subscribe(), closing.subscribe());
        let header_timeout = limits.header_timeout;
        let open = Open::new(&limits.counters);
        tokio::spawn(async move {
            let _open = open;
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .half_close(true)
                .serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let opened = tokio::time::Instant::now();
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = crowded.changed() => {
                    // A new connection's request may still be on its way: it gets a moment
                    // to arrive (and is then answered) before the connection is closed.
                    let settle = opened + NEW_CONNECTION_GRACE;
                    tokio::select! {
                        r = conn.as_mut() => return finish(r, slot),
                        _ = tokio::time::sleep_until(settle) => {}
                    }
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
                _ = closing.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            finish(result, slot);
        });
    }
    tracing::info!("shutting down: no new connections; open ones finish their response");
    drop(listener);
    let _ = closing.send(true);
    // Every slot free again means every connection has ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown_grace.as_secs(),
            "connections still open after the grace period are dropped"
        );
    }
    Ok(())
}

/// How long a connection accepted when every slot is taken may take to send its request
/// before it is closed to make room.
const NEW_CONNECTION_GRACE: Duration = Duration::from_millis(500);

/// The end of a connection: its slot is free again; errors of clients that left or were too
/// slow are expected, the others logged.
fn finish(result: hyper::Result<()>, slot: tokio::sync::OwnedSemaphorePermit) {
    if let Err(e) = result
        && !e.is_timeout()
        && !e.is_incomplete_message()
    {
        tracing::debug!(error = %e, "connection ended with an error");
    }
    drop(slot);
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler: only Ctrl-C stops the server");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
