//! Store tests on temp dirs: reopening gives everything back, writes are atomic, queries page
//! correctly, and the sled views equal the reference fold.

use duet_log::testkit::TestSpace;
use duet_log::{fold, MemoryViews, OpenedEvent, Payload, ViewStore};
use duet_model::{MessageId, Target, Timestamp};

use crate::{store_dir, BackupError, LocalIdentity, SpaceState, Store, StoreError};

fn t(ms: u64) -> Timestamp {
    Timestamp(1_700_000_000_000 + ms)
}

/// The data key the store tests seal with.
pub(crate) fn test_key() -> duet_crypto::DataKey {
    duet_crypto::DataKey::from_bytes([5; 32])
}

fn store_for(s: &TestSpace, dir: &std::path::Path) -> Store {
    let store = Store::open(dir, &test_key()).unwrap();
    store.save_space(&SpaceState { space: s.space, membership: s.membership.clone() }, &s.key).unwrap();
    store
}

#[test]
fn reopening_gives_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(1, &[1, 1]);
    let events: Vec<_> = (0..30).map(|i| s.write(i % 2, TestSpace::text(&format!("msg {i}")), t(i as u64))).collect();
    let opened = s.open_all(&events);
    let before;
    {
        let store = store_for(&s, dir.path());
        let identity = LocalIdentity {
            device: duet_crypto::DeviceKey::from_secret_bytes(&s.devices[0].key.secret_bytes()),
            person: None,
            certificate: Some(s.devices[0].certificate.clone()),
            display_name: "Ada".into(),
        };
        store.save_identity(&identity).unwrap();
        store.apply_remote(&opened[..10]).unwrap();
        store.apply_remote(&opened[10..]).unwrap();
        before = store.messages(&Target::Direct.conversation(s.space), None, 100).unwrap();
        assert_eq!(before.messages.len(), 30);
    }
    let store = Store::open(dir.path(), &test_key()).unwrap();
    let after = store.messages(&Target::Direct.conversation(s.space), None, 100).unwrap();
    assert_eq!(after, before);
    assert_eq!(store.version_vector().unwrap().get(&s.devices[0].key.id()), 15);
    assert_eq!(store.head(&s.devices[1].key.id()).unwrap(), s.devices[1].head);
    let e = store.event(&s.devices[0].key.id(), 7).unwrap().unwrap();
    assert_eq!(e.body(), events.iter().find(|x| x.author() == e.author() && x.seq() == 7).unwrap().body());
    assert_eq!(store.events_from(&s.devices[1].key.id(), 3, 100).unwrap().len(), 13);
    let profile = store.local_profile().unwrap().unwrap();
    assert_eq!(profile.id, s.persons[0].id());
    assert_eq!(store.space().unwrap().unwrap().membership, s.membership);
    assert_eq!(store.space_key().unwrap().unwrap().to_bytes(), s.key.to_bytes());
}

#[test]
fn the_person_is_known_once_the_identity_says_so_and_kept_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestSpace::new(1, &[1, 1]);
    let device = || duet_crypto::DeviceKey::from_secret_bytes(&s.devices[0].key.secret_bytes());
    let person = s.devices[0].certificate.person;
    {
        let store = store_for(&s, dir.path());
        assert_eq!(store.person_id().unwrap(), None, "no identity yet");
        // A device being linked: its keys are saved before its certificate arrives.
        let waiting = LocalIdentity { device: device(), person: None, certificate: None, display_name: "Ada".into() };
        store.save_identity(&waiting).unwrap();
        assert_eq!(store.person_id().unwrap(), None);
        let linked = LocalIdentity { certificate: Some(s.devices[0].certificate.clone()), ..waiting };
        store.save_identity(&linked).unwrap();
        assert_eq!(store.person_id().unwrap(), Some(person));
        assert_eq!(store.person_id().unwrap(), store.identity().unwrap().unwrap().person_id());
    }
    let store = Store::open(dir.path(), &test_key()).unwrap();
    assert_eq!(store.person_id().unwrap(), Some(person), "read from the stored identity");
}

#[test]
fn a_batch_that_does_not_continue_the_log_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(2, &[1, 1]);
    let events: Vec<_> = (0..5).map(|i| s.write(0, TestSpace::text("x"), t(i))).collect();
    let opened = s.open_all(&events);
    let store = store_for(&s, dir.path());
    let mut broken = opened.clone();
    broken.remove(2);
    assert!(matches!(store.apply_remote(&broken), Err(StoreError::OutOfOrder { .. })));
    assert!(store.version_vector().unwrap().is_empty());
    assert!(store.messages(&Target::Direct.conversation(s.space), None, 10).unwrap().messages.is_empty());
    store.apply_remote(&opened).unwrap();
    assert_eq!(store.version_vector().unwrap().get(&s.devices[0].key.id()), 5);
}

#[test]
fn pages_go_back_in_time_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(3, &[1, 1]);
    let events: Vec<_> =
        (0..95).map(|i| s.write(i % 2, TestSpace::text(&format!("{i}")), t(i as u64 * 1000))).collect();
    let store = store_for(&s, dir.path());
    store.apply_remote(&s.open_all(&events)).unwrap();
    let conv = Target::Direct.conversation(s.space);
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.messages(&conv, before, 20).unwrap();
        seen.extend(page.messages.iter().map(|m| m.content.clone()));
        match page.older {
            Some(o) => before = Some(o),
            None => break,
        }
    }
    let expected: Vec<String> = (0..95).rev().map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
    // The seed's other two indexes.
    let ada = s.persons[0].id();
    let ben = s.persons[1].id();
    let from_ada = store.messages_between(&ada, &ben, None, 1000).unwrap();
    assert_eq!(from_ada.len(), 48);
    assert!(from_ada.iter().all(|m| m.sender == ada && m.recipient == Some(ben)));
    assert!(from_ada.windows(2).all(|w| w[0].created_at > w[1].created_at));
    let old = store.messages_older_than(t(10_000), 100).unwrap();
    assert_eq!(old.len(), 10);
    assert!(old.windows(2).all(|w| w[0].1 < w[1].1));
}

