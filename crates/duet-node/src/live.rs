//! `/duet/live/1` on real streams: presence, typing and call signals (`duet_log::live` is
//! the protocol; call signals go to `calls`).

use std::time::{Duration, Instant};

use duet_log::live::MAX_LIVE_FRAME_BYTES;
use duet_log::LiveMessage;
use duet_model::DeviceId;
use futures::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::{now, Node, NodeEvent};

impl Node {
    /// Opens a live stream to `device` and sends it my presence now and then whatever is
    /// queued for it (presence changes, heartbeats, typing).
    ///
    /// A stream that breaks (its connection closed while another one to the device stays
    /// up, say) is reopened and the message that failed is sent again, so a call signal is
    /// not lost with it. The task ends when the device disconnects (it is aborted then).
    pub(crate) async fn live_writer(self, device: DeviceId, mut rx: mpsc::Receiver<LiveMessage>) {
        let mut unsent: Option<LiveMessage> = None;
        loop {
            if let Ok(mut stream) = self.shared.net.open_stream(device, duet_net::DuetProtocol::Live).await {
                let first = self.my_presence_message();
                let mut ok = write_frame(&mut stream, &first.encode()).await.is_ok();
                if ok {
                    if let Some(msg) = unsent.take() {
                        ok = write_frame(&mut stream, &msg.encode()).await.is_ok();
                        if !ok {
                            unsent = Some(msg);
                        }
                    }
                }
                while ok {
                    let Some(msg) = rx.recv().await else {
                        let _ = stream.close().await;
                        return;
                    };
                    if write_frame(&mut stream, &msg.encode()).await.is_err() {
                        unsent = Some(msg);
                        ok = false;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            if !self.shared.net.connected().await.map(|c| c.contains(&device)).unwrap_or(false) {
                return;
            }
        }
    }

    /// Reads what a member device says on its live stream.
    pub(crate) async fn live_reader(self, device: DeviceId, mut stream: duet_net::Stream) {
        let Some(person) = self.shared.store.space().ok().flatten().and_then(|s| s.membership.person_of(&device))
        else {
            return;
        };
        let rules =
            FrameRules { max: MAX_LIVE_FRAME_BYTES, idle: crate::streams::live_idle(self.shared.config.heartbeat) };
        while let Ok(Some(frame)) = read_frame(&mut stream, rules).await {
            match LiveMessage::decode(&frame) {
                Ok(LiveMessage::Presence { status, .. }) => {
                    let changed = self.shared.presence.heard(person, device, status, now());
                    if changed {
                        if let Ok(p) = self.presence_of(person) {
                            self.emit(NodeEvent::Presence { presence: p });
                        }
                    }
                }
                Ok(LiveMessage::Typing { target, .. }) => self.emit(NodeEvent::Typing { person, target }),
                Ok(LiveMessage::Call(signal)) => self.on_call_signal(device, person, signal).await,
                Ok(_) => {}
                Err(_) => break, // a malformed live frame ends the stream; nothing is lost
            }
        }
    }

    pub(crate) fn my_presence_message(&self) -> LiveMessage {
        let status = self.shared.presence.outgoing();
        LiveMessage::Presence { status, at: now() }
    }

    /// Sends a live message to every connected member device.
    pub(crate) async fn broadcast_live(&self, msg: LiveMessage) {
        for tx in self.shared.peers.live_senders() {
            // A full queue means the peer is slow: presence and typing can be dropped.
            let _ = tx.try_send(msg.clone());
        }
    }

    pub(crate) async fn broadcast_presence(&self) {
        self.broadcast_live(self.my_presence_message()).await;
    }

    /// Once a second: my idle transitions, heartbeats, and expiring silent devices.
    pub(crate) async fn presence_ticker(self) {
        let heartbeat = self.shared.config.heartbeat;
        let mut last_sent = self.shared.presence.outgoing();
        let mut last_beat = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(250).min(heartbeat));
        loop {
            tick.tick().await;
            let now_i = Instant::now();
            let outgoing = self.shared.presence.outgoing();
            if outgoing != last_sent || now_i.duration_since(last_beat) >= heartbeat {
                if outgoing != last_sent {
                    if let Some(me) = self.person_id() {
                        if let Ok(p) = self.presence_of(me) {
                            self.emit(NodeEvent::Presence { presence: p });
                        }
                    }
                }
                last_sent = outgoing;
                last_beat = now_i;
                self.broadcast_presence().await;
            }
            self.close_expired_invites().await;
            let wall = now();
            let gone = self.shared.presence.expire(heartbeat * 3, wall);
            for person in gone {
                let _ = self.shared.store.set_last_seen(&person, wall);
                if let Ok(p) = self.presence_of(person) {
                    self.emit(NodeEvent::Presence { presence: p });
                }
            }
        }
    }
}
