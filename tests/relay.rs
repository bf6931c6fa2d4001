//! Via a relay: Ada's computer cannot be reached directly (it listens only through a relay,
//! as behind a NAT). Her invite carries her relayed address; Ben pairs with it and they chat
//! both ways. A relay can also be chosen while Duet runs (the app's settings).

use duet_log::pairing::decode_ticket;
use duet_model::{InviteKind, Message, Target};
use duet_net::{peer_id, with_peer, Multiaddr, NetConfig};
use duet_tests::{eventually, TestNode, PATIENCE};
use rand::RngCore;

/// Waits until `node` holds the message `sent`.
async fn holds(node: &TestNode, sent: &Message) -> Message {
    eventually(&format!("{} holds \"{}\"", node.name, sent.content), || async { node.node.message(&sent.id).ok() })
        .await
}

/// A relay on loopback, as `duet relay` runs one, and its address.
async fn start_relay() -> (duet_net::Client, tokio::sync::mpsc::Receiver<duet_net::NetEvent>, Multiaddr) {
    start_relay_for(None).await
}

/// A relay that lets only `allow` connect (`duet relay --allow`), or anyone (`--open`).
async fn start_relay_for(
    allow: Option<Vec<duet_net::DeviceId>>,
) -> (duet_net::Client, tokio::sync::mpsc::Receiver<duet_net::NetEvent>, Multiaddr) {
    let mut relay_key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut relay_key);
    let mut relay_config = NetConfig::new(relay_key);
    relay_config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid")];
    relay_config.mdns = false;
    relay_config.relay_server = true;
    relay_config.allow_only = allow;
    let (relay, events) = duet_net::start(relay_config).await.expect("the relay starts");
    let relay_addr = relay.wait_listening(PATIENCE).await.expect("the relay listens").remove(0);
    let relay_addr = with_peer(relay_addr, &peer_id(&relay.local_device()));
    (relay, events, relay_addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_pair_and_chat_through_a_relay() {
    let (relay, _relay_events, relay_addr) = start_relay().await;

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

/// The app's settings: Ada chooses a relay while Duet runs; it is used at once (her invite
/// names it) and after a restart, and a typo is refused in words without losing the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_chosen_in_settings_is_used_at_once_and_after_a_restart() {
    let (relay, _relay_events, relay_addr) = start_relay().await;
    let mut ada = TestNode::person("Ada").await;
    assert!(ada.node.relays().unwrap().is_empty());
    let relayed = |ada: &TestNode| {
        let node = ada.node.clone();
        async move { node.listen_addrs().await.ok()?.into_iter().find(|a| a.to_string().contains("/p2p-circuit")) }
    };

    let kept = ada.node.set_relays(&[format!("  {relay_addr}  "), String::new()]).await.unwrap();
    assert_eq!(kept, vec![relay_addr.to_string()], "trimmed, blanks skipped");
    eventually("Ada listens through the relay", || relayed(&ada)).await;

    for (typo, words) in [
        ("/ip4/127.0.0.1/tcp/4001".to_owned(), "must end with /p2p/"),
        ("relay.example.org".to_owned(), "is not a relay address"),
    ] {
        let err = ada.node.set_relays(&[relay_addr.to_string(), typo]).await.unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().contains(words), "{err}");
    }
    assert_eq!(ada.node.relays().unwrap(), vec![relay_addr.to_string()], "the relay is still chosen");

    ada.restart(|c| c).await;
    assert_eq!(ada.node.relays().unwrap(), vec![relay_addr.to_string()]);
    eventually("Ada listens through the relay after a restart", || relayed(&ada)).await;
    let ben = TestNode::person("Ben").await;
    let ticket = ada.node.invite(InviteKind::Partner).await.unwrap();
    let invite = decode_ticket(&ticket).unwrap();
    assert!(invite.addresses.iter().any(|a| a.contains("/p2p-circuit")), "{:?}", invite.addresses);
    ben.node.join(&ticket).await.expect("Ben pairs");

    assert!(ada.node.set_relays(&[]).await.unwrap().is_empty());
    eventually("Ada no longer listens through the relay", || async { relayed(&ada).await.is_none().then_some(()) })
        .await;
    relay.shutdown().await;
}

/// A bare network client on loopback.
async fn bare_client() -> duet_net::Client {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let mut config = NetConfig::new(key);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid")];
    config.mdns = false;
    let (client, mut events) = duet_net::start(config).await.expect("a client starts");
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    client
}

/// `duet relay --allow`: the relay serves the couple's devices and refuses everyone else's
/// connection, so a relay whose address leaks is nobody else's free relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_serves_only_the_devices_its_owner_lists() {
    let (adas, strangers) = (bare_client().await, bare_client().await);
    let (relay, _relay_events, relay_addr) = start_relay_for(Some(vec![adas.local_device()])).await;
    let relay_device = relay.local_device();
    for client in [&adas, &strangers] {
        client.add_addresses(relay_device, vec![relay_addr.clone()]).await.unwrap();
    }
    adas.dial(relay_device).await.expect("a listed device connects");
    // The stranger's handshake may complete on its side; the relay then drops the connection
    // before any protocol runs, and never counts it.
    let _ = strangers.dial(relay_device).await;
    eventually("the relay drops the stranger", || async {
        (!strangers.connected().await.ok()?.contains(&relay_device)).then_some(())
    })
    .await;
    // The relay counts a connection once its own side has seen the handshake finish, which can
    // be a moment after Ada's dial returns.
    let ada_device = adas.local_device();
    eventually("the relay counts Ada's connection", || async {
        relay.connected().await.ok()?.contains(&ada_device).then_some(())
    })
    .await;
    assert!(!relay.connected().await.unwrap().contains(&strangers.local_device()));
    // Both ask for a slot: only the listed device gets one.
    let circuit = |client: &duet_net::Client| {
        let client = client.clone();
        async move { client.listen_addrs().await.ok()?.iter().any(|a| a.to_string().contains("p2p-circuit")).then_some(()) }
    };
    strangers.set_relays(std::slice::from_ref(&relay_addr)).await.unwrap();
    adas.set_relays(std::slice::from_ref(&relay_addr)).await.unwrap();
    eventually("Ada's relayed address", || circuit(&adas)).await;
    assert_eq!(circuit(&strangers).await, None, "the stranger got no slot");
    assert!(!relay.connected().await.unwrap().contains(&strangers.local_device()));
    for client in [adas, strangers, relay] {
        client.shutdown().await;
    }
}
