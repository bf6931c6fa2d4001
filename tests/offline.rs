//! Offline sync: Ben's computer is off while Ada writes him a thousand messages. When he
//! turns it back on, he gets them all, in order, and Ada sees every one delivered. And when
//! both turn their computers off and on again, they find each other where they were.

use duet_model::{InviteKind, Message, Target};
use duet_tests::{eventually, pair, Rejections, TestNode};

const MESSAGES: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_while_the_partner_is_offline_arrive_when_they_come_back() {
    let ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let rejections = Rejections::default();
    rejections.watch(&ada);
    rejections.watch(&ben);
    eventually("Ada and Ben are connected", || async {
        ada.node.connected().await.ok()?.contains(&ben.node.device_id()).then_some(())
    })
    .await;

    ben.stop().await;
    let mut sent: Vec<Message> = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        sent.push(ada.node.send(Target::Direct, &format!("note {i} while you were away"), None).await.unwrap());
    }
    assert!(
        sent.iter().all(|m| !ada.node.message(&m.id).unwrap().delivered),
        "nothing is delivered while Ben is offline"
    );

    // Ben just starts again (new ports); nobody tells anyone where he is.
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    let received = eventually("Ben holds all of Ada's messages", || async {
        let page = ben.node.messages(Target::Direct, None, MESSAGES + 10).ok()?;
        let from_ada: Vec<Message> =
            page.messages.into_iter().filter(|m| Some(m.sender) == ada.node.person_id()).collect();
        (from_ada.len() == MESSAGES).then_some(from_ada)
    })
    .await;
    // Newest first on the page: reversed, they read in the order Ada wrote them.
    let ids: Vec<_> = received.iter().rev().map(|m| (m.id, m.content.clone())).collect();
    let expected: Vec<_> = sent.iter().map(|m| (m.id, m.content.clone())).collect();
    assert_eq!(ids, expected);

    eventually("Ada sees every message delivered", || async {
        sent.iter().all(|m| ada.node.message(&m.id).is_ok_and(|m| m.delivered)).then_some(())
    })
    .await;
    rejections.assert_none();
}

/// Both computers go off and on again (no LAN discovery here, no relay): each listens where
/// it did before, so each finds the other at the address it remembered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_partners_restart_and_find_each_other_where_they_were() {
    let mut ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let connected = |a: &TestNode, b: &TestNode| {
        let (node, other) = (a.node.clone(), b.node.device_id());
        async move { node.connected().await.ok()?.contains(&other).then_some(()) }
    };
    eventually("Ada and Ben are connected", || connected(&ada, &ben)).await;
    // TCP only: a stopped node's QUIC endpoint drains for a few seconds inside this process
    // and holds its port meanwhile (a process that exits frees it at once), so its QUIC port
    // may change here.
    let tcp = |addrs: Vec<duet_net::Multiaddr>| -> Vec<String> {
        addrs.iter().map(|a| a.to_string()).filter(|a| a.contains("/tcp/")).collect()
    };
    let before = tcp(ada.node.listen_addrs().await.unwrap());

    ada.stop().await;
    ben.stop().await;
    ada.restart(|c| c).await;
    ben.restart(|c| c).await;
    assert_eq!(tcp(ada.node.listen_addrs().await.unwrap()), before, "Ada listens on the same TCP port as before");

    eventually("Ada and Ben find each other again", || connected(&ada, &ben)).await;
    let hello = ada.node.send(Target::Direct, "good morning", None).await.unwrap();
    eventually("Ben gets Ada's message", || async { ben.node.message(&hello.id).ok() }).await;
}
