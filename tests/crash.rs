//! The crash test (the store's atomicity, see `duet-store`'s crate docs): a child process
//! applies batches to a real sled store and reports each batch it has been told is stored;
//! the parent kills it with SIGKILL at random moments, many times, reopens the store, and
//! checks that every acknowledged batch is there whole and that no batch is there in part.
//!
//! The child is this same test binary, started with `DUET_CRASH_CHILD` set, running the
//! ignored test `crash_child`.
//!
//! A second scenario does the same to what is kept outside the event log: each round, the
//! space key and membership are replaced (one write) and an attachment arrives chunk by chunk
//! as a fetch stores it. After every kill the key and the membership are one round's, every
//! acknowledged attachment reads back whole, and none is marked complete that does not.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use duet_crypto::SpaceKey;
use duet_log::testkit::TestSpace;
use duet_log::{LogHead, Membership, Payload, SealedEvent, Verifier};
use duet_model::{BlobHash, PersonId, SpaceId, Target, Timestamp};
use duet_store::{BlobStore, SpaceState, Store};
use rand::{Rng, SeedableRng};

const BATCH: usize = 40;
const BATCHES: usize = 300;
const KILLS: usize = 40;

/// The events every run applies, batch after batch: posts, edits, reactions and receipts
/// from both people, so every tree is written.
fn scenario() -> (TestSpace, Vec<SealedEvent>) {
    let mut s = TestSpace::new(2026, &[1, 1]);
    let mut events = Vec::with_capacity(BATCH * BATCHES);
    let mut posts = Vec::new();
    for i in 0..BATCH * BATCHES {
        let d = i % 2;
        let now = Timestamp(1_700_000_000_000 + i as u64 * 1000);
        let payload = match i % 10 {
            3 if !posts.is_empty() => Payload::React { message: posts[i % posts.len()], emoji: "💛".into() },
            5 if !posts.is_empty() => {
                Payload::Edit { message: posts[(i / 2) % posts.len()], content: format!("edited {i}") }
            }
            7 => Payload::Delivered { held: vec![(s.devices[1 - d].key.id(), s.devices[1 - d].head.seq)] },
            9 if !posts.is_empty() => Payload::MarkRead { target: Target::Direct, up_to: *posts.last().unwrap() },
            _ => TestSpace::text(&format!("message number {i}")),
        };
        let post = matches!(payload, Payload::Post { .. });
        let e = s.write(d, payload, now);
        if post {
            posts.push(TestSpace::message_id(&e));
        }
        let l = e.lamport();
        s.observe(1 - d, l);
        events.push(e);
    }
    (s, events)
}

fn write_events(path: &Path, events: &[SealedEvent]) {
    let mut out = Vec::new();
    for e in events {
        e.encode_frame(&mut out);
    }
    std::fs::write(path, out).unwrap();
}

fn read_events(path: &Path) -> Vec<SealedEvent> {
    let bytes = std::fs::read(path).unwrap();
    let mut rest = bytes.as_slice();
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (e, r) = SealedEvent::decode_frame(rest).unwrap();
        out.push(e);
        rest = r;
    }
    out
}

/// How many whole batches the store holds; panics if it holds part of one.
fn whole_batches(store: &Store, events: &[SealedEvent]) -> usize {
    let vv = store.version_vector().unwrap();
    let stored: u64 = vv.iter().map(|(_, s)| *s).sum();
    assert_eq!(stored as usize % BATCH, 0, "a batch is in the store in part: {stored} events");
    let k = stored as usize / BATCH;
    // The stored events are exactly the first k batches.
    for (a, s) in vv.iter() {
        let expected = events[..k * BATCH].iter().filter(|e| e.author() == *a).count() as u64;
        assert_eq!(*s, expected, "author {a:?} holds {s} events, the first {k} batches have {expected}");
    }
    k
}

/// Runs the ignored test `child` of this binary as a child process on `dir` and returns the
/// lines it printed. With `kill = Some((acks, micros))` the child is SIGKILLed once it has
/// printed its first line and `acks` more, `micros` µs later.
fn run_child(child: &str, dir: &Path, kill: Option<(usize, u64)>) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut process = Command::new(&exe)
        .args(["--exact", child, "--ignored", "--nocapture", "--test-threads=1"])
        .env("DUET_CRASH_CHILD", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = process.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::sync_channel::<String>(1024);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait for the child to start writing.
    let mut seen: Vec<String> = rx.recv_timeout(Duration::from_secs(60)).into_iter().collect();
    if let Some((acks, micros)) = kill {
        for _ in 0..acks {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_micros(micros));
        // SAFETY: kill(2) with our own child's pid touches no memory of ours.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(process.id() as i32, libc::SIGKILL)
        };
    }
    process.wait().unwrap();
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    seen
}

