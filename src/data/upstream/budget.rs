//! The upstream request budget: at most N requests in any 5 minutes, so that no stranger
//! sweeping dates decides how often paperboy asks Hugging Face (which allows about 500 per IP
//! per 5 minutes, and bans beyond).
//!
//! A sliding window of the send times of the last requests. Requests that must always go
//! (refreshes of today and yesterday) are counted too, so that they use up the budget of the
//! others first.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// The span the budget is counted over.
pub const BUDGET_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// How many requests went out recently.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    sent: Mutex<VecDeque<DateTime<Utc>>>,
}

impl Budget {
    pub fn new(limit: u32) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).max(1);
        Self {
            limit,
            sent: Mutex::new(VecDeque::with_capacity(limit.min(4096))),
        }
    }

    /// Takes one request from the budget at `now`: always when `always` is set, otherwise
    /// only while fewer than the limit went out in the last 5 minutes. When refused, says when
    /// the oldest counted request leaves the window.
    pub fn take(&self, now: DateTime<Utc>, always: bool) -> Result<(), DateTime<Utc>> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        while sent.front().is_some_and(|at| *at + BUDGET_WINDOW <= now) {
            sent.pop_front();
        }
        if !always && sent.len() >= self.limit {
            let oldest = sent.front().copied().unwrap_or(now);
            return Err(oldest + BUDGET_WINDOW);
        }
        sent.push_back(now);
        // Requests that always go are few (two dates a refresh tick); this only keeps the
        // queue bounded should a clock stand still.
        while sent.len() > self.limit.saturating_mul(2).max(16) {
            sent.pop_front();
        }
        Ok(())
    }

    /// At most this many requests in any 5 minutes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Requests counted in the last 5 minutes.
    pub fn used(&self, now: DateTime<Utc>) -> usize {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter().filter(|at| **at + BUDGET_WINDOW > now).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64, second: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::minutes(minute) + TimeDelta::seconds(second)
    }

    #[test]
    fn refuses_beyond_the_limit_until_the_oldest_request_leaves_the_window() {
        let budget = Budget::new(3);
        for s in 0..3 {
            budget.take(at(0, s), false).unwrap();
        }
        assert_eq!(budget.take(at(1, 0), false), Err(at(5, 0)));
        assert_eq!(budget.used(at(1, 0)), 3);
        budget.take(at(5, 0), false).unwrap();
        assert_eq!(budget.take(at(5, 0), false), Err(at(5, 1)));
    }

    #[test]
    fn requests_that_always_go_go_and_count() {
        let budget = Budget::new(2);
        budget.take(at(0, 0), true).unwrap();
        budget.take(at(0, 1), true).unwrap();
        budget.take(at(0, 2), true).unwrap();
        assert!(budget.take(at(0, 3), false).is_err());
        assert_eq!(budget.used(at(0, 3)), 3);
    }
}
