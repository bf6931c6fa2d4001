//! Verify, then fold: what a device does with a batch of events from a peer.
//!
//! A space with Ada (two devices) and Ben (one), their keys made from the input's first byte.
//! The rest of the input says what arrives, one step per byte: an event a member device seals
//! and signs properly around arbitrary plaintext (a member that writes garbage), an honest text
//! post, a copy of an earlier event with one byte flipped (tampering on the way), a replay of
//! an earlier event, or a device that saw a far later Lamport clock.
//!
//! Asserts: no panic; what is accepted is what was sent, each author's events in log order;
//! folding the accepted events in the opposite order gives the same views (the fold converges
//! whatever order events arrive in).
#![no_main]

use std::collections::BTreeMap;
use std::sync::Mutex;

use duet_log::testkit::TestSpace;
use duet_log::{fold, LogHead, MemoryViews, SealedEvent};
use duet_model::Timestamp;
use libfuzzer_sys::fuzz_target;

/// The input, read a little at a time; reading past its end gives zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// Around 2023-11-14, give or take four minutes.
fn now(at: u8) -> Timestamp {
    Timestamp(1_700_000_000_000 + u64::from(at) * 1_000)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(seed) = input.byte() else { return };
    // Keys are made once per seed: making them is most of the time of a short input.
    static SPACES: Mutex<BTreeMap<u8, TestSpace>> = Mutex::new(BTreeMap::new());
    let mut spaces = SPACES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let space = spaces.entry(seed).or_insert_with(|| TestSpace::new(u64::from(seed), &[2, 1]));
    space.reset(u64::from(seed));
    let mut sent: Vec<SealedEvent> = Vec::new();
    while let Some(step) = input.byte() {
        let d = usize::from(step % 3);
        match (step / 3) % 5 {
            0 => {
                let len = usize::from(input.byte().unwrap_or(0));
                let plain = input.take(len);
                let at = now(input.byte().unwrap_or(0));
                sent.extend(space.write_unchecked(d, plain, at));
            }
            1 => {
                let len = usize::from(input.byte().unwrap_or(0) % 32);
                let text: String = input.take(len).iter().map(|b| char::from(b'a' + b % 26)).collect();
                if !text.is_empty() {
                    let at = now(input.byte().unwrap_or(0));
                    sent.push(space.write(d, TestSpace::text(&text), at));
                }
            }
            2 => {
                let (Some(at), Some(flip)) = (input.byte(), input.byte()) else { continue };
                let Some(last) = sent.last() else { continue };
                let mut body = last.body().to_vec();
                let i = usize::from(at) % body.len();
                body[i] ^= flip.max(1);
                if let Ok(tampered) = SealedEvent::decode(last.author(), last.seq(), body) {
                    sent.push(tampered);
                }
            }
            3 => {
                let Some(which) = input.byte() else { continue };
                if !sent.is_empty() {
                    let again = sent[usize::from(which) % sent.len()].clone();
                    sent.push(again);
                }
            }
            _ => {
                let high = input.take(2);
                let jump = high.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                let seen = space.devices[d].max_lamport.saturating_add(jump << 8);
                space.observe(d, seen);
            }
        }
    }

    let outcome = space.verifier().verify_batch(|_| LogHead::EMPTY, |_, _| None, sent.clone());
    if let Some((i, _)) = &outcome.rejected {
        assert!(*i < sent.len(), "a rejection names an event that was not sent");
    }
    let mut last_seq = BTreeMap::new();
    for opened in &outcome.accepted {
        assert!(
            sent.iter().any(|e| e.author() == opened.author() && e.seq() == opened.seq()),
            "an accepted event was never sent"
        );
        let previous = last_seq.insert(opened.author(), opened.seq()).unwrap_or(0);
        assert_eq!(opened.seq(), previous + 1, "an author's events were accepted out of order");
    }

    let mut forward = MemoryViews::default();
    for opened in &outcome.accepted {
        fold(&mut forward, space.space, opened);
    }
    let mut backward = MemoryViews::default();
    for opened in outcome.accepted.iter().rev() {
        fold(&mut backward, space.space, opened);
    }
    assert_eq!(forward, backward, "the fold depends on the order events arrive in");
});
