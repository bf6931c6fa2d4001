//! Store costs (the foundation issue's targets, measured on a 2-core machine).
//!
//! **`store.apply`**: 100,000 remote 100-character text posts from two authors
//! (`TestSpace::new(seed, &[1, 1])`), applied in batches of 1,000 (each batch holds one run per
//! author) to a fresh store in a temporary directory. Plain timed runs (best and median of
//! [`RUNS`]), because one run takes seconds:
//! - *store only*: [`Store::apply_remote`] of batches verified beforehand;
//! - *end to end, sequential*: [`Verifier::verify_batch`] (signatures, decryption, payload
//!   validation) then `apply_remote`, batch after batch on one thread;
//! - *end to end, pipelined*: a second thread verifies batch N+1 and finds its posts' words
//!   ([`Store::words_of`]) while the store applies batch N (`std::thread::scope` and a bounded
//!   `sync_channel`), as sync does on two cores.
//!
//! Target: end to end ≥ 50,000 events/s. Each line also gives the CPU time of the storing
//! thread (and of the verifying thread when pipelined): on a shared machine the wall-clock
//! figure suffers from other processes, the CPU times much less. With a core for each thread, a
//! pipeline runs at about the pace of its busier thread.
//!
//! **`store.messages`**: [`Store::messages`] — one page of a conversation's 50 newest messages,
//! and an older page (`before` = the middle message), with 1,000,000 messages stored (built
//! once, outside timing, in batches of 1,000, without verification: the events are sealed here
//! and their payloads are known). Measured with criterion, plus a printed summary (mean, p50,
//! p99) and the first page after reopening the store. Target: ≤ 5 ms per page.
//!
//! **`store.search`**: [`Store::search`] over 1,000,000 messages of 6–20 words each, drawn
//! from a vocabulary of 20,000 made-up words with Zipf's law (the few most common words are in
//! most messages, most words are rare, as in real text), built like `store.messages` (the
//! words index built in the same writes, then merged with `Store::compact_words` as the node
//! does when idle; both times printed). 1,000 queries of one, two or three
//! words, each word's rank drawn uniformly from 1–20,000 (common, middle and rare words
//! alike), 50 results each: mean, p50, p99 and the worst, by number of words. Target: p99 ≤
//! 50 ms. `DUET_BENCH_SEARCH_MESSAGES` overrides the 1,000,000.
//!
//! **`store.words`**: [`Store::words_of`] — the words of a synced batch of 1,000 posts, found
//! on the verifying thread in sync (cut at word boundaries, folded, hashed, sorted): the
//! 100-character English line `store.apply` writes, and messages of the Zipf words
//! `store.search` draws (a few of them accented). Criterion on the thread's CPU time.
//!
//! Environment: `DUET_BENCH_MESSAGES` overrides the 1,000,000 (e.g. `100000` for a quick run);
//! `DUET_BENCH_EVENTS` overrides the 100,000. A positional argument filters the sections by name
//! (`store.apply`, `store.messages`). Without `--bench` (as under `cargo test --all-targets`)
//! everything runs once at a small size, as a smoke test.
//!
//! Run: `cargo bench -p duet-store --bench store`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use criterion::Criterion;
use duet_log::testkit::TestSpace;
use duet_log::{LogHead, NextEvent, OpenedEvent, SealedEvent, Verifier};
use duet_model::{ConversationId, DeviceId, MessageId, Target, Timestamp};
use duet_store::search::BatchWords;
use duet_store::{SpaceState, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Events per batch, as sync sends them.
const BATCH: usize = 1_000;
/// Timed runs of each `store.apply` variant.
const RUNS: usize = 3;
/// Messages per page.
const PAGE: usize = 50;
const TEXT_CHARS: usize = 100;
/// Targets.
const END_TO_END_TARGET: f64 = 50_000.0;
const PAGE_TARGET: Duration = Duration::from_millis(5);
const SEARCH_TARGET: Duration = Duration::from_millis(50);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not: then only smoke-test
    // (criterion's rule too).
    let full = flag("--bench") && !flag("--test");
    if flag("--list") {
        println!("store.apply: benchmark\nstore.messages: benchmark\nstore.search: benchmark\nstore.words: benchmark");
        return;
    }
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    // `store.messages/newest` selects the section, and criterion then filters within it.
    let wanted = |section: &str| match filter.as_deref() {
        None => true,
        Some(f) => section.contains(f) || f.starts_with(section),
    };
    if !full {
        println!("smoke test (run without --bench): tiny sizes; the figures and verdicts below are not measurements");
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }

    if wanted("store.apply") {
        let events = sized("DUET_BENCH_EVENTS", if full { 100_000 } else { 2 * BATCH });
        bench_apply(events, if full { RUNS } else { 1 });
    }
    if wanted("store.messages") {
        let messages = sized("DUET_BENCH_MESSAGES", if full { 1_000_000 } else { 3 * BATCH });
        bench_messages(messages);
    }
    if wanted("store.search") {
        let messages = sized("DUET_BENCH_SEARCH_MESSAGES", if full { 1_000_000 } else { 3 * BATCH });
        bench_search(messages, if full { 1_000 } else { 20 });
    }
    if wanted("store.words") {
        bench_words(full);
    }
}

