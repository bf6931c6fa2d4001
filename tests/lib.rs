//! The multi-node harness for the scenarios in this folder: nodes on loopback with their own
//! temp data dirs, and bounded waits for what a user would notice.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duet_node::{Node, NodeConfig, NodeError, NodeEvent};
use tempfile::TempDir;
use tokio::sync::broadcast::error::RecvError;

/// How long any wait in a scenario may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A node with its own data directory.
pub struct TestNode {
    /// The running node (use it as a [`Node`]; touching it while stopped fails the test).
    pub node: Running,
    pub name: String,
    pub dir: PathBuf,
    _tmp: Option<TempDir>,
}

/// A loopback-only configuration (no mDNS, so tests only see each other when told to).
pub fn loopback_config(dir: &std::path::Path) -> NodeConfig {
    let mut c = NodeConfig::new(dir);
    c.listen =
        vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid"), "/ip4/127.0.0.1/udp/0/quic-v1".parse().expect("valid")];
    c.mdns = false;
    c.heartbeat = Duration::from_millis(500);
    c.unlock = test_unlock();
    c
}

/// What opens a test node's data: a passphrase (no desktop keyring runs here).
pub fn test_unlock() -> duet_node::Unlock {
    duet_node::Unlock::passphrase(duet_node::TEST_PASSPHRASE)
}

/// Opens the store of a stopped test node's data directory.
pub fn open_store(dir: &std::path::Path) -> Result<duet_store::Store, duet_node::NodeError> {
    duet_node::open_store(dir, &test_unlock())
}

/// Logs to stderr when `RUST_LOG` is set (e.g. `RUST_LOG=duet_node=debug,duet_net=debug`).
pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

impl TestNode {
    /// A new person with one device.
    pub async fn person(name: &str) -> Self {
        Self::create(name, Some(name), |c| c).await
    }

    /// A new device that will join an existing person.
    pub async fn device_only(name: &str) -> Self {
        Self::create(name, None, |c| c).await
    }

    pub async fn create(name: &str, person: Option<&str>, config: impl FnOnce(NodeConfig) -> NodeConfig) -> Self {
        init_logging();
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path().to_path_buf();
        duet_node::init(&dir, person, &test_unlock()).expect("init");
        let node = Node::start_when_unlocked(config(loopback_config(&dir))).await.expect("start");
        node.wait_listening(PATIENCE).await.expect("listening");
        Self { node: Running(Some(node)), name: name.to_owned(), dir, _tmp: Some(tmp) }
    }

    /// Stops the node, keeping its data directory. Returns once the store is closed, so the
    /// directory can be opened again (by [`TestNode::restart`] or by the test itself). Needs
    /// the multi-threaded runtime (`#[tokio::test(flavor = "multi_thread")]`).
    pub async fn stop(&mut self) {
        let Some(node) = self.node.0.take() else { return };
        node.shutdown().await;
        drop(node);
        // Aborted tasks drop their handles on the node a moment later; the store closes with
        // the last one.
        let dir = self.dir.clone();
        eventually(&format!("{}'s store to close", self.name), || async {
            tokio::task::block_in_place(|| open_store(&dir)).ok().map(drop)
        })
        .await;
    }

    /// What this node is connected to, which member devices it knows and how far it holds each
    /// log: for a failed wait to say ([`eventually_or_report`]).
    pub async fn report(&self) -> String {
        let connected = self.node.connected().await;
        let knows = self.node.peers().await.map(|p| p.iter().map(|p| p.device).collect::<Vec<_>>());
        let holds = self.node.version_vector();
        format!(
            "{} ({:?}) is connected to {connected:?}, knows {knows:?}, holds {holds:?}",
            self.name,
            self.node.device_id()
        )
    }

    /// Starts the node again on the same data directory (stopping it first if it runs).
    pub async fn restart(&mut self, config: impl FnOnce(NodeConfig) -> NodeConfig) {
        self.stop().await;
        let node = Node::start_when_unlocked(config(loopback_config(&self.dir))).await.expect("restart");
        node.wait_listening(PATIENCE).await.expect("listening");
        self.node = Running(Some(node));
    }
}

/// A test node's [`Node`] while it runs.
pub struct Running(Option<Node>);

impl std::ops::Deref for Running {
    type Target = Node;

    fn deref(&self) -> &Node {
        self.0.as_ref().expect("the node is stopped")
    }
}

/// Every device the watched nodes cut off (`NodeEvent::PeerRejected`), and why. In a scenario
/// where nobody misbehaves it stays empty: a device wrongly cut off stalls the conversation.
#[derive(Clone, Default)]
pub struct Rejections(Arc<Mutex<Vec<String>>>);