#[test]
#[ignore = "run by `sigkill_at_random_moments_loses_no_acknowledged_batch` as its child"]
fn crash_child() {
    let Ok(dir) = std::env::var("DUET_CRASH_CHILD") else { return };
    let dir = PathBuf::from(dir);
    let events = read_events(&dir.join("events.bin"));
    let store = Store::open(&dir.join("store"), &data_key()).unwrap();
    let state = store.space().unwrap().expect("the parent saved the space");
    let keys = duet_log::Keyring::new(store.space_key().unwrap().expect("the parent saved the key"));
    let verifier = Verifier {
        space: state.space,
        membership: &state.membership,
        keys: Some(&keys),
        max_lamport: store.max_lamport().unwrap(),
    };
    let start = whole_batches(&store, &events);
    let mut stdout = std::io::stdout();
    for b in start..BATCHES {
        let batch = events[b * BATCH..(b + 1) * BATCH].to_vec();
        let outcome = verifier.verify_batch(
            |a| store.head(a).unwrap_or(LogHead::EMPTY),
            |a, s| store.event_hash(&state.space, a, s).ok().flatten(),
            batch,
        );
        assert!(outcome.rejected.is_none(), "{:?}", outcome.rejected);
        store.apply_remote(&outcome.accepted).unwrap();
        writeln!(stdout, "ACK {b}").unwrap();
        stdout.flush().unwrap();
    }
    writeln!(stdout, "DONE").unwrap();
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (s, events) = scenario();
    write_events(&dir.path().join("events.bin"), &events);
    {
        let store = Store::open(&dir.path().join("store"), &data_key()).unwrap();
        store.save_space(&SpaceState { space: s.space, membership: s.membership.clone() }, &s.key).unwrap();
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut acked: Option<usize> = None;
    let mut kills = 0;
    let mut finished = false;
    for run in 0..KILLS * 3 {
        // Let it acknowledge a random few more batches (counted, not timed, so a faster store
        // does not finish before enough kills), then kill it a random fraction of a batch later.
        let kill = (run < KILLS * 3 - 1 && kills < KILLS).then(|| (rng.gen_range(0..8), rng.gen_range(0..3000)));
        let killed = kill.is_some();
        kills += usize::from(killed);
        for line in run_child("crash_child", dir.path(), kill) {
            if let Some(b) = line.strip_prefix("ACK ") {
                let b: usize = b.parse().unwrap();
                acked = Some(acked.map_or(b, |a| a.max(b)));
            }
            if line == "DONE" {
                finished = true;
            }
        }
        // After every kill: reopen, and every acknowledged batch is there, none in part.
        let store = Store::open(&dir.path().join("store"), &data_key()).unwrap();
        let whole = whole_batches(&store, &events);
        if let Some(a) = acked {
            assert!(whole > a, "batch {a} was acknowledged but the store holds only {whole} batches");
        }
        let conv = Target::Direct.conversation(s.space);
        let posts_stored = events[..whole * BATCH]
            .iter()
            .filter(|e| matches!(e.open(&s.space, &s.key), Ok(Payload::Post { .. })))
            .count();
        assert_eq!(store.messages(&conv, None, usize::MAX).unwrap().messages.len(), posts_stored);
        drop(store);
        if finished || (!killed && whole == BATCHES) {
            break;
        }
    }
    assert!(kills >= KILLS / 2, "only {kills} kills happened");
    assert!(finished, "the last run should finish the scenario");
}

/// Rounds of the attachments-and-keys scenario.
const ROUNDS: u8 = 40;

/// Round `r`'s space: a space id and a key that both say `r`, so a store holding one round's
/// key with another's membership is seen.
fn round_space(r: u8) -> (SpaceState, SpaceKey) {
    let space = SpaceId([r; 16]);
    (SpaceState { space, membership: Membership::new(space, [PersonId([r; 32])]) }, SpaceKey::from_bytes([r; 32]))
}

/// Round `r`'s attachment: two full chunks and a part, different each round.
fn round_content(r: u8) -> Vec<u8> {
    (0..2 * duet_blob::CHUNK_SIZE as usize + 1000 * usize::from(r) + 1)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(r))
        .collect()
}

/// The key every round's attachment is sealed with.
fn blob_key() -> SpaceKey {
    SpaceKey::from_bytes([0xB0; 32])
}

