//! The buffer on made-up time: a sender emits one packet every 20 ms, a "network" delays,
//! drops, duplicates and reorders them, and a 20 ms clock pops frames (or, in
//! one test, a speaker's clock that asks for frames when it runs low). Payloads carry the
//! sender's frame number, so what played can be checked against what was sent.

use std::collections::{BTreeSet, VecDeque};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};

use super::*;

const MS: u64 = 1_000;
const FRAME: u64 = 20 * MS;

/// Frame `i`'s payload: its number.
fn payload(i: u32) -> Bytes {
    Bytes::copy_from_slice(&i.to_be_bytes())
}

fn number(b: &Bytes) -> u32 {
    u32::from_be_bytes(b[..4].try_into().expect("test payloads are 4 bytes"))
}

/// One packet on the wire: when it arrives (µs), its sequence number, its payload.
type Arrival = (u64, u16, Bytes);

/// Frames `0..n` sent every 20 ms from sequence number `first`, each arriving after the
/// delay (µs) `delay(i)` returns, or lost when it returns `None`.
fn stream(first: u16, n: u32, mut delay: impl FnMut(u32) -> Option<u64>) -> Vec<Arrival> {
    (0..n)
        .filter_map(|i| delay(i).map(|d| (u64::from(i) * FRAME + d, first.wrapping_add(i as u16), payload(i))))
        .collect()
}

/// The buffer between a network and a 20 ms playout clock.
struct Sim {
    buf: JitterBuffer,
    t0: Instant,
    arrivals: VecDeque<Arrival>,
    next_pop: u64,
    played: Vec<Playout>,
    /// When each of `played` was popped (µs).
    popped_at: Vec<u64>,
}

impl Sim {
    /// Pops happen at `phase + k × 20 ms`.
    fn new(mut arrivals: Vec<Arrival>, phase: u64) -> Self {
        arrivals.sort_by_key(|a| a.0); // stable: equal times keep the order they were sent in
        Self {
            buf: JitterBuffer::new(),
            t0: Instant::now(),
            arrivals: arrivals.into(),
            next_pop: phase,
            played: Vec::new(),
            popped_at: Vec::new(),
        }
    }

    fn at(&self, t: u64) -> Instant {
        self.t0 + Duration::from_micros(t)
    }

    /// Delivers what has arrived and pops, up to `end` (µs).
    fn run_until(&mut self, end: u64) {
        while self.next_pop <= end {
            while self.arrivals.front().is_some_and(|a| a.0 <= self.next_pop) {
                let Some((t, seq, p)) = self.arrivals.pop_front() else { break };
                self.buf.push(seq, p, self.at(t));
            }
            let out = self.buf.pop(self.at(self.next_pop));
            self.played.push(out);
            self.popped_at.push(self.next_pop);
            self.next_pop += FRAME;
        }
    }

    /// From the last decoded frame's sending (frame `i` is sent at `i × 20 ms`) to its
    /// playout: what a listener hears as delay.
    fn latency(&self) -> Duration {
        let last = self.played.iter().zip(&self.popped_at).rev().find_map(|(p, t)| match p {
            Playout::Decode(b) => Some(t - u64::from(number(b)) * FRAME),
            _ => None,
        });
        Duration::from_micros(last.expect("something played"))
    }

