//! The mailbox harness: a backlog that reaches Ben from the couple's mailbox while Ada is off,
//! next to the same backlog straight from Ada.
//!
//! ```text
//! cargo bench -p duet-tests --bench mailbox                             # 1,000 messages
//! DUET_BENCH_MESSAGES=10000 cargo bench -p duet-tests --bench mailbox   # more
//! ```
//!
//! (a) Through the mailbox: Ada and Ben are paired and use a mailbox (on loopback, in this
//!     process); Ben stops; Ada writes N messages with `Node::send`; once the mailbox holds
//!     them Ada stops too. Measured: from Ben's start (the node starting, unlocking its data)
//!     to his store holding all N.
//! (b) Direct: the same with Ada online and no mailbox.
//!
//! Figures only: nothing here asserts on time.

use std::time::{Duration, Instant};

use duet_model::{InviteKind, MessageId, Target};
use duet_node::{Mailbox, MailboxConfig};
use duet_tests::{eventually, pair, TestNode, PATIENCE};

fn main() {
    let messages = std::env::var("DUET_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000usize);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let through = backlog(messages, true).await;
        let direct = backlog(messages, false).await;
        println!("backlog of {messages} messages, from Ben's start to all held:");
        println!("  through the mailbox (Ada off)   {:>8.3} s", through.as_secs_f64());
        println!("  straight from Ada (no mailbox)  {:>8.3} s", direct.as_secs_f64());
    });
}

async fn backlog(n: usize, mailbox: bool) -> Duration {
    let boxdir = tempfile::tempdir().expect("a temp dir");
    let mut ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let running = if mailbox {
        let mut config = MailboxConfig::new(boxdir.path());
        config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid")];
        let running = Mailbox::start(config).await.expect("the mailbox starts");
        let ticket = running.ticket(PATIENCE).await.expect("a ticket");
        ada.node.add_mailbox(&ticket).await.expect("adding the mailbox");
        eventually("Ben uses the mailbox", || async { ben.node.mailbox().ok()?.map(|_| ()) }).await;
        Some(running)
    } else {
        None
    };
    ben.stop().await;
    let mut sent: Vec<MessageId> = Vec::with_capacity(n);
    for i in 0..n {
        sent.push(
            ada.node.send(Target::Direct, &format!("message {i}: {}", "x".repeat(280)), None).await.expect("sent").id,
        );
    }
    let last = *sent.last().expect("at least one message");
    if let Some(running) = &running {
        let ada_device = ada.node.device_id();
        let held = ada.node.version_vector().expect("a version vector").get(&ada_device);
        eventually("the mailbox holds them", || async {
            (running.version_vector().ok()?.get(&ada_device) >= held).then_some(())
        })
        .await;
        ada.stop().await;
    }
    let start = Instant::now();
    ben.restart(|c| c).await;
    eventually("Ben holds the backlog", || async { ben.node.message(&last).ok().map(|_| ()) }).await;
    let took = start.elapsed();
    assert!(sent.iter().all(|id| ben.node.message(id).is_ok()), "every message arrived");
    took
}
