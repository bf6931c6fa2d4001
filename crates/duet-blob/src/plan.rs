//! Which chunk to ask which device for: a fetch's bookkeeping, without I/O.
//!
//! Chunks are asked for lowest first (so media can start playing early), each from one device
//! at a time, with at most `per_peer` requests in flight on a device and `total` overall. A
//! device that sent a bad chunk is not asked again during this fetch; what it sent before and
//! was checked is kept. A device that lost its connection gives its requests back.

use std::collections::HashMap;
use std::hash::Hash;

use crate::manifest::Bitmap;

#[derive(Debug)]
struct Peer {
    has: Bitmap,
    in_flight: usize,
    bad: bool,
}

/// The state of one blob's fetch.
#[derive(Debug)]
pub struct FetchPlan<P> {
    have: Bitmap,
    in_flight: HashMap<u32, P>,
    peers: HashMap<P, Peer>,
    per_peer: usize,
    total: usize,
}

impl<P: Copy + Eq + Hash> FetchPlan<P> {
    /// A fetch that already holds `have`.
    pub fn new(have: Bitmap, per_peer: usize, total: usize) -> Self {
        Self { have, in_flight: HashMap::new(), peers: HashMap::new(), per_peer: per_peer.max(1), total: total.max(1) }
    }

    /// A device that holds the chunks in `has` (a device already found bad stays bad).
    pub fn add_peer(&mut self, peer: P, has: Bitmap) {
        let len = self.have.len();
        let has = if has.len() == len { has } else { Bitmap::empty(len) };
        match self.peers.get_mut(&peer) {
            Some(p) => p.has = has,
            None => {
                self.peers.insert(peer, Peer { has, in_flight: 0, bad: false });
            }
        }
    }

    /// A device went away: its requests go back to the queue.
    pub fn remove_peer(&mut self, peer: P) {
        self.in_flight.retain(|_, p| *p != peer);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.in_flight = 0;
            if !p.bad {
                self.peers.remove(&peer);
            }
        }
    }

    /// The next chunk to ask `peer` for, now marked in flight.
    pub fn next(&mut self, peer: P) -> Option<u32> {
        if self.in_flight.len() >= self.total {
            return None;
        }
        let p = self.peers.get(&peer)?;
        if p.bad || p.in_flight >= self.per_peer {
            return None;
        }
        let index =
            (0..self.have.len()).find(|i| !self.have.get(*i) && !self.in_flight.contains_key(i) && p.has.get(*i))?;
        self.in_flight.insert(index, peer);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.in_flight += 1;
        }
        Some(index)
    }

    fn settle(&mut self, peer: P, index: u32) {
        if self.in_flight.get(&index) == Some(&peer) {
            self.in_flight.remove(&index);
            if let Some(p) = self.peers.get_mut(&peer) {
                p.in_flight = p.in_flight.saturating_sub(1);
            }
        }
    }

    /// `peer`'s chunk `index` was checked and stored.
    pub fn stored(&mut self, peer: P, index: u32) {
        self.settle(peer, index);
        self.have.set(index);
    }

    /// `peer` does not hold chunk `index` after all.
    pub fn missing(&mut self, peer: P, index: u32) {
        self.settle(peer, index);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.has.clear(index);
        }
    }

    /// Asking `peer` for `index` failed for a reason that is not its fault (the local store
    /// could not write, say): the chunk goes back to the queue.
    pub fn retry(&mut self, peer: P, index: u32) {
        self.settle(peer, index);
    }

    /// `peer` sent a bad chunk `index`: it is asked for nothing more in this fetch, and its
    /// requests go back to the queue.
    pub fn rejected(&mut self, peer: P, index: u32) {
        self.settle(peer, index);
        self.distrust(peer);
    }

    /// `peer` sent something bad (a frame that does not decode, say): it is asked for nothing
    /// more in this fetch, and its requests go back to the queue.
    pub fn distrust(&mut self, peer: P) {
        self.in_flight.retain(|_, p| *p != peer);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.bad = true;
            p.in_flight = 0;
        }
    }

    /// Whether `peer` sent something bad in this fetch.
    pub fn is_bad(&self, peer: &P) -> bool {
        self.peers.get(peer).is_some_and(|p| p.bad)
    }

    /// Every chunk is held.
    pub fn is_complete(&self) -> bool {
        self.have.is_full()
    }

    /// Nothing is in flight and no good device holds a chunk still missing.
    pub fn is_stalled(&self) -> bool {
        self.in_flight.is_empty()
            && !self.is_complete()
            && !(0..self.have.len()).any(|i| !self.have.get(i) && self.peers.values().any(|p| !p.bad && p.has.get(i)))
    }

    pub fn have(&self) -> &Bitmap {
        &self.have
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_spread_over_devices_and_a_bad_one_is_dropped() {
        let mut plan = FetchPlan::new(Bitmap::empty(6), 2, 3);
        plan.add_peer('a', Bitmap::full(6));
        plan.add_peer('b', Bitmap::full(6));
        assert_eq!(plan.next('a'), Some(0));
        assert_eq!(plan.next('a'), Some(1));
        assert_eq!(plan.next('a'), None, "two per device");
        assert_eq!(plan.next('b'), Some(2));
        assert_eq!(plan.next('b'), None, "three in all");
        plan.stored('a', 0);
        plan.rejected('b', 2);
        assert!(plan.is_bad(&'b'));
        assert_eq!(plan.next('b'), None);
        assert_eq!(plan.next('a'), Some(2), "the bad device's chunk is asked again elsewhere");
        plan.stored('a', 1);
        plan.stored('a', 2);
        for i in 3..6 {
            assert_eq!(plan.next('a'), Some(i));
            plan.stored('a', i);
        }
        assert!(plan.is_complete());
    }

    #[test]
    fn a_device_that_sends_garbage_gives_back_all_its_requests() {
        let mut plan = FetchPlan::new(Bitmap::empty(4), 2, 4);
        plan.add_peer('a', Bitmap::full(4));
        plan.add_peer('b', Bitmap::full(4));
        assert_eq!((plan.next('a'), plan.next('a')), (Some(0), Some(1)));
        plan.distrust('a');
        assert_eq!(plan.in_flight(), 0);
        assert!(plan.is_bad(&'a'));
        assert_eq!((plan.next('b'), plan.next('b')), (Some(0), Some(1)));
    }

    #[test]
    fn a_fetch_resumes_from_what_it_holds_and_stalls_without_sources() {
        let mut have = Bitmap::empty(4);
        have.set(0);
        have.set(1);
        let mut plan = FetchPlan::new(have, 4, 4);
        plan.add_peer(1u8, Bitmap::full(4));
        assert_eq!(plan.next(1), Some(2));
        plan.remove_peer(1);
        assert_eq!(plan.in_flight(), 0);
        assert!(plan.is_stalled());
        let mut partial = Bitmap::empty(4);
        partial.set(3);
        plan.add_peer(2, partial);
        assert_eq!(plan.next(2), Some(3));
        plan.missing(2, 3);
        assert!(plan.is_stalled());
        assert_eq!(plan.next(2), None);
    }
}
