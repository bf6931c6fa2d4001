//! Seeds a paired couple with a long direct conversation, for `scripts/bench-app.sh`.
//!
//!   cargo run -p duet-app --example seed_conversation -- ALICE_DIR BOB_DIR [COUNT]
//!
//! Alice and Bob get fresh profiles in the two (empty) data directories, pair over loopback,
//! and write COUNT messages (10,000 by default) between them, alternating in runs; it returns
//! once Alice holds all of them. Open ALICE_DIR with `DUET_DATA_DIR=ALICE_DIR duet-app`.
//! The data is locked with `DUET_PASSPHRASE` when it is set, else with the desktop keyring.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use duet_model::{InviteKind, Target};
use duet_node::{Node, NodeConfig};

fn loopback(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig::new(dir);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("a valid multiaddr")];
    config.mdns = false;
    config.unlock = duet_node::passphrase_from_env().unwrap_or(duet_node::Unlock::Keyring);
    config
}

async fn person(dir: &std::path::Path, name: &str) -> anyhow::Result<Node> {
    duet_node::init(dir, Some(name), &loopback(dir).unlock).with_context(|| format!("init {}", dir.display()))?;
    let node = Node::start(loopback(dir)).await?;
    node.wait_listening(Duration::from_secs(10)).await?;
    Ok(node)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(alice_dir), Some(bob_dir)) = (args.next().map(PathBuf::from), args.next().map(PathBuf::from)) else {
        bail!("usage: seed_conversation ALICE_DIR BOB_DIR [COUNT]");
    };
    let count: usize = args.next().map(|c| c.parse()).transpose()?.unwrap_or(10_000);
    let started = Instant::now();

    let alice = person(&alice_dir, "Alice").await?;
    let bob = person(&bob_dir, "Bob").await?;
    let ticket = alice.invite(InviteKind::Partner).await?;
    bob.join(&ticket).await?;

    let lines = [
        "good morning 💛",
        "did you sleep well?",
        "coffee first, then the world",
        "I found the recipe we talked about: lemon, thyme, a lot of garlic",
        "running late, see you at 7?",
        "ok!",
    ];
    for i in 0..count {
        // Runs of a few messages each, as people write.
        let (node, who) = if (i / 3) % 2 == 0 { (&alice, "alice") } else { (&bob, "bob") };
        let text = format!("{} ({who} #{i})", lines[i % lines.len()]);
        node.send(Target::Direct, &text, None).await?;
        // The words index is merged, and the small blocks and index chunks consolidated,
        // while nothing is written (the node's upkeep, a second after the last write); a
        // person's messages come minutes apart, so their store is tidied as it grows. Written
        // back to back here, it is tidied the same way by hand, so the store is the one a
        // conversation of this length leaves, not 10,000 unmerged chunks for the app's first
        // launch to merge at once.
        if i % duet_store::search::FANOUT == duet_store::search::FANOUT - 1 {
            alice.settle_store()?;
            bob.settle_store()?;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let held = alice.conversations()?.iter().find(|c| c.target == Target::Direct).map(|c| c.last_message);
        let page = alice.messages(Target::Direct, None, 1)?;
        let bob_last = bob.messages(Target::Direct, None, 1)?;
        if held.is_some() && page.messages.first().map(|m| m.id) == bob_last.messages.first().map(|m| m.id) {
            let mut total = 0;
            let mut before = None;
            loop {
                let page = alice.messages(Target::Direct, before, 1000)?;
                total += page.messages.len();
                match page.older {
                    Some(older) => before = Some(older),
                    None => break,
                }
            }
            if total >= count {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("Alice did not receive all {count} messages within 300 s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    alice.settle_store()?;
    bob.settle_store()?;
    alice.shutdown().await;
    bob.shutdown().await;
    println!("seeded {count} messages in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
