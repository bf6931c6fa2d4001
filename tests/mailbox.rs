//! The couple's blind mailbox: Ada and Ben are never online together, and everything still
//! arrives, through a mailbox that can read none of it; strangers can neither register with
//! it nor store into it.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_log::mailbox::MailboxTicket;
use duet_model::{InviteKind, Target};
use duet_net::{DuetProtocol, NetConfig};
use duet_node::{Mailbox, MailboxConfig};
use duet_tests::{eventually, files_under, pair, Rejections, TestNode, PATIENCE};
use futures::{AsyncReadExt, AsyncWriteExt};

async fn start_mailbox(dir: &Path) -> (Mailbox, String) {
    start_mailbox_with(dir, |c| c).await
}

/// A mailbox on loopback, its settings changed by `change`, and its ticket.
async fn start_mailbox_with(dir: &Path, change: impl FnOnce(MailboxConfig) -> MailboxConfig) -> (Mailbox, String) {
    let mut config = MailboxConfig::new(dir);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap(), "/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap()];
    let mailbox = Mailbox::start(change(config)).await.expect("the mailbox starts");
    let ticket = mailbox.ticket(PATIENCE).await.expect("a ticket");
    (mailbox, ticket)
}

/// Ada and Ben, paired and watched for devices cut off; Ada adds the mailbox `ticket` names,
/// and Ben's device learns of it from her signed event.
async fn couple_with_mailbox(ticket: &str) -> (TestNode, TestNode, Rejections, duet_model::MailboxPlace) {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    let rejections = Rejections::default();
    rejections.watch(&ada);
    rejections.watch(&ben);
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let place = ada.node.add_mailbox(ticket).await.expect("adding the mailbox");
    eventually("Ben's device uses the mailbox too", || async { ben.node.mailbox().ok()?.map(|_| ()) }).await;
    (ada, ben, rejections, place)
}

