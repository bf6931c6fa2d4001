//! The live protocol `/duet/live/1` (`docs/protocols.md`, "Live"), sans I/O: what is not stored. Presence
//! heartbeats, typing indicators and call signalling travel here.
//!
//! Each device opens one live stream to each connected member device and sends a
//! `Presence` at once, on every change, and every heartbeat interval; `Typing` while the user
//! types. A device that misses three heartbeats counts as gone.
//!
//! Calls (`docs/architecture.md`, "Calls") are signalled device to device with [`CallSignal`]s: the caller sends
//! `Invite` to each of the callee's connected devices; each answers `Ringing`, then `Accept` or
//! `End`; the caller starts WebRTC with the device that accepted (`Sdp` offer, `Sdp` answer,
//! trickled `Ice` both ways) and tells the other devices `End { AnsweredElsewhere }`. Either
//! side ends the call with `End`. The state machine that drives this is `duet_call::machine`;
//! this module only encodes and bounds the messages.

use duet_model::{CallId, CallKind, PresenceStatus, Target, Timestamp};

use crate::codec::{DecodeError, Reader, Writer};

/// The largest live frame.
pub const MAX_LIVE_FRAME_BYTES: usize = 64 * 1024;

/// One message of `/duet/live/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveMessage {
    /// The sender's status as others should see it (invisible is sent as offline).
    Presence { status: PresenceStatus, at: Timestamp },
    /// The sender is typing in a conversation.
    Typing { target: Target, at: Timestamp },
    /// Call signalling.
    Call(CallSignal),
}

/// The largest SDP offer or answer accepted (ours, with Opus, VP8 and a data channel, is
/// about 2 KB; browsers' can reach 10 KB).
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// The largest ICE candidate line accepted.
pub const MAX_ICE_CANDIDATE_BYTES: usize = 1024;
/// The largest media id (`a=mid`) accepted.
pub const MAX_SDP_MID_BYTES: usize = 64;

/// One call signalling message between two devices.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallSignal {
    /// The caller rings one of the callee's devices.
    Invite { call: CallId, kind: CallKind, at: Timestamp },
    /// The callee's device is ringing.
    Ringing { call: CallId },
    /// The callee picked up on this device.
    Accept { call: CallId },
    /// The call is over for the receiver, and why.
    End { call: CallId, reason: CallEndReason },
    /// An SDP offer (caller) or answer (callee).
    Sdp { call: CallId, kind: SdpKind, sdp: String },
    /// A trickled ICE candidate; an empty `candidate` means the sender has no more.
    Ice { call: CallId, candidate: String, sdp_mid: Option<String>, sdp_mline_index: Option<u16> },
}

impl CallSignal {
    /// The call the message is about.
    pub fn call(&self) -> CallId {
        match self {
            CallSignal::Invite { call, .. }
            | CallSignal::Ringing { call }
            | CallSignal::Accept { call }
            | CallSignal::End { call, .. }
            | CallSignal::Sdp { call, .. }
            | CallSignal::Ice { call, .. } => *call,
        }
    }
}

/// Why a call ended, as one device tells another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallEndReason {
    /// The callee said no.
    Declined,
    /// The callee's device is already in a call.
    Busy,
    /// The caller gave up before anyone answered.
    Cancelled,
    /// Another of the callee's devices answered.
    AnsweredElsewhere,
    /// Nobody answered in time.
    Missed,
    /// One side hung up an answered call.
    HungUp,
    /// The media connection could not be set up or broke.
    Failed,
}

impl CallEndReason {
    pub const ALL: [CallEndReason; 7] = [
        Self::Declined,
        Self::Busy,
        Self::Cancelled,
        Self::AnsweredElsewhere,
        Self::Missed,
        Self::HungUp,
        Self::Failed,
    ];
}

/// Which half of the SDP exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdpKind {
    Offer,
    Answer,
}

