//! Sections 7 and 8: how paperboy uses upstream, and how fresh it keeps what it has.

use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// Mounts an upstream failure that wins over the fixtures.
async fn fail_upstream(app: &TestApp, template: ResponseTemplate, date: Option<&str>) {
    let mock = Mock::given(method("GET")).and(path("/api/daily_papers"));
    let mock = match date {
        Some(date) => mock.and(query_param("date", date)),
        None => mock,
    };
    mock.respond_with(template)
        .with_priority(1)
        .mount(&app.upstream)
        .await;
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_make_one_upstream_request_per_date() {
    let app = spawn_app().await;
    let requests = (0..50).map(|i| {
        let app = &app;
        async move {
            // Different formats and filters, same dates: one fetch per date all the same.
            let path = match i % 3 {
                0 => "/feed.rss?date=2026-08-12&days=4",
                1 => "/feed.atom?date=2026-08-12&days=4&min_upvotes=1",
                _ => "/feed.json?date=2026-08-12&days=4&q=model",
            };
            app.get(path).await.status()
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    for date in ["2026-08-09", "2026-08-10", "2026-08-11"] {
        assert_eq!(app.upstream_requests_for(date).await, 1, "{date}");
    }
    // 107 items: two pages, each asked once.
    assert_eq!(app.upstream_requests_for("2026-08-12").await, 2);
    assert_eq!(app.upstream_request_count().await, 5);
}

#[tokio::test]
async fn a_107_item_day_is_fetched_completely_over_two_pages() {
    let app = spawn_app().await;
    let ids = app.ids("/feed.rss?date=2026-08-12&days=1&limit=200").await;
    assert_eq!(ids.len(), 107);
    let mut pages: Vec<String> = app
        .upstream
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let q: std::collections::HashMap<_, _> = r.url.query_pairs().into_owned().collect();
            format!("{}/{}/{}", q["date"], q["limit"], q["p"])
        })
        .collect();
    pages.sort();
    assert_eq!(pages, ["2026-08-12/100/0", "2026-08-12/100/1"]);
}

#[tokio::test]
async fn requests_name_paperboy_and_carry_the_token_when_set() {
    let app = spawn_app_with(|s| s.upstream.token = "hf_secret".into()).await;
    app.get("/feed.rss?days=1").await;
    let requests = app.upstream.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.headers["authorization"], "Bearer hf_secret");
        assert_eq!(
            r.headers["user-agent"],
            concat!("paperboy/", env!("CARGO_PKG_VERSION"))
        );
    }

    let anonymous = spawn_app().await;
    anonymous.get("/feed.rss?days=1").await;
    let requests = anonymous.upstream.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
}

#[tokio::test]
async fn dates_after_today_are_never_requested() {
    let app = spawn_app().await;
    app.get("/feed.rss?days=30").await;
    let requests = app.upstream.received_requests().await.unwrap();
    assert_eq!(requests.len(), 30 + 1, "30 days, 08-12 on two pages");
    assert!(requests.iter().all(|r| {
        let date = r.url.query_pairs().find(|(k, _)| k == "date").unwrap().1;
        date.as_ref() <= "2026-08-14"
    }));
}

#[tokio::test]
async fn upstream_errors_are_retried_with_backoff() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let ids = app.ids("/feed.rss?days=1").await;
    assert_eq!(ids.len(), 6);
    assert_eq!(
        app.upstream_requests_for("2026-08-14").await,
        3,
        "two retries, then success"
    );
}

#[tokio::test]
async fn a_slow_upstream_times_out_and_is_retried_a_bounded_number_of_times() {
    let app = spawn_app_with(|s| {
        s.upstream.timeout = Duration::from_millis(200);
        s.upstream.retries = 1;
    })
    .await;
    fail_upstream(
        &app,
        ResponseTemplate::new(200)
            .set_body_json(Vec::<Value>::new())
            .set_delay(Duration::from_secs(3)),
        None,
    )
    .await;
    let response = app.get("/feed.rss?days=1").await;
    assert_eq!(response.status(), 503);
    assert_eq!(app.upstream_requests_for("2026-08-14").await, 2);
}

#[tokio::test]
async fn upstream_down_with_nothing_cached_is_a_503_with_retry_after() {
    let app = spawn_app().await;
    fail_upstream(&app, ResponseTemplate::new(500), None).await;
    let response = app.get("/feed.atom").await;
    assert_eq!(response.status(), 503);
    let retry_after: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);

    // While the dates cool down, more readers do not reach upstream.
    let before = app.upstream_request_count().await;
    assert_eq!(app.get("/feed.atom").await.status(), 503);
    assert_eq!(app.upstream_request_count().await, before);
}

#[tokio::test]
async fn some_days_missing_serves_the_days_that_are_available() {
    let app = spawn_app().await;
    fail_upstream(&app, ResponseTemplate::new(500), Some("2026-08-13")).await;
    let ids = app.ids("/feed.rss?limit=200").await;
    assert_eq!(ids.len(), 6 + 107);
    assert!(!ids.contains(&"2608.00165".to_owned()), "08-13 is missing");
}

#[tokio::test]
async fn an_unreadable_page_fails_that_day_only() {
    let app = spawn_app().await;
    fail_upstream(
        &app,
        ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"),
        Some("2026-08-14"),
    )
    .await;
    let ids = app.ids("/feed.rss?limit=200").await;
    assert_eq!(ids.len(), 7 + 107);
}