/// The data key these stores are sealed with (the parent and its children share it).
fn data_key() -> duet_crypto::DataKey {
    duet_crypto::DataKey::from_bytes([9; 32])
}

fn blob_store(store: &Store, dir: &Path) -> BlobStore {
    store.blobs(&dir.join("blobs")).unwrap()
}

#[test]
#[ignore = "run by `sigkill_while_keeping_attachments_and_keys_loses_nothing_acknowledged` as its child"]
fn crash_child_attachments() {
    let Ok(dir) = std::env::var("DUET_CRASH_CHILD") else { return };
    let dir = PathBuf::from(dir);
    let store = Store::open(&dir.join("store"), &data_key()).unwrap();
    let blobs = blob_store(&store, &dir);
    // Where this device's partner holds each attachment, sealed: a fresh store each run.
    let elsewhere_dir = dir.join("elsewhere");
    let _ = std::fs::remove_dir_all(&elsewhere_dir);
    let elsewhere_store = Store::open(&elsewhere_dir.join("store"), &data_key()).unwrap();
    let elsewhere = blob_store(&elsewhere_store, &elsewhere_dir);
    let mut stdout = std::io::stdout();
    writeln!(stdout, "START").unwrap();
    stdout.flush().unwrap();
    for r in 0..ROUNDS {
        let record = elsewhere.import_bytes(&blob_key(), &round_content(r), Timestamp(1)).unwrap();
        if blobs.is_complete(&record.hash).unwrap() {
            continue;
        }
        // The space changes (a rotation, a relink): key and membership in one write.
        let (state, key) = round_space(r);
        store.save_space(&state, &key).unwrap();
        // The attachment arrives chunk by chunk, as a fetch stores it.
        blobs.want(&record.hash, record.manifest.size()).unwrap();
        blobs.begin(&record.manifest, Timestamp(2)).unwrap();
        for index in 0..record.manifest.chunks() {
            let sealed = elsewhere.read_sealed(&record.hash, index, &record.manifest).unwrap().unwrap();
            blobs.store_chunk(&record.hash, index, &sealed).unwrap();
        }
        assert!(blobs.finish(&record.hash).unwrap(), "every chunk was stored");
        writeln!(stdout, "ACK {r}").unwrap();
        stdout.flush().unwrap();
    }
    writeln!(stdout, "DONE").unwrap();
}

#[test]
fn sigkill_while_keeping_attachments_and_keys_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    // What each round's attachment is, worked out here as the child will.
    let hashes: Vec<BlobHash> = {
        let scratch = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.path().join("store"), &data_key()).unwrap();
        let blobs = blob_store(&store, scratch.path());
        (0..ROUNDS).map(|r| blobs.import_bytes(&blob_key(), &round_content(r), Timestamp(1)).unwrap().hash).collect()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut acked: Option<u8> = None;
    let mut finished = false;
    let mut kills = 0;
    for run in 0..60 {
        let kill = (run < 59 && kills < 20).then(|| (rng.gen_range(0..4), rng.gen_range(0..20_000)));
        kills += usize::from(kill.is_some());
        for line in run_child("crash_child_attachments", dir.path(), kill) {
            if let Some(r) = line.strip_prefix("ACK ") {
                let r: u8 = r.parse().unwrap();
                acked = Some(acked.map_or(r, |a| a.max(r)));
            }
            finished |= line == "DONE";
        }
        let store = Store::open(&dir.path().join("store"), &data_key()).unwrap();
        // The space key and the membership are one round's, whichever round it was.
        if let Some(state) = store.space().unwrap() {
            let key = store.space_key().unwrap().expect("a space without its key");
            let r = state.space.0[0];
            assert_eq!(state.space, round_space(r).0.space);
            assert_eq!(key.to_bytes()[..], round_space(r).1.to_bytes()[..], "round {r}'s space with another's key");
        }
        // Every acknowledged attachment is whole, and so is every one marked complete.
        let blobs = blob_store(&store, dir.path());
        for (r, hash) in hashes.iter().enumerate() {
            let complete = blobs.is_complete(hash).unwrap();
            if acked.is_some_and(|a| r <= usize::from(a)) {
                assert!(complete, "attachment {r} was acknowledged but is not held whole");
            }
            if complete {
                let content = blobs.read(&blob_key(), hash).unwrap();
                assert!(content == round_content(r as u8), "attachment {r} is marked complete but reads back wrong");
            }
        }
        drop((blobs, store));
        if finished {
            break;
        }
    }
    assert!(kills >= 10, "only {kills} kills happened");
    assert!(finished, "the last run should finish the scenario");
}
