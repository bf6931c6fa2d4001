//! The commands the UI may invoke (`ui/src/lib/backend/commands.ts` is their only caller).
//! Each is one call into `duet-node`; they are `async` so that store reads and network waits
//! never run on the window's thread. Tauri maps a Rust argument `reply_to` to `replyTo` in JS.

use duet_model::{Avatar, Channel, ChannelId, ChannelKind, Conversation, InviteKind, Message, MessageId};
use duet_model::{
    CalendarDate, DateId, ItemId, ListId, Mood, Presence, PresenceStatus, SharedDate, SharedList, Target, Timestamp,
};
use duet_node::{DateInfo, Dates, DeviceInfo, NodeError, PeerInfo, PinnedMessage, Place, Verification};
use tauri::{AppHandle, State};

use crate::desktop;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::transport::{AppSnapshot, Invitation, MessagePage};

type Answer<T> = Result<T, AppError>;

/// Who is here: my profile, my partner, whether we are paired. A node that could not start
/// is tried again first (the window's "Try again": the keyring is back, another Duet closed).
#[tauri::command]
pub async fn app_state(app: AppHandle, state: State<'_, AppState>) -> Answer<AppSnapshot> {
    state.retry_start(&app);
    match state.node_if_any().await? {
        Some(node) => Ok(AppSnapshot::of(&node)?),
        None => Ok(AppSnapshot::EMPTY),
    }
}

/// Opens this device's data with the passphrase typed on the unlock screen and starts the
/// node; `wrong_passphrase` when it does not open it (nothing changes; try again).
#[tauri::command]
pub async fn unlock_data(app: AppHandle, state: State<'_, AppState>, passphrase: String) -> Answer<AppSnapshot> {
    let node = state.unlock_with(&app, passphrase).await?;
    Ok(AppSnapshot::of(&node)?)
}

/// The passphrase a new profile's data is locked with, when the desktop has no keyring
/// (`create_profile` answered `keyring_unavailable`): `invalid_input` when it is too short.
#[tauri::command]
pub async fn choose_data_passphrase(state: State<'_, AppState>, passphrase: String) -> Answer<()> {
    state.choose_passphrase(passphrase)
}

/// How this device's data is locked at rest: `"keyring"` (the desktop keyring keeps its
/// key) or `"passphrase"` (typed when Duet starts).
#[tauri::command]
pub async fn data_protection(state: State<'_, AppState>) -> Answer<String> {
    Ok(state.protection()?.to_owned())
}

/// Locks this device's data with a new `passphrase`, or with the desktop keyring when it is
/// `null`; `current` is the passphrase it is locked with now. Answers the new protection;
/// `wrong_passphrase`, `invalid_input` (too short) or `keyring_unavailable` change nothing.
#[tauri::command]
pub async fn change_data_protection(
    state: State<'_, AppState>,
    current: Option<String>,
    passphrase: Option<String>,
) -> Answer<String> {
    Ok(state.change_protection(current, passphrase).await?.to_owned())
}

/// Creates this device's profile (a name and an emoji avatar) and starts the node.
#[tauri::command]
pub async fn create_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    avatar: Option<String>,
) -> Answer<AppSnapshot> {
    // A bad emoji is refused before the profile exists, so the person can simply try again.
    let avatar = avatar.map(|emoji| duet_model::validate_emoji(&emoji)).transpose().map_err(NodeError::from)?;
    let node = state.create_profile(&app, &name).await?;
    node.set_profile(None, avatar.map(|emoji| Some(Avatar::Emoji(emoji)))).await?;
    Ok(AppSnapshot::of(&node)?)
}

/// Changes my name and/or emoji avatar.
#[tauri::command]
pub async fn set_profile(
    state: State<'_, AppState>,
    name: Option<String>,
    avatar: Option<String>,
) -> Answer<AppSnapshot> {
    let node = state.node().await?;
    node.set_profile(name.as_deref(), avatar.map(|emoji| Some(Avatar::Emoji(emoji)))).await?;
    Ok(AppSnapshot::of(&node)?)
}

/// A one-time invite for my partner or my other device, as text and as a QR code.
#[tauri::command]
pub async fn invite(state: State<'_, AppState>, kind: InviteKind) -> Answer<Invitation> {
    Invitation::new(state.node().await?.invite_with_profile(kind).await?)
}

/// Links this computer to my profile on another device, with a device invite made there
/// ("This is another of my devices"); returns once linked. A ticket for a partner is refused
/// in words, and the person may try again.
#[tauri::command]
pub async fn link_device(app: AppHandle, state: State<'_, AppState>, ticket: String) -> Answer<AppSnapshot> {
    if duet_node::ticket_kind(&ticket)? != InviteKind::OwnDevice {
        return Err(NodeError::NotAllowed(
            "this invite is for a partner, not for another of your devices: on your other device, open Settings \
             and choose \u{201c}Create a device invite\u{201d}"
                .into(),
        )
        .into());
    }
    let node = state.device_to_link(&app).await?;
    node.join(ticket.trim()).await?;
    Ok(AppSnapshot::of(&node)?)
}

