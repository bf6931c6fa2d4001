//! The sync harness: how fast a backlog reaches a partner who was offline, and how long a
//! message takes to reach a connected partner, each next to its floor.
//!
//! ```text
//! cargo bench -p duet-tests --bench sync                              # 100,000 messages
//! DUET_BENCH_MESSAGES=10000 DUET_BENCH_ROUNDS=1 cargo bench -p duet-tests --bench sync  # a quick run
//! ```
//!
//! (a) Backlog: Ben's node is stopped while Ada writes N messages (the first 2,000 with
//!     `Node::send`, whose rate is printed; the rest sealed with her keys straight into her
//!     store, see `seal_into_store`); then Ben starts and the time until his store holds all
//!     of them is measured, with the bytes of the sync frames that carried them. Five rounds
//!     (`DUET_BENCH_ROUNDS`), each from the same two stores put back as they were, each
//!     followed by Automerge's whole-document sync of the same messages (e), so that the two
//!     are compared in the same minute; the medians are printed.
//! (b) Floor: a raw TCP copy of the same number of bytes on loopback.
//! (c) Floors: ed25519 batch verification of the same N signatures alone (batches of 1,000,
//!     as sync sends them: what checking every signature costs), BLAKE3 of the same N events
//!     (the hash-chain floor: a receiver checks one signature per author run and the links),
//!     and the full check a receiver makes (`Verifier::verify_batch`: order, links, signatures,
//!     decryption, payload validation).
//! (d) Latency: `send` at Ada → `MessageNew` at Ben, one message at a time (N / 10 of them,
//!     at most 10,000) between two new nodes, p50 / p99; and 100 more right after the
//!     backlog, in the same stores.
//!
//! (e) The peer to beat: Automerge with the same N messages, its whole-document sync (save,
//!     TCP on loopback, load) and its change-by-change sync protocol (`automerge_peer.rs`),
//!     next to Duet's backlog from (a).
//!
//! Figures only: nothing here asserts on time. Targets: backlog of 100,000 in ≤ 0.8 s and
//! faster than Automerge's whole-document sync, p99 latency ≤ 10 ms.

mod automerge_peer;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use duet_log::sync::{MAX_BATCH_BYTES, MAX_BATCH_EVENTS};
use duet_log::{LogHead, NextEvent, OpenedEvent, Payload, SealedEvent, SyncMessage, Verifier};
use duet_model::{DeviceId, InviteKind, MessageId, MessageType, Target, Timestamp};
use duet_node::NodeEvent;
use duet_tests::{eventually, pair, TestNode};
use tokio::sync::mpsc;

fn main() {
    let number = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let messages = number("DUET_BENCH_MESSAGES", 100_000);
    let rounds = number("DUET_BENCH_ROUNDS", 5).max(1);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(run(messages, rounds));
}

