//! The connected member devices, each with its two tasks: the push session (`sync`) and the
//! live sender (`live`), and the live sender's queue. The map's one owner: a device's tasks are
//! aborted when it is removed (disconnected, cut off, revoked) or when the node stops.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use duet_log::LiveMessage;
use duet_model::DeviceId;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use crate::lock;

/// Live messages queued per device; presence and typing beyond it are dropped.
const LIVE_QUEUE: usize = 32;

struct PeerTasks {
    push: JoinHandle<()>,
    live: JoinHandle<()>,
    live_tx: mpsc::Sender<LiveMessage>,
}

impl Drop for PeerTasks {
    fn drop(&mut self) {
        self.push.abort();
        self.live.abort();
    }
}

#[derive(Default)]
pub(crate) struct Peers {
    running: Mutex<Running>,
    /// Told each time a device's live sender starts.
    ready: Notify,
}

#[derive(Default)]
struct Running {
    tasks: HashMap<DeviceId, PeerTasks>,
    /// Set by [`Peers::stop_all`]: nothing starts afterwards. Otherwise a device that connected
    /// just as the node stopped could be started by a caller outside the node's tasks after
    /// the rest had stopped, and its live sender (waiting on a queue the node itself holds)
    /// would keep the node, and so its store, open for good. That fits what was seen: a test
    /// restarting a node waited in vain for its store to close, about once in twenty-five runs
    /// on a busy machine.
    stopped: bool,
}

impl Peers {
    /// Starts `device`'s push session and live sender (`push`, and `live` with the receiving
    /// end of its queue), unless its push session runs already.
    pub(crate) fn start(
        &self,
        device: DeviceId,
        push: impl FnOnce() -> JoinHandle<()>,
        live: impl FnOnce(mpsc::Receiver<LiveMessage>) -> JoinHandle<()>,
    ) {
        let mut running = lock(&self.running);
        if running.stopped || running.tasks.get(&device).is_some_and(|p| !p.push.is_finished()) {
            return;
        }
        let (live_tx, live_rx) = mpsc::channel(LIVE_QUEUE);
        running.tasks.insert(device, PeerTasks { push: push(), live: live(live_rx), live_tx });
        self.ready.notify_waiters();
    }

    /// Stops `device`'s tasks; whether it had any.
    pub(crate) fn remove(&self, device: &DeviceId) -> bool {
        lock(&self.running).tasks.remove(device).is_some()
    }

    /// The live queues of every connected member device.
    pub(crate) fn live_senders(&self) -> Vec<mpsc::Sender<LiveMessage>> {
        lock(&self.running).tasks.values().map(|p| p.live_tx.clone()).collect()
    }

    /// `device`'s live queue, waiting up to `patience` for its sender to start (a device that
    /// has just connected may not have one yet).
    pub(crate) async fn live_sender(&self, device: &DeviceId, patience: Duration) -> Option<mpsc::Sender<LiveMessage>> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let ready = self.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable(); // from here on, a sender that starts is not missed
            if let Some(tx) = lock(&self.running).tasks.get(device).map(|p| p.live_tx.clone()) {
                return Some(tx);
            }
            if tokio::time::timeout_at(deadline, ready).await.is_err() {
                return None;
            }
        }
    }

    /// Stops every device's tasks and waits until they are gone.
    pub(crate) async fn stop_all(&self) {
        let stopping: Vec<PeerTasks> = {
            let mut running = lock(&self.running);
            running.stopped = true;
            running.tasks.drain().map(|(_, p)| p).collect()
        };
        for mut p in stopping {
            p.push.abort();
            p.live.abort();
            let _ = (&mut p.push).await;
            let _ = (&mut p.live).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forever() -> JoinHandle<()> {
        tokio::spawn(std::future::pending())
    }

    #[tokio::test]
    async fn nothing_starts_once_every_task_was_stopped() {
        let peers = Peers::default();
        let (ben, cleo) = (DeviceId([1; 32]), DeviceId([2; 32]));
        peers.start(ben, forever, |_| forever());
        peers.stop_all().await;
        assert!(peers.live_senders().is_empty());
        let mut started = false;
        peers.start(
            cleo,
            || {
                started = true;
                forever()
            },
            |_| forever(),
        );
        assert!(!started, "a device connecting as the node stops is not started");
        assert!(peers.live_senders().is_empty());
    }

    #[tokio::test]
    async fn a_device_has_one_pair_of_tasks_and_its_queue_until_removed() {
        let peers = Peers::default();
        let ben = DeviceId([1; 32]);
        assert!(peers.live_sender(&ben, Duration::ZERO).await.is_none());
        let waiting = peers.live_sender(&ben, Duration::from_secs(30));
        let starting = async {
            tokio::task::yield_now().await;
            peers.start(ben, forever, |mut rx| tokio::spawn(async move { while rx.recv().await.is_some() {} }));
            // Started again while its push session runs: nothing changes.
            peers.start(ben, || panic!("a second push session"), |_| panic!("a second live sender"));
        };
        let (tx, ()) = tokio::join!(waiting, starting);
        assert!(tx.is_some(), "the waiting signal got the new sender");
        assert_eq!(peers.live_senders().len(), 1);
        assert!(peers.remove(&ben));
        assert!(!peers.remove(&ben));
        assert!(peers.live_senders().is_empty());
        peers.start(ben, forever, |_| forever());
        peers.stop_all().await;
        assert!(peers.live_senders().is_empty());
    }
}
