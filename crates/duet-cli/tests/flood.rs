//! Strangers on the internet flood a device: Ada runs the real `duet up` (a process of its
//! own, so its memory is its own), has an invite open, and 64 stranger peer ids open 10,000
//! streams to `/duet/pair/1` and `/duet/sync/1`, each declaring a 64 KiB frame and trickling
//! it. Ada's node must stay under 300 MiB and Ben's message must still reach her.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{holds, ok, tcp_port, up};
use duet_net::{DeviceId, DuetProtocol, NetConfig};
use futures::AsyncWriteExt;
use rand_core::{OsRng, RngCore};

const STRANGERS: usize = 64;
/// Strangers 0..PAIRING_STRANGERS flood pairing; the rest try sync.
const PAIRING_STRANGERS: usize = 44;
const STREAMS: usize = 10_000;
/// Streams each stranger keeps trickling at once.
const AT_ONCE: usize = STREAMS / STRANGERS;
/// What each stream declares, the largest pairing frame Ada accepts.
const DECLARED: usize = 64 * 1024;
/// Each stream sends this much at a time, then waits.
const TRICKLE_BYTES: usize = 2 * 1024;
const TRICKLE_EVERY: Duration = Duration::from_millis(850);
/// Each stranger opens its streams this far apart.
const RAMP: Duration = Duration::from_millis(150);
const MEMORY_LIMIT: u64 = 300 << 20;

#[derive(Default)]
struct Counts {
    opened: AtomicUsize,
    not_opened: AtomicUsize,
    cut_off: AtomicUsize,
    sent_whole: AtomicUsize,
    bytes: AtomicUsize,
    strangers_done: AtomicUsize,
}

/// A `/proc/<pid>/status` figure in bytes (`VmRSS`, `VmHWM`: the peak).
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn device_of(dir: &Path) -> DeviceId {
    let peers = ok(dir, &["peers", "--json"]);
    let me = peers
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|p| p["me"] == true)
        .expect("this device is listed");
    me["device"].as_str().expect("a device id").parse().expect("a device id")
}

