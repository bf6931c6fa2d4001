//! Pairing as people live it: a welcome lost on the way is retried with the same ticket, a
//! ticket works for no one else once used, and the pairing protocol answers only while an
//! invite is open.

use duet_log::pairing::{self, JoinRequest};
use duet_model::{InviteKind, Target};
use duet_net::{Client, DuetProtocol, NetConfig, NetEvent, Stream};
use duet_node::{InviteStatus, NodeEvent};
use duet_tests::{eventually, TestNode, PATIENCE};
use futures::{AsyncReadExt, AsyncWriteExt};
use rand::RngCore;
use tokio::sync::mpsc;

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

async fn write_frame(stream: &mut Stream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// The answer on a pair stream, `None` when the stream ends without one.
async fn read_answer(stream: &mut Stream) -> Option<pairing::JoinResponse> {
    let read = async {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await.ok()?;
        let mut buf = vec![0; u32::from_be_bytes(len) as usize];
        stream.read_exact(&mut buf).await.ok()?;
        Some(pairing::JoinResponse::decode(&buf).expect("a well-formed answer"))
    };
    tokio::time::timeout(PATIENCE, read).await.expect("the stream answers or ends in time")
}

/// Whether `to` answers a stranger on `/duet/pair/1` (with anything at all).
async fn answers_strangers(to: &TestNode) -> bool {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let (stranger, _events) = bare_client(secret, to).await;
    let answered = match stranger.open_stream(to.node.device_id(), DuetProtocol::Pair).await {
        Ok(mut stream) => {
            let garbage = [7u8; 40];
            write_frame(&mut stream, &garbage).await.is_ok() && read_answer(&mut stream).await.is_some()
        }
        Err(_) => false,
    };
    stranger.shutdown().await;
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_welcome_is_retried_with_the_same_ticket_and_the_ticket_works_for_no_one_else() {
    let ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    let carol = TestNode::person("Carol").await;
    let ticket = ada.node.invite(InviteKind::Partner).await.unwrap();
    let invite = pairing::decode_ticket(&ticket).unwrap();

    // Ben's computer sends its join request, and the welcome never reaches it (the network
    // drops, the app is closed): Ada has taken him in, Ben knows nothing of it.
    ben.stop().await;
    let identity = {
        let store = duet_tests::open_store(&ben.dir).unwrap();
        store.identity().unwrap().expect("Ben's keys")
    };
    let mut ada_events = ada.node.subscribe();
    let (bens_computer, _events) = bare_client(*identity.device.secret_bytes(), &ada).await;
    let mut stream = bens_computer.open_stream(ada.node.device_id(), DuetProtocol::Pair).await.unwrap();
    let request = JoinRequest {
        space: invite.space,
        proof: pairing::proof(&invite.secret, &invite.space, &identity.device_id()),
        device_x25519: identity.device.x25519_public(),
        certificate: identity.certificate.as_ref().map(|c| c.encode()),
        device_name: "Ben's computer".into(),
    };
    write_frame(&mut stream, &request.encode()).await.unwrap();
    tokio::time::timeout(PATIENCE, async {
        while !matches!(ada_events.recv().await, Ok(NodeEvent::Paired { .. }) | Err(_)) {}
    })
    .await
    .expect("Ada takes Ben in");
    drop(stream);
    bens_computer.shutdown().await;
    // Meanwhile the ticket is Ben's: Carol is refused, in words.
    let err = carol.node.join(&ticket).await.expect_err("the ticket is Ben's");
    assert!(err.to_string().contains("already used"), "{err}");

    // Ben tries again with the same ticket: he pairs.
    ben.restart(|c| c).await;
    ben.node.join(&ticket).await.expect("the same joiner may use the same ticket again");
    let hello = ben.node.send(Target::Direct, "second try", None).await.unwrap();
    eventually("Ada gets Ben's message", || async { ada.node.message(&hello.id).ok() }).await;
    let back = ada.node.send(Target::Direct, "welcome, at last", None).await.unwrap();
    eventually("Ben gets Ada's answer", || async { ben.node.message(&back.id).ok() }).await;
    assert_eq!(ben.node.partner().unwrap(), ada.node.person_id());

    // Anyone else is still refused, in words.
    let err = carol.node.join(&ticket).await.expect_err("the ticket is used");
    assert!(err.to_string().contains("already used"), "{err}");
    assert_eq!(ada.node.presence().unwrap().len(), 2, "Ada's space still holds two people");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_are_listed_and_cancelled_and_pairing_answers_only_while_one_is_open() {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    let laptop = TestNode::device_only("Ada's laptop").await;
    assert!(!answers_strangers(&ada).await, "no invite, no pairing");
    let ticket = ada.node.invite(InviteKind::Partner).await.unwrap();
    assert!(answers_strangers(&ada).await, "an open invite: someone with a wrong ticket hears why");

    // Ada lists her invites and takes one back; its ticket then says so.
    let for_laptop = ada.node.invite(InviteKind::OwnDevice).await.unwrap();
    let listed = ada.node.invites();
    let ids: Vec<&str> = listed.iter().map(|i| i.id.as_str()).collect();
    let (partner_id, laptop_id) = (duet_node::ticket_id(&ticket).unwrap(), duet_node::ticket_id(&for_laptop).unwrap());
    assert_eq!(ids, vec![partner_id.as_str(), laptop_id.as_str()]);
    assert!(listed.iter().all(|i| i.state == InviteStatus::Open && i.joiner.is_none()));
    assert_eq!(listed[1].kind, InviteKind::OwnDevice);
    let cancelled = ada.node.cancel_invite(&laptop_id).await.unwrap();
    assert_eq!(cancelled.state, InviteStatus::Cancelled);
    let err = laptop.node.join(&for_laptop).await.expect_err("a cancelled ticket");
    assert!(err.to_string().contains("cancelled"), "{err}");
    let err = ada.node.cancel_invite("0123456789ab").await.expect_err("no such invite");
    assert!(err.to_string().contains("no invite 0123456789ab"), "{err}");

    // A second partner invite, made before Ben used the first.
    let spare_ticket = ada.node.invite(InviteKind::Partner).await.unwrap();
    let spare = duet_node::ticket_id(&spare_ticket).unwrap();
    ben.node.join(&ticket).await.unwrap();
    let hello = ben.node.send(Target::Direct, "hi", None).await.unwrap();
    eventually("Ada gets Ben's first message", || async { ada.node.message(&hello.id).ok() }).await;
    // The invite was used and Ben is in: nothing is open any more.
    eventually("Ada stops answering on the pairing protocol", || async {
        (!answers_strangers(&ada).await).then_some(())
    })
    .await;
    let used = ada.node.invites().into_iter().find(|i| i.id == partner_id).expect("still listed until it expires");
    assert_eq!((used.state, used.joiner), (InviteStatus::Done, Some(ben.node.device_id())));
    let spare = ada.node.invites().into_iter().find(|i| i.id == spare).expect("listed");
    assert_eq!(spare.state, InviteStatus::Superseded, "a space has two people: Ben's in, the spare stops working");
    // Carol got the spare ticket: refused in words, and both still list two people.
    let carol = TestNode::person("Carol").await;
    let err = carol.node.join(&spare_ticket).await.expect_err("a third person");
    assert!(err.to_string().contains("not open there any more"), "{err}");
    assert_eq!(ada.node.presence().unwrap().len(), 2);
    assert_eq!(ben.node.presence().unwrap().len(), 2);
    assert_eq!(carol.node.partner().unwrap(), None, "Carol is paired with no one");
    let err = ada.node.cancel_invite(&partner_id).await.expect_err("a used invite cannot be taken back");
    assert!(err.to_string().contains("already used"), "{err}");
}
