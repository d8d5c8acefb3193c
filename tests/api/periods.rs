//! `week=` and `month=` (section 10): the daily lists of an ISO week or a month, in place of
//! `date` and `days`, on feeds, topic feeds and `/preview`.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

async fn sorted_ids(app: &crate::helpers::TestApp, path_and_query: &str) -> Vec<String> {
    let mut ids = app.ids(path_and_query).await;
    ids.sort();
    ids
}

#[tokio::test]
async fn a_week_selects_monday_to_sunday_and_leaves_out_the_days_after_today() {
    let app = spawn_app().await;
    // Week 33 is 08-10..08-16; today is 08-14.
    let week = sorted_ids(&app, "/feed.rss?week=2026-W33&limit=200").await;
    let days = sorted_ids(&app, "/feed.rss?date=2026-08-14&days=5&limit=200").await;
    assert!(!week.is_empty());
    assert_eq!(week, days);
    for date in ["2026-08-15", "2026-08-16"] {
        assert_eq!(
            app.upstream_requests_for(date).await,
            0,
            "{date} is in the future"
        );
    }
    let week_32 = sorted_ids(&app, "/feed.atom?week=2026-W32&limit=200").await;
    let days_32 = sorted_ids(&app, "/feed.atom?date=2026-08-09&days=7&limit=200").await;
    assert_eq!(week_32, days_32);
}

#[tokio::test]
async fn a_month_may_hold_more_days_than_max_days() {
    let app = spawn_app_with(|s| s.feeds.max_days = 5).await;
    let month = sorted_ids(&app, "/feed.json?month=2026-08&limit=200").await;
    let mut every_day: Vec<String> = Vec::new();
    for first in ["2026-08-05", "2026-08-10", "2026-08-14"] {
        every_day.extend(
            app.ids(&format!("/feed.rss?date={first}&days=5&limit=200"))
                .await,
        );
    }
    every_day.sort();
    every_day.dedup();
    assert_eq!(month, every_day, "all twelve fixture days of August");
    assert_eq!(
        app.upstream_requests_for("2026-08-01").await,
        1,
        "the month's first day"
    );
}

#[tokio::test]
async fn week_month_date_and_days_cannot_be_combined() {
    let app = spawn_app().await;
    for (query, first, second) in [
        ("week=2026-W33&date=2026-08-12", "week", "date"),
        ("days=3&week=2026-W33", "week", "days"),
        ("month=2026-08&date=2026-08-12", "month", "date"),
        ("month=2026-08&days=2", "month", "days"),
        ("week=2026-W33&month=2026-08", "week", "month"),
    ] {
        let response = app.get(&format!("/feed.rss?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let problem: Value = response.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(first) && detail.contains(second),
            "{query}: {detail}"
        );
    }
}

#[tokio::test]
async fn bad_future_and_early_weeks_and_months_are_refused() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("week=2025-W53", "week"),
        ("week=2026-W34", "week"),
        ("week=2026-33", "week"),
        ("week=2023-W17", "week"),
        ("month=2026-09", "month"),
        ("month=2026-13", "month"),
        ("month=2023-04", "month"),
        ("month=08-2026", "month"),
    ] {
        let response = app.get(&format!("/feed.atom?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["parameter"], parameter, "{query}");
    }
    assert_eq!(app.upstream_request_count().await, 0);
    // The week of the first Daily Papers (2023-05-01, a Monday) is fine.
    assert_eq!(app.get("/feed.atom?week=2023-W18").await.status(), 200);
}

#[tokio::test]
async fn topic_feeds_and_the_preview_take_a_week_too() {
    let app = spawn_app().await;
    let topic = app.state.topics.iter().next().unwrap().clone();
    let week = sorted_ids(
        &app,
        &format!("/topics/{}.rss?week=2026-W32&limit=200", topic.name),
    )
    .await;
    let days = sorted_ids(
        &app,
        &format!(
            "/topics/{}.rss?date=2026-08-09&days=7&limit=200",
            topic.name
        ),
    )
    .await;
    assert_eq!(week, days);
    let response = app.get("/preview?week=2026-W32&month=&date=&days=").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("week 32 of 2026 (3–9 August)"), "{html}");
    assert!(html.contains("/feed.atom?week=2026-W32"), "{html}");
}
