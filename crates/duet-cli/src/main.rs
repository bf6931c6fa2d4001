//! `duet`: the headless Duet client. `duet up` runs a node in the foreground; the other
//! commands talk to it through the control socket in the data directory (see `control`).
//! `duet relay` runs a relay/bootstrap node for people who want their own.
//!
//! The command-line contract is fixed (scripts and tests rely on it); see the README.

mod calls;
mod control;
mod lists;
mod mailbox;
mod relay;
mod unlock;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::Datelike;
use clap::{Parser, Subcommand};
use control::{call, Request};
use duet_model::{CalendarDate, DateId, MessageId, PresenceStatus, SharedDate};
use duet_node::{Node, NodeConfig};
use serde_json::Value;

#[derive(Parser)]
#[command(name = "duet", version, about = "Duet: a private place for two, device to device.")]
struct Cli {
    /// Where this device keeps its keys and messages.
    #[arg(long, global = true, env = "DUET_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A file whose first line is the passphrase that opens this device's data (else
    /// DUET_PASSPHRASE, else the desktop keyring or the terminal; see `duet passphrase`).
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// `duet passphrase …`: the data key's wrapping changes; the data itself stays as it is.
#[derive(Subcommand)]
enum PassphraseAction {
    /// Lock this device's data with a new passphrase (typed twice, or the first line of
    /// --new-file); the current one (or the keyring) opens it first.
    Set {
        #[arg(long, value_name = "FILE")]
        new_file: Option<PathBuf>,
    },
    /// Keep this device's data key in the desktop keyring instead of a passphrase.
    UseKeyring,
}

/// Which devices a call uses.
#[derive(clap::Args)]
struct MediaArgs {
    /// A test tone and, for video, a test pattern instead of the microphone and camera; plays
    /// nothing (for tests and for checking a connection).
    #[arg(long)]
    synthetic: bool,
    /// The microphone to use for this call (an id from `duet devices-media`).
    #[arg(long, value_name = "NAME", conflicts_with = "synthetic")]
    mic: Option<String>,
    /// The speaker to use for this call.
    #[arg(long, value_name = "NAME", conflicts_with = "synthetic")]
    speaker: Option<String>,
    /// The camera to use for this call.
    #[arg(long, value_name = "NAME", conflicts_with = "synthetic")]
    camera: Option<String>,
}

impl MediaArgs {
    fn flags(self, tone: f32) -> calls::MediaFlags {
        calls::MediaFlags { synthetic: self.synthetic, tone, mic: self.mic, speaker: self.speaker, camera: self.camera }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create your profile and this device (prints JSON).
    Init {
        /// Your name, as your partner will see it.
        #[arg(long, required_unless_present = "device_only")]
        name: Option<String>,
        /// Create only a device key: this computer will join your existing profile.
        #[arg(long, conflicts_with = "name")]
        device_only: bool,
    },
    /// How this device's data is locked at rest: a passphrase, or the desktop keyring.
    Passphrase {
        #[command(subcommand)]
        action: PassphraseAction,
    },
    /// Run the node in the foreground (Ctrl-C stops it).
    Up {
        /// Where to listen (repeatable), e.g. /ip4/0.0.0.0/tcp/4001.
        #[arg(long = "listen")]
        listen: Vec<String>,
        /// A relay to listen through (repeatable), ending in /p2p/<relay id>.
        #[arg(long = "relay")]
        relays: Vec<String>,
        /// A Kademlia bootstrap node (repeatable).
        #[arg(long = "bootstrap")]
        bootstrap: Vec<String>,
        /// Don't look for devices on the local network.
        #[arg(long)]
        no_mdns: bool,
        /// Seconds without activity before "online" turns "away".
        #[arg(long, default_value_t = 300)]
        idle_after: u64,
    },
    /// Print an invite ticket for your partner (first line), and a QR code; or take one back.
    Invite {
        /// Invite another device of your own instead.
        #[arg(long)]
        device: bool,
        /// Cancel the invite with this id (`duet invites` lists them): its ticket stops working.
        #[arg(long, value_name = "ID", conflicts_with = "device")]
        cancel: Option<String>,
    },
    /// The invites you made that have not expired: open, used, cancelled.
    Invites {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Pair with your partner, or link this device, using their ticket.
    Join { ticket: String },
    /// Send a message, or a file with an optional message (prints its id).
    Send {
        #[arg(long)]
        channel: Option<String>,
        /// The id of the message this one replies to.
        #[arg(long)]
        reply_to: Option<MessageId>,
        /// Attach this file (images get a thumbnail; .ogg/.opus are sent as voice messages).
        #[arg(long)]
        file: Option<PathBuf>,
        text: Option<String>,
    },
    /// Download a message's attachment into a folder (waits for it; progress on stderr).
    Fetch {
        id: MessageId,
        /// The folder to save it in.
        #[arg(long)]
        out: PathBuf,
        /// Which attachment, counting from 1.
        #[arg(long, default_value_t = 1)]
        attachment: usize,
    },
    /// Show messages, newest last.
    Messages {
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Edit one of your messages.
    Edit { id: MessageId, text: String },
    /// React to a message.
    React { id: MessageId, emoji: String },
    /// Take your reaction back.
    Unreact { id: MessageId, emoji: String },
    /// Delete one of your messages.
    Delete { id: MessageId },
    /// Mark the conversation read up to this message.
    Read { id: MessageId },
    /// Set your status: online, away, busy or invisible.
    Status {
        status: StatusArg,
        /// A custom status text ("at the gym").
        #[arg(long)]
        text: Option<String>,
        /// Remove the custom status text.
        #[arg(long, conflicts_with = "text")]
        clear_text: bool,
    },
    /// Say how you feel, on your card for your partner: an emoji and a few words (at most 60
    /// characters), or --clear.
    Mood {
        #[arg(required_unless_present = "clear")]
        emoji: Option<String>,
        words: Option<String>,
        #[arg(long, conflicts_with_all = ["emoji", "words"])]
        clear: bool,
    },
    /// Send your partner a "thinking of you" nudge.
    Nudge,
    /// Pin a message in its conversation (for both of you), or take the pin off with --off.
    Pin {
        id: MessageId,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        off: bool,
    },
    /// The pinned messages of a conversation, the latest pinned first.
    Pins {
        #[arg(long)]
        channel: Option<String>,
        /// One JSON object per line: the message, `pinned_by` and `pinned_at`.
        #[arg(long)]
        json: bool,
    },
    /// The photos, videos and sounds you two shared, newest first (📌: kept as a moment,
    /// pinned with `duet pin`).
    Memories {
        /// What you shared on this day in earlier years.
        #[arg(long)]
        on_this_day: bool,
        /// Only those older than this message (the last one a page showed).
        #[arg(long, conflicts_with = "on_this_day")]
        before: Option<MessageId>,
        /// At most this many (1-200).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=200))]
        limit: u16,
        /// One JSON object per line: the `message` and whether it is `pinned`.
        #[arg(long)]
        json: bool,
    },
    /// Find messages by their words: every word must be in the message (accents and case do
    /// not matter; whole words). Best match first: the words as typed, then in that order,
    /// then the rest, newest first within each, among the newest 200 messages that hold them.
    Search {
        /// The words to look for.
        #[arg(required = true)]
        words: Vec<String>,
        /// Only this channel's messages (the direct conversation: `--channel direct` is not a
        /// channel; leave it out to search everything).
        #[arg(long)]
        channel: Option<String>,
        /// Only messages written before this time ("2025-06-12" is that day's midnight here,
        /// "2025-06-12 19:00", or RFC 3339): to look further back.
        #[arg(long)]
        before: Option<String>,
        /// At most this many (1-200).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=200))]
        limit: u16,
        /// One JSON object per line: the message's `id`, `conversation`, `author` (the person),
        /// `created_at` (ms) and `content`.
        #[arg(long)]
        json: bool,
    },
    /// Write "Our story": every conversation, oldest first, with the photos held here, as one
    /// HTML page any browser opens (no script, nothing fetched).
    ExportStory { file: PathBuf },
    /// Write a backup of everything this device keeps (messages, reactions, lists, photos,
    /// keys, settings) to FILE, sealed with a passphrase you choose (typed twice, or the first
    /// line of --backup-passphrase-file, or DUET_BACKUP_PASSPHRASE).
    Backup {
        file: PathBuf,
        #[arg(long)]
        backup_passphrase_file: Option<PathBuf>,
    },
    /// Bring a backup back into this data folder, which must hold no Duet data yet (a new
    /// computer, or a new folder); then `duet up`. Nothing changes unless all of it is restored.
    Restore {
        file: PathBuf,
        #[arg(long)]
        backup_passphrase_file: Option<PathBuf>,
    },
    /// The day you two count from (YYYY-MM-DD), or --clear; without either, shows it.
    TogetherSince {
        date: Option<String>,
        #[arg(long, conflicts_with = "date")]
        clear: bool,
    },
    /// Your shared dates (anniversaries, plans), soonest first.
    Dates {
        #[arg(long)]
        json: bool,
    },
    /// Add a shared date, or change one with --id: both of you are reminded at the time.
    DateAdd {
        title: String,
        /// When, in this computer's time: "2027-06-12 19:00", "2027-06-12", or RFC 3339.
        when: String,
        /// Comes back every year.
        #[arg(long)]
        yearly: bool,
        /// Remind this many minutes before (default: at the time itself).
        #[arg(long, default_value_t = 0)]
        remind: u32,
        /// Change this date instead of adding one.
        #[arg(long)]
        id: Option<DateId>,
    },
    /// Remove a shared date, for both of you.
    DateRemove { id: DateId },
    /// Your shared lists (groceries, plans), most recently changed first.
    Lists {
        #[arg(long)]
        json: bool,
    },
    /// Make a shared list.
    ListNew { title: String },
    /// Add an item to a list (by its title or id), at the bottom or with --top.
    ListAdd {
        list: String,
        text: String,
        #[arg(long)]
        top: bool,
    },
    /// Tick an item (by its text or id), or untick it with --off.
    ListCheck {
        list: String,
        item: String,
        #[arg(long)]
        off: bool,
    },
    /// Move an item to the bottom, to the top (--top) or after another (--after ITEM).
    ListMove {
        list: String,
        item: String,
        #[arg(long, conflicts_with = "after")]
        top: bool,
        #[arg(long, value_name = "ITEM")]
        after: Option<String>,
    },
    /// Remove an item, for both of you.
    ListRemove { list: String, item: String },
    /// Rename a list.
    ListRename { list: String, title: String },
    /// Delete a list, for both of you.
    ListDelete { list: String },
    /// The safety number you and your partner compare to know no one sits between you.
    Verify {
        /// After comparing it with your partner's: mark it as checked (your partner sees that).
        #[arg(long, conflicts_with = "unmark")]
        mark: bool,
        /// Take your mark back.
        #[arg(long)]
        unmark: bool,
        #[arg(long)]
        json: bool,
    },
    /// Every device of yours and your partner's: when added, last seen; or remove one of yours.
    Devices {
        #[command(subcommand)]
        action: Option<DevicesAction>,
        #[arg(long)]
        json: bool,
    },
    /// Your devices and your partner's, and which are connected.
    Peers {
        #[arg(long)]
        json: bool,
    },
    /// Everyone's presence.
    Presence {
        #[arg(long)]
        json: bool,
    },
    /// Channels of your space.
    Channels {
        #[arg(long)]
        json: bool,
    },
    /// Create a channel.
    CreateChannel { name: String },
    /// Rename a channel.
    RenameChannel { channel: String, name: String },
    /// Call your partner (on all their connected devices), with your microphone, speaker and
    /// (for --video) camera.
    Call {
        /// Your partner's name or id (optional: there is only one).
        peer: Option<String>,
        /// A video call.
        #[arg(long)]
        video: bool,
        #[command(flatten)]
        media: MediaArgs,
        /// The synthetic tone's pitch.
        #[arg(long, default_value_t = 440.0)]
        tone: f32,
    },
    /// Answer the call ringing on this device.
    Answer {
        #[command(flatten)]
        media: MediaArgs,
        /// The synthetic tone's pitch.
        #[arg(long, default_value_t = 660.0)]
        tone: f32,
    },
    /// Turn your camera on in the call (a voice call too), or off with --off.
    Video {
        #[arg(long)]
        off: bool,
        /// The camera (an id from `duet devices-media`); the chosen one by default.
        #[arg(long, value_name = "NAME", conflicts_with = "off")]
        camera: Option<String>,
    },
    /// Switch the call to another microphone or speaker (ids from `duet devices-media`), for
    /// this call; `devices-media --set-mic` keeps one for every call.
    #[command(group = clap::ArgGroup::new("device").required(true).multiple(true))]
    CallAudio {
        #[arg(long, value_name = "NAME", group = "device")]
        mic: Option<String>,
        #[arg(long, value_name = "NAME", group = "device")]
        speaker: Option<String>,
    },
    /// Share your screen (or a window, from --list) in the call instead of your camera.
    ShareScreen {
        /// `screen` (the default) or a window id from --list.
        target: Option<String>,
        /// What can be shared.
        #[arg(long, conflicts_with_all = ["stop", "target"])]
        list: bool,
        /// Stop sharing.
        #[arg(long, conflicts_with = "target")]
        stop: bool,
    },
    /// The microphones, speakers and cameras calls can use, and which are chosen.
    DevicesMedia {
        #[arg(long)]
        json: bool,
        /// Keep this microphone for calls and voice notes (`default`: the system's).
        #[arg(long)]
        set_mic: Option<String>,
        /// Keep this speaker.
        #[arg(long)]
        set_speaker: Option<String>,
        /// Keep this camera.
        #[arg(long)]
        set_camera: Option<String>,
    },
    /// Decline the call ringing on this device.
    Decline,
    /// Hang up (or cancel a call not answered yet).
    Hangup,
    /// Mute your microphone in the call (`--off` to unmute).
    Mute {
        #[arg(long)]
        off: bool,
    },
    /// Your call history, newest first.
    Calls {
        #[arg(long)]
        json: bool,
    },
    /// The call now: its state, media counters, the pitch heard and the picture seen.
    CallStatus,
    /// The couple's blind mailbox. Alone, runs one here (it prints its ticket as the first
    /// line); `add TICKET` makes it yours and your partner's, `show`, `remove`.
    Mailbox {
        #[command(subcommand)]
        action: Option<MailboxAction>,
        /// Where to listen (repeatable); default /ip4/0.0.0.0/tcp/4002 and QUIC on udp/4002.
        #[arg(long = "listen")]
        listen: Vec<String>,
        /// Events every device holds are dropped after this many days.
        #[arg(long, default_value_t = 90)]
        keep_days: u64,
        /// Most megabytes of events held; past it, the oldest go (devices still get them from
        /// each other).
        #[arg(long, default_value_t = 1024)]
        quota_mb: u64,
    },
    /// Run a relay and bootstrap node.
    Relay {
        /// Where to listen (repeatable); default /ip4/0.0.0.0/tcp/4001 and QUIC on udp/4001.
        #[arg(long = "listen")]
        listen: Vec<String>,
        /// Where to answer STUN and TURN (so calls get through home routers, and are relayed
        /// when nothing else works): an IP:port, or "off".
        #[arg(long, default_value = "0.0.0.0:3478")]
        stun: String,
        /// This relay's address on the internet, where TURN relays calls from (default: the
        /// --stun address's IP, else the first non-loopback address it listens on).
        #[arg(long, value_name = "IP")]
        turn_ip: Option<std::net::IpAddr>,
        /// A device this relay serves (repeatable): its id as `duet peers --json` shows it
        /// (64 hex digits). Every other device is refused.
        #[arg(long = "allow", value_name = "DEVICE_ID", required_unless_present = "open")]
        allow: Vec<String>,
        /// Serve any device that asks (a public relay), instead of listed ones.
        #[arg(long, conflicts_with = "allow")]
        open: bool,
    },
}

#[derive(Subcommand)]
enum MailboxAction {
    /// Use the mailbox this ticket names (from `duet mailbox` on the machine that runs it):
    /// every device of yours and your partner's uses it from then on.
    Add { ticket: String },
    /// Which mailbox you use, and whether this device reaches it now.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Stop using the mailbox, on every device.
    Remove,
}

#[derive(Subcommand)]
enum DevicesAction {
    /// Remove one of your devices (lost, sold, stolen): everyone refuses what it writes from
    /// now on, and it gets nothing new. ID: as `duet devices --json` shows it, or its first 8
    /// characters.
    #[command(alias = "revoke")]
    Remove { id: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StatusArg {
    Online,
    Away,
    Busy,
    Invisible,
}

impl From<StatusArg> for PresenceStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Online => PresenceStatus::Online,
            StatusArg::Away => PresenceStatus::Away,
            StatusArg::Busy => PresenceStatus::Busy,
            StatusArg::Invisible => PresenceStatus::Invisible,
        }
    }
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("duet")
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string(v).unwrap_or_default());
}

fn parse_addrs(addrs: &[String]) -> anyhow::Result<Vec<duet_net::Multiaddr>> {
    addrs.iter().map(|a| a.parse().with_context(|| format!("\"{a}\" is not a valid multiaddr"))).collect()
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = cli.data_dir.unwrap_or_else(default_data_dir);
    match cli.command {
        Command::Init { name, device_only } => {
            let name = if device_only { None } else { name.as_deref() };
            let file = cli.passphrase_file.as_deref();
            let init = |u: duet_node::Unlock| std::future::ready(duet_node::init(&dir, name, &u));
            let report = unlock::with_unlock(&dir, file, init).await?;
            print_json(&serde_json::to_value(report)?);
        }
        Command::Passphrase { action: PassphraseAction::Set { new_file } } => {
            unlock::set(&dir, cli.passphrase_file.as_deref(), new_file.as_deref())?;
            eprintln!("Your Duet data is now locked with the new passphrase.");
        }
        Command::Passphrase { action: PassphraseAction::UseKeyring } => {
            unlock::use_keyring(&dir, cli.passphrase_file.as_deref())?;
            eprintln!("Your desktop keyring now keeps the key to your Duet data; no passphrase is needed.");
        }
        Command::Up { listen, relays, bootstrap, no_mdns, idle_after } => {
            let config = UpConfig { listen, relays, bootstrap, no_mdns, idle_after };
            up(&dir, cli.passphrase_file.as_deref(), config).await?
        }
        Command::Invite { cancel: Some(id), .. } => {
            let invite = call(&dir, &Request::CancelInvite { id }).await?;
            eprintln!("Invite {} is cancelled: its ticket no longer works.", invite["id"].as_str().unwrap_or("?"));
        }
        Command::Invite { device, cancel: None } => {
            let made = call(&dir, &Request::Invite { device }).await?;
            let ticket = made["ticket"].as_str().unwrap_or_default();
            println!("{ticket}");
            if let Ok(code) = qrcode::QrCode::new(ticket.as_bytes()) {
                let qr = code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build();
                eprintln!("{qr}");
            }
            eprintln!(
                "Give this invite to {}; it works once, for 24 hours. To take it back: duet invite --cancel {}",
                if device { "your other device" } else { "your partner" },
                made["id"].as_str().unwrap_or("?")
            );
        }
        Command::Invites { json } => list(call(&dir, &Request::Invites).await?, json, |i| {
            let left_ms = i["expires_at"].as_u64().unwrap_or(0).saturating_sub(unix_ms());
            format!(
                "{} {} invite — {}{} — expires in {} h {:02} min",
                i["id"].as_str().unwrap_or("?"),
                if i["kind"] == "partner" { "partner" } else { "device" },
                match i["state"].as_str() {
                    Some("used") => "used, waiting for the device to sync",
                    Some("done") => "used",
                    Some("superseded") => "no longer works (your partner joined)",
                    Some(other) => other,
                    None => "?",
                },
                i["joiner"].as_str().map(|d| format!(" by {}", short(Some(d)))).unwrap_or_default(),
                left_ms / 3_600_000,
                left_ms / 60_000 % 60
            )
        }),
        Command::Join { ticket } => {
            let v = call(&dir, &Request::Join { ticket }).await?;
            eprintln!("Paired.");
            print_json(&v);
        }
        Command::Send { channel, reply_to, file, text } => {
            let request = match (file, text) {
                (Some(path), text) => {
                    let path = std::path::absolute(&path).with_context(|| format!("cannot use {}", path.display()))?;
                    Request::SendFile { channel, path, text: text.unwrap_or_default(), reply_to }
                }
                (None, Some(text)) => Request::Send { channel, text, reply_to },
                (None, None) => bail!("say something, or attach a file with --file PATH"),
            };
            let m = call(&dir, &request).await?;
            println!("{}", m["id"].as_str().unwrap_or_default());
        }
        Command::Fetch { id, out, attachment } => {
            if attachment == 0 {
                bail!("attachments are counted from 1");
            }
            std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let out = std::path::absolute(&out).with_context(|| format!("cannot use {}", out.display()))?;
            let mut shown = None;
            let request = Request::Fetch { id, index: attachment - 1, out };
            let mut said_waiting = false;
            let v = control::call_with_progress(&dir, &request, |p| {
                if p.waiting {
                    // The node says so every few seconds while it waits: once is enough here.
                    if !said_waiting {
                        said_waiting = true;
                        eprintln!(
                            "Waiting for a device that has this attachment to come online (Ctrl-C stops; the download resumes when Duet runs again)…"
                        );
                    }
                    return;
                }
                let percent = (p.done * 100).checked_div(p.total).unwrap_or(100);
                if shown != Some(percent) {
                    shown = Some(percent);
                    eprint!("\r{percent:>3}%  {} of {}", mib(p.done), mib(p.total));
                }
            })
            .await;
            if shown.is_some() {
                eprintln!();
            }
            let v = v?;
            println!("{}", v["path"].as_str().unwrap_or_default());
        }
        Command::Messages { channel, limit, json } => {
            let v = call(&dir, &Request::Messages { channel, limit }).await?;
            for m in v.as_array().into_iter().flatten() {
                if json {
                    print_json(m);
                } else {
                    println!("{}", describe_message(m));
                }
            }
        }
        Command::Edit { id, text } => {
            call(&dir, &Request::Edit { id, text }).await?;
        }
        Command::React { id, emoji } => {
            call(&dir, &Request::React { id, emoji }).await?;
        }
        Command::Unreact { id, emoji } => {
            call(&dir, &Request::Unreact { id, emoji }).await?;
        }
        Command::Delete { id } => {
            call(&dir, &Request::Delete { id }).await?;
        }
        Command::Read { id } => {
            call(&dir, &Request::Read { id }).await?;
        }
        Command::Status { status, text, clear_text } => {
            call(&dir, &Request::Status { status: status.into(), text, clear_text }).await?;
        }
        Command::Mood { emoji, words, clear: _ } => {
            let mood = emoji.map(|emoji| duet_model::Mood { emoji, words });
            call(&dir, &Request::Mood { mood }).await?;
        }
        Command::Nudge => {
            call(&dir, &Request::Nudge).await?;
        }
        Command::Pin { id, channel, off } => {
            call(&dir, &Request::Pin { id, channel, pinned: !off }).await?;
        }
        Command::Pins { channel, json } => list(call(&dir, &Request::Pins { channel }).await?, json, |p| {
            format!("📌 {}", describe_message(&p["message"]))
        }),
        Command::Memories { on_this_day, before, limit, json } => {
            let request = if on_this_day {
                Request::MemoriesIn { windows: duet_node::this_day_in_earlier_years(chrono::Local::now().date_naive()) }
            } else {
                Request::Memories { before, limit: usize::from(limit) }
            };
            let found = call(&dir, &request).await?;
            if !json && found.as_array().is_none_or(Vec::is_empty) {
                println!(
                    "{}",
                    if on_this_day {
                        "Nothing shared on this day in earlier years"
                    } else {
                        "No photos, videos or voice notes yet"
                    }
                );
            }
            list(found, json, |m| {
                let pin = if m["pinned"] == true { "📌 " } else { "" };
                let when = m["message"]["created_at"].as_u64().map(day_of).unwrap_or_default();
                format!("{pin}{when} {}", describe_message(&m["message"]))
            });
        }
        Command::Search { words, channel, before, limit, json } => {
            let before = before.as_deref().map(parse_when).transpose()?;
            let words = words.join(" ");
            let request = Request::Search { words: words.clone(), channel, before, limit: usize::from(limit) };
            let found = call(&dir, &request).await?;
            let found = found.as_array().cloned().unwrap_or_default();
            if json {
                for m in &found {
                    print_json(&serde_json::json!({
                        "id": m["id"],
                        "conversation": m["conversation"],
                        "author": m["sender"],
                        "created_at": m["created_at"],
                        "content": m["content"],
                    }));
                }
            } else if found.is_empty() {
                println!("No message holds every word of “{words}”");
            } else {
                for m in &found {
                    let when = m["created_at"].as_u64().map(day_of).unwrap_or_default();
                    println!("{when} {}", describe_message(m));
                }
            }
        }
        Command::Backup { file, backup_passphrase_file } => {
            let path = std::path::absolute(&file).with_context(|| format!("cannot use {}", file.display()))?;
            let passphrase = unlock::backup_passphrase(backup_passphrase_file.as_deref(), true)?;
            let r = call(&dir, &Request::Backup { path, passphrase }).await?;
            println!(
                "Wrote {} ({} values, {} attachment files, {}). Keep its passphrase: without it the backup cannot be opened.",
                r["path"].as_str().unwrap_or("?"),
                r["values"],
                r["files"],
                mib(r["bytes"].as_u64().unwrap_or(0))
            );
        }
        Command::Restore { file, backup_passphrase_file } => {
            let passphrase = unlock::backup_passphrase(backup_passphrase_file.as_deref(), false)?;
            let data = unlock::given(&dir, cli.passphrase_file.as_deref())?;
            let r = duet_node::restore_backup(&file, &passphrase, &dir, &data)?;
            println!(
                "Restored {} into {} ({} values, {} attachment files). Start Duet: it catches up with your other devices before it sends anything.",
                file.display(),
                r.path.display(),
                r.values,
                r.files
            );
        }
        Command::ExportStory { file } => {
            // The node writes it: a relative path is taken from here, not from `duet up`'s folder.
            let path = std::path::absolute(&file).with_context(|| format!("cannot use {}", file.display()))?;
            let r = call(&dir, &Request::ExportStory { path }).await?;
            let left_out = r["pictures_left_out"].as_u64().unwrap_or(0);
            println!(
                "Wrote {} ({} messages, {} pictures{}, {})",
                r["path"].as_str().unwrap_or("?"),
                r["messages"],
                r["pictures"],
                if left_out > 0 { format!("; {left_out} not on this device") } else { String::new() },
                mib(r["bytes"].as_u64().unwrap_or(0))
            );
        }
        Command::TogetherSince { date, clear } => {
            let dates = if date.is_none() && !clear {
                call(&dir, &Request::Dates).await?
            } else {
                let date = date.map(|d| parse_day(&d)).transpose()?;
                call(&dir, &Request::TogetherSince { date }).await?
            };
            match dates["together_since"].as_object() {
                Some(d) => {
                    let day = CalendarDate {
                        year: d["year"].as_i64().unwrap_or(0) as i32,
                        month: d["month"].as_u64().unwrap_or(1) as u8,
                        day: d["day"].as_u64().unwrap_or(1) as u8,
                    };
                    let today = chrono::Local::now().date_naive();
                    let today = CalendarDate { year: today.year(), month: today.month() as u8, day: today.day() as u8 };
                    let days = today.days_since_epoch() - day.days_since_epoch();
                    println!("Together since {}-{:02}-{:02}: {days} days", day.year, day.month, day.day);
                }
                None => println!("No \"together since\" day yet"),
            }
        }
        Command::Dates { json } => {
            let dates = call(&dir, &Request::Dates).await?;
            list(dates["dates"].clone(), json, |d| {
                format!(
                    "{} {} — {}{}{}",
                    d["id"].as_str().unwrap_or("?"),
                    d["title"].as_str().unwrap_or("?"),
                    local_time(d["next_at"].as_u64().unwrap_or(0)),
                    if d["yearly"] == true { ", every year" } else { "" },
                    match d["remind_before_minutes"].as_u64() {
                        Some(0) | None => String::new(),
                        Some(m) => format!(", reminded {m} min before"),
                    }
                )
            })
        }
        Command::DateAdd { title, when, yearly, remind, id } => {
            let at = parse_when(&when)?;
            let date = SharedDate { title, at, yearly, remind_before_minutes: remind };
            let saved = call(&dir, &Request::SaveDate { id, date }).await?;
            println!("{}", saved["id"].as_str().unwrap_or("?"));
        }
        Command::DateRemove { id } => {
            call(&dir, &Request::RemoveDate { id }).await?;
        }
        Command::Lists { json } => list(call(&dir, &Request::Lists).await?, json, lists::describe),
        Command::ListNew { title } => println!("{}", lists::describe(&call(&dir, &Request::ListNew { title }).await?)),
        Command::ListAdd { list, text, top } => list_edit(&dir, list, lists::Edit::Add { text, top }).await?,
        Command::ListCheck { list, item, off } => list_edit(&dir, list, lists::Edit::Check { item, on: !off }).await?,
        Command::ListMove { list, item, top, after } => {
            list_edit(&dir, list, lists::Edit::Move { item, top, after }).await?
        }
        Command::ListRemove { list, item } => list_edit(&dir, list, lists::Edit::Remove { item }).await?,
        Command::ListRename { list, title } => list_edit(&dir, list, lists::Edit::Rename { title }).await?,
        Command::ListDelete { list } => list_edit(&dir, list, lists::Edit::Delete).await?,
        Command::Verify { mark, unmark, json } => {
            let mark = (mark || unmark).then_some(mark);
            let v = call(&dir, &Request::Verify { mark }).await?;
            if json {
                println!("{v}");
            } else {
                print_verification(&v);
            }
        }
        Command::Devices { action: None, json } => list(call(&dir, &Request::Devices).await?, json, |d| {
            let when = |field: &str| d[field].as_u64().map(ago).unwrap_or_else(|| "never".into());
            format!(
                "{} {} ({}) — {}, added {}{}",
                if d["connected"] == true { "●" } else { "○" },
                d["name"].as_str().unwrap_or("?"),
                short(d["device"].as_str()),
                if d["this_device"] == true {
                    "this device".to_owned()
                } else {
                    format!(
                        "{}, last seen {}",
                        if d["mine"] == true { "yours" } else { "your partner's" },
                        when("last_seen")
                    )
                },
                when("added_at"),
                if d["removed"] == true { " — removed" } else { "" }
            )
        }),
        Command::Devices { action: Some(DevicesAction::Remove { id }), .. } => {
            let device = find_device(&dir, &id).await?;
            let removed = call(&dir, &Request::RemoveDevice { device }).await?;
            eprintln!(
                "{} is removed: your devices and your partner's refuse what it writes from now on.",
                removed["name"].as_str().unwrap_or("The device")
            );
        }
        Command::Peers { json } => list(call(&dir, &Request::Peers).await?, json, |p| {
            let reach = match p["reach"].as_str() {
                Some("this_device") => "this device",
                Some("same_network") => "same network",
                Some("direct") => "direct, across the internet",
                Some("relay") => "through a relay",
                _ => "offline",
            };
            format!(
                "{} {} ({}) — {reach}",
                if p["connected"].as_bool() == Some(true) { "●" } else { "○" },
                p["name"].as_str().unwrap_or("?"),
                short(p["device"].as_str()),
            )
        }),
        Command::Presence { json } => list(call(&dir, &Request::Presence).await?, json, |p| {
            let mood = &p["mood"];
            format!(
                "{} {}{}{}{}",
                short(p["person"].as_str()),
                p["status"].as_str().unwrap_or("?"),
                p["custom_status"].as_str().map(|t| format!(" — {t}")).unwrap_or_default(),
                mood["emoji"]
                    .as_str()
                    .map(|e| format!(
                        " · feels {e}{}",
                        mood["words"].as_str().map(|w| format!(" {w}")).unwrap_or_default()
                    ))
                    .unwrap_or_default(),
                p["last_nudge"].as_u64().map(|t| format!(" · thought of you {}", ago(t))).unwrap_or_default()
            )
        }),
        Command::Channels { json } => {
            list(call(&dir, &Request::Channels).await?, json, |c| format!("#{}", c["name"].as_str().unwrap_or("?")))
        }
        Command::CreateChannel { name } => {
            call(&dir, &Request::CreateChannel { name }).await?;
        }
        Command::RenameChannel { channel, name } => {
            call(&dir, &Request::RenameChannel { channel, name }).await?;
        }
        Command::Call { peer, video, media, tone } => {
            print_json(&call(&dir, &Request::Call { peer, video, media: media.flags(tone) }).await?);
        }
        Command::Answer { media, tone } => {
            print_json(&call(&dir, &Request::Answer { media: media.flags(tone) }).await?)
        }
        Command::Video { off, camera } => {
            call(&dir, &Request::Video { on: !off, camera }).await?;
        }
        Command::CallAudio { mic, speaker } => {
            for notice in
                call(&dir, &Request::CallAudio { mic, speaker }).await?["notices"].as_array().into_iter().flatten()
            {
                eprintln!("duet: {}", notice.as_str().unwrap_or_default());
            }
        }
        Command::ShareScreen { target, list: true, .. } => {
            let _ = target;
            for t in call(&dir, &Request::ShareTargets).await?.as_array().into_iter().flatten() {
                println!("{} — {}", t["id"].as_str().unwrap_or("?"), t["name"].as_str().unwrap_or(""));
            }
        }
        Command::ShareScreen { target, stop, .. } => {
            let target = if stop { None } else { Some(target.unwrap_or_else(|| "screen".into())) };
            call(&dir, &Request::ShareScreen { target }).await?;
        }
        Command::DevicesMedia { json, set_mic, set_speaker, set_camera } => {
            devices_media(&dir, json, set_mic, set_speaker, set_camera).await?;
        }
        Command::Decline => {
            call(&dir, &Request::Decline).await?;
        }
        Command::Hangup => {
            call(&dir, &Request::Hangup).await?;
        }
        Command::Mute { off } => {
            call(&dir, &Request::Mute { muted: !off }).await?;
        }
        Command::Calls { json } => list(call(&dir, &Request::Calls).await?, json, |c| {
            let duration = match (c["answered_at"].as_u64(), c["ended_at"].as_u64()) {
                (Some(a), Some(e)) => format!(" {}s", e.saturating_sub(a) / 1000),
                _ => String::new(),
            };
            format!(
                "[{}] {} {} from {}{}",
                short(c["id"].as_str()),
                c["kind"].as_str().unwrap_or("?"),
                c["state"].as_str().unwrap_or("?"),
                short(c["caller"].as_str()),
                duration
            )
        }),
        Command::CallStatus => print_json(&call(&dir, &Request::CallStatus).await?),
        Command::Mailbox { action: None, listen, keep_days, quota_mb } => {
            mailbox::run(&dir, listen, keep_days, quota_mb).await?
        }
        Command::Mailbox { action: Some(action), .. } => {
            let (request, json) = match action {
                MailboxAction::Add { ticket } => (Request::Mailbox { ticket: Some(ticket), remove: false }, false),
                MailboxAction::Show { json } => (Request::Mailbox { ticket: None, remove: false }, json),
                MailboxAction::Remove => (Request::Mailbox { ticket: None, remove: true }, false),
            };
            let v = call(&dir, &request).await?;
            if json {
                print_json(&v);
            } else {
                println!("{}", mailbox::describe(&v));
            }
        }
        Command::Relay { listen, stun, turn_ip, allow, open } => {
            let allow = if open { None } else { Some(relay::parse_allowed(&allow)?) };
            relay::run(&dir, listen, &stun, turn_ip, allow).await?
        }
    }
    Ok(())
}

/// Lists this machine's media devices; with `--set-*`, keeps a choice in the running node.
async fn devices_media(
    dir: &Path,
    json: bool,
    mic: Option<String>,
    speaker: Option<String>,
    camera: Option<String>,
) -> anyhow::Result<()> {
    let running = control::socket_path(dir).exists();
    let mut listed = if running { call(dir, &Request::DevicesMedia).await? } else { calls::devices_media(None) };
    if mic.is_some() || speaker.is_some() || camera.is_some() {
        if !running {
            bail!("Duet is not running for {d}; start it first with `duet --data-dir {d} up`", d = dir.display());
        }
        let mut choice: duet_node::duet_call::devices::MediaChoice = serde_json::from_value(listed["chosen"].clone())?;
        let pick = |v: Option<String>, kept: Option<String>| match v.as_deref() {
            Some("default") => None,
            Some(_) => v,
            None => kept,
        };
        choice.microphone = pick(mic, choice.microphone);
        choice.speaker = pick(speaker, choice.speaker);
        choice.camera = pick(camera, choice.camera);
        listed["chosen"] = call(dir, &Request::SetMediaDevices { choice }).await?;
    }
    if json {
        print_json(&listed);
        return Ok(());
    }
    let chosen = &listed["chosen"];
    for (title, key, kept) in [
        ("Microphones", "microphones", "microphone"),
        ("Speakers", "speakers", "speaker"),
        ("Cameras", "cameras", "camera"),
    ] {
        println!("{title}:");
        let devices = listed[key].as_array().cloned().unwrap_or_default();
        if devices.is_empty() {
            println!("  none found");
        }
        for d in devices {
            // Sound devices have an ALSA id; cameras are named by their device node.
            let id = d["id"].as_str().or(d["path"].as_str()).unwrap_or("?");
            let first_camera = key == "cameras" && chosen[kept].is_null() && d == listed[key][0];
            let is_chosen = chosen[kept].as_str() == Some(id)
                || (chosen[kept].is_null() && d["is_default"] == true)
                || first_camera;
            println!("  {} {id} — {}", if is_chosen { "●" } else { "○" }, d["name"].as_str().unwrap_or(""));
        }
    }
    Ok(())
}

/// Changes a shared list through `duet up` and shows it as it is now.
async fn list_edit(dir: &Path, list: String, edit: lists::Edit) -> anyhow::Result<()> {
    let now = call(dir, &Request::ListEdit { list, edit }).await?;
    if !now.is_null() {
        println!("{}", lists::describe(&now));
    }
    Ok(())
}

/// A time (ms since 1970) as its local day, YYYY-MM-DD.
fn day_of(ms: u64) -> String {
    use chrono::TimeZone;
    chrono::Local.timestamp_millis_opt(ms as i64).single().map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn list(v: Value, json: bool, describe: impl Fn(&Value) -> String) {
    for item in v.as_array().into_iter().flatten() {
        if json {
            print_json(item);
        } else {
            println!("{}", describe(item));
        }
    }
}

/// The safety number in four rows of three groups, and who marked it.
fn print_verification(v: &Value) {
    let name = v["partner_name"].as_str().filter(|n| !n.is_empty()).unwrap_or("your partner");
    let groups: Vec<&str> =
        v["safety_number"].as_array().map(|g| g.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    println!("Your safety number with {name}:");
    for row in groups.chunks(3) {
        println!("    {}", row.join(" "));
    }
    println!();
    println!("{name} sees the same digits on their screen if no one sits between you. Compare them side by side or");
    println!("read them out on a call, then: duet verify --mark");
    let mine = if v["verified_by_me"] == true { "marked as checked" } else { "not marked yet" };
    let theirs = if v["verified_by_partner"] == true { "marked as checked" } else { "not marked yet" };
    println!("You: {mine}. {name}: {theirs}.");
}

/// The device `id` names: a full device id, or the start of one (at least 8 characters) that
/// matches exactly one device.
async fn find_device(dir: &Path, id: &str) -> anyhow::Result<duet_model::DeviceId> {
    let id = id.trim().to_ascii_lowercase();
    if let Ok(device) = id.parse() {
        return Ok(device);
    }
    anyhow::ensure!(id.len() >= 8, "give at least the first 8 characters of the device id (`duet devices` shows them)");
    let listed = call(dir, &Request::Devices).await?;
    let matching: Vec<&str> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["device"].as_str())
        .filter(|d| d.starts_with(&id))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.parse()?),
        [] => anyhow::bail!("no device id starts with {id} (`duet devices` lists them)"),
        _ => anyhow::bail!("more than one device id starts with {id}: give more of it"),
    }
}

/// "3 min ago", "2 h ago", "5 days ago", or "just now", for a time in milliseconds since 1970.
/// A day typed as YYYY-MM-DD.
fn parse_day(text: &str) -> anyhow::Result<CalendarDate> {
    let day = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("“{text}” is not a day: write it as YYYY-MM-DD, like 2021-06-12"))?;
    Ok(CalendarDate { year: day.year(), month: day.month() as u8, day: day.day() as u8 })
}

