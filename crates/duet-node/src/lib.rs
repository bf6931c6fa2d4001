//! The Duet node: the one service every front end (the desktop app, the `duet` CLI) drives.
//!
//! A [`Node`] owns this device's store, keys and network. Commands go in as method calls
//! (`send`, `edit`, `react`, `mark_read`, `set_status`, `invite`, `join`…); everything that
//! happens comes out as [`NodeEvent`]s from [`Node::subscribe`].
//!
//! How the parts fit:
//! - every change is an event sealed and signed here ([`Node::send`] and friends), stored and
//!   folded atomically by `duet-store`, then pushed at once to every connected member device;
//! - `sync` runs `/duet/sync/1`: one push stream to each connected member device, carrying
//!   whatever it lacks (my events and everything I forward), and one receive loop per inbound
//!   stream, verifying each batch before applying it; a device that sends anything invalid is
//!   cut off and banned for a while, and what it sent before stays;
//! - `live` runs `/duet/live/1`: presence heartbeats and typing, nothing stored;
//! - `calls` drives voice and video calls: signalling on `/duet/live/1`, media over
//!   webrtc-rs (`duet-call`), a record of every call in the log;
//! - `pairing` runs `/duet/pair/1`: invite tickets and joining;
//! - `blobs` runs `/duet/blobs/1`: attachments (files, images, voice messages) sent, fetched
//!   chunk by chunk from any member device that has them, and collected when unused.

mod app;
mod backup;
mod blobs;
mod calls;
mod couple;
mod dates;
mod devices;
mod error;
mod events;
mod frames;
mod invites;
mod lists;
mod live;
pub mod logging;
mod mailbox;
mod memories;
mod memory;
mod pairing;
mod peers;
mod presence;
pub mod relay;
mod search;
mod story;
mod streams;
mod supervise;
mod sync;
mod tasks;
mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use duet_crypto::{DeviceCertificate, DeviceKey, PersonKey, SpaceKey};
use duet_log::{ChannelChange, LogHead, Members, Membership, NextEvent, OpenedEvent, Payload};
use duet_model::{
    Channel, ChannelId, ChannelKind, Conversation, DeviceId, Message, MessageId, MessageType, Person, PersonId,
    Presence, PresenceStatus, SpaceId, Target, Timestamp, ValidationError,
};
use duet_net::{Client, Multiaddr, NetConfig};
use duet_store::{LocalIdentity, Page, SpaceState, Store};
use rand_core::{OsRng, RngCore};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

pub use backup::{restore_backup, BackupReport};
pub use blobs::{blobs_dir, BlobStats, CollectReport};
pub use calls::CallSettings;
pub use couple::{PinnedMessage, NUDGE_FRESH};
pub use dates::{DateInfo, Dates, LATE_REMINDER, REMINDER_TICK};
pub use devices::DeviceInfo;
pub use duet_call;
pub use duet_call::{CallInfo, CallMedia, CallOutcome, CallPhase, CallQuality, MediaStats};
pub use duet_net::DuetProtocol;
pub use error::{ErrorCode, NodeError};
pub use events::{NodeEvent, PeerInfo, PeerReach};
pub use invites::{invite_id, ticket_id, ticket_kind, InviteInfo, InviteStatus};
pub use lists::Place;
pub use mailbox::{Mailbox, MailboxConfig, MailboxHeld, MailboxStatus, MailboxUsage};
pub use memories::{this_day_in_earlier_years, Memory, TimeWindow, MAX_MEMORIES_PAGE, MAX_MEMORY_WINDOWS};
pub use search::{MAX_SEARCH_CHARS, MAX_SEARCH_RESULTS};
pub use story::{StoryReport, MAX_EMBEDDED_PICTURE, MAX_EMBEDDED_TOTAL};
pub use supervise::Part;
pub use verify::Verification;

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    /// Where to listen; by default every interface, TCP and QUIC, on ports the OS picks.
    pub listen: Vec<Multiaddr>,
    /// Relays to listen through (each ending in `/p2p/<relay id>`).
    pub relays: Vec<Multiaddr>,
    /// Kademlia bootstrap nodes.
    pub bootstrap: Vec<Multiaddr>,
    /// LAN discovery.
    pub mdns: bool,
    /// Online turns away after this long without activity.
    pub idle_after: Duration,
    /// How often presence is re-sent; a device silent for three intervals counts as gone.
    pub heartbeat: Duration,
    /// Call timeouts and where call media binds.
    pub calls: CallSettings,
    /// The largest attachment sent or fetched (at most the model's 100 MiB).
    pub max_blob_size: u64,
    /// Attachments up to this size are fetched as soon as their message arrives; bigger ones
    /// when asked (`fetch_attachment`). Thumbnails are always fetched.
    pub auto_fetch_size: u64,
    /// What opens the data key (the desktop keyring by default).
    pub unlock: Unlock,
}

impl NodeConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: vec![
                "/ip4/0.0.0.0/tcp/0".parse().expect("a valid multiaddr"),
                "/ip4/0.0.0.0/udp/0/quic-v1".parse().expect("a valid multiaddr"),
            ],
            relays: vec![],
            bootstrap: vec![],
            mdns: true,
            idle_after: Duration::from_secs(5 * 60),
            heartbeat: Duration::from_secs(10),
            calls: CallSettings::default(),
            max_blob_size: duet_model::MAX_ATTACHMENT_SIZE,
            auto_fetch_size: 16 << 20,
            unlock: Unlock::Keyring,
        }
    }
}

/// What `init` created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InitReport {
    /// `None` for a device-only init (the person comes with the device invite).
    pub person_id: Option<PersonId>,
    pub device_id: DeviceId,
}

