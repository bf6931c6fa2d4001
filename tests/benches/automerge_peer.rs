//! The peer to beat: Automerge (the `automerge` crate, the Rust core every Automerge binding
//! runs on) carrying the same messages from Ada to Ben.
//!
//! Ada's document is what a chat app on Automerge would keep: a root list `messages` of maps
//! `{id, author, created_at, content}`, one change per message (as Duet makes one signed event
//! per message). It is built before the clock starts. Then, timed:
//!
//! - **whole-document sync**: Ada saves the document (`Automerge::save`, compressed columns),
//!   the bytes cross a real TCP connection on loopback, Ben loads them (`Automerge::load`,
//!   which checks every change's hash). This is Automerge's fastest way to hand a backlog over.
//! - **change-by-change sync**: the sync protocol (`SyncDoc::generate_sync_message` /
//!   `receive_sync_message`, each message encoded and decoded as bytes) between Ada's document
//!   and an empty one, in one process (no network time counted), until neither has more to
//!   send.
//!
//! Automerge neither signs nor encrypts: neither figure includes a signature check or a
//! decryption, which Duet's does.

use std::time::{Duration, Instant};

use automerge::sync::{Message, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ReadDoc, ScalarValue, ROOT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Ada's document, built once; each way of syncing it is timed on its own.
pub struct Peer {
    ada: Automerge,
    n: usize,
    /// Building it, one change per message (not part of either sync).
    pub build: Duration,
}

/// One whole-document sync.
pub struct WholeDocument {
    pub saved_bytes: usize,
    pub save: Duration,
    pub copy: Duration,
    pub load: Duration,
}

impl WholeDocument {
    /// Save, copy and load.
    pub fn total(&self) -> Duration {
        self.save + self.copy + self.load
    }
}

/// One run of the sync protocol from an empty document to all of Ada's.
pub struct ChangeByChange {
    pub time: Duration,
    pub rounds: usize,
    pub bytes: usize,
}

impl Peer {
    /// Builds Ada's document of `n` messages written by `text`.
    pub fn build(n: usize, text: fn(usize) -> String) -> Self {
        let started = Instant::now();
        let ada = build(n, text);
        Self { ada, n, build: started.elapsed() }
    }

    /// Ada saves, the bytes cross TCP, Ben loads.
    pub async fn whole_document(&self) -> WholeDocument {
        let started = Instant::now();
        let saved = self.ada.save();
        let save = started.elapsed();
        let saved_bytes = saved.len();
        let (received, copy) = tcp_send(saved).await;
        let started = Instant::now();
        let ben = Automerge::load(&received).expect("Ben loads Ada's document");
        let load = started.elapsed();
        assert_eq!(messages_held(&ben), self.n, "Ben holds every message");
        WholeDocument { saved_bytes, save, copy, load }
    }

    /// The sync protocol until it is quiet.
    pub fn change_by_change(&self) -> ChangeByChange {
        let started = Instant::now();
        let (ben, rounds, bytes) = sync_protocol(&self.ada);
        let time = started.elapsed();
        assert_eq!(messages_held(&ben), self.n, "Ben holds every message after the sync protocol");
        ChangeByChange { time, rounds, bytes }
    }
}

fn build(n: usize, text: fn(usize) -> String) -> Automerge {
    let mut doc = Automerge::new().with_actor(ActorId::from(b"ada's device".as_slice()));
    let list = {
        let mut tx = doc.transaction();
        let list = tx.put_object(ROOT, "messages", ObjType::List).expect("the list");
        tx.commit();
        list
    };
    let created = 1_796_000_000_000i64;
    for i in 0..n {
        let mut tx = doc.transaction();
        let message = tx.insert_object(&list, i, ObjType::Map).expect("a message");
        tx.put(&message, "id", ScalarValue::Uint(i as u64)).expect("id");
        tx.put(&message, "author", "ada").expect("author");
        tx.put(&message, "created_at", ScalarValue::Timestamp(created + i as i64)).expect("time");
        tx.put(&message, "content", text(i)).expect("content");
        tx.commit();
    }
    doc
}

fn messages_held(doc: &Automerge) -> usize {
    match doc.get(ROOT, "messages").expect("read") {
        Some((_, list)) => doc.length(&list),
        None => 0,
    }
}

/// Runs the sync protocol from Ada's document to an empty one; every message goes through
/// its byte encoding. Returns Ben's document, the messages exchanged and their bytes.
fn sync_protocol(ada: &Automerge) -> (Automerge, usize, usize) {
    let mut ada = ada.clone();
    let mut ben = Automerge::new();
    let (mut ada_state, mut ben_state) = (State::new(), State::new());
    let (mut rounds, mut bytes) = (0, 0);
    loop {
        let sent = [
            pass(&ada, &mut ada_state, &mut ben, &mut ben_state),
            pass(&ben, &mut ben_state, &mut ada, &mut ada_state),
        ];
        if sent.iter().all(Option::is_none) {
            return (ben, rounds, bytes);
        }
        rounds += sent.iter().flatten().count();
        bytes += sent.iter().flatten().sum::<usize>();
    }
}

/// One sync message from `from` to `to`, through its bytes: their length, or `None` when
/// `from` has nothing to say.
fn pass(from: &Automerge, from_state: &mut State, to: &mut Automerge, to_state: &mut State) -> Option<usize> {
    let encoded = from.generate_sync_message(from_state)?.encode();
    let message = Message::decode(&encoded).expect("a sync message");
    to.receive_sync_message(to_state, message).expect("the other side applies it");
    Some(encoded.len())
}

/// Sends `bytes` over a fresh TCP connection on loopback; returns what arrived and how long
/// connecting, sending and receiving all of it took.
async fn tcp_send(bytes: Vec<u8>) -> (Vec<u8>, Duration) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let expected = bytes.len();
    let reader = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut received = Vec::with_capacity(expected);
        stream.read_to_end(&mut received).await.expect("read");
        received
    });
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&bytes).await.expect("write");
    stream.shutdown().await.expect("shutdown");
    let received = reader.await.expect("reader");
    (received, started.elapsed())
}