#[test]
fn index_chunks_from_many_batches_read_back_merged_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(5, &[1, 1]);
    // Creation times out of order across ~3 index buckets (2^22 ms each), applied in small
    // batches so every bucket holds several chunks.
    let times: Vec<u64> = (0..60u64).map(|i| (i * 37 % 60) * 200_000).collect();
    let events: Vec<_> = times.iter().map(|&ms| s.write(0, TestSpace::text(&ms.to_string()), t(ms))).collect();
    let store = store_for(&s, dir.path());
    for batch in s.open_all(&events).chunks(7) {
        store.apply_remote(batch).unwrap();
    }
    let (ada, ben) = (s.persons[0].id(), s.persons[1].id());
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.messages_between(&ada, &ben, before, 8).unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(page.iter().map(|m| m.created_at.0));
    }
    let mut expected: Vec<u64> = times.iter().map(|&ms| t(ms).0).collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected);
    let old = store.messages_older_than(t(6_000_000), 1000).unwrap();
    let old_times: Vec<u64> = old.iter().map(|(_, id)| id.created_at().0).collect();
    let mut want: Vec<u64> = times.iter().filter(|&&ms| ms < 6_000_000).map(|&ms| t(ms).0).collect();
    want.sort_unstable();
    assert_eq!(old_times, want);
}

#[test]
fn receipts_and_unread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(4, &[1, 1]);
    let m1 = s.write(0, TestSpace::text("one"), t(0));
    let m2 = s.write(0, TestSpace::text("two"), t(1));
    let m3 = s.write(0, TestSpace::text("three"), t(2));
    let store = store_for(&s, dir.path());
    store.apply_remote(&s.open_all(&[m1.clone(), m2.clone(), m3.clone()])).unwrap();
    let conv = Target::Direct.conversation(s.space);
    let (ada, ben) = (s.persons[0].id(), s.persons[1].id());
    assert_eq!(store.unread_count(&conv, &ben).unwrap(), 3);
    assert_eq!(store.unread_count(&conv, &ada).unwrap(), 0);
    // Ben's device holds Ada's log up to 3, and reads up to m2.
    let held = vec![(s.devices[0].key.id(), 3)];
    let d = s.write(1, Payload::Delivered { held }, t(10));
    let r = s.write(1, Payload::MarkRead { target: Target::Direct, up_to: TestSpace::message_id(&m2) }, t(20));
    let r_late = s.write(1, Payload::MarkRead { target: Target::Direct, up_to: TestSpace::message_id(&m3) }, t(30));
    let opened = s.open_all(&[d, r, r_late]);
    store.apply_remote(&opened[..2]).unwrap();
    assert_eq!(store.unread_count(&conv, &ben).unwrap(), 1);
    let page = store.messages(&conv, None, 10).unwrap().messages;
    assert_eq!(page[0].content, "three");
    assert!(page[0].delivered && !page[0].read);
    assert_eq!(page[0].delivered_at, Some(t(10)));
    assert!(page[1].read && page[2].read);
    assert_eq!(page[2].read_at, Some(t(20)));
    store.apply_remote(&opened[2..]).unwrap();
    let page = store.messages(&conv, None, 10).unwrap().messages;
    // Set once: m1's read time stays at the first marker that covered it.
    assert_eq!(page[2].read_at, Some(t(20)));
    assert_eq!(page[0].read_at, Some(t(30)));
    assert_eq!(store.conversations(&ben).unwrap()[0].unread_count, 0);
}

/// Device `d` writes `payload`, which every device of the space then sees (so later events
/// follow it in Lamport order); a post's id goes to `ids`.
fn write_seen_by_all(
    s: &mut TestSpace,
    d: usize,
    payload: Payload,
    at: Timestamp,
    ids: &mut Vec<MessageId>,
) -> duet_log::SealedEvent {
    let post = matches!(payload, Payload::Post { .. });
    let e = s.write(d, payload, at);
    if post {
        ids.push(TestSpace::message_id(&e));
    }
    let l = e.lamport();
    (0..s.devices.len()).for_each(|o| s.observe(o, l));
    e
}

/// The sled views are the same fold as the in-memory reference, for the same events.
#[test]
fn sled_views_equal_the_reference_fold() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(5, &[2, 1]);
    let mut events = Vec::new();
    let mut ids: Vec<MessageId> = Vec::new();
    for i in 0..120u64 {
        let d = (i % 3) as usize;
        let payload = match i % 6 {
            0 | 1 => TestSpace::text(&format!("m{i}")),
            2 if !ids.is_empty() => Payload::React { message: ids[(i as usize * 7) % ids.len()], emoji: "💛".into() },
            3 if !ids.is_empty() => {
                Payload::Edit { message: ids[(i as usize * 5) % ids.len()], content: format!("e{i}") }
            }
            4 if !ids.is_empty() => {
                Payload::Unreact { message: ids[(i as usize * 7) % ids.len()], emoji: "💛".into() }
            }
            _ => Payload::CustomStatus { text: Some(format!("s{i}")) },
        };
        events.push(write_seen_by_all(&mut s, d, payload, t(i * 3), &mut ids));
    }
    let opened: Vec<OpenedEvent> = s.open_all(&events);
    let store = store_for(&s, dir.path());
    // Apply in per-author chunks, in a different order from the reference.
    let mut by_author: Vec<Vec<OpenedEvent>> = vec![vec![]; 3];
    for e in &opened {
        let i = s.devices.iter().position(|d| d.key.id() == e.author()).unwrap();
        by_author[i].push(e.clone());
    }
    for chunk in by_author.iter().rev() {
        store.apply_remote(chunk).unwrap();
    }
    let mut reference = MemoryViews::default();
    for e in &opened {
        fold(&mut reference, s.space, e);
    }
    let conv = Target::Direct.conversation(s.space);
    let page = store.messages(&conv, None, 1000).unwrap().messages;
    assert_eq!(page.len(), reference.messages.len());
    for m in &page {
        let r = reference.message(&m.id).unwrap();
        let expected = r.to_message(m.recipient, m.delivered_at, m.read_at);
        assert_eq!(*m, expected);
    }
    let ben = s.persons[1].id();
    let status = |r: &duet_log::ProfileRecord| r.custom_status.clone().map(|l| l.value);
    let stored: duet_log::ProfileRecord = crate::txn::Txn::new(&store.inner).profile(&ben).unwrap();
    assert_eq!(status(&stored), status(&reference.profiles[&ben]));
    assert!(status(&stored).is_some());
}

