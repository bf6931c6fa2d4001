//! What is only for the two of them, between two real `duet up` processes on loopback: a mood on
//! each one's card, a "thinking of you" nudge, pinned messages.

mod common;

use std::path::Path;

use common::{couple, duet, messages, ok, up, wait_until};
use serde_json::Value;

fn presence_of(dir: &Path, person: &str) -> Value {
    ok(dir, &["presence", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .find(|p| p["person"] == person)
        .unwrap_or(Value::Null)
}

fn pins(dir: &Path) -> Vec<Value> {
    ok(dir, &["pins", "--json"]).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

fn refused(dir: &Path, args: &[&str], words: &str) {
    let out = duet(dir, args);
    assert!(!out.status.success(), "{args:?} was accepted");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(words), "{args:?} said: {said}");
}

#[test]
fn moods_nudges_and_pins_cross_between_the_two() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (a, b) = (a.path(), b.path());
    let ada: Value = serde_json::from_str(&ok(a, &["init", "--name", "Ada"])).unwrap();
    ok(b, &["init", "--name", "Ben"]);
    let ada = ada["person_id"].as_str().unwrap().to_owned();
    let _a_up = up(a);
    let b_up = up(b);

    // Before pairing, there is nobody to nudge.
    refused(a, &["nudge"], "not paired");
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);
    // On loopback the partner's device is on the same network, and said so.
    wait_until("Ada reaches Ben's device on the same network", || {
        ok(a, &["peers", "--json"]).lines().any(|l| {
            let p: Value = serde_json::from_str(l).unwrap();
            p["me"] == false && p["reach"] == "same_network"
        })
    });
    assert!(ok(a, &["peers"]).contains("— this device"));

    // Ada's mood shows on Ben's side; she clears it and it goes.
    ok(a, &["mood", "🥰", "missing you"]);
    wait_until("Ben sees Ada's mood", || {
        let p = presence_of(b, &ada);
        p["mood"]["emoji"] == "🥰" && p["mood"]["words"] == "missing you"
    });
    assert!(ok(b, &["presence"]).contains("feels 🥰 missing you"));
    refused(a, &["mood", "🥰", &"a".repeat(61)], "too long: 61 characters, the limit is 60");
    refused(a, &["mood", "ok"], "emoji");
    ok(a, &["mood", "--clear"]);
    wait_until("Ben sees the mood cleared", || presence_of(b, &ada)["mood"].is_null());

    // A nudge: Ben's terminal says so, and Ada's card says when.
    ok(a, &["nudge"]);
    wait_until("Ben is told Ada is thinking of him", || b_up.printed().contains("♥ Ada is thinking of you"));
    assert!(presence_of(b, &ada)["last_nudge"].is_u64());
    // While Ben is busy it comes silently.
    ok(b, &["status", "busy"]);
    ok(a, &["nudge"]);
    wait_until("a silent nudge", || b_up.printed().contains("♥ Ada is thinking of you (silently: you are busy)"));

    // Pins: Ada pins Ben's message; both see it; Ben takes it off; neither does.
    let id = ok(b, &["send", "the restaurant is Chez Lou, Friday 8 pm"]).trim().to_owned();
    wait_until("Ada has Ben's message", || messages(a).iter().any(|m| m["id"] == id.as_str()));
    assert!(pins(a).is_empty());
    ok(a, &["pin", &id]);
    wait_until("Ben sees the pin", || {
        pins(b).first().is_some_and(|p| p["message"]["id"] == id.as_str() && p["pinned_by"] == ada.as_str())
    });
    assert!(ok(b, &["pins"]).contains("📌"));
    ok(b, &["pin", &id, "--off"]);
    wait_until("Ada sees it unpinned", || pins(a).is_empty());
    ok(b, &["create-channel", "plans"]);
    wait_until("Ada has #plans", || ok(a, &["channels"]).contains("#plans"));
    refused(a, &["pin", &id, "--channel", "plans"], "not in this conversation");

    // Memories: the video Ben sends is one for both (the text is not); Ada keeps it as a
    // moment and Ben's list shows it kept.
    assert!(ok(a, &["memories"]).contains("No photos, videos or voice notes yet"));
    let video = b.join("waves.mp4");
    std::fs::write(&video, b"not really a video, but named as one").unwrap();
    let id = ok(b, &["send", "--file", video.to_str().unwrap(), "the sea"]).trim().to_owned();
    let memories = |dir: &Path| -> Vec<Value> {
        ok(dir, &["memories", "--json"]).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
    };
    wait_until("Ada has the video among the memories", || {
        memories(a).first().is_some_and(|m| m["message"]["id"] == id.as_str() && m["pinned"] == false)
    });
    assert_eq!(memories(a).len(), 1, "only the video: texts are not memories");
    ok(a, &["pin", &id]);
    wait_until("Ben sees it kept", || memories(b).first().is_some_and(|m| m["pinned"] == true));
    assert!(ok(b, &["memories"]).contains("📌"));
    assert!(ok(b, &["memories", "--on-this-day"]).contains("Nothing shared on this day in earlier years"));
    refused(b, &["memories", "--limit", "500"], "500");

    // Our story: one page with their words, written where Ben asked.
    let story = b.join("story.html");
    assert!(ok(b, &["export-story", story.to_str().unwrap()]).starts_with(&format!("Wrote {}", story.display())));
    let page = std::fs::read_to_string(&story).unwrap();
    assert!(page.contains("the restaurant is Chez Lou, Friday 8 pm") && page.contains("waves.mp4"));
    refused(b, &["export-story", b.join("missing/story.html").to_str().unwrap()], "cannot write");
}

