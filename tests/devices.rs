//! Several devices: Ada has a laptop and a desktop, Ben has one computer. Every device stores
//! and forwards every event, so a message reaches a device that was never online at the same
//! time as its author, through the device that was.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use duet_model::{InviteKind, Message, Target};
use duet_tests::{eventually, eventually_or_report, pair, Rejections, TestNode};

/// Waits until `node` holds the message `sent`, and returns it as `node` sees it. A wait that
/// fails also says what `node` was connected to and held (this wait stalled once in CI, on
/// a cold machine, and never since: the next failure should tell which part stalled).
async fn holds(who: &str, node: &TestNode, sent: &Message) -> Message {
    holds_from(who, node, sent, None).await
}

/// [`holds`], and a wait that gives up also reports `from`, the node that should have sent it.
async fn holds_from(who: &str, node: &TestNode, sent: &Message, from: Option<&TestNode>) -> Message {
    let what = format!("{who} holds \"{}\"", sent.content);
    let report = || async move {
        let from = match from {
            Some(from) => format!("; {}", from.report().await),
            None => String::new(),
        };
        format!("{}{from}", node.report().await)
    };
    eventually_or_report(&what, || async { node.node.message(&sent.id).ok() }, report).await
}

/// Waits until `a` and `b` are connected.
async fn connected(a: &TestNode, b: &TestNode) {
    eventually(&format!("{} and {} are connected", a.name, b.name), || async {
        a.node.connected().await.ok()?.contains(&b.node.device_id()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_message_reaches_my_desktop_through_my_laptop() {
    let laptop = TestNode::person("Ada's laptop").await;
    let mut desktop = TestNode::device_only("Ada's desktop").await;
    let mut ben = TestNode::person("Ben").await;
    let rejections = Rejections::default();
    for node in [&laptop, &desktop, &ben] {
        rejections.watch(node);
    }
    pair(&laptop, &desktop, InviteKind::OwnDevice).await.expect("linking the desktop");
    pair(&laptop, &ben, InviteKind::Partner).await.expect("pairing with Ben");
    assert_eq!(desktop.node.person_id(), laptop.node.person_id(), "the desktop is Ada's");
    connected(&laptop, &desktop).await;
    connected(&laptop, &ben).await;
    // Ben learns of Ada's desktop through her laptop.
    eventually("Ben knows Ada's desktop", || async {
        let peers = ben.node.peers().await.ok()?;
        peers.iter().any(|p| p.device == desktop.node.device_id()).then_some(())
    })
    .await;

    let (ben_person, ben_device) = (ben.node.person_id(), ben.node.device_id());

    // The desktop is off; Ben writes; Ada's laptop gets it; then Ben goes offline too.
    desktop.stop().await;
    let from_ben = ben.node.send(Target::Direct, "dinner at 8?", None).await.unwrap();
    holds("Ada's laptop", &laptop, &from_ben).await;
    ben.stop().await;

    // The desktop comes back while Ben is away: only the laptop can give it Ben's message.
    desktop.restart(|c| c).await;
    rejections.watch(&desktop);
    let got = holds_from("Ada's desktop", &desktop, &from_ben, Some(&laptop)).await;
    assert_eq!(got.content, "dinner at 8?");
    assert_eq!(Some(got.sender), ben_person);
    let connected_now = desktop.node.connected().await.unwrap();
    assert!(!connected_now.contains(&ben_device), "Ben is offline: the laptop forwarded it");

    // Ada answers from the desktop and turns it off; Ben comes back and gets the answer
    // from the laptop.
    let answer = desktop.node.send(Target::Direct, "yes! 🍝", Some(from_ben.id)).await.unwrap();
    holds("Ada's laptop", &laptop, &answer).await;
    desktop.stop().await;
    ben.restart(|c| c).await;
    rejections.watch(&ben);
    let got = holds("Ben", &ben, &answer).await;
    assert_eq!(got.reply_to, Some(from_ben.id));
    assert_eq!(Some(got.sender), laptop.node.person_id(), "the desktop writes as Ada");

    // Ben's view of the conversation is Ada's laptop's view.
    eventually("Ben and Ada's laptop see the same conversation", || async {
        let on_ben = ben.node.messages(Target::Direct, None, 10).ok()?;
        let on_laptop = laptop.node.messages(Target::Direct, None, 10).ok()?;
        (on_ben == on_laptop).then_some(())
    })
    .await;
    rejections.assert_none();
}

/// Ada's laptop is stolen, and still running. She removes it from her phone: Ben refuses what
/// the laptop writes from then on, and the laptop gets nothing new, while Ada and Ben go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_device_keeps_running_but_nothing_it_writes_counts_and_it_gets_nothing_new() {
    let phone = TestNode::person("Ada's phone").await;
    let laptop = TestNode::device_only("Ada's laptop").await;
    let ben = TestNode::person("Ben").await;
    pair(&phone, &laptop, InviteKind::OwnDevice).await.expect("linking the laptop");
    pair(&phone, &ben, InviteKind::Partner).await.expect("pairing with Ben");
    let before = laptop.node.send(Target::Direct, "written before the theft", None).await.unwrap();
    holds("Ben", &ben, &before).await;
    let laptop_id = laptop.node.device_id();

    // The list: Ada's two devices and Ben's, with names.
    let listed = phone.node.devices().await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed[0].this_device && listed[0].mine);
    let stolen = listed.iter().find(|d| d.device == laptop_id).expect("the laptop is listed");
    assert!(!stolen.name.is_empty() && stolen.mine && !stolen.removed, "{stolen:?}");
    assert!(stolen.last_seen.is_some());

    // Ben cannot remove Ada's device, nor Ada the device she is using.
    let err = ben.node.remove_device(laptop_id).await.expect_err("not Ben's");
    assert!(err.to_string().contains("only they can remove"), "{err}");
    let err = phone.node.remove_device(phone.node.device_id()).await.expect_err("this device");
    assert!(err.to_string().contains("another of your devices"), "{err}");

    let removed = phone.node.remove_device(laptop_id).await.unwrap();
    assert!(removed.removed && !removed.connected);
    eventually("Ben learns of the removal", || async {
        ben.node.devices().await.ok()?.into_iter().find(|d| d.device == laptop_id).filter(|d| d.removed).map(|_| ())
    })
    .await;
    // Right behind the removal comes the new key, sealed to the phone and to Ben only.
    eventually("Ben gets the new key", || async { keyring(&ben).sealing().0.map(|_| ()) }).await;
    assert_eq!(keyring(&ben).sealing().0, keyring(&phone).sealing().0);

    // The laptop keeps running and writing: nothing of it reaches Ben or the phone.
    let after = laptop.node.send(Target::Direct, "written by the thief", None).await.unwrap();
    // Ada and Ben go on; Ben's next message never reaches the laptop.
    let from_ben = ben.node.send(Target::Direct, "did you get a new laptop?", None).await.unwrap();
    holds("Ada's phone", &phone, &from_ben).await;
    let from_ada = phone.node.send(Target::Direct, "yes, the old one is gone", None).await.unwrap();
    holds("Ben", &ben, &from_ada).await;
    // By now every session that could carry them has run; give a few more heartbeats anyway.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(ben.node.message(&after.id).is_err(), "Ben never shows the thief's message");
    assert!(phone.node.message(&after.id).is_err(), "nor does Ada's phone");
    assert!(laptop.node.message(&from_ben.id).is_err(), "the laptop gets nothing new");
    assert!(laptop.node.message(&from_ada.id).is_err());
    assert!(!ben.node.connected().await.unwrap().contains(&laptop_id));
    assert_eq!(ben.node.message(&before.id).unwrap().content, "written before the theft", "what came before stays");

    // The space key was rotated: Ben's and Ada's messages since are sealed with a key the
    // laptop never got, so a copy reaching it some other way does not open.
    for (writer, sent) in [(&ben, &from_ben), (&phone, &from_ada)] {
        let event = sealed_post(writer, &sent.content);
        let key = event.key_id().expect("sealed with a key shared after the removal");
        let stolen = keyring(&laptop);
        assert!(stolen.get(Some(key)).is_none(), "the laptop was not given the new key");
        let space = laptop.node.store().space().unwrap().expect("a space").space;
        assert!(event.open(&space, stolen.first()).is_err(), "the old key does not open it");
        assert!(keyring(&ben).get(Some(key)).is_some() && keyring(&phone).get(Some(key)).is_some());
    }
    assert_eq!(sealed_post(&laptop, "written before the theft").key_id(), None, "before: the first key");

    // A new laptop linked afterwards reads the whole history, before and after the rotation
    // (its welcome carries the later key), and writes with the new key.
    let new_laptop = TestNode::device_only("Ada's new laptop").await;
    pair(&phone, &new_laptop, InviteKind::OwnDevice).await.expect("linking the new laptop");
    holds("the new laptop", &new_laptop, &before).await;
    holds("the new laptop", &new_laptop, &from_ben).await;
    let hello = new_laptop.node.send(Target::Direct, "hello from the new laptop", None).await.unwrap();
    holds("Ben", &ben, &hello).await;
    assert_eq!(sealed_post(&new_laptop, &hello.content).key_id(), keyring(&ben).sealing().0);
}

/// `node`'s keys for its space, as it holds them.
fn keyring(node: &TestNode) -> duet_log::Keyring {
    let store = node.node.store();
    let device = store.identity().unwrap().expect("keys").device;
    store.keyring(&device).unwrap().expect("a space")
}

/// The event in which `writer` posted `content`, as stored (sealed).
fn sealed_post(writer: &TestNode, content: &str) -> duet_log::SealedEvent {
    let store = writer.node.store();
    let (me, keys) = (writer.node.device_id(), keyring(writer));
    let space = store.space().unwrap().expect("a space").space;
    let head = store.head(&me).unwrap();
    store
        .events_from(&me, 1, head.seq as usize)
        .unwrap()
        .into_iter()
        .find(|e| {
            let key = keys.get(e.key_id()).expect("the writer holds its keys");
            matches!(e.open(&space, key), Ok(duet_log::Payload::Post { content: c, .. }) if c == content)
        })
        .expect("the post is in the writer's log")
}
