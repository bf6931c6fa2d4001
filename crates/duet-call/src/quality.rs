//! How good the connection of a call is, in a few numbers a person can read: the round trip,
//! how much of the partner's audio was lost, and the bitrates both ways, over the last few
//! seconds; and a "poor connection" verdict for the call view's hint.
//!
//! Pure: the session takes a [`Sample`] of its counters (audio frames played, rebuilt and
//! concealed; bytes each way; the ICE round trip) whenever it is asked, and the
//! [`QualityMeter`] turns the difference from the previous sample into a [`CallQuality`].
//! A reading compares against a sample at least [`MIN_WINDOW`] old, so a call view that asks
//! often still gets steady numbers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

/// The shortest span a reading covers.
pub const MIN_WINDOW: Duration = Duration::from_secs(2);
/// Samples kept (a few readings' worth at one a second).
const KEPT: usize = 8;

/// Above this round trip a conversation starts to trip over itself (ITU-T G.114 puts the
/// comfortable one-way limit at 150 ms).
pub const POOR_ROUND_TRIP_MS: u32 = 300;
/// Above this share of the partner's audio lost (rebuilt or concealed), speech breaks up.
pub const POOR_LOSS_PERCENT: u8 = 8;

/// The counters of a call at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: Instant,
    /// Audio frames played from their own packet.
    pub audio_decoded: u64,
    /// Audio frames that were lost: rebuilt from FEC or concealed.
    pub audio_lost: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// ICE's latest round trip on the connection in use.
    pub round_trip: Option<Duration>,
    /// The connection in use goes through a TURN relay.
    pub relayed: bool,
}

/// The connection of a call, over the last few seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallQuality {
    /// The round trip to the partner, in milliseconds (`None` before one was measured).
    pub round_trip_ms: Option<u32>,
    /// The share of the partner's audio frames that were lost, 0 to 100.
    pub loss_percent: u8,
    /// What arrives from the partner, kbit/s.
    pub incoming_kbps: u32,
    /// What goes to the partner, kbit/s.
    pub outgoing_kbps: u32,
    /// Whether a person would call this a poor connection.
    pub poor: bool,
    /// The call goes through a relay (TURN): nothing direct got through the two networks.
    pub relayed: bool,
}

/// Turns samples into readings.
#[derive(Debug, Default)]
pub struct QualityMeter {
    samples: VecDeque<Sample>,
}

impl QualityMeter {
    /// Takes a sample and reads the connection since the newest kept sample at least
    /// [`MIN_WINDOW`] older (or the oldest, early in a call). `None` with nothing to compare.
    pub fn read(&mut self, now: Sample) -> Option<CallQuality> {
        let base = self
            .samples
            .iter()
            .rev()
            .find(|s| now.at.duration_since(s.at) >= MIN_WINDOW)
            .or(self.samples.front())
            .copied();
        if self.samples.back().is_none_or(|last| now.at.duration_since(last.at) >= Duration::from_millis(500)) {
            self.samples.push_back(now);
            while self.samples.len() > KEPT {
                self.samples.pop_front();
            }
        }
        let base = base?;
        let secs = now.at.duration_since(base.at).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        let kbps = |bytes: u64| ((bytes as f64 * 8.0 / 1000.0) / secs).round().min(f64::from(u32::MAX)) as u32;
        let decoded = now.audio_decoded.saturating_sub(base.audio_decoded);
        let lost = now.audio_lost.saturating_sub(base.audio_lost);
        let played = decoded + lost;
        let loss_percent = (lost * 100).checked_div(played).map_or(0, |p| p.min(100) as u8);
        let round_trip_ms = now.round_trip.map(|d| d.as_millis().min(u128::from(u32::MAX)) as u32);
        let incoming_kbps = kbps(now.bytes_received.saturating_sub(base.bytes_received));
        let poor = round_trip_ms.is_some_and(|r| r > POOR_ROUND_TRIP_MS)
            || loss_percent > POOR_LOSS_PERCENT
            // Nothing at all from the partner for seconds: the connection is stalling.
            || (secs >= MIN_WINDOW.as_secs_f64() && incoming_kbps == 0);
        Some(CallQuality {
            round_trip_ms,
            loss_percent,
            incoming_kbps,
            outgoing_kbps: kbps(now.bytes_sent.saturating_sub(base.bytes_sent)),
            poor,
            relayed: now.relayed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: Instant, secs: u64, decoded: u64, lost: u64, rtt_ms: Option<u64>) -> Sample {
        Sample {
            at: at + Duration::from_secs(secs),
            audio_decoded: decoded,
            audio_lost: lost,
            // 32 kbit/s each way.
            bytes_received: secs * 4000,
            bytes_sent: secs * 4000,
            round_trip: rtt_ms.map(Duration::from_millis),
            relayed: false,
        }
    }

    #[test]
    fn a_good_connection_reads_good() {
        let t = Instant::now();
        let mut m = QualityMeter::default();
        assert_eq!(m.read(sample(t, 0, 0, 0, None)), None, "nothing to compare yet");
        let q = m.read(sample(t, 2, 100, 0, Some(20))).unwrap();
        assert_eq!(
            q,
            CallQuality {
                round_trip_ms: Some(20),
                loss_percent: 0,
                incoming_kbps: 32,
                outgoing_kbps: 32,
                poor: false,
                relayed: false
            }
        );
    }

    #[test]
    fn loss_a_long_round_trip_or_silence_from_the_partner_read_poor() {
        let t = Instant::now();
        let mut m = QualityMeter::default();
        m.read(sample(t, 0, 0, 0, Some(20)));
        let q = m.read(sample(t, 2, 80, 20, Some(20))).unwrap();
        assert_eq!((q.loss_percent, q.poor), (20, true));
        let q = m.read(sample(t, 4, 180, 20, Some(450))).unwrap();
        assert_eq!((q.loss_percent, q.round_trip_ms, q.poor), (0, Some(450), true), "{q:?}");
        let mut stalled = sample(t, 6, 180, 20, Some(20));
        stalled.bytes_received = 4 * 4000;
        let q = m.read(stalled).unwrap();
        assert_eq!((q.incoming_kbps, q.poor), (0, true));
    }

    #[test]
    fn asking_often_still_reads_over_a_window_and_keeps_few_samples() {
        let t = Instant::now();
        let mut m = QualityMeter::default();
        for i in 0..100u64 {
            let at = t + Duration::from_millis(100 * i);
            let q = m.read(Sample {
                at,
                audio_decoded: 5 * i,
                audio_lost: 0,
                bytes_received: 400 * i,
                bytes_sent: 0,
                round_trip: None,
                relayed: false,
            });
            if i >= 25 {
                // 4000 bytes a second = 32 kbit/s, whatever the asking rate.
                assert_eq!(q.unwrap().incoming_kbps, 32, "at {i}");
            }
        }
        assert!(m.samples.len() <= KEPT);
    }
}
