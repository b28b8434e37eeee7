//! Blocking reads that stop when nobody waits for them. A file backend runs its reads on
//! tokio's blocking pool; a task there cannot be aborted, so the read checks a [`Cancel`]
//! flag between runs of features, and the future that waits for it raises the flag when it
//! is dropped: a request that times out, or whose client leaves, stops its read within one
//! run instead of scanning on in the background.

use super::SourceError;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised when the caller of a blocking read is gone.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag nobody raises: for reads at start-up and in tools without a runtime.
    pub fn never() -> Cancel {
        Cancel::default()
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once the caller is gone: for `?` between units of work.
    pub fn check(&self) -> Result<(), SourceError> {
        if self.is_raised() {
            Err(SourceError::Cancelled)
        } else {
            Ok(())
        }
    }

    pub(crate) fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Raises the flag when dropped before [`Guard::done`].
struct Guard(Option<Cancel>);

impl Guard {
    fn done(mut self) {
        self.0 = None;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.raise();
        }
    }
}

/// Runs `read` on the blocking pool. Dropping the returned future raises the flag `read`
/// is given, so that it stops at its next check.
pub async fn run<T: Send + 'static, E: From<SourceError> + Send + 'static>(
    read: impl FnOnce(&Cancel) -> Result<T, E> + Send + 'static,
) -> Result<T, E> {
    let cancel = Cancel::default();
    let guard = Guard(Some(cancel.clone()));
    let joined = tokio::task::spawn_blocking(move || read(&cancel)).await;
    guard.done();
    match joined {
        Ok(result) => result,
        Err(e) => Err(SourceError::Internal(format!("a blocking read failed: {e}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[tokio::test]
    async fn a_dropped_read_stops_at_its_next_check() {
        let rows = Arc::new(AtomicUsize::new(0));
        let counted = rows.clone();
        let read = run(move |cancel| -> Result<(), SourceError> {
            loop {
                cancel.check()?;
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let waited = tokio::time::timeout(Duration::from_millis(100), read).await;
        assert!(waited.is_err(), "the read never ends by itself");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = rows.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(after > 0);
        assert_eq!(rows.load(Ordering::SeqCst), after, "the read went on");
    }

    #[tokio::test]
    async fn a_finished_read_returns_its_value() {
        let seven: Result<u8, SourceError> = run(|c| c.check().map(|_| 7)).await;
        assert_eq!(seven.unwrap(), 7);
    }
}
