//! Prometheus metrics, served at `/metrics` in the text exposition format.
//!
//! Each application owns its registry (no process-wide default), so that several apps in one
//! test process keep separate counts. Labels take a few fixed values each (route patterns, not
//! raw paths), so the number of series stays bounded whatever clients ask for.

use actix_web::http::StatusCode;
use std::sync::Arc;

use crate::telemetry::memory::Report;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request-duration buckets, in seconds: a cached feed takes about a millisecond, a cold one
/// waits on upstream for up to the upstream timeout.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How one HTTP request to upstream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    Ok,
    /// An answer other than 2xx and 429.
    ErrorStatus,
    /// Connection failure, timeout, or a body cut short.
    Transport,
    /// A 429.
    RateLimited,
    /// A 2xx whose body is not the expected JSON, or too large.
    Unreadable,
    /// A 3xx: never followed.
    Redirect,
    /// Not sent: the budget of requests per 5 minutes was spent.
    OverBudget,
}

impl UpstreamOutcome {
    const ALL: [UpstreamOutcome; 7] = [
        UpstreamOutcome::Ok,
        UpstreamOutcome::ErrorStatus,
        UpstreamOutcome::Transport,
        UpstreamOutcome::RateLimited,
        UpstreamOutcome::Unreadable,
        UpstreamOutcome::Redirect,
        UpstreamOutcome::OverBudget,
    ];

    fn label(self) -> &'static str {
        match self {
            UpstreamOutcome::Ok => "ok",
            UpstreamOutcome::ErrorStatus => "error_status",
            UpstreamOutcome::Transport => "transport",
            UpstreamOutcome::RateLimited => "rate_limited",
            UpstreamOutcome::Unreadable => "unreadable",
            UpstreamOutcome::Redirect => "redirect",
            UpstreamOutcome::OverBudget => "over_budget",
        }
    }
}

/// What a daily-list lookup by a reader found in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh copy.
    Hit,
    /// Nothing: the reader waits for upstream.
    Miss,
    /// A stale copy, served while a refresh runs.
    Stale,
}

impl Lookup {
    fn label(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Stale => "stale",
        }
    }
}

/// The application's metrics; cheap to clone (one shared registry).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    counters: Counters,
    gauges: Gauges,
}

/// The labelled counters.
struct Counters {
    http_requests: IntCounterVec,
    upstream_requests: IntCounterVec,
    lookups: IntCounterVec,
    refreshes: IntCounterVec,
    storage_writes: IntCounterVec,
    storage_reads: IntCounterVec,
    websub_deliveries: IntCounterVec,
}