fn sized(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => v.replace(['_', ','], "").parse().unwrap_or_else(|_| panic!("{var} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

// ---------------------------------------------------------------------------------------------
// Building events
// ---------------------------------------------------------------------------------------------

/// A 100-character (and 100-byte) message text.
fn text() -> String {
    let text: String =
        "Dinner at eight? I'll bring the wine, you pick the film. ".chars().cycle().take(TEXT_CHARS).collect();
    assert_eq!(text.chars().count(), TEXT_CHARS);
    text
}

/// Writes a two-person conversation, batch by batch, without verifying: each event is sealed
/// here, so its payload is known and the [`OpenedEvent`] can be built directly (public fields).
///
/// The authors alternate in short runs, as in a chat; messages are 1–60 s apart (30 s on
/// average: 1,000,000 messages span about a year), which decides how full the store's
/// 70-minute index buckets get. Lamport clocks interleave as if each device saw the other's
/// messages live.
struct Conversation {
    space: TestSpace,
    text: String,
    /// Draws each message's words instead of repeating `text` (`store.search`).
    words: Option<Words>,
    written: u64,
    now: u64,
    clock: StdRng,
}

impl Conversation {
    fn new(seed: u64) -> Self {
        Self {
            space: TestSpace::new(seed, &[1, 1]),
            text: text(),
            words: None,
            written: 0,
            now: 1_700_000_000_000,
            clock: StdRng::seed_from_u64(seed ^ 0x5eed),
        }
    }

    fn store_in(&self, dir: &Path) -> Store {
        let store = Store::open(dir, &duet_crypto::DataKey::from_bytes([5; 32])).expect("open the store");
        let state = SpaceState { space: self.space.space, membership: self.space.membership.clone() };
        store.save_space(&state, &self.space.key).expect("save the space");
        store
    }

    fn conversation_id(&self) -> ConversationId {
        Target::Direct.conversation(self.space.space)
    }

    fn verifier(&self) -> Verifier<'_> {
        self.space.verifier()
    }

    /// The next `n` posts, opened, in one batch: per author in log order, one run per author.
    fn batch(&mut self, n: usize) -> Vec<OpenedEvent> {
        let mut runs: [Vec<OpenedEvent>; 2] = [Vec::with_capacity(n), Vec::with_capacity(n)];
        for _ in 0..n {
            let d = ((self.written / 3) % 2) as usize;
            self.now += self.clock.gen_range(1_000..60_000);
            let opened = self.write(d);
            runs[d].push(opened);
        }
        let [mut first, second] = runs;
        first.extend(second);
        first
    }

    fn write(&mut self, d: usize) -> OpenedEvent {
        let s = &mut self.space;
        let device = &s.devices[d];
        let next = NextEvent {
            space: s.space,
            device: &device.key,
            keys: &s.keyring,
            head: device.head,
            max_lamport: device.max_lamport,
            now: Timestamp(self.now),
        };
        let drawn = self.words.as_mut().map(|w| w.message());
        let text = drawn.as_deref().unwrap_or(&self.text);
        let (event, payload) = next.seal(TestSpace::text(text), &mut s.rng).expect("a valid post");
        let person = device.person;
        let hash = event.hash(&s.space);
        s.devices[d].head = LogHead { seq: event.seq(), hash, lamport: event.lamport() };
        s.devices[d].max_lamport = event.lamport();
        s.observe(1 - d, event.lamport());
        self.written += 1;
        OpenedEvent { event, person, hash, payload }
    }
}

// ---------------------------------------------------------------------------------------------
// store.apply
// ---------------------------------------------------------------------------------------------

fn bench_apply(n: usize, runs: usize) {
    let batches = n.div_ceil(BATCH);
    let n = batches * BATCH;
    println!("\nstore.apply: {n} posts of {TEXT_CHARS} characters from 2 authors, {batches} batches of {BATCH}");
    let started = Instant::now();
    let mut conv = Conversation::new(100);
    let sealed: Vec<Vec<SealedEvent>> =
        (0..batches).map(|_| conv.batch(BATCH).into_iter().map(|o| o.event).collect()).collect();
    let sealed_in = started.elapsed();
    // Pre-verify once (this also checks the generated events are valid).
    let started = Instant::now();
    let verifier = conv.verifier();
    let mut heads: BTreeMap<DeviceId, LogHead> = BTreeMap::new();
    let opened: Vec<Vec<OpenedEvent>> =
        sealed.iter().map(|batch| verify(&verifier, &mut heads, batch.clone())).collect();
    let verified_in = started.elapsed();
    println!(
        "  (setup: sealed and signed in {:.2} s, verified and opened in {:.2} s on one thread = {})",
        sealed_in.as_secs_f64(),
        verified_in.as_secs_f64(),
        rate(n, verified_in),
    );

    let store_only = timed_runs(runs, &conv, |store| {
        let clock = Clock::start();
        for batch in &opened {
            store.apply_remote(batch).expect("apply");
        }
        clock.stop(None)
    });
    report(&format!("store.apply {n} events, store only (pre-verified)"), n, &store_only, None);

    let sequential = timed_runs(runs, &conv, |store| {
        let batches = sealed.clone();
        let clock = Clock::start();
        for batch in batches {
            let outcome = verifier.verify_batch(
                |a| store.head(a).expect("head"),
                |a, seq| store.event_hash(&verifier.space, a, seq).expect("event hash"),
                batch,
            );
            assert!(outcome.rejected.is_none(), "{:?}", outcome.rejected);
            store.apply_remote(&outcome.accepted).expect("apply");
        }
        clock.stop(None)
    });
    report(
        &format!("store.apply {n} events, end to end sequential (verify+open+store)"),
        n,
        &sequential,
        Some(END_TO_END_TARGET),
    );

    let pipelined = timed_runs(runs, &conv, |store| {
        let batches = sealed.clone();
        let clock = Clock::start();
        std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<(Vec<OpenedEvent>, BatchWords)>(1);
            let verifier = &verifier;
            let finding = &*store;
            let verifying = scope.spawn(move || {
                let cpu = thread_cpu();
                // The store lags one batch behind: carry the heads forward from what was verified.
                let mut heads = BTreeMap::new();
                for batch in batches {
                    let opened = verify(verifier, &mut heads, batch);
                    let words = finding.words_of(&opened).expect("words");
                    if tx.send((opened, words)).is_err() {
                        break;
                    }
                }
                thread_cpu() - cpu
            });
            for (batch, words) in rx {
                store.apply_remote_with_words(&batch, words).expect("apply");
            }
            clock.stop(Some(verifying.join().expect("the verifying thread")))
        })
    });
    report(
        &format!("store.apply {n} events, end to end pipelined (verify on a 2nd thread)"),
        n,
        &pipelined,
        Some(END_TO_END_TARGET),
    );
}

