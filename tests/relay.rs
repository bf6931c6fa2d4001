//! Via a relay: Ada's computer cannot be reached directly (it listens only through a relay,
//! as behind a NAT). Her invite carries her relayed address; Ben pairs with it and they chat
//! both ways.

use duet_log::pairing::decode_ticket;
use duet_model::{InviteKind, Message, Target};
use duet_net::{peer_id, with_peer, NetConfig};
use duet_tests::{eventually, TestNode, PATIENCE};
use rand::RngCore;

/// Waits until `node` holds the message `sent`.
async fn holds(node: &TestNode, sent: &Message) -> Message {
    eventually(&format!("{} holds \"{}\"", node.name, sent.content), || async { node.node.message(&sent.id).ok() })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_pair_and_chat_through_a_relay() {
    // A relay on loopback, as `duet relay` runs one.
    let mut relay_key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut relay_key);
    let mut relay_config = NetConfig::new(relay_key);
    relay_config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid")];
    relay_config.mdns = false;
    relay_config.relay_server = true;
    let (relay, _relay_events) = duet_net::start(relay_config).await.expect("the relay starts");
    let relay_addr = relay.wait_listening(PATIENCE).await.expect("the relay listens").remove(0);
    let relay_addr = with_peer(relay_addr, &peer_id(&relay.local_device()));

    // Ada listens only through the relay.
    let ada = TestNode::create("Ada", Some("Ada"), |mut c| {
        c.listen = vec![];
        c.relays = vec![relay_addr.clone()];
        c
    })
    .await;
    let ben = TestNode::person("Ben").await;

    let ticket = ada.node.invite(InviteKind::Partner).await.expect("an invite");
    let invite = decode_ticket(&ticket).expect("a valid ticket");
    assert!(!invite.addresses.is_empty(), "the ticket says where Ada is");
    assert!(
        invite.addresses.iter().all(|a| a.contains("/p2p-circuit")),
        "Ada can only be reached through the relay: {:?}",
        invite.addresses
    );
    ben.node.join(&ticket).await.expect("Ben pairs through the relay");

    let hello = ada.node.send(Target::Direct, "can you hear me through the relay?", None).await.unwrap();
    assert_eq!(holds(&ben, &hello).await.content, "can you hear me through the relay?");
    let reply = ben.node.send(Target::Direct, "loud and clear", Some(hello.id)).await.unwrap();
    assert_eq!(holds(&ada, &reply).await.reply_to, Some(hello.id));

    eventually("Ada sees her message delivered", || async { ada.node.message(&hello.id).ok().filter(|m| m.delivered) })
        .await;
    relay.shutdown().await;
}
