//! Bad peers. A stranger that opens Duet's sync protocol is refused and learns nothing. A
//! member device that sends a tampered event is cut off, and what it sent before stays. A
//! device that signs two different events with the same number has forked its log: the
//! second is kept aside and the user is told.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use std::time::{SystemTime, UNIX_EPOCH};

use duet_crypto::DeviceKey;
use duet_log::sync::MAX_FRAME_BYTES;
use duet_log::{LogHead, NextEvent, SealedEvent, SyncMessage, Verifier};
use duet_model::{InviteKind, MessageId, SpaceId, Target, Timestamp};
use duet_net::{Client, DuetProtocol, NetConfig, NetEvent, Stream};
use duet_node::NodeEvent;
use duet_tests::{eventually, pair, Rejections, TestNode, PATIENCE};
use futures::{AsyncReadExt, AsyncWriteExt};
use rand::RngCore;
use tokio::sync::mpsc;

// ----- a hand-rolled peer: the bare network, no node behind it -----

/// A bare network client with `secret` as its identity, that knows where `to` listens.
async fn bare_client(secret: [u8; 32], to: &TestNode) -> (Client, mpsc::Receiver<NetEvent>) {
    let mut config = NetConfig::new(secret);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid")];
    config.mdns = false;
    let (client, events) = duet_net::start(config).await.expect("a bare client starts");
    let addrs = to.node.listen_addrs().await.expect("addresses");
    client.add_addresses(to.node.device_id(), addrs).await.expect("addresses added");
    (client, events)
}

/// A member device's keys and log head, read from its store while its node is stopped: what
/// malware on that computer, or a broken copy of the app, could sign with.
struct DeviceKeys {
    device: DeviceKey,
    space: SpaceId,
    key: duet_log::Keyring,
    head: LogHead,
    max_lamport: u64,
}

impl DeviceKeys {
    fn read(node: &TestNode) -> Self {
        let store = duet_tests::open_store(&node.dir).expect("the store");
        let device = store.identity().unwrap().expect("keys").device;
        let space = store.space().unwrap().expect("a space").space;
        let key = duet_log::Keyring::new(store.space_key().unwrap().expect("the space key"));
        let head = store.head(&device.id()).unwrap();
        let max_lamport = store.max_lamport().unwrap();
        Self { device, space, key, head, max_lamport }
    }

    /// A valid text message as the event after `head`.
    fn seal(&self, head: LogHead, text: &str) -> SealedEvent {
        self.seal_after_clock(head, text, self.max_lamport)
    }

    /// A valid text message as the event after `head`, written as if the device had seen
    /// events up to the Lamport clock `seen` (its clock is one more).
    fn seal_after_clock(&self, head: LogHead, text: &str, seen: u64) -> SealedEvent {
        self.seal_dated(head, text, seen, wall_clock())
    }

    /// A valid text message as the event after `head`, dated `at` by the device's clock.
    fn seal_dated(&self, head: LogHead, text: &str, seen: u64, at: Timestamp) -> SealedEvent {
        let next =
            NextEvent { space: self.space, device: &self.device, keys: &self.key, head, max_lamport: seen, now: at };
        next.seal(duet_log::testkit::TestSpace::text(text), &mut rand::rngs::OsRng).expect("a valid event").0
    }

    /// Connects to `to` as this device, opens a sync stream as a pusher does, and checks the
    /// receiver's Hello: it holds this device's log up to the stored head.
    async fn open_sync(&self, to: &TestNode) -> (Client, Stream) {
        let (client, mut events) = bare_client(*self.device.secret_bytes(), to).await;
        // The receiver is a member here, so its own pushes are let in (and ignored) rather
        // than refused by cutting the connection.
        client.set_members(vec![to.node.device_id()]).await.expect("members");
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        let mut stream = client.open_stream(to.node.device_id(), DuetProtocol::Sync).await.expect("a member may sync");
        let hello = read_message(&mut stream).await.expect("a hello");
        let SyncMessage::Hello { held, .. } = hello else { panic!("expected a hello, got {hello:?}") };
        assert_eq!(held.get(&self.device.id()), self.head.seq, "{} holds the device's log", to.name);
        (client, stream)
    }
}

