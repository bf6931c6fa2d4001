//! Attachment blobs, without I/O: how content is cut, checked, sealed and asked for.
//!
//! - **Chunks.** A blob is cut into [`CHUNK_SIZE`] (256 KiB) chunks; the last may be shorter,
//!   and an empty blob is one empty chunk.
//! - **Manifest.** Its [`Manifest`] lists the BLAKE3 chaining value of every chunk: the
//!   interior nodes of BLAKE3's own tree, so merging them gives the plain BLAKE3 hash of the
//!   whole content, which is the [`BlobHash`] a message names. A receiver asks any device for
//!   the manifest, checks it against the hash from the signed message
//!   ([`Manifest::decode_verified`]), and from then on checks each chunk on arrival
//!   ([`Manifest::check_chunk`]): one bad chunk is thrown away and asked again elsewhere, and
//!   what was good is kept. No extra hash is trusted from anyone.
//! - **Sealing.** Chunks are kept and sent sealed with the space key ([`seal_chunk`]):
//!   XChaCha20-Poly1305 with a random nonce and, as associated data, the blob hash and the
//!   chunk's index, so a sealed chunk cannot be moved to another blob or place. A device
//!   stores sealed chunks exactly as it received them and serves them without touching them.
//! - **Protocol** (`/duet/blobs/1`, [`wire`]): the asking side sends [`Request`]s on one
//!   stream per device, several chunk requests in flight; the other answers each in order.
//! - **Plan** ([`FetchPlan`]): which chunk to ask which device for next, what is in flight,
//!   which devices sent something bad (they are not asked again for this blob).

mod chunk;
pub mod mailbox;
mod manifest;
mod plan;
pub mod wire;

pub use chunk::{open_chunk, seal_chunk, sealed_len, sealed_offset, SEALED_OVERHEAD};
pub use duet_model::BlobHash;
pub use manifest::{chunk_count, chunk_len, Bitmap, Cv, Manifest, ManifestBuilder, CHUNK_SIZE};
pub use plan::FetchPlan;
pub use wire::{Request, Response, MAX_FRAME_BYTES};

use thiserror::Error;

/// Why blob data was refused. Each names what a peer (or a file) got wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BlobError {
    #[error("the blob is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: u64, max: u64 },
    #[error("the blob's manifest does not match its hash")]
    ManifestMismatch,
    #[error("the blob's manifest is malformed: {0}")]
    MalformedManifest(&'static str),
    #[error("chunk {index} does not match the blob's hash")]
    ChunkMismatch { index: u32 },
    #[error("chunk {index} could not be opened with the space key")]
    ChunkSeal { index: u32 },
    #[error("chunk {index} is out of range")]
    OutOfRange { index: u32 },
    #[error("malformed blob message: {0}")]
    Malformed(&'static str),
}
