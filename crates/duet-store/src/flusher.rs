//! The store's own periodic flush, in place of sled's.
//!
//! sled's flusher thread (`Config::flush_every_ms`) does two things every 500 ms: it writes
//! what is buffered and syncs the file — even when nothing was written — and it cleans a little
//! of the log's emptiest segments, reading their pages into its cache to write them again. After
//! each start of the app that cleaning went on for about two minutes at rest and left the app
//! process ~6 MB larger for good (anonymous memory 33.6 → 39.5 MB with the bench's
//! 10,000-message conversation; docs/desktop-app.md, "Benchmark"), with two `fsync`s a second
//! for as long as the app was open.
//!
//! The store turns sled's thread off and runs this one: every [`EVERY`] it asks sled to write
//! and sync what was written since the last time — nothing at all when nothing was, so a store
//! at rest does no I/O. Writes keep the bound they had: a write that does not flush itself
//! (most do: every batch of events, the identity, the space) is on disk within [`EVERY`].
//! Segments are still cleaned, by sled itself, as pages are rewritten by writes (one segment's
//! page per page consolidated), so the log is reclaimed as it is written, not while nothing is.
//!
//! A flush that fails here is sled's global error from then on: the next write or flush of
//! the store returns it.

use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often what was written is flushed, as sled's own thread did.
pub(crate) const EVERY: Duration = Duration::from_millis(500);

/// Flushes a sled database every [`EVERY`] until dropped; dropping it waits for the thread, so
/// the database is closed when the store that owns this is.
pub(crate) struct Flusher {
    stop: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(crate) fn start(db: sled::Db) -> std::io::Result<Self> {
        // Nothing is ever sent: dropping the sender is the signal to stop.
        let (stop, stopped) = mpsc::sync_channel::<()>(0);
        let thread = std::thread::Builder::new().name("duet-store-flush".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                // Returns at once, without a system call, when nothing is waiting to be written.
                let _ = db.flush();
            }
        })?;
        Ok(Self { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