impl LiveMessage {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            LiveMessage::Presence { status, at } => {
                w.u8(1);
                w.u8(PresenceStatus::ALL.iter().position(|s| s == status).unwrap_or(1) as u8);
                w.varint(at.0);
            }
            LiveMessage::Typing { target, at } => {
                w.u8(2);
                match target {
                    Target::Direct => w.u8(0),
                    Target::Channel(c) => {
                        w.u8(1);
                        w.bytes(&c.0);
                    }
                }
                w.varint(at.0);
            }
            LiveMessage::Call(signal) => {
                w.u8(3);
                encode_call(&mut w, signal);
            }
        }
        w.buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_LIVE_FRAME_BYTES {
            return Err(DecodeError::TooLarge("a live frame"));
        }
        let mut r = Reader::new(bytes);
        let msg = match r.u8("a live message")? {
            1 => {
                let tag = r.u8("a status")?;
                let status =
                    *PresenceStatus::ALL.get(tag as usize).ok_or(DecodeError::UnknownTag { what: "status", tag })?;
                LiveMessage::Presence { status, at: Timestamp(r.varint("a time")?) }
            }
            2 => {
                let target = match r.u8("a target")? {
                    0 => Target::Direct,
                    1 => Target::Channel(duet_model::ChannelId(r.array("a channel")?)),
                    tag => return Err(DecodeError::UnknownTag { what: "target", tag }),
                };
                LiveMessage::Typing { target, at: Timestamp(r.varint("a time")?) }
            }
            3 => LiveMessage::Call(decode_call(&mut r)?),
            tag => return Err(DecodeError::UnknownTag { what: "live message", tag }),
        };
        r.finish()?;
        Ok(msg)
    }
}

fn encode_call(w: &mut Writer, signal: &CallSignal) {
    let (tag, call) = match signal {
        CallSignal::Invite { call, .. } => (1, call),
        CallSignal::Ringing { call } => (2, call),
        CallSignal::Accept { call } => (3, call),
        CallSignal::End { call, .. } => (4, call),
        CallSignal::Sdp { call, .. } => (5, call),
        CallSignal::Ice { call, .. } => (6, call),
    };
    w.u8(tag);
    w.bytes(&call.0);
    match signal {
        CallSignal::Invite { kind, at, .. } => {
            w.u8(index_of(&CallKind::ALL, kind));
            w.varint(at.0);
        }
        CallSignal::Ringing { .. } | CallSignal::Accept { .. } => {}
        CallSignal::End { reason, .. } => w.u8(index_of(&CallEndReason::ALL, reason)),
        CallSignal::Sdp { kind, sdp, .. } => {
            w.u8(match kind {
                SdpKind::Offer => 0,
                SdpKind::Answer => 1,
            });
            w.str(sdp);
        }
        CallSignal::Ice { candidate, sdp_mid, sdp_mline_index, .. } => {
            w.str(candidate);
            w.opt(sdp_mid.as_deref(), |w, m| w.str(m));
            w.opt(*sdp_mline_index, |w, i| w.varint(u64::from(i)));
        }
    }
}

