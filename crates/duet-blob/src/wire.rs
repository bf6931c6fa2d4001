//! The messages of `/duet/blobs/1`, each one length-prefixed frame.
//!
//! The asking device opens one stream per device it fetches from and sends requests; the
//! other answers each, in order, on the same stream, so several requests may be in flight.
//!
//! | request | answer |
//! |---|---|
//! | `Manifest { blob }` | `Manifest { manifest, have }` (the chunks it holds), or `NotFound` |
//! | `Chunk { blob, index }` | `Chunk { index, sealed }`, or `Missing { index }` |
//! | `Put { blob, chunks, manifest }` (to a mailbox) | `Manifest { manifest, have }` |
//! | `PutChunk { blob, index, sealed }` (to a mailbox) | `Stored { index }` |
//!
//! A mailbox is asked and given blobs by their mailbox id, with the manifest sealed
//! (`crate::mailbox`); `Put` and `PutChunk` go only to a mailbox.
//!
//! Frames are bounded by [`MAX_FRAME_BYTES`] (one sealed chunk and a header); decoding never
//! panics and never allocates past the frame it was given.

use duet_model::BlobHash;

use crate::chunk::sealed_len;
use crate::manifest::CHUNK_SIZE;
use crate::BlobError;

/// The largest frame either side sends: a sealed 256 KiB chunk and its header.
pub const MAX_FRAME_BYTES: usize = (sealed_len(CHUNK_SIZE) + 64) as usize;

mod tag {
    pub const MANIFEST: u8 = 1;
    pub const CHUNK: u8 = 2;
    pub const NOT_FOUND: u8 = 3;
    pub const MISSING: u8 = 4;
    /// Requests only.
    pub const PUT: u8 = 5;
    pub const PUT_CHUNK: u8 = 6;
    /// Responses only.
    pub const STORED: u8 = 5;
}

/// What the asking device sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Manifest {
        blob: BlobHash,
    },
    Chunk {
        blob: BlobHash,
        index: u32,
    },
    /// Keep this blob of `chunks` chunks (its sealed manifest); answered with what is held.
    Put {
        blob: BlobHash,
        chunks: u32,
        manifest: Vec<u8>,
    },
    /// Keep this sealed chunk of a blob put before.
    PutChunk {
        blob: BlobHash,
        index: u32,
        sealed: Vec<u8>,
    },
}

