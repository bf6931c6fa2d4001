//! Search in a running node: what the partner sends is found by its words at once, and the
//! node's upkeep merges the index's chunks once nothing is written, without changing a result
//! (`crates/duet-node/src/search.rs`).

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use duet_model::{InviteKind, Target};
use duet_tests::{eventually, pair, TestNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partners_messages_are_found_and_the_index_is_merged_while_idle() {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");

    // One commit each: every message adds a chunk to the shard of "together".
    for i in 0..12 {
        ada.node.send(Target::Direct, &format!("together again, time number{i}"), None).await.unwrap();
    }
    let found = eventually("Ben finds all twelve", || async {
        let found = ben.node.search("Together", None, None, 50).unwrap();
        (found.len() == 12).then_some(found)
    })
    .await;
    assert_eq!(found[0].content, "together again, time number11", "newest first");
    let one = ben.node.search("number7 TOGETHER", Some(Target::Direct), None, 50).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].content, "together again, time number7");

    // Nothing is written for a while: the upkeep merges (Ada's twelve sends were a commit
    // each, so the shard of "together" holds twelve chunks); the results stay the same.
    // Compared by id and text: Ben's delivery receipts may land in between.
    let found = || {
        ada.node.search("together", None, None, 50).unwrap().into_iter().map(|m| (m.id, m.content)).collect::<Vec<_>>()
    };
    let before = found();
    assert_eq!(before.len(), 12);
    eventually("Ada's node merges its index", || async {
        (ada.node.store().words_index_backlog().unwrap() < duet_store::search::FANOUT).then_some(())
    })
    .await;
    assert_eq!(found(), before);

    // Bad input: too long a search, in words; nothing found is no error.
    let e = ben.node.search(&"word ".repeat(120), None, None, 10).unwrap_err();
    assert!(e.to_string().contains("a search is too long"), "{e}");
    assert!(ben.node.search("?!", None, None, 10).unwrap().is_empty());
}