/// Whatever batches the events arrive in (so new messages land in blocks, in singles beside
/// blocks, or change after their block was written), every read equals the reference fold,
/// before and after reopening.
/// `count` random events of the space's three devices, `spacing_ms` apart, each seen by all:
/// posts mostly, and reactions, edits and deletions of earlier posts.
fn random_conversation(
    rng: &mut rand::rngs::StdRng,
    s: &mut TestSpace,
    count: u64,
    spacing_ms: u64,
) -> Vec<OpenedEvent> {
    use rand::Rng;
    let mut events = Vec::new();
    let mut ids: Vec<MessageId> = Vec::new();
    for i in 0..count {
        let d = rng.gen_range(0..3usize);
        let payload = match rng.gen_range(0..10) {
            0..=5 => TestSpace::text(&format!("m{i}")),
            6 if !ids.is_empty() => Payload::React { message: ids[rng.gen_range(0..ids.len())], emoji: "💛".into() },
            7 if !ids.is_empty() => {
                Payload::Edit { message: ids[rng.gen_range(0..ids.len())], content: format!("e{i}") }
            }
            8 if !ids.is_empty() => Payload::Delete { message: ids[rng.gen_range(0..ids.len())] },
            _ => TestSpace::text(&format!("n{i}")),
        };
        events.push(write_seen_by_all(s, d, payload, t(i * spacing_ms), &mut ids));
    }
    s.open_all(&events)
}

/// The next events of a random author: one with probability `one`, else up to `most`.
fn next_batch(
    rng: &mut rand::rngs::StdRng,
    by_author: &mut [std::collections::VecDeque<OpenedEvent>],
    one: f64,
    most: usize,
) -> Vec<OpenedEvent> {
    use rand::Rng;
    let a = rng.gen_range(0..by_author.len());
    let n = if rng.gen_bool(one) { 1 } else { rng.gen_range(1..most) };
    let n = n.min(by_author[a].len());
    by_author[a].drain(..n).collect()
}

/// A conversation read page by page, `size` messages a page, newest first.
fn in_pages(store: &Store, conversation: &duet_model::ConversationId, size: usize) -> Vec<duet_model::Message> {
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = store.messages(conversation, before, size).unwrap();
        paged.extend(page.messages);
        match page.older {
            Some(o) => before = Some(o),
            None => return paged,
        }
    }
}

/// Each author's events, in order.
fn by_author(s: &TestSpace, opened: &[OpenedEvent]) -> Vec<std::collections::VecDeque<OpenedEvent>> {
    let mut by_author: Vec<std::collections::VecDeque<OpenedEvent>> = vec![Default::default(); s.devices.len()];
    for e in opened {
        let i = s.devices.iter().position(|d| d.key.id() == e.author()).unwrap();
        by_author[i].push_back(e.clone());
    }
    by_author
}

#[test]
fn blocks_and_singles_read_back_as_the_reference_fold() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(9, &[2, 1]);
    let opened = random_conversation(&mut rng, &mut s, 600, 3);
    // Each author's events in order, the authors' runs interleaved in random-sized batches
    // (one event at a time now and then, like a local append).
    let mut by_author = by_author(&s, &opened);
    let mut reference = MemoryViews::default();
    for e in &opened {
        fold(&mut reference, s.space, e);
    }
    let conv = Target::Direct.conversation(s.space);
    let ben = s.persons[1].id();
    let check = |store: &Store| {
        let all = store.messages(&conv, None, 10_000).unwrap().messages;
        assert_eq!(all.len(), reference.messages.len());
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first, each once");
        for m in &all {
            let r = reference.message(&m.id).unwrap();
            assert_eq!(*m, r.to_message(m.recipient, m.delivered_at, m.read_at));
            assert_eq!(store.message(&m.id).unwrap().as_ref(), Some(m));
        }
        let paged = in_pages(store, &conv, 7);
        assert_eq!(paged, all, "pages of 7 give the same list");
        let from_ada = all.iter().filter(|m| m.sender != ben).count() as u32;
        assert_eq!(store.conversations(&ben).unwrap()[0].unread_count, from_ada);
        // Unread after any marker: the index's count is the records' count, for either person.
        let space = store.space().unwrap().unwrap();
        let markers = std::iter::once(None).chain(all.iter().step_by(23).map(|m| Some(m.id)));
        for (marker, person) in markers.flat_map(|m| s.persons.iter().map(move |p| (m, p.id()))) {
            let expected = all.iter().filter(|m| m.sender != person && marker.is_none_or(|k| m.id > k)).count();
            assert_eq!(store.unread_direct(&space, &person, marker).unwrap(), expected as u32);
            assert_eq!(store.unread_scanned(&space, &conv, &person, marker).unwrap(), expected as u32);
        }
        assert_eq!(store.conversations(&ben).unwrap()[0].last_message, all.first().map(|m| m.id));
    };
    {
        let store = store_for(&s, dir.path());
        while by_author.iter().any(|a| !a.is_empty()) {
            let batch = next_batch(&mut rng, &mut by_author, 0.3, 80);
            store.apply_remote(&batch).unwrap();
        }
        let blocks = store.inner.tree(crate::keyspace::Ks::MessageBlocks).len();
        let singles = store.inner.tree(crate::keyspace::Ks::Messages).len();
        assert!(blocks > 10 && singles > 10, "both places are exercised: {blocks} blocks, {singles} singles");
        check(&store);
        store.flush().unwrap();
    }
    check(&Store::open(dir.path(), &test_key()).unwrap());
}

