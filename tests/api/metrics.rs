//! `/metrics`: the Prometheus text format, and the named series moving with what happens.

use std::time::Duration;

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;
use crate::support::{Scrape, scrape};

const HTTP: &str = "paperboy_http_requests_total";
const DURATION: &str = "paperboy_http_request_duration_seconds";
const UPSTREAM: &str = "paperboy_upstream_requests_total";
const LOOKUPS: &str = "paperboy_daily_list_lookups_total";
const REFRESHES: &str = "paperboy_refreshes_total";
const AGE: &str = "paperboy_newest_data_age_seconds";

#[tokio::test]
async fn metrics_are_prometheus_text_with_every_family_typed() {
    let app = spawn_app().await;
    // Families with labels appear with their first sample: one request, of any kind.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let scraped = Scrape::parse(&response.text().await.unwrap());
    for (family, kind) in [
        (HTTP, "counter"),
        (DURATION, "histogram"),
        (UPSTREAM, "counter"),
        (LOOKUPS, "counter"),
        (REFRESHES, "counter"),
        ("paperboy_storage_writes_total", "counter"),
        (AGE, "gauge"),
        ("paperboy_daily_lists_cached", "gauge"),
    ] {
        assert_eq!(scraped.kind(family), Some(kind), "{family}");
    }
    assert_eq!(scraped.get(AGE, &[]), -1.0, "no data yet");
    assert!(scraped.has(UPSTREAM, &[("outcome", "rate_limited")]));
}

#[tokio::test]
async fn the_named_series_move_with_requests_lookups_upstream_and_refreshes() {
    let app = spawn_app().await;
    let feed = "/feed.rss?days=1";

    assert_eq!(app.get(feed).await.status(), 200); // a miss, fetched
    assert_eq!(app.get(feed).await.status(), 200); // a hit
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .and(query_param("date", "2026-08-10"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    assert_eq!(
        app.get("/feed.rss?date=2026-08-10&days=1").await.status(),
        503
    );

    let s = scrape(&app.client, &app.address).await;
    let route = |r: &'static str, status: &'static str| [("route", r), ("status", status)];
    assert_eq!(s.get(HTTP, &route("/feed.rss", "200")), 2.0);
    assert_eq!(s.get(HTTP, &route("/feed.rss", "503")), 1.0);
    assert_eq!(s.get(HTTP, &route("unmatched", "404")), 1.0);
    assert_eq!(s.get(LOOKUPS, &[("result", "miss")]), 2.0);
    assert_eq!(s.get(LOOKUPS, &[("result", "hit")]), 1.0);
    assert_eq!(s.get(LOOKUPS, &[("result", "stale")]), 0.0);
    assert_eq!(s.get(UPSTREAM, &[("outcome", "ok")]), 1.0);
    assert_eq!(
        s.get(UPSTREAM, &[("outcome", "error_status")]),
        3.0,
        "the first try and two retries"
    );
    assert_eq!(s.get(AGE, &[]), 0.0);

    // The duration histogram: one observation per request, cumulative buckets.
    let rss = [("route", "/feed.rss")];
    assert_eq!(s.get(&format!("{DURATION}_count"), &rss), 3.0);
    let buckets = s.buckets(DURATION, &rss);
    assert!(buckets.len() > 5, "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, 3.0));
    assert!(s.get(&format!("{DURATION}_sum"), &rss) > 0.0);

    // Eleven minutes on, today's list is stale: served at once, refreshed behind.
    app.clock.advance(Duration::from_secs(11 * 60));
    assert_eq!(scrape(&app.client, &app.address).await.get(AGE, &[]), 660.0);
    assert_eq!(app.get(feed).await.status(), 200);
    eventually("the refresh is counted", || async {
        scrape(&app.client, &app.address)
            .await
            .get(REFRESHES, &[("outcome", "ok")])
            == 1.0
    })
    .await;
    let s = scrape(&app.client, &app.address).await;
    assert_eq!(s.get(LOOKUPS, &[("result", "stale")]), 1.0);
    assert_eq!(s.get(UPSTREAM, &[("outcome", "ok")]), 2.0);
    assert_eq!(s.get(AGE, &[]), 0.0);
    assert!(s.get(HTTP, &route("/metrics", "200")) >= 3.0);
}

#[tokio::test]
async fn a_429_and_an_unreadable_page_are_counted_as_such() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(query_param("date", "2026-08-14"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    Mock::given(method("GET"))
        .and(query_param("date", "2026-08-13"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    app.get("/feed.rss?days=1").await;
    app.get("/feed.rss?date=2026-08-13&days=1").await;
    let s = scrape(&app.client, &app.address).await;
    assert_eq!(s.get(UPSTREAM, &[("outcome", "unreadable")]), 1.0);
    assert_eq!(s.get(UPSTREAM, &[("outcome", "rate_limited")]), 1.0);
}
