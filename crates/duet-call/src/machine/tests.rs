//! The call flows without sockets: machines for Ada's device and Ben's two devices pass each
//! other's signals by hand, and the clock is a number.

use super::*;

const ADA: PersonId = PersonId([0xA; 32]);
const BEN: PersonId = PersonId([0xB; 32]);
const ADA_DESK: DeviceId = DeviceId([0xA1; 32]);
const BEN_LAPTOP: DeviceId = DeviceId([0xB1; 32]);
const BEN_PHONE: DeviceId = DeviceId([0xB2; 32]);

/// Devices and their machines; `deliver` routes every `Send` until nothing is left.
struct World {
    devices: Vec<(DeviceId, PersonId, CallMachine)>,
    /// Everything that came out, per device, apart from the sends.
    seen: Vec<(DeviceId, Action)>,
}

impl World {
    fn new() -> Self {
        let config = MachineConfig::default();
        Self {
            devices: [(ADA_DESK, ADA), (BEN_LAPTOP, BEN), (BEN_PHONE, BEN)]
                .into_iter()
                .map(|(d, p)| (d, p, CallMachine::new(d, p, config)))
                .collect(),
            seen: vec![],
        }
    }

    fn machine(&mut self, d: DeviceId) -> &mut CallMachine {
        &mut self.devices.iter_mut().find(|(x, ..)| *x == d).expect("a device").2
    }

    fn person(&self, d: DeviceId) -> PersonId {
        self.devices.iter().find(|(x, ..)| *x == d).expect("a device").1
    }

    /// Runs `actions` of device `at`, delivering sends (in order) until all is quiet.
    fn run(&mut self, at: DeviceId, actions: Vec<Action>, now: Timestamp) {
        let mut queue: std::collections::VecDeque<(DeviceId, Action)> = actions.into_iter().map(|a| (at, a)).collect();
        while let Some((from, action)) = queue.pop_front() {
            match action {
                Action::Send { to, signal } => {
                    let person = self.person(from);
                    let out = self.machine(to).receive(from, person, signal, now);
                    queue.extend(out.into_iter().map(|a| (to, a)));
                }
                other => self.seen.push((from, other)),
            }
        }
    }

    fn place(&mut self, from: DeviceId, call: CallId, to: &[DeviceId], now: u64) {
        let peer = if self.person(from) == ADA { BEN } else { ADA };
        let out = self.machine(from).place(call, CallKind::Voice, peer, to, Timestamp(now)).expect("place");
        self.run(from, out, Timestamp(now));
    }

    fn user(
        &mut self,
        d: DeviceId,
        now: u64,
        f: impl FnOnce(&mut CallMachine, Timestamp) -> Result<Vec<Action>, CallError>,
    ) {
        let out = f(self.machine(d), Timestamp(now)).expect("the user action");
        self.run(d, out, Timestamp(now));
    }

    fn tick(&mut self, d: DeviceId, now: u64) {
        let out = self.machine(d).tick(Timestamp(now));
        self.run(d, out, Timestamp(now));
    }

    fn media_connected(&mut self, d: DeviceId, call: CallId, now: u64) {
        let out = self.machine(d).media_connected(call, Timestamp(now));
        self.run(d, out, Timestamp(now));
    }

    fn phase(&self, d: DeviceId) -> Option<CallPhase> {
        self.devices.iter().find(|(x, ..)| *x == d).and_then(|(_, _, m)| m.current().map(|i| i.phase))
    }

    /// The last call info device `d` showed.
    fn last_shown(&self, d: DeviceId) -> CallInfo {
        self.seen
            .iter()
            .rev()
            .find_map(|(x, a)| match a {
                Action::Changed(info) if *x == d => Some(info.clone()),
                _ => None,
            })
            .expect("something was shown")
    }

    fn records(&self) -> Vec<(DeviceId, CallRecordPayload)> {
        self.seen
            .iter()
            .filter_map(|(d, a)| match a {
                Action::Record(r) => Some((*d, r.clone())),
                _ => None,
            })
            .collect()
    }

    fn media_starts(&self) -> Vec<(DeviceId, DeviceId, bool)> {
        self.seen
            .iter()
            .filter_map(|(d, a)| match a {
                Action::StartMedia { peer, offerer, .. } => Some((*d, *peer, *offerer)),
                _ => None,
            })
            .collect()
    }
}

const CALL: CallId = CallId([0x50; 16]);
const BEN_ALL: [DeviceId; 2] = [BEN_LAPTOP, BEN_PHONE];