/// Waits until the mailbox holds everything `node` wrote so far.
async fn holds_all_of(mailbox: &Mailbox, node: &TestNode) {
    let device = node.node.device_id();
    let wrote = node.node.version_vector().unwrap().get(&device);
    eventually(&format!("the mailbox holds all {} wrote", node.name), || async {
        (mailbox.version_vector().ok()?.get(&device) >= wrote).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_online_together_everything_arrives_through_the_mailbox_and_it_reads_nothing() {
    let boxdir = tempfile::tempdir().unwrap();
    let (mailbox, ticket) = start_mailbox(boxdir.path()).await;
    // Ada adds the mailbox; Ben's device learns of it from her signed event.
    let (mut ada, mut ben, rejections, place) = couple_with_mailbox(&ticket).await;
    assert_eq!(place.device, mailbox.device_id());

    // Ben goes away. Ada writes 100 messages, one with a word nobody else writes.
    ben.stop().await;
    const WORD: &str = "xylophonequince";
    let mut sent = Vec::new();
    for i in 0..100 {
        let text = if i == 50 { format!("the {WORD} is ready") } else { format!("message {i} from Ada") };
        sent.push(ada.node.send(Target::Direct, &text, None).await.unwrap());
    }
    // And a photo (a PNG of noise, about 700 KB: three chunks, and a thumbnail).
    let files = tempfile::tempdir().unwrap();
    let mut seed = 7u32;
    let picture = image::RgbImage::from_fn(480, 480, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        image::Rgb([(seed >> 24) as u8, (seed >> 16) as u8, (seed >> 8) as u8])
    });
    let path = files.path().join("beach.png");
    picture.save(&path).unwrap();
    let photo = std::fs::read(&path).unwrap();
    let with_photo = ada.node.send_file(Target::Direct, &path, "the beach", None).await.unwrap();
    sent.push(with_photo.clone());
    let ada_device = ada.node.device_id();
    holds_all_of(&mailbox, &ada).await;
    let photo_blob = &with_photo.attachments[0];
    let thumbnail = photo_blob.media.as_ref().and_then(|m| m.thumbnail()).expect("a photo has a thumbnail");
    let blobs = 2;
    let chunks = photo_blob.size.div_ceil(256 * 1024) as usize + 1;
    assert!(thumbnail.size < 256 * 1024);
    eventually("the mailbox holds the photo and its thumbnail, every chunk", || async {
        (mailbox.blobs_held() == (blobs, chunks)).then_some(())
    })
    .await;
    // Ada's device knows it, so her messages Ben has not received say they wait at the
    // mailbox: it holds her device's events up to her last message's time.
    eventually("Ada's device knows the mailbox holds her last message", || async {
        let status = ada.node.mailbox_status().await.ok()?;
        let held = status.holds.iter().find(|h| h.device == ada_device)?;
        (held.until >= sent[99].created_at && status.connected).then_some(())
    })
    .await;
    assert!(!ada.node.message(&sent[99].id).unwrap().delivered, "Ben has not got it: it waits at the mailbox");
    ada.stop().await;

    // Ben comes back alone: everything comes from the mailbox.
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    eventually("Ben holds all 101 messages", || async {
        sent.iter().all(|m| ben.node.message(&m.id).is_ok()).then_some(())
    })
    .await;
    // The photo comes from the mailbox too (Ben's device fetches it by itself), intact.
    let saved = tempfile::tempdir().unwrap();
    let got = tokio::time::timeout(PATIENCE, ben.node.save_attachment(&with_photo.id, 0, saved.path()))
        .await
        .expect("Ben's device fetches the photo from the mailbox")
        .unwrap();
    assert!(std::fs::read(&got).unwrap() == photo, "the photo arrived intact");
    assert_eq!(ben.node.message(&sent[50].id).unwrap().content, format!("the {WORD} is ready"));
    assert!(!ben.node.connected().await.unwrap().contains(&ada_device), "Ada is off: the mailbox carried it");

    // Ben reads them; his receipt reaches Ada later, through the mailbox, while he is away.
    ben.node.mark_read(sent[100].id).await.unwrap();
    holds_all_of(&mailbox, &ben).await;
    ben.stop().await;
    ada.restart(|c| c).await;
    rejections.watch(&ada);
    eventually("Ada sees that Ben read her last message", || async {
        ada.node.message(&sent[100].id).ok()?.read.then_some(())
    })
    .await;

    // The mailbox's folder holds none of it readable.
    let files = files_under(boxdir.path());
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        assert!(!bytes.windows(WORD.len()).any(|w| w == WORD.as_bytes()), "{} holds the word", path.display());
        assert!(!bytes.windows(9).any(|w| w == b"message 7"), "{} holds a message", path.display());
        // Nor the photo, nor its hash: a mailbox that held it could confirm a guess of the file.
        let hash = with_photo.attachments[0].blob.0;
        assert!(!bytes.windows(32).any(|w| w == hash), "{} holds the photo's hash", path.display());
        let piece = &photo[photo.len() / 2..photo.len() / 2 + 32];
        assert!(!bytes.windows(32).any(|w| w == piece), "{} holds the photo", path.display());
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
    // The stream may open lazily on this side; the mailbox then drops it unread, and never
    // answers with its Hello.
    let answered = tokio::time::timeout(Duration::from_secs(30), async {
        let Ok(mut stream) = stranger.open_stream(place.device, DuetProtocol::Sync).await else { return false };
        let members = duet_log::SyncMessage::Members(duet_log::Members::default()).encode();
        let mut frame = (members.len() as u32).to_be_bytes().to_vec();
        frame.extend(members);
        let _ = stream.write_all(&frame).await;
        let _ = stream.flush().await;
        let mut buf = [0u8; 64];
        matches!(stream.read(&mut buf).await, Ok(n) if n > 0)
    })
    .await
    .expect("an answer");
    assert!(!answered, "a stranger may not sync with the mailbox");
    let vv = mailbox.version_vector().unwrap();
    assert!(vv.iter().all(|(author, _)| *author != eve.node.device_id() && *author != mallory.node.device_id()));
    stranger.shutdown().await;
    mailbox.shutdown().await;
}

/// The mailbox as a process of its own (this test binary, running the ignored
/// `mailbox_child`), so that it can be SIGKILLed. It prints its ticket, then, every 50 ms,
/// how far it holds each author's log.
struct MailboxProcess {
    child: Child,
    /// The last seq it said it holds, per author (hex).
    held: Arc<Mutex<std::collections::HashMap<String, u64>>>,
    ticket: String,
}

impl MailboxProcess {
    fn start(dir: &Path, port: u16) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args(["--exact", "mailbox_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("DUET_MAILBOX_CHILD", dir)
            .env("DUET_MAILBOX_PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
        // The test harness prints "test mailbox_child ... " before it on the same line.
        let ticket = lines
            .by_ref()
            .find_map(|l| l.find("duetbox1").map(|at| l[at..].to_owned()))
            .expect("the child prints its ticket");
        let held = Arc::new(Mutex::new(std::collections::HashMap::new()));
        let seen = held.clone();
        std::thread::spawn(move || {
            for line in lines {
                if let Some((author, seq)) = line.strip_prefix("held ").and_then(|l| l.split_once(' ')) {
                    seen.lock().unwrap().insert(author.to_owned(), seq.parse().unwrap_or(0));
                }
            }
        });
        Self { child, held, ticket }
    }

    fn holds(&self, author: &duet_model::DeviceId) -> u64 {
        self.held.lock().unwrap().get(&author.to_string()).copied().unwrap_or(0)
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for MailboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "run by `a_mailbox_killed_in_the_middle_of_a_push_loses_nothing` as its child"]
fn mailbox_child() {
    let Ok(dir) = std::env::var("DUET_MAILBOX_CHILD") else { return };
    let port: u16 = std::env::var("DUET_MAILBOX_PORT").unwrap().parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut config = MailboxConfig::new(&dir);
        config.listen = vec![format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()];
        let mailbox = Mailbox::start(config).await.unwrap();
        println!("{}", mailbox.ticket(PATIENCE).await.unwrap());
        loop {
            for (author, seq) in mailbox.version_vector().unwrap().iter() {
                println!("held {author} {seq}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_killed_in_the_middle_of_a_push_loses_nothing_and_gives_nothing_twice() {
    let boxdir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mailbox = MailboxProcess::start(boxdir.path(), port);
    let (mut ada, mut ben, rejections, _) = couple_with_mailbox(&mailbox.ticket).await;
    ben.stop().await;

    // Ada writes 300 messages; the mailbox is killed once it holds some of them, and comes
    // back on the same folder and port while she goes on writing.
    let ada_device = ada.node.device_id();
    let before = ada.node.version_vector().unwrap().get(&ada_device);
    let writer = ada.node.clone();
    let writing = tokio::spawn(async move {
        let mut sent = Vec::new();
        for i in 0..300 {
            sent.push(writer.send(Target::Direct, &format!("note {i}"), None).await.unwrap().id);
            if i % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        sent
    });
    eventually("the mailbox holds some of the new messages", || async {
        (mailbox.holds(&ada_device) > before + 10).then_some(())
    })
    .await;
    mailbox.kill();
    let mailbox = MailboxProcess::start(boxdir.path(), port);
    let sent = writing.await.unwrap();
    let ada_holds = ada.node.version_vector().unwrap().get(&ada_device);
    eventually("the mailbox holds everything Ada wrote", || async {
        (mailbox.holds(&ada_device) >= ada_holds).then_some(())
    })
    .await;
    ada.stop().await;

    // Ben, alone: every message once, in order.
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    eventually("Ben holds all 300", || async { sent.iter().all(|id| ben.node.message(id).is_ok()).then_some(()) })
        .await;
    let page = ben.node.messages(Target::Direct, None, 1000).unwrap();
    let notes: Vec<&str> =
        page.messages.iter().rev().map(|m| m.content.as_str()).filter(|c| c.starts_with("note ")).collect();
    let expected: Vec<String> = (0..300).map(|i| format!("note {i}")).collect();
    assert_eq!(notes, expected.iter().map(String::as_str).collect::<Vec<_>>(), "each once, in order");
    rejections.assert_none();
}

/// A mailbox too small for what Ada writes while Ben is away drops the oldest; her device is
/// told (how many, when), and Ben still gets every message once both are online.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mailbox_drops_the_oldest_and_says_so_and_nothing_is_lost_for_good() {
    let boxdir = tempfile::tempdir().unwrap();
    let (mailbox, ticket) = start_mailbox_with(boxdir.path(), |c| MailboxConfig { quota_bytes: 16 * 1024, ..c }).await;
    let (mut ada, mut ben, rejections, _) = couple_with_mailbox(&ticket).await;

    ben.stop().await;
    let long = "a long line about the garden, ".repeat(16);
    let mut sent = Vec::new();
    for i in 0..60 {
        sent.push(ada.node.send(Target::Direct, &format!("{i}: {long}"), None).await.unwrap());
    }
    let usage = eventually("Ada's device is told the mailbox dropped some", || async {
        let usage = ada.node.mailbox_status().await.ok()?.usage?;
        (usage.dropped_undelivered > 0).then_some(usage)
    })
    .await;
    assert!(usage.last_drop.is_some() && usage.quota_bytes == 16 * 1024, "{usage:?}");

    // Ben comes back while Ada is away. Her log at the mailbox now starts past what he
    // holds, and a log is never taken with a gap, so her messages wait for her device (the
    // app says so, from the usage above). She is back: all of them come.
    ada.stop().await;
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    assert!(ben.node.message(&sent[0].id).is_err(), "the first was dropped before he had it");
    ada.restart(|c| c).await;
    rejections.watch(&ada);
    eventually("Ben holds all 60", || async { sent.iter().all(|m| ben.node.message(&m.id).is_ok()).then_some(()) })
        .await;
    rejections.assert_none();
    mailbox.shutdown().await;
}

/// Ada removes her laptop: the removal travels sealed, so her desktop tells the mailbox in
/// the open, signed; from then on the mailbox serves the laptop nothing and takes nothing
/// from it, while what it wrote before stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_device_can_no_longer_store_into_the_mailbox() {
    let boxdir = tempfile::tempdir().unwrap();
    let (mailbox, ticket) = start_mailbox(boxdir.path()).await;
    let desktop = TestNode::person("Ada").await;
    let laptop = TestNode::device_only("Ada's laptop").await;
    pair(&desktop, &laptop, InviteKind::OwnDevice).await.expect("linking the laptop");
    desktop.node.add_mailbox(&ticket).await.expect("adding the mailbox");
    eventually("the laptop uses the mailbox too", || async { laptop.node.mailbox().ok()?.map(|_| ()) }).await;
    let laptop_id = laptop.node.device_id();
    laptop.node.send(Target::Direct, "from the laptop, before", None).await.unwrap();
    holds_all_of(&mailbox, &laptop).await;
    assert!(mailbox.serves(&laptop_id));

    desktop.node.remove_device(laptop_id).await.expect("removing the laptop");
    eventually("the mailbox knows the laptop was removed", || async { (!mailbox.serves(&laptop_id)).then_some(()) })
        .await;
    let kept = mailbox.version_vector().unwrap().get(&laptop_id);
    assert!(kept >= 1, "what it wrote before stays");

    // The laptop writes on; then the desktop does, and once the mailbox holds the desktop's,
    // it still holds nothing more of the laptop's.
    laptop.node.send(Target::Direct, "from the laptop, after", None).await.unwrap();
    desktop.node.send(Target::Direct, "from the desktop, after", None).await.unwrap();
    holds_all_of(&mailbox, &desktop).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        mailbox.version_vector().unwrap().get(&laptop_id),
        kept,
        "the mailbox took something from the removed laptop"
    );
    mailbox.shutdown().await;
}