/// Consolidation (merging the small blocks and index chunks writes leave) changes how many
/// keys hold the messages, never what any read gives: a store that consolidates now and then
/// between random batches reads exactly as one that never does, before and after reopening.
#[test]
fn consolidating_keeps_every_read_the_same_with_fewer_keys() {
    use crate::keyspace::Ks;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(23);
    let (plain_dir, merged_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut s = TestSpace::new(4, &[2, 1]);
    // ~20 s apart: the 700 events span four hours, so several index buckets.
    let opened = random_conversation(&mut rng, &mut s, 700, 20_000);
    let mut by_author = by_author(&s, &opened);
    let plain = store_for(&s, plain_dir.path());
    let merged = store_for(&s, merged_dir.path());
    let mut merges = 0;
    while by_author.iter().any(|a| !a.is_empty()) {
        // Mostly one event at a time, as people write; now and then a synced run.
        let batch = next_batch(&mut rng, &mut by_author, 0.8, 40);
        plain.apply_remote(&batch).unwrap();
        merged.apply_remote(&batch).unwrap();
        if rng.gen_bool(0.5) {
            let writes = merged.writes();
            let n = merged.consolidate().unwrap();
            assert_eq!(merged.writes(), writes + n, "each merge is one write");
            merges += n;
        }
    }
    merges += merged.consolidate().unwrap();
    assert!(merges > 10, "{merges} merges");

    let keys = |store: &Store, ks: Ks| store.inner.tree(ks).len();
    for ks in [Ks::MessageBlocks, Ks::IdxPair, Ks::IdxTime, Ks::Events] {
        let (before, after) = (keys(&plain, ks), keys(&merged, ks));
        assert!(after * 3 < before, "{ks:?}: {before} keys without merging, {after} with");
    }

    let conv = Target::Direct.conversation(s.space);
    let (ada, ben) = (s.persons[0].id(), s.persons[1].id());
    let devices: Vec<duet_model::DeviceId> = s.devices.iter().map(|d| d.key.id()).collect();
    let reads = |store: &Store| {
        let all = store.messages(&conv, None, 10_000).unwrap().messages;
        let by_id: Vec<_> = all.iter().map(|m| store.message(&m.id).unwrap()).collect();
        let paged = in_pages(store, &conv, 9);
        let between = |from, to| {
            let mut out = Vec::new();
            let mut before = None;
            loop {
                let page = store.messages_between(from, to, before, 8).unwrap();
                let Some(last) = page.last() else { break };
                before = Some(last.id);
                out.extend(page);
            }
            out
        };
        let older = store.messages_older_than(t(700 * 20_000 / 2), 10_000).unwrap();
        let unread = store.conversations(&ben).unwrap();
        // Every author's log, whole and in pieces from seqs along it, as sync reads it.
        let mut logs: Vec<Vec<u8>> = Vec::new();
        for d in &devices {
            let whole = store.events_from(d, 1, 10_000).unwrap();
            for from in (1..=whole.len() as u64 + 1).step_by(37) {
                logs.extend(store.events_from(d, from, 5).unwrap().iter().map(|e| e.body().to_vec()));
            }
            logs.extend(whole.iter().map(|e| e.body().to_vec()));
        }
        (all, by_id, paged, between(&ada, &ben), between(&ben, &ada), older, unread, logs)
    };
    let expected = reads(&plain);
    assert!(expected.0.len() > 350 && !expected.3.is_empty() && !expected.5.is_empty());
    assert_eq!(reads(&merged), expected);
    merged.flush().unwrap();
    drop(merged);
    assert_eq!(reads(&Store::open(merged_dir.path(), &test_key()).unwrap()), expected);
}

/// A merge committing in the middle of a read: the read as it walked gives messages twice
/// (from the blocks it had read, then from the merged block holding them again), so
/// `Store::steady` reads again and gives each message once.
#[test]
fn a_read_that_a_merge_crossed_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(6, &[1, 1]);
    let events: Vec<_> = (0..20u64).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i * 1_000))).collect();
    let store = store_for(&s, dir.path());
    for e in s.open_all(&events) {
        store.apply_remote(&[e]).unwrap();
    }
    let conv = Target::Direct.conversation(s.space);
    let walk = |merge_midway: bool| -> Result<Vec<MessageId>, StoreError> {
        let mut scan = crate::scan::Scan::all(&store.inner, &conv, true);
        let mut ids = vec![scan.next().unwrap()?.0];
        if merge_midway {
            store.consolidate()?;
            assert_eq!(store.inner.tree(crate::keyspace::Ks::MessageBlocks).len(), 1, "the blocks became one");
        }
        for item in scan {
            ids.push(item?.0);
        }
        Ok(ids)
    };
    let crossed = walk(true).unwrap();
    assert!(
        crossed.len() > 20 && !crossed.windows(2).all(|w| w[0] > w[1]),
        "the walk a merge crossed gives messages twice: {} ids for 20",
        crossed.len()
    );
    // Eight more, one at a time: the newest nine blocks are merged on the next read's first try.
    let more: Vec<_> = (20..28u64).map(|i| s.write(0, TestSpace::text(&format!("m{i}")), t(i * 1_000))).collect();
    for e in &s.open_all(&[events, more].concat())[20..] {
        store.apply_remote(std::slice::from_ref(e)).unwrap();
    }
    let mut attempts = 0;
    let read = store
        .steady(|| {
            attempts += 1;
            walk(attempts == 1)
        })
        .unwrap();
    assert_eq!(attempts, 2, "read again after the merge");
    assert_eq!(read.len(), 28);
    assert!(read.windows(2).all(|w| w[0] > w[1]), "each message once, newest first");
}

#[test]
fn a_newer_store_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), &test_key()).unwrap();
        store.inner.tree(crate::keyspace::Ks::Meta).insert(crate::keyspace::meta::SCHEMA, 99u32.to_be_bytes()).unwrap();
        store.flush().unwrap();
    }
    let err = Store::open(dir.path(), &test_key()).err().unwrap();
    assert!(err.to_string().contains("newer version of Duet"), "{err}");
}