/// Joins with a ticket; returns once paired.
#[tauri::command]
pub async fn join(state: State<'_, AppState>, ticket: String) -> Answer<AppSnapshot> {
    let node = state.node().await?;
    node.join_with_profile(&ticket).await?;
    Ok(AppSnapshot::of(&node)?)
}

#[tauri::command]
pub async fn peers(state: State<'_, AppState>) -> Answer<Vec<PeerInfo>> {
    Ok(state.node().await?.peers().await?)
}

/// Every device of mine and my partner's (Settings → Devices).
#[tauri::command]
pub async fn devices(state: State<'_, AppState>) -> Answer<Vec<DeviceInfo>> {
    Ok(state.node().await?.devices().await?)
}

/// Removes one of my other devices: its later events are refused everywhere.
#[tauri::command]
pub async fn remove_device(state: State<'_, AppState>, device: duet_model::DeviceId) -> Answer<DeviceInfo> {
    Ok(state.node().await?.remove_device(device).await?)
}

/// The safety number I share with my partner, and who marked it as checked.
#[tauri::command]
pub async fn verification(state: State<'_, AppState>) -> Answer<Verification> {
    Ok(state.node().await?.verification()?)
}

/// Marks the safety number as checked with my partner, or takes the mark back.
#[tauri::command]
pub async fn mark_verified(state: State<'_, AppState>, verified: bool) -> Answer<Verification> {
    Ok(state.node().await?.mark_verified(verified).await?)
}

/// Sets how I feel (an emoji and a few words), or clears it with `null`.
#[tauri::command]
pub async fn set_mood(state: State<'_, AppState>, mood: Option<Mood>) -> Answer<()> {
    Ok(state.node().await?.set_mood(mood).await?)
}

/// Sends my partner a "thinking of you" nudge.
#[tauri::command]
pub async fn nudge(state: State<'_, AppState>) -> Answer<()> {
    Ok(state.node().await?.nudge().await?)
}

/// Pins a message in its conversation, or takes the pin off; answers the pins now.
#[tauri::command]
pub async fn pin_message(
    state: State<'_, AppState>,
    target: Target,
    id: MessageId,
    pinned: bool,
) -> Answer<Vec<PinnedMessage>> {
    Ok(state.node().await?.pin(target, id, pinned).await?)
}

/// A conversation's pinned messages, the latest pinned first.
#[tauri::command]
pub async fn pinned_messages(state: State<'_, AppState>, target: Target) -> Answer<Vec<PinnedMessage>> {
    Ok(state.node().await?.pinned(target)?)
}

/// The memories (photos, videos and sounds we shared), newest first: at most `limit` older
/// than the message `before`, or the newest.
#[tauri::command]
pub async fn memories(
    state: State<'_, AppState>,
    before: Option<MessageId>,
    limit: usize,
) -> Answer<Vec<duet_node::Memory>> {
    Ok(state.node().await?.memories(before, limit)?)
}

/// The memories made within any of `windows` ("On this day": this date in earlier years, each
/// from local midnight to the next), newest first.
#[tauri::command]
pub async fn memories_in(
    state: State<'_, AppState>,
    windows: Vec<duet_node::TimeWindow>,
) -> Answer<Vec<duet_node::Memory>> {
    Ok(state.node().await?.memories_in(&windows)?)
}

/// The messages holding every word of `words` (accents and case aside, whole words), best
/// first: the words as typed, then in order, then the rest, newest first within each. In
/// `target`'s conversation or in all; written before `before` (to look further back) or at
/// any time; at most `limit` (≤ 200).
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    words: String,
    target: Option<Target>,
    before: Option<Timestamp>,
    limit: u32,
) -> Answer<Vec<Message>> {
    Ok(state.node().await?.search(&words, target, before, limit as usize)?)
}

/// Writes "Our story" (every conversation as one HTML page) to `path`, or to the Downloads
/// folder (else home) as `duet-our-story-YYYY-MM-DD.html`; answers where and what it wrote.
#[tauri::command]
pub async fn export_story(state: State<'_, AppState>, path: Option<String>) -> Answer<duet_node::StoryReport> {
    let path = match path.filter(|p| !p.trim().is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => crate::desktop::downloads_dir()
            .join(format!("duet-our-story-{}.html", chrono::Local::now().format("%Y-%m-%d"))),
    };
    Ok(state.node().await?.export_story(&path).await?)
}