fn decode_call(r: &mut Reader<'_>) -> Result<CallSignal, DecodeError> {
    let tag = r.u8("a call signal")?;
    let call = CallId(r.array("a call id")?);
    Ok(match tag {
        1 => {
            let kind = get(r, "a call kind", &CallKind::ALL)?;
            CallSignal::Invite { call, kind, at: Timestamp(r.varint("a time")?) }
        }
        2 => CallSignal::Ringing { call },
        3 => CallSignal::Accept { call },
        4 => CallSignal::End { call, reason: get(r, "a call end reason", &CallEndReason::ALL)? },
        5 => {
            let kind = match r.u8("an sdp kind")? {
                0 => SdpKind::Offer,
                1 => SdpKind::Answer,
                tag => return Err(DecodeError::UnknownTag { what: "sdp kind", tag }),
            };
            let sdp = r.str(MAX_SDP_BYTES, "an sdp")?;
            if sdp.is_empty() {
                return Err(DecodeError::Truncated("an sdp"));
            }
            CallSignal::Sdp { call, kind, sdp }
        }
        6 => CallSignal::Ice {
            call,
            candidate: r.str(MAX_ICE_CANDIDATE_BYTES, "an ice candidate")?,
            sdp_mid: r.opt("an sdp mid", |r| r.str(MAX_SDP_MID_BYTES, "an sdp mid"))?,
            sdp_mline_index: r
                .opt("an m-line index", |r| Ok(r.bounded(u64::from(u16::MAX), "an m-line index")? as u16))?,
        },
        tag => return Err(DecodeError::UnknownTag { what: "call signal", tag }),
    })
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

fn get<T: Copy>(r: &mut Reader<'_>, what: &'static str, all: &[T]) -> Result<T, DecodeError> {
    let tag = r.u8(what)?;
    all.get(tag as usize).copied().ok_or(DecodeError::UnknownTag { what, tag })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        for m in [
            LiveMessage::Presence { status: PresenceStatus::Busy, at: Timestamp(5) },
            LiveMessage::Typing { target: Target::Channel(duet_model::ChannelId([4; 16])), at: Timestamp(9) },
        ] {
            assert_eq!(LiveMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    fn call_signals() -> Vec<CallSignal> {
        let call = CallId([7; 16]);
        let mut v = vec![
            CallSignal::Invite { call, kind: CallKind::Video, at: Timestamp(1_700_000_000_000) },
            CallSignal::Ringing { call },
            CallSignal::Accept { call },
            CallSignal::Sdp { call, kind: SdpKind::Offer, sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".into() },
            CallSignal::Sdp { call, kind: SdpKind::Answer, sdp: "v=0\r\n".into() },
            CallSignal::Ice {
                call,
                candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            },
            CallSignal::Ice { call, candidate: String::new(), sdp_mid: None, sdp_mline_index: None },
        ];
        v.extend(CallEndReason::ALL.map(|reason| CallSignal::End { call, reason }));
        v
    }

    #[test]
    fn call_signals_round_trip() {
        for s in call_signals() {
            let m = LiveMessage::Call(s);
            assert_eq!(LiveMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn call_signals_are_bounded() {
        let call = CallId([1; 16]);
        let big = LiveMessage::Call(CallSignal::Sdp { call, kind: SdpKind::Offer, sdp: "a".repeat(MAX_SDP_BYTES + 1) });
        assert!(matches!(LiveMessage::decode(&big.encode()), Err(DecodeError::TooLarge(_))));
        let empty = LiveMessage::Call(CallSignal::Sdp { call, kind: SdpKind::Offer, sdp: String::new() });
        assert!(LiveMessage::decode(&empty.encode()).is_err());
        let long_ice = LiveMessage::Call(CallSignal::Ice {
            call,
            candidate: "c".repeat(MAX_ICE_CANDIDATE_BYTES + 1),
            sdp_mid: None,
            sdp_mline_index: None,
        });
        assert!(matches!(LiveMessage::decode(&long_ice.encode()), Err(DecodeError::TooLarge(_))));
        let long_mid = LiveMessage::Call(CallSignal::Ice {
            call,
            candidate: String::new(),
            sdp_mid: Some("m".repeat(MAX_SDP_MID_BYTES + 1)),
            sdp_mline_index: None,
        });
        assert!(LiveMessage::decode(&long_mid.encode()).is_err());
        // An unknown end reason, a truncated call id, trailing bytes.
        let mut bad_reason = LiveMessage::Call(CallSignal::End { call, reason: CallEndReason::Failed }).encode();
        *bad_reason.last_mut().unwrap() = 99;
        assert!(matches!(LiveMessage::decode(&bad_reason), Err(DecodeError::UnknownTag { .. })));
        assert!(LiveMessage::decode(&[3, 2, 1, 2, 3]).is_err());
        let mut trailing = LiveMessage::Call(CallSignal::Accept { call }).encode();
        trailing.push(0);
        assert!(matches!(LiveMessage::decode(&trailing), Err(DecodeError::TrailingBytes(1))));
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = LiveMessage::decode(&bytes);
        }

        #[test]
        fn call_garbage_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..96)) {
            // Behind a valid call tag, so the fuzz reaches the call decoders.
            let mut bytes = vec![3];
            bytes.extend(tail);
            if let Ok(m) = LiveMessage::decode(&bytes) {
                prop_assert_eq!(LiveMessage::decode(&m.encode()).unwrap(), m);
            }
        }

        #[test]
        fn call_signals_round_trip_with_any_text(
            sdp in "[ -~]{1,200}",
            candidate in "[ -~]{0,200}",
            mid in proptest::option::of("[a-z0-9]{0,8}"),
            index in proptest::option::of(any::<u16>()),
            id in any::<[u8; 16]>(),
        ) {
            let call = CallId(id);
            for s in [
                CallSignal::Sdp { call, kind: SdpKind::Answer, sdp: sdp.clone() },
                CallSignal::Ice { call, candidate: candidate.clone(), sdp_mid: mid.clone(), sdp_mline_index: index },
            ] {
                let m = LiveMessage::Call(s);
                prop_assert_eq!(LiveMessage::decode(&m.encode()).unwrap(), m);
            }
        }
    }
}
