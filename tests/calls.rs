//! Calls between real nodes on loopback: signalling over `/duet/live/1`, media over real
//! webrtc-rs peer connections, synthetic media that the receiver checks (the tone's pitch, the
//! test pattern's colours), and the call record both partners' histories end up holding.

use std::time::Duration;

use duet_model::{Call, CallKind, CallState, InviteKind};
use duet_node::duet_call::{AudioProbe, MediaConfig, VideoProbe};
use duet_node::{CallInfo, CallMedia, CallOutcome, CallPhase, NodeConfig, NodeEvent};
use duet_tests::{eventually, pair, TestNode, PATIENCE};
use tokio::sync::broadcast;

/// A person whose calls bind to loopback and ring for `ring` before they are missed.
async fn caller(name: &str, person: bool, ring: Duration) -> TestNode {
    let config = move |mut c: NodeConfig| {
        c.calls.media = MediaConfig::loopback();
        c.calls.ring_timeout = ring;
        c
    };
    TestNode::create(name, person.then_some(name), config).await
}

async fn connected(a: &TestNode, b: &TestNode) {
    eventually(&format!("{} and {} are connected", a.name, b.name), || async {
        a.node.connected().await.ok()?.contains(&b.node.device_id()).then_some(())
    })
    .await;
}

/// Ada and Ben, paired and connected.
async fn couple(ring: Duration) -> (TestNode, TestNode) {
    let ada = caller("Ada", true, ring).await;
    let ben = caller("Ben", true, ring).await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    connected(&ada, &ben).await;
    connected(&ben, &ada).await;
    (ada, ben)
}

/// What one node shows of its calls, change by change.
struct CallWatch {
    name: String,
    events: broadcast::Receiver<NodeEvent>,
}

impl CallWatch {
    fn new(node: &TestNode) -> Self {
        Self { name: node.name.clone(), events: node.node.subscribe() }
    }

    /// Waits for a call change that satisfies `check`.
    async fn until(&mut self, what: &str, check: impl Fn(&CallInfo) -> bool) -> CallInfo {
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                match self.events.recv().await {
                    Ok(NodeEvent::Call { call }) if check(&call) => return call,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => panic!("{}'s node stopped", self.name),
                }
            }
        });
        found.await.unwrap_or_else(|_| panic!("{} gave up waiting to see {what}", self.name))
    }

    async fn ends(&mut self, outcome: CallOutcome) -> CallInfo {
        self.until(&format!("the call end ({outcome:?})"), |c| c.outcome == Some(outcome)).await
    }
}

fn synthetic(tone: f32, video: bool) -> (CallMedia, AudioProbe, VideoProbe) {
    CallMedia::synthetic(tone, video.then_some((320, 240)))
}

fn near(freq: Option<f32>, want: f32) -> bool {
    freq.is_some_and(|f| (f - want).abs() <= 15.0)
}

