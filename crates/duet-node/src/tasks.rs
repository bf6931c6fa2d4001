//! The node's background tasks: its supervised parts and the sessions, fetches and requests
//! they start. Each holds a handle on the node (and so its store) until it ends; stopping the
//! node aborts them all.
//!
//! A task may be started while the node stops: the network part, running on another thread,
//! can be between taking a stream and tracking the session it spawned for it when
//! [`Tasks::stop`] takes the list. Such a late task is aborted as it is tracked; kept in a list
//! nobody would read again, it would keep the store open for as long as its stream lived.

use std::sync::Mutex;

use tokio::task::JoinHandle;

use crate::lock;

#[derive(Default)]
pub(crate) struct Tasks(Mutex<Tracked>);

#[derive(Default)]
struct Tracked {
    running: Vec<JoinHandle<()>>,
    /// Set by [`Tasks::stop`]: whatever is tracked afterwards is aborted at once.
    stopped: bool,
}

impl Tasks {
    /// Keeps `task` to be aborted when the node stops (or aborts it, if the node stopped).
    pub(crate) fn track(&self, task: JoinHandle<()>) {
        let mut tracked = lock(&self.0);
        if tracked.stopped {
            task.abort();
            return;
        }
        tracked.running.retain(|t| !t.is_finished());
        tracked.running.push(task);
    }

    /// Aborts every task tracked, and from now on every task tracked later. Returns the
    /// aborted tasks, for the caller to wait until they have dropped what they held.
    pub(crate) fn stop(&self) -> Vec<JoinHandle<()>> {
        let mut tracked = lock(&self.0);
        tracked.stopped = true;
        let running = std::mem::take(&mut tracked.running);
        for t in &running {
            t.abort();
        }
        running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_tracked_after_the_stop_is_aborted() {
        let tasks = Tasks::default();
        tasks.track(tokio::spawn(std::future::pending()));
        for t in tasks.stop() {
            assert!(t.await.unwrap_err().is_cancelled());
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let late = tokio::spawn(async move {
            let _held = tx;
            std::future::pending::<()>().await;
        });
        tasks.track(late);
        // The late task dropped what it held: it was aborted, not kept.
        assert!(rx.await.is_err());
        assert!(tasks.stop().is_empty());
    }
}
