//! What is only for the two of them, between two real `duet up` processes on loopback: a mood on
//! each one's card, a "thinking of you" nudge, pinned messages.

mod common;

use std::path::Path;

use common::{duet, messages, ok, up, wait_until};
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
}