async fn write_frame(stream: &mut Stream, msg: &SyncMessage) -> std::io::Result<()> {
    let bytes = msg.encode();
    stream.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    stream.write_all(&bytes).await?;
    stream.flush().await
}

/// The next sync message, `None` once the stream has ended (closed, reset or cut off).
async fn read_message(stream: &mut Stream) -> Option<SyncMessage> {
    let read = async {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await.ok()?;
        let len = u32::from_be_bytes(len) as usize;
        assert!(len <= MAX_FRAME_BYTES, "a {len}-byte frame");
        let mut buf = vec![0; len];
        stream.read_exact(&mut buf).await.ok()?;
        Some(SyncMessage::decode(&buf).expect("a well-formed sync message"))
    };
    tokio::time::timeout(PATIENCE, read).await.expect("the stream answers or ends in time")
}

/// Waits until the stream has ended, skipping what is still in flight.
async fn ended(stream: &mut Stream) {
    let mut skipped = 0;
    while read_message(stream).await.is_some() {
        skipped += 1;
        assert!(skipped < 100, "the stream goes on and on");
    }
}

/// Waits for the first node event `pick` accepts.
async fn next_event<T>(
    what: &str,
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
    mut pick: impl FnMut(NodeEvent) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(e) => {
                    if let Some(found) = pick(e) {
                        return found;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("node events ended: {e}"),
            }
        }
    });
    found.await.unwrap_or_else(|_| panic!("gave up waiting for {what}"))
}

fn wall_clock() -> Timestamp {
    Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64)
}

fn message_id(event: &SealedEvent) -> MessageId {
    MessageId::new(event.timestamp(), &event.author(), event.seq())
}