/// The gauges, the histogram and the one unlabelled counter.
struct Gauges {
    memory: IntGaugeVec,
    http_duration: HistogramVec,
    newest_data_age: Gauge,
    lists_cached: IntGauge,
    builds_shed: IntCounter,
    render_cache_bytes: IntGauge,
    cluster_up: IntGauge,
    websub_subscriptions: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry with every series, the labelled ones at zero for each known label value
    /// (so that `rate()` has a starting point before the first event).
    ///
    /// Fails only if a definition below is invalid or repeated, which the unit tests would
    /// show at once.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let inner = Inner {
            counters: Counters::new(&registry)?,
            gauges: Gauges::new(&registry)?,
            registry,
        };
        inner.show_every_label();
        Ok(Metrics {
            inner: Arc::new(inner),
        })
    }

    /// One answered HTTP request.
    pub fn http_request(&self, route: &str, status: StatusCode, seconds: f64) {
        self.inner
            .counters
            .http_requests
            .with_label_values(&[route, status.as_str()])
            .inc();
        self.inner
            .gauges
            .http_duration
            .with_label_values(&[route])
            .observe(seconds);
    }

    pub fn upstream_request(&self, outcome: UpstreamOutcome) {
        self.inner
            .counters
            .upstream_requests
            .with_label_values(&[outcome.label()])
            .inc();
    }

    pub fn lookup(&self, lookup: Lookup) {
        self.inner
            .counters
            .lookups
            .with_label_values(&[lookup.label()])
            .inc();
    }

    pub fn refresh(&self, ok: bool) {
        self.inner
            .counters
            .refreshes
            .with_label_values(&[if ok { "ok" } else { "failed" }])
            .inc();
    }

    /// A refresh that ended otherwise than ok or failed (`shrunk`).
    pub fn refresh_outcome(&self, outcome: &'static str) {
        self.inner
            .counters
            .refreshes
            .with_label_values(&[outcome])
            .inc();
    }

    /// One read of a stored list: `ok`, `set_aside` or `failed`.
    pub fn storage_read(&self, outcome: &'static str) {
        self.inner
            .counters
            .storage_reads
            .with_label_values(&[outcome])
            .inc();
    }

    /// Bytes kept of `kind` (one of [`Report::kinds`]).
    pub fn set_memory(&self, kind: &str, bytes: u64) {
        self.inner
            .gauges
            .memory
            .with_label_values(&[kind])
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    pub fn storage_write(&self, ok: bool) {
        self.inner
            .counters
            .storage_writes
            .with_label_values(&[if ok { "ok" } else { "failed" }])
            .inc();
    }

    /// A feed build refused because the build pool stayed full.
    /// One delivery to a WebSub subscriber: `delivered`, `failed` or `gone`.
    pub fn websub_delivery(&self, outcome: &'static str) {
        self.inner
            .counters
            .websub_deliveries
            .with_label_values(&[outcome])
            .inc();
    }

    /// Active WebSub subscriptions now.
    pub fn set_websub_subscriptions(&self, count: usize) {
        self.inner
            .gauges
            .websub_subscriptions
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub fn build_shed(&self) {
        self.inner.gauges.builds_shed.inc();
    }

    /// Sets the gauges that describe the caches as they are now (called before each scrape).
    pub fn set_cache_state(
        &self,
        newest_data_age_seconds: Option<f64>,
        lists_cached: u64,
        render_cache_bytes: u64,
    ) {
        self.inner
            .gauges
            .render_cache_bytes
            .set(i64::try_from(render_cache_bytes).unwrap_or(i64::MAX));
        self.inner
            .gauges
            .newest_data_age
            .set(newest_data_age_seconds.unwrap_or(-1.0));
        self.inner
            .gauges
            .lists_cached
            .set(i64::try_from(lists_cached).unwrap_or(i64::MAX));
    }

    /// Whether the shared server answers (false without one).
    pub fn set_cluster_up(&self, up: bool) {
        self.inner.gauges.cluster_up.set(i64::from(up));
    }

    /// Every series, in the text exposition format.
    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        let mut out = Vec::with_capacity(8 * 1024);
        TextEncoder::new().encode(&self.inner.registry.gather(), &mut out)?;
        Ok(out)
    }
}

impl Counters {
    fn new(registry: &Registry) -> Result<Counters, prometheus::Error> {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            registered(registry, IntCounterVec::new(Opts::new(name, help), labels)?)
        };
        Ok(Counters {
            http_requests: counter(
                "paperboy_http_requests_total",
                "HTTP requests answered, by route pattern and status.",
                &["route", "status"],
            )?,
            upstream_requests: counter(
                "paperboy_upstream_requests_total",
                "HTTP requests sent to Hugging Face, by outcome.",
                &["outcome"],
            )?,
            lookups: counter(
                "paperboy_daily_list_lookups_total",
                "Daily-list lookups by readers: a fresh hit, a miss that waits for upstream, or a stale copy served during a refresh.",
                &["result"],
            )?,
            refreshes: counter(
                "paperboy_refreshes_total",
                "Refreshes of cached daily lists, by outcome.",
                &["outcome"],
            )?,
            storage_writes: counter(
                "paperboy_storage_writes_total",
                "Daily lists written to the data directory, by outcome.",
                &["outcome"],
            )?,
            storage_reads: counter(
                "paperboy_storage_reads_total",
                "Stored daily lists read from the data directory, by outcome: ok, set_aside (content that cannot be used, renamed .corrupt-<seconds>), failed (an I/O error: the file is left in place and read again next time).",
                &["outcome"],
            )?,
            websub_deliveries: counter(
                "paperboy_websub_deliveries_total",
                "Feeds pushed to WebSub subscribers, by outcome: delivered (a 2xx), failed (anything else, or no answer; retried after 1, 5, 30 and 120 minutes), gone (a 410: the subscription ends).",
                &["outcome"],
            )?,
        })
    }
}

