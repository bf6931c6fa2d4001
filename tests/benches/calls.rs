//! Invite → first decoded audio frame through real nodes on loopback (libp2p signalling,
//! webrtc-rs media), p50 over 20 calls. Ben's node answers the moment it rings, so the figure
//! is what the machinery adds, not a person's reaction. Then the same through a relay's TURN
//! (`duet_node::relay`, both sides offering relayed candidates only), as between two
//! symmetric NATs. `cargo bench -p duet-tests --bench calls`.

use std::time::{Duration, Instant};

use duet_model::{CallKind, InviteKind};
use duet_node::duet_call::MediaConfig;
use duet_node::{CallMedia, CallPhase, NodeConfig, NodeEvent};
use duet_tests::{eventually, pair, relay_on_loopback, TestNode};

const CALLS: usize = 20;

fn config(mut c: NodeConfig) -> NodeConfig {
    c.calls.media = MediaConfig::loopback();
    c
}

fn relay_only(mut c: NodeConfig) -> NodeConfig {
    c.calls.media = MediaConfig { relay_only: true, ..MediaConfig::loopback() };
    c
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let ada = TestNode::create("Ada", Some("Ada"), config).await;
        let ben = TestNode::create("Ben", Some("Ben"), config).await;
        report("loopback", &measure(&ada, &ben, None).await);

        let ada = TestNode::create("Ada", Some("Ada"), relay_only).await;
        let ben = TestNode::create("Ben", Some("Ben"), relay_only).await;
        let relay = relay_on_loopback(None).await;
        let relay_addr = relay.addrs()[0].to_string();
        report("through the relay's TURN", &measure(&ada, &ben, Some(relay_addr)).await);
        relay.shutdown().await;
    });
}

fn report(how: &str, times: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "invite → first decoded audio frame (real nodes, {how}, auto-answer): p50 {:.0} ms, min {:.0} ms, max {:.0} ms over {CALLS} calls (target ≤ 1000 ms)",
        ms(times[CALLS / 2]),
        ms(times[0]),
        ms(times[CALLS - 1])
    );
}

/// `CALLS` calls from Ada to Ben (who chose `relay` first, if given): invite to first audio.
async fn measure(ada: &TestNode, ben: &TestNode, relay: Option<String>) -> Vec<Duration> {
    if let Some(relay) = relay {
        for node in [ada, ben] {
            node.node.set_relays(std::slice::from_ref(&relay)).await.expect("the relay is chosen");
        }
    }
    pair(ada, ben, InviteKind::Partner).await.expect("pairing");
    eventually("connected", || async {
        ben.node.connected().await.ok()?.contains(&ada.node.device_id()).then_some(())
    })
    .await;

    // Ben answers every call as soon as it rings.
    let answerer = ben.node.clone();
    let mut events = ben.node.subscribe();
    tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let NodeEvent::Call { call } = e {
                if call.phase == CallPhase::Ringing {
                    let _ = answerer.answer_call(CallMedia::synthetic(440.0, None).0).await;
                }
            }
        }
    });

    let mut times = Vec::new();
    for _ in 0..CALLS {
        // What Ada hears first: Ben's audio, decoded on her side.
        let (media, heard, _) = CallMedia::synthetic(880.0, None);
        let started = Instant::now();
        ada.node.start_call(CallKind::Voice, media).await.expect("call");
        let first = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Some(t) = heard.first_at() {
                    return t;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
        .expect("audio arrives");
        times.push(first.saturating_duration_since(started));
        ada.node.hang_up().await.expect("hang up");
        eventually("both idle", || async {
            (ada.node.current_call().is_none() && ben.node.current_call().is_none()).then_some(())
        })
        .await;
    }
    times.sort();
    times
}