    /// Frame numbers decoded, in playout order.
    fn decoded(&self) -> Vec<u32> {
        self.played
            .iter()
            .filter_map(|p| match p {
                Playout::Decode(b) => Some(number(b)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn waits_for_the_target_delay_before_playing() {
    let mut sim = Sim::new(stream(100, 10, |_| Some(0)), 0);
    // The first packet is due INITIAL_DELAY after it came, and plays at the first pop less
    // than EARLY before that: 50 ms on; the clock pops at 0, 20, 40, 60 ms.
    let first_play = (INITIAL_DELAY - EARLY).as_micros() as u64;
    sim.run_until(first_play);
    assert_eq!(sim.played, vec![Playout::Waiting; 3]);
    sim.run_until(first_play + FRAME);
    assert_eq!(sim.played.last(), Some(&Playout::Decode(payload(0))));
}

#[test]
fn reordered_packets_play_in_order_across_the_sequence_wrap() {
    // Delays of 0–30 ms in a pattern that swaps neighbours, from just below 65535.
    let delays = [0, 30, 5, 25, 10, 0, 28];
    let arrivals = stream(65_530, 60, |i| Some(delays[i as usize % delays.len()] * MS));
    let mut sim = Sim::new(arrivals, 7 * MS);
    sim.run_until(60 * FRAME + 200 * MS);
    // In order, and every frame but at most one: the target settles from its initial 60 ms to
    // the 45 ms this reordering needs, and the clock, left more than EARLY late for a second,
    // skips a slot to catch up (SETTLE_AFTER).
    let decoded = sim.decoded();
    assert!(decoded.windows(2).all(|w| w[0] < w[1]), "{decoded:?}");
    assert!(decoded.len() >= 59 && decoded.first() == Some(&0) && decoded.last() == Some(&59), "{decoded:?}");
    let s = sim.buf.stats();
    assert_eq!((s.late, s.fec, s.stretched), (0, 0, 0), "{s:?}");
    assert!(s.dropped <= 1, "{s:?}");
}

#[test]
fn duplicates_never_play_twice() {
    // Every packet three times: at once, 10 ms later, and 300 ms later (long after its slot).
    let mut arrivals = stream(0, 40, |_| Some(0));
    let again: Vec<Arrival> = arrivals.clone();
    arrivals.extend(again.iter().map(|(t, s, p)| (t + 10 * MS, *s, p.clone())));
    arrivals.extend(again.iter().map(|(t, s, p)| (t + 300 * MS, *s, p.clone())));
    let mut sim = Sim::new(arrivals, 3 * MS);
    sim.run_until(40 * FRAME + 600 * MS);
    assert_eq!(sim.decoded(), (0..40).collect::<Vec<_>>());
    let s = sim.buf.stats();
    assert_eq!(s.duplicates, 80, "{s:?}");
    assert_eq!(s.late, 0, "a copy of a packet that played is a duplicate, not late: {s:?}");
}

#[test]
fn a_lost_frame_is_rebuilt_from_the_next_packet_or_concealed() {
    // Frame 5 lost alone; frames 10 and 11 lost together.
    let arrivals = stream(0, 20, |i| (![5, 10, 11].contains(&i)).then_some(0));
    let mut sim = Sim::new(arrivals, 0);
    sim.run_until(20 * FRAME + 100 * MS);
    let played: Vec<Playout> = sim.played.into_iter().filter(|p| *p != Playout::Waiting).take(20).collect();
    let d = |i| Playout::Decode(payload(i));
    assert_eq!(played[4..7], [d(4), Playout::Fec(payload(6)), d(6)]);
    // 10: nothing after it yet to take FEC from; 11: rebuilt from 12's FEC.
    assert_eq!(played[9..13], [d(9), Playout::Conceal, Playout::Fec(payload(12)), d(12)]);
}

/// A speaker's clock asks when it runs low, at a moment of its own; here the first second's
/// packets came 25 ms slower, so once they leave the history the slots fall due 25 ms sooner
/// and the clock finds itself playing late, inside the window where nothing moves.
#[test]
fn a_clock_that_settled_late_moves_back_a_frame() {
    let arrivals = stream(0, 500, |i| Some(if i < 50 { 25 * MS } else { 0 }));
    let mut sim = Sim::new(arrivals, 13 * MS);
    sim.run_until(500 * FRAME);
    assert_eq!(sim.buf.target_delay(), MIN_DELAY);
    assert!(sim.latency() <= MIN_DELAY + EARLY, "{:?}", sim.latency());
    // The target came down from 60 ms to 20 and the slots 25 ms sooner: a frame skipped per
    // 20 ms of that, and nothing else.
    let s = sim.buf.stats();
    assert!(s.dropped <= 4 && s.late == 0 && s.concealed == 0, "{s:?}");
    let decoded = sim.decoded();
    assert!(decoded.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_late_packet_is_dropped_and_the_delay_grows_at_once() {
    // A calm stream; frame 100 is held up 150 ms; the rest stay on time.
    let arrivals = stream(0, 200, |i| Some(if i == 100 { 150 * MS } else { 0 }));
    let mut sim = Sim::new(arrivals, 0);
    sim.run_until(100 * FRAME + 149 * MS);
    let calm = sim.buf.target_delay();
    assert_eq!(calm, MIN_DELAY, "no jitter: the least delay");
    assert_eq!(sim.buf.stats().late, 0);
    sim.run_until(100 * FRAME + 150 * MS + FRAME);
    let s = sim.buf.stats();
    assert_eq!(s.late, 1, "{s:?}");
    assert!(sim.buf.target_delay() >= Duration::from_millis(150) + HEADROOM, "{:?}", sim.buf.target_delay());
    // It grows by playing concealment frames in place of moving on: what is heard now comes
    // later.
    assert!(sim.latency() <= MIN_DELAY + LATE, "{:?}", sim.latency());
    sim.run_until(100 * FRAME + 400 * MS);
    assert!(sim.buf.stats().stretched >= 6, "{:?}", sim.buf.stats());
    assert!(sim.latency() >= Duration::from_millis(150), "{:?}", sim.latency());
    // Nothing else is lost, and the order holds.
    let decoded = sim.decoded();
    assert!(decoded.windows(2).all(|w| w[0] < w[1]));
    assert!(!decoded.contains(&100));
}

/// Calm (no delay) for 5 s, then 5 s of jitter (every frame delayed 0–100 ms; the burst's
/// first frame and every 7th after it by the full 100 ms), then calm again.
#[test]
fn the_delay_grows_under_jitter_and_comes_back_down() {
    let j = 100 * MS;
    let (calm, burst) = (250u32, 250u32); // 5 s each
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let arrivals = stream(40_000, calm + burst + 3 * calm, |i| {
        let in_burst = (calm..calm + burst).contains(&i);
        Some(match in_burst {
            false => 0,
            true if (i - calm) % 7 == 0 => j,
            true => rng.gen_range(0..=j),
        })
    });
    let mut sim = Sim::new(arrivals, 11 * MS);
    let at = |frame: u32| u64::from(frame) * FRAME;

    sim.run_until(at(calm));
    assert_eq!(sim.buf.target_delay(), MIN_DELAY);
    let calm_base = sim.buf.base_us;

    assert!(sim.latency() <= MIN_DELAY + LATE, "{:?}", sim.latency());

    sim.run_until(at(calm + 50));
    let adapted = sim.buf.stats();
    let peak = Duration::from_micros(j) + HEADROOM;
    assert!(sim.buf.target_delay() >= peak, "grew within a second: {:?}", sim.buf.target_delay());

    sim.run_until(at(calm + burst));
    let s = sim.buf.stats();
    assert_eq!(s.late, adapted.late, "once grown, nothing comes late: {s:?}");
    // The spread is measured from the fastest packet of the last 2 s, which in the burst is
    // a little slower than in the calm.
    let spread = peak - Duration::from_micros(u64::try_from(sim.buf.base_us - calm_base).expect("none came early"));
    assert!(sim.buf.target_delay() >= spread && sim.buf.target_delay() <= MAX_DELAY);
    assert!(sim.latency() >= Duration::from_micros(j), "{:?}", sim.latency());

    sim.run_until(at(calm + burst + 50));
    assert!(sim.buf.target_delay() >= peak, "a calm second does not shrink it: {:?}", sim.buf.target_delay());
    sim.run_until(at(calm + burst + 150));
    let shrinking = sim.buf.target_delay();
    assert!(shrinking < peak && shrinking > MIN_DELAY, "shrinking slowly: {shrinking:?}");

    sim.run_until(at(calm + burst + 3 * calm));
    assert_eq!(sim.buf.target_delay(), MIN_DELAY, "back down");
    assert!(sim.latency() <= MIN_DELAY + LATE, "and heard sooner again: {:?}", sim.latency());
    let s = sim.buf.stats();
    assert_eq!(s.late, adapted.late, "{s:?}");
    assert_eq!(s.restarts, 0);
    // Coming down skipped a few frames (the delay shrank a frame at a time, and once more when
    // it had played late for a second) and nothing else.
    assert!(s.dropped <= 8, "{s:?}");
    let decoded = sim.decoded();
    assert!(decoded.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_sender_that_paused_is_followed_again() {
    // 300 ms pause: the cursor runs on, the packets after the pause are all "late", and the
    // buffer starts over from them. 2 s pause: it starves, goes back to waiting, and starts
    // afresh when packets come back.
    for pause in [300 * MS, 2_000 * MS] {
        let arrivals = stream(65_000, 200, |i| Some(if i < 100 { 0 } else { pause }));
        let mut sim = Sim::new(arrivals, 5 * MS);
        sim.run_until(200 * FRAME + pause + 500 * MS);
        let s = sim.buf.stats();
        assert!(s.restarts >= 1, "{s:?}");
        let decoded = sim.decoded();
        assert!(decoded.windows(2).all(|w| w[0] < w[1]), "{decoded:?}");
        let after: Vec<u32> = decoded.iter().copied().filter(|i| *i >= 100).collect();
        assert!(after.len() >= 85 && after.last() == Some(&199), "pause {pause}: {after:?} {s:?}");
    }
}

#[test]
fn a_sequence_jump_is_followed_after_a_few_packets() {
    let mut arrivals = stream(10, 50, |_| Some(0));
    arrivals.extend(
        stream(30_000, 100, |_| Some(0)).into_iter().map(|(t, s, _)| (t + 50 * FRAME, s, Bytes::from_static(b"jump"))),
    );
    let mut sim = Sim::new(arrivals, 0);
    sim.run_until(150 * FRAME + 200 * MS);
    let s = sim.buf.stats();
    assert_eq!(s.restarts, 1, "{s:?}");
    assert_eq!(s.refused, u64::from(RESYNC_AFTER) - 1, "{s:?}");
    let jumped = sim.played.iter().filter(|p| **p == Playout::Decode(Bytes::from_static(b"jump"))).count();
    assert!(jumped >= 100 - RESYNC_AFTER as usize, "{jumped} {s:?}");
}

#[test]
fn refuses_what_it_cannot_hold() {
    let mut buf = JitterBuffer::new();
    let t = Instant::now();
    assert_eq!(buf.push(1, Bytes::new(), t), Pushed::Malformed);
    assert_eq!(buf.push(1, Bytes::from(vec![0; MAX_PAYLOAD + 1]), t), Pushed::Malformed);
    assert_eq!(buf.push(1, payload(1), t), Pushed::Held);
    assert_eq!(buf.push(1, payload(1), t), Pushed::Duplicate);
    assert_eq!(buf.push(1 + MAX_HELD as u16, payload(2), t), Pushed::OutOfWindow);
    assert_eq!(buf.push(MAX_HELD as u16, payload(2), t), Pushed::Held);
    assert_eq!(buf.held(), 2);
    assert_eq!(buf.stats().refused, 3);
}

#[test]
fn nothing_to_play_is_waiting_not_concealment() {
    let mut buf = JitterBuffer::new();
    assert_eq!(buf.pop(Instant::now()), Playout::Waiting);
    assert_eq!(buf.pop(Instant::now() + Duration::from_secs(5)), Playout::Waiting);
    assert_eq!(buf.stats(), JitterStats::default());
}

/// One packet on its way: its delay (µs), whether it is lost, and the delay of a second copy
/// if the network sends one.
#[derive(Debug, Clone)]
struct Sent {
    delay: u64,
    lost: bool,
    copy: Option<u64>,
}

/// A sender's stream through a network that delays (at most `jitter` µs), loses and
/// duplicates packets, and a playout clock at `phase`.
#[derive(Debug, Clone)]
struct Network {
    first: u16,
    jitter: u64,
    packets: Vec<Sent>,
    phase: u64,
}

fn network() -> impl Strategy<Value = Network> {
    (any::<u16>(), 20usize..200, 0u64..=180, 0u64..20).prop_flat_map(|(first, n, jitter_ms, phase_ms)| {
        let jitter = jitter_ms * MS;
        let sent =
            (0..=jitter, proptest::bool::weighted(0.15), proptest::option::weighted(0.15, 0..=jitter + 100 * MS))
                .prop_map(|(delay, lost, copy)| Sent { delay, lost, copy });
        proptest::collection::vec(sent, n).prop_map(move |packets| Network {
            first,
            jitter,
            packets,
            phase: phase_ms * MS,
        })
    })
}

proptest! {
    /// Whatever the order packets come in (within the window: delays up to 180 ms), frames
    /// play in order, none twice, and every packet is accounted for exactly once.
    #[test]
    fn any_arrival_order_plays_in_order(Network { first, jitter, packets, phase } in network()) {
        let mut arrivals = Vec::new();
        let mut copies = 0u64;
        for (i, Sent { delay, lost, copy }) in packets.iter().enumerate() {
            let (t, seq) = (i as u64 * FRAME, first.wrapping_add(i as u16));
            if !lost {
                arrivals.push((t + delay, seq, payload(i as u32)));
            }
            if let Some(d) = copy {
                arrivals.push((t + d, seq, payload(i as u32)));
                copies += 1;
            }
        }
        let distinct: BTreeSet<u16> = arrivals.iter().map(|a| a.1).collect();
        let mut sim = Sim::new(arrivals, phase);
        sim.run_until(packets.len() as u64 * FRAME + jitter + 400 * MS);

        let decoded = sim.decoded();
        prop_assert!(decoded.windows(2).all(|w| w[0] < w[1]), "out of order or twice: {decoded:?}");
        // FEC always comes from a packet after everything decoded so far, and is that packet
        // or a lost frame's successor — never an old one.
        let mut last = None;
        for p in &sim.played {
            match p {
                Playout::Decode(b) => last = Some(number(b)),
                Playout::Fec(b) => {
                    if let Some(l) = last {
                        prop_assert!(number(b) > l);
                    }
                }
                _ => {}
            }
        }
        let s = sim.buf.stats();
        prop_assert_eq!(s.restarts, 0);
        prop_assert_eq!(s.refused, 0);
        prop_assert_eq!(
            distinct.len() as u64,
            s.decoded + s.late + s.dropped + sim.buf.held() as u64,
            "every packet played, came late, or was dropped to catch up: {:?}", s
        );
        let pushed = (distinct.len() as u64) + s.duplicates;
        prop_assert_eq!(pushed, packets.iter().filter(|p| !p.lost).count() as u64 + copies);
        prop_assert!(sim.buf.target_delay() >= MIN_DELAY && sim.buf.target_delay() <= MAX_DELAY);
    }

    /// Whatever a peer sends, and however the clock is called, the buffer holds at most
    /// MAX_HELD packets of at most MAX_PAYLOAD bytes, and keeps its delay in bounds.
    #[test]
    fn memory_stays_bounded(ops in proptest::collection::vec(
        (any::<bool>(), any::<u16>(), -60i32..60, 0usize..2000, 0u64..100_000),
        1..600,
    )) {
        let mut buf = JitterBuffer::new();
        let t0 = Instant::now();
        let mut t = 0u64;
        let mut seq = 0u16;
        for (pop, random_seq, step, len, dt) in ops {
            t += dt;
            let now = t0 + Duration::from_micros(t);
            if pop {
                let _ = buf.pop(now);
            } else {
                // Half near the stream (so packets are held), half anywhere.
                seq = if step % 2 == 0 { seq.wrapping_add(step as u16) } else { random_seq };
                let _ = buf.push(seq, Bytes::from(vec![0xAB; len]), now);
            }
            prop_assert!(buf.held() <= MAX_HELD);
            prop_assert!(buf.held_bytes() <= MAX_HELD * MAX_PAYLOAD);
            prop_assert!(buf.transits.len() <= HISTORY);
            prop_assert!(buf.target_delay() >= MIN_DELAY && buf.target_delay() <= MAX_DELAY);
        }
    }

    /// For any burst of jitter up to 180 ms: the delay covers it within a second, nothing is
    /// late after that, and it comes back to the least delay once the network calms.
    #[test]
    fn the_delay_follows_the_jitter(jitter_ms in 30u64..=180, seed in any::<u64>(), first in any::<u16>()) {
        let j = jitter_ms * MS;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let arrivals = stream(first, 1000, |i| Some(match i {
            100..=349 if (i - 100) % 7 == 0 => j,
            100..=349 => rng.gen_range(0..=j),
            _ => 0,
        }));
        let mut sim = Sim::new(arrivals, seed % FRAME);
        sim.run_until(150 * FRAME);
        let adapted = sim.buf.stats();
        let want = (Duration::from_micros(j) + HEADROOM).min(MAX_DELAY);
        prop_assert!(sim.buf.target_delay() >= want);
        prop_assert!(sim.latency() >= Duration::from_micros(j).min(MAX_DELAY - EARLY));
        sim.run_until(1000 * FRAME);
        let s = sim.buf.stats();
        prop_assert_eq!(s.late, adapted.late);
        prop_assert_eq!(sim.buf.target_delay(), MIN_DELAY);
        prop_assert!(sim.latency() <= MIN_DELAY + LATE, "{:?}", sim.latency());
    }
}