#[test]
fn ben_answers_on_one_device_the_other_stops_ringing_and_ada_hangs_up() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &BEN_ALL, 1_000);
    assert_eq!(w.phase(BEN_LAPTOP), Some(CallPhase::Ringing));
    assert_eq!(w.phase(BEN_PHONE), Some(CallPhase::Ringing));
    assert_eq!(w.phase(ADA_DESK), Some(CallPhase::Ringing), "Ada hears it ring");

    w.user(BEN_LAPTOP, 3_000, |m, now| m.answer(now));
    assert_eq!(w.phase(BEN_PHONE), None, "the phone stops ringing");
    assert_eq!(w.last_shown(BEN_PHONE).outcome, Some(CallOutcome::AnsweredElsewhere));
    assert_eq!(w.phase(ADA_DESK), Some(CallPhase::Connecting));
    assert_eq!(w.media_starts(), vec![(BEN_LAPTOP, ADA_DESK, false), (ADA_DESK, BEN_LAPTOP, true)]);

    // SDP and ICE are relayed only between the two devices in the call, in the right direction.
    let offer = CallSignal::Sdp { call: CALL, kind: SdpKind::Offer, sdp: "v=0".into() };
    let sent = w.machine(ADA_DESK).local_media(offer.clone());
    assert_eq!(sent, vec![Action::Send { to: BEN_LAPTOP, signal: offer.clone() }]);
    let relayed = w.machine(BEN_LAPTOP).receive(ADA_DESK, ADA, offer.clone(), Timestamp(3_100));
    assert_eq!(relayed, vec![Action::ToMedia { call: CALL, signal: offer.clone() }]);
    assert!(w.machine(BEN_PHONE).receive(ADA_DESK, ADA, offer.clone(), Timestamp(3_100)).is_empty());
    assert!(w.machine(ADA_DESK).receive(BEN_LAPTOP, BEN, offer, Timestamp(3_100)).is_empty(), "Ada takes no offer");

    w.media_connected(ADA_DESK, CALL, 3_500);
    w.media_connected(BEN_LAPTOP, CALL, 3_500);
    assert_eq!(w.phase(ADA_DESK), Some(CallPhase::Active));

    w.user(ADA_DESK, 63_500, |m, now| m.hang_up(now));
    assert_eq!(w.phase(ADA_DESK), None);
    assert_eq!(w.phase(BEN_LAPTOP), None);
    let ada = w.last_shown(ADA_DESK);
    let ben = w.last_shown(BEN_LAPTOP);
    assert_eq!((ada.outcome, ben.outcome), (Some(CallOutcome::Ended), Some(CallOutcome::Ended)));
    assert_eq!(ada.duration_ms(), Some(60_500));

    let records = w.records();
    assert_eq!(records.len(), 1, "one record, written by the caller: {records:?}");
    let (writer, r) = &records[0];
    assert_eq!(*writer, ADA_DESK);
    assert_eq!((r.state, r.caller, r.participants.clone()), (CallState::Ended, ADA, vec![ADA, BEN]));
    assert_eq!(
        (r.started_at, r.answered_at, r.ended_at),
        (Timestamp(1_000), Some(Timestamp(3_000)), Some(Timestamp(63_500)))
    );
}

#[test]
fn the_callee_hangs_up() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &[BEN_LAPTOP], 0);
    w.user(BEN_LAPTOP, 10, |m, now| m.answer(now));
    w.media_connected(ADA_DESK, CALL, 20);
    w.user(BEN_LAPTOP, 5_000, |m, now| m.hang_up(now));
    assert_eq!(w.phase(ADA_DESK), None);
    assert_eq!(w.last_shown(ADA_DESK).outcome, Some(CallOutcome::Ended));
    assert!(w.seen.contains(&(ADA_DESK, Action::StopMedia { call: CALL })));
    assert!(w.seen.contains(&(BEN_LAPTOP, Action::StopMedia { call: CALL })));
    assert_eq!(w.records()[0].1.ended_at, Some(Timestamp(5_000)));
}

#[test]
fn ben_declines_and_both_his_devices_stop_ringing() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &BEN_ALL, 0);
    w.user(BEN_PHONE, 2_000, |m, now| m.decline(now));
    for d in [ADA_DESK, BEN_LAPTOP, BEN_PHONE] {
        assert_eq!(w.phase(d), None);
        assert_eq!(w.last_shown(d).outcome, Some(CallOutcome::Declined), "{d:?}");
    }
    let records = w.records();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].1.state, records[0].1.answered_at), (CallState::Declined, None));
    assert!(w.media_starts().is_empty());
}

