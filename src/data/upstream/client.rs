//! The Hugging Face daily-papers client: paging, bounded retries with backoff and jitter, a
//! rate-limit gate that a 429 closes for every date until its `Retry-After` passes, a budget
//! of requests per 5 minutes, and a concurrency limit. Items that cannot be read are skipped
//! and logged, never the whole day; a page with nothing readable fails the day. Redirects are
//! never followed: only the settings name the upstream.
//!
//! Errors say what happened without the upstream URL, since `/readyz` and error bodies show
//! them to anyone; the log lines name the URL.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, LOCATION, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde_json::value::RawValue;
use tokio::sync::Semaphore;
use url::Url;

use crate::common::clock::Clock;
use crate::data::cluster::Cluster;
use crate::data::paper::raw::RawItem;
use crate::data::upstream::budget::{BUDGET_WINDOW, Budget};
use crate::data::upstream::items::{Page, read_page};
use crate::data::upstream::{UpstreamSettings, is_loopback};
use crate::telemetry::metrics::{Metrics, UpstreamOutcome};

/// Items asked for per page; a shorter page is the last.
pub const PAGE_SIZE: usize = 100;
/// Pages fetched for one date at most: a longer day is served with its first
/// `MAX_PAGES * PAGE_SIZE` papers.
pub const MAX_PAGES: usize = 10;
/// Papers kept for one date at most.
pub const MAX_ITEMS: usize = MAX_PAGES * PAGE_SIZE;
/// First retry delay; doubled for each further retry, with jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// How long the gate stays closed after a 429 without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest `Retry-After` honoured, so a bogus header cannot stop refreshes for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// One date's list as fetched: the readable items, and each in the form received.
#[derive(Debug)]
pub struct FetchedDay {
    pub date: NaiveDate,
    pub items: Vec<RawItem>,
    /// The readable items exactly as upstream sent them (for storage).
    pub raw: Vec<Box<RawValue>>,
    /// Items that could not be read and were skipped.
    pub skipped: usize,
}

/// Why a date could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream is rate limiting us until {until}")]
    RateLimited { until: DateTime<Utc> },
    #[error("upstream answered {0}")]
    Status(u16),
    #[error("could not reach upstream: {0}")]
    Transport(String),
    #[error("upstream sent an unreadable page: {0}")]
    Body(String),
    #[error("upstream answered with a redirect, which paperboy does not follow")]
    Redirect,
    #[error("the upstream request budget is spent until {until}")]
    OverBudget { until: DateTime<Utc> },
    #[error("{0} is outside the days paperboy asks upstream for")]
    OutOfRange(NaiveDate),
}

impl UpstreamError {
    fn is_retryable(&self) -> bool {
        match self {
            UpstreamError::Status(s) => *s >= 500,
            UpstreamError::Transport(_) => true,
            _ => false,
        }
    }

    /// When a caller may usefully ask again, if upstream said so.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            UpstreamError::RateLimited { until } | UpstreamError::OverBudget { until } => {
                Some(*until)
            }
            _ => None,
        }
    }
}

/// The last upstream outcomes, for health reporting and logs.
#[derive(Debug, Clone, Default)]
pub struct UpstreamStatus {
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<(DateTime<Utc>, String)>,
}

/// The HTTP client for `GET /api/daily_papers`.
#[derive(Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    endpoint: String,
    token: Option<SecretString>,
    retries: u32,
    /// The largest page body accepted, after decompression.
    max_body: usize,
    /// No date before this is asked for.
    earliest: NaiveDate,
    budget: Budget,
    /// The budget all instances share, when a shared server is set (section 15).
    cluster: Option<Arc<Cluster>>,
    /// One request's time limit.
    timeout: Duration,
    permits: Semaphore,
    /// Closed (`Some`) until the moment a 429's `Retry-After` passes.
    gate: Mutex<Option<DateTime<Utc>>>,
    status: Mutex<UpstreamStatus>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
}