async fn run(n: usize, rounds: usize) {
    println!("duet sync bench: {n} messages, {} cores", std::thread::available_parallelism().map_or(1, |c| c.get()));
    let mut ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let ada_device = ada.node.device_id();
    settle(&ada, &ben).await;

    // ----- (a) the backlog -----
    ben.stop().await;
    let held_before = ada.node.store().head(&ada_device).expect("head").seq;
    let by_send = n.min(SENT_BY_NODE);
    let started = Instant::now();
    for i in 0..by_send {
        ada.node.send(Target::Direct, &text(i), None).await.expect("send");
    }
    let wrote = started.elapsed();
    println!(
        "(a) Ada writes {by_send} messages with Node::send while Ben is offline: {:.2} s ({:.0} messages/s)",
        wrote.as_secs_f64(),
        by_send as f64 / wrote.as_secs_f64()
    );
    // She comes back on the same TCP address each round, so Ben finds her as he would have
    // (her QUIC port may still be held by the closing endpoint; TCP's is free again).
    let tcp: Vec<_> = ada
        .node
        .listen_addrs()
        .await
        .expect("addresses")
        .into_iter()
        .filter(|a| a.to_string().contains("/tcp/"))
        .collect();
    let listen = move |mut c: duet_node::NodeConfig| {
        c.listen = tcp.clone();
        c.listen.push("/ip4/127.0.0.1/udp/0/quic-v1".parse().expect("valid"));
        c
    };
    ada.stop().await;
    if n > by_send {
        // Node::send commits and flushes each message (about 3 ms here): 100,000 would take
        // minutes. The rest are sealed and signed with Ada's keys exactly as Node::send does,
        // and stored in her store by the same apply, 1,000 per commit.
        let started = Instant::now();
        seal_into_store(&ada, by_send..n);
        println!(
            "    the other {} sealed with Ada's keys into her store, 1,000 per commit: {:.2} s",
            n - by_send,
            started.elapsed().as_secs_f64()
        );
    }
    // Each round starts from the same two stores (Ben's receipts from the round before would
    // otherwise be a fork of his log once his store was put back), with Automerge's
    // whole-document sync of the same messages right after it: on a shared machine the pace
    // moves by ±15% from minute to minute, so the two are compared round by round.
    let before = [Snapshot::take(&ada.dir), Snapshot::take(&ben.dir)];
    let peer = automerge_peer::Peer::build(n, text);
    let mut measured = Vec::with_capacity(rounds);
    for i in 0..rounds {
        if i > 0 {
            ada.stop().await;
            ben.stop().await;
            before[0].put_back(&ada.dir);
            before[1].put_back(&ben.dir);
        }
        ada.restart(listen.clone()).await;
        let target = ada.node.store().head(&ada_device).expect("head").seq;
        assert_eq!(target - held_before, n as u64, "Ada holds the whole backlog");
        let backlog = backlog(&mut ben, ada_device, held_before, target).await;
        let round = Round { backlog, whole: peer.whole_document().await };
        let Round { backlog, whole } = &round;
        println!(
            "    round {}: Ben starts (store open, listening) {:.3} s, first batch stored {:.3} s, all {n} {:.3} s \
             after the start began: {:.3} s after he listened; CPU of both nodes {:.3} s ({:.2} cores) | \
             Automerge's whole document {:.3} s → {:.2}×",
            i + 1,
            backlog.listening.as_secs_f64(),
            backlog.first.as_secs_f64(),
            backlog.all.as_secs_f64(),
            backlog.after_listening().as_secs_f64(),
            backlog.cpu.as_secs_f64(),
            backlog.cpu.as_secs_f64() / backlog.all.as_secs_f64(),
            whole.total().as_secs_f64(),
            round.ratio()
        );
        measured.push(round);
    }
    let sync_only = median(measured.iter().map(|r| r.backlog.after_listening()));
    let ratio = median(measured.iter().map(Round::ratio));
    println!(
        "    median of {rounds}: Ben holds all {n} {:.3} s after he listened ({:.0} events/s); CPU of both nodes \
         {:.3} s (one process: Ada reading and sending, Ben receiving, checking, storing)",
        sync_only.as_secs_f64(),
        n as f64 / sync_only.as_secs_f64(),
        median(measured.iter().map(|r| r.backlog.cpu)).as_secs_f64()
    );
    let backlog = ada.node.store().events_from(&ada_device, held_before + 1, n).expect("events");
    let wire = sync_frame_bytes(ada_device, &backlog);
    println!(
        "    sync frames Ada → Ben: {:.1} MB ({} bytes: event bodies as stored + batch framing + acks; \
         libp2p's Noise/Yamux/TCP overhead not counted), {:.0} bytes/event",
        wire as f64 / 1e6,
        wire,
        wire as f64 / n as f64
    );

    // ----- (b) raw TCP floor -----
    let tcp = duet_tests::raw_tcp_copy(wire).await;
    println!(
        "(b) raw TCP copy of the same {wire} bytes on loopback: {:.2} ms  → sync takes {:.0}× the copy",
        ms(tcp),
        sync_only.as_secs_f64() / tcp.as_secs_f64()
    );

    // ----- (c) verification floors -----
    let (signatures, hashes, full) = verification(&ada, &backlog);
    println!(
        "(c) ed25519 batch verification of the same {n} signatures (batches of {MAX_BATCH_EVENTS}, one thread): {:.3} s \
         (what checking every signature would cost)",
        signatures.as_secs_f64()
    );
    println!("    the hash-chain floor: BLAKE3 of the same {n} events (one thread): {:.3} s", hashes.as_secs_f64());
    println!(
        "    full receiver check (Verifier::verify_batch: order, links, one signature per author run, decrypt, \
         validate): {:.3} s  → sync takes {:.1}× the hash-chain floor",
        full.as_secs_f64(),
        sync_only.as_secs_f64() / hashes.as_secs_f64()
    );

    // ----- (d) latency -----
    // Right after the backlog, a few: every message then lands in the same time bucket as
    // the 100,000 before it, whose index the store rewrites on each write.
    settle(&ada, &ben).await;
    let after_backlog = latency(&ada, &ben, AFTER_BACKLOG).await;
    ada.node.shutdown().await;
    ben.node.shutdown().await;
    // The figure that counts: a couple whose stores hold an ordinary day.
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    settle(&ada, &ben).await;
    let count = (n / 10).clamp(100, 10_000);
    let fresh = latency(&ada, &ben, count).await;
    println!("(d) send at Ada → MessageNew at Ben, one message at a time:");
    println!("    {count} messages, a new pair:            {}", percentiles(fresh));
    println!("    {AFTER_BACKLOG} messages, right after the backlog: {}", percentiles(after_backlog));
    ada.node.shutdown().await;
    ben.node.shutdown().await;

    // ----- (e) the peer to beat -----
    let whole = median(measured.iter().map(|r| r.whole.total()));
    let load = median(measured.iter().map(|r| r.whole.load));
    let changes = peer.change_by_change();
    println!(
        "(e) Automerge {AUTOMERGE_VERSION}, the same {n} messages (one change each; built in {:.2} s, not timed below; \
         it neither signs nor encrypts):",
        peer.build.as_secs_f64()
    );
    println!(
        "    whole-document sync, median of the {rounds} rounds in (a): {:.3} s (save + TCP ({:.1} MB) + load; \
         the load alone {:.3} s)",
        whole.as_secs_f64(),
        measured[0].whole.saved_bytes as f64 / 1e6,
        load.as_secs_f64()
    );
    println!(
        "    change-by-change sync protocol (in one process, no network): {:.3} s, {} messages, {:.1} MB",
        changes.time.as_secs_f64(),
        changes.rounds,
        changes.bytes as f64 / 1e6
    );
    println!(
        "    Duet's backlog (a), signed and sealed: {:.3} s  → {:.2}× Automerge's whole-document sync \
         (median of the rounds' ratios)",
        sync_only.as_secs_f64(),
        ratio
    );
    println!("targets: backlog of 100,000 ≤ 0.8 s and under Automerge's whole-document sync; p99 latency ≤ 10 ms");
}

