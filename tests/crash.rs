//! The crash test (the store's atomicity, see `duet-store`'s crate docs): a child process
//! applies batches to a real sled store and reports each batch it has been told is stored;
//! the parent kills it with SIGKILL at random moments, many times, reopens the store, and
//! checks that every acknowledged batch is there whole and that no batch is there in part.
//!
//! The child is this same test binary, started with `DUET_CRASH_CHILD` set, running the
//! ignored test `crash_child`.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use duet_log::testkit::TestSpace;
use duet_log::{LogHead, Payload, SealedEvent, Verifier};
use duet_model::{Target, Timestamp};
use duet_store::{SpaceState, Store};
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

#[test]
#[ignore = "run by `sigkill_at_random_moments_loses_no_acknowledged_batch` as its child"]
fn crash_child() {
    let Ok(dir) = std::env::var("DUET_CRASH_CHILD") else { return };
    let dir = PathBuf::from(dir);
    let events = read_events(&dir.join("events.bin"));
    let store = Store::open(&dir.join("store")).unwrap();
    let state = store.space().unwrap().expect("the parent saved the space");
    let keys = duet_log::Keyring::new(store.space_key().unwrap().expect("the parent saved the key"));
    let verifier = Verifier {
        space: state.space,
        membership: &state.membership,
        keys: &keys,
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
        let store = Store::open(&dir.path().join("store")).unwrap();
        store.save_space(&SpaceState { space: s.space, membership: s.membership.clone() }, &s.key).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut acked: Option<usize> = None;
    let mut kills = 0;
    let mut finished = false;
    for run in 0..KILLS * 3 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("DUET_CRASH_CHILD", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(BATCHES + 8);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the child to start writing, let it acknowledge a random few more batches
        // (counted, not timed, so a faster store does not finish before enough kills), then
        // kill it a random fraction of a batch later.
        let mut seen: Vec<String> = rx.recv_timeout(Duration::from_secs(60)).into_iter().collect();
        let killed = if run < KILLS * 3 - 1 && kills < KILLS {
            for _ in 0..rng.gen_range(0..8) {
                match rx.recv_timeout(Duration::from_secs(60)) {
                    Ok(line) => seen.push(line),
                    Err(_) => break,
                }
            }
            std::thread::sleep(Duration::from_micros(rng.gen_range(0..3000)));
            // SAFETY: kill(2) with our own child's pid touches no memory of ours.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(child.id() as i32, libc::SIGKILL)
            };
            kills += 1;
            true
        } else {
            false
        };
        child.wait().unwrap();
        reader.join().unwrap();
        for line in seen.into_iter().chain(rx.try_iter()) {
            if let Some(b) = line.strip_prefix("ACK ") {
                let b: usize = b.parse().unwrap();
                acked = Some(acked.map_or(b, |a| a.max(b)));
            }
            if line == "DONE" {
                finished = true;
            }
        }
        // After every kill: reopen, and every acknowledged batch is there, none in part.
        let store = Store::open(&dir.path().join("store")).unwrap();
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
