//! Answering `/duet/blobs/1`: a member device asks for a manifest, then for chunks, on one
//! stream; each request is answered in order, sealed chunks exactly as stored.

use std::sync::atomic::Ordering;

use duet_blob::{chunk_len, Request, Response};
use duet_model::DeviceId;
use duet_store::BlobRecord;
use futures::AsyncReadExt;

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::BLOB_IDLE;
use crate::{lock, Node, NodeEvent};

/// The largest request (a chunk request is 37 bytes).
const REQUEST_FRAMES: FrameRules = FrameRules { max: 64, idle: BLOB_IDLE };

impl Node {
    /// Serves one inbound blob stream until the other device closes it.
    pub(crate) async fn serve_blobs(self, device: DeviceId, stream: duet_net::Stream) {
        let Ok(_slot) = self.blobs().serve_slots.clone().try_acquire_owned() else {
            tracing::debug!(?device, "too many blob streams at once; dropping one");
            return;
        };
        let (mut r, mut w) = stream.split();
        let mut current: Option<BlobRecord> = None;
        loop {
            let request = match read_frame(&mut r, REQUEST_FRAMES).await {
                Ok(Some(frame)) => match Request::decode(&frame) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::info!(?device, "closing a blob stream: {e}");
                        return;
                    }
                },
                _ => return,
            };
            let response = match request {
                Request::Manifest { blob } => {
                    current = self.blobs().store.record(&blob).ok().flatten();
                    match &current {
                        Some(record) => match self.blobs().store.have(&blob, &record.manifest) {
                            Ok(have) => Response::Manifest {
                                manifest: record.manifest.encode(),
                                have: have.as_bytes().to_vec(),
                            },
                            Err(_) => Response::NotFound,
                        },
                        None => Response::NotFound,
                    }
                }
                Request::Chunk { blob, index } => {
                    if current.as_ref().map(|r| r.hash) != Some(blob) {
                        current = self.blobs().store.record(&blob).ok().flatten();
                    }
                    let Some(record) = current.clone() else {
                        if write_frame(&mut w, &Response::Missing { index }.encode()).await.is_err() {
                            return;
                        }
                        continue;
                    };
                    let node = self.clone();
                    let read = tokio::task::spawn_blocking(move || {
                        let key = node.space_key().map_err(|e| e.to_string())?;
                        node.shared.blobs.store.read_sealed_checked(&key, &record, index).map_err(|e| e.to_string())
                    })
                    .await;
                    match read {
                        Ok(Ok(Some(sealed))) => {
                            self.count_upload(device, current.as_ref(), index);
                            Response::Chunk { index, sealed }
                        }
                        _ => Response::Missing { index },
                    }
                }
            };
            if write_frame(&mut w, &response.encode()).await.is_err() {
                return;
            }
        }
    }

    /// Counts a served chunk and reports upload progress when its percentage moves.
    fn count_upload(&self, device: DeviceId, record: Option<&BlobRecord>, index: u32) {
        let Some(record) = record else { return };
        let blobs = self.blobs();
        blobs.served.fetch_add(1, Ordering::Relaxed);
        let total = record.manifest.size();
        let (before, done) = {
            let mut uploads = lock(&blobs.uploads);
            if uploads.len() > 1024 {
                uploads.clear();
            }
            let done = uploads.entry((record.hash, device)).or_default();
            let before = *done;
            *done = (*done + chunk_len(total, index)).min(total);
            (before, *done)
        };
        let percent = |b: u64| (b * 100).checked_div(total).unwrap_or(100);
        if percent(before) != percent(done) || done == total {
            self.emit(NodeEvent::BlobServed { blob: record.hash, device, done, total });
        }
    }
}
