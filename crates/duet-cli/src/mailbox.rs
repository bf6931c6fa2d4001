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
    let mut out = format!("Mailbox {short} at {}: {reached}", addresses.join(", "));
    if let Some(usage) = v.get("usage").filter(|u| !u.is_null()) {
        let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
        let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
        out.push_str(&format!("\nHolds {:.1} MB of its {:.0} MB.", mb(n("bytes_held")), mb(n("quota_bytes"))));
        if n("dropped_undelivered") > 0 {
            out.push_str(&format!(
                "\nIt ran out of room and dropped {} of the oldest messages before every device had them: \
                 they reach a device that lacks them when a device holding them is online with it.",
                n("dropped_undelivered")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_in_words_with_its_room_and_what_it_dropped() {
        let status = serde_json::json!({
            "mailbox": { "device": "e5".repeat(32), "addresses": ["/ip4/192.168.1.20/tcp/4002"] },
            "connected": true,
            "holds": [],
            "usage": { "bytes_held": 512 * 1024 * 1024, "quota_bytes": 1024 * 1024 * 1024_u64, "dropped_undelivered": 3, "last_drop": 1 },
        });
        let text = describe(&status);
        assert!(text.starts_with("Mailbox e5e5e5e5 at /ip4/192.168.1.20/tcp/4002: reached now"), "{text}");
        assert!(text.contains("Holds 512.0 MB of its 1024 MB."), "{text}");
        assert!(text.contains("dropped 3 of the oldest"), "{text}");
        assert!(describe(&serde_json::json!({ "mailbox": null })).starts_with("No mailbox"));
    }
}
