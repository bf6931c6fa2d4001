//! Where `duet` gets what opens this device's data key (`duet_store::vault`), in order:
//!
//! 1. `--passphrase-file FILE` (its first line);
//! 2. `DUET_PASSPHRASE`;
//! 3. the vault's own way: the desktop keyring, or a passphrase typed on the terminal.
//!
//! New data is kept with the keyring when one answers; when none does and a person is at a
//! terminal, they choose a passphrase (typed twice); with no terminal either, the error says
//! how to give one. A wrong passphrase typed on a terminal may be typed again (three tries).

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context};
use duet_node::{ErrorCode, NodeError, Unlock, Wrapping};

/// What opens the data in `dir`, before any prompt.
pub fn given(dir: &Path, passphrase_file: Option<&Path>) -> anyhow::Result<Unlock> {
    if let Some(file) = passphrase_file {
        return Ok(Unlock::passphrase(first_line(file)?));
    }
    if let Some(unlock) = duet_node::passphrase_from_env() {
        return Ok(unlock);
    }
    match duet_node::vault_wrapping(dir)? {
        Some(Wrapping::Passphrase) if at_terminal() => Ok(Unlock::passphrase(ask("Passphrase for your Duet data: ")?)),
        _ => Ok(Unlock::Keyring),
    }
}

/// Runs `open` with what opens the data in `dir`, asking on the terminal when the keyring is
/// missing (a new passphrase) or a typed passphrase was wrong (again, up to three times).
pub async fn with_unlock<T, F, Fut>(dir: &Path, passphrase_file: Option<&Path>, open: F) -> anyhow::Result<T>
where
    F: Fn(Unlock) -> Fut,
    Fut: Future<Output = Result<T, NodeError>>,
{
    let mut unlock = given(dir, passphrase_file)?;
    let typed = passphrase_file.is_none() && duet_node::passphrase_from_env().is_none();
    for _ in 0..3 {
        match open(unlock.clone()).await {
            Err(e) if e.code() == ErrorCode::KeyringUnavailable && at_terminal() => {
                eprintln!("{e}.");
                unlock = Unlock::passphrase(choose("your Duet data")?);
            }
            Err(e) if e.code() == ErrorCode::WrongPassphrase && typed && at_terminal() => {
                eprintln!("That passphrase does not open this Duet data. Try again.");
                unlock = Unlock::passphrase(ask("Passphrase for your Duet data: ")?);
            }
            Err(e) if e.code() == ErrorCode::KeyringUnavailable => {
                bail!("{e}: give one in DUET_PASSPHRASE or --passphrase-file")
            }
            other => return Ok(other?),
        }
    }
    bail!("that passphrase does not open this Duet data")
}

/// `duet passphrase set`: the data is locked with a new passphrase from now on.
pub fn set(dir: &Path, passphrase_file: Option<&Path>, new_file: Option<&Path>) -> anyhow::Result<()> {
    let current = given(dir, passphrase_file)?;
    let new = match new_file {
        Some(file) => first_line(file)?,
        None if at_terminal() => choose("your Duet data")?,
        None => bail!("give the new passphrase with --new-file FILE, or run this at a terminal"),
    };
    duet_node::change_unlock(dir, &current, &Unlock::passphrase(new))?;
    Ok(())
}

/// `duet passphrase use-keyring`: the desktop keyring keeps the data key; no passphrase.
pub fn use_keyring(dir: &Path, passphrase_file: Option<&Path>) -> anyhow::Result<()> {
    let current = given(dir, passphrase_file)?;
    duet_node::change_unlock(dir, &current, &Unlock::Keyring)?;
    Ok(())
}

/// A backup's passphrase: the first line of `file`, else DUET_BACKUP_PASSPHRASE, else typed
/// (twice when `choosing` one for a new backup).
pub fn backup_passphrase(file: Option<&Path>, choosing: bool) -> anyhow::Result<String> {
    if let Some(file) = file {
        return first_line(file);
    }
    if let Ok(p) = std::env::var("DUET_BACKUP_PASSPHRASE") {
        return Ok(p);
    }
    if !at_terminal() {
        bail!("give the backup's passphrase in DUET_BACKUP_PASSPHRASE or --backup-passphrase-file");
    }
    if !choosing {
        return ask("Passphrase of the backup: ");
    }
    choose("the backup")
}

/// A passphrase file's first line.
fn first_line(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

fn at_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// A new passphrase for `what`, typed twice.
fn choose(what: &str) -> anyhow::Result<String> {
    loop {
        let first =
            ask(&format!("Choose a passphrase for {what} (at least {} characters): ", duet_node::MIN_PASSPHRASE))?;
        if first.chars().count() < duet_node::MIN_PASSPHRASE {
            eprintln!("That is too short.");
            continue;
        }
        if ask("Type it again: ")? == first {
            return Ok(first);
        }
        eprintln!("The two differ; once more.");
    }
}

/// One line from the terminal, not shown while typed (`stty -echo`).
fn ask(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let stty = |arg: &str| std::process::Command::new("stty").arg(arg).stdin(std::process::Stdio::inherit()).status();
    let hidden = stty("-echo").is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        let _ = stty("echo");
        eprintln!();
    }
    read.context("cannot read the passphrase")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