#[test]
fn invites_kept_by_an_older_version_are_read_and_replaced() {
    use duet_model::{Invite, InviteKind, InviteRecord, InviteState, SpaceId};
    let dir = tempfile::tempdir().unwrap();
    let invite = |n: u8| Invite {
        space: SpaceId([1; 16]),
        kind: InviteKind::Partner,
        inviter: duet_model::DeviceId([2; 32]),
        addresses: vec!["/ip4/127.0.0.1/tcp/4001".into()],
        secret: [n; 16],
        expires_at: t(1_000),
    };
    let store = Store::open(dir.path(), &test_key()).unwrap();
    // The older format: (invite, used).
    let old = vec![(invite(1), false), (invite(2), true)];
    store
        .inner
        .tree(crate::keyspace::Ks::Keys)
        .insert(crate::keyspace::secret::INVITES, crate::txn::encode(&old))
        .unwrap();
    let read = store.invites().unwrap();
    assert_eq!(
        read,
        vec![InviteRecord { invite: invite(1), state: InviteState::Open }],
        "the used one cannot be used again"
    );
    let now = vec![
        InviteRecord {
            invite: invite(1),
            state: InviteState::Used { joiner: duet_model::DeviceId([3; 32]), confirmed: false },
        },
        InviteRecord { invite: invite(3), state: InviteState::Cancelled },
    ];
    store.save_invites(&now).unwrap();
    drop(store);
    let store = Store::open(dir.path(), &test_key()).unwrap();
    assert_eq!(store.invites().unwrap(), now);
}

/// A post with one attachment of `kind`.
fn post_with(kind: duet_model::AttachmentKind, name: &str) -> Payload {
    Payload::Post {
        target: Target::Direct,
        message_type: match kind {
            duet_model::AttachmentKind::Image => duet_model::MessageType::Image,
            _ => duet_model::MessageType::File,
        },
        content: name.into(),
        reply_to: None,
        attachments: vec![
            duet_model::Attachment::new(kind, duet_model::BlobHash([name.len() as u8; 32]), name, 10).unwrap()
        ],
    }
}

#[test]
fn memories_are_the_photos_videos_and_sounds_newest_first_and_survive_an_upgrade() {
    use duet_model::AttachmentKind::{Audio, File, Image, Video};
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(9, &[1, 1]);
    let mut events = vec![
        s.write(0, post_with(Image, "beach.jpg"), t(1_000)),
        s.write(1, TestSpace::text("lovely"), t(2_000)),
        s.write(1, post_with(Audio, "voice.ogg"), t(3_000)),
        s.write(0, post_with(File, "tickets.pdf"), t(4_000)),
        s.write(0, post_with(Video, "waves.mp4"), t(5_000)),
        s.write(1, post_with(Image, "sunset.png"), t(6_000)),
    ];
    let sunset = TestSpace::message_id(&events[5]);
    events.push(s.write(1, Payload::Delete { message: sunset }, t(7_000)));
    let names = |ms: &[duet_model::Message]| ms.iter().map(|m| m.content.clone()).collect::<Vec<_>>();
    {
        let store = store_for(&s, dir.path());
        store.apply_remote(&s.open_all(&events)).unwrap();
        // Photos, videos and sounds of both, newest first; no text, no PDF, nothing deleted.
        let all = store.memories(None, None, 10).unwrap();
        assert_eq!(names(&all), ["waves.mp4", "voice.ogg", "beach.jpg"]);
        // Pages: before the last one seen; and a window of time.
        let page = store.memories(None, Some(all[0].id), 1).unwrap();
        assert_eq!(names(&page), ["voice.ogg"]);
        let after_beach = store.memories(Some(all[2].id), None, 10).unwrap();
        assert_eq!(names(&after_beach), ["waves.mp4", "voice.ogg"]);
        // A store of format 2 had no memories index: take it away and say format 2.
        let views = store.inner.tree(crate::keyspace::Ks::Views);
        for key in views.scan_prefix([crate::keyspace::view::MEDIA]).keys() {
            views.remove(key.unwrap()).unwrap();
        }
        store.inner.tree(crate::keyspace::Ks::Meta).insert(crate::keyspace::meta::SCHEMA, 2u32.to_be_bytes()).unwrap();
        assert!(store.memories(None, None, 10).unwrap().is_empty());
        store.flush().unwrap();
    }
    let store = Store::open(dir.path(), &test_key()).unwrap();
    assert_eq!(names(&store.memories(None, None, 10).unwrap()), ["waves.mp4", "voice.ogg", "beach.jpg"]);
}

/// Copies the store in `sealed` (sealed with [`test_key`]) into `plain` with every value
/// opened: a store as a version before encryption at rest wrote it.
fn unsealed_copy(sealed: &std::path::Path, plain: &std::path::Path) {
    // As the store opens it: sled's threads of a store just closed may hold the lock a moment.
    let from = crate::open_db(sealed).unwrap();
    let to = sled::Config::new().path(plain).open().unwrap();
    let sealer = std::sync::Arc::new(crate::sealed::Sealer::new(test_key()));
    for name in from.tree_names() {
        let source = crate::sealed::Tree::new(from.open_tree(&name).unwrap(), sealer.clone());
        let target = to.open_tree(&name).unwrap();
        for item in source.iter() {
            let (k, v) = item.unwrap();
            target.insert(k, v).unwrap();
        }
    }
    to.flush().unwrap();
}

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn holds(bytes: &[u8], word: &[u8]) -> bool {
    bytes.windows(word.len()).any(|w| w == word)
}