/// The Automerge release the peer runs (tests/Cargo.toml).
const AUTOMERGE_VERSION: &str = "0.12";

/// Latency samples taken right after the backlog.
const AFTER_BACKLOG: usize = 100;

fn percentiles(mut latencies: Vec<Duration>) -> String {
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(1.0))
    )
}

/// The middle value (the upper of the two middle ones for an even count).
fn median<T: Copy + PartialOrd>(values: impl Iterator<Item = T>) -> T {
    let mut values: Vec<T> = values.collect();
    values.sort_by(|a, b| a.partial_cmp(b).expect("figures compare"));
    values[values.len() / 2]
}

/// One round of (a): Duet's backlog and Automerge's whole document right after it.
struct Round {
    backlog: Backlog,
    whole: automerge_peer::WholeDocument,
}

impl Round {
    /// Duet's time over Automerge's, within the round.
    fn ratio(&self) -> f64 {
        self.backlog.after_listening().as_secs_f64() / self.whole.total().as_secs_f64()
    }
}

/// One backlog: Ben's start, and how long until his store holds Ada's log up to `target`.
struct Backlog {
    /// From the start to his node listening (his store opened).
    listening: Duration,
    /// From the start to the first of the backlog stored.
    first: Duration,
    /// From the start to all of it stored.
    all: Duration,
    /// The CPU time of the whole process (both nodes) meanwhile.
    cpu: Duration,
}

