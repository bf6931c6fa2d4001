//! Backup and restore between two real `duet up` processes on loopback: Ada backs up, goes on
//! writing, loses her computer, and restores on a fresh data folder; bad backups are refused in
//! words and change nothing.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

mod common;

use std::path::Path;

use common::{duet, files_under, holds, messages, ok, up, wait_until};
use serde_json::Value;

const BACKUP_PASSPHRASE: &str = "our backup passphrase";

fn with_backup_passphrase(dir: &Path, args: &[&str], passphrase: &str) -> std::process::Output {
    common::command()
        .env("DUET_BACKUP_PASSPHRASE", passphrase)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run duet")
}

fn refused_restore(backup: &Path, into: &Path, passphrase: &str, words: &str) {
    let out = with_backup_passphrase(into, &["restore", backup.to_str().unwrap()], passphrase);
    assert!(!out.status.success(), "restoring {} was accepted", backup.display());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(words), "restore said: {said}");
}

/// Stops (`STOP`) or resumes (`CONT`) a process, so its peers cannot reach it meanwhile.
fn signal(pid: u32, which: &str) {
    let status = std::process::Command::new("kill").args([&format!("-{which}"), &pid.to_string()]).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{which} {pid}");
}

#[test]
fn a_backup_restored_on_a_fresh_folder_brings_everything_back_and_writes_wait_until_caught_up() {
    let (a, b, c, files) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (a, b, files) = (a.path(), b.path(), files.path());
    // Ada's new computer: a folder that does not exist yet.
    let c = c.path().join("duet");
    // A name long enough to look for in the sealed file: a 3-byte one turns up by chance in
    // about one backup of a megabyte in sixteen (1 MB / 2^24), which failed CI once.
    ok(a, &["init", "--name", "Ada Lovelace"]);
    ok(b, &["init", "--name", "Ben"]);
    let a_up = up(a);
    let b_up = up(b);
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);

    // What they have: messages, a reaction, a photo, a list.
    let first = ok(a, &["send", "the first words of our history"]).trim().to_owned();
    wait_until("Ben has Ada's message", || holds(b, &first));
    let reply = ok(b, &["send", "and these are mine"]).trim().to_owned();
    wait_until("Ada has Ben's reply", || holds(a, &reply));
    ok(a, &["react", &reply, "❤️"]);
    let photo: Vec<u8> = (0..700_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let photo_path = files.join("beach.jpg");
    std::fs::write(&photo_path, &photo).unwrap();
    let with_photo = ok(a, &["send", "--file", photo_path.to_str().unwrap(), "the beach"]).trim().to_owned();
    ok(a, &["list-new", "groceries"]);
    ok(a, &["list-add", "groceries", "figs"]);
    wait_until("Ben has the photo's message and the list", || {
        holds(b, &with_photo) && ok(b, &["lists"]).contains("figs")
    });

    // The backup, taken while Ada's node runs: retried until nothing changed while it was
    // written (receipts may still be arriving), so the snapshot is what the backup holds.
    let backup = files.join("ada.duetbackup");
    let mut snapshot = Vec::new();
    for attempt in 0.. {
        assert!(attempt < 10, "Ada's messages never settled");
        let before = messages(a);
        let out = with_backup_passphrase(a, &["backup", backup.to_str().unwrap()], BACKUP_PASSPHRASE);
        assert!(out.status.success(), "backup: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("Wrote "));
        if messages(a) == before {
            snapshot = before;
            break;
        }
    }
    let lists_then = ok(a, &["lists"]);
    let sealed = std::fs::read(&backup).unwrap();
    for plain in [&b"the first words"[..], b"groceries", b"Ada Lovelace", &photo[1000..1064]] {
        assert!(
            !sealed.windows(plain.len()).any(|w| w == plain),
            "the backup shows {:?}",
            String::from_utf8_lossy(plain)
        );
    }
    // A backup passphrase too short is refused before anything is written.
    let out = with_backup_passphrase(a, &["backup", files.join("short").to_str().unwrap()], "short");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("at least"));
    assert!(!files.join("short").exists());

    // Ada goes on writing after the backup; Ben has it. Then her computer is gone.
    let after = ok(a, &["send", "written after the backup"]).trim().to_owned();
    wait_until("Ben has what Ada wrote after the backup", || holds(b, &after));
    drop(a_up);

    // Bad backups: refused in words; the new folder stays as it was (not there at all).
    refused_restore(&backup, &c, "not the passphrase", "does not open this backup");
    let mut damaged = sealed.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    let damaged_path = files.join("damaged.duetbackup");
    std::fs::write(&damaged_path, &damaged).unwrap();
    refused_restore(&damaged_path, &c, BACKUP_PASSPHRASE, "damaged");
    let cut = files.join("cut.duetbackup");
    std::fs::write(&cut, &sealed[..sealed.len() - 40]).unwrap();
    refused_restore(&cut, &c, BACKUP_PASSPHRASE, "damaged");
    let not_one = files.join("notes.txt");
    std::fs::write(&not_one, "shopping: figs, bread").unwrap();
    refused_restore(&not_one, &c, BACKUP_PASSPHRASE, "not a Duet backup");
    assert!(!c.exists(), "a refused restore left {}", c.display());
    // Nor over data that is there.
    refused_restore(&backup, a, BACKUP_PASSPHRASE, "already holds Duet data");

    // Ben is out of reach while Ada restores: her restored device holds exactly the backup.
    signal(b_up.pid(), "STOP");
    let out = with_backup_passphrase(&c, &["restore", backup.to_str().unwrap()], BACKUP_PASSPHRASE);
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Restored "));
    assert!(
        files_under(&c).iter().all(|(_, bytes)| !bytes.windows(15).any(|w| w == b"the first words")),
        "the restored folder is sealed at rest"
    );
    let c_up = up(&c);
    assert_eq!(messages(&c), snapshot, "the restored messages are the backup's");
    assert_eq!(ok(&c, &["lists"]), lists_then);
    let out_dir = files.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let saved = ok(&c, &["fetch", &with_photo, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(std::fs::read(saved.trim()).unwrap(), photo, "the photo came back from the backup");
    // It may not write yet: it could overwrite what Ada wrote after the backup.
    let out = duet(&c, &["send", "hello again"]);
    assert!(!out.status.success(), "a restored device wrote before catching up");
    assert!(String::from_utf8_lossy(&out.stderr).contains("restored from a backup"));

    // Ben is back: the restored device gets what it wrote after the backup, then writes.
    signal(b_up.pid(), "CONT");
    wait_until("the restored device has what Ada wrote after the backup", || holds(&c, &after));
    let mut again = String::new();
    wait_until("the restored device may write again", || {
        let out = duet(&c, &["send", "hello again, from my new computer"]);
        again = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        out.status.success()
    });
    wait_until("Ben has it", || holds(b, &again));
    let said = b_up.printed();
    assert!(!said.contains("two different versions"), "Ben saw a fork: {said}");
    let from_c: Vec<Value> = messages(&c);
    assert!(from_c.iter().any(|m| m["id"] == reply.as_str() && m["reactions"].to_string().contains("❤️")));
    drop(c_up);
}