/// Waits until `node`'s history holds the call `id` in a final state, and returns it.
async fn in_history(node: &TestNode, id: duet_model::CallId) -> Call {
    eventually(&format!("{}'s history holds the call", node.name), || async {
        node.node.call_history().ok()?.into_iter().find(|c| c.id == id && c.state != CallState::Ringing)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ada_video_calls_ben_he_answers_hears_her_tone_sees_her_pattern_and_both_histories_agree() {
    let (ada, ben) = couple(Duration::from_secs(30)).await;
    let (mut ada_sees, mut ben_sees) = (CallWatch::new(&ada), CallWatch::new(&ben));

    let (media, ada_heard, _) = synthetic(880.0, true);
    let placed = ada.node.start_call(CallKind::Video, media).await.expect("Ada calls");
    assert_eq!(placed.phase, CallPhase::Calling);

    let ringing = ben_sees.until("Ada's call ringing", |c| c.phase == CallPhase::Ringing).await;
    assert_eq!((ringing.id, ringing.kind, ringing.caller), (placed.id, CallKind::Video, ada.node.person_id().unwrap()));
    ada_sees.until("Ben's device ringing", |c| c.phase == CallPhase::Ringing).await;

    let (media, ben_heard, ben_saw) = synthetic(440.0, true);
    ben.node.answer_call(media).await.expect("Ben answers");
    ben_sees.until("the call active", |c| c.phase == CallPhase::Active).await;
    ada_sees.until("the call active", |c| c.phase == CallPhase::Active).await;

    // Ben hears Ada's 880 Hz and sees her test pattern; Ada hears Ben's 440 Hz.
    eventually("Ben hears Ada's tone", || async { near(ben_heard.dominant_frequency(), 880.0).then_some(()) }).await;
    eventually("Ada hears Ben's tone", || async { near(ada_heard.dominant_frequency(), 440.0).then_some(()) }).await;
    eventually("Ben sees Ada's test pattern", || async { (ben_saw.pattern_frames() >= 5).then_some(()) }).await;
    let frame = ben_saw.last().expect("a frame");
    assert_eq!((frame.width, frame.height), (320, 240));

    // Ada mutes: Ben's node says so.
    // Listen before muting: the news can arrive before `set_call_muted` returns.
    let mut events = ben.node.subscribe();
    ada.node.set_call_muted(true).expect("in a call");
    tokio::time::timeout(PATIENCE, async {
        while !matches!(events.recv().await, Ok(NodeEvent::CallPeerMedia { muted: Some(true), .. })) {}
    })
    .await
    .expect("Ben is told Ada muted");
    ada.node.set_call_muted(false).expect("in a call");

    // A little over a second of call, counted in Ada's audio that Ben played (60 frames of
    // 20 ms), not read off a clock.
    eventually("Ben played 60 frames of Ada's audio", || async {
        ben.node.call_stats().filter(|(_, s)| s.audio_frames_decoded >= 60).map(|_| ())
    })
    .await;
    ada.node.hang_up().await.expect("Ada hangs up");
    let ada_end = ada_sees.ends(CallOutcome::Ended).await;
    let ben_end = ben_sees.ends(CallOutcome::Ended).await;
    assert!(ada_end.duration_ms().unwrap() >= 1000 && ben_end.duration_ms().unwrap() >= 1000);
    assert!(ada.node.current_call().is_none() && ben.node.current_call().is_none());
    let stats = ben.node.call_stats().expect("stats of the last call").1;
    assert!(stats.audio_frames_decoded > 25 && stats.video_frames_decoded > 5, "{stats:?}");

    // Both histories hold the same record, with a duration.
    let on_ada = in_history(&ada, placed.id).await;
    let on_ben = in_history(&ben, placed.id).await;
    assert_eq!(on_ada, on_ben);
    assert_eq!((on_ada.state, on_ada.kind), (CallState::Ended, CallKind::Video));
    assert!(on_ada.duration_ms().is_some_and(|d| d >= 1000), "{on_ada:?}");
    assert_eq!(on_ada.participants.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ben_declines() {
    let (ada, ben) = couple(Duration::from_secs(30)).await;
    let (mut ada_sees, mut ben_sees) = (CallWatch::new(&ada), CallWatch::new(&ben));
    let placed = ada.node.start_call(CallKind::Voice, synthetic(440.0, false).0).await.unwrap();
    ben_sees.until("the call ringing", |c| c.phase == CallPhase::Ringing).await;
    ben.node.decline_call().await.expect("Ben declines");
    ada_sees.ends(CallOutcome::Declined).await;
    ben_sees.ends(CallOutcome::Declined).await;
    assert_eq!(in_history(&ben, placed.id).await.state, CallState::Declined);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_answers_and_the_call_is_missed() {
    let (ada, ben) = couple(Duration::from_secs(2)).await;
    let (mut ada_sees, mut ben_sees) = (CallWatch::new(&ada), CallWatch::new(&ben));
    let placed = ada.node.start_call(CallKind::Voice, synthetic(440.0, false).0).await.unwrap();
    ben_sees.until("the call ringing", |c| c.phase == CallPhase::Ringing).await;
    ada_sees.ends(CallOutcome::Missed).await;
    ben_sees.ends(CallOutcome::Missed).await;
    let missed = in_history(&ben, placed.id).await;
    assert_eq!((missed.state, missed.answered_at), (CallState::Missed, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ada_cancels_before_ben_answers() {
    let (ada, ben) = couple(Duration::from_secs(30)).await;
    let mut ben_sees = CallWatch::new(&ben);
    let placed = ada.node.start_call(CallKind::Voice, synthetic(440.0, false).0).await.unwrap();
    ben_sees.until("the call ringing", |c| c.phase == CallPhase::Ringing).await;
    ada.node.hang_up().await.expect("Ada cancels");
    ben_sees.ends(CallOutcome::Cancelled).await;
    assert!(ben.node.answer_call(synthetic(440.0, false).0).await.is_err(), "too late to answer");
    assert_eq!(in_history(&ben, placed.id).await.state, CallState::Missed, "Ben sees a missed call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_call_at_once_and_end_up_in_one_call() {
    let (ada, ben) = couple(Duration::from_secs(30)).await;
    let (mut ada_sees, mut ben_sees) = (CallWatch::new(&ada), CallWatch::new(&ben));
    let (ada_media, ada_heard, _) = synthetic(880.0, false);
    let (ben_media, ben_heard, _) = synthetic(440.0, false);
    let (a, b) =
        tokio::join!(ada.node.start_call(CallKind::Voice, ada_media), ben.node.start_call(CallKind::Voice, ben_media));
    let winner = a.expect("Ada calls").id.min(b.expect("Ben calls").id);
    let on_ada = ada_sees.until("the call active", |c| c.phase == CallPhase::Active).await;
    let on_ben = ben_sees.until("the call active", |c| c.phase == CallPhase::Active).await;
    assert_eq!((on_ada.id, on_ben.id), (winner, winner), "the lower call id wins on both sides");
    eventually("each hears the other", || async {
        (near(ben_heard.dominant_frequency(), 880.0) && near(ada_heard.dominant_frequency(), 440.0)).then_some(())
    })
    .await;
    ben.node.hang_up().await.expect("Ben hangs up");
    ada_sees.ends(CallOutcome::Ended).await;
    assert_eq!(in_history(&ada, winner).await.state, CallState::Ended);
    assert_eq!(ada.node.call_history().unwrap().len(), 1, "the losing call left no record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rings_on_all_of_adas_devices_and_a_second_caller_finds_her_busy() {
    let ring = Duration::from_secs(30);
    let laptop = caller("Ada's laptop", true, ring).await;
    let desktop = caller("Ada's desktop", false, ring).await;
    let ben = caller("Ben", true, ring).await;
    pair(&laptop, &desktop, InviteKind::OwnDevice).await.expect("linking the desktop");
    pair(&laptop, &ben, InviteKind::Partner).await.expect("pairing with Ben");
    // Ben dials Ada's desktop directly too.
    let addrs = desktop.node.listen_addrs().await.unwrap();
    ben.node.add_peer_addresses(desktop.node.device_id(), addrs).await.unwrap();
    for (a, b) in [(&ben, &laptop), (&ben, &desktop), (&laptop, &ben), (&desktop, &ben)] {
        connected(a, b).await;
    }
    let (mut on_laptop, mut on_desktop, mut on_ben) =
        (CallWatch::new(&laptop), CallWatch::new(&desktop), CallWatch::new(&ben));

    ben.node.start_call(CallKind::Voice, synthetic(440.0, false).0).await.expect("Ben calls");
    on_laptop.until("Ben's call ringing", |c| c.phase == CallPhase::Ringing).await;
    on_desktop.until("Ben's call ringing", |c| c.phase == CallPhase::Ringing).await;

    // Ada picks up on the desktop: the laptop stops ringing.
    desktop.node.answer_call(synthetic(880.0, false).0).await.expect("answer on the desktop");
    on_laptop.ends(CallOutcome::AnsweredElsewhere).await;
    on_ben.until("the call active", |c| c.phase == CallPhase::Active).await;

    // Ada's laptop calls Ben while he talks to her desktop: busy.
    laptop.node.start_call(CallKind::Voice, synthetic(440.0, false).0).await.expect("the laptop calls");
    on_laptop.ends(CallOutcome::Busy).await;
    assert_eq!(ben.node.current_call().map(|c| c.phase), Some(CallPhase::Active), "Ben's call goes on");
    ben.node.hang_up().await.unwrap();
    on_desktop.ends(CallOutcome::Ended).await;
}
