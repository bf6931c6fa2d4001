//! Event costs (the foundation issue's targets, measured on a 2-core machine).
//!
//! - `event/seal_sign_100_chars`: validate, encode, seal (XChaCha20-Poly1305) and sign (ed25519)
//!   one 100-character text post with [`NextEvent::seal`] and a fixed `StdRng`.
//! - `event/verify_open_one`: [`Verifier::verify`] of that event against [`LogHead::EMPTY`]:
//!   structural checks, one ed25519 signature, decryption and payload validation.
//! - `event/verify_batch_1000`: [`Verifier::verify_batch`] of 1,000 such posts written in order
//!   by two authors (ed25519 batch verification, then opening each). Its throughput is the
//!   ceiling for sync on one core; the end-to-end target (verify + open + store ≥ 50,000
//!   events/s) is measured by `crates/duet-store/benches/store.rs`.
//! - `event/verify_batch_1000_parts/*`: the parts of that batch check, to see where its time
//!   goes: BLAKE3 event hashes, `duet_crypto::verify_batch`, ed25519-dalek's batch alone with
//!   keys parsed beforehand, the per-item point decompressions `duet_crypto` adds, and opening.
//!
//! Printed once, outside timing: the encoded body of one 100-character text post and its
//! overhead beyond the 100 characters (target ≤ 160 bytes), and its standalone frame
//! ([`SealedEvent::encode_frame`]).
//!
//! Times are the benchmarking thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall-clock
//! time: these benches are single-threaded, so on an idle machine the two agree, and on a
//! shared one (others compiling) CPU time is not inflated by waiting for a core.
//!
//! Run: `cargo bench -p duet-log --features testkit --bench events` (the bench needs the
//! `testkit` feature; a crate cannot dev-depend on itself with it).

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use duet_crypto::Hash;
use duet_log::testkit::TestSpace;
use duet_log::{LogHead, NextEvent, SealedEvent};
use duet_model::Timestamp;
use ed25519_dalek::{Signature, VerifyingKey};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The size the targets are stated for.
const TEXT_CHARS: usize = 100;
/// The overhead target for a 100-character text post, in bytes.
const OVERHEAD_TARGET: usize = 160;
const BATCH: usize = 1_000;

/// A 100-character (and 100-byte) message text.
fn text() -> String {
    let text: String =
        "Dinner at eight? I'll bring the wine, you pick the film. ".chars().cycle().take(TEXT_CHARS).collect();
    assert_eq!(text.chars().count(), TEXT_CHARS);
    text
}

/// A realistic clock (late 2023), not zero: the timestamp varint has its real size.
fn at(i: u64) -> Timestamp {
    Timestamp(1_700_000_000_000 + i * 1_500)
}

/// `n` posts alternating in runs between the space's two authors, each author's in log order.
fn conversation(space: &mut TestSpace, n: usize) -> Vec<SealedEvent> {
    let text = text();
    (0..n)
        .map(|i| {
            let d = (i / 3) % 2;
            let event = space.write(d, TestSpace::text(&text), at(i as u64));
            // The other device sees it, as in a live chat (Lamport clocks interleave).
            space.observe(1 - d, event.lamport());
            event
        })
        .collect()
}

fn print_sizes(event: &SealedEvent) {
    let body = event.body().len();
    let overhead = body - TEXT_CHARS;
    let mut frame = Vec::new();
    event.encode_frame(&mut frame);
    let verdict = if overhead <= OVERHEAD_TARGET { "meets" } else { "MISSES" };
    println!(
        "event size: a {TEXT_CHARS}-character text post is a {body}-byte body: {overhead} bytes over the text \
         ({verdict} the ≤ {OVERHEAD_TARGET}-byte target); its standalone frame (author, seq, length, body) is {} bytes",
        frame.len()
    );
}