pub use duet_store::store_dir;
pub use duet_store::vault::{check_passphrase, Unlock, VaultError, Wrapping, MIN_PASSPHRASE};

/// How the data key of `data_dir` is kept; `None` before there is one.
pub fn vault_wrapping(data_dir: &Path) -> Result<Option<Wrapping>, NodeError> {
    Ok(duet_store::vault::wrapping(data_dir)?)
}

/// The passphrase tests lock their data with (tests only: a person chooses their own).
#[doc(hidden)]
pub const TEST_PASSPHRASE: &str = "duet test passphrase";

/// The environment variable a passphrase may come in, for machines where nobody types it (a
/// headless node, a script): `duet` and the app read it. A terminal or the unlock screen is
/// the better place for a person's passphrase (an environment is visible to their processes).
pub const PASSPHRASE_ENV: &str = "DUET_PASSPHRASE";

/// The passphrase in [`PASSPHRASE_ENV`], when one is set.
pub fn passphrase_from_env() -> Option<Unlock> {
    std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(Unlock::passphrase)
}

/// Whether `data_dir` holds a store (sealed, or an older version's not sealed yet).
pub fn holds_data(data_dir: &Path) -> bool {
    duet_store::holds_store(data_dir)
}

/// Opens the store of `data_dir` (made private first) with the data key `unlock` opens; the
/// first time, a new data key wrapped as `unlock` says (see `duet_store::vault`).
pub fn open_store(data_dir: &Path, unlock: &Unlock) -> Result<Store, NodeError> {
    private_dir(data_dir)?;
    let key = duet_store::vault::unlock(data_dir, unlock)?;
    Ok(Store::open_in(data_dir, &key)?)
}

/// Changes how the data key of `data_dir` is kept (a new passphrase, or the keyring instead
/// of one), opening it with `current`. Works while the node runs: the key itself stays.
pub fn change_unlock(data_dir: &Path, current: &Unlock, new: &Unlock) -> Result<(), NodeError> {
    Ok(duet_store::vault::rewrap(data_dir, current, new)?)
}

/// Makes `dir` (and its parents) if needed, and makes it private to this user (0700), whatever
/// the umask: the keys and every message live under it. A directory made by an older version
/// with wider permissions is narrowed too.
pub fn private_dir(dir: &Path) -> Result<(), NodeError> {
    use std::os::unix::fs::PermissionsExt;
    let failed = |e: std::io::Error| NodeError::NotAllowed(format!("cannot make {} private: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(failed)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)
}

/// Creates this device's keys: a person and a device (`name` given), or only a device that
/// will join as another device of an existing person (`name` is `None`). No network.
/// The data key is opened (or made) with `unlock`.
pub fn init(data_dir: &Path, name: Option<&str>, unlock: &Unlock) -> Result<InitReport, NodeError> {
    let store = open_store(data_dir, unlock)?;
    if store.identity()?.is_some() {
        return Err(NodeError::AlreadyInitialized);
    }
    let device = DeviceKey::generate(&mut OsRng);
    let identity = match name {
        Some(name) => {
            let name = duet_model::validate_name("a display name", name, duet_model::MAX_DISPLAY_NAME_CHARS)?;
            let person = PersonKey::generate(&mut OsRng);
            let certificate =
                DeviceCertificate::issue(&person, device.id(), device.x25519_public(), &device_name(), now().0)
                    .map_err(|e| NodeError::NotAllowed(e.to_string()))?;
            LocalIdentity { device, person: Some(person), certificate: Some(certificate), display_name: name }
        }
        None => LocalIdentity { device, person: None, certificate: None, display_name: String::new() },
    };
    let report = InitReport { person_id: identity.person_id(), device_id: identity.device_id() };
    store.save_identity(&identity)?;
    Ok(report)
}

/// This machine's name, for device certificates.
fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().chars().take(duet_model::MAX_DEVICE_NAME_CHARS).collect::<String>())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into())
}

/// The wall clock, for event timestamps (display only) and receipts.
pub(crate) fn now() -> Timestamp {
    Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0))
}

/// The running node. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    config: NodeConfig,
    store: Store,
    net: Client,
    device: DeviceKey,
    person_key: Option<PersonKey>,
    /// Serializes everything that advances log heads: local writes and remote applies.
    write_lock: tokio::sync::Mutex<()>,
    /// Bumped after every stored change: wakes the push sessions.
    changed: watch::Sender<u64>,
    /// Set when my partner's messages were stored: a delivery receipt is due.
    delivery_due: tokio::sync::Notify,
    events: broadcast::Sender<NodeEvent>,
    invites: invites::InviteBook,
    /// Devices that signed two versions of their log: nothing new is taken from them, from
    /// anyone (the evidence is in the store's `forks`).
    forked: Mutex<std::collections::HashSet<DeviceId>>,
    presence: presence::Presences,
    /// Per connected member device: its push session and live sender.
    peers: peers::Peers,
    tasks: tasks::Tasks,
    calls: Arc<calls::Calls>,
    /// TURN credentials from the relays in use, for calls.
    turn: calls::TurnCredentialsHeld,
    /// What this device knows of the couple's mailbox (`mailbox_status`).
    mailbox: mailbox::MailboxKnown,
    blobs: blobs::Blobs,
    /// The inbound streams served now, capped per device and in all.
    inbound: Arc<streams::InboundStreams>,
    /// Devices whose events were dated past this computer's clock, and the person was told.
    told_early: Mutex<std::collections::HashSet<DeviceId>>,
    /// Set when a part of the node kept failing and the node stopped (`supervise`).
    failed: Mutex<Option<String>>,
    inject_panic: Arc<supervise::InjectPanic>,
    /// A device restored from a backup waiting to see its own log whole (`backup.rs`).
    catch_up: backup::CatchUp,
}

