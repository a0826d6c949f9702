//! Reconnecting politely. While PostgreSQL restarts, every request that finds no idle
//! connection would try to open one at once, and fail at once: a busy server tried
//! some 120 times a second. After a failed attempt the pool's next attempt waits, for
//! twice as long after each failure in a row (from [`BASE`], capped at [`CAP`]), with
//! jitter so that many servers do not come back in step. Requests in that window that
//! would need a new connection fail at once with the time left, without a connection
//! attempt; an idle connection is still served. The first success ends the back-off.

use crate::Result;
use crate::error::StoreError;
use deadpool_postgres::{Object, Pool, PoolError};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The wait after the first failure (before jitter).
pub(crate) const BASE: Duration = Duration::from_millis(100);
/// The longest wait.
pub(crate) const CAP: Duration = Duration::from_secs(5);

/// The wait after the `failures`-th failed attempt in a row: `BASE · 2^(failures − 1)`,
/// at most [`CAP`], of which `unit` (in [0, 1)) keeps between half and all ("equal
/// jitter": never less than half the schedule, never more than it).
pub(crate) fn delay(failures: u32, unit: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(32) as i32;
    let ceiling = (BASE.as_secs_f64() * 2f64.powi(doublings)).min(CAP.as_secs_f64());
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Duration::from_secs_f64(ceiling * (0.5 + 0.5 * unit))
}

/// A uniform draw in [0, 1) from the system's random source (0.5 if it fails).
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / 4_294_967_296.0,
        Err(_) => 0.5,
    }
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    until: Option<Instant>,
}

/// The back-off of one pool.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// True while some attempt has failed since the last success (the fast path reads
    /// only this).
    failing: AtomicBool,
    state: Mutex<State>,
}

impl Backoff {
    /// How long until a new connection may be attempted, if it may not be now.
    pub(crate) fn closed_for(&self, now: Instant) -> Option<Duration> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .until
            .and_then(|u| u.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Records a failed attempt at `now`; returns the wait before the next one.
    pub(crate) fn failed(&self, now: Instant, unit: f64) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Attempts already under way when the window opened count once.
        if state.until.is_some_and(|u| u > now) {
            return state.until.map_or(Duration::ZERO, |u| u - now);
        }
        state.failures = state.failures.saturating_add(1);
        let wait = delay(state.failures, unit);
        state.until = Some(now + wait);
        self.failing.store(true, Ordering::Release);
        wait
    }

    /// Records a connection that works: no more waiting.
    pub(crate) fn succeeded(&self) {
        if self.failing.swap(false, Ordering::AcqRel) {
            *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::default();
        }
    }
}

/// A connection from `pool`, minding the back-off.
pub(crate) async fn get(pool: &Pool, backoff: &Backoff) -> Result<Object> {
    // An idle connection needs no attempt; only a new one waits out the back-off.
    if pool.status().available == 0
        && let Some(left) = backoff.closed_for(Instant::now())
    {
        return Err(StoreError::Database(format!(
            "the database is unreachable; the next connection attempt is in {} ms",
            left.as_millis().max(1)
        )));
    }
    match pool.get().await {
        Ok(client) => {
            backoff.succeeded();
            Ok(client)
        }
        Err(e @ PoolError::Backend(_)) => {
            let wait = backoff.failed(Instant::now(), jitter());
            tracing::warn!(
                "cannot connect to PostgreSQL ({e}); next attempt in {} ms",
                wait.as_millis()
            );
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_doubles_to_the_cap_with_jitter_within_half() {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        // Without jitter's spread: 100, 200, 400 … ms, then 5 s for good.
        let ceilings: Vec<f64> = (1..=9).map(|n| ms(delay(n, 1.0)).round()).collect();
        assert_eq!(
            ceilings,
            [
                100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 5000.0, 5000.0, 5000.0
            ]
        );
        for n in [0, 1, 2, 5, 6, 7, 10, 31, 32, 33, 1000, u32::MAX] {
            for u in [0.0, 0.25, 0.5, 0.999, 1.0, -3.0, 7.0, f64::NAN] {
                let d = delay(n, u);
                let ceiling = delay(n, 1.0);
                assert!(d <= CAP && d <= ceiling, "{n} {u}: {d:?}");
                assert!(d * 2 >= ceiling, "{n} {u}: at least half the schedule");
            }
        }
        assert_eq!(delay(1, 0.0), Duration::from_millis(50));
        // Jitter spreads servers that fail together.
        assert_ne!(delay(4, 0.1), delay(4, 0.9));
    }

    #[test]
    fn an_outage_costs_a_handful_of_attempts_not_thousands() {
        // Worst case, every jitter draw the shortest: attempts in one minute down.
        let (mut t, mut n) = (Duration::ZERO, 0u32);
        while t < Duration::from_secs(60) {
            n += 1;
            t += delay(n, 0.0);
        }
        assert!(n <= 30, "{n} attempts in a minute (was ~7,200)");
        assert!(n >= 20, "{n}: still trying every few seconds");
    }

    #[test]
    fn failures_open_a_window_and_a_success_closes_it() {
        let b = Backoff::default();
        let t0 = Instant::now();
        assert_eq!(b.closed_for(t0), None);
        let w1 = b.failed(t0, 1.0);
        assert_eq!(w1, BASE);
        assert_eq!(b.closed_for(t0), Some(BASE));
        assert!(b.closed_for(t0 + BASE / 2).is_some());
        assert_eq!(b.closed_for(t0 + BASE), None, "then one attempt may go");
        // A failure inside the window (an attempt already under way) does not double.
        assert_eq!(b.failed(t0 + BASE / 2, 1.0), BASE / 2);
        let w2 = b.failed(t0 + BASE, 1.0);
        assert_eq!(w2, 2 * BASE);
        b.succeeded();
        assert_eq!(b.closed_for(t0 + BASE), None);
        assert_eq!(b.failed(t0 + 2 * BASE, 1.0), BASE, "counting starts over");
    }
}
