//! The adaptive playout (jitter) buffer for call audio, sans I/O.
//!
//! Flow: the receiving task [`push`](JitterBuffer::push)es every RTP packet of the partner's
//! Opus stream as it arrives (sequence number, payload, arrival time); the playout clock (the
//! call's 20 ms tick, or the speaker asking for more) [`pop`](JitterBuffer::pop)s one [`Playout`] per frame: a packet to decode, "this frame was
//! lost but the next packet is here" (decode the lost frame from the next packet's in-band
//! FEC), "conceal" (Opus PLC), or [`Playout::Waiting`] before playout has started. The caller
//! passes the time in; nothing here reads a clock, so the tests below run on made-up time.
//!
//! **Order.** Sequence numbers are unwrapped into a 64-bit count (the one nearest the next
//! frame to play), so wrap-around at 65535 is invisible. Packets are held in order; each slot
//! plays once. A packet seen before is a duplicate (remembered for the last [`DEDUP_SLOTS`]
//! sequence numbers, across resyncs); one whose slot has already been played or concealed is
//! late and dropped.
//!
//! **The media clock is the sequence number.** Our encoder sends one packet per 20 ms frame,
//! always: DTX is off (libopus's default; `codec::opus` never turns it on), and the sender
//! writes every packet it encodes, so sequence numbers advance exactly one per frame. The RTP
//! timestamp says nothing more, and ignoring it means a peer's inconsistent timestamps cannot
//! skew the schedule. Turning DTX on would need timestamps here (a silent gap would look like
//! the sender's clock racing ahead of its packets).
//!
//! **The delay.** Each packet's transit is its arrival time minus its media time (sequence ×
//! 20 ms). Over the last [`HISTORY`] packets (2 s), the fastest transit is the base and the
//! spread (slowest − fastest) is the jitter. Slot `n` is due at `base + n × 20 ms + target`.
//! The target is the spread plus [`HEADROOM`], held between [`MIN_DELAY`] (20 ms: one frame;
//! a LAN needs no more) and [`MAX_DELAY`] (200 ms: beyond it a conversation starts to feel
//! like a walkie-talkie, so later packets are better lost and concealed). It grows at once when
//! a packet shows more spread — a late packet is heard as a gap, so it is worth a frame of delay
//! now; it shrinks slowly — only after the spread has left the 2 s window, then by at most
//! [`SHRINK_PER_FRAME`] (25 ms a second) — because jitter comes in bursts, and shrinking
//! after every calm second would make the next burst late again. It starts at
//! [`INITIAL_DELAY`].
//!
//! **Following the target.** Without time-stretching, the delay moves a frame at a time: when
//! the next slot is due more than [`EARLY`] from now (the target grew), the buffer conceals
//! a frame without moving on; when it is more than [`LATE`] overdue (the target shrank, or the
//! network got faster), it skips a slot — for free when that slot's packet is missing anyway
//! (one frame late is enough), otherwise by dropping the held packet. Between the two it plays
//! where it is, but a buffer that has played more than `EARLY` late for [`SETTLE_AFTER`]
//! frames in a row skips one slot too: a speaker that asks for frames on its own clock can
//! settle anywhere in that window, and 20 ms of it would otherwise stay as delay for the rest
//! of the call.
//!
//! **Bad input.** At most [`MAX_HELD`] packets (1 s) are held, each at most [`MAX_PAYLOAD`]
//! bytes; empty or larger payloads are refused, as are packets beyond the held window. When
//! [`RESYNC_AFTER`] packets in a row fit nowhere (late or beyond the window: the sender paused
//! and resumed, or jumped its sequence numbers), the buffer starts over from the packet at
//! hand. When it has concealed [`STARVED_AFTER`] frames in a row with nothing held, it goes
//! back to waiting, so a stream that comes back buffers afresh.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::codec::opus::MAX_OPUS_PACKET;

