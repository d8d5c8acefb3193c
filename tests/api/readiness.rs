//! `/readyz`, start-up warm-up and the refresh timer.

use std::time::Duration;

use paperboy::app::background::{Background, refresh_recent};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::support::scrape;

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn readyz_is_503_during_warm_up_then_200_even_though_upstream_never_answered() {
    // An upstream that hangs: warm-up waits for the upstream timeout, then gives up.
    let hanging = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&hanging)
        .await;
    let app = spawn_app_at(NOW, Background::On, |s| {
        s.upstream.base_url = hanging.uri();
        s.upstream.timeout = Duration::from_secs(3);
        s.upstream.retries = 0;
    })
    .await;

    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "warming_up");
    assert_eq!(app.get("/healthz").await.status(), 200, "alive meanwhile");

    let mut ready = None;
    for _ in 0..500 {
        let (status, body) = readyz(&app).await;
        if status == 200 {
            ready = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = ready.expect("ready once warm-up gave up on upstream");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["newest_data_age_seconds"], Value::Null);
    assert_eq!(body["upstream"]["last_success"], Value::Null);
    assert_eq!(body["upstream"]["last_error"]["at"], "2026-08-14T12:00:00Z");
    assert!(
        body["upstream"]["last_error"]["error"]
            .as_str()
            .unwrap()
            .contains("could not reach upstream"),
        "{body}"
    );
}

#[tokio::test]
async fn warm_up_fetches_the_default_days_and_readyz_tells_how_old_the_data_is() {
    let app = spawn_app_at(NOW, Background::On, |_| {}).await;
    eventually("ready", || async { readyz(&app).await.0 == 200 }).await;
    for (date, requests) in [
        ("2026-08-14", 1),
        ("2026-08-13", 1),
        ("2026-08-12", 2),
        ("2026-08-11", 0),
    ] {
        assert_eq!(app.upstream_requests_for(date).await, requests, "{date}");
    }
    let (_, body) = readyz(&app).await;
    assert_eq!(body["newest_data_age_seconds"], 0);
    assert_eq!(body["newest_data_fetched_at"], "2026-08-14T12:00:00Z");
    assert_eq!(body["daily_lists_cached"], 3);
    assert_eq!(body["upstream"]["last_success"], "2026-08-14T12:00:00Z");
    assert_eq!(body["upstream"]["last_error"], Value::Null);

    // A reader's first request finds the lists warm: no upstream request, a cache hit.
    let before = app.upstream_request_count().await;
    assert_eq!(app.get("/feed.rss").await.status(), 200);
    assert_eq!(app.upstream_request_count().await, before);

    app.clock.advance(Duration::from_secs(300));
    assert_eq!(readyz(&app).await.1["newest_data_age_seconds"], 300);
}

#[tokio::test]
async fn the_refresh_timer_refreshes_today_and_yesterday_once_stale_and_nothing_else() {
    let app = spawn_app_at(NOW, Background::On, |_| {}).await;
    eventually("ready", || async { readyz(&app).await.0 == 200 }).await;
    let store = app.state.store.clone();
    let requests = || async {
        (
            app.upstream_requests_for("2026-08-14").await,
            app.upstream_requests_for("2026-08-13").await,
            app.upstream_requests_for("2026-08-12").await,
        )
    };
    assert_eq!(requests().await, (1, 1, 2));

    // Fresh: a tick asks nothing.
    refresh_recent(&store, app.clock.as_ref()).await;
    assert_eq!(requests().await, (1, 1, 2));

    // Past cache.recent_ttl (10 min), not past week_ttl (1 h): today and yesterday only, and
    // the tick waits for them, so no reader finds them stale.
    app.clock.advance(Duration::from_secs(11 * 60));
    refresh_recent(&store, app.clock.as_ref()).await;
    assert_eq!(requests().await, (2, 2, 2));
    let scraped = scrape(&app.client, &app.address).await;
    assert_eq!(
        scraped.get("paperboy_refreshes_total", &[("outcome", "ok")]),
        2.0
    );
    assert_eq!(scraped.get("paperboy_newest_data_age_seconds", &[]), 0.0);

    // At midnight, the new day is fetched by the timer before any reader asks for it.
    app.clock.set("2026-08-15T00:00:30Z".parse().unwrap());
    refresh_recent(&store, app.clock.as_ref()).await;
    assert_eq!(app.upstream_requests_for("2026-08-15").await, 1);
    assert!(store.cached("2026-08-15".parse().unwrap()).await.is_some());
}
