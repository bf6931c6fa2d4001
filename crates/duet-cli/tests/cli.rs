//! The `duet` command-line contract, exercised with the real binary: two data directories,
//! two `duet up` processes on loopback, and every command a script would use.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{duet, messages, ok, tcp_port, up, wait_until, DUET};
use serde_json::Value;

#[test]
fn two_terminals_pair_and_chat() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (a, b) = (a.path(), b.path());

    let ids: Value = serde_json::from_str(&ok(a, &["init", "--name", "Ada"])).unwrap();
    assert!(ids["person_id"].as_str().is_some_and(|s| s.len() == 64));
    assert!(ids["device_id"].as_str().is_some_and(|s| s.len() == 64));
    ok(b, &["init", "--name", "Ben"]);

    // Commands need a running node, and say so in words.
    let out = duet(a, &["send", "hi"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));

    let _a_up = up(a);
    let _b_up = up(b);
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    assert!(ticket.starts_with("duet1"));
    ok(b, &["join", &ticket]);

    // Using the same ticket again is refused.
    let c = tempfile::tempdir().unwrap();
    ok(c.path(), &["init", "--name", "Eve"]);
    let _c_up = up(c.path());
    let out = duet(c.path(), &["join", &ticket]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already used"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = duet(c.path(), &["join", "duet1notaticket"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("mistyped"));

    let id = ok(a, &["send", "dinner at 8?"]).trim().to_owned();
    wait_until("Ben gets Ada's message", || messages(b).iter().any(|m| m["id"] == id.as_str()));
    let reply = ok(b, &["send", "yes! 🍝"]).trim().to_owned();
    wait_until("Ada gets Ben's reply", || messages(a).iter().any(|m| m["id"] == reply.as_str()));

    ok(a, &["edit", &id, "dinner at 8:30?"]);
    ok(b, &["react", &id, "👍"]);
    ok(b, &["read", &id]);
    wait_until("Ada sees the edit, the reaction and the read tick", || {
        messages(a).iter().any(|m| {
            m["id"] == id.as_str()
                && m["content"] == "dinner at 8:30?"
                && m["edited"] == true
                && m["reactions"][0]["emoji"] == "👍"
                && m["read"] == true
                && m["read_at"].is_u64()
                && m["delivered_at"].is_u64()
        })
    });
    let seen = messages(b);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["id"], id.as_str(), "newest last");
    assert_eq!(seen[0]["message_type"], "text");

    ok(b, &["unreact", &id, "👍"]);
    let out = duet(a, &["delete", &reply]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("only delete your own"));
    ok(b, &["delete", &reply]);
    wait_until("Ada sees Ben's deletion", || {
        messages(a).iter().any(|m| m["id"] == reply.as_str() && m["deleted"] == true)
    });
    assert!(messages(b).iter().any(|m| m["id"] == reply.as_str() && m["content"] == ""));

    ok(a, &["status", "busy", "--text", "in a meeting"]);
    wait_until("Ben sees Ada busy", || {
        ok(b, &["presence", "--json"]).lines().any(|l| l.contains("\"busy\"") && l.contains("in a meeting"))
    });
    let peers = ok(a, &["peers", "--json"]);
    assert_eq!(peers.lines().count(), 2);
    assert!(peers.lines().any(|l| l.contains("\"connected\":true")));

    let too_long = "x".repeat(2001);
    let out = duet(a, &["send", &too_long]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too long"));

    // Safety numbers: both terminals print the same digits; Ada marks them, Ben sees it.
    let (ada_sees, ben_sees) = (ok(a, &["verify"]), ok(b, &["verify"]));
    let digits = |text: &str| -> Vec<String> {
        text.lines().filter(|l| l.starts_with("    ")).flat_map(|l| l.split_whitespace().map(str::to_owned)).collect()
    };
    assert_eq!(digits(&ada_sees).len(), 12, "{ada_sees}");
    assert_eq!(digits(&ada_sees), digits(&ben_sees));
    assert!(ada_sees.contains("with Ben") && ben_sees.contains("with Ada"), "{ada_sees}{ben_sees}");
    let mine: Value = serde_json::from_str(&ok(a, &["verify", "--mark", "--json"])).unwrap();
    assert_eq!(mine["verified_by_me"], true);
    wait_until("Ben sees that Ada checked the number", || {
        let v: Value = serde_json::from_str(&ok(b, &["verify", "--json"])).unwrap();
        v["verified_by_partner"] == true && v["verified_by_me"] == false
    });
    assert!(ok(b, &["verify"]).contains("Ada: marked as checked"));
    // The devices: Ada's and Ben's; Ada may not remove Ben's.
    let devices: Vec<Value> = ok(a, &["devices", "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(devices.len(), 2);
    assert!(devices[0]["this_device"] == true && devices[1]["mine"] == false);
    let bens = devices[1]["device"].as_str().unwrap();
    let out = duet(a, &["devices", "remove", &bens[..8]]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("your partner's"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ok(b, &["devices"]).contains("this device"));

    // Eve is paired with no one: no number, said in words.
    let out = duet(c.path(), &["verify"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("once your partner has joined"));
}

#[test]
fn a_file_is_sent_and_fetched_from_the_terminal() {
    let (a, b, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    ok(a, &["init", "--name", "Ada"]);
    ok(b, &["init", "--name", "Ben"]);
    let a_up = up(a);
    let _b_up = up(b);
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);

    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let path = files.path().join("song lyrics.txt");
    std::fs::write(&path, &data).unwrap();
    let id = ok(a, &["send", "--file", path.to_str().unwrap(), "for you"]).trim().to_owned();
    wait_until("Ben gets the message", || messages(b).iter().any(|m| m["id"] == id.as_str()));
    let m = messages(b).into_iter().find(|m| m["id"] == id.as_str()).unwrap();
    assert_eq!((m["content"].as_str(), m["message_type"].as_str()), (Some("for you"), Some("file")));
    assert_eq!(m["attachments"][0]["name"], "song lyrics.txt");
    assert!(ok(b, &["messages"]).contains("📎 song lyrics.txt (2.9 MiB)"));

    let out_dir = files.path().join("downloads");
    let out = duet(b, &["fetch", &id, "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("100%"),
        "progress: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(Path::new(&saved), out_dir.join("song lyrics.txt"));
    assert_eq!(std::fs::read(&saved).unwrap(), data);

    let out = duet(a, &["send", "--file", files.path().join("nope.png").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = duet(b, &["fetch", &id, "--out", out_dir.to_str().unwrap(), "--attachment", "2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no number 2"), "{}", String::from_utf8_lossy(&out.stderr));

    // Too big to be fetched by itself (16 MiB); Ada goes offline before Ben asks for it: the
    // fetch says it waits, and finishes once she is back.
    let big: Vec<u8> = (0..17_000_000u32).map(|i| (i.wrapping_mul(2_246_822_519) >> 17) as u8).collect();
    let path = files.path().join("holiday.mov");
    std::fs::write(&path, &big).unwrap();
    let id = ok(a, &["send", "--file", path.to_str().unwrap()]).trim().to_owned();
    wait_until("Ben gets the big one", || messages(b).iter().any(|m| m["id"] == id.as_str()));
    drop(a_up);
    wait_until("Ben sees Ada go", || !ok(b, &["peers"]).contains("● Ada"));
    // Her port is taken meanwhile, so she comes back on another one, where Ben cannot look
    // for her: she must find him.
    let old_port = tcp_port(a);
    let _taken = std::net::TcpListener::bind(("127.0.0.1", old_port)).expect("take Ada's old port");
    let mut fetch = common::command()
        .arg("--data-dir")
        .arg(b)
        .args(["fetch", &id, "--out", out_dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start duet fetch");
    let mut stderr = std::io::BufReader::new(fetch.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    assert!(first.starts_with("Waiting for a device that has this attachment"), "{first}");
    let _a_up = up(a);
    assert_ne!(tcp_port(a), old_port, "Ada is back on another port");
    let out = fetch.wait_with_output().unwrap();
    assert!(out.status.success());
    let saved = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(std::fs::read(&saved).unwrap(), big);
}

/// Runs `duet` with umask 002 (group-writable files by default), as on many desktops.
fn duet_with_umask(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg("umask 002 && exec \"$0\" \"$@\"").arg(DUET).arg("--data-dir").arg(dir).args(args);
    command.env("DUET_PASSPHRASE", common::PASSPHRASE);
    command
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_directory_and_control_socket_are_private_whatever_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("duet");
    assert!(duet_with_umask(&dir, &["init", "--name", "Ada"]).status().unwrap().success());
    assert_eq!(mode(&dir), 0o700, "the data directory");

    // A directory an older version left readable is narrowed at the next start.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let _up = common::Up::spawn(duet_with_umask(&dir, &["up", "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"]), None);
    wait_until("the node answers", || duet(&dir, &["peers", "--json"]).status.success());
    assert_eq!(mode(&dir), 0o700, "the data directory, after a start");
    assert_eq!(mode(&dir.join("duet.sock")), 0o600, "the control socket");

    // Another user of this computer cannot drive Ada's node: the directory keeps them out,
    // and so does the socket itself when someone widened the permissions by hand.
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !is_root {
        eprintln!("skipped the other-user part: it needs root to become another user");
        return;
    }
    common::require_tool("setpriv");
    let as_nobody = |dir: &Path| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", DUET, "--data-dir"])
            .arg(dir)
            .args(["peers", "--json"])
            .output()
            .unwrap()
    };
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = as_nobody(&dir);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to another user"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.join("duet.sock"), std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let out = as_nobody(&dir);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to another user"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(duet(&dir, &["peers", "--json"]).status.success(), "Ada herself still can");
}

#[test]
fn invites_are_listed_and_cancelled_from_the_terminal() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (a, b) = (a.path(), b.path());
    ok(a, &["init", "--name", "Ada"]);
    ok(b, &["init", "--name", "Ben"]);
    let _a_up = up(a);
    let _b_up = up(b);

    // `invite` prints the ticket first, and says how to take it back.
    let out = duet(a, &["invite"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ticket = String::from_utf8_lossy(&out.stdout).lines().next().unwrap().to_owned();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let id = said.split("duet invite --cancel ").nth(1).expect("how to cancel it").trim().to_owned();
    assert_eq!(id.len(), 12, "{said}");

    let listed: Vec<Value> = ok(a, &["invites", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["kind"], "partner");
    assert_eq!(listed[0]["state"], "open");
    assert!(listed[0]["expires_at"].is_u64());
    let shown = ok(a, &["invites"]);
    assert!(shown.contains(&id) && shown.contains("partner invite — open"), "{shown}");

    let out = duet(a, &["invite", "--cancel", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled"));
    let listed: Value = serde_json::from_str(ok(a, &["invites", "--json"]).trim()).unwrap();
    assert_eq!(listed["state"], "cancelled");

    // Nothing is open any more: Ben's join is not answered, and he is told why in words.
    let out = duet(b, &["join", &ticket]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not open there any more") && err.contains("cancelled"), "{err}");

    let out = duet(a, &["invite", "--cancel", "nosuchinvite"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no invite nosuchinvite"));
    let out = duet(a, &["invite", "--device", "--cancel", &id]);
    assert!(!out.status.success(), "one or the other");
}

/// Runs `script` (sh) in a private session bus with an unlocked GNOME Keyring, as a desktop
/// session has, and `HOME` in `home` (where the keyring keeps its files). `$DUET` is duet.
fn in_a_keyring_session(home: &Path, script: &str) -> std::process::Output {
    common::require_tool("dbus-run-session");
    common::require_tool("gnome-keyring-daemon");
    common::require_tool("secret-tool");
    common::require_tool("gdbus");
    // The daemon returns before it is on the bus: a secret-tool call that comes first has the
    // bus start another keyring daemon, whose login keyring is locked and asks for its password
    // on a display there is none of ("Cannot create an item in a locked collection", seen once
    // in CI). So the script waits until the name is owned (`gdbus wait` starts nothing), for up
    // to 5 s. The daemon also writes the new login keyring after it returns: a first use can
    // meet it half made ("invalid or unrecognized format", seen once in CI). A throwaway
    // secret, retried for up to 3 s, waits until it takes secrets.
    let script = format!(
        "printf login | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null || exit 9\n\
         gdbus wait --session --timeout 5 org.freedesktop.secrets || {{ echo 'the keyring daemon never came on the bus' >&2; exit 8; }}\n\
         for i in 1 2 3 4 5 6 7 8 9 10; do printf x | secret-tool store --label=warmup duet-test warmup 2>/dev/null && break; sleep 0.3; done\n\
         {script}"
    );
    Command::new("dbus-run-session")
        .args(["--", "sh", "-euc", &script])
        .env("HOME", home)
        .env("DUET", DUET)
        .env_remove("DUET_PASSPHRASE")
        .output()
        .unwrap()
}

fn vault(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("vault.json")).unwrap()).unwrap()
}

#[test]
fn the_data_key_lives_in_the_desktop_keyring_or_behind_a_passphrase_and_moves_between_them() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("ada");
    std::fs::create_dir_all(&home).unwrap();
    let words = tmp.path().join("words");
    std::fs::write(&words, "river stones at dusk\n").unwrap();
    let d = dir.display();
    let w = words.display();
    // With a keyring: nothing to type. The second init opens the data (it finds Ada there).
    let out = in_a_keyring_session(
        &home,
        &format!(
            r#"
            "$DUET" --data-dir {d} init --name Ada
            if "$DUET" --data-dir {d} init --name Ada 2>err; then exit 1; fi
            grep -q "already exists" err
            # To a passphrase: the keyring no longer opens it; the passphrase does, a wrong one not.
            "$DUET" --data-dir {d} passphrase set --new-file {w}
            if "$DUET" --data-dir {d} init --name Ada 2>err; then exit 1; fi
            grep -q "locked with a passphrase" err
            if DUET_PASSPHRASE="not the words" "$DUET" --data-dir {d} init --name Ada 2>err; then exit 1; fi
            grep -q "that passphrase does not open this Duet data" err
            if "$DUET" --data-dir {d} --passphrase-file {w} init --name Ada 2>err; then exit 1; fi
            grep -q "already exists" err
            # And back to the keyring.
            "$DUET" --data-dir {d} --passphrase-file {w} passphrase use-keyring
            if "$DUET" --data-dir {d} init --name Ada 2>err; then exit 1; fi
            grep -q "already exists" err
            "#
        ),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the keyring session failed: {said}");
    assert_eq!(vault(&dir)["wrapping"], "keyring");

    // Without any keyring and nobody at a terminal: the words say how to give a passphrase,
    // and nothing is made.
    let bare = tmp.path().join("ben");
    let out = Command::new(DUET)
        .arg("--data-dir")
        .arg(&bare)
        .args(["init", "--name", "Ben"])
        .env_remove("DUET_PASSPHRASE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env("HOME", &home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("keyring could not be used") && said.contains("DUET_PASSPHRASE"), "{said}");
    assert!(!bare.join("vault.json").exists() && !bare.join("db").exists());
    // With one: a short passphrase is refused in words, a good one locks the data.
    let init = |words: &str| {
        Command::new(DUET)
            .arg("--data-dir")
            .arg(&bare)
            .args(["init", "--name", "Ben"])
            .env("DUET_PASSPHRASE", words)
            .output()
            .unwrap()
    };
    let short = init("short");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));
    assert!(init("a long enough passphrase").status.success());
    assert_eq!(vault(&bare)["wrapping"], "passphrase");
    assert_eq!(vault(&bare)["argon2id"]["memory_kib"], 65536);
}
