//! Presence bookkeeping: my chosen status and idleness, and what my partner's devices said.
//!
//! A person's status is the most present of their devices' (online > busy > away > offline);
//! a device that missed three heartbeats, or disconnected, no longer counts. When the last
//! device goes, the person is offline with `last_seen` set to that moment. Time is passed in.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use duet_model::{DeviceId, PersonId, Presence, PresenceStatus, Timestamp};

#[derive(Debug, Clone)]
struct DeviceState {
    status: PresenceStatus,
    heard: Instant,
}

/// My own presence.
#[derive(Debug, Clone)]
pub(crate) struct MyPresence {
    pub chosen: PresenceStatus,
    pub last_activity: Instant,
    pub idle_after: Duration,
}

impl MyPresence {
    /// What others should see now: online turns away when idle; invisible shows offline.
    pub fn outgoing(&self, now: Instant) -> PresenceStatus {
        self.effective(now).as_seen_by_others()
    }

    /// My status as I see it (invisible stays invisible).
    pub fn effective(&self, now: Instant) -> PresenceStatus {
        match self.chosen {
            PresenceStatus::Online if now.duration_since(self.last_activity) >= self.idle_after => PresenceStatus::Away,
            s => s,
        }
    }
}

/// Others' devices.
#[derive(Debug, Default)]
pub(crate) struct PresenceBook {
    devices: BTreeMap<DeviceId, (PersonId, DeviceState)>,
    last_seen: BTreeMap<PersonId, Timestamp>,
}

fn rank(s: PresenceStatus) -> u8 {
    match s {
        PresenceStatus::Online => 4,
        PresenceStatus::Busy => 3,
        PresenceStatus::Away => 2,
        PresenceStatus::Invisible | PresenceStatus::Offline => 0,
    }
}

impl PresenceBook {
    /// A device said its status. Returns whether the person's presence changed.
    pub fn heard(
        &mut self,
        person: PersonId,
        device: DeviceId,
        status: PresenceStatus,
        now: Instant,
        wall: Timestamp,
    ) -> bool {
        let before = self.status_of(&person);
        self.devices.insert(device, (person, DeviceState { status, heard: now }));
        if rank(status) > 0 {
            self.last_seen.insert(person, wall);
        }
        before != self.status_of(&person)
    }

    /// A device disconnected. Returns the person if their presence changed.
    pub fn gone(&mut self, device: &DeviceId, wall: Timestamp) -> Option<PersonId> {
        let (person, state) = self.devices.remove(device)?;
        if rank(state.status) > 0 {
            self.last_seen.insert(person, wall);
        }
        (rank(state.status) > 0 && self.status_of(&person) != state.status).then_some(person)
    }

    /// Devices not heard from within `timeout` are dropped; returns the people who changed.
    pub fn expire(&mut self, now: Instant, timeout: Duration, wall: Timestamp) -> Vec<PersonId> {
        let stale: Vec<DeviceId> =
            self.devices.iter().filter(|(_, (_, s))| now.duration_since(s.heard) > timeout).map(|(d, _)| *d).collect();
        stale.iter().filter_map(|d| self.gone(d, wall)).collect()
    }

    pub fn status_of(&self, person: &PersonId) -> PresenceStatus {
        self.devices
            .values()
            .filter(|(p, _)| p == person)
            .map(|(_, s)| s.status)
            .max_by_key(|s| rank(*s))
            .filter(|s| rank(*s) > 0)
            .unwrap_or(PresenceStatus::Offline)
    }

    pub fn remember_last_seen(&mut self, person: PersonId, at: Timestamp) {
        let e = self.last_seen.entry(person).or_insert(at);
        *e = (*e).max(at);
    }

    /// The person's presence as I see it.
    pub fn presence(&self, person: PersonId, custom_status: Option<String>) -> Presence {
        let status = self.status_of(&person);
        let device =
            self.devices.iter().filter(|(_, (p, s))| *p == person && s.status == status).map(|(d, _)| *d).next();
        Presence {
            person,
            status,
            last_seen: self.last_seen.get(&person).copied(),
            custom_status,
            device,
            updated_at: self.last_seen.get(&person).copied().unwrap_or_default(),
            mood: None,
            last_nudge: None,
        }
    }
}