/// Ada and Ben, paired, with a message each, holding the same events.
async fn couple() -> (TestNode, TestNode) {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let from_ada = ada.node.send(Target::Direct, "only for Ben", None).await.unwrap();
    let from_ben = ben.node.send(Target::Direct, "only for Ada", None).await.unwrap();
    eventually("both messages and their receipts arrive", || async {
        let both = ben.node.message(&from_ada.id).is_ok_and(|m| m.delivered)
            && ada.node.message(&from_ben.id).is_ok_and(|m| m.delivered);
        let same = ada.node.store().version_vector().ok()? == ben.node.store().version_vector().ok()?;
        (both && same).then_some(())
    })
    .await;
    (ada, ben)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_is_refused_and_reads_nothing() {
    let (ada, _ben) = couple().await;
    let mut stranger_key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut stranger_key);
    let (stranger, _stranger_events) = bare_client(stranger_key, &ada).await;
    let ada_device = ada.node.device_id();

    // The stranger can connect (relays and DHT neighbours must), but not speak sync: it gets
    // not a single message (a member would get Ada's Hello at once), and is disconnected.
    // Either the stream is refused while it opens, or it ends before a single message.
    if let Ok(mut stream) = stranger.open_stream(ada_device, DuetProtocol::Sync).await {
        assert_eq!(read_message(&mut stream).await, None, "a stranger reads nothing");
    }
    eventually("Ada disconnects the stranger", || async {
        (!stranger.connected().await.ok()?.contains(&ada_device)).then_some(())
    })
    .await;
    let peers = ada.node.peers().await.unwrap();
    assert!(peers.iter().all(|p| p.device != stranger.local_device()), "the stranger did not become a member");
    stranger.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sending_a_tampered_event_is_cut_off_and_nothing_valid_is_lost() {
    let (ada, mut ben) = couple().await;
    let ben_device = ben.node.device_id();
    ben.stop().await;

    // Ben's device signs its next four events; the last one is damaged on the way.
    let keys = DeviceKeys::read(&ben);
    let mut head = keys.head;
    let mut events = Vec::new();
    for n in 1..=4 {
        let event = keys.seal(head, &format!("hand-rolled {n}"));
        head = LogHead::after(&event, &keys.space);
        events.push(event);
    }
    let mut tampered = events[3].body().to_vec();
    // The last byte of the ciphertext (its tag), just before the signature.
    let in_ciphertext = tampered.len() - 65;
    tampered[in_ciphertext] ^= 0x01;
    let bodies = |range: std::ops::Range<usize>| events[range].iter().map(|e| e.body().to_vec()).collect::<Vec<_>>();
    let first_seq = events[0].seq();

    let mut ada_events = ada.node.subscribe();
    let (pusher, mut stream) = keys.open_sync(&ada).await;

    // Two good events: applied and acknowledged.
    write_frame(&mut stream, &SyncMessage::Batch { author: ben_device, first_seq, bodies: bodies(0..2) })
        .await
        .unwrap();
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack));

    // A good one, then the tampered one.
    let mut bad_batch = bodies(2..3);
    bad_batch.push(tampered);
    write_frame(&mut stream, &SyncMessage::Batch { author: ben_device, first_seq: first_seq + 2, bodies: bad_batch })
        .await
        .unwrap();
    let rejected = next_event("Ada rejecting Ben", &mut ada_events, |e| match e {
        NodeEvent::PeerRejected { device, reason } if device == ben_device => Some(reason),
        _ => None,
    })
    .await;
    assert!(rejected.contains("signature"), "the reason says what was wrong: {rejected}");
    match read_message(&mut stream).await {
        None => {}
        Some(SyncMessage::Reject { reason }) => assert_eq!(reason, rejected),
        Some(other) => panic!("expected a rejection, got {other:?}"),
    }
    ended(&mut stream).await;
    eventually("Ada disconnects Ben's device", || async {
        (!ada.node.connected().await.ok()?.contains(&ben_device)).then_some(())
    })
    .await;

    // What was valid is kept, the damaged event is not.
    for event in &events[..3] {
        let m = ada.node.message(&message_id(event)).expect("the valid events are kept");
        assert!(m.content.starts_with("hand-rolled"));
    }
    assert_eq!(ada.node.store().head(&ben_device).unwrap().seq, events[2].seq());
    assert_eq!(ada.node.store().event(&ben_device, events[3].seq()).unwrap(), None);
    assert!(ada.node.message(&message_id(&events[3])).is_err());
    pusher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_different_events_with_the_same_number_are_a_fork_kept_aside() {
    let (ada, mut ben) = couple().await;
    let ben_device = ben.node.device_id();
    ben.stop().await;

    // Ben's device signs two different events as its next one.
    let keys = DeviceKeys::read(&ben);
    let head = keys.head;
    let one = keys.seal(head, "the first version");
    let other = keys.seal(head, "another version, same number");
    assert_eq!(one.seq(), other.seq());

    let mut ada_events = ada.node.subscribe();
    let (pusher, mut stream) = keys.open_sync(&ada).await;
    write_frame(
        &mut stream,
        &SyncMessage::Batch { author: ben_device, first_seq: one.seq(), bodies: vec![one.body().to_vec()] },
    )
    .await
    .unwrap();
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack));
    write_frame(
        &mut stream,
        &SyncMessage::Batch { author: ben_device, first_seq: other.seq(), bodies: vec![other.body().to_vec()] },
    )
    .await
    .unwrap();
    let (device, seq) = next_event("Ada detecting the fork", &mut ada_events, |e| match e {
        NodeEvent::Fork { device, seq, .. } => Some((device, seq)),
        _ => None,
    })
    .await;
    assert_eq!((device, seq), (ben_device, one.seq()));
    assert_eq!(ada.node.store().forks().unwrap(), vec![(ben_device, one.seq())]);
    next_event("Ada cutting Ben's device off", &mut ada_events, |e| match e {
        NodeEvent::PeerRejected { device, .. } if device == ben_device => Some(()),
        _ => None,
    })
    .await;
    ended(&mut stream).await;

    // The first version stays Ada's message; the other is set aside, not shown.
    assert_eq!(ada.node.message(&message_id(&one)).unwrap().content, "the first version");
    let shown = ada.node.messages(Target::Direct, None, 50).unwrap().messages;
    assert!(shown.iter().all(|m| m.content != "another version, same number"));
    assert_eq!(ada.node.store().event(&ben_device, one.seq()).unwrap(), Some(one));
    pusher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_dated_at_the_end_of_time_is_refused_and_the_space_goes_on() {
    let (ada, mut ben) = couple().await;
    let ben_device = ben.node.device_id();
    ben.stop().await;
    let keys = DeviceKeys::read(&ben);
    let held = ada.node.store().max_lamport().unwrap();

    // A device can honestly be ahead of Ada (it saw events she has not): a clock 1,000 past
    // hers is taken.
    let ahead = keys.seal_after_clock(keys.head, "written after much I have not seen", held + 999);
    assert_eq!(ahead.lamport(), held + 1000);
    // Then Ben's device, gone bad, dates its next event at the largest clock there is.
    let at_the_end = keys.seal_after_clock(LogHead::after(&ahead, &keys.space), "the last word", u64::MAX - 1);
    assert_eq!(at_the_end.lamport(), u64::MAX);

    let mut ada_events = ada.node.subscribe();
    let (pusher, mut stream) = keys.open_sync(&ada).await;
    let batch = |e: &SealedEvent| SyncMessage::Batch {
        author: ben_device,
        first_seq: e.seq(),
        bodies: vec![e.body().to_vec()],
    };
    write_frame(&mut stream, &batch(&ahead)).await.unwrap();
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack), "a clock somewhat ahead is fine");
    write_frame(&mut stream, &batch(&at_the_end)).await.unwrap();
    let reason = next_event("Ada refusing the event", &mut ada_events, |e| match e {
        NodeEvent::PeerRejected { device, reason } if device == ben_device => Some(reason),
        _ => None,
    })
    .await;
    assert!(reason.contains("impossibly far ahead"), "the reason says what was wrong: {reason}");
    ended(&mut stream).await;
    pusher.shutdown().await;

    // Nothing of it is kept, and Ada goes on writing: her next message follows the clock she
    // really holds (no overflow, no wrap to 0 that her partner would refuse).
    assert_eq!(ada.node.store().head(&ben_device).unwrap().seq, ahead.seq());
    assert!(ada.node.message(&message_id(&at_the_end)).is_err());
    assert_eq!(ada.node.store().max_lamport().unwrap(), ahead.lamport());
    let next = ada.node.send(Target::Direct, "still here", None).await.expect("Ada can still write");
    let mine = ada.node.store().head(&ada.node.device_id()).unwrap();
    assert_eq!(mine.lamport, ahead.lamport() + 1);
    assert_eq!(ada.node.message(&next.id).unwrap().content, "still here");
}

