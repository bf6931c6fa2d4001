//! The couple's blind mailbox: Ada and Ben are never online together, and everything still
//! arrives, through a mailbox that can read none of it; strangers can neither register with
//! it nor store into it.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use std::path::Path;
use std::time::Duration;

use duet_log::mailbox::MailboxTicket;
use duet_model::{InviteKind, Target};
use duet_net::{DuetProtocol, NetConfig};
use duet_node::{Mailbox, MailboxConfig};
use duet_tests::{eventually, pair, Rejections, TestNode, PATIENCE};

async fn start_mailbox(dir: &Path) -> (Mailbox, String) {
    let mut config = MailboxConfig::new(dir);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap(), "/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap()];
    let mailbox = Mailbox::start(config).await.expect("the mailbox starts");
    let ticket = mailbox.ticket(PATIENCE).await.expect("a ticket");
    (mailbox, ticket)
}

/// Every file under `dir`, read whole.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_online_together_everything_arrives_through_the_mailbox_and_it_reads_nothing() {
    let boxdir = tempfile::tempdir().unwrap();
    let (mailbox, ticket) = start_mailbox(boxdir.path()).await;
    let mut ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    let rejections = Rejections::default();
    rejections.watch(&ada);
    rejections.watch(&ben);
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");

    // Ada adds the mailbox; Ben's device learns of it from her signed event.
    let place = ada.node.add_mailbox(&ticket).await.expect("adding the mailbox");
    assert_eq!(place.device, mailbox.device_id());
    eventually("Ben's device uses the mailbox too", || async { ben.node.mailbox().ok()?.map(|_| ()) }).await;

    // Ben goes away. Ada writes 100 messages, one with a word nobody else writes.
    ben.stop().await;
    const WORD: &str = "xylophonequince";
    let mut sent = Vec::new();
    for i in 0..100 {
        let text = if i == 50 { format!("the {WORD} is ready") } else { format!("message {i} from Ada") };
        sent.push(ada.node.send(Target::Direct, &text, None).await.unwrap());
    }
    let ada_device = ada.node.device_id();
    let ada_holds = ada.node.version_vector().unwrap().get(&ada_device);
    eventually("the mailbox holds all Ada wrote", || async {
        (mailbox.version_vector().ok()?.get(&ada_device) >= ada_holds).then_some(())
    })
    .await;
    ada.stop().await;

    // Ben comes back alone: everything comes from the mailbox.
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    eventually("Ben holds all 100 messages", || async {
        sent.iter().all(|m| ben.node.message(&m.id).is_ok()).then_some(())
    })
    .await;
    assert_eq!(ben.node.message(&sent[50].id).unwrap().content, format!("the {WORD} is ready"));
    assert!(!ben.node.connected().await.unwrap().contains(&ada_device), "Ada is off: the mailbox carried it");

    // Ben reads them; his receipt reaches Ada later, through the mailbox, while he is away.
    ben.node.mark_read(sent[99].id).await.unwrap();
    let ben_device = ben.node.device_id();
    let ben_holds = ben.node.version_vector().unwrap().get(&ben_device);
    eventually("the mailbox holds Ben's receipt", || async {
        (mailbox.version_vector().ok()?.get(&ben_device) >= ben_holds).then_some(())
    })
    .await;
    ben.stop().await;
    ada.restart(|c| c).await;
    rejections.watch(&ada);
    eventually("Ada sees that Ben read her last message", || async {
        ada.node.message(&sent[99].id).ok()?.read.then_some(())
    })
    .await;

    // The mailbox's folder holds none of it readable.
    let files = files_under(boxdir.path());
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        assert!(!bytes.windows(WORD.len()).any(|w| w == WORD.as_bytes()), "{} holds the word", path.display());
        assert!(!bytes.windows(9).any(|w| w == b"message 7"), "{} holds a message", path.display());
    }
    rejections.assert_none();
    mailbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_can_neither_register_with_the_mailbox_nor_store_into_it() {
    let boxdir = tempfile::tempdir().unwrap();
    let (mailbox, ticket) = start_mailbox(boxdir.path()).await;
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    ada.node.add_mailbox(&ticket).await.expect("adding the mailbox");

    // A guessed ticket (another secret) is refused in words, and changes nothing.
    let mut guessed = MailboxTicket::decode(&ticket).unwrap();
    guessed.secret = [7; 16];
    let eve = TestNode::person("Eve").await;
    let mallory = TestNode::person("Mallory").await;
    pair(&eve, &mallory, InviteKind::Partner).await.expect("the strangers pair each other");
    let err = eve.node.add_mailbox(&guessed.encode()).await.expect_err("a guessed secret");
    assert!(err.to_string().contains("not valid here"), "{err}");
    // The real ticket, leaked: the mailbox serves Ada and Ben's space only.
    let err = eve.node.add_mailbox(&ticket).await.expect_err("another couple's space");
    assert!(err.to_string().contains("another couple"), "{err}");
    assert!(eve.node.mailbox().unwrap().is_none(), "nothing changed for Eve");

    // A bare client that is no member device: its sync stream is refused.
    let mut config = NetConfig::new([42; 32]);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.mdns = false;
    let (stranger, _events) = duet_net::start(config).await.unwrap();
    let place = ada.node.mailbox().unwrap().unwrap();
    stranger.add_addresses(place.device, place.addresses.iter().map(|a| a.parse().unwrap()).collect()).await.unwrap();
    let opened = tokio::time::timeout(Duration::from_secs(30), stranger.open_stream(place.device, DuetProtocol::Sync))
        .await
        .expect("an answer");
    assert!(opened.is_err(), "a stranger may not open a sync stream to the mailbox");
    let vv = mailbox.version_vector().unwrap();
    assert!(vv.iter().all(|(author, _)| *author != eve.node.device_id() && *author != mallory.node.device_id()));
    stranger.shutdown().await;
    mailbox.shutdown().await;
}