#[test]
fn an_unsealed_store_of_an_older_version_is_sealed_in_place_even_after_a_crash() {
    let made = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(4, &[1, 1]);
    let events: Vec<_> =
        (0..40).map(|i| s.write(i % 2, TestSpace::text(&format!("marmalade {i}")), t(i as u64))).collect();
    let conversation = Target::Direct.conversation(s.space);
    let before = {
        let store = store_for(&s, made.path());
        store.apply_remote(&s.open_all(&events)).unwrap();
        store.flush().unwrap();
        store.messages(&conversation, None, 100).unwrap()
    };
    let plain = data.path().join("store");
    unsealed_copy(made.path(), &plain);
    assert!(files_under(&plain).iter().any(|(_, b)| holds(b, b"marmalade")), "the old store is plain");
    // A crash in the middle of an earlier sealing left a half-made copy: it is made again.
    std::fs::create_dir_all(data.path().join("db.part")).unwrap();
    std::fs::write(data.path().join("db.part").join("conf"), b"half").unwrap();

    let store = Store::open_in(data.path(), &test_key()).unwrap();
    assert_eq!(store.messages(&conversation, None, 100).unwrap(), before);
    assert!(!plain.exists() && !data.path().join("db.part").exists());
    drop(store);
    let after = files_under(data.path());
    assert!(!after.is_empty());
    for (path, bytes) in &after {
        assert!(!holds(bytes, b"marmalade"), "{} holds a message's words", path.display());
    }
    // A crash after the rename, before the old folder went: it goes at the next start.
    unsealed_copy(&crate::store_dir(data.path()), &plain);
    let store = Store::open_in(data.path(), &test_key()).unwrap();
    assert!(!plain.exists());
    assert_eq!(store.messages(&conversation, None, 100).unwrap(), before);
    drop(store);
    // Another key opens nothing.
    let other = duet_crypto::DataKey::from_bytes([6; 32]);
    assert!(Store::open_in(data.path(), &other).is_err());
}

#[test]
fn a_backup_restores_the_same_store_and_any_altered_byte_is_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(1, &[1, 1]);
    let events: Vec<_> = (0..40).map(|i| s.write(i % 2, TestSpace::text(&format!("msg {i}")), t(i as u64))).collect();
    let opened = s.open_all(&events);
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("blobs")).unwrap();
    let blob = format!("{}.sealed", "ab".repeat(32));
    std::fs::write(data.join("blobs").join(&blob), vec![7u8; 3 << 20]).unwrap();
    let mut backup = Vec::new();
    let before = {
        let store = store_for(&s, &store_dir(&data));
        let identity = LocalIdentity {
            device: duet_crypto::DeviceKey::from_secret_bytes(&s.devices[0].key.secret_bytes()),
            person: None,
            certificate: Some(s.devices[0].certificate.clone()),
            display_name: "Ada".into(),
        };
        store.save_identity(&identity).unwrap();
        store.apply_remote(&opened).unwrap();
        let (counts, bytes) = store.write_backup(&data, &mut backup, "a good passphrase").unwrap();
        assert_eq!((counts.files, counts.file_bytes, bytes), (1, 3 << 20, backup.len() as u64));
        assert!(!store.restored().unwrap());
        store.messages(&Target::Direct.conversation(s.space), None, 100).unwrap()
    };

    let unlock = crate::vault::Unlock::passphrase("the new computer's passphrase");
    let fresh = dir.path().join("fresh");
    let wrong = crate::restore_backup(&backup[..], "not the passphrase", &fresh, &unlock);
    assert!(matches!(wrong, Err(BackupError::WrongPassphrase)), "{wrong:?}");
    // Altered anywhere (header, a frame's length, a sealed byte, the end): refused, and the
    // new folder is not made.
    let step = backup.len() / 23;
    for at in (0..52).step_by(7).chain((52..backup.len()).step_by(step)).chain([backup.len() - 1]) {
        let mut altered = backup.clone();
        altered[at] ^= 0x10;
        assert!(crate::restore_backup(&altered[..], "a good passphrase", &fresh, &unlock).is_err(), "byte {at}");
        assert!(!fresh.exists(), "byte {at} left a folder");
    }
    for cut in [10, 60, backup.len() / 2, backup.len() - 1] {
        assert!(crate::restore_backup(&backup[..cut], "a good passphrase", &fresh, &unlock).is_err(), "cut at {cut}");
    }
    assert!(!fresh.exists());

    let counts = crate::restore_backup(&backup[..], "a good passphrase", &fresh, &unlock).unwrap();
    assert_eq!(counts.files, 1);
    assert_eq!(std::fs::read(fresh.join("blobs").join(&blob)).unwrap(), vec![7u8; 3 << 20]);
    let key = crate::vault::unlock(&fresh, &unlock).unwrap();
    let store = Store::open_in(&fresh, &key).unwrap();
    assert_eq!(store.messages(&Target::Direct.conversation(s.space), None, 100).unwrap(), before);
    assert_eq!(store.identity().unwrap().map(|i| i.display_name), Some("Ada".into()));
    assert!(store.restored().unwrap());
    store.clear_restored().unwrap();
    assert!(!store.restored().unwrap());
    // Not over a store that is there.
    drop(store);
    let again = crate::restore_backup(&backup[..], "a good passphrase", &fresh, &unlock);
    assert!(matches!(again, Err(BackupError::NotEmpty(_))), "{again:?}");
}