fn bench_events(c: &mut Criterion<ThreadCpu>) {
    let mut space = TestSpace::new(7, &[1, 1]);
    let text = text();
    let first = space.write(0, TestSpace::text(&text), at(0));
    print_sizes(&first);

    let mut group = c.benchmark_group("event");

    // Seal + sign: always device 0's first event, so every iteration does the same work.
    let device = &space.devices[0];
    let next = NextEvent {
        space: space.space,
        device: &device.key,
        keys: &space.keyring,
        head: LogHead::EMPTY,
        max_lamport: 0,
        now: at(0),
    };
    let mut rng = StdRng::seed_from_u64(42);
    let payload = TestSpace::text(&text);
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal_sign_100_chars", |b| {
        b.iter_batched(
            || payload.clone(),
            |payload| next.seal(payload, &mut rng).expect("a valid post"),
            BatchSize::SmallInput,
        )
    });

    // Verify + open: the first event of an empty log.
    let verifier = space.verifier();
    group.bench_function("verify_open_one", |b| {
        b.iter_batched(
            || first.clone(),
            |event| verifier.verify(&LogHead::EMPTY, event, |_| None).expect("valid").expect("new"),
            BatchSize::SmallInput,
        )
    });

    // Batch verification of 1,000 posts by two authors, from empty logs.
    let mut space = TestSpace::new(8, &[1, 1]);
    let events = conversation(&mut space, BATCH);
    let verifier = space.verifier();
    let check = verifier.verify_batch(|_| LogHead::EMPTY, |_, _| None, events.clone());
    assert!(check.rejected.is_none() && check.accepted.len() == BATCH, "{:?}", check.rejected);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    group.bench_function("verify_batch_1000", |b| {
        b.iter_batched(
            || events.clone(),
            |events| verifier.verify_batch(|_| LogHead::EMPTY, |_, _| None, events),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Where `verify_batch`'s time goes, part by part, for the same 1,000 events.
fn bench_verify_batch_parts(c: &mut Criterion<ThreadCpu>) {
    let mut space = TestSpace::new(8, &[1, 1]);
    let events = conversation(&mut space, BATCH);
    let id = space.space;
    let digests: Vec<Hash> = events.iter().map(|e| e.signing_digest(&id)).collect();
    let keys: Vec<[u8; 32]> = events.iter().map(|e| e.author().0).collect();
    let sigs: Vec<[u8; 64]> = events.iter().map(|e| e.signature()).collect();
    let items: Vec<(&[u8; 32], &[u8], &[u8; 64])> =
        (0..BATCH).map(|i| (&keys[i], digests[i].as_slice(), &sigs[i])).collect();

    let mut group = c.benchmark_group("event/verify_batch_1000_parts");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    // One BLAKE3 over each event (verify_batch hashes each event three times: its hash for the
    // next prev, its signing digest, and its hash again when opening).
    group.bench_function("blake3_event_hash", |b| b.iter(|| events.iter().map(|e| e.hash(&id)).collect::<Vec<_>>()));
    // duet_crypto::verify_batch: per-item key and R checks, then ed25519-dalek's batch.
    group.bench_function("duet_crypto_verify_batch", |b| b.iter(|| duet_crypto::verify_batch(&items).expect("valid")));
    // ed25519-dalek's batch alone, keys parsed beforehand (the floor for the signatures).
    let parsed: Vec<VerifyingKey> = keys.iter().map(|k| VerifyingKey::from_bytes(k).expect("a key")).collect();
    let signatures: Vec<Signature> = sigs.iter().map(Signature::from_bytes).collect();
    let messages: Vec<&[u8]> = digests.iter().map(|d| d.as_slice()).collect();
    group.bench_function("ed25519_dalek_verify_batch_preparsed", |b| {
        b.iter(|| ed25519_dalek::verify_batch(&messages, &signatures, &parsed).expect("valid"))
    });
    // What duet_crypto adds per item: decompressing the author key and the signature's R.
    group.bench_function("decompress_key_and_r", |b| {
        b.iter(|| {
            items
                .iter()
                .map(|(k, _, s)| {
                    let r: [u8; 32] = s[..32].try_into().expect("32 bytes");
                    (VerifyingKey::from_bytes(k).expect("a key"), VerifyingKey::from_bytes(&r).expect("a point"))
                })
                .collect::<Vec<_>>()
        })
    });
    // Decrypting and validating each payload.
    group.bench_function("open_payloads", |b| {
        b.iter(|| events.iter().map(|e| e.open(&id, &space.key).expect("opens")).collect::<Vec<_>>())
    });
    group.finish();
}

/// Criterion measurement: the CPU time of the benchmarking thread.
struct ThreadCpu;

/// Lends its duration formatter to [`ThreadCpu`].
static WALL_TIME: WallTime = WallTime;

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu()
    }
    fn end(&self, started: Duration) -> Duration {
        thread_cpu() - started
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

/// The CPU time this thread has used so far.
#[allow(unsafe_code)]
fn thread_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is always available on
    // Linux and only reads the calling thread's clock.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0, "clock_gettime");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench_events, bench_verify_batch_parts
}
criterion_main!(benches);
