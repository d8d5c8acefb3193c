//! RSSHub-compatible URLs (section 11): `/huggingface/daily-papers[/{cycle}[/{votes}]]` with
//! RSSHub's `format`, `limit`, `filter*` and `filterout*` parameters.

use serde_json::Value;

use crate::helpers::{ATOM_TYPE, JSON_TYPE, RSS_TYPE, TestApp, arxiv_id, spawn_app};

/// The items' (arXiv id, upvotes) of a JSON feed.
async fn papers(app: &TestApp, path_and_query: &str) -> Vec<(String, u64)> {
    let (content_type, body) = app.get_ok(path_and_query).await;
    assert_eq!(content_type, JSON_TYPE, "{path_and_query}");
    let json: Value = serde_json::from_slice(&body).unwrap();
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                arxiv_id(i["id"].as_str().unwrap()),
                i["_paperboy"]["upvotes"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn is_by_upvotes(papers: &[(String, u64)]) -> bool {
    papers.windows(2).all(|w| w[0].1 >= w[1].1)
}

#[tokio::test]
async fn the_default_path_is_the_newest_day_with_papers_by_upvotes() {
    let app = spawn_app().await;
    for path in [
        "/huggingface/daily-papers",
        "/huggingface/daily-papers/date",
    ] {
        let (content_type, body) = app.get_ok(path).await;
        assert_eq!(content_type, RSS_TYPE, "RSS by default");
        let feed = feed_rs::parser::parse(body.as_slice()).unwrap();
        let today = app.ids("/feed.rss?date=2026-08-14&days=1").await;
        let mut ids: Vec<String> = feed.entries.iter().map(|e| arxiv_id(&e.id)).collect();
        ids.sort();
        let mut expected = today.clone();
        expected.sort();
        assert_eq!(ids, expected, "{path}");
    }
    let listed = papers(&app, "/huggingface/daily-papers?format=json").await;
    assert!(is_by_upvotes(&listed), "{listed:?}");
}

#[tokio::test]
async fn an_empty_today_falls_back_to_the_newest_day_with_papers() {
    let app = spawn_app().await;
    app.days.set("2026-08-14", vec![]);
    app.days.set("2026-08-13", vec![]);
    let listed = papers(&app, "/huggingface/daily-papers/date?format=json").await;
    let ids: Vec<String> = listed.into_iter().map(|(id, _)| id).collect();
    // 08-12, the newest day with papers: its 50 most upvoted (the default limit).
    let expected = app
        .ids("/feed.rss?date=2026-08-12&days=1&sort=upvotes&limit=50")
        .await;
    assert_eq!(expected.len(), 50);
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn filter_description_looks_at_the_abstract_and_the_ai_summary() {
    let app = spawn_app().await;
    let base = "/huggingface/daily-papers/month?format=json&limit=200";
    // The filler abstracts say "Filler abstract number N"; their titles do not say "abstract".
    let by_description = papers(
        &app,
        &format!("{base}&filter_description=Filler%20abstract"),
    )
    .await;
    let by_title = papers(&app, &format!("{base}&filter_title=Filler%20abstract")).await;
    let by_either = papers(&app, &format!("{base}&filter=Filler%20abstract")).await;
    assert_eq!(
        by_description.len(),
        100,
        "the hundred filler papers of 08-12"
    );
    assert!(by_title.is_empty());
    assert_eq!(by_either, by_description, "filter: title or description");
    let dropped = papers(
        &app,
        &format!("{base}&filterout_description=Filler%20abstract"),
    )
    .await;
    let all = papers(&app, base).await;
    assert!(all.len() < 200, "the whole month fits the limit");
    assert_eq!(dropped.len() + by_description.len(), all.len());
    assert!(dropped.iter().all(|p| !by_description.contains(p)));
}

#[tokio::test]
async fn week_and_month_cycles_with_votes_keep_the_minimum() {
    let app = spawn_app().await;
    let week = papers(
        &app,
        "/huggingface/daily-papers/week/20?format=json&limit=200",
    )
    .await;
    let expected = app
        .ids("/feed.rss?week=2026-W33&min_upvotes=20&sort=upvotes&limit=200")
        .await;
    let ids: Vec<String> = week.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(week.iter().all(|(_, upvotes)| *upvotes >= 20));
    let month = papers(
        &app,
        "/huggingface/daily-papers/month/100?format=json&limit=200",
    )
    .await;
    let expected = app
        .ids("/feed.rss?month=2026-08&min_upvotes=100&sort=upvotes&limit=200")
        .await;
    assert_eq!(
        month.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(is_by_upvotes(&month));
    let (content_type, _) = app
        .get_ok("/huggingface/daily-papers/week?format=atom")
        .await;
    assert_eq!(content_type, ATOM_TYPE);
    // The path's votes are a filter, and the title says so, as for any filtered feed.
    let (_, body) = app
        .get_ok("/huggingface/daily-papers/week/20?format=json")
        .await;
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["title"], "Hugging Face Daily Papers — min_upvotes: 20");
    // A pattern keeps its spaces: " Filler" (leading space) is in no title; "Filler" is.
    let spaced = papers(
        &app,
        "/huggingface/daily-papers/month?format=json&limit=200&filter_title=%20Filler",
    )
    .await;
    assert!(spaced.is_empty(), "{spaced:?}");
    let unspaced = papers(
        &app,
        "/huggingface/daily-papers/month?format=json&limit=200&filter_title=%5EFiller",
    )
    .await;
    assert!(!unspaced.is_empty());
}

#[tokio::test]
async fn filter_parameters_keep_and_drop_by_regular_expression() {
    let app = spawn_app().await;
    let base = "/huggingface/daily-papers/month?format=json&limit=200";
    let all = papers(&app, base).await;
    let titled = |query: &str| {
        let url = format!("{base}&{query}");
        let app = &app;
        async move {
            let (_, body) = app.get_ok(&url).await;
            let json: Value = serde_json::from_slice(&body).unwrap();
            json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["title"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    let agents = titled("filter_title=%5BNn%5Deural").await;
    assert!(!agents.is_empty());
    assert!(agents.iter().all(|t| t.contains("eural")), "{agents:?}");
    let without = titled("filterout_title=%5BNn%5Deural").await;
    assert_eq!(agents.len() + without.len(), all.len());
    assert!(
        without
            .iter()
            .all(|t| !t.contains("Neural") && !t.contains("neural"))
    );
    // Case-sensitive by default.
    let lower = titled("filter_title=neural").await;
    let any_case = titled("filter_title=neural&filter_case_sensitive=false").await;
    assert!(
        any_case.len() > lower.len(),
        "Neural is written with a capital"
    );
    assert_eq!(any_case.len(), agents.len());
    // Authors: any one name; several patterns must all hold.
    let first_author = app.days.get("2026-08-12")[0]
        .pointer("/paper/authors/0/name")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    let by_author = titled(&format!(
        "filter_author=%5E{}%24",
        urlencode(&regex_escape(&first_author))
    ))
    .await;
    assert!(!by_author.is_empty());
    let none = titled("filter_title=%5BNn%5Deural&filterout=.").await;
    assert!(none.is_empty(), "filterout=. drops everything");
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn bad_paths_and_patterns_are_400s_that_name_the_part() {
    let app = spawn_app().await;
    let long = "a".repeat(257);
    for (path_and_query, parameter) in [
        ("/huggingface/daily-papers/year", "cycle"),
        ("/huggingface/daily-papers/week/ten", "votes"),
        ("/huggingface/daily-papers/week/-1", "votes"),
        (
            "/huggingface/daily-papers?filter_title=%28unclosed",
            "filter_title",
        ),
        ("/huggingface/daily-papers?filter=(a)%5C1", "filter"),
        (
            &format!("/huggingface/daily-papers?filterout={long}") as &str,
            "filterout",
        ),
        (
            "/huggingface/daily-papers?filter=%5Cw%7B500%7D%5Cw%7B500%7D",
            "filter",
        ),
        (
            "/huggingface/daily-papers?filter_case_sensitive=maybe",
            "filter_case_sensitive",
        ),
        ("/huggingface/daily-papers?date=2026-08-12", "date"),
        ("/huggingface/daily-papers/week?days=3", "days"),
        ("/huggingface/daily-papers?format=xml", "format"),
        ("/huggingface/daily-papers?filter_time=3600", "filter_time"),
    ] {
        let response = app.get(path_and_query).await;
        assert_eq!(response.status(), 400, "{path_and_query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["parameter"], parameter, "{path_and_query}");
        assert!(!problem["detail"].as_str().unwrap().contains('\n'));
    }
}

#[tokio::test]
async fn a_pattern_that_backtracks_elsewhere_is_answered_normally() {
    let app = spawn_app().await;
    // Exponential in a backtracking engine; linear in `regex`.
    let evil = urlencode("(a+)+$|(x|xx)+y|(.*a){20}");
    let response = app
        .get(&format!(
            "/huggingface/daily-papers/month?filter={evil}&limit=200&format=json"
        ))
        .await;
    assert_eq!(response.status(), 200);
    // paperboy's own parameters work there too.
    let listed = papers(
        &app,
        "/huggingface/daily-papers/month?format=json&q=agent&min_upvotes=0&top=1",
    )
    .await;
    assert!(listed.len() <= 12, "at most one a day: {listed:?}");
}
