//! A device's attachments at the couple's mailbox: while connected to it, a device puts there
//! the attachments of its person's messages the partner has not received yet, so a partner
//! who comes online while this device is away still gets the photo, not only its message.
//!
//! Blind, as the events: the mailbox gets each blob's sealed chunks as stored here, under an
//! id it cannot link to the content, and its manifest sealed (`duet_blob::mailbox`). Fetching
//! from the mailbox is the fetcher's (`blobs/fetch.rs`), which asks it by that id.

use std::collections::HashSet;

use duet_blob::mailbox::{mailbox_id, seal_manifest};
use duet_blob::{Bitmap, Request, Response, MAX_FRAME_BYTES};
use duet_model::{BlobHash, DeviceId};
use futures::AsyncReadExt;

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::{Node, NodeError, NodeEvent};

/// Messages looked at per conversation, newest first: a backlog the partner has not
/// received is rarely longer.
const RECENT: usize = 200;
const ANSWERS: FrameRules = FrameRules { max: MAX_FRAME_BYTES, idle: crate::streams::BLOB_IDLE };

impl Node {
    /// Puts attachments at the mailbox while this device is connected to it: on connecting,
    /// then each time one of mine may have become one to put (a message of mine with an
    /// attachment stored, a backlog stored, an attachment that finished arriving here), not
    /// on every stored event.
    pub(crate) async fn put_blobs_at_mailbox(self, mailbox: DeviceId) {
        use tokio::sync::broadcast::error::RecvError;
        let mut events = self.subscribe();
        let mut put = HashSet::new();
        loop {
            if let Err(e) = self.put_waiting_blobs(mailbox, &mut put).await {
                tracing::info!(?mailbox, "attachments not put at the mailbox: {e}");
            }
            loop {
                match events.recv().await {
                    Ok(NodeEvent::MessageNew { message })
                        if Some(message.sender) == self.person_id() && !message.attachments.is_empty() =>
                    {
                        break
                    }
                    Ok(NodeEvent::ConversationChanged { .. } | NodeEvent::BlobComplete { .. })
                    | Err(RecvError::Lagged(_)) => break,
                    Ok(NodeEvent::PeerDisconnected { device }) if device == mailbox => return,
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        }
    }

    /// The attachments of my person's recent messages that no device of the partner has
    /// received yet.
    fn blobs_waiting_for_partner(&self) -> Result<Vec<BlobHash>, NodeError> {
        let Some(me) = self.person_id() else { return Ok(Vec::new()) };
        let mut hashes = Vec::new();
        for conversation in self.shared.store.conversations(&me)? {
            for m in self.shared.store.messages(&conversation.id, None, RECENT)?.messages {
                if m.sender == me && !m.delivered && !m.deleted {
                    for a in &m.attachments {
                        // The thumbnail first: it is what the partner's window shows first.
                        hashes.extend(a.media.as_ref().and_then(|m| m.thumbnail()).map(|t| t.blob));
                        hashes.push(a.blob);
                    }
                }
            }
        }
        Ok(hashes)
    }

    async fn put_waiting_blobs(&self, mailbox: DeviceId, put: &mut HashSet<BlobHash>) -> Result<(), NodeError> {
        let store = self.blobs().store.clone();
        let waiting: Vec<BlobHash> = self
            .blobs_waiting_for_partner()?
            .into_iter()
            .filter(|h| !put.contains(h) && store.is_complete(h).unwrap_or(false))
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        let key = self.space_key()?;
        let stream = self.shared.net.open_stream(mailbox, duet_net::DuetProtocol::Blobs).await?;
        let (mut r, mut w) = stream.split();
        let mut ask = async |request: Request| -> Result<Response, NodeError> {
            let refused = |e: String| NodeError::NotAllowed(format!("the mailbox: {e}"));
            write_frame(&mut w, &request.encode()).await.map_err(|e| refused(e.to_string()))?;
            let frame = read_frame(&mut r, ANSWERS).await.map_err(|e| refused(e.to_string()))?;
            Response::decode(frame.ok_or_else(|| refused("it closed the stream".into()))?)
                .map_err(|e| refused(e.to_string()))
        };
        for hash in waiting {
            let Some(record) = store.record(&hash)? else { continue };
            let id = mailbox_id(&key, &hash);
            let chunks = record.manifest.chunks();
            let manifest = seal_manifest(&key, &hash, &record.manifest.encode(), &mut rand_core::OsRng);
            let have = match ask(Request::Put { blob: id, chunks, manifest }).await? {
                Response::Manifest { have, .. } => Bitmap::from_bytes(&have, chunks)
                    .map_err(|e| NodeError::PeerFault(format!("the mailbox's chunk list: {e}")))?,
                other => return Err(NodeError::PeerFault(format!("the mailbox answered a put with {other:?}"))),
            };
            for index in (0..chunks).filter(|i| !have.get(*i)) {
                let Some(sealed) = store.read_sealed(&hash, index, &record.manifest)? else { break };
                match ask(Request::PutChunk { blob: id, index, sealed }).await? {
                    Response::Stored { index: i } if i == index => {}
                    other => return Err(NodeError::PeerFault(format!("the mailbox answered a chunk with {other:?}"))),
                }
            }
            tracing::info!(?hash, chunks, "an attachment is at the mailbox");
            put.insert(hash);
        }
        Ok(())
    }
}
