//! The call state machine, sans I/O: signals, user actions and the time go in; what to send,
//! what to show and what to store come out as [`Action`]s. No sockets, no clock, no tasks.
//!
//! One machine runs per device and holds at most one call at a time.
//!
//! ```text
//! caller device                                     callee devices (each of them)
//! place ──── Invite ──────────────────────────────▶ Incoming (rings)
//! Calling ◀─ Ringing ─────────────────────────────
//! Ringing ◀─ Accept ─── (one device answers) ─────  Connecting, media as answerer
//!  Connecting, media as offerer; the others get ──▶ End{AnsweredElsewhere}: stop ringing
//!  ── Sdp offer ─▶ ◀─ Sdp answer ── ◀─ Ice ─▶ (relayed to the media session)
//! Active  (media connected)                          Active
//! hang_up ── End{HungUp} ─────────────────────────▶ Ended
//! ```
//!
//! - **Declined**: any callee device says no; the caller tells the others to stop ringing.
//! - **Busy**: a callee device already in a call answers `End{Busy}`; the call is busy when
//!   every invited device is.
//! - **Missed**: nobody answered within `ring_timeout` (30 s by default); the caller tells the
//!   ringing devices. A callee device also gives up on its own a little later, in case the
//!   caller vanished.
//! - **Cancelled**: the caller hangs up before anyone answered.
//! - **Glare**: both call each other at once. Each side sees the other's `Invite` while its own
//!   is unanswered; the call with the lower [`CallId`] (bytes compared) wins on both sides, so
//!   no message is needed to agree: the loser drops its own call (telling its invitees) and
//!   accepts the winner's, since its user wanted to talk anyway.
//! - **Failed**: the media could not connect within `connect_timeout`, or broke.
//!
//! Every call leaves one record in the log, written by the caller's device when the call ends
//! (one writer, so both partners' histories hold the same record once synced; the record is
//! last-writer-wins by call id, so a second write would still converge). Busy and cancelled
//! calls are stored as missed: the seed's call states have no words for them, and to the callee
//! that is what they were.

use std::collections::BTreeSet;
use std::time::Duration;

use duet_log::{CallEndReason, CallRecordPayload, CallSignal, SdpKind};
use duet_model::{CallId, CallKind, CallState, DeviceId, PersonId, Target, Timestamp};
use serde::Serialize;

/// Timeouts of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineConfig {
    /// How long a call rings before it is missed.
    pub ring_timeout: Duration,
    /// How long an answered call may take to connect its media.
    pub connect_timeout: Duration,
    /// How much longer than `ring_timeout` a callee device waits for the caller's word.
    pub callee_grace: Duration,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self {
            ring_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(20),
            callee_grace: Duration::from_secs(3),
        }
    }
}

/// Who placed the call, from this device's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum CallPhase {
    /// Outgoing: invites sent, no device rings yet.
    Calling,
    /// Outgoing: the partner's device rings. Incoming: this device rings.
    Ringing,
    /// Answered; media is being set up.
    Connecting,
    /// Media flows.
    Active,
    /// Over; see the outcome.
    Ended,
}

/// How a call ended, from this device's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Answered, then one side hung up.
    Ended,
    Declined,
    Busy,
    /// Nobody answered in time.
    Missed,
    /// The caller gave up before anyone answered.
    Cancelled,
    /// Another device of the callee answered (seen on the callee's other devices).
    AnsweredElsewhere,
    Failed,
}

impl CallOutcome {
    fn from_reason(reason: CallEndReason) -> Self {
        match reason {
            CallEndReason::Declined => Self::Declined,
            CallEndReason::Busy => Self::Busy,
            CallEndReason::Cancelled => Self::Cancelled,
            CallEndReason::AnsweredElsewhere => Self::AnsweredElsewhere,
            CallEndReason::Missed => Self::Missed,
            CallEndReason::HungUp => Self::Ended,
            CallEndReason::Failed => Self::Failed,
        }
    }

