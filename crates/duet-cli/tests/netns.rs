//! Network scenarios across real hosts (`docs/decisions.md`, "Network tests across hosts"):
//! `duet` processes in Linux network namespaces, with home routers (nftables masquerade)
//! between them and the internet.
//!
//! ```text
//!  ada 10.0.1.2 ── nat-a 10.0.1.1 | 198.51.100.2 ─┐
//!                                                  ├── "internet" 198.51.100.0/24 ── relay 198.51.100.1
//!  ben 10.0.2.2 ── nat-b 10.0.2.1 | 198.51.100.3 ─┘
//! ```
//!
//! And a plain home network: Ada (10.0.1.2) and Ben (10.0.1.3) on one switch, nothing else.
//!
//! Each router lets its host out and lets answers back in, and nothing else, as a home
//! router does: nobody on the internet can dial Ada or Ben. A fresh set of namespaces is made
//! for each test and removed after it.
//!
//! What this machine's kernel cannot do: `tc netem` (loss, delay) is not built in, so the
//! network cut here is a router dropping everything, not a lossy link.
//!
//! Namespaces and nftables need root. Run as another user, these tests say so and check
//! nothing, unless `DUET_REQUIRE_NETNS` is set (CI sets it), which makes that a failure.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test, with its line

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{holds, ok, require_tool, wait_for, wait_until, Up, DUET};
use serde_json::Value;

/// The routers' rules: out from the LAN, answers back in, nothing else (not even to the
/// router itself: a closed port on a home router drops, it does not answer).
const HOME_ROUTER: &str = r#"
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }
}
table ip filter {
  chain forwarding {
    type filter hook forward priority 0; policy drop;
    iifname "lan" oifname "wan" accept
    iifname "wan" oifname "lan" ct state established,related accept
  }
  chain incoming {
    type filter hook input priority 0; policy accept;
    iifname "wan" ct state new drop
  }
}
"#;

/// How a home router maps and filters (RFC 4787's terms), for the table of NAT pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nat {
    /// Endpoint-independent mapping and filtering: once the host sent out from a port,
    /// anyone on the internet reaches it there (masquerade keeps the port; everything that
    /// comes in is forwarded to the host on the same port).
    FullCone,
    /// Endpoint-independent mapping, address-and-port-dependent filtering: only answers
    /// come in ([`HOME_ROUTER`]: Linux's masquerade as most home routers run it).
    PortRestricted,
    /// Address-and-port-dependent mapping: each destination sees another random outside
    /// port (`masquerade fully-random`), and only answers come in.
    Symmetric,
}

impl Nat {
    fn name(self) -> &'static str {
        match self {
            Nat::FullCone => "full cone",
            Nat::PortRestricted => "port restricted",
            Nat::Symmetric => "symmetric",
        }
    }

    /// The router's rules for a host at `host` behind it.
    fn rules(self, host: &str) -> String {
        match self {
            Nat::PortRestricted => HOME_ROUTER.to_owned(),
            Nat::Symmetric => {
                HOME_ROUTER.replace("oifname \"wan\" masquerade", "oifname \"wan\" masquerade fully-random")
            }
            Nat::FullCone => format!(
                r#"
table ip nat {{
  chain postrouting {{
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat;
    iifname "wan" dnat to {host}
  }}
}}
table ip filter {{
  chain forwarding {{
    type filter hook forward priority 0; policy drop;
    iifname "lan" oifname "wan" accept
    iifname "wan" oifname "lan" accept
  }}
}}
"#
            ),
        }
    }
}

/// A router whose line is down: everything it would forward is dropped.
const CUT: &str = r#"
table ip cut {
  chain forwarding {
    type filter hook forward priority -10; policy drop;
  }
}
"#;

const RELAY_IP: &str = "198.51.100.1";

/// Runs a command that sets up the network; a failure fails the test with its words.
fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("run {args:?}: {e}"));
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// The hosts of one test: network namespaces named `<prefix>-<host>`, removed when dropped.
struct Hosts {
    prefix: String,
    made: Vec<String>,
}

