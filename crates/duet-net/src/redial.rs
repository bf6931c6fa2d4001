//! When to dial a member device (or re-listen on a relay) again: a capped, jittered,
//! exponential backoff.
//!
//! Pure: the event loop passes in the time (`now`) and the randomness (`jitter`, a number in
//! `0.0..1.0`), so the schedule is tested without clocks. The first retry comes about half a
//! second after a loss, then the delay doubles up to a minute. Jitter spreads the nominal delay
//! over ±25 % so that two partners' devices (which both redial each other) and many devices
//! behind one relay do not retry in lockstep. A success resets the schedule, but only once it
//! has lasted: a peer that accepts connections and drops them at once (because it banned us,
//! say) keeps the schedule growing instead of being redialed every half second.

use std::time::{Duration, Instant};

/// The shape of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The nominal delay before the first retry.
    pub initial: Duration,
    /// No delay is ever longer than this, jitter included.
    pub max: Duration,
    /// A connection that stayed up this long counts as a success and resets the schedule.
    pub stable: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self { initial: Duration::from_millis(500), max: Duration::from_secs(60), stable: Duration::from_secs(10) }
    }
}

impl BackoffPolicy {
    /// The delay before retry number `attempt` (0 for the first retry after a success):
    /// `initial · 2^attempt`, spread by ±25 % with `jitter` in `0.0..1.0`, and capped at `max`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let nominal = self.initial.saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX));
        let nominal = nominal.min(self.max);
        // NaN would make `mul_f64` panic; a broken random source gets the nominal delay.
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.5 };
        let factor = 0.75 + 0.5 * jitter;
        nominal.mul_f64(factor).min(self.max)
    }
}

/// The retry state of one target (a member device or a relay).
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    /// Failures (or losses) since the last success.
    attempt: u32,
    /// When to try next; `None` while connected or while an attempt is under way.
    next: Option<Instant>,
    /// Since when the target has been reachable, if it is.
    up_since: Option<Instant>,
}

impl Backoff {
    /// A target to reach as soon as possible: the first attempt is due at once.
    pub fn due_now(policy: BackoffPolicy, now: Instant) -> Self {
        Self { policy, attempt: 0, next: Some(now), up_since: None }
    }

    /// A target that is reachable right now (connected): nothing is scheduled.
    pub fn idle(policy: BackoffPolicy, now: Instant) -> Self {
        Self { policy, attempt: 0, next: None, up_since: Some(now) }
    }

    /// The connection was lost, or an attempt failed: schedule the next attempt and make the
    /// one after it wait longer. Does nothing if an attempt is already scheduled, so several
    /// reports of one failure do not stretch the schedule. A connection that lasted at least
    /// [`BackoffPolicy::stable`] resets the schedule first.
    pub fn failed(&mut self, now: Instant, jitter: f64) {
        if let Some(since) = self.up_since.take() {
            if now.saturating_duration_since(since) >= self.policy.stable {
                self.attempt = 0;
            }
        }
        if self.next.is_none() {
            self.next = Some(now + self.policy.delay(self.attempt, jitter));
            self.attempt = self.attempt.saturating_add(1);
        }
    }

    /// Connected (or listening again) at `now`: schedule nothing. The failures are forgotten
    /// once the connection has lasted (see [`failed`](Self::failed)).
    pub fn succeeded(&mut self, now: Instant) {
        self.next = None;
        self.up_since.get_or_insert(now);
    }

    /// Something new makes an attempt worth making at once (a fresh address, a LAN sighting),
    /// without forgetting how often it failed.
    pub fn hurry(&mut self, now: Instant) {
        self.next = Some(now);
    }

    /// When the next attempt is due, if one is scheduled.
    pub fn next_attempt(&self) -> Option<Instant> {
        self.next
    }

    /// If an attempt is due at `now`, unschedules it (the attempt is now under way; its
    /// outcome calls [`succeeded`](Self::succeeded) or [`failed`](Self::failed)) and returns
    /// true.
    pub fn take_due(&mut self, now: Instant) -> bool {
        match self.next {
            Some(at) if at <= now => {
                self.next = None;
                true
            }
            _ => false,
        }
    }