    /// The seed's call state this outcome is stored as.
    pub fn stored_state(self) -> CallState {
        match self {
            Self::Ended => CallState::Ended,
            Self::Declined => CallState::Declined,
            Self::Busy | Self::Missed | Self::Cancelled | Self::AnsweredElsewhere => CallState::Missed,
            Self::Failed => CallState::Failed,
        }
    }
}

/// A call as front ends see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallInfo {
    pub id: CallId,
    pub kind: CallKind,
    pub direction: Direction,
    pub caller: PersonId,
    /// The other person.
    pub peer: PersonId,
    /// The other device, once known (the caller's, or the callee device that answered).
    pub peer_device: Option<DeviceId>,
    pub phase: CallPhase,
    /// Set once the phase is `Ended`.
    pub outcome: Option<CallOutcome>,
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

impl CallInfo {
    /// Milliseconds from answer to end.
    pub fn duration_ms(&self) -> Option<u64> {
        Some(self.ended_at?.since(self.answered_at?))
    }
}

/// What the machine asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a signal to a device over `/duet/live/1`.
    Send { to: DeviceId, signal: CallSignal },
    /// Start the media session with `peer`: as the offerer (the caller) or the answerer.
    StartMedia { call: CallId, peer: DeviceId, kind: CallKind, offerer: bool },
    /// Hand a remote SDP or ICE candidate to the running media session.
    ToMedia { call: CallId, signal: CallSignal },
    /// Stop the media session.
    StopMedia { call: CallId },
    /// The call changed: tell front ends.
    Changed(CallInfo),
    /// Store the call's record in the log.
    Record(CallRecordPayload),
}

/// A user action the machine cannot take now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error("already in a call")]
    Busy,
    #[error("there is no call to {0}")]
    NoCall(&'static str),
    #[error("nobody to call: none of their devices is online")]
    NoDevices,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    /// I called; waiting for an answer.
    Outgoing {
        info: CallInfo,
        invited: Vec<DeviceId>,
        pending: BTreeSet<DeviceId>,
    },
    /// Someone calls me; I ring.
    Incoming {
        info: CallInfo,
        caller_device: DeviceId,
        rang_at: Timestamp,
    },
    /// Answered: media connecting, then active.
    InCall {
        info: CallInfo,
        peer_device: DeviceId,
    },
}

/// The per-device call state machine. See the module docs for the flow.
#[derive(Debug, Clone)]
pub struct CallMachine {
    me: DeviceId,
    person: PersonId,
    config: MachineConfig,
    state: State,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl CallMachine {
    pub fn new(me: DeviceId, person: PersonId, config: MachineConfig) -> Self {
        Self { me, person, config, state: State::Idle }
    }

    /// The call in progress, if any.
    pub fn current(&self) -> Option<&CallInfo> {
        match &self.state {
            State::Idle => None,
            State::Outgoing { info, .. } | State::Incoming { info, .. } | State::InCall { info, .. } => Some(info),
        }
    }

    /// When [`CallMachine::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let c = &self.config;
        match &self.state {
            State::Idle => None,
            State::Outgoing { info, .. } => Some(Timestamp(info.started_at.0.saturating_add(ms(c.ring_timeout)))),
            State::Incoming { rang_at, .. } => {
                Some(Timestamp(rang_at.0.saturating_add(ms(c.ring_timeout) + ms(c.callee_grace))))
            }
            State::InCall { info, .. } if info.phase == CallPhase::Connecting => {
                info.answered_at.map(|a| Timestamp(a.0.saturating_add(ms(c.connect_timeout))))
            }
            State::InCall { .. } => None,
        }
    }

