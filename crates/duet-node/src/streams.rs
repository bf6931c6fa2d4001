//! How many inbound streams of each protocol the node serves at once, per device and in all,
//! and how long each protocol's streams may stay silent.
//!
//! Anyone may open `/duet/pair/1` while an invite is open, so a stranger could open thousands
//! of pairing streams and make the node hold a task and a buffer for each. A joiner needs one
//! stream (two if it retries while the first is still being answered), so a device gets two at
//! once and everyone together sixteen; more are dropped at once, before a byte is read.
//! Member devices are limited too (a stolen device should not be able to open thousands of
//! sync streams), with room for the stream a reconnecting device opens before its old one is
//! noticed gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_model::DeviceId;
use duet_net::DuetProtocol;

use crate::frames::FrameRules;

/// A pairing frame (a join request or its answer) is a few hundred bytes; 64 KiB is plenty.
pub(crate) const PAIR_FRAMES: FrameRules = FrameRules { max: 64 * 1024, idle: Duration::from_secs(10) };
/// A joiner sends its request (about a kilobyte) as soon as the stream opens: a pairing
/// place is held at most this long by someone who does not.
pub(crate) const JOIN_REQUEST_TIME: Duration = Duration::from_secs(10);
/// A sync stream stays open while nothing changes; one quiet for this long is closed by
/// either side, and the pusher opens a new one (Members and Hello again: a few hundred bytes).
pub(crate) const SYNC_IDLE: Duration = Duration::from_secs(5 * 60);
/// Blob requests come back to back while a fetch runs; answers are read from the disk at once.
pub(crate) const BLOB_IDLE: Duration = Duration::from_secs(60);

/// How long a live stream may be silent: six heartbeats (presence is sent on each), and
/// never less than 10 s.
pub(crate) fn live_idle(heartbeat: Duration) -> Duration {
    (heartbeat * 6).max(Duration::from_secs(10))
}

/// Inbound streams served at once: (per device, in all).
fn caps(protocol: DuetProtocol) -> (usize, usize) {
    match protocol {
        DuetProtocol::Pair | DuetProtocol::Mailbox | DuetProtocol::Turn => (2, 16),
        DuetProtocol::Sync | DuetProtocol::Live => (8, 64),
        DuetProtocol::Blobs => (8, 16),
    }
}

#[derive(Default)]
struct Counts {
    per_device: HashMap<(DuetProtocol, DeviceId), usize>,
    total: HashMap<DuetProtocol, usize>,
}

/// The inbound streams being served now.
#[derive(Default)]
pub(crate) struct InboundStreams {
    counts: Mutex<Counts>,
}

/// One served inbound stream; dropping it frees its place.
pub(crate) struct StreamSlot {
    streams: Arc<InboundStreams>,
    protocol: DuetProtocol,
    device: DeviceId,
}

impl InboundStreams {
    /// A place for one more `protocol` stream from `device`, or `None` when it has, or
    /// everyone has, as many as allowed.
    pub(crate) fn admit(self: &Arc<Self>, protocol: DuetProtocol, device: DeviceId) -> Option<StreamSlot> {
        let (per_device, all) = caps(protocol);
        let mut counts = crate::lock(&self.counts);
        let total = counts.total.get(&protocol).copied().unwrap_or(0);
        let mine = counts.per_device.get(&(protocol, device)).copied().unwrap_or(0);
        if total >= all || mine >= per_device {
            return None;
        }
        counts.total.insert(protocol, total + 1);
        counts.per_device.insert((protocol, device), mine + 1);
        Some(StreamSlot { streams: self.clone(), protocol, device })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = crate::lock(&self.streams.counts);
        if let Some(n) = counts.total.get_mut(&self.protocol) {
            *n = n.saturating_sub(1);
        }
        let key = (self.protocol, self.device);
        match counts.per_device.get_mut(&key) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                counts.per_device.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_streams_are_capped_per_device_and_in_all_and_freed_when_done() {
        let streams = Arc::new(InboundStreams::default());
        let stranger = |i: u8| DeviceId([i; 32]);
        let a1 = streams.admit(DuetProtocol::Pair, stranger(1)).expect("a first stream");
        let _a2 = streams.admit(DuetProtocol::Pair, stranger(1)).expect("a retry beside it");
        assert!(streams.admit(DuetProtocol::Pair, stranger(1)).is_none(), "a third from one device");
        drop(a1);
        let _a3 = streams.admit(DuetProtocol::Pair, stranger(1)).expect("room again once one ended");

        let others: Vec<StreamSlot> = (2..=15).filter_map(|i| streams.admit(DuetProtocol::Pair, stranger(i))).collect();
        assert_eq!(others.len(), 14, "16 in all");
        assert!(streams.admit(DuetProtocol::Pair, stranger(99)).is_none(), "a 17th from anyone");
        // Other protocols have places of their own.
        assert!(streams.admit(DuetProtocol::Sync, stranger(99)).is_some());
        drop(others);
        assert!(streams.admit(DuetProtocol::Pair, stranger(99)).is_some());
        assert!(crate::lock(&streams.counts).per_device.len() <= 3, "ended streams leave no entry behind");
    }
}