/// Verifies one batch against `heads` (the logs as verified so far, empty at first) and
/// advances them.
fn verify(
    verifier: &Verifier<'_>,
    heads: &mut BTreeMap<DeviceId, LogHead>,
    batch: Vec<SealedEvent>,
) -> Vec<OpenedEvent> {
    let outcome = verifier.verify_batch(|a| heads.get(a).copied().unwrap_or(LogHead::EMPTY), |_, _| None, batch);
    assert!(outcome.rejected.is_none() && outcome.duplicates == 0, "{:?}", outcome.rejected);
    for e in &outcome.accepted {
        heads.insert(e.author(), LogHead { seq: e.seq(), hash: e.hash, lamport: e.lamport() });
    }
    outcome.accepted
}

/// One timed run: wall-clock time; CPU time of the thread that stores (and verifies, unless
/// pipelined); CPU time of the verifying thread when pipelined.
#[derive(Clone, Copy)]
struct Run {
    wall: Duration,
    cpu: Duration,
    verify_cpu: Option<Duration>,
}

struct Clock {
    wall: Instant,
    cpu: Duration,
}

impl Clock {
    fn start() -> Self {
        Self { wall: Instant::now(), cpu: thread_cpu() }
    }

    fn stop(self, verify_cpu: Option<Duration>) -> Run {
        Run { wall: self.wall.elapsed(), cpu: thread_cpu() - self.cpu, verify_cpu }
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

/// Runs `run` on a fresh store `runs` times; returns the runs, fastest first.
fn timed_runs(runs: usize, conv: &Conversation, mut run: impl FnMut(&Store) -> Run) -> Vec<Run> {
    let mut times: Vec<Run> = (0..runs)
        .map(|_| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let store = conv.store_in(dir.path());
            run(&store)
        })
        .collect();
    times.sort_by_key(|r| r.wall);
    times
}

fn rate(n: usize, d: Duration) -> String {
    format!("{} events/s", thousands(n as f64 / d.as_secs_f64()))
}

fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(what: &str, n: usize, runs: &[Run], target: Option<f64>) {
    let best = runs[0].wall;
    let m = runs[runs.len() / 2];
    let median = m.wall;
    let cpu = match m.verify_cpu {
        None => format!("CPU {:.2} s", m.cpu.as_secs_f64()),
        Some(v) => format!(
            "CPU: storing thread {:.2} s, verifying thread {:.2} s; with a core each, the busier allows {}",
            m.cpu.as_secs_f64(),
            v.as_secs_f64(),
            rate(n, m.cpu.max(v)),
        ),
    };
    let verdict = match target {
        Some(t) => {
            let r = n as f64 / median.as_secs_f64();
            if r >= t {
                format!("; meets the ≥ {} events/s target", thousands(t))
            } else {
                format!("; MISSES the ≥ {} events/s target by {:.0}%", thousands(t), (1.0 - r / t) * 100.0)
            }
        }
        None => String::new(),
    };
    println!(
        "{what}: median {:.2} s ({}), best {:.2} s ({}) of {} runs{verdict}\n    ({cpu}, in the median run)",
        median.as_secs_f64(),
        rate(n, median),
        best.as_secs_f64(),
        rate(n, best),
        runs.len(),
    );
}

// ---------------------------------------------------------------------------------------------
// store.messages
// ---------------------------------------------------------------------------------------------

fn bench_messages(n: usize) {
    let batches = n.div_ceil(BATCH);
    let n = batches * BATCH;
    println!("\nstore.messages: building a store of {n} messages (2 authors, batches of {BATCH}), outside timing");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut conv = Conversation::new(200);
    let conversation = conv.conversation_id();
    let store = conv.store_in(dir.path());
    let started = Instant::now();
    // One thread seals and signs, the other stores.
    let middle = std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Vec<OpenedEvent>>(4);
        let producer = scope.spawn(move || {
            let mut middle = None;
            for b in 0..batches {
                let batch = conv.batch(BATCH);
                if b == batches / 2 {
                    let e = &batch[0];
                    middle = Some(MessageId::new(e.timestamp(), &e.author(), e.seq()));
                }
                tx.send(batch).expect("the store is listening");
            }
            middle.expect("at least one batch")
        });
        for (b, batch) in rx.into_iter().enumerate() {
            store.apply_remote(&batch).expect("apply");
            if (b + 1) % 100 == 0 {
                let secs = started.elapsed().as_secs_f64();
                eprint!("\r  {} messages stored in {secs:.0} s", (b + 1) * BATCH);
            }
        }
        producer.join().expect("the producer")
    });
    store.flush().expect("flush");
    let built_in = started.elapsed();
    eprintln!();
    println!(
        "  (built in {:.1} s = {}; store directory {} MB)",
        built_in.as_secs_f64(),
        rate(n, built_in),
        dir_size(dir.path()) >> 20,
    );

    // Sanity: full pages, and the older page really is older.
    let newest = store.messages(&conversation, None, PAGE).expect("a page");
    assert_eq!(newest.messages.len(), PAGE.min(n));
    let older = store.messages(&conversation, Some(middle), PAGE).expect("a page");
    assert_eq!(older.messages.len(), PAGE.min(n / 2));
    assert!(older.messages.iter().all(|m| m.id < middle));

    // The first page after reopening (sled's cache is cold; the OS page cache is not).
    drop(store);
    let started = Instant::now();
    let store = Store::open(dir.path(), &duet_crypto::DataKey::from_bytes([5; 32])).expect("reopen");
    let opened_in = started.elapsed();
    let started = Instant::now();
    let page = store.messages(&conversation, None, PAGE).expect("a page");
    let first_in = started.elapsed();
    assert_eq!(page.messages.len(), PAGE.min(n));
    println!("  after reopening: Store::open {:.1} ms, first newest page {:.2} ms", ms(opened_in), ms(first_in));

    for (name, before) in [("newest", None), ("middle", Some(middle))] {
        summary(&format!("store.messages {name} {PAGE} of {}", thousands(n as f64)), || {
            store.messages(&conversation, before, PAGE).expect("a page")
        });
    }

    let mut c = Criterion::default().sample_size(50).configure_from_args();
    let mut group = c.benchmark_group("store.messages");
    group.bench_function(format!("newest_{PAGE}_of_{n}"), |b| {
        b.iter(|| store.messages(&conversation, None, PAGE).expect("a page"))
    });
    group.bench_function(format!("middle_{PAGE}_of_{n}"), |b| {
        b.iter(|| store.messages(&conversation, Some(middle), PAGE).expect("a page"))
    });
    group.finish();
    c.final_summary();
}

