//! The memories: every photo, video and sound (voice notes included) the two shared, from
//! every conversation, newest first, and "On this day": what they shared on this date in
//! earlier years.
//!
//! Decisions:
//! - **Nothing new is synced for memories.** They are the messages with media, found through
//!   the store's memories index (`duet-store`, views `M`), so they are the same on every
//!   device of both. Files that are not media (a PDF) are not memories.
//! - **Pinning a moment is pinning its message** in its conversation (the existing pins,
//!   `Payload::Pin`): either partner pins or unpins, both see it, and the pin shows both in
//!   the conversation's pinned list and as a kept moment in the gallery. One idea, not two.
//! - **"On this day" is the caller's days.** A day starts and ends at local midnight, which
//!   only the front end knows; it passes one window of time per earlier year
//!   ([`Node::memories_in`]), and the node answers from the index.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use duet_model::{ConversationId, Message, MessageId, Timestamp};
use serde::Serialize;

use crate::{Node, NodeError};

/// The most memories one call returns.
pub const MAX_MEMORIES_PAGE: usize = 200;
/// The most windows of time one "On this day" call looks in (a window per earlier year).
pub const MAX_MEMORY_WINDOWS: usize = 100;

/// A photo, video or sound the two shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Memory {
    /// The message it came with (its attachments, who sent it, when, where).
    pub message: Message,
    /// Kept as a moment: the message is pinned in its conversation.
    pub pinned: bool,
}

/// One window of time ("this day in 2024", from local midnight to the next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimeWindow {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Node {
    /// The memories, newest first: at most `limit` (and [`MAX_MEMORIES_PAGE`]) made before
    /// the message `before` (the last one a page showed), or the newest.
    pub fn memories(&self, before: Option<MessageId>, limit: usize) -> Result<Vec<Memory>, NodeError> {
        let found = self.shared.store.memories(None, before, limit.min(MAX_MEMORIES_PAGE))?;
        self.as_memories(found)
    }

    /// The memories made within any of `windows` (newest first; at most
    /// [`MAX_MEMORIES_PAGE`] in all): "On this day" asks for this date in each earlier year.
    pub fn memories_in(&self, windows: &[TimeWindow]) -> Result<Vec<Memory>, NodeError> {
        if windows.len() > MAX_MEMORY_WINDOWS {
            return Err(NodeError::BadAddress(format!(
                "at most {MAX_MEMORY_WINDOWS} windows of time at once, not {}",
                windows.len()
            )));
        }
        let mut found: Vec<Message> = Vec::new();
        for w in windows.iter().filter(|w| w.from < w.to) {
            let room = MAX_MEMORIES_PAGE.saturating_sub(found.len());
            if room == 0 {
                break;
            }
            // Ids start with their creation time: the window's ends as ids bound the range.
            let after = id_at(Timestamp(w.from.0.saturating_sub(1)), 0xff);
            let before = id_at(w.to, 0);
            found.extend(self.shared.store.memories(Some(after), Some(before), room)?);
        }
        found.sort_by_key(|m| std::cmp::Reverse(m.id));
        found.dedup_by(|a, b| a.id == b.id);
        self.as_memories(found)
    }

    /// Marks which of `messages` are pinned (looking up each conversation's pins once).
    fn as_memories(&self, messages: Vec<Message>) -> Result<Vec<Memory>, NodeError> {
        let mut pins: HashMap<ConversationId, HashSet<MessageId>> = HashMap::new();
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            let pinned = match pins.entry(message.conversation) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let pinned = self.shared.store.pinned(&message.conversation)?;
                    e.insert(pinned.into_iter().map(|(m, _, _)| m.id).collect())
                }
            }
            .contains(&message.id);
            out.push(Memory { message, pinned });
        }
        Ok(out)
    }
}

/// "On this day": this calendar day in each of the 99 years before `today`, each from this
/// computer's local midnight to the next (a 29 February only in leap years). For front ends
/// that run on the node's computer (the CLI); the window computes its own in its time zone.
pub fn this_day_in_earlier_years(today: chrono::NaiveDate) -> Vec<TimeWindow> {
    use chrono::{Datelike, TimeZone};
    let midnight = |d: chrono::NaiveDate| {
        let local = chrono::Local.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest()?;
        u64::try_from(local.timestamp_millis()).ok().map(Timestamp)
    };
    (1..=99)
        .filter_map(|back| {
            let day = today.with_year(today.year() - back)?;
            Some(TimeWindow { from: midnight(day)?, to: midnight(day.succ_opt()?)? })
        })
        .collect()
}

/// The first (`fill` 0) or last (`fill` 0xff) message id that can be made at `t`.
fn id_at(t: Timestamp, fill: u8) -> MessageId {
    let mut id = [fill; 16];
    id[..8].copy_from_slice(&t.0.to_be_bytes());
    MessageId(id)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn this_day_comes_once_a_year_and_a_leap_day_only_in_leap_years() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let windows = this_day_in_earlier_years(day(2026, 12, 4));
        // Back to 1970: nothing is dated before it.
        assert_eq!(windows.len(), 56);
        assert!(windows.iter().all(|w| w.to.0 - w.from.0 >= 23 * 3_600_000 && w.to.0 - w.from.0 <= 25 * 3_600_000));
        assert!(windows.windows(2).all(|w| w[0].from > w[1].from), "the latest year first");
        // 29 February 2028 looks back only to leap years: 2024, 2020, … 1972.
        assert_eq!(this_day_in_earlier_years(day(2028, 2, 29)).len(), 14);
    }
}
