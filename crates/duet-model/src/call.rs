//! Voice and video calls: the record every call leaves in the log.

use serde::{Deserialize, Serialize};

use crate::ids::{CallId, ConversationId, PersonId};
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    Voice,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    Ringing,
    Active,
    Ended,
    Missed,
    Declined,
    Failed,
}

impl CallKind {
    pub const ALL: [CallKind; 2] = [Self::Voice, Self::Video];
}

impl CallState {
    pub const ALL: [CallState; 6] =
        [Self::Ringing, Self::Active, Self::Ended, Self::Missed, Self::Declined, Self::Failed];

    /// Whether the call is over (no further state follows).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Ringing | Self::Active)
    }
}

/// A call in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Call {
    pub id: CallId,
    /// The direct conversation or the channel it happened in.
    pub conversation: ConversationId,
    pub caller: PersonId,
    pub participants: Vec<PersonId>,
    pub kind: CallKind,
    pub state: CallState,
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

impl Call {
    /// Milliseconds from answer to end; `None` for a call never answered or not yet over.
    pub fn duration_ms(&self) -> Option<u64> {
        Some(self.ended_at?.since(self.answered_at?))
    }
}
