//! `duet relay`: a relay (circuit relay v2) and Kademlia bootstrap node, for people who want
//! their own. It carries encrypted connections between devices and can read nothing.
//!
//! It serves the devices its owner lists (`--allow DEVICE_ID`, every device of both
//! partners), and refuses everyone else's connection before any protocol runs, so a relay
//! whose address leaks does not become everyone's free relay; `--open` serves anyone.

use std::path::Path;

use anyhow::Context;
use duet_net::{DeviceId, NetConfig};
use rand_core::{OsRng, RngCore};

/// The relay's identity lives in `<data dir>/relay.key` so its address stays the same.
fn relay_secret(dir: &Path) -> anyhow::Result<[u8; 32]> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("relay.key");
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(secret);
        }
    }
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    std::fs::write(&path, secret).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

/// The devices `--allow` names, each as 64 hex digits (a device id).
pub fn parse_allowed(ids: &[String]) -> anyhow::Result<Vec<DeviceId>> {
    ids.iter()
        .map(|id| {
            id.trim().parse::<DeviceId>().map_err(|_| {
                anyhow::anyhow!(
                    "--allow wants a device id, 64 hex digits as `duet peers --json` shows it (\"device\"), not {id:?}"
                )
            })
        })
        .collect()
}

pub async fn run(dir: &Path, listen: Vec<String>, stun: &str, allow: Option<Vec<DeviceId>>) -> anyhow::Result<()> {
    duet_node::logging::init();
    let mut config = NetConfig::new(relay_secret(dir)?);
    config.relay_server = true;
    match &allow {
        Some(devices) => eprintln!("Serving {} device(s); every other device is refused.", devices.len()),
        None => eprintln!("Serving any device that asks (--open)."),
    }
    config.allow_only = allow;
    config.mdns = false;
    if listen.is_empty() {
        config.listen = vec!["/ip4/0.0.0.0/tcp/4001".parse()?, "/ip4/0.0.0.0/udp/4001/quic-v1".parse()?];
    } else {
        config.listen = crate::parse_addrs(&listen)?;
    }
    let (client, mut events) = duet_net::start(config).await?;
    let peer = duet_net::peer_id(&client.local_device());
    let addrs = client.wait_listening(std::time::Duration::from_secs(30)).await?;
    eprintln!("Duet relay running. Give devices one of these addresses (--relay):");
    for a in addrs {
        println!("{}", duet_net::with_peer(a, &peer));
    }
    if stun != "off" {
        let at: std::net::SocketAddr =
            stun.parse().with_context(|| format!("--stun wants an IP:port or \"off\", not {stun:?}"))?;
        let socket = tokio::net::UdpSocket::bind(at).await.with_context(|| format!("cannot answer STUN on {at}"))?;
        eprintln!("Answering STUN on {at} (devices that use this relay find their outside address there).");
        tokio::spawn(duet_net::stun::serve(socket));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            e = events.recv() => if e.is_none() { break },
        }
    }
    client.shutdown().await;
    Ok(())
}