/// Counts the `Fork` events about `device` waiting in `events`, without waiting for more.
fn forks_told(events: &mut tokio::sync::broadcast::Receiver<NodeEvent>, device: duet_model::DeviceId) -> usize {
    let mut told = 0;
    loop {
        match events.try_recv() {
            Ok(NodeEvent::Fork { device: d, .. }) if d == device => told += 1,
            Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return told,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_forks_is_cut_off_and_the_honest_devices_go_on_syncing() {
    let (ada, mut ben) = couple().await;
    let mut laptop = TestNode::device_only("Ada's laptop").await;
    pair(&ada, &laptop, InviteKind::OwnDevice).await.expect("linking Ada's laptop");
    let laptop_device = laptop.node.device_id();
    eventually("all three hold the same events", || async {
        let vv = ada.node.store().version_vector().ok()?;
        let same = vv == ben.node.store().version_vector().ok()? && vv == laptop.node.store().version_vector().ok()?;
        (same && vv.get(&laptop_device) > 0).then_some(())
    })
    .await;
    laptop.stop().await;

    // The laptop, gone bad, signs two versions of its next event: one for Ada, one for Ben.
    let keys = DeviceKeys::read(&laptop);
    let for_ada = keys.seal(keys.head, "the version Ada gets");
    let for_ben = keys.seal(keys.head, "the version Ben gets");
    assert_eq!(for_ada.seq(), for_ben.seq());

    let rejections = Rejections::default();
    rejections.watch(&ada);
    rejections.watch(&ben);
    let mut ada_events = ada.node.subscribe();
    let mut ben_events = ben.node.subscribe();

    // Ada's version reaches her store without waking her node, so that she forwards it only
    // with her next message, once Ben holds the other version (else Ben would meet the fork
    // in the laptop's own push, not in a forwarded one).
    {
        let store = ada.node.store();
        let state = store.space().unwrap().expect("a space");
        let keys = duet_log::Keyring::new(store.space_key().unwrap().expect("the key"));
        let max_lamport = store.max_lamport().unwrap();
        let verifier = Verifier { space: state.space, membership: &state.membership, keys: Some(&keys), max_lamport };
        let head = store.head(&laptop_device).unwrap();
        let opened = verifier.verify(&head, for_ada.clone(), |_| None).expect("valid").expect("new");
        store.apply_remote(&[opened]).expect("stored at Ada");
    }
    // Ben's version comes from the laptop itself; Ben forwards it to Ada at once.
    let (pusher, mut stream) = keys.open_sync(&ben).await;
    write_frame(
        &mut stream,
        &SyncMessage::Batch { author: laptop_device, first_seq: for_ben.seq(), bodies: vec![for_ben.body().to_vec()] },
    )
    .await
    .unwrap();
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack));
    pusher.shutdown().await;

    // Ada writes: her push carries the laptop's other version to Ben too.
    let from_ada = ada.node.send(Target::Direct, "did you get the laptop's message?", None).await.unwrap();
    for (who, events, whose) in [("Ada", &mut ada_events, "Your device"), ("Ben", &mut ben_events, "Ada's device")] {
        let (seq, message) = next_event(&format!("{who} told of the fork"), events, |e| match e {
            NodeEvent::Fork { device, seq, message } if device == laptop_device => Some((seq, message)),
            _ => None,
        })
        .await;
        assert_eq!(seq, for_ada.seq());
        assert!(message.contains("two different versions"), "{who} is told in words: {message}");
        assert!(message.starts_with(whose), "{who} is told whose device it is: {message}");
    }

    // Ada and Ben never cut each other off: they go on syncing both ways.
    let got = eventually("Ben gets Ada's message", || async { ben.node.message(&from_ada.id).ok() }).await;
    assert_eq!(got.content, from_ada.content);
    let from_ben = ben.node.send(Target::Direct, "yes, and a strange one", None).await.unwrap();
    eventually("Ada gets Ben's answer", || async { ada.node.message(&from_ben.id).ok() }).await;
    rejections.assert_none();

    // Each keeps the evidence and the version it had; neither takes anything new from the
    // laptop, whoever brings it.
    for (who, node, kept, text) in
        [("Ada", &ada, &for_ada, "the version Ada gets"), ("Ben", &ben, &for_ben, "the version Ben gets")]
    {
        assert_eq!(node.node.store().forks().unwrap(), vec![(laptop_device, kept.seq())], "{who} keeps the evidence");
        assert_eq!(node.node.message(&message_id(kept)).unwrap().content, text);
        let (client, _events) = bare_client(*keys.device.secret_bytes(), node).await;
        client.set_members(vec![node.node.device_id()]).await.unwrap();
        if let Ok(mut stream) = client.open_stream(node.node.device_id(), DuetProtocol::Sync).await {
            assert_eq!(read_message(&mut stream).await, None, "{who} no longer syncs with the laptop");
        }
        client.shutdown().await;
    }

    // Told once: new sessions (Ben restarts) neither tell again nor cut anyone off.
    assert_eq!(forks_told(&mut ben_events, laptop_device), 0, "Ben was told once");
    drop(ben_events);
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    let again = ada.node.send(Target::Direct, "still there?", None).await.unwrap();
    eventually("Ben gets Ada's next message", || async { ben.node.message(&again.id).ok() }).await;
    let answer = ben.node.send(Target::Direct, "still here", None).await.unwrap();
    eventually("Ada gets Ben's next answer", || async { ada.node.message(&answer.id).ok() }).await;
    assert_eq!(forks_told(&mut ada_events, laptop_device), 0, "Ada was told once");
    rejections.assert_none();
}

/// Ben's device, broken or malicious, tells Ada that Carol is a member too, certificate and
/// all. A couple's space has two people for good: Ada takes none of it, keeps syncing with
/// Ben, and Carol's device may open nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_device_cannot_bring_in_a_third_person() {
    let (ada, mut ben) = couple().await;
    let mut carol = TestNode::person("Carol").await;
    carol.stop().await;
    let (carols_key, carols) = {
        let store = duet_tests::open_store(&carol.dir).unwrap();
        let identity = store.identity().unwrap().expect("Carol's keys");
        (identity.device, identity.certificate.expect("Carol's device certificate"))
    };
    ben.stop().await;
    let keys = DeviceKeys::read(&ben);
    let (pusher, mut stream) = keys.open_sync(&ada).await;
    let claim = duet_log::sync::Members { persons: vec![carols.person], certificates: vec![carols.encode()] };
    write_frame(&mut stream, &SyncMessage::Members(claim)).await.unwrap();
    // A valid event after it: once it is acknowledged, the claim has been read.
    let event = keys.seal(keys.head, "after the claim");
    let batch =
        SyncMessage::Batch { author: keys.device.id(), first_seq: event.seq(), bodies: vec![event.body().to_vec()] };
    write_frame(&mut stream, &batch).await.unwrap();
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack), "Ben's device is still heard");
    ada.node.message(&message_id(&event)).expect("and its message kept");

    let membership = ada.node.store().space().unwrap().expect("a space").membership;
    assert_eq!(membership.persons().count(), 2, "still a couple");
    assert!(!membership.has_person(&carols.person) && membership.device(&carols.device).is_none());
    assert_eq!(ada.node.presence().unwrap().len(), 2, "Ada lists two people");
    pusher.shutdown().await;

    // Carol's device is refused the sync protocol (a member-only protocol).
    let (carols_client, _events) = bare_client(*carols_key.secret_bytes(), &ada).await;
    // Either the stream is refused while it opens, or it ends before a single message.
    if let Ok(mut stream) = carols_client.open_stream(ada.node.device_id(), DuetProtocol::Sync).await {
        assert_eq!(read_message(&mut stream).await, None, "Carol may not sync with Ada");
    }
    carols_client.shutdown().await;
}

