//! Presence: Ben watches Ada's status move from online to away (idle), busy, invisible (which
//! he sees as offline) and, when her computer goes off, offline with a last-seen time. Her
//! custom status text travels too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use duet_model::{InviteKind, PersonId, Presence, PresenceStatus, Timestamp};
use duet_node::NodeEvent;
use duet_tests::{pair, TestNode, PATIENCE};
use tokio::sync::broadcast;

/// What one node sees of one person's presence, change by change (so a short-lived status
/// such as "online for a second, then idle" is never missed between two looks).
struct PresenceWatch<'a> {
    viewer: &'a TestNode,
    person: PersonId,
    events: broadcast::Receiver<NodeEvent>,
}

impl<'a> PresenceWatch<'a> {
    fn new(viewer: &'a TestNode, person: PersonId) -> Self {
        Self { viewer, person, events: viewer.node.subscribe() }
    }

    fn now(&self) -> Option<Presence> {
        self.viewer.node.presence().ok()?.into_iter().find(|p| p.person == self.person)
    }

    /// Waits until the person's presence, now or at a later change, satisfies `check`.
    async fn until(&mut self, what: &str, check: impl Fn(&Presence) -> bool) -> Presence {
        if let Some(p) = self.now().filter(|p| check(p)) {
            return p;
        }
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                match self.events.recv().await {
                    Ok(NodeEvent::Presence { presence }) if presence.person == self.person && check(&presence) => {
                        return presence;
                    }
                    Ok(_) => {}
                    // Behind or closed: what counts is the presence as it stands.
                    Err(_) => {
                        if let Some(p) = self.now().filter(|p| check(p)) {
                            return p;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        found.await.unwrap_or_else(|_| panic!("{} gave up waiting to see {what}", self.viewer.name))
    }
}

fn wall_clock() -> Timestamp {
    Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ben_sees_ada_online_away_busy_invisible_and_offline() {
    let mut ada = TestNode::create("Ada", Some("Ada"), |mut c| {
        c.idle_after = Duration::from_secs(1);
        c
    })
    .await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let ada_id = ada.node.person_id().expect("Ada is a person");
    let mut ada_seen_by_ben = PresenceWatch::new(&ben, ada_id);

    // Ada does something: she is online; a second without input and she is away.
    ada.node.touch();
    ada_seen_by_ben.until("Ada online", |p| p.status == PresenceStatus::Online).await;
    ada_seen_by_ben.until("Ada away (idle)", |p| p.status == PresenceStatus::Away).await;

    ada.node.set_status(PresenceStatus::Busy, None).await.unwrap();
    ada_seen_by_ben.until("Ada busy", |p| p.status == PresenceStatus::Busy).await;

    // Invisible: Ada still sees herself invisible; Ben sees her offline.
    ada.node.set_status(PresenceStatus::Invisible, None).await.unwrap();
    ada_seen_by_ben.until("Ada offline (she is invisible)", |p| p.status == PresenceStatus::Offline).await;
    let ada_by_ada = ada.node.presence().unwrap().into_iter().find(|p| p.person == ada_id).unwrap();
    assert_eq!(ada_by_ada.status, PresenceStatus::Invisible);

    // Back online, with a custom status.
    ada.node.set_status(PresenceStatus::Online, Some(Some("at the gym 🏋️".into()))).await.unwrap();
    let shown = ada_seen_by_ben
        .until("Ada online and at the gym", |p| {
            p.status == PresenceStatus::Online && p.custom_status.as_deref() == Some("at the gym 🏋️")
        })
        .await;
    assert_eq!(shown.device, Some(ada.node.device_id()));

    // Ada's computer goes off: offline, last seen just now; the custom status stays.
    let before_stop = wall_clock();
    ada.stop().await;
    let gone = ada_seen_by_ben.until("Ada offline", |p| p.status == PresenceStatus::Offline).await;
    let last_seen = gone.last_seen.expect("Ben knows when he last saw Ada");
    assert!(last_seen >= before_stop, "last seen {last_seen:?} is when Ada left, not before {before_stop:?}");
    assert_eq!(gone.custom_status.as_deref(), Some("at the gym 🏋️"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_offline_is_refused_with_the_real_reason() {
    let ada = TestNode::create("Ada", Some("Ada"), |c| c).await;
    let e = ada.node.set_status(PresenceStatus::Offline, None).await.expect_err("offline is not a choice");
    assert_eq!(e.code(), "invalid_input");
    let said = e.to_string();
    assert!(said.contains("choose invisible") && !said.contains("too long"), "{said}");
    // And nothing changed: she is still whatever she was.
    ada.node.set_status(PresenceStatus::Invisible, None).await.expect("invisible is a choice");
}
