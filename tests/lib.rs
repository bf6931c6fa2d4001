//! The multi-node harness for the scenarios in this folder: nodes on loopback with their own
//! temp data dirs, and bounded waits for what a user would notice.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use duet_node::{Node, NodeConfig, NodeError};
use tempfile::TempDir;

/// How long any wait in a scenario may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A node with its own data directory.
pub struct TestNode {
    pub node: Node,
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
    c
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
        duet_node::init(&dir, person).expect("init");
        let node = Node::start(config(loopback_config(&dir))).await.expect("start");
        node.wait_listening(PATIENCE).await.expect("listening");
        Self { node, name: name.to_owned(), dir, _tmp: Some(tmp) }
    }

    /// Stops the node, keeping its data directory.
    pub async fn stop(&mut self) {
        self.node.shutdown().await;
    }

    /// Starts the node again on the same data directory.
    pub async fn restart(&mut self, config: impl FnOnce(NodeConfig) -> NodeConfig) {
        self.node = Node::start(config(loopback_config(&self.dir))).await.expect("restart");
        self.node.wait_listening(PATIENCE).await.expect("listening");
    }
}

/// Pairs `joiner` with `inviter` (partner or own-device ticket).
pub async fn pair(inviter: &TestNode, joiner: &TestNode, kind: duet_model::InviteKind) -> Result<(), NodeError> {
    let ticket = inviter.node.invite(kind).await?;
    joiner.node.join(&ticket).await
}

/// Polls `check` until it returns `Some`, or fails the test after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("gave up waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