#[test]
fn nobody_answers_the_call_is_missed_after_the_ring_timeout() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &BEN_ALL, 1_000);
    assert_eq!(w.machine(ADA_DESK).next_deadline(), Some(Timestamp(31_000)));
    w.tick(ADA_DESK, 30_999);
    assert_eq!(w.phase(ADA_DESK), Some(CallPhase::Ringing), "still ringing a moment before");
    w.tick(ADA_DESK, 31_000);
    for d in [ADA_DESK, BEN_LAPTOP, BEN_PHONE] {
        assert_eq!(w.last_shown(d).outcome, Some(CallOutcome::Missed), "{d:?}");
    }
    assert_eq!(w.records()[0].1.state, CallState::Missed);
}

#[test]
fn a_callee_device_gives_up_by_itself_when_the_caller_vanishes() {
    let mut m = CallMachine::new(BEN_LAPTOP, BEN, MachineConfig::default());
    m.receive(
        ADA_DESK,
        ADA,
        CallSignal::Invite { call: CALL, kind: CallKind::Video, at: Timestamp(0) },
        Timestamp(500),
    );
    assert_eq!(m.next_deadline(), Some(Timestamp(33_500)));
    let out = m.tick(Timestamp(33_500));
    assert!(m.current().is_none());
    assert!(out.iter().all(|a| !matches!(a, Action::Record(_))), "only the caller stores the record");
}

#[test]
fn a_busy_callee_answers_busy() {
    let mut w = World::new();
    // Ben's laptop is already in a call with Ada's desk; Ada's desk is busy too, so a second
    // machine plays Ada's laptop.
    w.place(ADA_DESK, CALL, &[BEN_LAPTOP], 0);
    w.user(BEN_LAPTOP, 10, |m, now| m.answer(now));
    let ada_laptop = DeviceId([0xA2; 32]);
    w.devices.push((ada_laptop, ADA, CallMachine::new(ada_laptop, ADA, MachineConfig::default())));
    let second = CallId([0x60; 16]);
    let out = w.machine(ada_laptop).place(second, CallKind::Video, BEN, &[BEN_LAPTOP], Timestamp(100)).unwrap();
    w.run(ada_laptop, out, Timestamp(100));
    assert_eq!(w.last_shown(ada_laptop).outcome, Some(CallOutcome::Busy));
    assert_eq!(w.phase(BEN_LAPTOP), Some(CallPhase::Connecting), "Ben's call goes on");
    let busy_record = w.records().into_iter().find(|(_, r)| r.call == second).expect("a record");
    assert_eq!(busy_record.1.state, CallState::Missed);
    // Locally, placing a second call while in one is refused.
    assert_eq!(
        w.machine(ADA_DESK).place(second, CallKind::Voice, BEN, &[BEN_PHONE], Timestamp(5)),
        Err(CallError::Busy)
    );
}

#[test]
fn busy_only_when_every_invited_device_is_busy() {
    let mut m = CallMachine::new(ADA_DESK, ADA, MachineConfig::default());
    m.place(CALL, CallKind::Voice, BEN, &BEN_ALL, Timestamp(0)).unwrap();
    let busy = CallSignal::End { call: CALL, reason: CallEndReason::Busy };
    assert!(m.receive(BEN_LAPTOP, BEN, busy.clone(), Timestamp(1)).is_empty());
    assert!(m.current().is_some(), "the phone may still answer");
    m.receive(BEN_PHONE, BEN, busy, Timestamp(2));
    assert!(m.current().is_none());
}

#[test]
fn ada_cancels_before_ben_answers() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &BEN_ALL, 0);
    w.user(ADA_DESK, 4_000, |m, now| m.hang_up(now));
    for d in [ADA_DESK, BEN_LAPTOP, BEN_PHONE] {
        assert_eq!(w.phase(d), None);
        assert_eq!(w.last_shown(d).outcome, Some(CallOutcome::Cancelled), "{d:?}");
    }
    assert_eq!(w.records()[0].1.state, CallState::Missed, "Ben sees a missed call");
    // Too late to answer.
    assert_eq!(w.machine(BEN_LAPTOP).answer(Timestamp(4_001)), Err(CallError::NoCall("answer")));
}