impl Backlog {
    fn after_listening(&self) -> Duration {
        self.all - self.listening
    }
}

async fn backlog(ben: &mut TestNode, ada_device: DeviceId, held_before: u64, target: u64) -> Backlog {
    let restart = Instant::now();
    let cpu_before = process_cpu();
    ben.restart(|c| c).await;
    let listening = restart.elapsed();
    let mut first = None;
    loop {
        let held = ben.node.store().head(&ada_device).expect("head").seq;
        if held > held_before && first.is_none() {
            first = Some(restart.elapsed());
        }
        if held >= target {
            break;
        }
        assert!(restart.elapsed() < Duration::from_secs(600), "the backlog did not arrive in 10 minutes");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let all = restart.elapsed();
    Backlog { listening, first: first.unwrap_or(all), all, cpu: process_cpu() - cpu_before }
}

/// A stopped node's data directory, copied aside to be put back before each round.
struct Snapshot(tempfile::TempDir);

impl Snapshot {
    fn take(dir: &std::path::Path) -> Self {
        let copy = tempfile::tempdir().expect("a temp dir");
        copy_dir(dir, copy.path());
        Self(copy)
    }

    fn put_back(&self, dir: &std::path::Path) {
        std::fs::remove_dir_all(dir).expect("remove the data directory");
        std::fs::create_dir_all(dir).expect("make the data directory");
        copy_dir(self.0.path(), dir);
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read a directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            std::fs::create_dir_all(&target).expect("make a directory");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Backlog messages written through `Node::send`; the rest are sealed straight into the store.
const SENT_BY_NODE: usize = 2_000;

/// Seals messages `range` as the stopped node's next events, as `Node::send` would (same
/// payload, sealing, signing and store apply), committing 1,000 at a time.
fn seal_into_store(node: &TestNode, range: std::ops::Range<usize>) {
    let store = duet_tests::open_store(&node.dir).expect("the store");
    let identity = store.identity().expect("keys").expect("keys");
    let person = identity.person_id().expect("a person");
    let space = store.space().expect("space").expect("a space").space;
    let keys = duet_log::Keyring::new(store.space_key().expect("key").expect("a key"));
    let mut head = store.head(&identity.device_id()).expect("head");
    let mut max_lamport = store.max_lamport().expect("lamport");
    let mut batch = Vec::with_capacity(1000);
    for i in range {
        let now = Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64);
        let next = NextEvent { space, device: &identity.device, keys: &keys, head, max_lamport, now };
        let post = Payload::Post {
            target: Target::Direct,
            message_type: MessageType::Text,
            content: text(i),
            reply_to: None,
            attachments: vec![],
        };
        let (event, payload) = next.seal(post, &mut rand::rngs::OsRng).expect("a valid message");
        head = LogHead::after(&event, &space);
        max_lamport = event.lamport();
        batch.push(OpenedEvent { hash: head.hash, person, payload, event });
        if batch.len() == 1000 {
            store.apply_remote(&batch).expect("stored");
            batch.clear();
        }
    }
    store.apply_remote(&batch).expect("stored");
    store.flush().expect("flushed");
}

fn text(i: usize) -> String {
    format!("message {i}: the quick brown fox jumps over the lazy dog, twice, to make it a realistic line")
}

/// The CPU time this process has used so far, on all its threads.
#[allow(unsafe_code)]
fn process_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID is always available
    // on Linux and only reads this process's clock.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0, "clock_gettime");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Waits until both hold the same events (receipts included) and are connected.
async fn settle(ada: &TestNode, ben: &TestNode) {
    eventually("Ada and Ben hold the same events", || async {
        let same = ada.node.store().version_vector().ok()? == ben.node.store().version_vector().ok()?;
        let connected = ada.node.connected().await.ok()?.contains(&ben.node.device_id());
        (same && connected).then_some(())
    })
    .await;
}

/// The bytes of the sync frames that carry `events` (batched as the pusher batches them),
/// and one ack per batch: each frame is a 4-byte length and the encoded message.
fn sync_frame_bytes(author: DeviceId, events: &[SealedEvent]) -> usize {
    let ack = 4 + SyncMessage::Ack.encode().len();
    batches(events).map(|b| 4 + batch_message(author, b).encode().len() + ack).sum()
}

fn batch_message(author: DeviceId, events: &[SealedEvent]) -> SyncMessage {
    SyncMessage::Batch {
        author,
        first_seq: events[0].seq(),
        bodies: events.iter().map(|e| e.body().to_vec()).collect(),
    }
}

/// Splits events as the pusher does: at most `MAX_BATCH_EVENTS` and `MAX_BATCH_BYTES` of
/// bodies per batch.
fn batches(events: &[SealedEvent]) -> impl Iterator<Item = &[SealedEvent]> {
    let mut rest = events;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut take = 0;
        for e in rest.iter().take(MAX_BATCH_EVENTS) {
            bytes += e.body().len();
            if bytes > MAX_BATCH_BYTES && take > 0 {
                break;
            }
            take += 1;
        }
        let (batch, tail) = rest.split_at(take);
        rest = tail;
        Some(batch)
    })
}

