//! Calls through the couple's relay when nothing direct works: `duet relay`'s TURN, on
//! loopback. Each node asks the relay for TURN credentials over its libp2p connection; the
//! calls here offer relayed candidates only (ICE's relay policy), so every packet of the
//! call crosses the relay's TURN allocations, as between two symmetric NATs (the network
//! namespace test in `crates/duet-cli/tests/netns.rs` has real ones).

use duet_model::{CallKind, InviteKind};
use duet_node::duet_call::MediaConfig;
use duet_node::{CallMedia, CallPhase, NodeConfig};
use duet_tests::{eventually, pair, relay_on_loopback, TestNode};

fn near(freq: Option<f32>, want: f32) -> bool {
    freq.is_some_and(|f| (f - want).abs() <= 15.0)
}

/// A person whose calls offer only relayed candidates, on loopback.
async fn relayed_caller(name: &str) -> TestNode {
    let config = |mut c: NodeConfig| {
        c.calls.media = MediaConfig { relay_only: true, ..MediaConfig::loopback() };
        c
    };
    TestNode::create(name, Some(name), config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_goes_through_the_relays_turn_when_nothing_direct_works() {
    let (ada, ben) = (relayed_caller("Ada").await, relayed_caller("Ben").await);
    // The relay serves Ada's and Ben's devices only, as `duet relay --allow` does; both
    // choose it in their settings.
    let relay = relay_on_loopback(Some(vec![ada.node.device_id(), ben.node.device_id()])).await;
    assert_eq!(relay.turn_ip(), Some("127.0.0.1".parse().expect("an IP")));
    let relay_addr = relay.addrs()[0].to_string();
    for node in [&ada, &ben] {
        node.node.set_relays(std::slice::from_ref(&relay_addr)).await.expect("the relay is chosen");
    }
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    for (a, b) in [(&ada, &ben), (&ben, &ada)] {
        eventually(&format!("{} reaches {}", a.name, b.name), || async {
            a.node.connected().await.ok()?.contains(&b.node.device_id()).then_some(())
        })
        .await;
    }

    let (media, ada_heard, _) = CallMedia::synthetic(880.0, None);
    ada.node.start_call(CallKind::Voice, media).await.expect("Ada calls");
    eventually("Ben's device rings", || async {
        ben.node.current_call().filter(|c| c.phase == CallPhase::Ringing).map(|_| ())
    })
    .await;
    let (media, ben_heard, _) = CallMedia::synthetic(440.0, None);
    ben.node.answer_call(media).await.expect("Ben answers");
    eventually("Ben hears Ada's tone", || async { near(ben_heard.dominant_frequency(), 880.0).then_some(()) }).await;
    eventually("Ada hears Ben's tone", || async { near(ada_heard.dominant_frequency(), 440.0).then_some(()) }).await;

    // Both say the call goes through the relay.
    for node in [&ada, &ben] {
        let quality = eventually(&format!("{}'s call reads its connection", node.name), || async {
            node.node.call_quality().await
        })
        .await;
        assert!(quality.relayed, "{}: {quality:?}", node.name);
    }
    ada.node.hang_up().await.expect("Ada hangs up");
    relay.shutdown().await;
}