/// Before Ada has a partner, one of her own devices (stolen, or running something else) says
/// Carol is in the space, with a valid certificate of Carol's: Ada's phone does not take her.
/// A person enters only through the pairing, as a signed `PartnerJoin` in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_mine_cannot_make_someone_my_partner() {
    let phone = TestNode::person("Ada's phone").await;
    let mut laptop = TestNode::device_only("Ada's laptop").await;
    pair(&phone, &laptop, InviteKind::OwnDevice).await.expect("linking the laptop");
    let mut carol = TestNode::person("Carol").await;
    carol.stop().await;
    let carols = {
        let store = duet_tests::open_store(&carol.dir).unwrap();
        store.identity().unwrap().expect("Carol's keys").certificate.expect("Carol's device certificate")
    };
    laptop.stop().await;
    let keys = DeviceKeys::read(&laptop);
    let (pusher, mut stream) = keys.open_sync(&phone).await;
    let ada = phone.node.person_id().expect("Ada");
    let claim = duet_log::sync::Members { persons: vec![ada, carols.person], certificates: vec![carols.encode()] };
    write_frame(&mut stream, &SyncMessage::Members(claim)).await.unwrap();
    // A valid event after it: once it is acknowledged, the claim has been read.
    let event = keys.seal(keys.head, "after the claim");
    let batch =
        SyncMessage::Batch { author: keys.device.id(), first_seq: event.seq(), bodies: vec![event.body().to_vec()] };
    write_frame(&mut stream, &batch).await.unwrap();
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack), "the laptop is still heard");
    pusher.shutdown().await;

    let membership = phone.node.store().space().unwrap().expect("a space").membership;
    assert_eq!(membership.persons().count(), 1, "Ada is alone until she pairs");
    assert!(!membership.has_person(&carols.person) && membership.device(&carols.device).is_none());
    assert_eq!(phone.node.partner().unwrap(), None, "nobody is called her partner");
}