#[test]
fn search_finds_every_word_folded_best_first_across_merges_edits_deletes_and_an_upgrade() {
    use crate::search::{Query, FANOUT};
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(10, &[1, 1]);
    let direct = Target::Direct.conversation(s.space);
    let query = |text: &str| Query { text: text.into(), conversation: None, before: None, limit: 50 };
    let contents = |ms: Vec<duet_model::Message>| ms.into_iter().map(|m| m.content).collect::<Vec<_>>();
    let mut events = vec![
        s.write(0, TestSpace::text("On se voit au café ce soir ?"), t(1_000)),
        s.write(1, TestSpace::text("Oui! Au CAFE de la gare"), t(2_000)),
        s.write(0, TestSpace::text("café? on y va, au revoir"), t(3_000)),
        s.write(1, TestSpace::text("我爱你"), t(4_000)),
        s.write(0, TestSpace::text("the pizza was great"), t(5_000)),
        s.write(1, TestSpace::text("to be deleted: pizza"), t(6_000)),
    ];
    let typo = s.write(0, TestSpace::text("see you at the cinmea"), t(7_000));
    let typo_id = TestSpace::message_id(&typo);
    let deleted = TestSpace::message_id(&events[5]);
    events.push(typo);
    let store = store_for(&s, dir.path());
    // One commit per event, and enough filler commits that the shards' chunks merge (levels).
    for i in 0..FANOUT * FANOUT + 3 {
        events.push(s.write(i % 2, TestSpace::text(&format!("filler {i}")), t(8_000 + i as u64)));
    }
    for e in s.open_all(&events) {
        store.apply_remote(&[e]).unwrap();
    }
    let levels = |store: &Store| {
        let keys: Vec<_> = store.inner.tree(crate::keyspace::Ks::Search).iter().keys().map(|k| k.unwrap()).collect();
        (keys.len(), keys.iter().map(|k| k[1]).max().unwrap_or(0))
    };
    assert_eq!(levels(&store).1, 0, "writes add chunks at level 0 only");
    let before_merging = contents(store.search(&query("au café")).unwrap());
    let mut steps = 0;
    while store.compact_words().unwrap() {
        steps += 1;
    }
    let (chunks, top) = levels(&store);
    assert!(steps > 0 && top >= 1, "{steps} merges, top level {top}");
    assert!(chunks < 64 * (FANOUT - 1) * usize::from(top + 1), "{chunks} chunks left");
    assert_eq!(contents(store.search(&query("au café")).unwrap()), before_merging);

    // Every word, accents and case folded; the query as typed first, then the words in order,
    // then the rest; newest first within each.
    assert_eq!(
        contents(store.search(&query("au café")).unwrap()),
        ["On se voit au café ce soir ?", "Oui! Au CAFE de la gare", "café? on y va, au revoir"]
    );
    assert_eq!(contents(store.search(&query("CAFE")).unwrap()).len(), 3);
    assert_eq!(contents(store.search(&query("爱")).unwrap()), ["我爱你"]);
    assert!(store.search(&query("caf")).unwrap().is_empty(), "whole words only");
    assert!(store.search(&query("au pizza")).unwrap().is_empty(), "every word");
    assert!(store.search(&query(" ?! ")).unwrap().is_empty());
    assert_eq!(store.search(&query("filler")).unwrap().len(), 50);
    // Before a time; one conversation; a limit.
    let before = Query { before: Some(t(2_000)), ..query("café") };
    assert_eq!(contents(store.search(&before).unwrap()), ["On se voit au café ce soir ?"]);
    let other = Query { conversation: Some(duet_model::ConversationId([9; 16])), ..query("café") };
    assert!(store.search(&other).unwrap().is_empty());
    assert_eq!(store.search(&Query { conversation: Some(direct), limit: 1, ..query("café") }).unwrap().len(), 1);

    // A deleted message is no result; an edit is found by its new words, not its old ones.
    let changes = vec![
        s.write(1, duet_log::Payload::Delete { message: deleted }, t(20_000)),
        s.write(0, duet_log::Payload::Edit { message: typo_id, content: "see you at the cinema".into() }, t(21_000)),
    ];
    let held = events.len();
    events.extend(changes);
    store.apply_remote(&s.open_all(&events)[held..]).unwrap();
    assert_eq!(contents(store.search(&query("pizza")).unwrap()), ["the pizza was great"]);
    assert_eq!(contents(store.search(&query("cinema")).unwrap()), ["see you at the cinema"]);
    assert!(store.search(&query("cinmea")).unwrap().is_empty());

    // A store of format 3 had no words index: take it away and say format 3; opening builds it.
    let search = store.inner.tree(crate::keyspace::Ks::Search);
    for key in search.iter().keys() {
        search.remove(key.unwrap()).unwrap();
    }
    store.inner.tree(crate::keyspace::Ks::Meta).insert(crate::keyspace::meta::SCHEMA, 3u32.to_be_bytes()).unwrap();
    assert!(store.search(&query("café")).unwrap().is_empty());
    store.flush().unwrap();
    drop(store);
    let store = Store::open(dir.path(), &test_key()).unwrap();
    assert_eq!(contents(store.search(&query("au café")).unwrap()).len(), 3);
    assert_eq!(contents(store.search(&query("cinema")).unwrap()), ["see you at the cinema"]);
    // Nothing readable on disk: no word, no id.
    for (_, bytes) in files_under(dir.path()) {
        assert!(!holds(&bytes, "cinema".as_bytes()) && !holds(&bytes, "filler".as_bytes()));
    }
}

#[test]
fn words_found_before_storing_are_the_words_storing_finds() {
    use crate::search::Query;
    use duet_log::Payload;
    // Ada has two devices; her second one edits and deletes her posts before they arrive.
    let mut s = TestSpace::new(11, &[2, 1]);
    let post = s.write(0, TestSpace::text("meet me at the old bakery"), t(1_000));
    let gone = s.write(0, TestSpace::text("a secret plan"), t(2_000));
    let other = s.write(2, TestSpace::text("the bakery closes at six"), t(3_000));
    let early = [
        s.write(
            1,
            Payload::Edit { message: TestSpace::message_id(&post), content: "meet me at the new library".into() },
            t(4_000),
        ),
        s.write(1, Payload::Delete { message: TestSpace::message_id(&gone) }, t(5_000)),
    ];
    let unrelated = s.write(2, TestSpace::text("nothing in common"), t(6_000));
    // Opened after the post before it (events open in log order).
    let unrelated = s.open_all(&[other.clone(), unrelated]).split_off(1);
    let later = [post, gone, other];
    let words = ["bakery", "library", "meet", "old", "new", "secret", "plan", "six"];
    let found = |store: &Store| -> Vec<Vec<String>> {
        let query = |text: &str| Query { text: text.into(), conversation: None, before: None, limit: 50 };
        words.iter().map(|w| store.search(&query(w)).unwrap().into_iter().map(|m| m.content).collect()).collect()
    };
    let mut results = Vec::new();
    // Words found while storing; found beforehand; found for another batch (only extras).
    for how in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let store = store_for(&s, dir.path());
        store.apply_remote(&s.open_all(&early)).unwrap();
        let batch = s.open_all(&later);
        match how {
            0 => store.apply_remote(&batch),
            1 => store.apply_remote_with_words(&batch, store.words_of(&batch).unwrap()),
            _ => store.apply_remote_with_words(&batch, store.words_of(&unrelated).unwrap()),
        }
        .unwrap();
        results.push(found(&store));
    }
    assert_eq!(results[1], results[0]);
    assert_eq!(results[2], results[0]);
    let expected: Vec<Vec<&str>> = vec![
        vec!["the bakery closes at six"],
        vec!["meet me at the new library"],
        vec!["meet me at the new library"],
        vec![],
        vec!["meet me at the new library"],
        vec![],
        vec![],
        vec!["the bakery closes at six"],
    ];
    assert_eq!(results[1], expected, "the edit that waited is found by its words, the deleted post not at all");
}

