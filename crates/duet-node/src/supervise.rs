//! No silent half-dead node: the node's long-running parts run under a supervisor.
//!
//! A part that panics is logged with its cause and started again a second later; its state
//! lives in [`crate::Shared`] and its queues behind async mutexes, so nothing is lost but the
//! step it was in. A part that panics [`MAX_RESTARTS`] times within [`RESTART_WINDOW`] is not
//! started again: the node stops its network and says so, in words, with
//! [`NodeEvent::Failed`] (the app shows it; restarting Duet is the way out). Both cases are
//! told to front ends, so a person is never left with a window that looks alive and does
//! nothing.
//!
//! Short-lived tasks (one sync session, one fetch) are not restarted: they end, and the peer's
//! next connection or the fetch's next try starts a new one. Their panics reach the log
//! (stderr) through Rust's panic hook, with the panic's place and message.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::task::JoinHandle;

use crate::{lock, Node, NodeEvent};

/// Panics of one part within [`RESTART_WINDOW`] after which it is not started again.
pub const MAX_RESTARTS: usize = 3;
/// See [`MAX_RESTARTS`].
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);
/// How long a part that panicked waits before it starts again.
const RESTART_AFTER: Duration = Duration::from_secs(1);

/// A long-running part of the node, by name (for the log and for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Connections, disconnections and the streams peers open.
    Network,
    /// My presence, sent to my partner's devices.
    Presence,
    /// Calls: timeouts and what media sessions ask for.
    Calls,
    /// Delivery receipts.
    Receipts,
    /// Collecting attachments no message needs any more.
    Attachments,
    /// Reminders of shared dates.
    Dates,
    /// Merging the search index when nothing is being written.
    Search,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Network => "network",
            Part::Presence => "presence",
            Part::Calls => "calls",
            Part::Receipts => "receipts",
            Part::Attachments => "attachments",
            Part::Dates => "dates",
            Part::Search => "search",
        }
    }

    /// What stops working while this part is down, in words.
    fn what(self) -> &'static str {
        match self {
            Part::Network => "connecting to your devices and your partner's",
            Part::Presence => "showing your status to your partner",
            Part::Calls => "calls",
            Part::Receipts => "delivery receipts",
            Part::Attachments => "tidying attachments",
            Part::Dates => "reminders of your dates",
            Part::Search => "keeping search fast",
        }
    }
}

/// The text of a panic's payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Whether a part that panicked at `panics` (the latest last) may start again at `now`.
fn may_restart(panics: &[Instant], now: Instant) -> bool {
    panics.iter().filter(|t| now.duration_since(**t) < RESTART_WINDOW).count() < MAX_RESTARTS
}

impl Node {
    /// Runs `part` (made afresh by `start` each time) under the supervisor (module docs).
    pub(crate) fn supervise<F, Fut>(&self, part: Part, start: F) -> JoinHandle<()>
    where
        F: Fn(Node) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let node = self.clone();
        tokio::spawn(async move {
            let mut panics: Vec<Instant> = Vec::new();
            loop {
                let run = start(node.clone());
                let injected = node.shared.inject_panic.clone();
                let guarded = async move {
                    tokio::select! {
                        () = run => {}
                        () = injected.wait_for(part) => panic!("a panic injected into the {} part", part.name()),
                    }
                };
                let panic = match AssertUnwindSafe(guarded).catch_unwind().await {
                    Ok(()) => return, // the part ended on its own (the node is stopping)
                    Err(panic) => panic_message(panic.as_ref()),
                };
                let now = Instant::now();
                panics.push(now);
                let restarting = may_restart(&panics, now);
                tracing::error!(part = part.name(), restarting, "a part of the node failed: {panic}");
                let message = if restarting {
                    format!("Something went wrong in Duet ({}): it was restarted, nothing was lost.", part.what())
                } else {
                    format!(
                        "Duet stopped working ({} kept failing: {panic}). Your messages are kept; restart Duet \
                         to go on.",
                        part.what()
                    )
                };
                if !restarting {
                    // Recorded before it is told, so whoever hears it finds the node stopped.
                    *lock(&node.shared.failed) = Some(message.clone());
                }
                node.emit(NodeEvent::Failed { part: part.name().to_owned(), restarting, message });
                if !restarting {
                    node.shared.net.shutdown().await;
                    return;
                }
                tokio::time::sleep(RESTART_AFTER).await;
            }
        })
    }

    /// Why the node stopped working, if a part of it kept failing (see the module docs).
    pub fn failure(&self) -> Option<String> {
        lock(&self.shared.failed).clone()
    }

    /// Makes `part` panic where it is now, as a bug would (tests of the supervisor).
    #[cfg(feature = "testkit")]
    pub fn inject_panic(&self, part: Part) {
        self.shared.inject_panic.fire(part);
    }
}

/// Panics asked for by tests ([`Node::inject_panic`]); never fires otherwise.
#[derive(Default)]
pub(crate) struct InjectPanic {
    fired: std::sync::Mutex<Vec<Part>>,
    notify: tokio::sync::Notify,
}

impl InjectPanic {
    #[cfg(feature = "testkit")]
    fn fire(&self, part: Part) {
        lock(&self.fired).push(part);
        self.notify.notify_waiters();
    }

    /// Returns when a panic was asked of `part` (never, outside tests).
    async fn wait_for(&self, part: Part) {
        loop {
            let notified = self.notify.notified();
            {
                let mut fired = lock(&self.fired);
                if let Some(i) = fired.iter().position(|p| *p == part) {
                    fired.remove(i);
                    return;
                }
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_restarts_until_it_fails_three_times_in_a_minute() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        assert!(may_restart(&[at(0)], at(0)));
        assert!(may_restart(&[at(0), at(10)], at(10)));
        assert!(!may_restart(&[at(0), at(10), at(20)], at(20)), "three in a minute: stop");
        assert!(may_restart(&[at(0), at(10), at(70)], at(70)), "the first is more than a minute old");
    }

    #[test]
    fn a_panics_cause_is_read_from_its_payload() {
        let caught = std::panic::catch_unwind(|| panic!("the cause {}", 42)).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "the cause 42");
        let caught = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(caught.as_ref()), "plain");
    }
}