impl Gauges {
    fn new(registry: &Registry) -> Result<Gauges, prometheus::Error> {
        Ok(Gauges {
            memory: registered(
                registry,
                IntGaugeVec::new(
                    Opts::new(
                        "paperboy_memory_bytes",
                        "Bytes kept in memory, by kind; every kind but recent_lists is weighed against cache.max_memory.",
                    ),
                    &["kind"],
                )?,
            )?,
            http_duration: registered(
                registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "paperboy_http_request_duration_seconds",
                        "Time to answer an HTTP request, by route pattern.",
                    )
                    .buckets(DURATION_BUCKETS.to_vec()),
                    &["route"],
                )?,
            )?,
            newest_data_age: registered(
                registry,
                Gauge::new(
                    "paperboy_newest_data_age_seconds",
                    "Seconds since the most recently fetched daily list in memory was fetched (-1 when none is).",
                )?,
            )?,
            lists_cached: registered(
                registry,
                IntGauge::new("paperboy_daily_lists_cached", "Daily lists held in memory.")?,
            )?,
            builds_shed: registered(
                registry,
                IntCounter::new(
                    "paperboy_builds_shed_total",
                    "Feed builds refused with a 503 because every build slot stayed busy for 2 s.",
                )?,
            )?,
            render_cache_bytes: registered(
                registry,
                IntGauge::new(
                    "paperboy_render_cache_bytes",
                    "Bytes held by the rendered-feed cache, every encoding counted (cache.max_memory bounds it).",
                )?,
            )?,
            cluster_up: registered(
                registry,
                IntGauge::new(
                    "paperboy_cluster_up",
                    "1 while the shared server (cluster.url) answers; 0 when it does not, or none is set.",
                )?,
            )?,
            websub_subscriptions: registered(
                registry,
                IntGauge::new(
                    "paperboy_websub_subscriptions",
                    "Active WebSub subscriptions (verified, lease not over).",
                )?,
            )?,
        })
    }
}

/// `collector`, registered with `registry`.
fn registered<C>(registry: &Registry, collector: C) -> Result<C, prometheus::Error>
where
    C: prometheus::core::Collector + Clone + 'static,
{
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

impl Inner {
    /// Every known label of every metric at zero, so that a scrape shows them before they
    /// first count.
    fn show_every_label(&self) {
        for outcome in UpstreamOutcome::ALL {
            self.counters
                .upstream_requests
                .with_label_values(&[outcome.label()]);
        }
        for lookup in [Lookup::Hit, Lookup::Miss, Lookup::Stale] {
            self.counters.lookups.with_label_values(&[lookup.label()]);
        }
        for outcome in ["ok", "failed"] {
            self.counters.refreshes.with_label_values(&[outcome]);
            self.counters.storage_writes.with_label_values(&[outcome]);
        }
        self.counters.refreshes.with_label_values(&["shrunk"]);
        for outcome in ["delivered", "failed", "gone"] {
            self.counters
                .websub_deliveries
                .with_label_values(&[outcome]);
        }
        for outcome in ["ok", "set_aside", "failed"] {
            self.counters.storage_reads.with_label_values(&[outcome]);
        }
        for kind in Report::kinds() {
            self.gauges.memory.with_label_values(&[kind]);
        }
        self.gauges.newest_data_age.set(-1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(metrics: &Metrics) -> String {
        String::from_utf8(metrics.render().unwrap()).unwrap()
    }

    #[test]
    fn every_series_is_there_from_the_start() {
        let out = text(&Metrics::new().unwrap());
        for line in [
            "paperboy_upstream_requests_total{outcome=\"rate_limited\"} 0",
            "paperboy_daily_list_lookups_total{result=\"stale\"} 0",
            "paperboy_refreshes_total{outcome=\"failed\"} 0",
            "paperboy_newest_data_age_seconds -1",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
        }
    }

    #[test]
    fn events_move_their_series() {
        let m = Metrics::new().unwrap();
        m.http_request("/feed.rss", StatusCode::OK, 0.003);
        m.http_request("/feed.rss", StatusCode::OK, 0.2);
        m.upstream_request(UpstreamOutcome::Transport);
        m.set_cache_state(Some(42.0), 3, 1024);
        let out = text(&m);
        for line in [
            "paperboy_http_requests_total{route=\"/feed.rss\",status=\"200\"} 2",
            "paperboy_http_request_duration_seconds_count{route=\"/feed.rss\"} 2",
            "paperboy_http_request_duration_seconds_bucket{route=\"/feed.rss\",le=\"0.005\"} 1",
            "paperboy_upstream_requests_total{outcome=\"transport\"} 1",
            "paperboy_newest_data_age_seconds 42",
            "paperboy_daily_lists_cached 3",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
        }
    }
}
