//! Digests (section 10): one item per ended day, week or month with its top papers, in all
//! three formats, on `/digest.*` and `/topics/{name}/digest.*`.

use chrono::{DateTime, Utc};
use paperboy::app::background::Background;
use serde_json::Value;

use crate::helpers::{
    ATOM_TYPE, JSON_TYPE, RSS_TYPE, TestApp, header, hf_url, parse_atom, parse_rss, spawn_app,
    spawn_app_at,
};

/// Monday after week 33 (2026-08-10..16), whose daily lists are in the fixtures.
const AFTER_WEEK_33: &str = "2026-08-17T06:00:00Z";

/// A digest in the three formats: (RSS, Atom, JSON), each checked for 200 and its type.
async fn digest(
    app: &TestApp,
    path: &str,
    query: &str,
) -> (rss::Channel, atom_syndication::Feed, Value) {
    let url = |ext: &str| format!("{path}.{ext}?{query}");
    let (rss_type, rss) = app.get_ok(&url("rss")).await;
    let (atom_type, atom) = app.get_ok(&url("atom")).await;
    let (json_type, json) = app.get_ok(&url("json")).await;
    assert_eq!(
        (rss_type.as_str(), atom_type.as_str(), json_type.as_str()),
        (RSS_TYPE, ATOM_TYPE, JSON_TYPE)
    );
    // Every reader that paperboy's other tests trust reads them too.
    for body in [&rss, &atom, &json] {
        let parsed = feed_rs::parser::parse(body.as_slice()).expect("a feed");
        assert_eq!(parsed.entries.len(), parse_rss(&rss).items().len());
    }
    (
        parse_rss(&rss),
        parse_atom(&atom),
        serde_json::from_slice(&json).expect("JSON"),
    )
}

fn json_items(json: &Value) -> &Vec<Value> {
    json["items"].as_array().expect("items")
}

