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
