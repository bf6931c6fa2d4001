//! Two devices pair and chat over real libp2p connections on loopback.

use duet_model::{InviteKind, Target};
use duet_tests::{eventually, pair, TestNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_pair_and_everything_converges() {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");

    let hello = ada.node.send(Target::Direct, "hello Ben 💛", None).await.unwrap();
    let got = eventually("Ben receives Ada's message", || async {
        ben.node.messages(Target::Direct, None, 10).ok()?.messages.into_iter().find(|m| m.id == hello.id)
    })
    .await;
    assert_eq!(got.content, "hello Ben 💛");
    assert_eq!(Some(got.sender), ada.node.person_id());

    let reply = ben.node.send(Target::Direct, "hi Ada!", Some(hello.id)).await.unwrap();
    eventually("Ada receives Ben's reply", || async {
        ada.node.message(&reply.id).ok().filter(|m| m.reply_to == Some(hello.id))
    })
    .await;

    // Edits, reactions, deletes and read receipts converge on both.
    ada.node.edit(hello.id, "hello Ben 💛 (edited)").await.unwrap();
    ben.node.react(hello.id, "😍").await.unwrap();
    let gone = ada.node.send(Target::Direct, "oops, wrong chat", None).await.unwrap();
    ada.node.delete(gone.id).await.unwrap();
    ben.node.mark_read(hello.id).await.unwrap();
    for (who, node) in [("Ada", &ada.node), ("Ben", &ben.node)] {
        eventually(&format!("{who} sees the same history"), || async {
            let h = node.message(&hello.id).ok()?;
            let g = node.message(&gone.id).ok()?;
            (h.content == "hello Ben 💛 (edited)"
                && h.edited
                && h.reactions.iter().any(|r| r.emoji == "😍")
                && h.delivered
                && h.read
                && g.deleted
                && g.content.is_empty())
            .then_some(())
        })
        .await;
    }
    // Receipts are coalesced (one per burst of arrivals), so the last delivery receipt may
    // still be on its way: the two views must become equal, not be equal at once.
    eventually("Ada and Ben see the same page", || async {
        let ada_view = ada.node.messages(Target::Direct, None, 10).ok()?;
        let ben_view = ben.node.messages(Target::Direct, None, 10).ok()?;
        (ada_view == ben_view && ada_view.messages.len() == 3).then_some(())
    })
    .await;
}

/// A ticket is good for its whole lifetime: Ada restarts her computer before Ben uses it, and
/// he still pairs; once used, it stays used after another restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_outlives_a_restart_of_the_inviter_and_stays_used_after_one() {
    let mut ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    let eve = TestNode::person("Eve").await;
    let ticket = ada.node.invite(InviteKind::Partner).await.unwrap();

    ada.restart(|c| c).await;
    ben.node.join(&ticket).await.expect("Ben pairs with the ticket Ada made before she restarted");
    let hello = ben.node.send(Target::Direct, "found you", None).await.unwrap();
    eventually("Ada gets Ben's message", || async { ada.node.message(&hello.id).ok() }).await;

    ada.restart(|c| c).await;
    let err = eve.node.join(&ticket).await.expect_err("a used ticket is refused");
    assert!(err.to_string().contains("already used"), "{err}");
}

/// Waits for the node's next `Failed` event about `part`.
async fn failed(events: &mut tokio::sync::broadcast::Receiver<duet_node::NodeEvent>, part: &str) -> (bool, String) {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(duet_node::NodeEvent::Failed { part: p, restarting, message }) if p == part => {
                    return (restarting, message)
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("node events ended: {e}"),
            }
        }
    };
    tokio::time::timeout(duet_tests::PATIENCE, wait).await.unwrap_or_else(|_| panic!("no failure of {part} told"))
}

/// A bug in one part of the node (a panic, injected here) does not leave it half dead: the part
/// starts again and the person is told; a part that keeps failing stops the node, in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_panics_is_restarted_and_one_that_keeps_failing_stops_the_node_in_words() {
    use duet_node::Part;
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let mut told = ada.node.subscribe();

    // Ada's delivery receipts fail once: started again, and Ben's next message is still
    // marked delivered (the receipt comes from that part).
    ada.node.inject_panic(Part::Receipts);
    let (restarting, message) = failed(&mut told, "receipts").await;
    assert!(restarting && message.contains("restarted"), "{message}");
    let hi = ben.node.send(Target::Direct, "still there?", None).await.unwrap();
    eventually("Ada's receipt for Ben's message", || async { ben.node.message(&hi.id).ok().filter(|m| m.delivered) })
        .await;

    // Her network loop fails once: she still gets new messages.
    ada.node.inject_panic(Part::Network);
    assert!(failed(&mut told, "network").await.0);
    let again = ben.node.send(Target::Direct, "and now?", None).await.unwrap();
    eventually("Ada gets Ben's message", || async { ada.node.message(&again.id).ok() }).await;
    assert_eq!(ada.node.failure(), None);

    // Her presence part fails three times in a row: the node stops and says so.
    for _ in 0..3 {
        ada.node.inject_panic(Part::Presence);
    }
    assert!(failed(&mut told, "presence").await.0);
    assert!(failed(&mut told, "presence").await.0);
    let (restarting, message) = failed(&mut told, "presence").await;
    assert!(!restarting && message.contains("Duet stopped working") && message.contains("restart Duet"), "{message}");
    assert_eq!(ada.node.failure().as_deref(), Some(message.as_str()));
    let err = ada.node.send(Target::Direct, "hello?", None).await.expect_err("a stopped node writes nothing");
    assert_eq!(err.code(), "stopped");
    assert!(err.to_string().contains("restart Duet"), "{err}");
}