/// The length of one frame (one packet), in microseconds.
const FRAME_US: i64 = 20_000;
/// The least target delay.
pub const MIN_DELAY: Duration = Duration::from_millis(20);
/// The most target delay.
pub const MAX_DELAY: Duration = Duration::from_millis(200);
/// The target delay before anything has been measured: enough for ordinary internet jitter.
pub const INITIAL_DELAY: Duration = Duration::from_millis(60);
/// Added to the measured spread. A slot may play up to [`EARLY`] before it is due, so this
/// must exceed it; the rest is slack for the playout clock's own jitter.
pub const HEADROOM: Duration = Duration::from_millis(15);
/// A slot due more than this far in the future is not played yet (a frame is concealed).
pub const EARLY: Duration = Duration::from_millis(10);
/// A slot overdue by more than this is skipped. `LATE − (−EARLY)` is two frames of
/// hysteresis, so a 20 ms clock that wobbles a little never makes the buffer skip and stretch
/// in turn.
pub const LATE: Duration = Duration::from_millis(30);
/// Frames in a row played more than [`EARLY`] after they were due before a slot is skipped to
/// catch up (1 s). Between `EARLY` and [`LATE`] a slot plays where it is; staying there, it
/// is delay the network does not need (the fastest packets got faster, or the playout clock
/// settled late in its window), so the buffer moves back by a frame once it has held a second.
/// One frame back leaves it at most `EARLY` early, so this never meets a stretch.
pub const SETTLE_AFTER: u32 = 50;
/// How much the target may shrink per frame played.
pub const SHRINK_PER_FRAME: Duration = Duration::from_micros(500);
/// Transit samples the delay is measured over (2 s of packets).
pub const HISTORY: usize = 100;
/// Packets held at most (1 s of audio; five times [`MAX_DELAY`]).
pub const MAX_HELD: usize = 50;
/// The largest payload held (an Opus packet is at most this).
pub const MAX_PAYLOAD: usize = MAX_OPUS_PACKET;
/// Packets in a row that fit nowhere before the buffer starts over (200 ms of audio).
pub const RESYNC_AFTER: u32 = 10;
/// Frames concealed in a row with nothing held before the buffer goes back to waiting (1 s).
pub const STARVED_AFTER: u32 = 50;
/// Sequence numbers remembered to recognise a duplicate (5 s of packets).
pub const DEDUP_SLOTS: usize = 256;

fn us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// What to play for the next 20 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Nothing: playout has not started (or has stopped after the stream went quiet).
    Waiting,
    /// Decode this packet.
    Decode(Bytes),
    /// This frame was lost; this is the next packet: decode the lost frame from its in-band
    /// FEC. The packet stays held and is decoded normally next.
    Fec(Bytes),
    /// This frame is missing (lost, late, or the delay is growing): conceal it.
    Conceal,
}

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Held until its slot.
    Held,
    /// Seen before; dropped.
    Duplicate,
    /// Its slot has already played; dropped.
    Late,
    /// Too far ahead of the held window; dropped.
    OutOfWindow,
    /// Empty, or larger than [`MAX_PAYLOAD`]; dropped.
    Malformed,
    /// The stream had moved on (see [`RESYNC_AFTER`]): the buffer started over with this
    /// packet.
    Resynced,
}

/// Counts since the buffer was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Frames played from their own packet.
    pub decoded: u64,
    /// Lost frames handed out for FEC from the next packet.
    pub fec: u64,
    /// Frames concealed (lost with no next packet, or played while the delay grew).
    pub concealed: u64,
    /// Of [`concealed`](Self::concealed): frames inserted to grow the delay.
    pub stretched: u64,
    /// Packets that came after their slot had played.
    pub late: u64,
    /// Packets that came twice (or more).
    pub duplicates: u64,
    /// Held packets dropped unplayed: to bring the delay down, or on a resync.
    pub dropped: u64,
    /// Packets refused: malformed or beyond the window.
    pub refused: u64,
    /// Times the buffer started over (resync or starvation).
    pub restarts: u64,
}

