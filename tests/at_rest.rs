//! Nothing readable at rest: after a message with a unique word and a photo cross between two
//! real nodes, no file under either data directory holds the word, the photo's bytes, or any
//! private key (the raw files are read, as someone who copied the folder would).

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

use duet_model::{InviteKind, Target};
use duet_tests::{eventually, files_under, open_store, pair, TestNode};

fn holds(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// A photo whose bytes are unlike anything else (noise, as a PNG).
fn photo() -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let picture = image::RgbImage::from_fn(96, 64, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_under_the_data_directories_holds_a_word_a_photo_or_a_key() {
    let mut ada = TestNode::person("Ada").await;
    let mut ben = TestNode::person("Ben").await;
    pair(&ada, &ben, InviteKind::Partner).await.expect("pairing");

    const WORD: &str = "zanzibarquokka";
    let photo = photo();
    ada.node.send(Target::Direct, &format!("meet me at the {WORD} tonight"), None).await.unwrap();
    let sent = ada.node.send_bytes(Target::Direct, "us.png", photo.clone(), WORD, None).await.unwrap();
    let blob = sent.attachments[0].blob;
    eventually("Ben holds the word and the photo", || async {
        let page = ben.node.messages(Target::Direct, None, 10).ok()?;
        page.messages.iter().any(|m| m.content.contains(WORD)).then_some(())?;
        (ben.node.read_blob(blob).await.ok()? == photo).then_some(())
    })
    .await;
    ada.stop().await;
    ben.stop().await;

    // The secrets each device keeps, to look for.
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for who in [&ada, &ben] {
        let store = open_store(&who.dir).unwrap();
        let identity = store.identity().unwrap().unwrap();
        secrets.push((format!("{}'s device key", who.name), identity.device.secret_bytes().to_vec()));
        let person = identity.person.unwrap();
        secrets.push((format!("{}'s person key", who.name), person.secret_bytes().to_vec()));
        secrets.push((format!("{}'s space key", who.name), store.space_key().unwrap().unwrap().to_bytes().to_vec()));
    }
    let mut looked = 0;
    for who in [&ada, &ben] {
        let files = files_under(&who.dir);
        assert!(files.iter().any(|(p, _)| p.starts_with(duet_node::store_dir(&who.dir))), "the store is there");
        for (path, bytes) in &files {
            looked += bytes.len();
            let name = path.display();
            assert!(!holds(bytes, WORD.as_bytes()), "{name} holds the message's word");
            // Any 64 bytes from the middle of the photo's pixels.
            for at in [photo.len() / 3, photo.len() / 2, photo.len() - 100] {
                assert!(!holds(bytes, &photo[at..at + 64]), "{name} holds the photo's bytes");
            }
            for (what, secret) in &secrets {
                assert!(!holds(bytes, secret), "{name} holds {what}");
            }
        }
    }
    assert!(looked > 100_000, "the photo's size at least was written somewhere: {looked} bytes looked at");
}