impl Rejections {
    /// Records what `node` rejects from now on (watch it again after a restart).
    pub fn watch(&self, node: &TestNode) {
        let (seen, name, mut events) = (self.0.clone(), node.name.clone(), node.node.subscribe());
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(NodeEvent::PeerRejected { reason, .. }) => {
                        seen.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{name}: {reason}"))
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }

    /// Fails the test if any watched node cut a device off.
    pub fn assert_none(&self) {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(seen.is_empty(), "no device should have been cut off: {seen:?}");
    }
}

/// Every file under `dir`, read whole (as someone who copied the folder would read it).
pub fn files_under(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// A test that fails for another reason (a wait given up) still says who was cut off: the
/// likeliest cause of a stalled conversation.
impl Drop for Rejections {
    fn drop(&mut self) {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if std::thread::panicking() && !seen.is_empty() {
            eprintln!("devices cut off during this test: {seen:?}");
        }
    }
}

/// Pairs `joiner` with `inviter` (partner or own-device ticket).
pub async fn pair(inviter: &TestNode, joiner: &TestNode, kind: duet_model::InviteKind) -> Result<(), NodeError> {
    let ticket = inviter.node.invite(kind).await?;
    joiner.node.join(&ticket).await
}

/// Polls `check` until it returns `Some`, or fails the test after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match within_patience(check).await {
        Some(v) => v,
        None => panic!("gave up waiting for: {what}"),
    }
}

/// [`eventually`], and a wait that gives up also says what `report` tells then (the state of
/// the nodes involved, say [`TestNode::report`]), so a failure shows which part stalled.
pub async fn eventually_or_report<T, F, Fut, R, RFut>(what: &str, check: F, report: R) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
    R: FnOnce() -> RFut,
    RFut: Future<Output = String>,
{
    match within_patience(check).await {
        Some(v) => v,
        None => panic!("gave up waiting for: {what}; {}", report().await),
    }
}

/// Polls `check` until it returns `Some`, for at most [`PATIENCE`].
async fn within_patience<T, F, Fut>(mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Copies `bytes` over one loopback TCP connection and returns the time from connecting until
/// the reader has everything: the floor the benchmarks print beside sync and blob transfers.
pub async fn raw_tcp_copy(bytes: usize) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = 0;
        loop {
            let n = s.read(&mut buf).await.expect("read");
            if n == 0 {
                return got;
            }
            got += n;
        }
    });
    let chunk = vec![0x5au8; 256 * 1024];
    let started = std::time::Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        s.write_all(&chunk[..n]).await.expect("write");
        left -= n;
    }
    s.shutdown().await.expect("shutdown");
    let got = reader.await.expect("reader");
    let took = started.elapsed();
    assert_eq!(got, bytes);
    took
}

/// Copies the file at `path` over one loopback TCP connection into a new file at `out`, and
/// returns the time from connecting until `out` is synced: what `nc host port > out; sync`
/// does, in 256 KiB reads. The floor for a transfer whose bytes must land on disk, as a
/// fetched attachment's do.
pub fn raw_tcp_file_copy(path: &std::path::Path, out: &std::path::Path) -> Duration {
    use std::io::{Read, Write};
    const READ: usize = 256 * 1024;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut source = std::fs::File::open(path).expect("open the source");
    let size = source.metadata().expect("the source's size").len();
    let out = out.to_path_buf();
    let started = std::time::Instant::now();
    let receiver = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut file = std::fs::File::create(&out).expect("create the copy");
        let mut buf = vec![0u8; READ];
        let mut got = 0u64;
        loop {
            let n = s.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).expect("write the copy");
            got += n as u64;
        }
        file.sync_all().expect("sync the copy");
        got
    });
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let mut buf = vec![0u8; READ];
    loop {
        let n = source.read(&mut buf).expect("read the source");
        if n == 0 {
            break;
        }
        s.write_all(&buf[..n]).expect("send");
    }
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let got = receiver.join().expect("the receiver");
    let took = started.elapsed();
    assert_eq!(got, size);
    took
}

/// A relay on loopback as `duet relay` runs one, with STUN and TURN on a port of its own,
/// serving the devices `allow` lists (`None`: anyone).
pub async fn relay_on_loopback(allow: Option<Vec<duet_model::DeviceId>>) -> duet_node::relay::Relay {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut secret);
    duet_node::relay::Relay::start(duet_node::relay::RelayConfig {
        secret,
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("a valid address")],
        stun: Some("127.0.0.1:0".parse().expect("a valid address")),
        turn_ip: None,
        allow,
    })
    .await
    .expect("the relay starts")
}