    /// Calls `peer` on `devices` (their connected devices).
    pub fn place(
        &mut self,
        call: CallId,
        kind: CallKind,
        peer: PersonId,
        devices: &[DeviceId],
        now: Timestamp,
    ) -> Result<Vec<Action>, CallError> {
        if let State::Incoming { info, .. } = &self.state {
            if info.peer == peer && info.phase == CallPhase::Ringing {
                // Both pressed "call", and the partner's invite got here first: calling
                // them back answers their call, which is what each of them wanted.
                return self.answer(now);
            }
        }
        if self.state != State::Idle {
            return Err(CallError::Busy);
        }
        let invited: Vec<DeviceId> =
            devices.iter().copied().filter(|d| *d != self.me).collect::<BTreeSet<_>>().into_iter().collect();
        if invited.is_empty() {
            return Err(CallError::NoDevices);
        }
        let info = CallInfo {
            id: call,
            kind,
            direction: Direction::Outgoing,
            caller: self.person,
            peer,
            peer_device: None,
            phase: CallPhase::Calling,
            outcome: None,
            started_at: now,
            answered_at: None,
            ended_at: None,
        };
        let mut out: Vec<Action> = invited
            .iter()
            .map(|d| Action::Send { to: *d, signal: CallSignal::Invite { call, kind, at: now } })
            .collect();
        out.push(Action::Changed(info.clone()));
        self.state = State::Outgoing { info, pending: invited.iter().copied().collect(), invited };
        Ok(out)
    }

    /// Picks up the ringing call on this device.
    pub fn answer(&mut self, now: Timestamp) -> Result<Vec<Action>, CallError> {
        let State::Incoming { info, caller_device, .. } = &self.state else {
            return Err(CallError::NoCall("answer"));
        };
        let (mut info, peer_device) = (info.clone(), *caller_device);
        info.phase = CallPhase::Connecting;
        info.answered_at = Some(now);
        let out = vec![
            Action::Send { to: peer_device, signal: CallSignal::Accept { call: info.id } },
            Action::StartMedia { call: info.id, peer: peer_device, kind: info.kind, offerer: false },
            Action::Changed(info.clone()),
        ];
        self.state = State::InCall { info, peer_device };
        Ok(out)
    }

    /// Declines the ringing call.
    pub fn decline(&mut self, now: Timestamp) -> Result<Vec<Action>, CallError> {
        let State::Incoming { caller_device, info, .. } = &self.state else {
            return Err(CallError::NoCall("decline"));
        };
        let signal = CallSignal::End { call: info.id, reason: CallEndReason::Declined };
        let mut out = vec![Action::Send { to: *caller_device, signal }];
        out.extend(self.finish(CallOutcome::Declined, now));
        Ok(out)
    }

    /// Hangs up: cancels an unanswered outgoing call, declines a ringing one, ends an answered one.
    pub fn hang_up(&mut self, now: Timestamp) -> Result<Vec<Action>, CallError> {
        match &self.state {
            State::Idle => Err(CallError::NoCall("hang up")),
            State::Incoming { .. } => self.decline(now),
            State::Outgoing { info, invited, .. } => {
                let mut out = end_all(info.id, invited, None, CallEndReason::Cancelled);
                out.extend(self.finish(CallOutcome::Cancelled, now));
                Ok(out)
            }
            State::InCall { info, peer_device } => {
                let signal = CallSignal::End { call: info.id, reason: CallEndReason::HungUp };
                let mut out = vec![Action::Send { to: *peer_device, signal }];
                out.extend(self.finish(CallOutcome::Ended, now));
                Ok(out)
            }
        }
    }

    /// The media session connected.
    pub fn media_connected(&mut self, call: CallId, _now: Timestamp) -> Vec<Action> {
        match &mut self.state {
            State::InCall { info, .. } if info.id == call && info.phase == CallPhase::Connecting => {
                info.phase = CallPhase::Active;
                vec![Action::Changed(info.clone())]
            }
            _ => vec![],
        }
    }

    /// The media session failed or closed on its own.
    pub fn media_failed(&mut self, call: CallId, now: Timestamp) -> Vec<Action> {
        match &self.state {
            State::InCall { info, peer_device } if info.id == call => {
                let signal = CallSignal::End { call, reason: CallEndReason::Failed };
                let mut out = vec![Action::Send { to: *peer_device, signal }];
                out.extend(self.finish(CallOutcome::Failed, now));
                out
            }
            _ => vec![],
        }
    }