/// A batch that lets the partner in (`PartnerJoin`) or removes a device (`DeviceRevoke`)
/// changes who is in the space in the same write that stores it: a store reopened right
/// after holds both, as a node stopped between the two would otherwise lose the partner for
/// good. A removal by someone else's person changes nothing.
#[test]
fn membership_events_change_the_space_in_the_write_that_stores_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(9, &[2, 1]);
    let (ada, ada_phone, ben) = (s.devices[0].key.id(), s.devices[1].key.id(), s.devices[2].key.id());
    // Ada's two devices alone: Ben has not joined yet.
    let mut before_ben = duet_log::Membership::new(s.space, [s.persons[0].id()]);
    for d in &s.devices[..2] {
        before_ben.add_device(d.certificate.clone()).unwrap();
    }
    let join = s.write(0, Payload::PartnerJoin { certificate: s.devices[2].certificate.encode() }, t(1));
    let not_his = s.write(2, Payload::DeviceRevoke { device: ada, last_seq: 0 }, t(2));
    let lost_phone = s.write(0, Payload::DeviceRevoke { device: ada_phone, last_seq: 0 }, t(3));
    let opened = s.open_all(&[join, not_his, lost_phone]);
    {
        let store = Store::open(dir.path(), &test_key()).unwrap();
        store.save_space(&SpaceState { space: s.space, membership: before_ben }, &s.key).unwrap();
        store.apply_remote(&opened[..1]).unwrap();
        let space = store.space().unwrap().unwrap();
        assert!(space.membership.has_person(&s.persons[1].id()), "Ben is in as soon as his joining is stored");
        store.apply_remote(&opened[1..]).unwrap();
    }
    let membership = Store::open(dir.path(), &test_key()).unwrap().space().unwrap().unwrap().membership;
    assert!(membership.has_person(&s.persons[1].id()));
    assert!(membership.device(&ben).is_some_and(|d| d.last_seq.is_none()), "Ben's device is a member");
    assert!(membership.device(&ada).is_some_and(|d| d.last_seq.is_none()), "Ben cannot remove Ada's laptop");
    assert_eq!(membership.device(&ada_phone).and_then(|d| d.last_seq), Some(0), "Ada removed her phone");
}

/// A membership change that may be refused (a pairing request) is checked against the space
/// as stored and written in the same step: refused, nothing changes; accepted, it is kept, and
/// a revocation stored since the caller last read the space is not undone by it.
#[test]
fn a_refused_membership_change_writes_nothing_and_an_accepted_one_keeps_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TestSpace::new(10, &[2, 1]);
    let (ada_phone, ben) = (s.devices[1].key.id(), s.devices[2].key.id());
    let mut ada_alone = duet_log::Membership::new(s.space, [s.persons[0].id()]);
    for d in &s.devices[..2] {
        ada_alone.add_device(d.certificate.clone()).unwrap();
    }
    let lost_phone = s.write(0, Payload::DeviceRevoke { device: ada_phone, last_seq: 0 }, t(1));
    let opened = s.open_all(&[lost_phone]);
    {
        let store = Store::open(dir.path(), &test_key()).unwrap();
        store.save_space(&SpaceState { space: s.space, membership: ada_alone }, &s.key).unwrap();
        let refused = store.try_update_membership(|m| {
            m.add_person(s.persons[1].id());
            Err::<(), _>(StoreError::Corrupt("refused"))
        });
        assert!(matches!(refused, Err(StoreError::Corrupt("refused"))));
        assert!(!store.space().unwrap().unwrap().membership.has_person(&s.persons[1].id()), "nothing kept");
        // The phone is revoked after the space was read above, before Ben is let in.
        store.apply_remote(&opened).unwrap();
        let (state, answer) = store
            .try_update_membership(|m| {
                m.add_person(s.persons[1].id());
                m.add_device(s.devices[2].certificate.clone())
                    .map(|()| "in")
                    .map_err(|_| StoreError::Corrupt("refused"))
            })
            .unwrap()
            .unwrap();
        assert_eq!(answer, "in");
        assert!(state.membership.device(&ben).is_some());
    }
    let membership = Store::open(dir.path(), &test_key()).unwrap().space().unwrap().unwrap().membership;
    assert!(membership.device(&ben).is_some_and(|d| d.last_seq.is_none()), "Ben's device is kept");
    assert_eq!(membership.device(&ada_phone).and_then(|d| d.last_seq), Some(0), "the revocation too");
    assert!(Store::open(tempfile::tempdir().unwrap().path(), &test_key())
        .unwrap()
        .try_update_membership(|_| Ok::<_, StoreError>(()))
        .unwrap()
        .is_none());
}

/// Copies a folder as it is on disk now, as a machine that stops at this moment leaves it.
fn copy_as_on_disk(from: &std::path::Path, to: &std::path::Path) {
    for (path, bytes) in files_under(from) {
        let target = to.join(path.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

#[test]
fn a_write_that_does_not_flush_itself_is_on_disk_within_the_flush_period() {
    let (dir, copy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s = TestSpace::new(1, &[1]);
    let store = store_for(&s, dir.path());
    let person = s.persons[0].id();
    // `set_last_seen` leaves flushing to the store's flusher (sled's own thread is off).
    store.set_last_seen(&person, t(42)).unwrap();
    std::thread::sleep(crate::flusher::EVERY * 3);
    // Copied while the store is still open: only what was written to disk.
    copy_as_on_disk(dir.path(), copy.path());
    let copied = Store::open(copy.path(), &test_key()).unwrap();
    assert_eq!(copied.last_seen(&person).unwrap(), Some(t(42)));
    drop(store);
    // Closing the store stops its flusher and lets go of the database: it opens again at once.
    assert_eq!(Store::open(dir.path(), &test_key()).unwrap().last_seen(&person).unwrap(), Some(t(42)));
}