#[test]
fn glare_both_call_at_once_and_the_lower_call_id_wins_on_both_sides() {
    for (ada_call, ben_call) in [(CallId([1; 16]), CallId([2; 16])), (CallId([9; 16]), CallId([3; 16]))] {
        let winner = ada_call.min(ben_call);
        let mut w = World::new();
        // Both place their calls before either invite arrives.
        let ada_out = w.machine(ADA_DESK).place(ada_call, CallKind::Voice, BEN, &[BEN_LAPTOP], Timestamp(0)).unwrap();
        let ben_out = w.machine(BEN_LAPTOP).place(ben_call, CallKind::Voice, ADA, &[ADA_DESK], Timestamp(0)).unwrap();
        w.run(ADA_DESK, ada_out, Timestamp(5));
        w.run(BEN_LAPTOP, ben_out, Timestamp(5));
        let ada = w.machine(ADA_DESK).current().cloned().expect("Ada is in a call");
        let ben = w.machine(BEN_LAPTOP).current().cloned().expect("Ben is in a call");
        assert_eq!((ada.id, ben.id), (winner, winner), "both in the winning call");
        assert_eq!((ada.phase, ben.phase), (CallPhase::Connecting, CallPhase::Connecting));
        let starts = w.media_starts();
        assert_eq!(starts.len(), 2, "{starts:?}");
        assert_eq!(starts.iter().filter(|(_, _, offerer)| *offerer).count(), 1, "exactly one offerer");
        // Hanging up leaves exactly one record, for the winning call.
        w.user(ADA_DESK, 1_000, |m, now| m.hang_up(now));
        let records = w.records();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].1.call, winner);
    }
}

#[test]
fn calling_back_while_the_partners_call_rings_here_answers_it() {
    let mut w = World::new();
    let ben_call = CallId([4; 16]);
    let out = w.machine(BEN_LAPTOP).place(ben_call, CallKind::Voice, ADA, &[ADA_DESK], Timestamp(0)).unwrap();
    w.run(BEN_LAPTOP, out, Timestamp(5));
    assert_eq!(w.machine(ADA_DESK).current().map(|c| c.phase), Some(CallPhase::Ringing));
    // Ada presses "call" a moment after Ben's invite arrived.
    let out = w.machine(ADA_DESK).place(CallId([1; 16]), CallKind::Voice, BEN, &[BEN_LAPTOP], Timestamp(10)).unwrap();
    w.run(ADA_DESK, out, Timestamp(15));
    let ada = w.machine(ADA_DESK).current().cloned().expect("Ada is in a call");
    let ben = w.machine(BEN_LAPTOP).current().cloned().expect("Ben is in a call");
    assert_eq!((ada.id, ben.id), (ben_call, ben_call), "one call: Ben's");
    assert_eq!((ada.phase, ben.phase), (CallPhase::Connecting, CallPhase::Connecting));
}

#[test]
fn an_answered_call_that_never_connects_fails() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &[BEN_LAPTOP], 0);
    w.user(BEN_LAPTOP, 1_000, |m, now| m.answer(now));
    assert_eq!(w.machine(ADA_DESK).next_deadline(), Some(Timestamp(21_000)));
    w.tick(ADA_DESK, 21_000);
    assert_eq!(w.last_shown(ADA_DESK).outcome, Some(CallOutcome::Failed));
    assert_eq!(w.last_shown(BEN_LAPTOP).outcome, Some(CallOutcome::Failed));
    assert_eq!(w.records()[0].1.state, CallState::Failed);
}

#[test]
fn strangers_and_own_devices_cannot_disturb_a_call() {
    let mut w = World::new();
    w.place(ADA_DESK, CALL, &[BEN_LAPTOP], 0);
    // Ben's phone was not invited: its accept or hang-up means nothing.
    assert!(w.machine(ADA_DESK).receive(BEN_PHONE, BEN, CallSignal::Accept { call: CALL }, Timestamp(1)).is_empty());
    let end = CallSignal::End { call: CALL, reason: CallEndReason::Declined };
    assert!(w.machine(ADA_DESK).receive(BEN_PHONE, BEN, end, Timestamp(1)).is_empty());
    // A signal about another call, and an invite from my own other device, are ignored.
    let other = CallSignal::Accept { call: CallId([0x77; 16]) };
    assert!(w.machine(ADA_DESK).receive(BEN_LAPTOP, BEN, other, Timestamp(1)).is_empty());
    let own = CallSignal::Invite { call: CallId([0x78; 16]), kind: CallKind::Voice, at: Timestamp(1) };
    assert!(w.machine(BEN_PHONE).receive(BEN_LAPTOP, BEN, own, Timestamp(1)).is_empty());
    assert_eq!(w.phase(ADA_DESK), Some(CallPhase::Ringing));
}

#[test]
fn user_actions_without_a_call_are_refused() {
    let mut m = CallMachine::new(ADA_DESK, ADA, MachineConfig::default());
    assert_eq!(m.answer(Timestamp(0)), Err(CallError::NoCall("answer")));
    assert_eq!(m.decline(Timestamp(0)), Err(CallError::NoCall("decline")));
    assert_eq!(m.hang_up(Timestamp(0)), Err(CallError::NoCall("hang up")));
    assert_eq!(m.place(CALL, CallKind::Voice, BEN, &[], Timestamp(0)), Err(CallError::NoDevices));
    assert_eq!(m.place(CALL, CallKind::Voice, BEN, &[ADA_DESK], Timestamp(0)), Err(CallError::NoDevices));
}