/// Declares a 64 KiB frame on `stream`, then trickles it until it is sent or cut off.
async fn trickle(mut stream: duet_net::Stream, counts: &Counts) {
    let header = (DECLARED as u32).to_be_bytes();
    if stream.write_all(&header).await.is_err() || stream.flush().await.is_err() {
        counts.cut_off.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let piece = [0x5a; TRICKLE_BYTES];
    for _ in 0..DECLARED / TRICKLE_BYTES {
        tokio::time::sleep(TRICKLE_EVERY).await;
        if stream.write_all(&piece).await.is_err() || stream.flush().await.is_err() {
            counts.cut_off.fetch_add(1, Ordering::Relaxed);
            return;
        }
        counts.bytes.fetch_add(TRICKLE_BYTES, Ordering::Relaxed);
    }
    counts.sent_whole.fetch_add(1, Ordering::Relaxed);
}

/// Takes one stream from a stranger's budget.
fn take_one(budget: &AtomicUsize) -> bool {
    budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok()
}

/// A stranger: a fresh peer id that knows where Ada listens. It keeps `at_once` streams
/// trickling, opening another whenever one ends, `streams` in all.
async fn stranger(
    protocol: DuetProtocol,
    ada: DeviceId,
    addr: duet_net::Multiaddr,
    streams: usize,
    at_once: usize,
    counts: Arc<Counts>,
) {
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let mut config = NetConfig::new(secret);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.mdns = false;
    let (client, events) = duet_net::start(config).await.expect("a stranger's network");
    drop(events);
    client.add_addresses(ada, vec![addr]).await.expect("Ada's address");
    let budget = Arc::new(AtomicUsize::new(streams));
    let workers: Vec<_> = (0..at_once)
        .map(|k| {
            let (client, counts, budget) = (client.clone(), counts.clone(), budget.clone());
            tokio::spawn(async move {
                // Streams opened all at once would mostly be shed by libp2p before Duet saw
                // them; a flood that ramps up gets them all in.
                tokio::time::sleep(RAMP * k as u32).await;
                while take_one(&budget) {
                    match client.open_stream(ada, protocol).await {
                        Ok(stream) => {
                            counts.opened.fetch_add(1, Ordering::Relaxed);
                            trickle(stream, &counts).await;
                        }
                        Err(_) => {
                            counts.not_opened.fetch_add(1, Ordering::Relaxed);
                            // A stranger cut off redials; not in a tight loop.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    counts.strangers_done.fetch_add(1, Ordering::Relaxed);
    // Kept running until the test ends.
    std::future::pending::<()>().await;
}

#[test]
fn strangers_flooding_pairing_and_sync_neither_exhaust_memory_nor_stop_the_partner() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    ok(a, &["init", "--name", "Ada"]);
    ok(b, &["init", "--name", "Ben"]);
    let ada_up = up(a);
    let _ben_up = up(b);
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);
    // An invite is still open (for another device of Ada's), so pairing answers anyone.
    ok(a, &["invite", "--device"]);
    let ada = device_of(a);
    let addr: duet_net::Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", tcp_port(a)).parse().unwrap();
    let pid = ada_up.pid();
    let before = memory(pid, "VmRSS");

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (pair, sync) = (Arc::new(Counts::default()), Arc::new(Counts::default()));
    let started = Instant::now();
    let arrived_after = runtime.block_on(async {
        for i in 0..STRANGERS {
            let streams = STREAMS / STRANGERS + usize::from(i < STREAMS % STRANGERS);
            let (protocol, counts) =
                if i < PAIRING_STRANGERS { (DuetProtocol::Pair, &pair) } else { (DuetProtocol::Sync, &sync) };
            tokio::spawn(stranger(protocol, ada, addr.clone(), streams, AT_ONCE, counts.clone()));
        }
        // Ben writes once the flood is under way.
        let tried = |c: &Counts| c.opened.load(Ordering::Relaxed) + c.not_opened.load(Ordering::Relaxed);
        while tried(&pair) + tried(&sync) < STREAMS / 4 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let sent = Instant::now();
        let (ben, ada_dir) = (b.to_path_buf(), a.to_path_buf());
        let arrived = tokio::task::spawn_blocking(move || {
            let id = ok(&ben, &["send", "are you still there?"]).trim().to_owned();
            let deadline = Instant::now() + Duration::from_secs(120);
            while !holds(&ada_dir, &id) {
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Some(sent.elapsed())
        })
        .await
        .unwrap();
        // The flood goes on until every stream was sent whole or cut off.
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let done = pair.strangers_done.load(Ordering::Relaxed) + sync.strangers_done.load(Ordering::Relaxed);
            if done == STRANGERS || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        arrived
    });
    let peak = memory(pid, "VmHWM");
    let after = memory(pid, "VmRSS");
    for (name, c) in [("/duet/pair/1", &pair), ("/duet/sync/1", &sync)] {
        println!(
            "{name}: {} streams opened, {} not opened, {} cut off by Ada, {} sent whole ({:.1} MiB trickled)",
            c.opened.load(Ordering::Relaxed),
            c.not_opened.load(Ordering::Relaxed),
            c.cut_off.load(Ordering::Relaxed),
            c.sent_whole.load(Ordering::Relaxed),
            mib(c.bytes.load(Ordering::Relaxed) as u64),
        );
    }
    println!("the flood took {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "Ada's node: {:.1} MiB before, peak {:.1} MiB, {:.1} MiB after; Ben's message arrived after {:?}",
        mib(before),
        mib(peak),
        mib(after),
        arrived_after
    );
    assert!(arrived_after.is_some(), "Ben's message never reached Ada during the flood");
    assert!(peak < MEMORY_LIMIT, "Ada's node grew to {:.1} MiB under the flood", mib(peak));
    runtime.shutdown_background();
}
