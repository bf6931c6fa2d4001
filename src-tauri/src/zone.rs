//! The computer's time zone for the window: its offsets from UTC from 1900 to 2100, written
//! into the page before its script runs, so the page reads local times without `Date`'s local
//! methods (which open the zone through ICU in the web process, ~1.4 MB of it mapped for as
//! long as the window runs; `ui/src/lib/localTime.ts` says how the page reads them).
//!
//! The offsets are chrono's `Local` (the `TZ` variable, else `/etc/localtime`, which chrono
//! reads again when it changes). [`watch`] reads them again every minute and, when the
//! computer moved to another zone or its rules changed, gives the page the new table. They
//! are found by reading the offset once a day across the two centuries
//! and, where it changed, finding the second it changed by halving (~7 ms in the release
//! build): a zone whose offset changed and changed back within one day would be missed, and no
//! zone in the tz database does that after 1900.

use std::time::Duration;

use chrono::{DateTime, Local, Offset, TimeZone};
use tauri::{AppHandle, Manager, Runtime};

/// 1900-01-01T00:00:00Z and 2100-01-01T00:00:00Z, in seconds.
const FROM: i64 = -2_208_988_800;
const TO: i64 = 4_102_444_800;
const DAY: i64 = 86_400;

/// The local offset from UTC at `secs`, in seconds.
fn offset_at(secs: i64) -> i32 {
    match DateTime::from_timestamp(secs, 0) {
        Some(at) => Local.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc(),
        None => 0,
    }
}

/// The zone's changes as `(instant in seconds, offset in seconds from then on)`, oldest first;
/// the first is the offset at `from`.
pub fn changes(from: i64, to: i64, offset_at: impl Fn(i64) -> i32) -> Vec<(i64, i32)> {
    let mut changes = vec![(from, offset_at(from))];
    let mut at = from;
    while at < to {
        let next = at + DAY;
        let offset = offset_at(next);
        let (_, current) = changes[changes.len() - 1];
        if offset != current {
            // The first second with the new offset lies in (at, next].
            let (mut low, mut high) = (at, next);
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                if offset_at(mid) == offset {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            changes.push((high, offset));
        }
        at = next;
    }
    changes
}

/// The script that gives the page the local zone: `globalThis.__DUET_ZONE__ = [[ms, s], …]`.
pub fn script() -> String {
    let pairs: Vec<String> =
        changes(FROM, TO, offset_at).into_iter().map(|(at, offset)| format!("[{},{offset}]", at * 1000)).collect();
    format!("globalThis.__DUET_ZONE__=[{}];", pairs.join(","))
}

/// How often [`watch`] reads the zone again.
const WATCH_EVERY: Duration = Duration::from_secs(60);

/// Reads the zone every minute on the app's runtime and, when its table changed from `last`
/// (the script the window was made with), writes the new one into every window and tells the
/// page (a `duet-zone` event: `ui/src/lib/localTime.svelte.ts` draws its times again, the day
/// clock arms the new midnight). A reading costs ~7 ms.
pub fn watch<R: Runtime>(app: AppHandle<R>, mut last: String) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            let now = script();
            if now == last {
                continue;
            }
            for window in app.webview_windows().values() {
                if let Err(error) = window.eval(format!("{now}dispatchEvent(new Event('duet-zone'));")) {
                    eprintln!("duet-app: the new time zone did not reach the window: {error}");
                }
            }
            last = now;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paris's rules since 1996: summer time from 01:00 UTC on March's last Sunday to 01:00 UTC
    /// on October's last Sunday.
    fn paris(secs: i64) -> i32 {
        let at = DateTime::from_timestamp(secs, 0).unwrap();
        let year = chrono::Datelike::year(&at);
        let last_sunday_0100 = |month: u32| {
            let first_of_next = chrono::NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap();
            let mut day = first_of_next.pred_opt().unwrap();
            while chrono::Datelike::weekday(&day) != chrono::Weekday::Sun {
                day = day.pred_opt().unwrap();
            }
            day.and_hms_opt(1, 0, 0).unwrap().and_utc().timestamp()
        };
        if secs >= last_sunday_0100(3) && secs < last_sunday_0100(10) {
            7200
        } else {
            3600
        }
    }

    #[test]
    fn finds_each_change_to_the_second() {
        let from = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().timestamp();
        let to = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z").unwrap().timestamp();
        let found = changes(from, to, paris);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        assert_eq!(
            found,
            vec![
                (from, 3600),
                (at("2025-03-30T01:00:00Z"), 7200),
                (at("2025-10-26T01:00:00Z"), 3600),
                (at("2026-03-29T01:00:00Z"), 7200),
                (at("2026-10-25T01:00:00Z"), 3600),
            ]
        );
    }

    #[test]
    fn a_zone_that_never_changes_is_one_offset() {
        assert_eq!(changes(FROM, TO, |_| -18_000), vec![(FROM, -18_000)]);
    }

    #[test]
    fn the_script_holds_this_computer_s_offsets() {
        let script = script();
        assert!(script.starts_with("globalThis.__DUET_ZONE__=[[-2208988800000,"));
        assert!(script.ends_with("]];"));
        // Every change it names is one: the offset a second before differs.
        for (at, offset) in changes(FROM, TO, offset_at).into_iter().skip(1) {
            assert_eq!(offset_at(at), offset);
            assert_ne!(offset_at(at - 1), offset);
        }
    }
}
