//! A bound on tiles made at once. Each render holds its layers' features and its encoder's
//! buffers (up to the tile budget), so memory follows the number of renders in flight: with at
//! most `max_renders` running and `max_queued` waiting, it stays bounded however many clients
//! ask for cold tiles at once. Past the queue a request is refused at once ([`TileError::Busy`])
//! instead of waiting for ever.

use super::TileError;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit};

#[derive(Debug)]
pub struct RenderLimit {
    running: Semaphore,
    max_renders: usize,
    queued: AtomicUsize,
    max_queued: usize,
}

/// Counts a waiting render for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl RenderLimit {
    pub fn new(max_renders: usize, max_queued: usize) -> RenderLimit {
        RenderLimit {
            running: Semaphore::new(max_renders.max(1)),
            max_renders: max_renders.max(1),
            queued: AtomicUsize::new(0),
            max_queued,
        }
    }

    /// A place to render in, waiting for one if needed; `Busy` when too many already wait.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, TileError> {
        if let Ok(p) = self.running.try_acquire() {
            return Ok(p);
        }
        if self.queued.fetch_add(1, Ordering::Relaxed) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(TileError::Busy);
        }
        let _waiting = Waiting(&self.queued);
        self.running
            .acquire()
            .await
            .map_err(|_| TileError::Internal("the render limit was closed".into()))
    }

    /// Renders running now, and waiting.
    pub fn load(&self) -> (usize, usize) {
        (
            self.max_renders - self.running.available_permits(),
            self.queued.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_queue_renders_are_refused() {
        let limit = RenderLimit::new(2, 1);
        let a = limit.enter().await.unwrap();
        let _b = limit.enter().await.unwrap();
        assert_eq!(limit.load(), (2, 0));
        // A third waits (the queue holds one), a fourth is refused.
        let third = limit.enter();
        tokio::pin!(third);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), third.as_mut());
        assert!(waited.await.is_err(), "the third waits");
        assert_eq!(limit.load(), (2, 1));
        assert!(matches!(limit.enter().await, Err(TileError::Busy)));
        drop(a);
        let _c = third.await.unwrap();
        assert_eq!(limit.load(), (2, 0));
    }
}
