//! `paperboy fetch [--from DATE] [--to DATE] [--force]`: fills the data directory with the
//! daily lists of a range of dates, through the store, so with the server's client, budget,
//! retries, `Retry-After` gate and storage. Lists stored and fresh are skipped; a wait the
//! budget or a 429 asks for (up to [`MAX_WAIT`]) is waited out rather than counted as a
//! failure; Ctrl-C stops at once, keeping every day already written (writes are atomic).

use std::future::Future;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;

use crate::app::state::AppState;
use crate::commands::progress::Progress;
use crate::commands::{Exit, UsageError};
use crate::data::store::{BackfillError, Backfilled};
use crate::data::upstream::UpstreamSettings;
use crate::data::upstream::client::UpstreamError;
use crate::query::limits::FeedSettings;

/// The longest wait for the upstream budget or a `Retry-After` that a date sits out; a longer
/// one fails the date (a later run picks it up).
pub const MAX_WAIT: Duration = Duration::from_secs(10 * 60);
/// A wait ending this long after the last one noted is noted again.
const NOTE_AGAIN_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// Waits one date sits out at most, however short each.
const MAX_WAITS_PER_DATE: usize = 20;

/// What `paperboy fetch` is asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub force: bool,
}

/// An inclusive range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// The range `--from` and `--to` ask for: by default the last `feeds.max_days` days up to
    /// `--to` (or today); `--from` alone runs up to today. A date given before
    /// `feeds.earliest_date` or after today is refused; a default start is cut at
    /// `feeds.earliest_date`.
    pub fn resolve(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
        feeds: &FeedSettings,
    ) -> Result<DateRange, UsageError> {
        let earliest = feeds.earliest_date;
        for (flag, date) in [("--from", from), ("--to", to)] {
            match date {
                Some(d) if d < earliest => {
                    return Err(UsageError(format!(
                        "{flag} {d} is before the first Daily Papers ({earliest}, \
                         feeds.earliest_date); give {earliest} or later"
                    )));
                }
                Some(d) if d > today => {
                    return Err(UsageError(format!(
                        "{flag} {d} is after today ({today}, UTC): there is no list for it yet"
                    )));
                }
                _ => {}
            }
        }
        let to = to.unwrap_or(today);
        let back = chrono::Days::new(u64::from(feeds.max_days.saturating_sub(1)));
        let from =
            from.unwrap_or_else(|| to.checked_sub_days(back).unwrap_or(earliest).max(earliest));
        if from > to {
            return Err(UsageError(format!(
                "--from {from} is after --to {to}; give the older date as --from"
            )));
        }
        Ok(DateRange { from, to })
    }

    /// Every date of the range, newest first (a run cut short keeps the most recent days).
    pub fn dates(&self) -> Vec<NaiveDate> {
        self.to
            .iter_days()
            .rev()
            .take_while(|d| *d >= self.from)
            .collect()
    }
}

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Dates fetched and written.
    pub fetched: usize,
    /// Papers in the fetched dates.
    pub papers: usize,
    /// Dates skipped: stored already, and fresh.
    pub stored: usize,
    /// Dates that could not be fetched (or written), oldest first, with why.
    pub failed: Vec<(NaiveDate, String)>,
    /// Dates not reached because the run was stopped.
    pub not_done: usize,
    pub interrupted: bool,
}

impl Fetched {
    /// `fetched N days (P papers), S already stored, F failed`.
    pub fn summary(&self) -> String {
        format!(
            "fetched {} days ({} papers), {} already stored, {} failed",
            self.fetched,
            self.papers,
            self.stored,
            self.failed.len()
        )
    }

    pub fn exit(&self) -> Exit {
        if self.interrupted {
            Exit::Interrupted
        } else if self.failed.is_empty() {
            Exit::Success
        } else {
            Exit::Failed
        }
    }

    /// The failed dates (to `err`, one per line), what an interruption left, then the summary
    /// line (to `out`).
    pub fn report(&self, out: &mut dyn Write, err: &mut dyn Write) {
        for (date, why) in &self.failed {
            let _ = writeln!(err, "failed: {date}: {why}");
        }
        if self.interrupted {
            let _ = writeln!(
                err,
                "interrupted: {} dates not fetched; every date counted as fetched is written",
                self.not_done
            );
        }
        let _ = writeln!(out, "{}", self.summary());
    }
}