/// "Together since" and our shared dates.
#[tauri::command]
pub async fn dates(state: State<'_, AppState>) -> Answer<Dates> {
    Ok(state.node().await?.dates()?)
}

/// Sets the day we count from, or clears it with `null`.
#[tauri::command]
pub async fn set_together_since(state: State<'_, AppState>, date: Option<CalendarDate>) -> Answer<Dates> {
    Ok(state.node().await?.set_together_since(date).await?)
}

/// Makes a shared date (`id` null) or changes one.
#[tauri::command]
pub async fn save_date(state: State<'_, AppState>, id: Option<DateId>, date: SharedDate) -> Answer<DateInfo> {
    Ok(state.node().await?.save_date(id, date).await?)
}

/// Removes a shared date, for both of us.
#[tauri::command]
pub async fn remove_date(state: State<'_, AppState>, id: DateId) -> Answer<()> {
    Ok(state.node().await?.remove_date(id).await?)
}

/// Our shared lists, most recently changed first.
#[tauri::command]
pub async fn lists(state: State<'_, AppState>) -> Answer<Vec<SharedList>> {
    Ok(state.node().await?.lists()?)
}

/// Makes a shared list.
#[tauri::command]
pub async fn create_list(state: State<'_, AppState>, title: String) -> Answer<SharedList> {
    Ok(state.node().await?.create_list(&title).await?)
}

/// Renames a list.
#[tauri::command]
pub async fn rename_list(state: State<'_, AppState>, list: ListId, title: String) -> Answer<SharedList> {
    Ok(state.node().await?.rename_list(list, &title).await?)
}

/// Deletes a list, for both of us.
#[tauri::command]
pub async fn delete_list(state: State<'_, AppState>, list: ListId) -> Answer<()> {
    Ok(state.node().await?.delete_list(list).await?)
}

/// Adds an item (at the bottom unless `place` says otherwise).
#[tauri::command]
pub async fn add_list_item(
    state: State<'_, AppState>,
    list: ListId,
    text: String,
    place: Option<Place>,
) -> Answer<SharedList> {
    Ok(state.node().await?.add_list_item(list, &text, place).await?)
}

/// Changes an item's text and/or ticks or unticks it.
#[tauri::command]
pub async fn set_list_item(
    state: State<'_, AppState>,
    list: ListId,
    item: ItemId,
    text: Option<String>,
    checked: Option<bool>,
) -> Answer<SharedList> {
    Ok(state.node().await?.set_list_item(list, item, text.as_deref(), checked).await?)
}

/// Moves an item.
#[tauri::command]
pub async fn move_list_item(
    state: State<'_, AppState>,
    list: ListId,
    item: ItemId,
    place: Place,
) -> Answer<SharedList> {
    Ok(state.node().await?.move_list_item(list, item, place).await?)
}

/// Removes an item, for both of us.
#[tauri::command]
pub async fn remove_list_item(state: State<'_, AppState>, list: ListId, item: ItemId) -> Answer<SharedList> {
    Ok(state.node().await?.remove_list_item(list, item).await?)
}

/// The couple's mailbox, and whether this device reaches it now.
#[tauri::command]
pub async fn mailbox(state: State<'_, AppState>) -> Answer<duet_node::MailboxStatus> {
    Ok(state.node().await?.mailbox_status().await?)
}

/// Uses the mailbox a ticket (from `duet mailbox`) names, on every device of the couple.
#[tauri::command]
pub async fn add_mailbox(state: State<'_, AppState>, ticket: String) -> Answer<duet_node::MailboxStatus> {
    let node = state.node().await?;
    node.add_mailbox(&ticket).await?;
    Ok(node.mailbox_status().await?)
}

/// Stops using the couple's mailbox, on every device.
#[tauri::command]
pub async fn remove_mailbox(state: State<'_, AppState>) -> Answer<duet_node::MailboxStatus> {
    let node = state.node().await?;
    node.remove_mailbox().await?;
    Ok(node.mailbox_status().await?)
}

/// The relays chosen in settings.
#[tauri::command]
pub async fn relays(state: State<'_, AppState>) -> Answer<Vec<String>> {
    Ok(state.node().await?.relays()?)
}

/// Listens through these relays from now on (and after restarts); returns them as kept.
#[tauri::command]
pub async fn set_relays(state: State<'_, AppState>, relays: Vec<String>) -> Answer<Vec<String>> {
    Ok(state.node().await?.set_relays(&relays).await?)
}

#[tauri::command]
pub async fn conversations(state: State<'_, AppState>) -> Answer<Vec<Conversation>> {
    Ok(state.node().await?.conversations()?)
}

#[tauri::command]
pub async fn channels(state: State<'_, AppState>) -> Answer<Vec<Channel>> {
    Ok(state.node().await?.channels()?)
}