#[tokio::test]
async fn a_429_is_honoured_for_its_whole_retry_after_for_every_date() {
    let app = spawn_app().await;
    // Warm one day first: it must stay served while upstream is closed to us.
    let warm = app.ids("/feed.rss?date=2026-08-14&days=1").await;
    assert_eq!(warm.len(), 6);

    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let response = app.get("/feed.rss?date=2026-08-13&days=1").await;
    assert_eq!(response.status(), 503);
    assert_eq!(header(&response, "retry-after"), "120");
    let after_429 = app.upstream_request_count().await;

    // Other dates are not asked for while the gate is closed; cached data is served.
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(
        app.get("/feed.rss?date=2026-08-10&days=1").await.status(),
        503
    );
    assert_eq!(app.ids("/feed.rss?date=2026-08-14&days=1").await, warm);
    app.clock.advance(Duration::from_secs(59));
    let response = app.get("/feed.rss?date=2026-08-11&days=1").await;
    assert_eq!(response.status(), 503);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(
        app.upstream_request_count().await,
        after_429,
        "nothing sent while closed"
    );

    // Once Retry-After has passed, upstream is asked again.
    app.clock.advance(Duration::from_secs(2));
    assert_eq!(app.ids("/feed.rss?date=2026-08-13&days=1").await.len(), 7);
    assert!(app.upstream_request_count().await > after_429);
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_honoured() {
    let app = spawn_app().await;
    fail_upstream(
        &app,
        ResponseTemplate::new(429).insert_header("retry-after", "Fri, 14 Aug 2026 12:05:00 GMT"),
        None,
    )
    .await;
    let response = app.get("/feed.rss?days=1").await;
    assert_eq!(response.status(), 503);
    assert_eq!(header(&response, "retry-after"), "300");
}

#[tokio::test]
async fn a_failing_refresh_keeps_the_old_list_in_service() {
    let app = spawn_app().await;
    let first = app.get("/feed.json?days=1").await;
    let etag = header(&first, "etag");
    let body = first.bytes().await.unwrap();

    fail_upstream(&app, ResponseTemplate::new(503), None).await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let before = app.upstream_request_count().await;
    let stale = app.get("/feed.json?days=1").await;
    assert_eq!(stale.status(), 200, "a stale list is served at once");
    assert_eq!(header(&stale, "etag"), etag);

    // The background refresh tries (with its retries) and fails.
    eventually("the refresh has failed", || async {
        app.upstream_request_count().await >= before + 3
    })
    .await;
    let after = app.get("/feed.json?days=1").await;
    assert_eq!(after.status(), 200);
    assert_eq!(after.bytes().await.unwrap(), body);
}

fn bump_upvotes(items: &mut [Value]) {
    for item in items {
        let upvotes = item["paper"]["upvotes"].as_u64().unwrap();
        item["paper"]["upvotes"] = Value::from(upvotes + 100);
    }
}

#[tokio::test]
async fn a_changed_list_shows_up_after_its_ttl_and_moves_last_modified() {
    let app = spawn_app().await;
    let path = "/feed.json?days=1";
    let first = app.get(path).await;
    let last_modified = header(&first, "last-modified");
    let etag = header(&first, "etag");

    let mut items = app.days.get("2026-08-14");
    bump_upvotes(&mut items);
    app.days.set("2026-08-14", items);

    // Still fresh: nothing changes, upstream is not asked.
    app.clock.advance(Duration::from_secs(9 * 60));
    let fresh = app.get(path).await;
    assert_eq!(header(&fresh, "etag"), etag);
    assert_eq!(app.upstream_requests_for("2026-08-14").await, 1);

    // Past the 10-minute TTL: served stale once, refreshed in the background.
    app.clock.advance(Duration::from_secs(2 * 60));
    let stale = app.get(path).await;
    assert_eq!(header(&stale, "etag"), etag);
    eventually("the new list is served", || async {
        header(&app.get(path).await, "etag") != etag
    })
    .await;
    let changed = app.get(path).await;
    assert_eq!(
        header(&changed, "last-modified"),
        "Fri, 14 Aug 2026 12:11:00 GMT"
    );
    assert_ne!(header(&changed, "last-modified"), last_modified);
    let feed: Value = changed.json().await.unwrap();
    assert_eq!(feed["items"][0]["_paperboy"]["upvotes"], 194);
}

#[tokio::test]
async fn an_unchanged_list_keeps_its_last_modified_after_a_refresh() {
    let app = spawn_app().await;
    let path = "/feed.rss?days=1";
    let first = app.get(path).await;
    let last_modified = header(&first, "last-modified");
    let etag = header(&first, "etag");

    app.clock.advance(Duration::from_secs(11 * 60));
    app.get(path).await;
    eventually("the refresh has run", || async {
        app.upstream_requests_for("2026-08-14").await >= 2
    })
    .await;
    // Let the refreshed copy land in the cache, then look again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = app.get(path).await;
    assert_eq!(header(&again, "last-modified"), last_modified);
    assert_eq!(header(&again, "etag"), etag);
    // And it is fresh again: no further upstream request.
    app.get(path).await;
    assert_eq!(app.upstream_requests_for("2026-08-14").await, 2);
}

#[tokio::test]
async fn older_lists_stay_fresh_longer() {
    let app = spawn_app().await;
    let path = "/feed.rss?date=2026-08-05&days=1";
    app.get(path).await;
    // A list 9 days old is fresh for 24 hours.
    app.clock.advance(Duration::from_secs(23 * 3600));
    app.get(path).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.upstream_requests_for("2026-08-05").await, 1);
    app.clock.advance(Duration::from_secs(2 * 3600));
    app.get(path).await;
    eventually("the old list is refreshed", || async {
        app.upstream_requests_for("2026-08-05").await == 2
    })
    .await;
}