/// `paperboy fetch`: the range of `options`, into the data directory. `progress` is made for
/// the number of dates; `stop` resolving stops the run.
pub async fn fetch(
    state: &AppState,
    options: &FetchOptions,
    progress: impl FnOnce(usize) -> Progress,
    stop: impl Future<Output = ()>,
) -> Result<Fetched, UsageError> {
    if state.settings.data_dir().is_none() {
        return Err(UsageError(
            "paperboy fetch fills the data directory, and storage.data_dir is empty; set it \
             (--data-dir DIR or PAPERBOY_STORAGE__DATA_DIR)"
                .to_owned(),
        ));
    }
    let range = DateRange::resolve(
        options.from,
        options.to,
        state.clock.today(),
        &state.settings.feeds,
    )?;
    let dates = range.dates();
    let progress = progress(dates.len());
    Ok(fetch_dates(state, &dates, options.force, &progress, stop).await)
}

/// Brings every date of `dates` in, at most `upstream.max_concurrency` at once, until done or
/// until `stop` resolves.
pub async fn fetch_dates(
    state: &AppState,
    dates: &[NaiveDate],
    force: bool,
    progress: &Progress,
    stop: impl Future<Output = ()>,
) -> Fetched {
    let concurrency = state.settings.upstream.max_concurrency.max(1);
    let noted_wait = Mutex::new(None);
    let mut work = futures_util::stream::iter(dates.iter().copied())
        .map(|date| fetch_one(state, date, force, progress, &noted_wait))
        .buffer_unordered(concurrency);
    let mut outcome = Fetched::default();
    let mut finished = 0;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => {
                outcome.interrupted = true;
                break;
            }
            next = work.next() => {
                let Some((date, result)) = next else { break };
                finished += 1;
                match result {
                    // A past day upstream would shrink keeps its stored copy (the store warns).
                    Ok(Backfilled::Stored | Backfilled::Shrunk { .. }) => {
                        outcome.stored += 1;
                        progress.advance(0);
                    }
                    Ok(Backfilled::Fetched { papers }) => {
                        outcome.fetched += 1;
                        outcome.papers += papers;
                        progress.advance(papers);
                    }
                    Err(e) => {
                        outcome.failed.push((date, e.to_string()));
                        progress.advance(0);
                    }
                }
            }
        }
    }
    outcome.not_done = dates.len() - finished;
    outcome.failed.sort();
    progress.finish();
    outcome
}

/// One date, waiting out the budget or a `Retry-After` when that is worth it.
async fn fetch_one(
    state: &AppState,
    date: NaiveDate,
    force: bool,
    progress: &Progress,
    noted_wait: &Mutex<Option<DateTime<Utc>>>,
) -> (NaiveDate, Result<Backfilled, BackfillError>) {
    let mut waits = 0;
    loop {
        let result = state.store.backfill(date, force).await;
        let wait = match &result {
            Err(e) if waits < MAX_WAITS_PER_DATE => e
                .retry_at()
                .and_then(|until| worth_waiting(until, state.clock.now()).map(|w| (until, w))),
            _ => None,
        };
        let Some((until, wait)) = wait else {
            return (date, result);
        };
        {
            // One note per wait, not one per date waiting (or per request leaving the
            // budget's window).
            let mut noted = noted_wait.lock().unwrap_or_else(|e| e.into_inner());
            if noted.is_none_or(|n| until > n + NOTE_AGAIN_AFTER) {
                *noted = Some(until);
                if let Err(e) = &result {
                    progress.note(&wait_note(e, wait, until, &state.settings.upstream));
                }
            }
        }
        tokio::time::sleep(wait).await;
        waits += 1;
    }
}

/// The line said when dates wait: why, how long, until when.
fn wait_note(
    error: &BackfillError,
    wait: Duration,
    until: DateTime<Utc>,
    upstream: &UpstreamSettings,
) -> String {
    let why = match error {
        BackfillError::Upstream(UpstreamError::OverBudget { .. }) => format!(
            "the upstream budget is spent (upstream.budget: {} requests in any 5 minutes)",
            upstream.budget
        ),
        BackfillError::Upstream(UpstreamError::RateLimited { .. }) => {
            "Hugging Face asked to wait (429, Retry-After)".to_owned()
        }
        other => other.to_string(),
    };
    format!(
        "{why}: waiting {} s, until {} UTC",
        wait.as_secs().max(1),
        until.format("%H:%M:%S")
    )
}