impl Hosts {
    /// Namespaces for `hosts`, each with its loopback up; `None` (after saying why) when this
    /// user cannot make them.
    fn new(hosts: &[&str]) -> Option<Hosts> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if !is_root {
            assert!(
                std::env::var_os("DUET_REQUIRE_NETNS").is_none(),
                "network namespace tests need root (DUET_REQUIRE_NETNS is set)"
            );
            eprintln!("skipped: network namespace tests need root");
            return None;
        }
        require_tool("ip");
        require_tool("nft");
        require_tool("sysctl");
        let mut made =
            Hosts { prefix: format!("d{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)), made: vec![] };
        for host in hosts {
            let ns = made.ns(host);
            run(&["ip", "netns", "add", &ns]);
            made.made.push(ns.clone());
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        Some(made)
    }

    /// A switch in `host`: a bridge named `name`.
    fn switch(&self, host: &str, name: &str) {
        run(&["ip", "-n", &self.ns(host), "link", "add", name, "type", "bridge"]);
        run(&["ip", "-n", &self.ns(host), "link", "set", name, "up"]);
    }

    /// A cable from a port of `switch` (in `at`) to `host`, whose end is named `name`.
    fn plug(&self, (at, switch): (&str, &str), host: &str, name: &str) {
        let port = format!("to-{host}");
        self.wire((at, &port), (host, name));
        run(&["ip", "-n", &self.ns(at), "link", "set", &port, "master", switch, "up"]);
    }

    /// The topology at the top: Ada and Ben at home behind their routers, a relay on the
    /// internet.
    fn home_routers() -> Option<Hosts> {
        Hosts::home_routers_of(Nat::PortRestricted, Nat::PortRestricted)
    }

    /// The same, with routers of the given kinds at Ada's and at Ben's.
    fn home_routers_of(nat_a: Nat, nat_b: Nat) -> Option<Hosts> {
        let hosts = Hosts::new(&["wan", "relay", "nat-a", "nat-b", "ada", "ben"])?;
        hosts.switch("wan", "internet");
        for (i, host) in ["relay", "nat-a", "nat-b"].into_iter().enumerate() {
            hosts.plug(("wan", "internet"), host, "wan");
            hosts.address(host, "wan", &format!("198.51.100.{}/24", i + 1));
        }
        for (n, router, host, nat) in [(1, "nat-a", "ada", nat_a), (2, "nat-b", "ben", nat_b)] {
            hosts.wire((router, "lan"), (host, "eth0"));
            hosts.address(router, "lan", &format!("10.0.{n}.1/24"));
            hosts.address(host, "eth0", &format!("10.0.{n}.2/24"));
            run(&["ip", "-n", &hosts.ns(host), "route", "add", "default", "via", &format!("10.0.{n}.1")]);
            hosts.exec(router, &["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
            hosts.nft(router, &nat.rules(&format!("10.0.{n}.2")));
        }
        Some(hosts)
    }

    /// Ada and Ben on one home network (10.0.1.0/24, one switch), and nothing else.
    fn one_lan() -> Option<Hosts> {
        let hosts = Hosts::new(&["home", "ada", "ben"])?;
        hosts.switch("home", "lan");
        for (n, host) in [(2, "ada"), (3, "ben")] {
            hosts.plug(("home", "lan"), host, "eth0");
            hosts.address(host, "eth0", &format!("10.0.1.{n}/24"));
        }
        Some(hosts)
    }

    fn ns(&self, host: &str) -> String {
        format!("{}-{host}", self.prefix)
    }

    /// A cable: a veth pair with one end in each host, named as given there.
    fn wire(&self, (a, a_name): (&str, &str), (b, b_name): (&str, &str)) {
        let (tmp_a, tmp_b) = (format!("{}x", self.prefix), format!("{}y", self.prefix));
        run(&["ip", "link", "add", &tmp_a, "type", "veth", "peer", "name", &tmp_b]);
        for (tmp, host, name) in [(&tmp_a, a, a_name), (&tmp_b, b, b_name)] {
            let ns = self.ns(host);
            run(&["ip", "link", "set", tmp, "netns", &ns]);
            run(&["ip", "-n", &ns, "link", "set", tmp, "name", name]);
            run(&["ip", "-n", &ns, "link", "set", name, "up"]);
        }
    }

    fn address(&self, host: &str, device: &str, cidr: &str) {
        run(&["ip", "-n", &self.ns(host), "addr", "add", cidr, "dev", device]);
    }

    fn exec(&self, host: &str, args: &[&str]) {
        let ns = self.ns(host);
        run(&[&["ip", "netns", "exec", &ns], args].concat());
    }

    fn nft(&self, host: &str, rules: &str) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns(host), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nft (Debian package nftables)");
        child.stdin.take().unwrap().write_all(rules.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "nft on {host}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `duet` with `args`, run on `host`, logging to `<dir>/<name>.log`.
    fn duet(&self, host: &str, dir: &Path, name: &str, args: &[&str]) -> Up {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.ns(host), DUET]).arg("--data-dir").arg(dir).args(args);
        command.env("DUET_LOG", "info,duet_net=debug,duet_node=debug").env("DUET_PASSPHRASE", common::PASSPHRASE);
        Up::spawn(command, Some(dir.join(format!("{name}.log"))))
    }

    /// A relay on the internet, as `duet relay` runs one; returns it and its address.
    fn relay(&self, dir: &Path, allow: &[&str]) -> (Up, String) {
        let listen = format!("/ip4/{RELAY_IP}/tcp/4001");
        let mut args = vec!["relay", "--listen", listen.as_str()];
        for device in allow {
            args.extend(["--allow", device]);
        }
        let relay = self.duet("relay", dir, "relay", &args);
        let mut addr = None;
        wait_until("the relay prints its address", || {
            addr = relay.printed().lines().find(|l| l.starts_with("/ip4/") && l.contains("/p2p/")).map(str::to_owned);
            addr.is_some()
        });
        (relay, addr.unwrap())
    }

    /// `duet up` on `host` with `args`; returns once it answers.
    fn up(&self, host: &str, dir: &Path, args: &[&str]) -> Up {
        let up = self.duet(host, dir, "up", &[&["up"], args].concat());
        wait_until("the node answers", || common::duet(dir, &["peers", "--json"]).status.success());
        up
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// How `dir`'s node sees `device`: `None` when not connected, `Some(relayed)` when it is.
fn link(dir: &Path, device: &str) -> Option<bool> {
    ok(dir, &["peers", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .find(|p| p["device"] == device && p["connected"] == true)
        .map(|p| p["relayed"] == true)
}

/// How `dir`'s node says `device` is reached (`same_network`, `direct`, `relay`, `offline`).
fn reach(dir: &Path, device: &str) -> String {
    ok(dir, &["peers", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .find(|p| p["device"] == device)
        .and_then(|p| p["reach"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `duet init`: the person's and the device's ids.
fn init(dir: &Path, name: &str) -> (String, String) {
    let ids: Value = serde_json::from_str(&ok(dir, &["init", "--name", name])).expect("init prints JSON");
    let id = |field: &str| ids[field].as_str().expect("an id").to_owned();
    (id("person_id"), id("device_id"))
}

/// A person's presence as `dir`'s node shows it.
fn presence(dir: &Path, person: &str) -> Value {
    ok(dir, &["presence", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .find(|p| p["person"] == person)
        .unwrap_or_default()
}

/// Ada and Ben, each at home behind a router, running `duet up` and paired through the relay.
struct Couple {
    relay: Option<Up>,
    /// Ada's and Ben's `duet up`.
    ups: [Option<Up>; 2],
    relay_addr: String,
    a: tempfile::TempDir,
    b: tempfile::TempDir,
    /// (person, device) ids.
    ada: (String, String),
    ben: (String, String),
    _relay_dir: tempfile::TempDir,
}

impl Couple {
    fn pair(net: &Hosts) -> Couple {
        let (a, b, r) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let ada = init(a.path(), "Ada");
        let ben = init(b.path(), "Ben");
        let (relay, relay_addr) = net.relay(r.path(), &[&ada.1, &ben.1]);
        // Listening as a person at home would (every interface, TCP and QUIC), and through
        // the relay.
        let args = ["--relay", relay_addr.as_str(), "--no-mdns"];
        let ups = [net.up("ada", a.path(), &args), net.up("ben", b.path(), &args)];
        // Ada's ticket names her home address, which Ben cannot reach, and her relayed one.
        let ticket = ok(a.path(), &["invite"]).lines().next().unwrap().to_owned();
        ok(b.path(), &["join", &ticket]);
        let ups = ups.map(Some);
        Couple { relay: Some(relay), ups, relay_addr, a, b, ada, ben, _relay_dir: r }
    }
}

#[test]
fn partners_behind_home_routers_punch_through_them_and_go_on_without_the_relay() {
    let Some(net) = Hosts::home_routers() else { return };
    let mut couple = Couple::pair(&net);
    let (a, b) = (couple.a.path(), couple.b.path());
    let hello = ok(a, &["send", "hello from behind my router"]).trim().to_owned();
    wait_until("Ben gets Ada's message", || holds(b, &hello));

    // Through the relay, the two punch a hole in both routers (DCUtR) and connect directly.
    let (ada, ben) = (&couple.ada.1, &couple.ben.1);
    wait_until("Ada and Ben are connected directly", || link(a, ben) == Some(false) && link(b, ada) == Some(false));
    // Across the internet (198.51.100.0/24), not the same network.
    assert_eq!(reach(a, ben), "direct");

    // The relay goes away: they still talk, both ways.
    drop(couple.relay.take());
    let reply = ok(b, &["send", "the relay is gone and we still talk"]).trim().to_owned();
    wait_until("Ada gets Ben's reply without the relay", || holds(a, &reply));
    let again = ok(a, &["send", "👋"]).trim().to_owned();
    wait_until("Ben gets Ada's next message without the relay", || holds(b, &again));
    assert_eq!(link(a, ben), Some(false), "still directly connected");
}

/// Ada and Ben behind their routers are never online together: what Ada sends while Ben is
/// off (100 messages and a file) waits at their mailbox on the internet, and Ben, coming up
/// while Ada is off, gets all of it from there. Ada's device knows when the mailbox holds it
/// all (`mailbox show --json`), which is how the test knows she may go.
#[test]
fn never_online_together_everything_arrives_through_the_mailbox() {
    let Some(net) = Hosts::home_routers() else { return };
    let mut couple = Couple::pair(&net);
    let (a, b) = (couple.a.path().to_owned(), couple.b.path().to_owned());
    let m = tempfile::tempdir().unwrap();
    let mailbox =
        net.duet("relay", m.path(), "mailbox", &["mailbox", "--listen", &format!("/ip4/{RELAY_IP}/tcp/4002")]);
    let mut ticket = None;
    wait_until("the mailbox prints its ticket", || {
        ticket = mailbox.printed().lines().find(|l| l.starts_with("duetbox1")).map(str::to_owned);
        ticket.is_some()
    });
    ok(&a, &["mailbox", "add", ticket.as_deref().unwrap()]);
    let status = |dir: &Path| -> Value { serde_json::from_str(&ok(dir, &["mailbox", "show", "--json"])).unwrap() };
    wait_until("Ben's device uses the mailbox too", || !status(&b)["mailbox"].is_null());

    // Ben is off; Ada writes.
    drop(couple.ups[1].take());
    let mut sent: Vec<String> =
        (0..100).map(|i| ok(&a, &["send", &format!("while you sleep, {i}")]).trim().to_owned()).collect();
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("poem.txt");
    std::fs::write(
        &file,
        "roses are red, the mailbox is blind
"
        .repeat(20_000),
    )
    .unwrap();
    sent.push(ok(&a, &["send", "--file", file.to_str().unwrap(), "a poem"]).trim().to_owned());
    // Every message (`messages` shows the newest 50 unless asked for more).
    let all = |dir: &Path| -> Vec<Value> {
        ok(dir, &["messages", "--json", "--limit", "500"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let last_at = all(&a).iter().find(|m| m["id"] == sent[100]).unwrap()["created_at"].as_u64().unwrap();
    let ada_device = couple.ada.1.clone();
    wait_until("Ada's device knows the mailbox holds all she wrote", || {
        let s = status(&a);
        let held = s["holds"].as_array().into_iter().flatten().find(|h| h["device"] == ada_device.as_str());
        held.and_then(|h| h["until"].as_u64()).is_some_and(|until| until >= last_at)
    });
    let ada_up = couple.ups[0].as_ref().unwrap();
    wait_until("Ada's device put her file at the mailbox", || {
        ada_up.printed().contains("an attachment is at the mailbox")
    });

    // Ada is off; Ben comes up alone.
    drop(couple.ups[0].take());
    let relay_arg = couple.relay_addr.clone();
    couple.ups[1] = Some(net.up("ben", &b, &["--relay", &relay_arg, "--no-mdns"]));
    wait_for("Ben gets all 101 from the mailbox", Duration::from_secs(120), || {
        let held = all(&b);
        sent.iter().all(|id| held.iter().any(|m| m["id"] == id.as_str()))
    });
    let out = tempfile::tempdir().unwrap();
    ok(&b, &["fetch", &sent[100], "--out", out.path().to_str().unwrap()]);
    assert_eq!(std::fs::read(out.path().join("poem.txt")).unwrap(), std::fs::read(&file).unwrap());
    for (path, bytes) in common::files_under(m.path()).into_iter().filter(|(p, _)| !p.ends_with("mailbox.log")) {
        assert!(!bytes.windows(13).any(|w| w == b"roses are red"), "{} holds the poem", path.display());
        assert!(!bytes.windows(16).any(|w| w == b"while you sleep,"), "{} holds a message", path.display());
    }
}

/// The call as `dir`'s node shows it, with what it hears.
fn call_status(dir: &Path) -> Value {
    serde_json::from_str(&ok(dir, &["call-status"])).expect("call-status prints JSON")
}

#[test]
fn a_cut_in_the_network_heals_and_what_was_sent_meanwhile_arrives() {
    let Some(net) = Hosts::home_routers() else { return };
    let couple = Couple::pair(&net);
    let (a, b, ben) = (couple.a.path(), couple.b.path(), &couple.ben.0);
    let hello = ok(b, &["send", "are you there?"]).trim().to_owned();
    wait_until("Ada gets Ben's message", || holds(a, &hello));
    wait_until("Ada sees Ben online", || presence(a, ben)["status"] == "online");

    // Ben's router loses its internet line: nothing in or out, and no one says so (no reset).
    net.nft("nat-b", CUT);
    let sent: Vec<String> =
        (0..20).map(|i| ok(a, &["send", &format!("message {i} while you were away")]).trim().to_owned()).collect();
    // Heartbeats stop crossing: Ada sees Ben go offline, with when he was last seen.
    wait_for("Ada sees Ben offline", Duration::from_secs(120), || presence(a, ben)["status"] == "offline");
    assert!(presence(a, ben)["last_seen"].is_u64(), "and when he was last seen");
    assert!(sent.iter().all(|id| !holds(b, id)), "nothing crossed the cut");

    // The line comes back: everything sent meanwhile arrives, in order, and Ben is back.
    net.nft("nat-b", "delete table ip cut\n");
    wait_for("Ben gets all 20 messages", Duration::from_secs(120), || sent.iter().all(|id| holds(b, id)));
    let order: Vec<String> = common::messages(b)
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .filter(|id| sent.contains(id))
        .collect();
    assert_eq!(order, sent, "in the order Ada sent them");
    wait_for("Ada sees Ben online again", Duration::from_secs(120), || presence(a, ben)["status"] == "online");
}

#[test]
fn partners_on_one_home_network_find_each_other_on_ports_they_never_saw() {
    let Some(net) = Hosts::one_lan() else { return };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    let ada = init(a, "Ada").1;
    let ben = init(b, "Ben").1;
    let listen = |port: u16| format!("/ip4/0.0.0.0/tcp/{port}");
    let ups = [net.up("ada", a, &["--listen", &listen(4001)]), net.up("ben", b, &["--listen", &listen(4001)])];
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);
    let hello = ok(a, &["send", "dinner at 8?"]).trim().to_owned();
    wait_until("Ben gets Ada's message", || holds(b, &hello));

    // Both stop, and come back on ports the other never saw: the addresses each remembered
    // are wrong now, there is no relay, and only the LAN (mDNS) can say where the other is.
    drop(ups);
    let _ada_up = net.up("ada", a, &["--listen", &listen(4101)]);
    let _ben_up = net.up("ben", b, &["--listen", &listen(4102)]);
    let reply = ok(b, &["send", "yes, see you at 8"]).trim().to_owned();
    wait_until("Ada gets Ben's reply", || holds(a, &reply));
    // Each says the other is on the same network (10.0.1.0/24).
    wait_until("both on the same network", || reach(a, &ben) == "same_network" && reach(b, &ada) == "same_network");
}

/// How a couple behind two routers ends up connected: the chat (libp2p: a hole punched
/// through both routers, or through the relay) and a call (ICE: direct, or through the
/// relay's TURN).
#[derive(Debug)]
struct Outcome {
    chat_direct: bool,
    call_relayed: bool,
}

/// A couple behind routers of kinds `nat_a` and `nat_b` chats and calls; how each went.
fn chat_and_call_behind(nat_a: Nat, nat_b: Nat) -> Option<Outcome> {
    let net = Hosts::home_routers_of(nat_a, nat_b)?;
    let couple = Couple::pair(&net);
    let (a, b) = (couple.a.path(), couple.b.path());
    let hello = ok(a, &["send", "hello across two routers"]).trim().to_owned();
    wait_until("Ben gets Ada's message", || holds(b, &hello));
    let reply = ok(b, &["send", "hello back"]).trim().to_owned();
    wait_until("Ada gets Ben's reply", || holds(a, &reply));
    // Hole punching (DCUtR) starts once they are connected through the relay; it is given
    // 20 s, well over what it takes where it works (a few seconds).
    let ben = &couple.ben.1;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let chat_direct = loop {
        if link(a, ben) == Some(false) {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(250));
    };

    ok(a, &["call", "--synthetic", "--tone", "440"]);
    wait_until("Ben's computer rings", || call_status(b)["call"]["phase"] == "ringing");
    ok(b, &["answer", "--synthetic", "--tone", "660"]);
    for (dir, who, pitch) in [(b, "Ben hears Ada's 440 Hz tone", 440.0), (a, "Ada hears Ben's 660 Hz tone", 660.0)] {
        wait_until(who, || {
            let status = call_status(dir);
            let heard = &status["heard"];
            status["call"]["phase"] == "active"
                && heard["frames"].as_u64().is_some_and(|n| n >= 50)
                && heard["dominant_hz"].as_f64().is_some_and(|hz| (hz - pitch).abs() < 20.0)
        });
    }
    let mut relayed = None;
    wait_until("Ada's call reads its connection", || {
        relayed = call_status(a)["quality"]["relayed"].as_bool();
        relayed.is_some()
    });
    ok(a, &["hangup"]);
    Some(Outcome { chat_direct, call_relayed: relayed.unwrap() })
}

/// Every pair of router kinds: the chat always gets through (directly or relayed) and so
/// does a call (directly or through TURN). Two symmetric routers can only be relayed, both
/// chat and call; two port-restricted or full-cone ones punch through. The table is printed
/// (`--nocapture`) for the notes.
#[test]
fn every_pair_of_home_routers_chats_and_calls_directly_or_through_the_relay() {
    use Nat::*;
    let pairs = [
        (FullCone, FullCone),
        (FullCone, PortRestricted),
        (FullCone, Symmetric),
        (PortRestricted, PortRestricted),
        (PortRestricted, Symmetric),
        (Symmetric, Symmetric),
    ];
    let mut table = String::from("| Ada's router | Ben's router | chat | call |\n|---|---|---|---|\n");
    for (nat_a, nat_b) in pairs {
        let Some(outcome) = chat_and_call_behind(nat_a, nat_b) else { return };
        let chat = if outcome.chat_direct { "direct (hole punched)" } else { "through the relay" };
        let call = if outcome.call_relayed { "through the relay's TURN" } else { "direct (ICE)" };
        table.push_str(&format!("| {} | {} | {chat} | {call} |\n", nat_a.name(), nat_b.name()));
        match (nat_a, nat_b) {
            (Symmetric, Symmetric) => {
                assert!(!outcome.chat_direct && outcome.call_relayed, "two symmetric NATs: {outcome:?}\n{table}")
            }
            (PortRestricted | FullCone, PortRestricted | FullCone) => {
                assert!(outcome.chat_direct && !outcome.call_relayed, "no symmetric NAT: {outcome:?}\n{table}")
            }
            _ => {}
        }
    }
    eprintln!("{table}");
}