/// What the other device answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The manifest ([`crate::Manifest::encode`]) and a bitmap of the chunks held.
    Manifest {
        manifest: Vec<u8>,
        have: Vec<u8>,
    },
    /// This device knows nothing of the blob.
    NotFound,
    Chunk {
        index: u32,
        sealed: Vec<u8>,
    },
    /// This device does not hold that chunk (yet).
    Missing {
        index: u32,
    },
    /// The mailbox keeps the chunk.
    Stored {
        index: u32,
    },
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::Manifest { blob } => [&[tag::MANIFEST][..], &blob.0].concat(),
            Request::Chunk { blob, index } => [&[tag::CHUNK][..], &blob.0, &index.to_be_bytes()].concat(),
            Request::Put { blob, chunks, manifest } => {
                [&[tag::PUT][..], &blob.0, &chunks.to_be_bytes(), manifest].concat()
            }
            Request::PutChunk { blob, index, sealed } => {
                [&[tag::PUT_CHUNK][..], &blob.0, &index.to_be_bytes(), sealed].concat()
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, BlobError> {
        let blob = || {
            bytes.get(1..33).and_then(BlobHash::from_slice).ok_or(BlobError::Malformed("a request without a blob hash"))
        };
        match (bytes.first(), bytes.len()) {
            (Some(&tag::MANIFEST), 33) => Ok(Request::Manifest { blob: blob()? }),
            (Some(&tag::CHUNK), 37) => Ok(Request::Chunk { blob: blob()?, index: be_u32(&bytes[33..37])? }),
            (Some(&tag::PUT), 37..=MAX_FRAME_BYTES) => {
                Ok(Request::Put { blob: blob()?, chunks: be_u32(&bytes[33..37])?, manifest: bytes[37..].to_vec() })
            }
            (Some(&tag::PUT_CHUNK), len) if (37..=37 + sealed_len(CHUNK_SIZE) as usize).contains(&len) => {
                Ok(Request::PutChunk { blob: blob()?, index: be_u32(&bytes[33..37])?, sealed: bytes[37..].to_vec() })
            }
            _ => Err(BlobError::Malformed("an unknown request")),
        }
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Response::Manifest { manifest, have } => {
                let mut out = Vec::with_capacity(9 + manifest.len() + have.len());
                out.push(tag::MANIFEST);
                out.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
                out.extend_from_slice(manifest);
                out.extend_from_slice(&(have.len() as u32).to_be_bytes());
                out.extend_from_slice(have);
                out
            }
            Response::NotFound => vec![tag::NOT_FOUND],
            Response::Chunk { index, sealed } => {
                let mut out = Vec::with_capacity(5 + sealed.len());
                out.push(tag::CHUNK);
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(sealed);
                out
            }
            Response::Missing { index } => [&[tag::MISSING][..], &index.to_be_bytes()].concat(),
            Response::Stored { index } => [&[tag::STORED][..], &index.to_be_bytes()].concat(),
        }
    }

    /// Reads a response; takes the frame so a chunk's bytes are not copied again.
    pub fn decode(mut frame: Vec<u8>) -> Result<Self, BlobError> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(BlobError::Malformed("a frame over the limit"));
        }
        match frame.first().copied() {
            Some(tag::MANIFEST) => {
                let mut at = 1;
                let manifest = take_prefixed(&frame, &mut at)?.to_vec();
                let have = take_prefixed(&frame, &mut at)?.to_vec();
                if at != frame.len() {
                    return Err(BlobError::Malformed("trailing bytes after a manifest"));
                }
                Ok(Response::Manifest { manifest, have })
            }
            Some(tag::NOT_FOUND) if frame.len() == 1 => Ok(Response::NotFound),
            Some(tag::CHUNK) if frame.len() >= 5 => {
                let index = be_u32(&frame[1..5])?;
                frame.drain(..5);
                if frame.len() as u64 > sealed_len(CHUNK_SIZE) {
                    return Err(BlobError::Malformed("a chunk over the limit"));
                }
                Ok(Response::Chunk { index, sealed: frame })
            }
            Some(tag::MISSING) if frame.len() == 5 => Ok(Response::Missing { index: be_u32(&frame[1..5])? }),
            Some(tag::STORED) if frame.len() == 5 => Ok(Response::Stored { index: be_u32(&frame[1..5])? }),
            _ => Err(BlobError::Malformed("an unknown response")),
        }
    }
}

fn be_u32(b: &[u8]) -> Result<u32, BlobError> {
    Ok(u32::from_be_bytes(b.try_into().map_err(|_| BlobError::Malformed("a short number"))?))
}

fn take_prefixed<'a>(frame: &'a [u8], at: &mut usize) -> Result<&'a [u8], BlobError> {
    let len = be_u32(frame.get(*at..*at + 4).ok_or(BlobError::Malformed("a short frame"))?)? as usize;
    *at += 4;
    let end = at.checked_add(len).filter(|end| *end <= frame.len()).ok_or(BlobError::Malformed("a short frame"))?;
    let out = &frame[*at..end];
    *at = end;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn messages_round_trip() {
        let blob = BlobHash([9; 32]);
        for r in [
            Request::Manifest { blob },
            Request::Chunk { blob, index: 77 },
            Request::Put { blob, chunks: 3, manifest: vec![4; 90] },
            Request::PutChunk { blob, index: 2, sealed: vec![5; 1000] },
            Request::PutChunk { blob, index: 2, sealed: vec![] },
        ] {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
        for r in [
            Response::Manifest { manifest: vec![1, 2, 3], have: vec![0xff] },
            Response::NotFound,
            Response::Stored { index: 9 },
            Response::Chunk { index: 3, sealed: vec![5; 100] },
            Response::Missing { index: 4 },
        ] {
            assert_eq!(Response::decode(r.encode()).unwrap(), r);
        }
        let big = Response::Chunk { index: 0, sealed: vec![0; MAX_FRAME_BYTES] }.encode();
        assert!(Response::decode(big).is_err());
        assert!(Response::decode(vec![tag::MANIFEST, 0, 0, 0, 9, 1]).is_err());
        assert!(Response::decode(vec![tag::MANIFEST, 255, 255, 255, 255]).is_err());
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Request::decode(&bytes);
            let _ = Response::decode(bytes);
        }
    }
}