/// The buffer. See the module docs.
#[derive(Debug)]
pub struct JitterBuffer {
    /// Held packets by unwrapped sequence number; all ≥ `next`, < `next + MAX_HELD`.
    held: BTreeMap<i64, Bytes>,
    /// The next slot to play (the lowest held before playout starts); `None` when empty.
    next: Option<i64>,
    /// Where `next` was at the last restart: sequence numbers keep unwrapping from there, so
    /// deduplication survives restarts.
    reference: Option<i64>,
    playing: bool,
    /// Times are microseconds since the first instant passed in.
    epoch: Option<Instant>,
    transits: VecDeque<i64>,
    base_us: i64,
    wanted_us: i64,
    target_us: i64,
    /// Unwrapped sequence numbers seen, by `seq mod DEDUP_SLOTS`.
    seen: Box<[i64; DEDUP_SLOTS]>,
    misfits: u32,
    starved: u32,
    /// Frames in a row played more than [`EARLY`] after they were due.
    behind: u32,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl JitterBuffer {
    pub fn new() -> Self {
        Self {
            held: BTreeMap::new(),
            next: None,
            reference: None,
            playing: false,
            epoch: None,
            transits: VecDeque::with_capacity(HISTORY),
            base_us: 0,
            wanted_us: us(INITIAL_DELAY),
            target_us: us(INITIAL_DELAY),
            seen: Box::new([i64::MIN; DEDUP_SLOTS]),
            misfits: 0,
            starved: 0,
            behind: 0,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The delay the buffer currently aims for between the fastest packets' arrival and
    /// their playout.
    pub fn target_delay(&self) -> Duration {
        Duration::from_micros(u64::try_from(self.target_us).unwrap_or(0))
    }

    /// Packets held now.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Payload bytes held now.
    pub fn held_bytes(&self) -> usize {
        self.held.values().map(Bytes::len).sum()
    }

    /// Whether playout has started (a pop gives a frame rather than [`Playout::Waiting`]).
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// Takes one packet from the network.
    pub fn push(&mut self, seq: u16, payload: Bytes, arrival: Instant) -> Pushed {
        if payload.is_empty() || payload.len() > MAX_PAYLOAD {
            self.stats.refused += 1;
            return Pushed::Malformed;
        }
        let at = self.micros(arrival);
        let ext = self.unwrap(seq);
        if self.seen[slot(ext)] == ext {
            self.stats.duplicates += 1;
            return Pushed::Duplicate;
        }
        let Some(next) = self.next else {
            self.accept(ext, payload, at);
            return Pushed::Held;
        };
        let fits = if self.playing {
            (next..next.saturating_add(MAX_HELD as i64)).contains(&ext)
        } else {
            // Before playout the window starts at the lowest packet held: an earlier one that
            // arrived later (reordered) becomes the start, if the whole span still fits.
            let highest = self.held.last_key_value().map_or(next, |(k, _)| *k);
            ext.max(highest).saturating_sub(ext.min(next)) < MAX_HELD as i64
        };
        if fits {
            self.misfits = 0;
            self.accept(ext, payload, at);
            return Pushed::Held;
        }
        let late = self.playing && ext < next;
        if late && next - ext <= MAX_HELD as i64 {
            // Its lateness is news about the network: the target grows to cover it. (Not a
            // packet from further back: that is a sender that jumped, not jitter.)
            self.observe(ext, at);
        }
        self.misfits += 1;
        if self.misfits >= RESYNC_AFTER {
            self.stats.restarts += 1;
            self.restart();
            self.accept(ext, payload, at);
            return Pushed::Resynced;
        }
        if late {
            self.stats.late += 1;
            self.seen[slot(ext)] = ext;
            Pushed::Late
        } else {
            self.stats.refused += 1;
            Pushed::OutOfWindow
        }
    }

    /// The next 20 ms of playout. Call it every 20 ms on average (a steady tick, or whenever
    /// the speaker runs low), with the time.
    pub fn pop(&mut self, now: Instant) -> Playout {
        let now = self.micros(now);
        let Some(next) = self.next else { return Playout::Waiting };
        if !self.playing {
            if now - self.due(next) < -us(EARLY) {
                return Playout::Waiting;
            }
            self.playing = true;
        }
        self.target_us = self.wanted_us.max(self.target_us - us(SHRINK_PER_FRAME));

        let overdue = now - self.due(next);
        if overdue < -us(EARLY) {
            self.stats.concealed += 1;
            self.stats.stretched += 1;
            return Playout::Conceal;
        }
        self.behind = if overdue > us(EARLY) { self.behind + 1 } else { 0 };
        let settled_late = self.behind >= SETTLE_AFTER && self.held.contains_key(&(next + 1));
        if overdue > us(LATE) || settled_late || (overdue >= FRAME_US && !self.held.contains_key(&next)) {
            if self.held.remove(&next).is_some() {
                self.stats.dropped += 1;
            }
            self.advance();
            self.behind = 0;
        }

        let next = self.next.unwrap_or(next);
        if let Some(payload) = self.held.remove(&next) {
            self.starved = 0;
            self.advance();
            self.stats.decoded += 1;
            return Playout::Decode(payload);
        }
        if let Some(following) = self.held.get(&(next + 1)) {
            let following = following.clone();
            self.starved = 0;
            self.advance();
            self.stats.fec += 1;
            return Playout::Fec(following);
        }
        self.advance();
        self.stats.concealed += 1;
        if self.held.is_empty() {
            self.starved += 1;
            if self.starved >= STARVED_AFTER {
                self.stats.restarts += 1;
                self.restart();
            }
        } else {
            self.starved = 0;
        }
        Playout::Conceal
    }

    fn micros(&mut self, t: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(t);
        i64::try_from(t.saturating_duration_since(epoch).as_micros()).unwrap_or(i64::MAX)
    }

    /// The unwrapped sequence number nearest the reference (the next slot to play, or the
    /// last one before a restart).
    fn unwrap(&self, seq: u16) -> i64 {
        match self.next.or(self.reference) {
            // `as u16` keeps the low 16 bits, which is what wrapping arithmetic needs.
            Some(r) => r.saturating_add(i64::from(seq.wrapping_sub(r as u16) as i16)),
            None => i64::from(seq),
        }
    }

    fn accept(&mut self, ext: i64, payload: Bytes, at: i64) {
        self.held.insert(ext, payload);
        self.seen[slot(ext)] = ext;
        if !self.playing {
            self.next = Some(self.next.map_or(ext, |n| n.min(ext)));
        }
        self.observe(ext, at);
    }

    /// Takes one packet's transit into the delay estimate.
    fn observe(&mut self, ext: i64, at: i64) {
        let transit = at.saturating_sub(ext.saturating_mul(FRAME_US));
        if self.transits.len() >= HISTORY {
            self.transits.pop_front();
        }
        self.transits.push_back(transit);
        let (lo, hi) = self.transits.iter().fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(*t), hi.max(*t)));
        self.base_us = lo;
        self.wanted_us = hi.saturating_sub(lo).saturating_add(us(HEADROOM)).clamp(us(MIN_DELAY), us(MAX_DELAY));
        // Grow at once; shrinking happens a little per frame played, in `pop`.
        self.target_us = self.target_us.max(self.wanted_us);
    }

    /// When slot `ext` is due.
    fn due(&self, ext: i64) -> i64 {
        self.base_us.saturating_add(ext.saturating_mul(FRAME_US)).saturating_add(self.target_us)
    }

    fn advance(&mut self) {
        if let Some(n) = &mut self.next {
            *n = n.saturating_add(1);
        }
    }

    /// Forgets the stream (held packets, the schedule, the transit history), keeping the
    /// target: the network that needed it is still there. Playout waits again.
    fn restart(&mut self) {
        self.stats.dropped += self.held.len() as u64;
        self.held.clear();
        self.reference = self.next.or(self.reference);
        self.next = None;
        self.playing = false;
        self.transits.clear();
        self.misfits = 0;
        self.starved = 0;
        self.behind = 0;
    }
}

fn slot(ext: i64) -> usize {
    ext.rem_euclid(DEDUP_SLOTS as i64) as usize
}

#[cfg(test)]
mod tests;
