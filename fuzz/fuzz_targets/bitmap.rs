//! Chunk bitmaps from peers (`duet_blob::Bitmap::from_bytes`, in a blob's `Have` answer) and
//! the fetch plan they feed.
//!
//! The first two bytes give the chunk count (up to 4,095); the next bytes are what this device
//! holds and what two peers claim to hold, as they would arrive; every byte after that is one
//! step of a fetch (ask a peer, a chunk stored, missing, failed, bad, a peer gone or back).
//! Asserts: no panic; a bitmap that decodes has exactly that many chunks and its bytes decode
//! to the same set; the plan only asks a peer for a chunk it claims and this device lacks,
//! never for one already in flight, never past its limits, never a peer that sent something
//! bad; a fetch whose plan says stalled asks no one.
#![no_main]

use std::collections::BTreeMap;

use duet_blob::{Bitmap, FetchPlan};
use libfuzzer_sys::fuzz_target;

const PER_PEER: usize = 2;
const TOTAL: usize = 3;

fn decode(bytes: &[u8], len: u32) -> Option<Bitmap> {
    let bitmap = Bitmap::from_bytes(bytes, len).ok()?;
    assert_eq!(bitmap.len(), len);
    let again = Bitmap::from_bytes(bitmap.as_bytes(), len).expect("a decoded bitmap's bytes decode");
    assert_eq!(again, bitmap);
    Some(bitmap)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let len = u32::from(u16::from_be_bytes([data[0], data[1]]) & 0x0fff);
    let width = (len as usize).div_ceil(8);
    let mut rest = &data[2..];
    let mut next_bitmap = || {
        let (bytes, after) = rest.split_at(width.min(rest.len()));
        rest = after;
        decode(bytes, len)
    };
    let have = next_bitmap().unwrap_or_else(|| Bitmap::empty(len));
    let claims =
        [next_bitmap().unwrap_or_else(|| Bitmap::empty(len)), next_bitmap().unwrap_or_else(|| Bitmap::empty(len))];
    // Whatever bytes follow are also tried as a bitmap of any length.
    let _ = decode(rest, (rest.len() * 8) as u32);

    let mut plan = FetchPlan::new(have.clone(), PER_PEER, TOTAL);
    let mut held = have;
    let mut claimed = claims.clone();
    let mut bad = [false, false];
    let mut present = [true, true];
    for (peer, claim) in claims.iter().enumerate() {
        plan.add_peer(peer, claim.clone());
    }
    let mut in_flight: BTreeMap<u32, usize> = BTreeMap::new();
    for &step in rest.iter().take(256) {
        let peer = usize::from(step & 1);
        let asked: Vec<u32> = in_flight.iter().filter(|(_, p)| **p == peer).map(|(c, _)| *c).collect();
        let chunk = asked.get(usize::from(step >> 5) % asked.len().max(1)).copied();
        match (step >> 1) % 8 {
            0 | 1 => {
                let stalled = plan.is_stalled();
                if let Some(c) = plan.next(peer) {
                    assert!(!stalled, "a stalled plan asked for chunk {c}");
                    assert!(present[peer] && !bad[peer], "asked peer {peer}, which is gone or bad");
                    assert!(claimed[peer].get(c), "asked peer {peer} for chunk {c}, which it does not claim");
                    assert!(!held.get(c), "asked for chunk {c}, which is held");
                    assert!(in_flight.insert(c, peer).is_none(), "chunk {c} asked twice at once");
                    assert!(in_flight.len() <= TOTAL && asked.len() < PER_PEER, "past the plan's limits");
                }
            }
            2 => {
                if let Some(c) = chunk {
                    plan.stored(peer, c);
                    held.set(c);
                    in_flight.remove(&c);
                }
            }
            3 => {
                if let Some(c) = chunk {
                    plan.missing(peer, c);
                    claimed[peer].clear(c);
                    in_flight.remove(&c);
                }
            }
            4 => {
                if let Some(c) = chunk {
                    plan.retry(peer, c);
                    in_flight.remove(&c);
                }
            }
            5 => {
                if let Some(c) = chunk {
                    plan.rejected(peer, c);
                    bad[peer] = true;
                    in_flight.retain(|_, p| *p != peer);
                }
            }
            6 => {
                plan.remove_peer(peer);
                present[peer] = bad[peer];
                in_flight.retain(|_, p| *p != peer);
            }
            _ => {
                plan.add_peer(peer, claims[peer].clone());
                claimed[peer] = claims[peer].clone();
                present[peer] = true;
            }
        }
        assert_eq!(plan.in_flight(), in_flight.len());
        assert_eq!(plan.have(), &held);
        assert_eq!(plan.is_complete(), (0..len).all(|c| held.get(c)));
    }
});