/// A moment typed in this computer's time ("2027-06-12 19:00", "2027-06-12") or RFC 3339.
fn parse_when(text: &str) -> anyhow::Result<duet_model::Timestamp> {
    use chrono::TimeZone;
    let text = text.trim();
    let words = || anyhow::anyhow!("“{text}” is not a time: write it like 2027-06-12 19:00 (or just 2027-06-12)");
    let at = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        t.timestamp_millis()
    } else {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
            })
            .map_err(|_| words())?;
        chrono::Local.from_local_datetime(&naive).earliest().ok_or_else(words)?.timestamp_millis()
    };
    // Before 1970 cannot be a shared date's time; the node says what range it keeps.
    let at = u64::try_from(at)
        .map_err(|_| anyhow::anyhow!("the year is outside what Duet keeps dates for (1900 to 9999)"))?;
    Ok(duet_model::Timestamp(at))
}

/// A moment in this computer's time, for people.
fn local_time(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "?".into())
}

/// Says on the terminal running `duet up` when the partner sends a "thinking of you" nudge,
/// and when a shared date's reminder comes.
async fn tell_nudges(node: Node) {
    let mut events = node.subscribe();
    loop {
        match events.recv().await {
            Ok(duet_node::NodeEvent::Nudged { person, silent, .. }) => {
                let name = node
                    .person(&person)
                    .ok()
                    .flatten()
                    .map(|p| p.display_name)
                    .unwrap_or_else(|| "Your partner".into());
                let quiet = if silent { " (silently: you are busy)" } else { "" };
                eprintln!("♥ {name} is thinking of you{quiet}");
            }
            Ok(duet_node::NodeEvent::Reminder { title, at, silent, .. }) => {
                let quiet = if silent { " (silently: you are busy)" } else { "" };
                eprintln!("⏰ Reminder: {title}, {}{quiet}", local_time(at.0));
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn ago(ms: u64) -> String {
    let s = unix_ms().saturating_sub(ms) / 1000;
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Now, in milliseconds since 1970 (for "expires in").
fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn short(id: Option<&str>) -> String {
    id.map(|s| s.chars().take(8).collect()).unwrap_or_default()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn describe_message(m: &Value) -> String {
    let ticks = match (m["read"].as_bool(), m["delivered"].as_bool()) {
        (Some(true), _) => " ✓✓ read",
        (_, Some(true)) => " ✓ delivered",
        _ => "",
    };
    let edited = if m["edited"].as_bool() == Some(true) { " (edited)" } else { "" };
    let content = if m["deleted"].as_bool() == Some(true) { "(deleted)" } else { m["content"].as_str().unwrap_or("") };
    let reactions: Vec<&str> =
        m["reactions"].as_array().into_iter().flatten().filter_map(|r| r["emoji"].as_str()).collect();
    let files: Vec<String> = m["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!(" 📎 {} ({})", a["name"].as_str().unwrap_or("?"), mib(a["size"].as_u64().unwrap_or(0))))
        .collect();
    let content = format!("{content}{}", files.concat());
    format!(
        "[{}] {}: {}{}{}{}",
        short(m["id"].as_str()),
        short(m["sender"].as_str()),
        content,
        edited,
        if reactions.is_empty() { String::new() } else { format!(" {}", reactions.join("")) },
        ticks
    )
}

/// `duet up`'s flags.
struct UpConfig {
    listen: Vec<String>,
    relays: Vec<String>,
    bootstrap: Vec<String>,
    no_mdns: bool,
    idle_after: u64,
}

async fn up(dir: &Path, passphrase_file: Option<&Path>, flags: UpConfig) -> anyhow::Result<()> {
    duet_node::logging::init();
    let mut config = NodeConfig::new(dir);
    if !flags.listen.is_empty() {
        config.listen = parse_addrs(&flags.listen)?;
    }
    config.relays = parse_addrs(&flags.relays)?;
    config.bootstrap = parse_addrs(&flags.bootstrap)?;
    config.mdns = !flags.no_mdns;
    config.idle_after = std::time::Duration::from_secs(flags.idle_after);
    let socket = control::socket_path(dir);
    if tokio::net::UnixStream::connect(&socket).await.is_ok() {
        anyhow::bail!("Duet is already running for {}", dir.display());
    }
    let _ = std::fs::remove_file(&socket);
    let node = unlock::with_unlock(dir, passphrase_file, |unlock| {
        let mut config = config.clone();
        config.unlock = unlock;
        Node::start(config)
    })
    .await?;
    let listener =
        tokio::net::UnixListener::bind(&socket).with_context(|| format!("cannot create {}", socket.display()))?;
    let owner = {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", socket.display()))?;
        std::fs::metadata(&socket).with_context(|| format!("cannot read {}", socket.display()))?.uid()
    };
    let server = tokio::spawn(control::serve(node.clone(), listener, owner));
    let nudges = tokio::spawn(tell_nudges(node.clone()));
    let addrs = node.wait_listening(std::time::Duration::from_secs(30)).await.unwrap_or_default();
    eprintln!("Duet is running (device {}).", node.device_id());
    for a in addrs {
        eprintln!("  listening on {a}");
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("Stopping…");
    server.abort();
    nudges.abort();
    node.shutdown().await;
    let _ = std::fs::remove_file(&socket);
    Ok(())
}