/// How long to wait for `until`, if it is soon enough to be worth it.
fn worth_waiting(until: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
    let wait = (until - now).to_std().unwrap_or(Duration::ZERO);
    // A little past the moment, so the budget's window has surely moved.
    (wait <= MAX_WAIT).then_some(wait + Duration::from_millis(200))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn resolve(from: Option<&str>, to: Option<&str>) -> Result<DateRange, UsageError> {
        DateRange::resolve(
            from.map(date),
            to.map(date),
            date("2026-08-14"),
            &FeedSettings::default(),
        )
    }

    #[test]
    fn the_default_range_is_the_last_max_days_days() {
        let range = resolve(None, None).unwrap();
        assert_eq!(range.from, date("2026-07-16"));
        assert_eq!(range.to, date("2026-08-14"));
        assert_eq!(range.dates().len(), 30);
        assert_eq!(range.dates()[0], date("2026-08-14"), "newest first");
        let range = resolve(Some("2026-08-01"), None).unwrap();
        assert_eq!(
            (range.from, range.to),
            (date("2026-08-01"), date("2026-08-14"))
        );
        let range = resolve(None, Some("2023-05-10")).unwrap();
        assert_eq!(
            range.from,
            date("2023-05-01"),
            "cut at the first Daily Papers"
        );
    }

    #[test]
    fn dates_out_of_range_are_refused_naming_the_flag() {
        let e = resolve(Some("2023-04-30"), None).unwrap_err();
        assert!(e.0.starts_with("--from 2023-04-30 is before"), "{e}");
        let e = resolve(None, Some("2026-08-15")).unwrap_err();
        assert!(e.0.starts_with("--to 2026-08-15 is after today"), "{e}");
        let e = resolve(Some("2026-08-10"), Some("2026-08-09")).unwrap_err();
        assert!(e.0.contains("after --to"), "{e}");
        assert!(resolve(Some("2026-08-14"), Some("2026-08-14")).is_ok());
    }

    #[test]
    fn waits_are_taken_only_when_short() {
        let now: DateTime<Utc> = "2026-08-14T12:00:00Z".parse().unwrap();
        let soon = now + chrono::TimeDelta::minutes(4);
        assert!(worth_waiting(soon, now).is_some_and(|w| w >= Duration::from_secs(240)));
        assert_eq!(worth_waiting(now + chrono::TimeDelta::hours(1), now), None);
        assert!(worth_waiting(now - chrono::TimeDelta::seconds(5), now).is_some());
    }

    #[test]
    fn a_wait_says_why_and_until_when() {
        let until: DateTime<Utc> = "2026-08-14T12:05:00.123456Z".parse().unwrap();
        let budget = BackfillError::Upstream(UpstreamError::OverBudget { until });
        let note = wait_note(
            &budget,
            Duration::from_secs(300),
            until,
            &UpstreamSettings::default(),
        );
        assert_eq!(
            note,
            "the upstream budget is spent (upstream.budget: 120 requests in any 5 minutes): \
             waiting 300 s, until 12:05:00 UTC"
        );
        let limited = BackfillError::Upstream(UpstreamError::RateLimited { until });
        let note = wait_note(
            &limited,
            Duration::from_secs(30),
            until,
            &UpstreamSettings::default(),
        );
        assert!(note.starts_with("Hugging Face asked to wait (429, Retry-After): waiting 30 s"));
    }

    #[test]
    fn the_summary_line_and_exit_code() {
        let mut fetched = Fetched {
            fetched: 3,
            papers: 61,
            stored: 2,
            ..Fetched::default()
        };
        assert_eq!(
            fetched.summary(),
            "fetched 3 days (61 papers), 2 already stored, 0 failed"
        );
        assert_eq!(fetched.exit(), Exit::Success);
        fetched
            .failed
            .push((date("2026-08-12"), "upstream answered 500".into()));
        assert_eq!(fetched.exit(), Exit::Failed);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        fetched.report(&mut out, &mut err);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "failed: 2026-08-12: upstream answered 500\n"
        );
        assert!(String::from_utf8(out).unwrap().ends_with("1 failed\n"));
        fetched.interrupted = true;
        assert_eq!(fetched.exit(), Exit::Interrupted);
    }
}