// ---------------------------------------------------------------------------------------------
// store.words
// ---------------------------------------------------------------------------------------------

fn bench_words(full: bool) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut english = Conversation::new(11);
    let store = english.store_in(dir.path());
    // The same seed: the same space as the store, whose conversation `words_of` names.
    let mut zipf = Conversation::new(11);
    zipf.words = Some(Words::new(12));
    let batches = [("english_100_chars", english.batch(BATCH)), ("zipf_6_to_20_words", zipf.batch(BATCH))];

    let mut c = Criterion::default().sample_size(if full { 50 } else { 10 }).configure_from_args();
    let mut group = c.benchmark_group("store.words");
    group.throughput(criterion::Throughput::Elements(BATCH as u64));
    for (name, batch) in &batches {
        group.bench_function(format!("words_of_{BATCH}_{name}"), |b| {
            // The thread's CPU time, not the wall clock's: a shared machine does not inflate it.
            b.iter_custom(|iterations| {
                let started = thread_cpu();
                for _ in 0..iterations {
                    std::hint::black_box(store.words_of(batch).expect("words"));
                }
                thread_cpu() - started
            })
        });
    }
    group.finish();
    c.final_summary();
}

// ---------------------------------------------------------------------------------------------
// store.search
// ---------------------------------------------------------------------------------------------

