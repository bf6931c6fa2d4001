//! `duet mailbox`: runs the couple's blind mailbox here, or (with `add`, `show`, `remove`)
//! tells the running node which one the couple uses.

use std::path::Path;
use std::time::Duration;

use duet_node::{Mailbox, MailboxConfig};
use serde_json::Value;

pub async fn run(dir: &Path, listen: Vec<String>, keep_days: u64, quota_mb: u64) -> anyhow::Result<()> {
    duet_node::logging::init();
    let mut config = MailboxConfig::new(dir);
    if !listen.is_empty() {
        config.listen = crate::parse_addrs(&listen)?;
    }
    config.retention = Duration::from_secs(keep_days.saturating_mul(24 * 60 * 60));
    config.quota_bytes = quota_mb.saturating_mul(1 << 20);
    let mailbox = Mailbox::start(config).await?;
    // The ticket is the first line on stdout, so scripts can read it.
    println!("{}", mailbox.ticket(Duration::from_secs(30)).await?);
    eprintln!(
        "Duet mailbox running. On one of your devices: duet mailbox add <the line above> (or Settings → Mailbox). \
         It holds your events sealed and cannot read them."
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    mailbox.shutdown().await;
    Ok(())
}

/// "Mailbox 1a2b3c4d at /ip4/…: reached now" in words.
pub fn describe(v: &Value) -> String {
    let Some(place) = v.get("mailbox").filter(|m| !m.is_null()) else {
        return "No mailbox: messages reach your partner only while one of their devices and one of yours are online \
                together. Run `duet mailbox` on an always-on machine and add its ticket here."
            .into();
    };
    let device = place.get("device").and_then(Value::as_str).unwrap_or("?");
    let short = device.get(..8).unwrap_or(device);
    let addresses: Vec<&str> =
        place.get("addresses").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let reached = if v.get("connected").and_then(Value::as_bool).unwrap_or(false) {
        "reached now"
    } else {
        "not reached from this device now"
    };
    format!("Mailbox {short} at {}: {reached}", addresses.join(", "))
}
