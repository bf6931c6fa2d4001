//! Answering `/duet/blobs/1`: a member device asks for a manifest, then for chunks, on one
//! stream; each request is answered in order, sealed chunks exactly as stored.
//!
//! [`BlobServer`] is the protocol's answering side on its own: a blob store and a way to read
//! the space key now, over any reader and writer, with no node inside (its tests run over
//! in-memory pipes). The node hands it each inbound stream ([`Node::serve_blobs`]) and counts
//! what it served.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use duet_blob::{chunk_len, Request, Response};
use duet_crypto::SpaceKey;
use duet_model::DeviceId;
use duet_store::{BlobRecord, BlobStore};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::frames::{read_frame, write_frame, FrameRules};
use crate::streams::BLOB_IDLE;
use crate::{lock, Node, NodeEvent};

/// The largest request (a chunk request is 37 bytes).
const REQUEST_FRAMES: FrameRules = FrameRules { max: 64, idle: BLOB_IDLE };

/// The space key now (`None` before there is a space).
pub(crate) type KeyNow = Arc<dyn Fn() -> Option<SpaceKey> + Send + Sync>;

/// Answers blob requests from what `blobs` holds. Cheap to clone.
#[derive(Clone)]
pub(crate) struct BlobServer {
    pub(crate) blobs: BlobStore,
    /// Each chunk is checked against the space key before it is served.
    pub(crate) key: KeyNow,
}

impl BlobServer {
    /// Answers requests read from `r` on `w`, in order, until the other side closes the stream,
    /// goes quiet for [`BLOB_IDLE`], or sends something that is not a request. `served` is
    /// called with each chunk sent.
    pub(crate) async fn serve<R, W>(&self, mut r: R, mut w: W, mut served: impl FnMut(&BlobRecord, u32))
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut current: Option<BlobRecord> = None;
        loop {
            let request = match read_frame(&mut r, REQUEST_FRAMES).await {
                Ok(Some(frame)) => match Request::decode(&frame) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::info!("closing a blob stream: {e}");
                        return;
                    }
                },
                _ => return,
            };
            let response = match request {
                Request::Manifest { blob } => {
                    current = self.blobs.record(&blob).ok().flatten();
                    match &current {
                        Some(record) => match self.blobs.have(&blob, &record.manifest) {
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
                        current = self.blobs.record(&blob).ok().flatten();
                    }
                    match &current {
                        Some(record) => match self.read_chunk(record.clone(), index).await {
                            Some(sealed) => {
                                served(record, index);
                                Response::Chunk { index, sealed }
                            }
                            None => Response::Missing { index },
                        },
                        None => Response::Missing { index },
                    }
                }
                // Only a mailbox keeps what others send; a device takes blobs by fetching.
                Request::Put { .. } | Request::PutChunk { .. } => {
                    tracing::info!("closing a blob stream: it tried to store a blob here");
                    return;
                }
            };
            if write_frame(&mut w, &response.encode()).await.is_err() {
                return;
            }
        }
    }

    /// Chunk `index` of `record` as stored, if it is here and still opens (on the blocking pool).
    async fn read_chunk(&self, record: BlobRecord, index: u32) -> Option<Vec<u8>> {
        let server = self.clone();
        let read = tokio::task::spawn_blocking(move || {
            let key = (server.key)()?;
            server.blobs.read_sealed_checked(&key, &record, index).ok().flatten()
        });
        read.await.ok().flatten()
    }
}

impl Node {
    /// Serves one inbound blob stream until the other device closes it.
    pub(crate) async fn serve_blobs(self, device: DeviceId, stream: duet_net::Stream) {
        let Ok(_slot) = self.blobs().serve_slots.clone().try_acquire_owned() else {
            tracing::debug!(?device, "too many blob streams at once; dropping one");
            return;
        };
        let (r, w) = stream.split();
        let node = self.clone();
        let key: KeyNow = Arc::new(move || node.space_key().ok());
        let server = BlobServer { blobs: self.blobs().store.clone(), key };
        server.serve(r, w, |record, index| self.count_upload(device, record, index)).await;
    }

