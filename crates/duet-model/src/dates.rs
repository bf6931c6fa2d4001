//! The couple's dates: the day they count from ("together since") and the dates they share
//! (an anniversary, a trip, a dinner), each with a reminder both get at the same moment.
//!
//! A shared date is an instant (milliseconds, UTC), not a wall-clock time: partners in two
//! time zones are reminded at the same moment, each shown it in their own local time. A
//! yearly date comes back on the same UTC calendar day and time each year; one made on 29
//! February comes back on 28 February in other years. The calendar arithmetic is the
//! proleptic Gregorian one (Howard Hinnant's `days_from_civil`), kept here so the pure crates
//! need no date library.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::text::validate_name;
use crate::time::Timestamp;

/// Characters in a date's title ("Our anniversary", "Flight to Lisbon").
pub const MAX_DATE_TITLE_CHARS: usize = 100;
/// The furthest a reminder can come before its date: one week.
pub const MAX_REMIND_BEFORE_MINUTES: u32 = 7 * 24 * 60;
/// The earliest year a date may be in.
pub const MIN_DATE_YEAR: i32 = 1900;
/// The latest year a date may be in.
pub const MAX_DATE_YEAR: i32 = 9999;

const DAY_MS: i64 = 86_400_000;

/// A day of the calendar, with no time and no zone ("together since 12 June 2021").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CalendarDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl CalendarDate {
    /// Checks that the day exists and the year is within [`MIN_DATE_YEAR`]..=[`MAX_DATE_YEAR`].
    pub fn validated(self) -> Result<Self, ValidationError> {
        if !(MIN_DATE_YEAR..=MAX_DATE_YEAR).contains(&self.year) {
            return Err(ValidationError::DateOutOfRange { year: i64::from(self.year) });
        }
        if !(1..=12).contains(&self.month) || self.day == 0 || self.day > days_in_month(self.year, self.month) {
            return Err(ValidationError::NoSuchDay);
        }
        Ok(self)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }
}

/// A date the two share, with its reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SharedDate {
    pub title: String,
    /// When it is (the first time, for a yearly one).
    pub at: Timestamp,
    /// Comes back every year (an anniversary, a birthday).
    pub yearly: bool,
    /// How long before it both are reminded, in minutes (0: at the moment itself).
    pub remind_before_minutes: u32,
}

impl SharedDate {
    /// Checks the title, the year and the reminder; returns it with its title trimmed.
    pub fn validated(self) -> Result<Self, ValidationError> {
        let title = validate_name("a date's title", &self.title, MAX_DATE_TITLE_CHARS)?;
        let (year, _, _) = civil_from_days(i64::try_from(self.at.0 / DAY_MS as u64).unwrap_or(i64::MAX));
        if !(MIN_DATE_YEAR..=MAX_DATE_YEAR).contains(&year) || self.at.0 > max_instant() {
            return Err(ValidationError::DateOutOfRange { year: year_of(self.at) });
        }
        if self.remind_before_minutes > MAX_REMIND_BEFORE_MINUTES {
            return Err(ValidationError::TooLong {
                field: "a reminder's lead time (minutes)",
                len: self.remind_before_minutes as usize,
                max: MAX_REMIND_BEFORE_MINUTES as usize,
            });
        }
        Ok(SharedDate { title, ..self })
    }

    /// The first time it happens at or after `from` (itself for a one-off date, whether or
    /// not it has passed; the next anniversary for a yearly one).
    pub fn next_at(&self, from: Timestamp) -> Timestamp {
        if !self.yearly || self.at >= from {
            return self.at;
        }
        let (y, m, d, ms) = split(self.at);
        let (from_year, _, _, _) = split(from);
        for year in from_year.max(y)..=MAX_DATE_YEAR {
            let t = join(year, m, d, ms);
            if t >= from {
                return t;
            }
        }
        self.at
    }