/// Relays a person may choose in settings.
const MAX_RELAYS: usize = 8;
/// Longest relay address accepted (a DNS name, a port and a peer id come well under this).
const MAX_RELAY_ADDRESS_LEN: usize = 512;

/// The relays given at start, then the chosen ones not among them.
fn relays_in_use(given: &[Multiaddr], chosen: Vec<Multiaddr>) -> Vec<Multiaddr> {
    let mut all = given.to_vec();
    all.extend(chosen.into_iter().filter(|r| !given.contains(r)));
    all
}

/// The relays chosen in settings, as kept in `store`.
fn chosen_relays(store: &Store) -> Result<Vec<Multiaddr>, NodeError> {
    Ok(store.relays()?.iter().filter_map(|r| r.parse().ok()).collect())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Node {
    /// Opens the store and starts the network. The data directory must have been `init`ed.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let store = open_store(&config.data_dir, &config.unlock)?;
        let identity = store.identity()?.ok_or(NodeError::NotInitialized)?;
        let blobs =
            blobs::Blobs::open(&store, &config.data_dir, config.max_blob_size.min(duet_model::MAX_ATTACHMENT_SIZE))?;
        let mut net_config = NetConfig::new(*identity.device.secret_bytes());
        net_config.listen = config.listen.clone();
        net_config.listened = store.listened()?.iter().filter_map(|a| a.parse().ok()).collect();
        net_config.relays = relays_in_use(&config.relays, chosen_relays(&store)?);
        net_config.bootstrap = config.bootstrap.clone();
        net_config.mdns = config.mdns;
        let (net, net_events) = duet_net::start(net_config).await?;
        let (changed, _) = watch::channel(0);
        let (events, _) = broadcast::channel(1024);
        let catch_up = backup::CatchUp::new(store.restored()?);
        let forked = store.forks()?.into_iter().map(|(device, _)| device).collect();
        let invites = invites::InviteBook::load(&store, now())?;
        let presence = presence::Presences::new(config.idle_after);
        let calls = Arc::new(calls::Calls::new(config.calls.ring_timeout, config.calls.connect_timeout));
        let shared = Arc::new(Shared {
            config,
            store,
            net,
            device: identity.device,
            person_key: identity.person,
            write_lock: tokio::sync::Mutex::new(()),
            changed,
            delivery_due: tokio::sync::Notify::new(),
            events,
            invites,
            forked: Mutex::new(forked),
            presence,
            peers: peers::Peers::default(),
            tasks: tasks::Tasks::default(),
            calls,
            turn: Default::default(),
            mailbox: Default::default(),
            blobs,
            inbound: Arc::default(),
            told_early: Mutex::default(),
            failed: Mutex::default(),
            inject_panic: Arc::default(),
            catch_up,
        });
        let node = Node { shared };
        for (device, addrs) in node.shared.store.addresses()? {
            let addrs: Vec<Multiaddr> = addrs.iter().filter_map(|a| a.parse().ok()).collect();
            node.shared.net.add_addresses(device, addrs).await?;
        }
        if let Some(state) = node.shared.store.space()? {
            for p in state.membership.persons() {
                if let Some(seen) = node.shared.store.last_seen(p)? {
                    node.shared.presence.remember_last_seen(*p, seen);
                }
            }
            node.update_members(&state.membership).await?;
        }
        let net_events = Arc::new(tokio::sync::Mutex::new(net_events));
        let parts = [
            node.supervise(Part::Network, move |node| node.run(net_events.clone())),
            node.supervise(Part::Presence, Node::presence_ticker),
            node.supervise(Part::Calls, Node::call_loop),
            node.supervise(Part::Receipts, Node::delivery_receipts),
            node.supervise(Part::Attachments, Node::collect_ticker),
            node.supervise(Part::Dates, Node::reminder_ticker),
            node.supervise(Part::Search, Node::search_upkeep),
        ];
        for part in parts {
            node.shared.tasks.track(part);
        }
        node.resume_fetches();
        // Invites kept from before a restart that have not expired open pairing again.
        node.refresh_pairing().await?;
        Ok(node)
    }

    /// Stops the network and every task. The store is flushed.
    ///
    /// Aborted tasks are awaited, so the node handles they held are dropped by the time this
    /// returns and the store closes as soon as the caller drops its own handles.
    pub async fn shutdown(&self) {
        let tasks = self.shared.tasks.stop();
        self.shared.net.shutdown().await;
        for t in tasks {
            let _ = t.await;
        }
        self.shared.peers.stop_all().await;
        // Chunks fetched since the last sync are kept (synced, then recorded), not fetched again.
        if let Err(e) = self.shared.blobs.store.commit_all() {
            tracing::warn!("fetched chunks not kept at shutdown: {e}");
        }
        let _ = self.shared.store.flush();
    }

    /// The event stream. A receiver that falls more than 1,024 events behind skips ahead
    /// (and is told so by `RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.shared.events.subscribe()
    }

    pub fn device_id(&self) -> DeviceId {
        self.shared.device.id()
    }

    /// The person this device belongs to (`None` for a device not linked yet).
    pub fn person_id(&self) -> Option<PersonId> {
        self.shared.store.person_id().ok().flatten()
    }

    fn identity(&self) -> Result<Option<LocalIdentity>, NodeError> {
        Ok(self.shared.store.identity()?)
    }

    fn me(&self) -> Result<PersonId, NodeError> {
        self.person_id().ok_or(NodeError::NoSpace)
    }

    /// The store (read-only queries for front ends and tests).
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Where this node listens now.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NodeError> {
        Ok(self.shared.net.listen_addrs().await?)
    }

    /// The relays chosen in settings (those given at start, [`NodeConfig::relays`], are used
    /// too but not listed).
    pub fn relays(&self) -> Result<Vec<String>, NodeError> {
        Ok(self.shared.store.relays()?)
    }

    /// The relays listened through: those given at start and those chosen in settings.
    pub(crate) fn relays_in_use(&self) -> Result<Vec<Multiaddr>, NodeError> {
        Ok(relays_in_use(&self.shared.config.relays, chosen_relays(&self.shared.store)?))
    }

    /// Listens through these relays, besides those given at start, from now on and after
    /// restarts. Each is a relay's address as `duet relay` prints it (ending in
    /// `/p2p/<relay id>`); blank entries are skipped. Returns them as kept. If one cannot be
    /// used, nothing changes and the error says which.
    pub async fn set_relays(&self, relays: &[String]) -> Result<Vec<String>, NodeError> {
        let mut chosen: Vec<Multiaddr> = Vec::new();
        for text in relays.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
            let bad =
                |why: &str| NodeError::BadAddress(format!("\"{}\" {why}", text.chars().take(80).collect::<String>()));
            if text.len() > MAX_RELAY_ADDRESS_LEN {
                return Err(bad("is too long to be a relay address"));
            }
            let addr: Multiaddr = text
                .parse()
                .map_err(|_| bad("is not a relay address: paste the whole line `duet relay` prints, which starts with /ip4/, /ip6/ or /dns/ and ends in /p2p/ and the relay's id"))?;
            if !chosen.contains(&addr) {
                chosen.push(addr);
            }
        }
        if chosen.len() > MAX_RELAYS {
            return Err(NodeError::BadAddress(format!("at most {MAX_RELAYS} relays can be used")));
        }
        let in_use = relays_in_use(&self.shared.config.relays, chosen.clone());
        self.shared.net.set_relays(&in_use).await.map_err(|e| match e {
            duet_net::NetError::AddressWithoutPeer { .. } => NodeError::BadAddress(e.to_string()),
            e => e.into(),
        })?;
        let kept: Vec<String> = chosen.iter().map(|a| a.to_string()).collect();
        self.shared.store.save_relays(&kept)?;
        Ok(kept)
    }

    /// Waits until the node listens (and, with relays, until a relayed address is ready).
    pub async fn wait_listening(&self, timeout: Duration) -> Result<Vec<Multiaddr>, NodeError> {
        Ok(self.shared.net.wait_listening(timeout).await?)
    }

    /// Tells the node where a device can be reached (address book), and dials it.
    pub async fn add_peer_addresses(&self, device: DeviceId, addrs: Vec<Multiaddr>) -> Result<(), NodeError> {
        let text: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
        self.shared.store.save_addresses(&device, &text)?;
        self.shared.net.add_addresses(device, addrs).await?;
        Ok(())
    }

    // ----- writing -----

    /// Seals, signs, stores and announces one event of mine.
    pub(crate) async fn write(&self, payload: Payload) -> Result<OpenedEvent, NodeError> {
        if let Some(why) = self.failure() {
            return Err(NodeError::Failed(why));
        }
        self.check_caught_up()?;
        let opened = {
            let _guard = self.shared.write_lock.lock().await;
            let state = self.shared.store.space()?.ok_or(NodeError::NoSpace)?;
            let keys = self.keyring()?;
            let person = self.me()?;
            let device = &self.shared.device;
            let head = self.shared.store.head(&device.id())?;
            let next = NextEvent {
                space: state.space,
                device,
                keys: &keys,
                head,
                max_lamport: self.shared.store.max_lamport()?,
                now: now(),
            };
            let (event, payload) = next.seal(payload, &mut OsRng)?;
            let opened = OpenedEvent { hash: event.hash(&state.space), person, payload, event };
            self.shared.store.append_local(&opened)?;
            opened
        };
        self.stored_changed();
        self.announce(std::slice::from_ref(&opened));
        Ok(opened)
    }

    /// The space's keys this device holds (`duet_log::Keyring`).
    pub(crate) fn keyring(&self) -> Result<duet_log::Keyring, NodeError> {
        self.shared.store.keyring(&self.shared.device)?.ok_or(NodeError::NoSpace)
    }

    fn stored_changed(&self) {
        self.shared.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn emit(&self, event: NodeEvent) {
        let _ = self.shared.events.send(event);
    }

    /// Keeps a spawned task with the node's, so that stopping the node stops it.
    pub(crate) fn track_task(&self, task: JoinHandle<()>) {
        self.shared.tasks.track(task);
    }

    /// Tells front ends what stored events changed.
    pub(crate) fn announce(&self, events: &[OpenedEvent]) {
        let Ok(Some(state)) = self.shared.store.space() else { return };
        self.auto_fetch(events);
        let posts = events.iter().filter(|e| matches!(e.payload, Payload::Post { .. })).count();
        let mut backlog = std::collections::BTreeSet::new();
        for e in events {
            match &e.payload {
                Payload::Post { target, .. } if posts > 50 => {
                    backlog.insert(target.conversation(state.space));
                }
                Payload::Post { .. } => {
                    let id = e.message_id();
                    if let Ok(Some(message)) = self.shared.store.message(&id) {
                        self.emit(NodeEvent::MessageNew { message: Box::new(message) });
                    }
                }
                Payload::Edit { message, .. }
                | Payload::Delete { message }
                | Payload::React { message, .. }
                | Payload::Unreact { message, .. } => {
                    if let Ok(Some(message)) = self.shared.store.message(message) {
                        self.emit(NodeEvent::MessageChanged { message: Box::new(message) });
                    }
                }
                Payload::MarkRead { target, up_to } => self.emit(NodeEvent::ReceiptsChanged {
                    conversation: target.conversation(state.space),
                    up_to: Some(*up_to),
                }),
                Payload::Delivered { .. } => self.emit(NodeEvent::ReceiptsChanged {
                    conversation: Target::Direct.conversation(state.space),
                    up_to: None,
                }),
                Payload::CallRecord(record) => self.emit(NodeEvent::CallRecorded {
                    call: duet_model::Call {
                        id: record.call,
                        conversation: record.target.conversation(state.space),
                        caller: record.caller,
                        participants: record.participants.clone(),
                        kind: record.kind,
                        state: record.state,
                        started_at: record.started_at,
                        answered_at: record.answered_at,
                        ended_at: record.ended_at,
                    },
                }),
                Payload::CustomStatus { .. } | Payload::Mood { .. } => {
                    if let Ok(p) = self.presence_of(e.person) {
                        self.emit(NodeEvent::Presence { presence: p });
                    }
                }
                Payload::Nudge => {
                    if let Ok(p) = self.presence_of(e.person) {
                        self.emit(NodeEvent::Presence { presence: p });
                    }
                    self.nudged(e.person, e.timestamp());
                }
                Payload::TogetherSince { .. } | Payload::DateSet { .. } => self.emit(NodeEvent::DatesChanged),
                Payload::MailboxSet { .. } => {
                    let node = self.clone();
                    self.track_task(tokio::spawn(async move {
                        if let Err(e) = node.use_mailbox().await {
                            tracing::warn!("could not use the couple's mailbox: {e}");
                        }
                    }));
                    self.emit(NodeEvent::SpaceChanged);
                }
                Payload::ListSet { list, .. } | Payload::ListItemSet { list, .. } => {
                    self.emit(NodeEvent::ListChanged { list: *list })
                }
                Payload::Pin { target, .. } => {
                    self.emit(NodeEvent::PinsChanged { conversation: target.conversation(state.space) })
                }
                _ => self.emit(NodeEvent::SpaceChanged),
            }
        }
        for conversation in backlog {
            self.emit(NodeEvent::ConversationChanged { conversation });
        }
    }

    // ----- commands -----

    /// Sends a text message to the direct conversation or a channel.
    pub async fn send(&self, target: Target, text: &str, reply_to: Option<MessageId>) -> Result<Message, NodeError> {
        self.touch();
        let content = duet_model::validate_content(text)?;
        if let Target::Channel(c) = target {
            self.channel(&c)?;
        }
        let opened = self
            .write(Payload::Post { target, message_type: MessageType::Text, content, reply_to, attachments: vec![] })
            .await?;
        let id = opened.message_id();
        self.shared.store.message(&id)?.ok_or_else(|| NodeError::NotFound("the message just sent".into()))
    }

    /// One message by id.
    pub fn message(&self, id: &MessageId) -> Result<Message, NodeError> {
        self.shared.store.message(id)?.ok_or_else(|| NodeError::NotFound(format!("no message {id}")))
    }

    /// Edits one of my messages.
    pub async fn edit(&self, id: MessageId, text: &str) -> Result<Message, NodeError> {
        self.touch();
        let m = self.message(&id)?;
        if Some(m.sender) != self.person_id() {
            return Err(NodeError::NotAllowed("you can only edit your own messages".into()));
        }
        if m.deleted {
            return Err(NodeError::NotAllowed("that message was deleted".into()));
        }
        let content = duet_model::validate_content(text)?;
        self.write(Payload::Edit { message: id, content }).await?;
        self.message(&id)
    }

    /// Deletes one of my messages.
    pub async fn delete(&self, id: MessageId) -> Result<(), NodeError> {
        self.touch();
        let m = self.message(&id)?;
        if Some(m.sender) != self.person_id() {
            return Err(NodeError::NotAllowed("you can only delete your own messages".into()));
        }
        self.write(Payload::Delete { message: id }).await.map(|_| ())
    }

    /// Adds my reaction. At most [`duet_model::MAX_REACTIONS_PER_PERSON`] different emoji of
    /// mine on one message: more are refused in words.
    pub async fn react(&self, id: MessageId, emoji: &str) -> Result<Message, NodeError> {
        self.touch();
        self.message(&id)?;
        let emoji = duet_model::validate_emoji(emoji)?;
        if let Some(record) = self.shared.store.message_record(&id)? {
            record.check_reaction(&self.me()?, &emoji)?;
        }
        self.write(Payload::React { message: id, emoji }).await?;
        self.message(&id)
    }

    /// Takes my reaction back.
    pub async fn unreact(&self, id: MessageId, emoji: &str) -> Result<Message, NodeError> {
        self.touch();
        self.message(&id)?;
        let emoji = duet_model::validate_emoji(emoji)?;
        self.write(Payload::Unreact { message: id, emoji }).await?;
        self.message(&id)
    }

    /// Marks a conversation read up to and including this message. Read markers only move
    /// forward: marking an older message does nothing.
    pub async fn mark_read(&self, id: MessageId) -> Result<(), NodeError> {
        self.touch();
        let m = self.message(&id)?;
        let me = self.me()?;
        let target = match m.channel {
            Some(c) => Target::Channel(c),
            None => Target::Direct,
        };
        if self.shared.store.read_marker(&m.conversation, &me)?.is_some_and(|marker| marker >= id) {
            return Ok(());
        }
        self.write(Payload::MarkRead { target, up_to: id }).await.map(|_| ())
    }

    /// Marks everything in a conversation read.
    pub async fn mark_all_read(&self, target: Target) -> Result<(), NodeError> {
        let space = self.space_id()?;
        let page = self.shared.store.messages(&target.conversation(space), None, 1)?;
        match page.messages.first() {
            Some(newest) => self.mark_read(newest.id).await,
            None => Ok(()),
        }
    }

    /// Sets my status and, when `custom` is given, my custom status text (`Some(None)` clears it).
    pub async fn set_status(&self, status: PresenceStatus, custom: Option<Option<String>>) -> Result<(), NodeError> {
        if status == PresenceStatus::Offline {
            return Err(ValidationError::OfflineNotAChoice.into());
        }
        self.shared.presence.choose(status);
        if let Some(text) = custom {
            self.write(Payload::CustomStatus { text }).await?;
        }
        self.broadcast_presence().await;
        if let Some(me) = self.person_id() {
            if let Ok(p) = self.presence_of(me) {
                self.emit(NodeEvent::Presence { presence: p });
            }
        }
        Ok(())
    }

    /// The user did something: resets the idle timer (away → online).
    pub fn touch(&self) {
        self.shared.presence.touch();
    }

    /// Tells my partner I am typing.
    pub async fn typing(&self, target: Target) -> Result<(), NodeError> {
        self.touch();
        self.broadcast_live(duet_log::LiveMessage::Typing { target, at: now() }).await;
        Ok(())
    }

    /// Creates a channel.
    pub async fn create_channel(
        &self,
        name: &str,
        kind: ChannelKind,
        topic: Option<String>,
    ) -> Result<Channel, NodeError> {
        self.touch();
        let name = duet_model::validate_name("a channel name", name, duet_model::MAX_CHANNEL_NAME_CHARS)?;
        if self.channels()?.iter().any(|c| c.name.eq_ignore_ascii_case(&name)) {
            return Err(NodeError::NotAllowed(format!("there is already a channel called \"{name}\"")));
        }
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let channel = ChannelId(id);
        let position = self.channels()?.len() as u32;
        self.write(Payload::ChannelCreate { channel, name, kind, topic, position }).await?;
        self.channel(&channel)
    }

    /// Renames a channel.
    pub async fn rename_channel(&self, id: ChannelId, name: &str) -> Result<Channel, NodeError> {
        self.touch();
        self.channel(&id)?;
        let name = duet_model::validate_name("a channel name", name, duet_model::MAX_CHANNEL_NAME_CHARS)?;
        self.write(Payload::ChannelUpdate {
            channel: id,
            change: ChannelChange { name: Some(name), ..Default::default() },
        })
        .await?;
        self.channel(&id)
    }

    /// Archives or mutes a conversation (for me, on all my devices).
    pub async fn set_conversation(
        &self,
        target: Target,
        archived: Option<bool>,
        muted: Option<bool>,
    ) -> Result<(), NodeError> {
        self.touch();
        self.write(Payload::ConversationSettings { target, archived, muted }).await.map(|_| ())
    }

    /// Changes my display name.
    pub async fn set_display_name(&self, name: &str) -> Result<(), NodeError> {
        let name = duet_model::validate_name("a display name", name, duet_model::MAX_DISPLAY_NAME_CHARS)?;
        self.write(Payload::ProfileUpdate { display_name: Some(name), avatar: None }).await.map(|_| ())
    }

    // ----- queries -----

    fn space_id(&self) -> Result<SpaceId, NodeError> {
        Ok(self.shared.store.space()?.ok_or(NodeError::NoSpace)?.space)
    }

    /// A page of a conversation, newest first.
    pub fn messages(&self, target: Target, before: Option<MessageId>, limit: usize) -> Result<Page, NodeError> {
        let space = self.space_id()?;
        Ok(self.shared.store.messages(&target.conversation(space), before, limit)?)
    }

    /// My conversations with unread counts.
    pub fn conversations(&self) -> Result<Vec<Conversation>, NodeError> {
        Ok(self.shared.store.conversations(&self.me()?)?)
    }

    pub fn channels(&self) -> Result<Vec<Channel>, NodeError> {
        match self.shared.store.space()? {
            Some(_) => Ok(self.shared.store.channels()?),
            None => Ok(vec![]),
        }
    }

    pub fn channel(&self, id: &ChannelId) -> Result<Channel, NodeError> {
        self.channels()?
            .into_iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| NodeError::NotFound(format!("no channel {id}")))
    }

    /// A channel by name (case-insensitive, a leading `#` ignored).
    pub fn channel_by_name(&self, name: &str) -> Result<Channel, NodeError> {
        let name = name.trim().trim_start_matches('#');
        self.channels()?
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| NodeError::NotFound(format!("there is no channel called \"{name}\"")))
    }

    /// My profile.
    pub fn profile(&self) -> Result<Option<Person>, NodeError> {
        Ok(self.shared.store.local_profile()?)
    }

    /// A member person's profile.
    pub fn person(&self, id: &PersonId) -> Result<Option<Person>, NodeError> {
        Ok(self.shared.store.person(id)?)
    }

    /// My partner, once paired.
    pub fn partner(&self) -> Result<Option<PersonId>, NodeError> {
        let me = self.person_id();
        Ok(self.shared.store.space()?.and_then(|s| s.membership.persons().find(|p| Some(**p) != me).copied()))
    }

    /// Everyone's presence (mine as I see it: invisible stays invisible).
    pub fn presence(&self) -> Result<Vec<Presence>, NodeError> {
        let Some(state) = self.shared.store.space()? else {
            return Ok(self.person_id().map(|p| self.presence_of(p)).transpose()?.into_iter().collect());
        };
        state.membership.persons().map(|p| self.presence_of(*p)).collect()
    }

    pub(crate) fn presence_of(&self, person: PersonId) -> Result<Presence, NodeError> {
        let custom = self.shared.store.person_record(&person)?.and_then(|r| r.custom_status.and_then(|l| l.value));
        let mut presence = if Some(person) == self.person_id() {
            Presence {
                person,
                status: self.my_status(),
                last_seen: Some(now()),
                custom_status: custom,
                device: Some(self.device_id()),
                updated_at: now(),
                mood: None,
                last_nudge: None,
            }
        } else {
            self.shared.presence.of(person, custom)
        };
        presence.mood = self.shared.store.mood(&person)?.and_then(|m| m.value);
        presence.last_nudge = self.shared.store.last_nudge(&person)?.map(|n| n.at);
        Ok(presence)
    }

    /// My status as I see it now (idle turns online into away; invisible stays invisible).
    pub(crate) fn my_status(&self) -> PresenceStatus {
        self.shared.presence.mine()
    }

    /// The member devices, and whether each is connected now.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NodeError> {
        let Some(state) = self.shared.store.space()? else { return Ok(vec![]) };
        let routes = self.shared.net.routes().await?;
        let addresses: HashMap<DeviceId, Vec<String>> = self.shared.store.addresses()?.into_iter().collect();
        let vv = self.shared.store.version_vector()?;
        Ok(state
            .membership
            .devices()
            .map(|(d, m)| PeerInfo {
                device: *d,
                person: m.certificate.person,
                name: m.certificate.device_name.clone(),
                me: *d == self.device_id(),
                connected: routes.contains_key(d),
                relayed: routes.get(d) == Some(&duet_net::Route::Relayed),
                reach: if *d == self.device_id() {
                    PeerReach::ThisDevice
                } else {
                    PeerReach::of(routes.get(d).copied())
                },
                addresses: addresses.get(d).cloned().unwrap_or_default(),
                seq: vv.get(d),
            })
            .collect())
    }

    // ----- membership -----

    /// My view of who is in the space, for Hello and Members messages.
    pub(crate) fn members(&self) -> Members {
        match self.shared.store.space() {
            Ok(Some(s)) => Members {
                persons: s.membership.persons().copied().collect(),
                certificates: s.membership.devices().map(|(_, d)| d.certificate.encode()).collect(),
            },
            _ => Members::default(),
        }
    }

    /// Learns member devices from a member device: valid certificates of member people.
    pub(crate) async fn merge_members(&self, members: &Members) -> Result<(), NodeError> {
        let certificates: Vec<DeviceCertificate> =
            members.certificates.iter().filter_map(|c| DeviceCertificate::decode(c).ok()).collect();
        // Devices of the people in the space, never a person (`Membership::merge_from_peer`):
        // the partner enters through the pairing's `PartnerJoin` event
        // (`Membership::fold_events`).
        if let Some(state) = self.shared.store.update_membership(|m| m.merge_from_peer(&certificates))? {
            self.update_members(&state.membership).await?;
            self.emit(NodeEvent::SpaceChanged);
        }
        Ok(())
    }

    /// Tells the network who may sync, and starts sessions with connected members.
    pub(crate) async fn update_members(&self, membership: &Membership) -> Result<(), NodeError> {
        let devices = self.allow_members(membership).await?;
        let connected = self.shared.net.connected().await?;
        for d in devices.into_iter().filter(|d| connected.contains(d) && !self.awaiting_welcome(d)) {
            if self.is_mailbox(&d) {
                self.start_mailbox_peer(d);
            } else {
                self.start_peer(d);
            }
        }
        Ok(())
    }

    /// Tells the network who may sync, without starting sessions; returns the other devices.
    /// A device that forked its log is left out: it may no longer open anything here.
    pub(crate) async fn allow_members(&self, membership: &Membership) -> Result<Vec<DeviceId>, NodeError> {
        let me = self.device_id();
        let forked = lock(&self.shared.forked).clone();
        let devices: Vec<DeviceId> = membership
            .devices()
            .filter(|(_, m)| m.last_seq.is_none())
            .map(|(d, _)| *d)
            .filter(|d| *d != me && !forked.contains(d))
            .collect();
        let mut devices = devices;
        // The couple's mailbox syncs like a member device (it is not one: it writes nothing).
        if let Some(mailbox) = self.mailbox_to_allow().await? {
            devices.push(mailbox);
        }
        self.shared.net.set_members(devices.clone()).await?;
        Ok(devices)
    }

    fn is_member(&self, device: &DeviceId) -> bool {
        matches!(self.shared.store.space(), Ok(Some(s)) if s.membership.device(device).is_some_and(|d| d.last_seq.is_none()))
            && *device != self.device_id()
            && !self.has_forked(device)
    }

    /// Whether `device` signed two versions of its log (it is cut off for good).
    pub(crate) fn has_forked(&self, device: &DeviceId) -> bool {
        lock(&self.shared.forked).contains(device)
    }

    /// Creates this person's space if there is none yet: a new space id and key, me as the
    /// only member, and my first events (my name, the space's name).
    pub(crate) async fn ensure_space(&self) -> Result<SpaceState, NodeError> {
        if let Some(s) = self.shared.store.space()? {
            return Ok(s);
        }
        let identity = self.identity()?.ok_or(NodeError::NotInitialized)?;
        let (Some(person), Some(cert)) = (identity.person.as_ref(), identity.certificate.clone()) else {
            return Err(NodeError::NotAllowed(
                "this device joins an existing profile: use `duet join` with a device invite from your other device"
                    .into(),
            ));
        };
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let mut membership = Membership::new(SpaceId(id), [person.id()]);
        membership.add_device(cert).map_err(|e| NodeError::NotAllowed(e.to_string()))?;
        let state = SpaceState { space: SpaceId(id), membership };
        self.shared.store.save_space(&state, &SpaceKey::generate(&mut OsRng))?;
        self.write(Payload::ProfileUpdate { display_name: Some(identity.display_name.clone()), avatar: None }).await?;
        self.write(Payload::SpaceUpdate { name: Some(format!("{}'s space", identity.display_name)), icon: None })
            .await?;
        Ok(state)
    }

    // ----- the network loop -----

    async fn run(self, net_events: Arc<tokio::sync::Mutex<mpsc::Receiver<duet_net::NetEvent>>>) {
        use duet_net::NetEvent;
        // Held while the loop runs; a panic drops the guard, not the queue (`supervise`).
        let mut net_events = net_events.lock().await;
        while let Some(event) = net_events.recv().await {
            match event {
                NetEvent::Connected { device, .. } if self.is_mailbox(&device) => {
                    self.start_mailbox_peer(device);
                    self.ask_mailbox_usage(device);
                    self.emit(NodeEvent::MailboxChanged);
                }
                NetEvent::Connected { device, .. } if self.is_relay(&device) => self.relay_connected(device),
                NetEvent::Connected { device, .. } if self.is_member(&device) && !self.awaiting_welcome(&device) => {
                    self.start_peer(device);
                    self.blob_peers_changed();
                    self.emit(NodeEvent::PeerConnected { device });
                }
                NetEvent::Disconnected { device } => {
                    if self.is_mailbox(&device) {
                        self.emit(NodeEvent::MailboxChanged);
                    }
                    let was = self.shared.peers.remove(&device);
                    if was {
                        self.emit(NodeEvent::PeerDisconnected { device });
                        let wall = now();
                        let changed = self.shared.presence.gone(&device, wall);
                        if let Some(person) = changed {
                            let _ = self.shared.store.set_last_seen(&person, wall);
                            if let Ok(p) = self.presence_of(person) {
                                self.emit(NodeEvent::Presence { presence: p });
                            }
                        }
                    }
                }
                NetEvent::Listening { addr } if !duet_net::is_relayed(&addr) => {
                    // Remembered so that the next start listens on the same ports.
                    if let Ok(addrs) = self.shared.net.listen_addrs().await {
                        let plain = addrs.iter().filter(|a| !duet_net::is_relayed(a));
                        let _ = self.shared.store.save_listened(&plain.map(|a| a.to_string()).collect::<Vec<_>>());
                    }
                }
                NetEvent::Addresses { device, addrs } if self.is_member(&device) => {
                    let text: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
                    let _ = self.shared.store.save_addresses(&device, &text);
                }
                NetEvent::InboundStream { device, protocol, stream } if self.is_mailbox(&device) => {
                    // The mailbox pushes what this device lacks; it has nothing else to say.
                    if protocol != DuetProtocol::Sync {
                        continue;
                    }
                    let Some(slot) = self.shared.inbound.admit(protocol, device) else { continue };
                    self.start_mailbox_peer(device);
                    let node = self.clone();
                    let task = tokio::spawn(async move {
                        let _slot = slot;
                        node.receive_session(device, stream).await
                    });
                    self.track_task(task);
                }
                NetEvent::InboundStream { device, protocol, stream } => {
                    // Over the cap, the stream is dropped before anything is read from it.
                    let Some(slot) = self.shared.inbound.admit(protocol, device) else {
                        tracing::debug!(?device, %protocol, "too many streams at once; dropping one");
                        continue;
                    };
                    // A member that opens Sync or Live is ready for mine: a device that just
                    // joined (already connected, so no `Connected`) is answered this way.
                    if protocol != DuetProtocol::Pair && self.is_member(&device) {
                        self.joiner_heard(&device).await;
                        self.start_peer(device);
                    }
                    let node = self.clone();
                    let serve: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> = match protocol {
                        DuetProtocol::Sync => Box::pin(node.receive_session(device, stream)),
                        DuetProtocol::Live => Box::pin(node.live_reader(device, stream)),
                        DuetProtocol::Pair => Box::pin(node.answer_join(device, stream)),
                        DuetProtocol::Blobs => Box::pin(node.serve_blobs(device, stream)),
                        // Only a mailbox answers registrations, only a relay TURN requests.
                        DuetProtocol::Mailbox | DuetProtocol::Turn => Box::pin(async {}),
                    };
                    // The slot is freed when the task ends, however it ends (aborted too).
                    let task = tokio::spawn(async move {
                        let _slot = slot;
                        serve.await
                    });
                    self.track_task(task);
                }
                _ => {}
            }
        }
    }

    /// Starts the push session and the live sender for a connected member device.
    fn start_peer(&self, device: DeviceId) {
        self.shared.peers.start(
            device,
            || tokio::spawn(self.clone().push_session(device)),
            |live| tokio::spawn(self.clone().live_writer(device, live)),
        );
    }

    /// What this device holds: the highest seq of each author's log.
    pub fn version_vector(&self) -> Result<duet_log::VersionVector, NodeError> {
        Ok(self.shared.store.version_vector()?)
    }

    /// Connected member devices.
    pub async fn connected(&self) -> Result<Vec<DeviceId>, NodeError> {
        Ok(self.shared.net.connected().await?)
    }

    pub(crate) fn head_of(&self, author: &DeviceId) -> LogHead {
        sync::head_of(&self.shared.store, author)
    }
}
