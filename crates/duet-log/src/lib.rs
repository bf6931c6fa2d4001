//! Duet's event log: the heart of the design (`docs/architecture.md`, `docs/protocols.md`).
//!
//! Every durable change is an *event* appended to its author device's own log: seq 1, 2, 3 …
//! with no gaps, each naming the hash of the one before, sealed with the space key and signed
//! by the device key. This crate is pure (no I/O, no async, no clock, randomness passed in):
//!
//! - [`envelope`]: the envelope's fixed, versioned encoding; sealing the next local event;
//! - [`payload`]: what events say, with bounded decoding and model validation;
//! - [`verify`]: every acceptance rule, each with its own error; forks; batch verification;
//! - [`vv`]: version vectors, the basis of sync;
//! - [`membership`]: which devices may write;
//! - [`mailbox`]: the couple's blind mailbox: its ticket and registration;
//! - [`materialize`]: the fold from events to the seed's views, the same in any order.

mod codec;
pub mod envelope;
pub mod keyring;
pub mod live;
pub mod mailbox;
pub mod materialize;
pub mod membership;
pub mod pairing;
pub mod payload;
pub mod records;
pub mod sync;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod verify;
pub mod vv;

pub use codec::DecodeError;
pub use envelope::{
    LogHead, NextEvent, OpenError, SealError, SealedEvent, FORMAT_VERSION, FORMAT_VERSION_KEYED, MAX_EVENT_BYTES,
    NO_PREV,
};
pub use keyring::Keyring;
pub use live::{CallEndReason, CallSignal, LiveMessage, SdpKind};
pub use materialize::{fold, MemoryViews, ViewStore};
pub use membership::{MemberDevice, Membership, MembershipError};
pub use payload::{CallRecordPayload, ChannelChange, Payload, PayloadError, MAX_PAYLOAD_BYTES};
pub use records::{
    lww_set, CallView, ChannelRecord, DateMark, Frontier, ItemMark, KeyShareMark, ListMark, Lww, MailboxMark,
    MessageOp, MessageRecord, MoodMark, NudgeMark, PendingOp, PinMark, ProfileRecord, SettingsRecord, SpaceRecord,
    Stamp, TogetherMark, VerifiedMark,
};
pub use sync::{Members, PushPlanner, SyncMessage};
pub use verify::{BatchOutcome, OpenedEvent, SealedOutcome, Verifier, VerifyError, MAX_LAMPORT_JUMP};
pub use vv::VersionVector;
#[cfg(test)]
mod tests;
