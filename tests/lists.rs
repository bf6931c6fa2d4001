//! Shared lists between two real nodes: both partners edit the groceries while apart, and
//! once their computers meet again both hold the same list, with every edit of a different
//! field kept (`crates/duet-node/src/lists.rs`).

use duet_model::{InviteKind, SharedList};
use duet_node::{NodeError, Place};
use duet_tests::{eventually, pair, Rejections, TestNode};

fn texts(list: &SharedList) -> Vec<(String, bool)> {
    list.items.iter().map(|i| (i.text.clone(), i.checked)).collect()
}

fn item(list: &SharedList, text: &str) -> duet_model::ItemId {
    list.items.iter().find(|i| i.text == text).unwrap_or_else(|| panic!("no \"{text}\" in {list:?}")).id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_edit_a_list_apart_and_after_meeting_hold_the_same_list() {
    let mut ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let rejections = Rejections::default();
    rejections.watch(&ada);
    rejections.watch(&ben);

    let list = ada.node.create_list("Groceries").await.unwrap();
    for text in ["milk", "eggs", "bread"] {
        ada.node.add_list_item(list.id, text, None).await.unwrap();
    }
    let seen = eventually("Ben sees the list", || async {
        let on_ben = ben.node.list(&list.id).ok()?;
        (on_ben.items.len() == 3).then_some(on_ben)
    })
    .await;
    assert_eq!(seen.title, "Groceries");
    assert_eq!(texts(&seen), [("milk".into(), false), ("eggs".into(), false), ("bread".into(), false)]);
    let (milk, eggs, bread) = (item(&seen, "milk"), item(&seen, "eggs"), item(&seen, "bread"));

    // Apart: Ben's computer is off while Ada edits; then hers is off while Ben edits.
    ben.stop().await;
    ada.node.set_list_item(list.id, milk, None, Some(true)).await.unwrap();
    ada.node.set_list_item(list.id, eggs, Some("eggs (12)"), None).await.unwrap();
    ada.node.add_list_item(list.id, "coffee", Some(Place::Top)).await.unwrap();
    ada.node.remove_list_item(list.id, bread).await.unwrap();
    ada.stop().await;
    ben.restart(|c| c).await;
    ben.node.set_list_item(list.id, milk, Some("oat milk"), None).await.unwrap();
    ben.node.set_list_item(list.id, eggs, None, Some(true)).await.unwrap();
    ben.node.move_list_item(list.id, bread, Place::Top).await.unwrap();
    ben.node.add_list_item(list.id, "apples", None).await.unwrap();
    ben.node.move_list_item(list.id, eggs, Place::After(milk)).await.unwrap();

    // They meet.
    ada.restart(|c| c).await;
    rejections.watch(&ada);
    rejections.watch(&ben);
    let (on_ada, on_ben) = eventually("both hold the same list", || async {
        let (a, b) = (ada.node.list(&list.id).ok()?, ben.node.list(&list.id).ok()?);
        (a == b && a.items.len() == 4).then_some((a, b))
    })
    .await;
    assert_eq!(on_ada, on_ben);
    // Every edit of a different field is kept: Ada's tick and Ben's new name on the milk, her
    // new name and his tick on the eggs; the bread Ada removed stays removed (Ben only moved
    // it); her coffee at the top, his apples at the bottom.
    assert_eq!(
        texts(&on_ada),
        [("coffee".into(), false), ("oat milk".into(), true), ("eggs (12)".into(), true), ("apples".into(), false)]
    );
    rejections.assert_none();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_input_is_refused_in_words_and_changes_nothing() {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let list = ada.node.create_list("Plans").await.unwrap();
    let long = "x".repeat(501);
    let err = ada.node.add_list_item(list.id, &long, None).await.unwrap_err();
    assert!(err.to_string().contains("a list item is too long"), "{err}");
    let err = ada.node.add_list_item(list.id, "   ", None).await.unwrap_err();
    assert!(err.to_string().contains("a list item"), "{err}");
    let err = ada.node.create_list("").await.unwrap_err();
    assert!(matches!(err, NodeError::Invalid(_)), "{err}");
    let err = ada.node.set_list_item(list.id, duet_model::ItemId([9; 16]), None, Some(true)).await.unwrap_err();
    assert!(err.to_string().contains("not in the list"), "{err}");
    assert!(ada.node.list(&list.id).unwrap().items.is_empty(), "nothing was added");

    ada.node.delete_list(list.id).await.unwrap();
    assert!(ada.node.lists().unwrap().is_empty());
    let err = ada.node.add_list_item(list.id, "a trip", None).await.unwrap_err();
    assert!(err.to_string().contains("deleted"), "{err}");
}
