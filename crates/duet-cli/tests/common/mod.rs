//! What the `duet` CLI tests share: running the real binary, a `duet up` that stops when
//! dropped, and waiting for a condition.

#![allow(dead_code)] // each test file uses its own part
#![allow(clippy::unwrap_used)] // test code: a failed unwrap fails the test, with its line

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod couple;
pub mod sound;

pub const DUET: &str = env!("CARGO_BIN_EXE_duet");

/// What the test nodes' data is locked with (no desktop keyring runs here), given to every
/// `duet` the tests start through `DUET_PASSPHRASE`.
pub const PASSPHRASE: &str = "duet test passphrase";

/// `duet`, with [`PASSPHRASE`] in its environment.
pub fn command() -> Command {
    let mut command = Command::new(DUET);
    command.env("DUET_PASSPHRASE", PASSPHRASE);
    command
}

pub fn duet(dir: &Path, args: &[&str]) -> Output {
    command().arg("--data-dir").arg(dir).args(args).output().expect("run duet")
}

/// Runs `duet` and returns its stdout; a failure fails the test with duet's own words.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = duet(dir, args);
    assert!(out.status.success(), "duet {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A running `duet up` (or `duet relay`): killed when dropped. Its log is in `log`, and is
/// printed when a test fails while it runs.
pub struct Up {
    child: Child,
    log: Option<PathBuf>,
}

impl Up {
    /// Starts `command` (a `duet up` or `duet relay`, perhaps under `ip netns exec`), with
    /// what it prints written to `log`.
    pub fn spawn(mut command: Command, log: Option<PathBuf>) -> Up {
        let out = || match &log {
            Some(path) => {
                Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open a log file"))
            }
            None => Stdio::null(),
        };
        let child = command.stdout(out()).stderr(out()).spawn().expect("start duet");
        Up { child, log }
    }

    /// Its process id (to read its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has printed so far.
    pub fn printed(&self) -> String {
        self.log.as_ref().and_then(|log| std::fs::read_to_string(log).ok()).unwrap_or_default()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let (true, Some(log)) = (std::thread::panicking(), &self.log) {
            let text = self.printed();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("--- last lines of {} ---", log.display());
            tail.iter().rev().for_each(|l| eprintln!("{l}"));
        }
    }
}

/// `duet up` on loopback (TCP only), logging to `<dir>/up.log`.
pub fn up(dir: &Path) -> Up {
    up_with(dir, &[])
}

/// [`up`] with more in its environment (a sound server of its own, say).
pub fn up_with(dir: &Path, env: &[(&str, PathBuf)]) -> Up {
    let mut command = command();
    command.arg("--data-dir").arg(dir).args(["up", "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"]);
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let up = Up::spawn(command, Some(dir.join("up.log")));
    wait_until("the node answers", || duet(dir, &["peers", "--json"]).status.success());
    up
}

/// Ada (in `a`) and Ben (in `b`), paired: a profile each, both nodes up, Ben joined with
/// Ada's invite. The two nodes run until the returned values are dropped.
pub fn couple(a: &Path, b: &Path) -> (Up, Up) {
    ok(a, &["init", "--name", "Ada"]);
    ok(b, &["init", "--name", "Ben"]);
    let ups = (up(a), up(b));
    let ticket = ok(a, &["invite"]).lines().next().unwrap().to_owned();
    ok(b, &["join", &ticket]);
    ups
}

/// The TCP port the last `duet up` in `dir` said it listens on.
pub fn tcp_port(dir: &Path) -> u16 {
    let log = std::fs::read_to_string(dir.join("up.log")).expect("an up.log");
    log.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("listening on /ip4/127.0.0.1/tcp/"))
        .and_then(|p| p.parse().ok())
        .expect("duet up says where it listens")
}

/// Fails the test in words when a tool it runs is missing. scripts/check-tools.sh reads these
/// names: each must come from a package scripts/install-deps.sh installs.
pub fn require_tool(name: &str) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found =
        std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]).any(|d| d.join(name).is_file());
    assert!(found, "{name} is missing; run scripts/install-deps.sh");
}

pub fn wait_until(what: &str, check: impl FnMut() -> bool) {
    wait_for(what, Duration::from_secs(60), check)
}

pub fn wait_for(what: &str, patience: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn messages(dir: &Path) -> Vec<Value> {
    ok(dir, &["messages", "--json"]).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

/// Whether `dir` holds the message `id`.
pub fn holds(dir: &Path, id: &str) -> bool {
    messages(dir).iter().any(|m| m["id"] == id)
}

/// Every file under `dir`, with its bytes (to look for what must not be there).
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}
