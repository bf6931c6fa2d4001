//! Search between two real `duet up` processes on loopback: Ben finds what Ada wrote by its
//! words, accents and case folded, best match first, in one conversation or before a time;
//! an edit is found by its new words and a deleted message is gone; bad input gets words.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

mod common;

use common::{couple, duet, holds, ok, wait_until};
use serde_json::Value;

fn search(dir: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    ok(dir, &all).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn contents(found: &[Value]) -> Vec<&str> {
    found.iter().map(|m| m["content"].as_str().unwrap()).collect()
}

#[test]
fn search_finds_messages_by_their_words_best_first() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    let _nodes = couple(a, b);
    ok(b, &["create-channel", "plans"]);
    wait_until("Ada has #plans", || ok(a, &["channels"]).contains("#plans"));

    let sent: Vec<String> = [
        vec!["send", "café? on y va, au revoir"],
        vec!["send", "Oui! Au CAFE de la gare"],
        vec!["send", "--channel", "plans", "On se voit au café ce soir ?"],
        vec!["send", "see you at the cinmea"],
        vec!["send", "pizza tonight, or not"],
    ]
    .iter()
    .map(|args| ok(a, args).trim().to_owned())
    .collect();
    let (typo, pizza) = (&sent[3], &sent[4]);
    ok(a, &["edit", typo, "see you at the cinema"]);
    ok(a, &["delete", pizza]);
    wait_until("Ben has Ada's messages, the edit and the deletion", || {
        // `holds` reads the direct conversation; the third went to #plans.
        sent.iter().enumerate().all(|(i, id)| i == 2 || holds(b, id))
            && search(b, &["soir"]).len() == 1
            && contents(&search(b, &["cinema"])) == ["see you at the cinema"]
            && search(b, &["pizza"]).is_empty()
    });

    // Every word, accents and case folded; the words as typed first, then in order, newest
    // first within each; exactly the fields the issue names.
    let found = search(b, &["au", "café"]);
    assert_eq!(
        contents(&found),
        ["On se voit au café ce soir ?", "Oui! Au CAFE de la gare", "café? on y va, au revoir"]
    );
    let first = &found[0];
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["author", "content", "conversation", "created_at", "id"]);
    assert_eq!(first["id"].as_str().unwrap(), sent[2]);
    let in_plans: Vec<Value> = ok(b, &["messages", "--channel", "plans", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let posted = in_plans.iter().find(|m| m["id"] == first["id"]).unwrap();
    assert_eq!(first["author"], posted["sender"]);
    assert_eq!(first["conversation"], posted["conversation"]);
    assert!(first["created_at"].as_u64().unwrap() > 1_700_000_000_000);
    assert_ne!(found[0]["conversation"], found[1]["conversation"], "a channel and the direct conversation");
    assert!(search(b, &["cinmea"]).is_empty(), "an edit is found by its new words only");
    assert!(search(b, &["caf"]).is_empty(), "whole words");

    // One channel; a limit; before a time.
    assert_eq!(contents(&search(b, &["cafe", "--channel", "plans"])), ["On se voit au café ce soir ?"]);
    assert_eq!(search(b, &["CAFÉ", "--limit", "1"]).len(), 1);
    let second_at = found[1]["created_at"].as_u64().unwrap();
    let before = rfc3339(second_at);
    assert_eq!(contents(&search(b, &["café", "--before", &before])), ["café? on y va, au revoir"]);

    // In words: nothing found, a search too long, an unknown channel.
    assert!(ok(b, &["search", "nothing-like-this"]).contains("No message holds every word"));
    let long = "word ".repeat(120);
    let out = duet(b, &["search", &long]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("a search is too long"), "{out:?}");
    let out = duet(b, &["search", "café", "--channel", "nowhere"]);
    assert!(!out.status.success());
}

/// `ms` as RFC 3339 in UTC (what `--before` takes besides local times).
fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