/// Made-up words (syllables over a counter, so every rank is a distinct word), drawn with
/// Zipf's law: the word of rank r with probability ∝ 1/r.
struct Words {
    vocabulary: Vec<String>,
    /// Cumulative probabilities by rank.
    cdf: Vec<f64>,
    rng: StdRng,
}

const VOCABULARY: usize = 20_000;

impl Words {
    fn new(seed: u64) -> Self {
        const SYLLABLES: [&str; 32] = [
            "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "va", "de", "zu", "fe", "gi", "ho", "ju", "ly", "ma", "no",
            "pe", "qu", "ro", "sa", "ti", "ul", "vi", "wo", "xe", "yo", "ze", "bé", "ça", "ön",
        ];
        let vocabulary = (0..VOCABULARY)
            .map(|mut i| {
                let mut word = String::new();
                loop {
                    word.push_str(SYLLABLES[i % 32]);
                    i /= 32;
                    if i == 0 {
                        break word;
                    }
                }
            })
            .collect();
        let total: f64 = (1..=VOCABULARY).map(|r| 1.0 / r as f64).sum();
        let mut sum = 0.0;
        let cdf = (1..=VOCABULARY)
            .map(|r| {
                sum += 1.0 / r as f64 / total;
                sum
            })
            .collect();
        Self { vocabulary, cdf, rng: StdRng::seed_from_u64(seed) }
    }

    fn draw(&mut self) -> &str {
        let x: f64 = self.rng.gen();
        let rank = self.cdf.partition_point(|c| *c < x).min(VOCABULARY - 1);
        &self.vocabulary[rank]
    }

    /// A message of 6–20 words.
    fn message(&mut self) -> String {
        let n = self.rng.gen_range(6..=20);
        let mut text = String::new();
        for i in 0..n {
            if i > 0 {
                text.push(' ');
            }
            let word = self.draw().to_owned();
            text.push_str(&word);
        }
        text
    }