    /// Counts a served chunk and reports upload progress when its percentage moves.
    fn count_upload(&self, device: DeviceId, record: &BlobRecord, index: u32) {
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

#[cfg(test)]
mod tests {
    use duet_blob::{open_chunk, Bitmap, Manifest, CHUNK_SIZE};
    use duet_model::{BlobHash, Timestamp};
    use futures::AsyncReadExt;
    use rand_core::OsRng;

    use super::*;
    use crate::frames::pipe;

    const ANSWERS: FrameRules = FrameRules { max: 1 << 20, idle: BLOB_IDLE };

    /// A blob server over a fresh store holding one blob of three chunks and a bit.
    struct Held {
        _dir: tempfile::TempDir,
        server: BlobServer,
        key: SpaceKey,
        content: Vec<u8>,
        hash: BlobHash,
    }

    fn held() -> Held {
        let dir = tempfile::tempdir().unwrap();
        let store =
            duet_store::Store::open(&dir.path().join("store"), &duet_crypto::DataKey::from_bytes([5; 32])).unwrap();
        let blobs = store.blobs(&dir.path().join("blobs")).unwrap();
        let key = SpaceKey::generate(&mut OsRng);
        let content: Vec<u8> = (0..3 * CHUNK_SIZE as u32 + 1000).map(|i| (i % 251) as u8).collect();
        let record = blobs.import_bytes(&key, &content, Timestamp(1)).unwrap();
        let served_key = key.clone();
        let server = BlobServer { blobs, key: Arc::new(move || Some(served_key.clone())) };
        Held { _dir: dir, server, key, content, hash: record.hash }
    }

    /// Asks `request` on `w` and reads the answer from `r`.
    async fn ask<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(r: &mut R, w: &mut W, request: Request) -> Response {
        write_frame(w, &request.encode()).await.unwrap();
        let frame = read_frame(r, ANSWERS).await.unwrap().expect("an answer");
        Response::decode(frame).unwrap()
    }

    #[tokio::test]
    async fn a_member_device_gets_the_manifest_and_every_chunk_sealed_as_stored() {
        let held = held();
        let (near, far) = pipe();
        let (far_r, far_w) = far.split();
        let served = std::sync::Mutex::new(Vec::new());
        let serving =
            held.server.serve(far_r, far_w, |record, index| served.lock().unwrap().push((record.hash, index)));
        let asking = async {
            let (mut r, mut w) = near.split();
            let Response::Manifest { manifest, have } =
                ask(&mut r, &mut w, Request::Manifest { blob: held.hash }).await
            else {
                panic!("no manifest")
            };
            let manifest = Manifest::decode_verified(&manifest, &held.hash, 1 << 30).unwrap();
            assert_eq!(manifest.chunks(), 4);
            assert!(Bitmap::from_bytes(&have, 4).unwrap().is_full(), "every chunk is held");
            let mut content = Vec::new();
            for index in 0..manifest.chunks() {
                let Response::Chunk { index: got, sealed } =
                    ask(&mut r, &mut w, Request::Chunk { blob: held.hash, index }).await
                else {
                    panic!("no chunk {index}")
                };
                assert_eq!(got, index);
                content.extend(open_chunk(&held.key, &held.hash, index, &sealed).unwrap());
            }
            assert_eq!(content, held.content);
            // Past the last chunk, and a blob not held: said, and the stream goes on.
            assert!(matches!(
                ask(&mut r, &mut w, Request::Chunk { blob: held.hash, index: 4 }).await,
                Response::Missing { index: 4 }
            ));
            let elsewhere = BlobHash([7; 32]);
            assert!(matches!(ask(&mut r, &mut w, Request::Manifest { blob: elsewhere }).await, Response::NotFound));
            assert!(matches!(
                ask(&mut r, &mut w, Request::Chunk { blob: elsewhere, index: 0 }).await,
                Response::Missing { index: 0 }
            ));
            // Closing the stream ends the session.
            drop((r, w));
        };
        tokio::join!(serving, asking);
        let served = served.into_inner().unwrap();
        assert_eq!(served, (0..4).map(|i| (held.hash, i)).collect::<Vec<_>>(), "only chunks sent are counted");
    }

    #[tokio::test]
    async fn a_request_that_is_not_one_closes_the_stream_and_serves_nothing() {
        let held = held();
        let (near, far) = pipe();
        let (far_r, far_w) = far.split();
        let serving = held.server.serve(far_r, far_w, |_, index| panic!("served chunk {index}"));
        let asking = async {
            let (mut r, mut w) = near.split();
            write_frame(&mut w, &[0xff; 40]).await.unwrap();
            // The server hangs up without answering.
            assert!(read_frame(&mut r, ANSWERS).await.unwrap().is_none());
        };
        tokio::join!(serving, asking);
    }

    #[tokio::test]
    async fn a_chunk_that_no_longer_opens_is_missing_not_served() {
        let held = held();
        // The space key changed since the blob was sealed (another space, a damaged key).
        let other = SpaceKey::generate(&mut OsRng);
        let server = BlobServer { blobs: held.server.blobs.clone(), key: Arc::new(move || Some(other.clone())) };
        let (near, far) = pipe();
        let (far_r, far_w) = far.split();
        let serving = server.serve(far_r, far_w, |_, index| panic!("served chunk {index}"));
        let asking = async {
            let (mut r, mut w) = near.split();
            assert!(matches!(
                ask(&mut r, &mut w, Request::Chunk { blob: held.hash, index: 0 }).await,
                Response::Missing { index: 0 }
            ));
            drop((r, w));
        };
        tokio::join!(serving, asking);
    }
}