#[tauri::command]
pub async fn create_channel(state: State<'_, AppState>, name: String) -> Answer<Channel> {
    Ok(state.node().await?.create_channel(&name, ChannelKind::Text, None).await?)
}

#[tauri::command]
pub async fn rename_channel(state: State<'_, AppState>, id: ChannelId, name: String) -> Answer<Channel> {
    Ok(state.node().await?.rename_channel(id, &name).await?)
}

#[tauri::command]
pub async fn set_conversation(
    state: State<'_, AppState>,
    target: Target,
    archived: Option<bool>,
    muted: Option<bool>,
) -> Answer<()> {
    Ok(state.node().await?.set_conversation(target, archived, muted).await?)
}

/// A page of a conversation, newest first, strictly older than `before`.
#[tauri::command]
pub async fn messages(
    state: State<'_, AppState>,
    target: Target,
    before: Option<MessageId>,
    limit: u32,
) -> Answer<MessagePage> {
    Ok(state.node().await?.messages(target, before, limit as usize)?.into())
}

#[tauri::command]
pub async fn send(
    state: State<'_, AppState>,
    target: Target,
    text: String,
    reply_to: Option<MessageId>,
) -> Answer<Message> {
    Ok(state.node().await?.send(target, &text, reply_to).await?)
}

#[tauri::command]
pub async fn edit(state: State<'_, AppState>, id: MessageId, text: String) -> Answer<Message> {
    Ok(state.node().await?.edit(id, &text).await?)
}

#[tauri::command]
pub async fn delete(state: State<'_, AppState>, id: MessageId) -> Answer<()> {
    Ok(state.node().await?.delete(id).await?)
}

#[tauri::command]
pub async fn react(state: State<'_, AppState>, id: MessageId, emoji: String) -> Answer<Message> {
    Ok(state.node().await?.react(id, &emoji).await?)
}

#[tauri::command]
pub async fn unreact(state: State<'_, AppState>, id: MessageId, emoji: String) -> Answer<Message> {
    Ok(state.node().await?.unreact(id, &emoji).await?)
}

#[tauri::command]
pub async fn mark_read(state: State<'_, AppState>, id: MessageId) -> Answer<()> {
    Ok(state.node().await?.mark_read(id).await?)
}

#[tauri::command]
pub async fn mark_all_read(state: State<'_, AppState>, target: Target) -> Answer<()> {
    Ok(state.node().await?.mark_all_read(target).await?)
}

#[tauri::command]
pub async fn typing(state: State<'_, AppState>, target: Target) -> Answer<()> {
    Ok(state.node().await?.typing(target).await?)
}

#[tauri::command]
pub async fn presence(state: State<'_, AppState>) -> Answer<Vec<Presence>> {
    Ok(state.node().await?.presence()?)
}

/// Sets my status; `text`: absent keeps my custom status, empty clears it, else sets it.
#[tauri::command]
pub async fn set_status(state: State<'_, AppState>, status: PresenceStatus, text: Option<String>) -> Answer<()> {
    let custom = text.map(|t| Some(t).filter(|t| !t.trim().is_empty()));
    Ok(state.node().await?.set_status(status, custom).await?)
}

/// The person did something: away turns back to online.
#[tauri::command]
pub async fn touch(state: State<'_, AppState>) -> Answer<()> {
    state.node().await?.touch();
    Ok(())
}

/// The unread count on the tray icon and in the window title (0 clears it), with the tray's
/// tooltip in the window's language.
#[tauri::command]
pub async fn set_unread_badge(app: AppHandle, count: u32, tooltip: Option<String>) -> Answer<()> {
    if let Some(tooltip) = &tooltip {
        desktop::check_line("tooltip", tooltip).map_err(|words| AppError::new(ErrorCode::InvalidInput, words))?;
    }
    desktop::show_unread(&app, count, tooltip);
    Ok(())
}

/// The desktop's words in the window's language: the tray menu's two items and what a
/// notification says while the app is locked.
#[tauri::command]
pub async fn set_desktop_words(app: AppHandle, open: String, quit: String, locked_message: String) -> Answer<()> {
    let words = desktop::Words::checked(open, quit, locked_message)
        .map_err(|words| AppError::new(ErrorCode::InvalidInput, words))?;
    desktop::use_words(&app, words).map_err(|error| AppError::new(ErrorCode::Internal, error.to_string()))
}

/// A desktop notification; the UI decides when (not busy, not muted, not focused), the shell
/// what it may say (nothing of the message while the app is locked).
#[tauri::command]
pub async fn notify(
    lock: State<'_, crate::lock::AppLock>,
    words: State<'_, desktop::DesktopWords>,
    title: String,
    body: String,
) -> Answer<()> {
    let (title, body) = lock.notification(title, body, &words.get().locked_message);
    desktop::notify(title, body).await;
    Ok(())
}
