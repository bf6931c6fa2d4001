//! Answering `/duet/blobs/1`: a member device asks for a manifest, then for chunks, on one
//! stream; each request is answered in order, sealed chunks exactly as stored.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use duet_blob::{chunk_len, Request, Response};
use duet_model::{BlobHash, DeviceId};
use duet_store::{BlobRecord, BlobStoreError};
use futures::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::frames::{read_frame, write_frame};
use crate::sync::AbortOnDrop;
use crate::{lock, Node, NodeEvent};

/// The largest request (a chunk request is 37 bytes).
const MAX_REQUEST_BYTES: usize = 64;
/// Requests answered ahead: their chunks are read from disk while an earlier one is sent.
const READS_AHEAD: usize = 2;

/// A response on its way: ready, or a sealed chunk still being read.
enum Answer {
    Ready(Response),
    Reading { blob: BlobHash, size: u64, index: u32, read: JoinHandle<Result<Option<Vec<u8>>, BlobStoreError>> },
}

impl Node {
    /// Serves one inbound blob stream until the other device closes it.
    pub(crate) async fn serve_blobs(self, device: DeviceId, stream: duet_net::Stream) {
        let Ok(_slot) = self.blobs().serve_slots.clone().try_acquire_owned() else {
            tracing::debug!(?device, "too many blob streams at once; dropping one");
            return;
        };
        let (mut r, mut w) = stream.split();
        // Requests are read by their own task, so the chunks asked for next are read from disk
        // while the one before is written to the stream.
        let (tx, mut requests) = mpsc::channel::<Request>(READS_AHEAD);
        let _reader = AbortOnDrop(tokio::spawn(async move {
            while let Ok(Some(frame)) = read_frame(&mut r, MAX_REQUEST_BYTES).await {
                match Request::decode(&frame) {
                    Ok(request) => {
                        if tx.send(request).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::info!(?device, "closing a blob stream: {e}");
                        return;
                    }
                }
            }
        }));
        let mut current: Option<BlobRecord> = None;
        let mut answers = VecDeque::new();
        loop {
            while answers.len() < READS_AHEAD {
                let request = if answers.is_empty() {
                    match requests.recv().await {
                        Some(r) => r,
                        None => return,
                    }
                } else {
                    match requests.try_recv() {
                        Ok(r) => r,
                        Err(_) => break,
                    }
                };
                answers.push_back(self.answer(request, &mut current));
            }
            let Some(answer) = answers.pop_front() else { return };
            let response = match answer {
                Answer::Ready(response) => response,
                Answer::Reading { blob, size, index, read } => match read.await {
                    Ok(Ok(Some(sealed))) => {
                        self.count_upload(device, blob, size, index);
                        Response::Chunk { index, sealed }
                    }
                    _ => Response::Missing { index },
                },
            };
            if write_frame(&mut w, &response.encode()).await.is_err() {
                return;
            }
        }
    }

    /// Starts answering one request; `current` is the blob the stream is about.
    fn answer(&self, request: Request, current: &mut Option<BlobRecord>) -> Answer {
        match request {
            Request::Manifest { blob } => {
                *current = self.blobs().store.record(&blob).ok().flatten();
                let response = match current.as_ref() {
                    Some(record) => match self.blobs().store.have(&blob, &record.manifest) {
                        Ok(have) => {
                            Response::Manifest { manifest: record.manifest.encode(), have: have.as_bytes().to_vec() }
                        }
                        Err(_) => Response::NotFound,
                    },
                    None => Response::NotFound,
                };
                Answer::Ready(response)
            }
            Request::Chunk { blob, index } => {
                if current.as_ref().map(|r| r.hash) != Some(blob) {
                    *current = self.blobs().store.record(&blob).ok().flatten();
                }
                let Some(record) = current.clone() else { return Answer::Ready(Response::Missing { index }) };
                let (blob, size) = (record.hash, record.manifest.size());
                let node = self.clone();
                let read = tokio::task::spawn_blocking(move || {
                    node.shared.blobs.store.read_sealed(&record.hash, index, &record.manifest)
                });
                Answer::Reading { blob, size, index, read }
            }
        }
    }

    /// Counts a served chunk and reports upload progress when its percentage moves.
    fn count_upload(&self, device: DeviceId, blob: BlobHash, total: u64, index: u32) {
        let blobs = self.blobs();
        blobs.served.fetch_add(1, Ordering::Relaxed);
        let (before, done) = {
            let mut uploads = lock(&blobs.uploads);
            if uploads.len() > 1024 {
                uploads.clear();
            }
            let done = uploads.entry((blob, device)).or_default();
            let before = *done;
            *done = (*done + chunk_len(total, index)).min(total);
            (before, *done)
        };
        let percent = |b: u64| (b * 100).checked_div(total).unwrap_or(100);
        if percent(before) != percent(done) || done == total {
            self.emit(NodeEvent::BlobServed { blob, device, done, total });
        }
    }
}