impl UpstreamClient {
    /// A client counting every request it sends, by outcome, in `metrics`.
    /// A client for `settings` that never asks for a date before `earliest`.
    pub fn new(
        settings: &UpstreamSettings,
        earliest: NaiveDate,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("paperboy/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .pool_idle_timeout(Duration::from_secs(60));
        if Url::parse(&settings.base_url).is_ok_and(|url| is_loopback(&url)) {
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| anyhow::anyhow!("Failed to build the upstream HTTP client: {e}"))?;
        Ok(Self {
            http,
            endpoint: format!("{}/api/daily_papers", settings.base_url),
            token: (!settings.token.expose_secret().is_empty()).then(|| settings.token.clone()),
            retries: settings.retries,
            max_body: usize::try_from(settings.max_body.as_u64()).unwrap_or(usize::MAX),
            earliest,
            budget: Budget::new(settings.budget),
            cluster: None,
            timeout: settings.timeout,
            permits: Semaphore::new(settings.max_concurrency),
            gate: Mutex::new(None),
            status: Mutex::new(UpstreamStatus::default()),
            clock,
            metrics,
        })
    }

    /// Counts upstream requests in the budget `cluster` shares with the other instances
    /// (while it can be reached; alone otherwise).
    pub fn with_cluster(mut self, cluster: Option<Arc<Cluster>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// One request's time limit (`upstream.timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long one fetch of a date may take, retries included: how long the cluster's lock
    /// on a date being fetched is held at most.
    pub fn fetch_bound(&self) -> Duration {
        self.timeout.saturating_mul(self.retries.saturating_add(2))
    }

    /// Takes one request from the budget: the cluster's while it answers (counted here too,
    /// so that an outage starts from what this instance sent), else this instance's.
    async fn take_budget(&self, always: bool) -> Result<(), DateTime<Utc>> {
        let now = self.clock.now();
        if let Some(cluster) = &self.cluster
            && let Some(taken) = cluster
                .take_budget(self.budget.limit(), BUDGET_WINDOW, now, always)
                .await
        {
            if taken.is_ok() {
                let _ = self.budget.take(now, true);
            }
            return taken;
        }
        self.budget.take(now, always)
    }

    /// The moment the rate-limit gate opens again, while it is closed.
    pub fn gate_closed_until(&self) -> Option<DateTime<Utc>> {
        let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        gate.filter(|until| *until > self.clock.now())
    }

    pub fn status(&self) -> UpstreamStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The first date ever asked for.
    pub fn earliest(&self) -> NaiveDate {
        self.earliest
    }

    /// Fetches every page of `date`'s list.
    pub async fn fetch_day(&self, date: NaiveDate) -> Result<FetchedDay, UpstreamError> {
        if date < self.earliest || date > self.clock.today() {
            return Err(UpstreamError::OutOfRange(date));
        }
        let result = self.fetch_pages(date).await;
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        match &result {
            Ok(day) => {
                status.last_success = Some(self.clock.now());
                tracing::info!(%date, items = day.items.len(), skipped = day.skipped, "fetched daily list");
            }
            // Refused by the budget: nothing was sent, and under a flood of date sweeps one
            // warning per refusal would flood the log too.
            Err(e @ UpstreamError::OverBudget { .. }) => {
                tracing::debug!(%date, error = %e, "not fetching the daily list: over budget");
            }
            Err(e) => {
                status.last_error = Some((self.clock.now(), e.to_string()));
                tracing::warn!(%date, error = %e, endpoint = %self.endpoint, "failed to fetch daily list");
            }
        }
        result
    }

    async fn fetch_pages(&self, date: NaiveDate) -> Result<FetchedDay, UpstreamError> {
        let mut day = FetchedDay {
            date,
            items: Vec::new(),
            raw: Vec::new(),
            skipped: 0,
        };
        let mut seen: HashSet<String> = HashSet::new();
        for page in 0..MAX_PAGES {
            let body = self.fetch_page_with_retries(date, page).await?;
            // Reading a large page takes milliseconds: not on an HTTP worker.
            let read = tokio::task::spawn_blocking(move || read_page(&body))
                .await
                .map_err(|e| UpstreamError::Body(format!("reading the page failed: {e}")))
                .and_then(|read| read.map_err(|e| UpstreamError::Body(e.to_string())));
            self.metrics.upstream_request(match &read {
                Ok(_) => UpstreamOutcome::Ok,
                Err(_) => UpstreamOutcome::Unreadable,
            });
            let read: Page = read?;
            let count = read.len();
            if read.unreadable > 0 {
                tracing::warn!(%date, page, skipped = read.unreadable, "skipped unreadable upstream items");
            }
            day.skipped += read.unreadable;
            for (item, raw) in read.items {
                if day.items.len() >= MAX_ITEMS {
                    break;
                }
                if seen.insert(item.paper.id.clone()) {
                    day.items.push(item);
                    day.raw.push(raw);
                }
            }
            if count > PAGE_SIZE {
                tracing::warn!(%date, page, count, "upstream ignored limit={PAGE_SIZE}; paging stops here");
                return Ok(day);
            }
            if count < PAGE_SIZE {
                return Ok(day);
            }
        }
        tracing::warn!(%date, kept = day.items.len(), "the daily list has more than {MAX_PAGES} pages; serving its first {MAX_ITEMS} papers");
        Ok(day)
    }

    async fn fetch_page_with_retries(
        &self,
        date: NaiveDate,
        page: usize,
    ) -> Result<Vec<u8>, UpstreamError> {
        let mut attempt = 0;
        loop {
            match self.fetch_page(date, page).await {
                Err(e) if e.is_retryable() && attempt < self.retries => {
                    let delay = backoff(attempt);
                    tracing::debug!(%date, page, attempt, ?delay, error = %e, "retrying upstream");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn fetch_page(&self, date: NaiveDate, page: usize) -> Result<Vec<u8>, UpstreamError> {
        if let Some(until) = self.gate_closed_until() {
            return Err(UpstreamError::RateLimited { until });
        }
        // Today's and yesterday's lists are what every reader gets: their refreshes always go.
        let always = date >= self.clock.today().pred_opt().unwrap_or(date);
        if let Err(until) = self.take_budget(always).await {
            self.metrics.upstream_request(UpstreamOutcome::OverBudget);
            return Err(UpstreamError::OverBudget { until });
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| UpstreamError::Transport("the client is shutting down".into()))?;
        // The gate may have closed while this request waited for a permit.
        if let Some(until) = self.gate_closed_until() {
            return Err(UpstreamError::RateLimited { until });
        }
        let result = self.request_page(date, page).await;
        let Err(error) = &result else {
            // Counted once the page is read.
            return result;
        };
        self.metrics.upstream_request(match error {
            UpstreamError::RateLimited { .. } => UpstreamOutcome::RateLimited,
            UpstreamError::Status(_) => UpstreamOutcome::ErrorStatus,
            UpstreamError::Body(_) => UpstreamOutcome::Unreadable,
            UpstreamError::Redirect => UpstreamOutcome::Redirect,
            UpstreamError::Transport(_)
            | UpstreamError::OverBudget { .. }
            | UpstreamError::OutOfRange(_) => UpstreamOutcome::Transport,
        });
        result
    }

    /// Sends one page request and reads its answer.
    async fn request_page(&self, date: NaiveDate, page: usize) -> Result<Vec<u8>, UpstreamError> {
        let mut request = self.http.get(&self.endpoint).query(&[
            ("date", date.format("%Y-%m-%d").to_string()),
            ("limit", PAGE_SIZE.to_string()),
            ("p", page.to_string()),
        ]);
        if let Some(token) = &self.token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!(
                "Bearer {}",
                token.expose_secret()
            ))
            .map_err(|_| UpstreamError::Transport("the token is not a valid header".into()))?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let mut response = request.send().await.map_err(|e| {
            tracing::debug!(error = %error_chain(&e), "upstream request failed");
            UpstreamError::Transport(error_chain(&e.without_url()))
        })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let until = self.clock.now() + retry_after(response.headers(), self.clock.now());
            let mut gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            *gate = Some(gate.map_or(until, |g| g.max(until)));
            tracing::warn!(%until, "upstream rate limit: pausing all upstream requests");
            return Err(UpstreamError::RateLimited { until });
        }
        if status.is_redirection() {
            let target = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>();
            tracing::warn!(%date, status = status.as_u16(), %target, endpoint = %self.endpoint, "upstream answered with a redirect; not following it");
            return Err(UpstreamError::Redirect);
        }
        if !status.is_success() {
            return Err(UpstreamError::Status(status.as_u16()));
        }
        // Counted after decompression, chunk by chunk, so that a gzip bomb or an endless body
        // costs at most `max_body` bytes.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| UpstreamError::Transport(error_chain(&e.without_url())))?
        {
            if body.len() + chunk.len() > self.max_body {
                tracing::warn!(%date, page, max_body = self.max_body, endpoint = %self.endpoint, "upstream page larger than upstream.max_body");
                return Err(UpstreamError::Body(format!(
                    "the page is larger than upstream.max_body ({} bytes)",
                    self.max_body
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Exponential backoff with jitter: about 200 ms, 400 ms, 800 ms... each scaled by 0.5..1.5.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE.saturating_mul(1 << attempt.min(6));
    base.mul_f64(rand::rng().random_range(0.5..1.5))
}

/// How long a 429 asks us to wait: `Retry-After` in seconds or as an HTTP date, bounded.
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> chrono::Duration {
    let wait = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let v = v.trim();
            if let Ok(secs) = v.parse::<u64>() {
                return Some(Duration::from_secs(secs));
            }
            let at: DateTime<Utc> = httpdate::parse_http_date(v).ok()?.into();
            Some((at - now).to_std().unwrap_or(Duration::ZERO))
        })
        .unwrap_or(DEFAULT_RETRY_AFTER)
        .min(MAX_RETRY_AFTER);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(60))
}

/// A reqwest error with its sources, since the top level alone rarely says what happened.
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: DateTime<Utc> = "2026-08-14T12:00:00Z".parse().unwrap();
        assert_eq!(
            retry_after(&headers("120"), now),
            chrono::Duration::seconds(120)
        );
        assert_eq!(
            retry_after(&headers("Fri, 14 Aug 2026 12:05:00 GMT"), now),
            chrono::Duration::seconds(300)
        );
        assert_eq!(
            retry_after(&headers("soon"), now),
            chrono::Duration::seconds(60)
        );
        assert_eq!(
            retry_after(&HeaderMap::new(), now),
            chrono::Duration::seconds(60)
        );
        assert_eq!(
            retry_after(&headers("999999999"), now),
            chrono::Duration::seconds(3600)
        );
    }

    #[test]
    fn backoff_grows_and_stays_jittered() {
        for attempt in 0..4 {
            let d = backoff(attempt);
            let base = BACKOFF_BASE * (1 << attempt);
            assert!(d >= base / 2 && d <= base * 3 / 2, "{attempt}: {d:?}");
        }
    }
}