/// Ben's device dates its messages an hour ahead (its clock is wrong, or it wants its words to
/// stay at the bottom of the conversation). Four minutes ahead is a clock a little fast and is
/// taken; an hour is not: that message and the ones after it wait, unread, and Ada is told
/// once, in words, which device and by how much.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_dated_an_hour_ahead_wait_and_the_person_is_told() {
    let (ada, mut ben) = couple().await;
    let ben_device = ben.node.device_id();
    ben.stop().await;
    let keys = DeviceKeys::read(&ben);
    let now = wall_clock().0;
    let fast = keys.seal_dated(keys.head, "my clock is a little fast", keys.max_lamport, Timestamp(now + 4 * 60_000));
    let hour = Timestamp(now + 60 * 60_000);
    let ahead = keys.seal_dated(LogHead::after(&fast, &keys.space), "from the future", fast.lamport(), hour);
    let after = keys.seal_dated(LogHead::after(&ahead, &keys.space), "and after it", ahead.lamport(), hour);

    let mut ada_events = ada.node.subscribe();
    let (pusher, mut stream) = keys.open_sync(&ada).await;
    let bodies = [&fast, &ahead, &after].iter().map(|e| e.body().to_vec()).collect();
    write_frame(&mut stream, &SyncMessage::Batch { author: ben_device, first_seq: fast.seq(), bodies }).await.unwrap();
    let (ahead_ms, told) = next_event("Ada told of Ben's clock", &mut ada_events, |e| match e {
        NodeEvent::ClockAhead { device, ahead_ms, message } if device == ben_device => Some((ahead_ms, message)),
        _ => None,
    })
    .await;
    assert!((55 * 60_000..=61 * 60_000).contains(&ahead_ms), "{ahead_ms} ms");
    assert!(told.contains("Ben's device") && told.contains("60 minutes ahead") && told.contains("clock"), "{told}");
    // The batch is acknowledged (the pusher moves on); nothing in it is refused or banned.
    assert_eq!(read_message(&mut stream).await, Some(SyncMessage::Ack));

    assert_eq!(ada.node.message(&message_id(&fast)).unwrap().content, "my clock is a little fast");
    assert!(ada.node.message(&message_id(&ahead)).is_err(), "an hour ahead waits");
    assert!(ada.node.message(&message_id(&after)).is_err(), "and so does what follows it");
    assert_eq!(ada.node.store().head(&ben_device).unwrap().seq, fast.seq());
    assert!(ada.node.connected().await.unwrap().contains(&ben_device), "Ben's device is not cut off");
    pusher.shutdown().await;
}