    /// An SDP or ICE candidate from the local media session, for the peer.
    pub fn local_media(&mut self, signal: CallSignal) -> Vec<Action> {
        match &self.state {
            State::InCall { info, peer_device }
                if info.id == signal.call() && matches!(signal, CallSignal::Sdp { .. } | CallSignal::Ice { .. }) =>
            {
                vec![Action::Send { to: *peer_device, signal }]
            }
            _ => vec![],
        }
    }

    /// Time passed: rings time out, connections that never came up fail.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Action> {
        let Some(deadline) = self.next_deadline() else { return vec![] };
        if now < deadline {
            return vec![];
        }
        match &self.state {
            State::Idle => vec![],
            State::Outgoing { info, invited, .. } => {
                let mut out = end_all(info.id, invited, None, CallEndReason::Missed);
                out.extend(self.finish(CallOutcome::Missed, now));
                out
            }
            State::Incoming { .. } => self.finish(CallOutcome::Missed, now),
            State::InCall { info, .. } => {
                let call = info.id;
                self.media_failed(call, now)
            }
        }
    }

    /// A signal from a member device (`from`, belonging to `from_person`). Anything that does
    /// not fit the current call is ignored (or, for an invite while busy, answered `Busy`).
    pub fn receive(
        &mut self,
        from: DeviceId,
        from_person: PersonId,
        signal: CallSignal,
        now: Timestamp,
    ) -> Vec<Action> {
        if from == self.me || from_person == self.person {
            return vec![]; // calls are between partners, not between one's own devices
        }
        if let CallSignal::Invite { call, kind, .. } = signal {
            return self.invited(from, from_person, call, kind, now);
        }
        let call = signal.call();
        match &mut self.state {
            State::Idle => vec![],
            State::Outgoing { info, invited, pending } => {
                if info.id != call || !invited.contains(&from) {
                    return vec![];
                }
                match signal {
                    CallSignal::Ringing { .. } if info.phase == CallPhase::Calling => {
                        info.phase = CallPhase::Ringing;
                        vec![Action::Changed(info.clone())]
                    }
                    CallSignal::Accept { .. } => {
                        let mut info = info.clone();
                        let others = end_all(call, invited, Some(from), CallEndReason::AnsweredElsewhere);
                        info.phase = CallPhase::Connecting;
                        info.answered_at = Some(now);
                        info.peer_device = Some(from);
                        let mut out = others;
                        out.push(Action::StartMedia { call, peer: from, kind: info.kind, offerer: true });
                        out.push(Action::Changed(info.clone()));
                        self.state = State::InCall { info, peer_device: from };
                        out
                    }
                    CallSignal::End { reason: CallEndReason::Busy, .. } => {
                        pending.remove(&from);
                        if !pending.is_empty() {
                            return vec![];
                        }
                        self.finish(CallOutcome::Busy, now)
                    }
                    CallSignal::End { reason, .. } => {
                        // Declined (or gave up) on one device: the person's answer, for all.
                        let outcome = match reason {
                            CallEndReason::Declined => CallOutcome::Declined,
                            CallEndReason::Missed => CallOutcome::Missed,
                            _ => CallOutcome::Failed,
                        };
                        let mut out = end_all(call, invited, Some(from), reason);
                        out.extend(self.finish(outcome, now));
                        out
                    }
                    _ => vec![],
                }
            }
            State::Incoming { info, caller_device, .. } => match signal {
                CallSignal::End { reason, .. } if info.id == call && *caller_device == from => {
                    self.finish(CallOutcome::from_reason(reason), now)
                }
                _ => vec![],
            },
            State::InCall { info, peer_device } => {
                if info.id != call || *peer_device != from {
                    return vec![];
                }
                match signal {
                    CallSignal::Sdp { kind, .. } => {
                        // The caller offers, the callee answers; nothing else is relayed.
                        let expected =
                            if info.direction == Direction::Outgoing { SdpKind::Answer } else { SdpKind::Offer };
                        if kind == expected {
                            vec![Action::ToMedia { call, signal }]
                        } else {
                            vec![]
                        }
                    }
                    CallSignal::Ice { .. } => vec![Action::ToMedia { call, signal }],
                    CallSignal::End { reason, .. } => self.finish(CallOutcome::from_reason(reason), now),
                    _ => vec![],
                }
            }
        }
    }

    fn invited(
        &mut self,
        from: DeviceId,
        from_person: PersonId,
        call: CallId,
        kind: CallKind,
        now: Timestamp,
    ) -> Vec<Action> {
        let busy = vec![Action::Send { to: from, signal: CallSignal::End { call, reason: CallEndReason::Busy } }];
        match &self.state {
            State::Idle => {}
            State::Outgoing { info, invited, .. } if info.peer == from_person => {
                // Glare: we call each other. The lower call id wins on both sides.
                if info.id == call {
                    return vec![];
                }
                if info.id < call {
                    return vec![]; // mine wins: they will accept it
                }
                // Theirs wins: drop mine quietly (no record: the call never happened) and
                // accept theirs.
                let mut out = end_all(info.id, invited, Some(from), CallEndReason::Cancelled);
                self.state = State::Idle;
                out.extend(self.ring(from, from_person, call, kind, now));
                out.extend(self.answer(now).unwrap_or_default());
                return out;
            }
            State::Incoming { info, .. } | State::InCall { info, .. } if info.id == call => return vec![],
            _ => return busy,
        }
        self.ring(from, from_person, call, kind, now)
    }

    fn ring(
        &mut self,
        from: DeviceId,
        from_person: PersonId,
        call: CallId,
        kind: CallKind,
        now: Timestamp,
    ) -> Vec<Action> {
        let info = CallInfo {
            id: call,
            kind,
            direction: Direction::Incoming,
            caller: from_person,
            peer: from_person,
            peer_device: Some(from),
            phase: CallPhase::Ringing,
            outcome: None,
            started_at: now,
            answered_at: None,
            ended_at: None,
        };
        let out = vec![Action::Send { to: from, signal: CallSignal::Ringing { call } }, Action::Changed(info.clone())];
        self.state = State::Incoming { info, caller_device: from, rang_at: now };
        out
    }

    /// Ends the current call: back to idle; stop media, tell front ends, store the record.
    fn finish(&mut self, outcome: CallOutcome, now: Timestamp) -> Vec<Action> {
        let state = std::mem::replace(&mut self.state, State::Idle);
        let (mut info, had_media) = match state {
            State::Idle => return vec![],
            State::Outgoing { info, .. } | State::Incoming { info, .. } => (info, false),
            State::InCall { info, .. } => (info, true),
        };
        info.phase = CallPhase::Ended;
        info.outcome = Some(outcome);
        info.ended_at = Some(now);
        if outcome != CallOutcome::Ended && outcome != CallOutcome::Failed {
            info.answered_at = None;
        }
        let mut out = Vec::new();
        if had_media {
            out.push(Action::StopMedia { call: info.id });
        }
        if info.direction == Direction::Outgoing {
            out.push(Action::Record(CallRecordPayload {
                call: info.id,
                target: Target::Direct,
                caller: info.caller,
                participants: vec![info.caller, info.peer],
                kind: info.kind,
                state: outcome.stored_state(),
                started_at: info.started_at,
                answered_at: info.answered_at,
                ended_at: info.ended_at,
            }));
        }
        out.push(Action::Changed(info));
        out
    }
}

/// `End{reason}` to every invited device but `except`.
fn end_all(call: CallId, invited: &[DeviceId], except: Option<DeviceId>, reason: CallEndReason) -> Vec<Action> {
    invited
        .iter()
        .filter(|d| Some(**d) != except)
        .map(|d| Action::Send { to: *d, signal: CallSignal::End { call, reason } })
        .collect()
}

#[cfg(test)]
mod tests;