/// The arXiv ids linked from a digest item's HTML, in order.
fn paper_links(html: &str) -> Vec<String> {
    html.split(r#"<a href="https://huggingface.co/papers/"#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The ids of a day's papers, most upvoted first, as the fixtures hold them.
fn ranked(app: &TestApp, dates: &[&str]) -> Vec<(String, u64)> {
    let mut papers: Vec<(String, u64)> = Vec::new();
    for date in dates {
        for item in app.days.get(date) {
            let id = item.pointer("/paper/id").and_then(Value::as_str);
            let upvotes = item.pointer("/paper/upvotes").and_then(Value::as_u64);
            if let (Some(id), Some(upvotes)) = (id, upvotes)
                && !papers.iter().any(|(seen, _)| seen == id)
            {
                papers.push((id.to_owned(), upvotes));
            }
        }
    }
    papers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    papers
}

#[tokio::test]
async fn a_daily_digest_has_one_item_per_ended_day_with_papers_the_same_in_every_format() {
    let app = spawn_app().await;
    let (rss, atom, json) = digest(&app, "/digest", "").await;
    // Today (08-14) has not ended: the 7 days 08-07..08-13, of which 08-08 and 08-09 are empty.
    let titles: Vec<&str> = rss.items().iter().filter_map(|i| i.title()).collect();
    assert_eq!(
        titles,
        [
            "Top 7 papers of Thursday 13 August 2026",
            "Top 10 papers of Wednesday 12 August 2026",
            "Top 8 papers of Tuesday 11 August 2026",
            "Top 7 papers of Monday 10 August 2026",
            "Top 8 papers of Friday 7 August 2026",
        ]
    );
    // 08-13 lists 9 items, of which 7 are usable papers (the feed of that day agrees).
    assert_eq!(app.ids("/feed.rss?date=2026-08-13&days=1").await.len(), 7);
    assert_eq!(rss.title(), "Hugging Face Daily Papers — daily digest");
    let ids: Vec<String> = rss
        .items()
        .iter()
        .map(|i| {
            let guid = i.guid().expect("a guid");
            assert!(!guid.is_permalink(), "a digest id is not a link");
            guid.value().to_owned()
        })
        .collect();
    assert_eq!(ids[0], format!("{}/digest/day/2026-08-13", app.address));
    let atom_ids: Vec<&str> = atom.entries().iter().map(|e| e.id()).collect();
    let json_ids: Vec<&str> = json_items(&json)
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(atom_ids, ids);
    assert_eq!(json_ids, ids);
    // Link: the day's page; date: 00:00 UTC of the next day.
    assert_eq!(
        rss.items()[0].link(),
        Some("https://huggingface.co/papers/date/2026-08-13")
    );
    let expected: DateTime<Utc> = "2026-08-14T00:00:00Z".parse().unwrap();
    let rss_date = DateTime::parse_from_rfc2822(rss.items()[0].pub_date().unwrap()).unwrap();
    assert_eq!(rss_date, expected);
    assert_eq!(atom.entries()[0].published().unwrap(), &expected);
    assert_eq!(
        json_items(&json)[0]["date_published"],
        "2026-08-14T00:00:00+00:00"
    );
    assert_eq!(
        json_items(&json)[0]["url"],
        "https://huggingface.co/papers/date/2026-08-13"
    );
}

#[tokio::test]
async fn a_digest_item_ranks_its_papers_by_upvotes_with_their_details() {
    let app = spawn_app().await;
    let (rss, _, _) = digest(&app, "/digest", "top=3").await;
    let day = &rss.items()[1];
    assert_eq!(
        day.title(),
        Some("Top 3 papers of Wednesday 12 August 2026")
    );
    let html = day.description().unwrap();
    let expected: Vec<String> = ranked(&app, &["2026-08-12"])
        .into_iter()
        .take(3)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(paper_links(html), expected);
    assert!(
        html.starts_with("<ol>") && html.matches("<li>").count() == 3,
        "{html}"
    );
    for id in &expected {
        assert!(
            html.contains(&format!("https://arxiv.org/abs/{id}")),
            "{html}"
        );
        assert!(
            html.contains(&format!("https://arxiv.org/pdf/{id}")),
            "{html}"
        );
    }
    assert!(
        html.contains("upvotes") && html.contains("comment"),
        "{html}"
    );
    assert!(!html.contains("<script"), "upstream text is escaped");
}

#[tokio::test]
async fn a_weekly_digest_counts_a_paper_listed_on_two_days_once() {
    let app = spawn_app_at(AFTER_WEEK_33, Background::Off, |_| {}).await;
    let (rss, atom, json) = digest(&app, "/digest", "period=week&top=100").await;
    assert_eq!(
        rss.title(),
        "Hugging Face Daily Papers — weekly digest — top: 100",
        "a top that is given is in the title"
    );
    let items = rss.items();
    // Weeks 33 and 32 have papers; 31 and 30 (the rest of the default 4) none.
    assert_eq!(items.len(), 2);
    let week = ranked(
        &app,
        &[
            "2026-08-10",
            "2026-08-11",
            "2026-08-12",
            "2026-08-13",
            "2026-08-14",
        ],
    );
    assert_eq!(
        items[0].title().unwrap(),
        format!(
            "Top {} papers of week 33 of 2026 (10–16 August)",
            week.len().min(100)
        )
    );
    assert_eq!(
        items[0].link(),
        Some("https://huggingface.co/papers/week/2026-W33")
    );
    assert_eq!(
        items[0].guid().unwrap().value(),
        format!("{}/digest/week/2026-W33", app.address)
    );
    let links = paper_links(items[0].description().unwrap());
    assert_eq!(
        links.iter().filter(|id| *id == "2608.00041").count(),
        1,
        "listed on 08-10 and 08-11, counted once"
    );
    let week_32 = ranked(
        &app,
        &[
            "2026-08-03",
            "2026-08-04",
            "2026-08-05",
            "2026-08-06",
            "2026-08-07",
        ],
    );
    assert_eq!(
        items[1].title().unwrap(),
        format!(
            "Top {} papers of week 32 of 2026 (3–9 August)",
            week_32.len()
        )
    );
    let monday: DateTime<Utc> = "2026-08-17T00:00:00Z".parse().unwrap();
    assert_eq!(atom.entries()[0].updated(), &monday);
    assert_eq!(json_items(&json)[0]["title"], items[0].title().unwrap());
}

#[tokio::test]
async fn a_monthly_digest_lists_ended_months() {
    let app = spawn_app_at("2026-09-02T08:00:00Z", Background::Off, |_| {}).await;
    let (rss, _, _) = digest(&app, "/digest", "period=month&count=2").await;
    assert_eq!(rss.title(), "Hugging Face Daily Papers — monthly digest");
    let items = rss.items();
    assert_eq!(items.len(), 1, "July has no papers in the fixtures");
    assert_eq!(items[0].title(), Some("Top 10 papers of August 2026"));
    assert_eq!(
        items[0].link(),
        Some("https://huggingface.co/papers/month/2026-08")
    );
    let all: Vec<&str> = [
        "2026-08-03",
        "2026-08-04",
        "2026-08-05",
        "2026-08-06",
        "2026-08-07",
        "2026-08-10",
        "2026-08-11",
        "2026-08-12",
        "2026-08-13",
        "2026-08-14",
    ]
    .to_vec();
    let expected: Vec<String> = ranked(&app, &all)
        .into_iter()
        .take(10)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(paper_links(items[0].description().unwrap()), expected);
    let date = DateTime::parse_from_rfc2822(items[0].pub_date().unwrap()).unwrap();
    assert_eq!(date.to_rfc3339(), "2026-09-01T00:00:00+00:00");
}

#[tokio::test]
async fn date_chooses_the_newest_period_and_only_ended_periods_appear() {
    let app = spawn_app().await;
    let (rss, _, _) = digest(&app, "/digest", "date=2026-08-11&count=2").await;
    let titles: Vec<&str> = rss.items().iter().filter_map(|i| i.title()).collect();
    assert_eq!(
        titles,
        [
            "Top 8 papers of Tuesday 11 August 2026",
            "Top 7 papers of Monday 10 August 2026"
        ]
    );
    // Today is not over: date=today lists from yesterday.
    let (rss, _, _) = digest(&app, "/digest", "date=2026-08-14&count=1").await;
    assert_eq!(
        rss.items()[0].title(),
        Some("Top 7 papers of Thursday 13 August 2026")
    );
    // Week 33 has not ended on Friday 08-14: the newest weekly item is week 32.
    let (rss, _, _) = digest(&app, "/digest", "period=week&count=1").await;
    assert_eq!(
        rss.items()[0].link(),
        Some("https://huggingface.co/papers/week/2026-W32")
    );
}

#[tokio::test]
async fn filters_apply_before_ranking_and_are_in_the_ids() {
    let app = spawn_app().await;
    let (rss, atom, json) = digest(&app, "/digest", "min_upvotes=100&count=7").await;
    assert_eq!(
        rss.title(),
        "Hugging Face Daily Papers — daily digest — min_upvotes: 100"
    );
    let items = rss.items();
    assert!(!items.is_empty());
    for item in items {
        let id = item.guid().unwrap().value();
        assert!(id.ends_with("?min_upvotes=100"), "{id}");
        for paper in paper_links(item.description().unwrap()) {
            let upvotes = app
                .days
                .get(&item.link().unwrap()[35..])
                .into_iter()
                .find(|i| i.pointer("/paper/id").and_then(Value::as_str) == Some(&paper))
                .and_then(|i| i.pointer("/paper/upvotes").and_then(Value::as_u64))
                .unwrap();
            assert!(upvotes >= 100, "{paper}: {upvotes}");
        }
    }
    assert_eq!(atom.entries()[0].id(), items[0].guid().unwrap().value());
    assert_eq!(json_items(&json)[0]["id"], items[0].guid().unwrap().value());
    // Different filters, different ids; the same filters in another order, the same ids.
    let (other, _, _) = digest(&app, "/digest", "min_upvotes=100&q=agent").await;
    let (same, _, _) = digest(&app, "/digest", "q=agent&min_upvotes=100").await;
    if let (Some(a), Some(b)) = (other.items().first(), same.items().first()) {
        assert_eq!(a.guid(), b.guid());
        assert_ne!(a.guid(), items[0].guid());
    }
}

#[tokio::test]
async fn a_topic_digest_applies_the_topic_query_and_names_the_topic_in_its_ids() {
    let app = spawn_app().await;
    let topic = app
        .state
        .topics
        .iter()
        .next()
        .expect("a starter topic")
        .clone();
    let path = format!("/topics/{}/digest", topic.name);
    let (rss, atom, _) = digest(&app, &path, "count=7").await;
    assert_eq!(
        rss.title(),
        format!("Hugging Face Daily Papers — daily digest — {}", topic.title)
    );
    let topic_ids = app
        .ids(&format!(
            "/topics/{}.rss?date=2026-08-13&days=7&limit=200",
            topic.name
        ))
        .await;
    for item in rss.items() {
        let id = item.guid().unwrap().value();
        assert!(id.ends_with(&format!("?topic={}", topic.name)), "{id}");
        for paper in paper_links(item.description().unwrap()) {
            assert!(topic_ids.contains(&paper), "{paper} is not in the topic");
        }
    }
    assert_eq!(atom.entries().len(), rss.items().len());
    // Narrowed by the request: the request's filters follow the topic in the ids.
    let (narrowed, _, _) = digest(&app, &path, "min_upvotes=1").await;
    if let Some(item) = narrowed.items().first() {
        assert!(
            item.guid()
                .unwrap()
                .value()
                .ends_with(&format!("?topic={}&min_upvotes=1", topic.name))
        );
    }
}

#[tokio::test]
async fn parameters_that_do_not_apply_to_a_digest_are_refused() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("days=3", "days"),
        ("week=2026-W32", "week"),
        ("month=2026-08", "month"),
        ("limit=5", "limit"),
        ("sort=upvotes", "sort"),
        ("period=year", "period"),
        ("count=0", "count"),
        ("count=31", "count"),
        ("top=101", "top"),
        ("date=2026-08-15", "date"),
        ("format=atom", "format"),
    ] {
        let response = app.get(&format!("/digest.atom?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["parameter"], parameter, "{query}");
        assert!(
            problem["detail"].as_str().unwrap().contains(parameter),
            "{query}: {problem}"
        );
    }
    assert_eq!(app.get("/topics/nope/digest.atom").await.status(), 404);
}

#[tokio::test]
async fn a_digest_answers_conditional_gets_and_head() {
    let app = spawn_app().await;
    let response = app.get("/digest.atom?period=week").await;
    assert_eq!(response.status(), 200);
    let etag = header(&response, "etag");
    assert!(etag.starts_with("W/"), "{etag}");
    assert!(!header(&response, "last-modified").is_empty());
    let again = app
        .get_with("/digest.atom?period=week", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status(), 304);
    let head = app
        .client
        .head(format!("{}/digest.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-type"), JSON_TYPE);
}

#[tokio::test]
async fn digests_are_rendered_once_per_query_and_data() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get_ok("/digest.rss?period=day").await;
    }
    let first = app.state.renders.render_count();
    for _ in 0..3 {
        app.get_ok("/digest.rss?period=day").await;
    }
    assert_eq!(
        app.state.renders.render_count(),
        first,
        "served from the cache"
    );
    // Its ids stay the same whatever the format and however often it is fetched.
    let (a, _, _) = digest(&app, "/digest", "").await;
    let (b, _, _) = digest(&app, "/digest", "").await;
    assert_eq!(a.items(), b.items());
    assert!(
        a.items()
            .iter()
            .all(|i| i.link().unwrap().starts_with(&hf_url("date/")))
    );
}

