//! `duet relay`: the shell over `duet_node::relay` (a relay, Kademlia node, and STUN and
//! TURN for calls). It serves the devices its owner lists (`--allow DEVICE_ID`, every device
//! of both partners); `--open` serves anyone. Its key is kept in `<data dir>/relay.key`.

use std::net::IpAddr;
use std::path::Path;

use anyhow::Context;
use duet_net::DeviceId;
use duet_node::relay::{Relay, RelayConfig};
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

pub async fn run(
    dir: &Path,
    listen: Vec<String>,
    stun: &str,
    turn_ip: Option<IpAddr>,
    allow: Option<Vec<DeviceId>>,
) -> anyhow::Result<()> {
    duet_node::logging::init();
    match &allow {
        Some(devices) => eprintln!("Serving {} device(s); every other device is refused.", devices.len()),
        None => eprintln!("Serving any device that asks (--open)."),
    }
    let listen = match listen.is_empty() {
        true => vec!["/ip4/0.0.0.0/tcp/4001".parse()?, "/ip4/0.0.0.0/udp/4001/quic-v1".parse()?],
        false => crate::parse_addrs(&listen)?,
    };
    let stun = match stun {
        "off" => None,
        at => Some(at.parse().with_context(|| format!("--stun wants an IP:port or \"off\", not {at:?}"))?),
    };
    let config = RelayConfig { secret: relay_secret(dir)?, listen, stun, turn_ip, allow };
    let relay = Relay::start(config).await?;
    eprintln!("Duet relay running. Give devices one of these addresses (--relay):");
    for a in relay.addrs() {
        println!("{a}");
    }
    if let (Some(at), Some(ip)) = (relay.stun_addr(), relay.turn_ip()) {
        eprintln!(
            "Answering STUN and TURN on {at} (devices find their outside address there; calls that \
             cannot go direct are relayed from {ip})."
        );
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    relay.shutdown().await;
    Ok(())
}