    /// A query of 1–3 words, each of a uniformly drawn rank.
    fn query(&mut self) -> (usize, String) {
        let n = self.rng.gen_range(1..=3);
        let words: Vec<&str> = (0..n).map(|_| self.vocabulary[self.rng.gen_range(0..VOCABULARY)].as_str()).collect();
        (n, words.join(" "))
    }
}

fn bench_search(n: usize, queries: usize) {
    let batches = n.div_ceil(BATCH);
    let n = batches * BATCH;
    println!("\nstore.search: building a store of {n} messages of 6–20 Zipf-drawn words (batches of {BATCH}), outside timing");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut conv = Conversation::new(300);
    conv.words = Some(Words::new(301));
    let store = conv.store_in(dir.path());
    let started = Instant::now();
    let mut storing = Duration::ZERO;
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Vec<OpenedEvent>>(4);
        scope.spawn(move || {
            for _ in 0..batches {
                tx.send(conv.batch(BATCH)).expect("the store is listening");
            }
        });
        for (b, batch) in rx.into_iter().enumerate() {
            let clock = Instant::now();
            store.apply_remote(&batch).expect("apply");
            storing += clock.elapsed();
            if (b + 1) % 100 == 0 {
                eprint!("\r  {} messages stored in {:.0} s", (b + 1) * BATCH, started.elapsed().as_secs_f64());
            }
        }
    });
    store.flush().expect("flush");
    eprintln!();
    println!(
        "  (built in {:.1} s, of which Store::apply_remote {:.1} s = {}; store directory {} MB)",
        started.elapsed().as_secs_f64(),
        storing.as_secs_f64(),
        rate(n, storing),
        dir_size(dir.path()) >> 20,
    );

    let started = Instant::now();
    let mut merges = 0;
    while store.compact_words().expect("merge") {
        merges += 1;
    }
    println!(
        "  (then the words index merged in {merges} steps, {:.1} s; store directory {} MB)",
        started.elapsed().as_secs_f64(),
        dir_size(dir.path()) >> 20
    );
    let mut words = Words::new(302);
    let drawn: Vec<(usize, String)> = (0..queries).map(|_| words.query()).collect();
    let search = |text: &str| {
        let query = duet_store::Query { text: text.into(), conversation: None, before: None, limit: 50 };
        store.search(&query).expect("a search")
    };
    // Sanity: the most common word is in most messages.
    let common = words.vocabulary[0].clone();
    assert_eq!(search(&common).len(), 50.min(n));
    for (text, _) in drawn.iter().take(20).map(|(_, t)| (t, ())) {
        std::hint::black_box(search(text));
    }
    let mut by_words: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    let mut found = 0;
    for (count, text) in &drawn {
        let started = Instant::now();
        let results = search(text);
        by_words.entry(*count).or_default().push(started.elapsed());
        found += results.len();
    }
    let all: Vec<Duration> = by_words.values().flatten().copied().collect();
    for (what, times) in by_words.iter().map(|(k, v)| (format!("{k} word(s)"), v.clone())).chain([("all".into(), all)])
    {
        let mut times = times;
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
        let p = |q: usize| times[(times.len() * q / 100).min(times.len() - 1)];
        let verdict = if p(99) <= SEARCH_TARGET { "meets" } else { "MISSES" };
        println!(
            "store.search {} queries of {what} over {}: mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, worst {:.2} ms ({verdict} the ≤ {} ms target)",
            times.len(),
            thousands(n as f64),
            ms(mean),
            ms(p(50)),
            ms(p(99)),
            ms(times[times.len() - 1]),
            SEARCH_TARGET.as_millis()
        );
    }
    println!("  ({found} results in all, {:.1} per query)", found as f64 / drawn.len() as f64);
}

/// Times a query many times and prints mean, p50 and p99 against the page target.
fn summary<T>(what: &str, mut query: impl FnMut() -> T) {
    for _ in 0..20 {
        std::hint::black_box(query());
    }
    let mut times: Vec<Duration> = (0..500)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(query());
            started.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p50 = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    let verdict = if p99 <= PAGE_TARGET { "meets" } else { "MISSES" };
    println!(
        "{what}: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms per page ({verdict} the ≤ {} ms target)",
        ms(mean),
        ms(p50),
        ms(p99),
        PAGE_TARGET.as_millis()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