#[tokio::test]
async fn a_digest_before_the_first_daily_papers_is_empty_not_an_outage() {
    let app = spawn_app().await;
    // The newest week ending by 2023-05-01 is 2023-W17 (24..30 April), before the first list.
    let (rss, atom, json) = digest(&app, "/digest", "period=week&date=2023-05-01&count=2").await;
    assert!(rss.items().is_empty() && atom.entries().is_empty());
    assert!(json_items(&json).is_empty());
    assert_eq!(app.upstream_request_count().await, 0);
}

#[tokio::test]
async fn a_long_monthly_digest_stays_within_the_upstream_budget() {
    let app = crate::helpers::spawn_app_with(|s| s.upstream.budget = 5).await;
    // 12 months (the most a digest of months covers): about 365 days, none of them today or
    // yesterday.
    let response = app.get("/digest.atom?period=month&count=12").await;
    assert!(
        [200, 503].contains(&response.status().as_u16()),
        "{}",
        response.status()
    );
    assert!(app.upstream_request_count().await <= 5);
    // Answered again from what is held, without asking upstream beyond the budget.
    let again = app.get("/digest.atom?period=month&count=12").await;
    assert!([200, 503].contains(&again.status().as_u16()));
    assert!(app.upstream_request_count().await <= 5);
}
