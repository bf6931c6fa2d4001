//! The memories between two real nodes: the photos, videos and sounds the two shared, from
//! every conversation, newest first, kept moments (pins) seen by both, and "On this day"
//! (`crates/duet-node/src/memories.rs`).

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use duet_model::{InviteKind, Target, Timestamp};
use duet_node::{Memory, TimeWindow};
use duet_tests::{eventually, pair, TestNode};

fn png(shade: u8) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, shade]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn names(memories: &[Memory]) -> Vec<String> {
    memories.iter().map(|m| m.message.attachments[0].name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photos_and_sounds_both_shared_are_memories_for_both_and_a_kept_moment_is_kept_for_both() {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let trip = ada.node.create_channel("Trip", duet_model::ChannelKind::Text, None).await.unwrap();

    let beach = ada.node.send_bytes(Target::Direct, "beach.png", png(10), "us", None).await.unwrap();
    ada.node.send(Target::Direct, "what a day", None).await.unwrap();
    ben.node.send_bytes(Target::Direct, "tickets.pdf", b"%PDF-1.4 not a memory".to_vec(), "", None).await.unwrap();
    let hike = eventually("Ben sees the channel", || async {
        let sent = ben.node.send_bytes(Target::Channel(trip.id), "hike.png", png(90), "", None).await;
        sent.ok()
    })
    .await;
    let deleted = ada.node.send_bytes(Target::Direct, "blurry.png", png(200), "", None).await.unwrap();
    ada.node.delete(deleted.id).await.unwrap();

    // Both see the two photos, newest first, from both conversations; no text, no PDF,
    // nothing deleted.
    for (who, node) in [("Ada", &ada.node), ("Ben", &ben.node)] {
        let memories = eventually(&format!("{who} sees both photos"), || async {
            let m = node.memories(None, 50).ok()?;
            (m.len() == 2).then_some(m)
        })
        .await;
        assert_eq!(names(&memories), ["hike.png", "beach.png"], "{who}");
        assert_eq!(memories[0].message.channel, Some(trip.id));
        assert!(memories.iter().all(|m| !m.pinned));
    }
    // A page older than the newest.
    assert_eq!(names(&ada.node.memories(Some(hike.id), 50).unwrap()), ["beach.png"]);

    // Ben keeps the beach as a moment: it is a pin of its message, for both.
    ben.node.pin(Target::Direct, beach.id, true).await.unwrap();
    eventually("Ada sees the kept moment", || async {
        let m = ada.node.memories(None, 50).ok()?;
        m.iter().any(|m| m.message.id == beach.id && m.pinned).then_some(())
    })
    .await;
    assert_eq!(ada.node.pinned(Target::Direct).unwrap()[0].message.id, beach.id);

    // On this day: a window holding the beach photo's moment finds it; one a year earlier
    // finds nothing; too many windows are refused in words.
    let at = beach.created_at.0;
    let around = TimeWindow { from: Timestamp(at), to: Timestamp(at + 1) };
    let year_before = TimeWindow { from: Timestamp(at - 366 * 86_400_000), to: Timestamp(at - 365 * 86_400_000) };
    assert_eq!(names(&ben.node.memories_in(&[year_before, around]).unwrap()), ["beach.png"]);
    assert!(ben.node.memories_in(&[year_before]).unwrap().is_empty());
    let err = ben.node.memories_in(&vec![around; 101]).unwrap_err();
    assert!(err.to_string().contains("at most 100"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_story_is_one_inert_page_with_every_message_and_the_pictures_held_here() {
    let ada = TestNode::person("Ada").await;
    let ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");
    let photo = png(77);
    let sent = ada.node.send_bytes(Target::Direct, "beach.png", photo.clone(), "", None).await.unwrap();
    ada.node.send(Target::Direct, "<script>alert('hi')</script> & \"us\"", None).await.unwrap();
    let reply = eventually("Ben has both", || async {
        let page = ben.node.messages(Target::Direct, None, 10).ok()?;
        (page.messages.len() == 2).then_some(())
    });
    reply.await;
    ben.node.send(Target::Direct, "see you at 8", None).await.unwrap();
    let a = &sent.attachments[0];
    ben.node.fetch_blob(a.blob, a.size).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("our story.html");
    let report = ben.node.export_story(&path).await.unwrap();
    assert_eq!((report.messages, report.pictures, report.pictures_left_out), (3, 1, 0), "{report:?}");
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<title>Ben &amp; Ada — our story</title>"), "{}", &page[..400]);
    assert!(page.contains("default-src 'none'"), "a policy that lets nothing in");
    assert!(!page.contains("<script"), "a message's markup never becomes markup");
    assert!(page.contains("&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; &amp; &quot;us&quot;"));
    use base64::Engine as _;
    let embedded = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&photo));
    assert!(page.contains(&embedded), "the photo itself, embedded");
    let order: Vec<usize> = ["beach.png", "alert", "see you at 8"].iter().map(|w| page.find(w).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "oldest first: {order:?}");
    assert!(!dir.path().join("our story.html.part").exists());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["our story.html"], "no temporary file left beside it");

    // Somewhere that cannot be written: said, nothing half-written left.
    let err = ben.node.export_story(&dir.path().join("no such folder").join("story.html")).await.unwrap_err();
    assert_eq!(err.code(), "unwritable_file", "{err}");
}
