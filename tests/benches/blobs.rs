//! Attachment throughput: a 100 MiB file from Ada's node to Ben's over `/duet/blobs/1` on
//! loopback, beside a raw TCP copy of the same bytes.
//!
//! ```text
//! cargo bench -p duet-tests --bench blobs                           # 100 MiB
//! DUET_BENCH_BLOB_MIB=20 cargo bench -p duet-tests --bench blobs    # a quick run
//! ```
//!
//! (a) Ada imports the file (`send_file`: hash, seal, write; the post is written after).
//! (b) Ben fetches it (`fetch_attachment`, from the post's arrival to the last chunk stored
//!     and the file synced): each chunk is read and sent sealed by Ada, carried by Noise and
//!     Yamux, opened and checked against the BLAKE3 tree by Ben, and written. Beside it, the
//!     CPU time the process (both nodes) used meanwhile: near every core busy means the
//!     fetch is bound by CPU rather than by waiting.
//! (c) Floor: a raw TCP copy of the same bytes on loopback, memory to memory (no encryption,
//!     no checks, no disk).
//! (c2) Floor: a raw TCP copy from a file into a new file that is then synced (`nc > file;
//!     sync`): no encryption, no checks, but the disk.
//! (d) Floor: Ben's own per-chunk work alone (open + check), one thread.
//! (d2) The same on all cores, the chunks split between threads.
//!
//! Both floors are printed because (b) ends with the fetched file written and synced, which
//! costs more here than moving the bytes: (c) is what issue 6 measures against, (c2) is the
//! most any transfer that lands on disk could do on this machine.
//!
//! Figures only: nothing here asserts on time. Target (issue 6): (b) at least 50% of (c).

use std::time::{Duration, Instant};

use duet_blob::{open_chunk, seal_chunk, Manifest, CHUNK_SIZE};
use duet_crypto::SpaceKey;
use duet_model::{InviteKind, Target};
use duet_tests::{eventually, pair, TestNode};
use rand::SeedableRng;

fn main() {
    let mib = std::env::var("DUET_BENCH_BLOB_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(100usize);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(run(mib << 20));
}

/// CPU time this process has used (user + system), where `/proc` tells it.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces) start with the state.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel counts in USER_HZ, 100 a second on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn rate(bytes: usize, took: Duration) -> String {
    format!("{:.2} s, {:.0} MiB/s", took.as_secs_f64(), bytes as f64 / (1 << 20) as f64 / took.as_secs_f64())
}

async fn run(size: usize) {
    println!(
        "duet blob bench: {} MiB attachment, {} cores",
        size >> 20,
        std::thread::available_parallelism().map_or(1, |c| c.get())
    );
    let content: Vec<u8> = (0..size).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let files = tempfile::tempdir().expect("a temp dir");
    let path = files.path().join("big.bin");
    std::fs::write(&path, &content).expect("write the file");

    let ada = TestNode::person("Ada").await;
    let ben = TestNode::create("Ben", Some("Ben"), |mut c| {
        c.auto_fetch_size = 0; // fetched when asked, so the fetch alone is timed
        c
    })
    .await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    eventually("Ada and Ben are connected", || async {
        ada.node.connected().await.ok()?.contains(&ben.node.device_id()).then_some(())
    })
    .await;

    // (a)
    let started = Instant::now();
    let sent = ada.node.send_file(Target::Direct, &path, "the big one", None).await.expect("send");
    println!("(a) Ada imports it (hash, seal, write): {}", rate(size, started.elapsed()));
    eventually("Ben holds the message", || async { ben.node.message(&sent.id).ok() }).await;

    // (b)
    let (started, cpu_before) = (Instant::now(), cpu_time());
    ben.node.fetch_attachment(&sent.id, 0).await.expect("fetch");
    let fetch = started.elapsed();
    println!("(b) Ben fetches it over /duet/blobs/1: {}", rate(size, fetch));
    if let (Some(before), Some(after)) = (cpu_before, cpu_time()) {
        let busy = after.saturating_sub(before).as_secs_f64();
        println!(
            "    CPU time of both nodes meanwhile: {busy:.2} s ({:.1} cores busy on average)",
            busy / fetch.as_secs_f64()
        );
    }
    let stats = ben.node.blob_stats();
    println!("    chunks fetched {}, rejected {}", stats.chunks_fetched, stats.chunks_rejected);
    assert_eq!(ben.node.read_blob(sent.attachments[0].blob).await.expect("read"), content, "byte for byte");

    // (c)
    let tcp = duet_tests::raw_tcp_copy(size).await;
    println!("(c) raw TCP copy of the same bytes on loopback: {}", rate(size, tcp));
    println!(
        "    → /duet/blobs/1 reaches {:.1}% of the raw copy's throughput (target ≥ 50%)",
        100.0 * tcp.as_secs_f64() / fetch.as_secs_f64()
    );

    // (c2)
    let copy = files.path().join("copy.bin");
    let file_copy =
        tokio::task::spawn_blocking(move || duet_tests::raw_tcp_file_copy(&path, &copy)).await.expect("the file copy");
    println!("(c2) raw TCP copy from file to file on loopback, then sync: {}", rate(size, file_copy));
    println!(
        "    → /duet/blobs/1 reaches {:.1}% of the file-to-file copy's throughput",
        100.0 * file_copy.as_secs_f64() / fetch.as_secs_f64()
    );

    // (d)
    let key = SpaceKey::from_bytes([7; 32]);
    let manifest = Manifest::of(&content);
    let hash = manifest.hash();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let sealed: Vec<Vec<u8>> = content
        .chunks(CHUNK_SIZE as usize)
        .enumerate()
        .map(|(i, c)| seal_chunk(&key, &hash, i as u32, c, &mut rng))
        .collect();
    let started = Instant::now();
    for (i, s) in sealed.iter().enumerate() {
        let plain = open_chunk(&key, &hash, i as u32, s).expect("open");
        manifest.check_chunk(i as u32, &plain).expect("check");
    }
    println!("(d) the receiver's checks alone (open + BLAKE3, one thread): {}", rate(size, started.elapsed()));

    // (d2)
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let per_thread = sealed.len().div_ceil(cores);
    let started = Instant::now();
    std::thread::scope(|s| {
        for (part, chunks) in sealed.chunks(per_thread).enumerate() {
            let (key, manifest) = (&key, &manifest);
            s.spawn(move || {
                for (j, sealed) in chunks.iter().enumerate() {
                    let i = (part * per_thread + j) as u32;
                    let plain = open_chunk(key, &hash, i, sealed).expect("open");
                    manifest.check_chunk(i, &plain).expect("check");
                }
            });
        }
    });
    println!("(d2) the receiver's checks alone (open + BLAKE3, {cores} threads): {}", rate(size, started.elapsed()));
}
