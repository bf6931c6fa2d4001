//! What is only for the two of them: a mood on each one's card, a "thinking of you" nudge, and
//! pinned messages.
//!
//! Each is a signed, sealed event in the log like a message (`Payload::Mood`, `Nudge`, `Pin`),
//! so it reaches every device of both, survives restarts, and merges in any order (latest
//! wins). Decisions:
//!
//! - **A nudge is a notification only while fresh.** It goes out like a message (within a
//!   second when the partner is online); when it arrives at most [`NUDGE_FRESH`] after it was
//!   sent, the node tells its front ends ([`NodeEvent::Nudged`]), which show a gentle
//!   notification. One that arrives later (the partner was offline all day) only updates the
//!   card's "thought of you at …" ([`duet_model::Presence::last_nudge`]): a buzz hours late
//!   would say "now" about a moment long gone. While I am Busy the nudge is `silent` (no sound,
//!   no pop-up), as every other notification.
//! - **A mood is the person's own**, on their presence (emoji + at most
//!   [`duet_model::MAX_MOOD_WORDS_CHARS`] characters of words); either partner sees both.
//! - **Pins belong to the conversation**, not to whoever pinned: either partner pins or unpins
//!   any message; the latest pin or unpin of a message wins. A pin of a deleted message is not
//!   listed.

use std::time::Duration;

use duet_log::Payload;
use duet_model::{Message, MessageId, Mood, PersonId, PresenceStatus, Target, Timestamp};
use serde::Serialize;

use crate::{now, Node, NodeError, NodeEvent};

/// A nudge arriving later than this after it was sent is not notified, only shown on the card.
pub const NUDGE_FRESH: Duration = Duration::from_secs(10 * 60);

/// A pinned message, who pinned it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PinnedMessage {
    pub message: Message,
    pub pinned_by: PersonId,
    pub pinned_at: Timestamp,
}

impl Node {
    /// Sets how I feel (`None` clears it). Shown on my card to my partner.
    pub async fn set_mood(&self, mood: Option<Mood>) -> Result<(), NodeError> {
        self.touch();
        let mood = mood.map(Mood::validated).transpose()?;
        self.write(Payload::Mood { mood }).await?;
        Ok(())
    }

    /// Sends my partner a "thinking of you" nudge.
    pub async fn nudge(&self) -> Result<(), NodeError> {
        self.touch();
        if self.partner()?.is_none() {
            return Err(NodeError::NoSpace);
        }
        self.write(Payload::Nudge).await?;
        Ok(())
    }

    /// Pins a message of `target` (or takes the pin off, for both of us).
    pub async fn pin(&self, target: Target, id: MessageId, pinned: bool) -> Result<Vec<PinnedMessage>, NodeError> {
        self.touch();
        let space = self.shared.store.space()?.ok_or(NodeError::NoSpace)?.space;
        let message = self.message(&id)?;
        if message.conversation != target.conversation(space) {
            return Err(NodeError::NotFound("that message is not in this conversation".into()));
        }
        if message.deleted {
            return Err(NodeError::NotAllowed("a deleted message cannot be pinned".into()));
        }
        self.write(Payload::Pin { target, message: id, pinned }).await?;
        self.pinned(target)
    }

    /// The pinned messages of `target`, the latest pinned first.
    pub fn pinned(&self, target: Target) -> Result<Vec<PinnedMessage>, NodeError> {
        let space = self.shared.store.space()?.ok_or(NodeError::NoSpace)?.space;
        Ok(self
            .shared
            .store
            .pinned(&target.conversation(space))?
            .into_iter()
            .map(|(message, pinned_by, pinned_at)| PinnedMessage { message, pinned_by, pinned_at })
            .collect())
    }

    /// A nudge from `from`, sent at `at`, was stored: a fresh one is told to the front ends.
    pub(crate) fn nudged(&self, from: PersonId, at: Timestamp) {
        if Some(from) == self.person_id() {
            return;
        }
        let age = now().0.saturating_sub(at.0);
        if age > NUDGE_FRESH.as_millis() as u64 {
            return;
        }
        let silent = self.my_status() == PresenceStatus::Busy;
        self.emit(NodeEvent::Nudged { person: from, at, silent });
    }
}
