//! The couple's dates: "together since" and the dates they share, with reminders.
//!
//! Both are signed, sealed events (`Payload::TogetherSince`, `Payload::DateSet`), so a date
//! made while the partner was offline reaches their devices when they come back, and their
//! reminder fires there too. Reminders are each device's own: a ticker ([`Part::Dates`])
//! looks every [`REMINDER_TICK`] for a date whose reminder time has come and tells the front
//! ends once ([`NodeEvent::Reminder`]); which occurrence it last told of is kept on this
//! device, so a restart does not remind again. A device that was off at the reminder time
//! still reminds when it starts, as long as the date itself is at most [`LATE_REMINDER`] past;
//! older ones are let go quietly (a reminder a day late is noise).
//!
//! [`Part::Dates`]: crate::Part::Dates

use std::time::Duration;

use duet_log::Payload;
use duet_model::{CalendarDate, DateId, SharedDate, Timestamp};
use rand_core::{OsRng, RngCore};
use serde::Serialize;

use crate::{now, Node, NodeError, NodeEvent};

/// How often the ticker looks for reminders due.
pub const REMINDER_TICK: Duration = Duration::from_secs(5);
/// A date further past than this when its reminder could first be given is not reminded of.
pub const LATE_REMINDER: Duration = Duration::from_secs(60 * 60);

/// A shared date and when it comes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DateInfo {
    pub id: DateId,
    #[serde(flatten)]
    pub date: SharedDate,
    /// The next time it happens (a one-off date that has passed: when it was).
    pub next_at: Timestamp,
    /// When both are reminded of that.
    pub remind_at: Timestamp,
}

/// The couple's dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dates {
    pub together_since: Option<CalendarDate>,
    /// Soonest first; passed one-off dates last, latest first.
    pub dates: Vec<DateInfo>,
}

impl Node {
    /// Sets the day we count from (`None` clears it), for both of us.
    pub async fn set_together_since(&self, date: Option<CalendarDate>) -> Result<Dates, NodeError> {
        self.touch();
        let date = date.map(CalendarDate::validated).transpose()?;
        self.write(Payload::TogetherSince { date }).await?;
        self.dates()
    }

    /// Makes a shared date (`id` `None`) or changes one; answers it as stored.
    pub async fn save_date(&self, id: Option<DateId>, date: SharedDate) -> Result<DateInfo, NodeError> {
        self.touch();
        let date = date.validated()?;
        let id = match id {
            Some(id) => {
                self.date(&id)?;
                id
            }
            None => {
                let mut bytes = [0; 16];
                OsRng.fill_bytes(&mut bytes);
                DateId(bytes)
            }
        };
        self.write(Payload::DateSet { id, date: Some(date) }).await?;
        self.date(&id)
    }

    /// Removes a shared date, for both of us.
    pub async fn remove_date(&self, id: DateId) -> Result<(), NodeError> {
        self.touch();
        self.date(&id)?;
        self.write(Payload::DateSet { id, date: None }).await?;
        Ok(())
    }

    /// One shared date.
    pub fn date(&self, id: &DateId) -> Result<DateInfo, NodeError> {
        self.dates()?
            .dates
            .into_iter()
            .find(|d| d.id == *id)
            .ok_or_else(|| NodeError::NotFound("there is no such date (it may have been removed)".into()))
    }

    /// "Together since" and every shared date.
    pub fn dates(&self) -> Result<Dates, NodeError> {
        let store = &self.shared.store;
        let together_since = store.together_since()?.and_then(|m| m.value);
        let t = now();
        let mut dates: Vec<DateInfo> = store
            .dates()?
            .into_iter()
            .filter_map(|(id, mark)| mark.value.map(|date| (id, date)))
            .map(|(id, date)| {
                let next_at = date.next_at(t);
                DateInfo { id, remind_at: date.reminder_for(next_at), next_at, date }
            })
            .collect();
        // Coming ones soonest first, then passed ones latest first.
        dates.sort_by_key(|d| if d.next_at >= t { (0, d.next_at.0) } else { (1, u64::MAX - d.next_at.0) });
        Ok(Dates { together_since, dates })
    }

    /// Reminds of every date whose reminder time has come and that this device has not
    /// reminded of yet.
    pub(crate) fn remind_due(&self) -> Result<(), NodeError> {
        if self.shared.store.space()?.is_none() {
            return Ok(());
        }
        let t = now();
        for (id, mark) in self.shared.store.dates()? {
            let Some(date) = mark.value else { continue };
            // The occurrence that is coming or has just been: look from an hour back.
            let occurrence = date.next_at(Timestamp(t.0.saturating_sub(LATE_REMINDER.as_millis() as u64)));
            if date.reminder_for(occurrence) > t || self.shared.store.reminded(&id)? >= Some(occurrence.0) {
                continue;
            }
            self.shared.store.set_reminded(&id, occurrence.0)?;
            if t.0.saturating_sub(occurrence.0) > LATE_REMINDER.as_millis() as u64 {
                continue;
            }
            let silent = self.my_status() == duet_model::PresenceStatus::Busy;
            self.emit(NodeEvent::Reminder { id, title: date.title.clone(), at: occurrence, silent });
        }
        Ok(())
    }

    /// The dates part: reminds as their time comes.
    pub(crate) async fn reminder_ticker(self) {
        loop {
            if let Err(e) = self.remind_due() {
                tracing::warn!("could not look for reminders: {e}");
            }
            tokio::time::sleep(REMINDER_TICK).await;
        }
    }
}
