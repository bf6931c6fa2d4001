//! Several Duet network nodes in one process, on loopback. Every wait is bounded.

use std::time::Duration;

use duet_net::{Client, DeviceId, DuetProtocol, Multiaddr, NetConfig, NetEvent, Stream};
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// How long any single wait in a scenario may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn tcp() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/0".parse().expect("valid")
}

pub fn quic() -> Multiaddr {
    "/ip4/127.0.0.1/udp/0/quic-v1".parse().expect("valid")
}

/// A deterministic device key for test device number `n`.
pub fn secret(n: u8) -> [u8; 32] {
    [n; 32]
}

/// A config for device `n` on loopback, without mDNS.
pub fn config(n: u8, listen: Vec<Multiaddr>) -> NetConfig {
    let mut config = NetConfig::new(secret(n));
    config.listen = listen;
    config.mdns = false;
    config
}

pub struct TestNode {
    pub name: &'static str,
    pub client: Client,
    pub events: mpsc::Receiver<NetEvent>,
    pub device: DeviceId,
}

impl TestNode {
    pub async fn start(name: &'static str, config: NetConfig) -> TestNode {
        let (client, events) = duet_net::start(config).await.unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let device = client.local_device();
        TestNode { name, client, events, device }
    }

    /// Its confirmed listen addresses (waits for them).
    pub async fn addrs(&self) -> Vec<Multiaddr> {
        self.client.wait_listening(WAIT).await.unwrap_or_else(|e| panic!("{} listens: {e}", self.name))
    }

    /// Waits for the first event `pick` accepts, skipping the others.
    pub async fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(NetEvent) -> Option<T>) -> T {
        let name = self.name;
        let found = tokio::time::timeout(WAIT, async {
            loop {
                let event = self.events.recv().await.unwrap_or_else(|| panic!("{name}: events ended"));
                if let Some(found) = pick(event) {
                    return found;
                }
            }
        });
        found.await.unwrap_or_else(|_| panic!("{name} did not see {what} in time"))
    }

    /// Waits until `device` connects; returns the address of its end of the connection.
    pub async fn connected_to(&mut self, device: DeviceId) -> Multiaddr {
        self.wait_for("a connection", |e| match e {
            NetEvent::Connected { device: d, addr } if d == device => Some(addr),
            _ => None,
        })
        .await
    }

    pub async fn disconnected_from(&mut self, device: DeviceId) {
        self.wait_for("a disconnection", |e| match e {
            NetEvent::Disconnected { device: d } if d == device => Some(()),
            _ => None,
        })
        .await
    }

    pub async fn inbound_stream(&mut self, from: DeviceId, protocol: DuetProtocol) -> Stream {
        self.wait_for("an inbound stream", |e| match e {
            NetEvent::InboundStream { device, protocol: p, stream } if device == from && p == protocol => Some(stream),
            _ => None,
        })
        .await
    }

    pub async fn refused(&mut self, who: DeviceId, protocol: DuetProtocol) {
        self.wait_for("a refusal", |e| match e {
            NetEvent::Refused { device, protocol: p } if device == who && p == protocol => Some(()),
            _ => None,
        })
        .await
    }
}

/// Makes `a` and `b` members of each other, tells `b` where `a` listens, and connects them.
/// Returns the address `b` reached `a` at.
pub async fn pair_up(a: &mut TestNode, b: &mut TestNode, a_addrs: Vec<Multiaddr>) -> Multiaddr {
    a.client.set_members(vec![b.device]).await.expect("a members");
    b.client.set_members(vec![a.device]).await.expect("b members");
    b.client.add_addresses(a.device, a_addrs).await.expect("b learns a's addresses");
    b.client.dial(a.device).await.expect("b reaches a");
    a.connected_to(b.device).await;
    b.connected_to(a.device).await
}

/// Writes `message` on `stream` and reads back as many bytes.
pub async fn say_and_hear(stream: &mut Stream, message: &[u8]) -> Vec<u8> {
    let exchange = async {
        stream.write_all(message).await?;
        stream.flush().await?;
        let mut back = vec![0; message.len()];
        stream.read_exact(&mut back).await?;
        Ok::<_, std::io::Error>(back)
    };
    tokio::time::timeout(WAIT, exchange).await.expect("exchange in time").expect("exchange works")
}

/// Reads `len` bytes from `stream` and writes them back.
pub async fn echo(stream: &mut Stream, len: usize) -> Vec<u8> {
    let exchange = async {
        let mut heard = vec![0; len];
        stream.read_exact(&mut heard).await?;
        stream.write_all(&heard).await?;
        stream.flush().await?;
        Ok::<_, std::io::Error>(heard)
    };
    tokio::time::timeout(WAIT, exchange).await.expect("echo in time").expect("echo works")
}