/// My presence and what others' devices said, owned together: the node's presence part.
pub(crate) struct Presences {
    me: Mutex<MyPresence>,
    book: Mutex<PresenceBook>,
}

impl Presences {
    /// Online, active now, away after `idle_after` without activity.
    pub(crate) fn new(idle_after: Duration) -> Self {
        let me = MyPresence { chosen: PresenceStatus::Online, last_activity: Instant::now(), idle_after };
        Self { me: Mutex::new(me), book: Mutex::default() }
    }

    /// I chose `status` (and am active now).
    pub(crate) fn choose(&self, status: PresenceStatus) {
        let mut me = crate::lock(&self.me);
        me.chosen = status;
        me.last_activity = Instant::now();
    }

    /// I did something: away turns back into online.
    pub(crate) fn touch(&self) {
        crate::lock(&self.me).last_activity = Instant::now();
    }

    /// My status as I see it now ([`MyPresence::effective`]).
    pub(crate) fn mine(&self) -> PresenceStatus {
        crate::lock(&self.me).effective(Instant::now())
    }

    /// My status as others should see it now ([`MyPresence::outgoing`]).
    pub(crate) fn outgoing(&self) -> PresenceStatus {
        crate::lock(&self.me).outgoing(Instant::now())
    }

    /// `device` of `person` said `status` now; whether the person's presence changed.
    pub(crate) fn heard(&self, person: PersonId, device: DeviceId, status: PresenceStatus, wall: Timestamp) -> bool {
        crate::lock(&self.book).heard(person, device, status, Instant::now(), wall)
    }

    /// `device` disconnected at `wall`; the person if their presence changed.
    pub(crate) fn gone(&self, device: &DeviceId, wall: Timestamp) -> Option<PersonId> {
        crate::lock(&self.book).gone(device, wall)
    }

    /// Devices silent for longer than `timeout` no longer count; the people who changed.
    pub(crate) fn expire(&self, timeout: Duration, wall: Timestamp) -> Vec<PersonId> {
        crate::lock(&self.book).expire(Instant::now(), timeout, wall)
    }

    pub(crate) fn remember_last_seen(&self, person: PersonId, at: Timestamp) {
        crate::lock(&self.book).remember_last_seen(person, at);
    }

    /// Another person's presence as I see it.
    pub(crate) fn of(&self, person: PersonId, custom_status: Option<String>) -> Presence {
        crate::lock(&self.book).presence(person, custom_status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_turns_online_into_away_and_invisible_shows_offline() {
        let t0 = Instant::now();
        let mut me =
            MyPresence { chosen: PresenceStatus::Online, last_activity: t0, idle_after: Duration::from_secs(60) };
        assert_eq!(me.outgoing(t0), PresenceStatus::Online);
        assert_eq!(me.outgoing(t0 + Duration::from_secs(61)), PresenceStatus::Away);
        me.chosen = PresenceStatus::Invisible;
        assert_eq!(me.outgoing(t0), PresenceStatus::Offline);
        assert_eq!(me.effective(t0), PresenceStatus::Invisible);
    }

    #[test]
    fn a_person_is_as_present_as_their_most_present_device() {
        let t0 = Instant::now();
        let p = PersonId([1; 32]);
        let (laptop, phone) = (DeviceId([2; 32]), DeviceId([3; 32]));
        let mut book = PresenceBook::default();
        assert!(book.heard(p, laptop, PresenceStatus::Away, t0, Timestamp(1)));
        assert!(book.heard(p, phone, PresenceStatus::Online, t0, Timestamp(2)));
        assert_eq!(book.status_of(&p), PresenceStatus::Online);
        assert_eq!(book.gone(&phone, Timestamp(3)), Some(p));
        assert_eq!(book.status_of(&p), PresenceStatus::Away);
        let changed = book.expire(t0 + Duration::from_secs(100), Duration::from_secs(30), Timestamp(4));
        assert_eq!(changed, vec![p]);
        let seen = book.presence(p, None);
        assert_eq!(seen.status, PresenceStatus::Offline);
        assert_eq!(seen.last_seen, Some(Timestamp(4)));
    }
}