/// (every signature alone, every event's hash alone, the full receiver check) over `events`,
/// in sync-sized batches.
fn verification(ada: &TestNode, events: &[SealedEvent]) -> (Duration, Duration, Duration) {
    let store = ada.node.store();
    let state = store.space().expect("space").expect("a space");
    let keyring = duet_log::Keyring::new(store.space_key().expect("key").expect("a key"));
    let space = state.space;

    let digests: Vec<[u8; 32]> = events.iter().map(|e| e.signing_digest(&space)).collect();
    let keys: Vec<[u8; 32]> = events.iter().map(|e| e.author().0).collect();
    let sigs: Vec<[u8; 64]> = events.iter().map(|e| e.signature()).collect();
    let items: Vec<(&[u8; 32], &[u8], &[u8; 64])> =
        (0..events.len()).map(|i| (&keys[i], digests[i].as_slice(), &sigs[i])).collect();
    let started = Instant::now();
    for chunk in items.chunks(MAX_BATCH_EVENTS) {
        duet_crypto::verify_batch(chunk).expect("valid signatures");
    }
    let signatures = started.elapsed();
    let started = Instant::now();
    for e in events {
        std::hint::black_box(e.hash(&space));
    }
    let hashes = started.elapsed();

    let max_lamport = store.max_lamport().expect("the clock");
    let verifier = Verifier { space, membership: &state.membership, keys: Some(&keyring), max_lamport };
    let first = events.first().map_or(1, |e| e.seq());
    let mut head = if first > 1 {
        LogHead::after(&store.event(&events[0].author(), first - 1).expect("event").expect("held"), &space)
    } else {
        LogHead::EMPTY
    };
    let batches: Vec<Vec<SealedEvent>> = batches(events).map(|b| b.to_vec()).collect();
    let started = Instant::now();
    for batch in batches {
        let outcome = verifier.verify_batch(|_| head, |_, _| None, batch);
        assert!(outcome.rejected.is_none(), "{:?}", outcome.rejected);
        if let Some(last) = outcome.accepted.last() {
            head = LogHead::after(&last.event, &space);
        }
    }
    (signatures, hashes, started.elapsed())
}

/// Sends `count` messages one at a time; for each, the time from `send` until Ben's node
/// announces it.
async fn latency(ada: &TestNode, ben: &TestNode, count: usize) -> Vec<Duration> {
    let (arrived_tx, mut arrived) = mpsc::channel::<(MessageId, Instant)>(1024);
    let mut events = ben.node.subscribe();
    let watcher = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let NodeEvent::MessageNew { message } = event {
                if arrived_tx.send((message.id, Instant::now())).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let sent_at = Instant::now();
        let sent = ada.node.send(Target::Direct, &text(i), None).await.expect("send");
        let at = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match arrived.recv().await {
                    Some((id, at)) if id == sent.id => return at,
                    Some(_) => {}
                    None => panic!("Ben's events ended"),
                }
            }
        })
        .await
        .expect("the message arrives within a minute");
        out.push(at - sent_at);
    }
    watcher.abort();
    out
}