    /// When to remind of the occurrence at `occurrence`.
    pub fn reminder_for(&self, occurrence: Timestamp) -> Timestamp {
        Timestamp(occurrence.0.saturating_sub(u64::from(self.remind_before_minutes) * 60_000))
    }
}

fn max_instant() -> u64 {
    (days_from_civil(MAX_DATE_YEAR, 12, 31) as u64 + 1) * DAY_MS as u64 - 1
}

fn year_of(t: Timestamp) -> i64 {
    // Years past the calendar's range are estimated, only to be said in an error.
    i64::try_from(t.0 / 31_556_952_000).map(|y| 1970 + y).unwrap_or(i64::MAX)
}

fn split(t: Timestamp) -> (i32, u8, u8, u64) {
    let days = (t.0 / DAY_MS as u64) as i64;
    let (y, m, d) = civil_from_days(days);
    (y, m, d, t.0 % DAY_MS as u64)
}

fn join(year: i32, month: u8, day: u8, ms: u64) -> Timestamp {
    let day = day.min(days_in_month(year, month));
    Timestamp(days_from_civil(year, month, day) as u64 * DAY_MS as u64 + ms)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01.
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (i32::try_from(y).unwrap_or(i32::MAX), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: i32, m: u8, d: u8, h: u64) -> Timestamp {
        join(y, m, d, h * 3_600_000)
    }

    #[test]
    fn calendar_days_are_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(CalendarDate { year: 2021, month: 6, day: 12 }.validated().unwrap().days_since_epoch(), 18_790);
    }

    #[test]
    fn impossible_days_and_far_years_are_refused_in_words() {
        let no_day = CalendarDate { year: 2023, month: 2, day: 29 }.validated().unwrap_err();
        assert_eq!(no_day, ValidationError::NoSuchDay);
        assert!(CalendarDate { year: 2024, month: 2, day: 29 }.validated().is_ok());
        let far = CalendarDate { year: 99_999, month: 1, day: 1 }.validated().unwrap_err();
        assert!(far.to_string().contains("99999"), "{far}");
        let date = |t: Timestamp| SharedDate { title: "x".into(), at: t, yearly: false, remind_before_minutes: 0 };
        // 1 January 99999, as the app's date field could send it.
        let err = date(Timestamp(3_093_527_980_800_000)).validated().unwrap_err();
        assert!(matches!(err, ValidationError::DateOutOfRange { .. }), "{err}");
        assert!(date(at(2027, 6, 12, 19)).validated().is_ok());
        let early = SharedDate { remind_before_minutes: MAX_REMIND_BEFORE_MINUTES + 1, ..date(at(2027, 6, 12, 19)) };
        assert!(early.validated().is_err());
    }

    #[test]
    fn a_yearly_date_comes_back_each_year_and_a_leap_day_on_the_28th() {
        let anniversary =
            SharedDate { title: "us".into(), at: at(2021, 6, 12, 19), yearly: true, remind_before_minutes: 60 };
        assert_eq!(anniversary.next_at(at(2026, 12, 4, 0)), at(2027, 6, 12, 19));
        assert_eq!(anniversary.next_at(at(2027, 6, 12, 19)), at(2027, 6, 12, 19));
        assert_eq!(anniversary.next_at(at(2020, 1, 1, 0)), at(2021, 6, 12, 19));
        assert_eq!(anniversary.reminder_for(at(2027, 6, 12, 19)), at(2027, 6, 12, 18));
        let leap = SharedDate { at: at(2024, 2, 29, 8), ..anniversary.clone() };
        assert_eq!(leap.next_at(at(2025, 1, 1, 0)), at(2025, 2, 28, 8));
        assert_eq!(leap.next_at(at(2028, 1, 1, 0)), at(2028, 2, 29, 8));
        let once = SharedDate { yearly: false, ..anniversary };
        assert_eq!(once.next_at(at(2030, 1, 1, 0)), at(2021, 6, 12, 19));
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -700_000i64..2_900_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