    /// Failures since the last lasting success.
    pub fn failures(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn delays_double_from_half_a_second_and_stop_at_a_minute() {
        let policy = BackoffPolicy::default();
        let nominal: Vec<Duration> = (0..10).map(|a| policy.delay(a, 0.5)).collect();
        assert_eq!(
            nominal,
            [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0].map(secs).to_vec(),
            "jitter 0.5 is the nominal delay"
        );
        assert_eq!(policy.delay(u32::MAX, 0.5), secs(60.0), "huge attempt counts do not overflow");
    }

    #[test]
    fn jitter_spreads_a_quarter_either_way_but_never_past_the_cap() {
        let policy = BackoffPolicy::default();
        assert_eq!(policy.delay(0, 0.0), secs(0.375));
        assert_eq!(policy.delay(0, 1.0), secs(0.625));
        assert_eq!(policy.delay(3, 0.0), secs(3.0));
        assert_eq!(policy.delay(3, 1.0), secs(5.0));
        for attempt in 0..40 {
            for jitter in [-3.0, 0.0, 0.3, 0.99, 1.0, 7.0, f64::NAN] {
                let delay = policy.delay(attempt, jitter);
                assert!(delay <= policy.max, "attempt {attempt}, jitter {jitter}: {delay:?}");
                assert!(delay >= secs(0.375), "attempt {attempt}, jitter {jitter}: {delay:?}");
            }
        }
    }

    #[test]
    fn a_schedule_backs_off_while_failing_and_resets_after_success() {
        let start = Instant::now();
        let mut b = Backoff::due_now(BackoffPolicy::default(), start);
        assert!(b.take_due(start), "the first attempt is immediate");
        assert!(!b.take_due(start), "an attempt under way is not due again");

        // Fail four times in a row, each time as soon as the attempt is due.
        let mut now = start;
        let mut waits = Vec::new();
        for _ in 0..4 {
            b.failed(now, 0.5);
            let at = b.next_attempt().expect("scheduled after a failure");
            assert!(!b.take_due(at - secs(0.001)), "not due before its time");
            assert!(b.take_due(at));
            waits.push(at - now);
            now = at;
        }
        assert_eq!(waits, [0.5, 1.0, 2.0, 4.0].map(secs).to_vec());
        assert_eq!(b.failures(), 4);

        // Connected: nothing scheduled; a loss after a lasting connection starts again at half
        // a second.
        b.succeeded(now);
        assert_eq!(b.next_attempt(), None);
        let later = now + secs(10.0);
        b.failed(later, 0.5);
        assert_eq!(b.next_attempt(), Some(later + secs(0.5)));
        assert_eq!(b.failures(), 1);
    }

    #[test]
    fn a_connection_dropped_at_once_does_not_reset_the_schedule() {
        let mut now = Instant::now();
        let mut b = Backoff::due_now(BackoffPolicy::default(), now);
        let mut waits = Vec::new();
        for _ in 0..5 {
            assert!(b.take_due(now));
            b.succeeded(now);
            b.failed(now + secs(0.1), 0.5);
            let at = b.next_attempt().expect("scheduled");
            waits.push(at - (now + secs(0.1)));
            now = at;
        }
        assert_eq!(waits, [0.5, 1.0, 2.0, 4.0, 8.0].map(secs).to_vec());
    }

    #[test]
    fn a_target_connected_from_the_start_resets_once_it_lasted() {
        let now = Instant::now();
        let mut b = Backoff::idle(BackoffPolicy::default(), now);
        b.failed(now + secs(30.0), 0.5);
        assert_eq!(b.next_attempt(), Some(now + secs(30.5)));
    }

    #[test]
    fn repeated_reports_of_one_failure_do_not_stretch_the_schedule() {
        let now = Instant::now();
        let mut b = Backoff::idle(BackoffPolicy::default(), now);
        b.failed(now, 0.5);
        b.failed(now, 0.5);
        b.failed(now, 0.5);
        assert_eq!(b.next_attempt(), Some(now + secs(0.5)));
        assert_eq!(b.failures(), 1);
    }

    #[test]
    fn hurry_makes_an_attempt_due_without_forgetting_failures() {
        let now = Instant::now();
        let mut b = Backoff::due_now(BackoffPolicy::default(), now);
        assert!(b.take_due(now));
        for i in 0..6 {
            b.failed(now, 0.5);
            assert!(b.take_due(now + secs(60.0)), "failure {i}");
        }
        b.failed(now, 0.5);
        assert_eq!(b.next_attempt(), Some(now + secs(32.0)));
        b.hurry(now);
        assert!(b.take_due(now));
        b.failed(now, 0.5);
        assert_eq!(b.next_attempt(), Some(now + secs(60.0)), "still backed off after the hurried attempt failed");
    }

    #[test]
    fn the_cap_holds_for_any_policy() {
        let policy =
            BackoffPolicy { initial: Duration::from_secs(10), max: Duration::from_secs(15), ..Default::default() };
        assert_eq!(policy.delay(0, 1.0), Duration::from_secs_f64(12.5));
        assert_eq!(policy.delay(1, 1.0), Duration::from_secs(15));
        assert_eq!(policy.delay(5, 0.0), Duration::from_secs_f64(11.25));
    }
}