#[test]
fn a_date_made_while_the_partner_is_away_reminds_both_at_its_time() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (a, b) = (a.path(), b.path());
    ok(a, &["init", "--name", "Ada"]);
    ok(b, &["init", "--name", "Ben"]);
    let a_up = up(a);
    let b_up = up(b);
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);

    // "Together since": both count the same days.
    ok(a, &["together-since", "2021-06-12"]);
    let ada_says = ok(a, &["together-since"]);
    assert!(ada_says.starts_with("Together since 2021-06-12: "), "{ada_says}");
    wait_until("Ben counts the same days", || ok(b, &["together-since"]) == ada_says);
    refused(a, &["together-since", "2023-02-29"], "not a day");
    refused(a, &["together-since", "99999-01-01"], "not a day");

    // Ben's computer is off while Ada makes a date ten seconds from now.
    drop(b_up);
    let when = (chrono::Utc::now() + chrono::Duration::seconds(10)).to_rfc3339();
    let id = ok(a, &["date-add", "Dinner at Chez Lou", &when]).trim().to_owned();
    assert_eq!(id.len(), 32, "{id}");
    refused(a, &["date-add", "Someday", "99999-01-01"], "not a time");
    refused(a, &["date-add", &"x".repeat(101), &when], "the limit is 100");
    refused(a, &["date-add", "Far", "9999-12-31 23:00", "--remind", "99999"], "the limit is 10080");
    let dates: Vec<Value> = ok(a, &["dates", "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(dates.len(), 1);
    assert_eq!(dates[0]["title"], "Dinner at Chez Lou");

    // Ben comes back before the time: the date reaches him, and both are reminded.
    let b_up = up(b);
    wait_until("Ben has the date", || ok(b, &["dates"]).contains("Dinner at Chez Lou"));
    for (who, log) in [("Ada", &a_up), ("Ben", &b_up)] {
        wait_until(&format!("{who} is reminded"), || log.printed().contains("⏰ Reminder: Dinner at Chez Lou"));
    }
    // Once: a restart does not remind again.
    drop(b_up);
    let b_up = up(b);
    wait_until("Ben's node answers", || duet(b, &["dates"]).status.success());
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(b_up.printed().matches("⏰ Reminder: Dinner at Chez Lou").count(), 1, "reminded again after a restart");

    ok(b, &["date-remove", &id]);
    wait_until("Ada sees it removed", || ok(a, &["dates", "--json"]).trim().is_empty());
}

fn lists(dir: &Path) -> Vec<Value> {
    ok(dir, &["lists", "--json"]).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn a_shared_list_is_edited_from_both_terminals() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (a, b) = (a.path(), b.path());
    let _nodes = couple(a, b);

    assert!(ok(a, &["list-new", "Groceries"]).starts_with("Groceries ("));
    ok(a, &["list-add", "groceries", "milk"]);
    ok(a, &["list-add", "Groceries", "eggs"]);
    let shown = ok(a, &["list-add", "Groceries", "coffee", "--top"]);
    assert!(shown.contains("☐ coffee\n  ☐ milk\n  ☐ eggs"), "{shown}");
    wait_until("Ben sees the three items", || {
        lists(b).first().is_some_and(|l| l["items"].as_array().is_some_and(|i| i.len() == 3))
    });
    // Ben ticks the milk and moves the eggs to the top; Ada sees both.
    ok(b, &["list-check", "Groceries", "MILK"]);
    ok(b, &["list-move", "Groceries", "eggs", "--top"]);
    wait_until("Ada sees Ben's changes", || {
        ok(a, &["lists"]).contains("Groceries") && ok(a, &["lists"]).contains("☐ eggs\n  ☐ coffee\n  ☑ milk")
    });
    ok(a, &["list-remove", "Groceries", "coffee"]);
    ok(a, &["list-rename", "Groceries", "Shopping"]);
    wait_until("Ben sees the list renamed, coffee gone", || {
        let l = lists(b);
        l.len() == 1 && l[0]["title"] == "Shopping" && l[0]["items"].as_array().is_some_and(|i| i.len() == 2)
    });

    // Bad input is refused in words and changes nothing.
    refused(a, &["list-add", "Shopping", &"x".repeat(501)], "a list item is too long");
    refused(a, &["list-check", "Shopping", "bread"], "has no item \"bread\"");
    refused(a, &["list-add", "Holidays", "tickets"], "no list called \"Holidays\"");
    assert_eq!(lists(a)[0]["items"].as_array().map(Vec::len), Some(2));

    ok(b, &["list-delete", "Shopping"]);
    wait_until("the list is gone for Ada too", || lists(a).is_empty());
}
