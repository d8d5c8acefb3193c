//! Every query parameter of section 3, and a table of bad inputs.

use serde_json::Value;

use crate::helpers::*;

/// GET a JSON feed and return its items.
async fn items(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app.get(&format!("/feed.json?{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    let feed: Value = response.json().await.unwrap();
    feed["items"].as_array().cloned().unwrap_or_default()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["_paperboy"]["arxiv_id"].as_str().unwrap().to_owned())
        .collect()
}

fn meta(item: &Value, key: &str) -> u64 {
    item["_paperboy"][key].as_u64().unwrap()
}

#[tokio::test]
async fn min_upvotes_keeps_papers_with_at_least_that_many() {
    let app = spawn_app().await;
    let got = ids_of(&items(&app, "min_upvotes=100").await);
    assert_eq!(
        got,
        [
            "2608.00165",
            "2608.00137",
            "2608.00144",
            "2608.00130",
            "2608.00101",
            "2608.00075",
            "2608.00140",
            "2608.00139",
            "2608.00143"
        ]
    );
}

#[tokio::test]
async fn min_comments_keeps_papers_with_at_least_that_many() {
    let app = spawn_app().await;
    let items = items(&app, "min_comments=11&limit=200").await;
    assert_eq!(items.len(), 17);
    assert!(items.iter().all(|i| meta(i, "comments") >= 11));
}

#[tokio::test]
async fn has_code_selects_with_or_without_a_github_repo() {
    let app = spawn_app().await;
    for (value, count, with_repo) in [
        ("true", 69, true),
        ("1", 69, true),
        ("false", 51, false),
        ("0", 51, false),
    ] {
        let items = items(&app, &format!("has_code={value}&limit=200")).await;
        assert_eq!(items.len(), count, "has_code={value}");
        assert!(
            items
                .iter()
                .all(|i| i["_paperboy"]["github_repo"].is_string() == with_repo),
            "has_code={value}"
        );
    }
}

#[tokio::test]
async fn date_and_days_choose_the_window() {
    let app = spawn_app().await;
    let one_day = ids_of(&items(&app, "date=2026-08-13&days=1").await);
    assert_eq!(one_day.len(), 7);
    assert!(
        one_day
            .iter()
            .all(|id| fixture_ids(&app.days, "2026-08-13").contains(id))
    );
    assert_eq!(
        app.upstream_requests_for("2026-08-14").await,
        0,
        "no request after date"
    );

    // 12 days cover every fixture; 172 distinct papers.
    assert_eq!(items(&app, "days=12&limit=200").await.len(), 172);
    // The default is 3 days: 08-12, 08-13, 08-14.
    assert_eq!(items(&app, "limit=200").await.len(), 120);
}

#[tokio::test]
async fn top_keeps_the_most_upvoted_papers_of_each_day() {
    let app = spawn_app().await;
    let got = ids_of(&items(&app, "date=2026-08-11&days=2&top=1").await);
    assert_eq!(got, ["2608.00048", "2608.00044"]);
    let got = ids_of(&items(&app, "date=2026-08-11&days=2&top=2").await);
    assert_eq!(
        got,
        ["2608.00048", "2608.00041", "2608.00044", "2608.00039"]
    );
}

#[tokio::test]
async fn top_applies_after_the_other_filters() {
    let app = spawn_app().await;
    // 08-11's most upvoted paper has code; its best paper without code has 0 upvotes.
    let got = ids_of(&items(&app, "date=2026-08-11&days=1&top=1&has_code=false").await);
    assert_eq!(got.len(), 1);
    assert_ne!(got[0], "2608.00048");
}

#[tokio::test]
async fn sort_by_date_puts_the_newest_day_first_then_upvotes() {
    let app = spawn_app().await;
    let items = items(&app, "sort=date&limit=200").await;
    let keys: Vec<(String, u64)> = items
        .iter()
        .map(|i| {
            let date = i["date_published"].as_str().unwrap()[..10].to_owned();
            (date, meta(i, "upvotes"))
        })
        .collect();
    assert_eq!(
        ids_of(&items)[0],
        "2608.00168",
        "08-14's most upvoted first"
    );
    for pair in keys.windows(2) {
        let ((d1, u1), (d2, u2)) = (&pair[0], &pair[1]);
        assert!(d1 > d2 || (d1 == d2 && u1 >= u2), "{pair:?}");
    }
}

#[tokio::test]
async fn sort_by_upvotes_puts_the_most_upvoted_first() {
    let app = spawn_app().await;
    let got = ids_of(&items(&app, "days=12&sort=upvotes&limit=5").await);
    assert_eq!(
        got,
        [
            "2608.00137",
            "2608.00144",
            "2608.00130",
            "2608.00101",
            "2608.00075"
        ]
    );
}

#[tokio::test]
async fn limit_caps_the_items_and_defaults_to_fifty() {
    let app = spawn_app().await;
    assert_eq!(items(&app, "limit=7").await.len(), 7);
    assert_eq!(items(&app, "").await.len(), 50);
    assert_eq!(items(&app, "limit=200").await.len(), 120);
}

#[tokio::test]
async fn empty_values_mean_no_filter() {
    let app = spawn_app().await;
    let plain = ids_of(&items(&app, "").await);
    let empty = ids_of(&items(&app, "q=&author=&org=&min_upvotes=&has_code=&sort=&date=").await);
    assert_eq!(plain, empty);
}

#[tokio::test]
async fn filters_that_match_nothing_give_an_empty_feed() {
    let app = spawn_app().await;
    for path in ["/feed.rss", "/feed.atom", "/feed.json"] {
        let feed = app.feed(&format!("{path}?q=zzzqqqxxx")).await;
        assert!(feed.entries.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn repeated_author_and_org_values_match_any_of_them() {
    let app = spawn_app().await;
    let mit = items(&app, "org=mit&limit=200").await.len();
    let google = items(&app, "org=google&days=12&limit=200").await.len();
    assert!(mit > 0);
    let both = items(&app, "org=mit&org=google&days=12&limit=200").await;
    let mit12 = items(&app, "org=mit&days=12&limit=200").await.len();
    assert_eq!(both.len(), mit12 + google);
}

/// Every bad input is a 400 problem+json whose detail names the parameter; none is a 5xx.
#[tokio::test]
async fn bad_inputs_get_a_400_problem_naming_the_parameter() {
    let app = spawn_app().await;
    let long_q = format!("q={}", "a".repeat(513));
    let many_terms = format!("q={}", vec!["x"; 33].join("+"));
    let long_author = format!("author={}", "b".repeat(201));
    let many_authors = vec!["author=x"; 21].join("&");
    let cases: Vec<(&str, String, &str)> = vec![
        ("/feed.rss", "min_upvotes=-1".into(), "min_upvotes"),
        ("/feed.rss", "min_upvotes=ten".into(), "min_upvotes"),
        ("/feed.rss", "min_upvotes=1.5".into(), "min_upvotes"),
        (
            "/feed.rss",
            "min_upvotes=99999999999999999999".into(),
            "min_upvotes",
        ),
        ("/feed.rss", "min_comments=%20-2".into(), "min_comments"),
        ("/feed.rss", "has_code=yes".into(), "has_code"),
        ("/feed.rss", "has_code=TRUE".into(), "has_code"),
        ("/feed.rss", "date=2026-8-1".into(), "date"),
        ("/feed.rss", "date=2026-02-30".into(), "date"),
        ("/feed.rss", "date=14.08.2026".into(), "date"),
        ("/feed.rss", "date=2026-08-15".into(), "date"),
        ("/feed.rss", "days=0".into(), "days"),
        ("/feed.rss", "days=31".into(), "days"),
        ("/feed.rss", "days=three".into(), "days"),
        ("/feed.rss", "top=0".into(), "top"),
        ("/feed.rss", "top=101".into(), "top"),
        ("/feed.rss", "limit=0".into(), "limit"),
        ("/feed.rss", "limit=201".into(), "limit"),
        ("/feed.rss", "sort=random".into(), "sort"),
        ("/feed.rss", "format=atom".into(), "format"),
        ("/feed", "format=xml".into(), "format"),
        ("/feed", "format=rss&format=atom".into(), "format"),
        ("/feed.rss", "days=2&days=3".into(), "days"),
        ("/feed.rss", "q=a&q=b".into(), "q"),
        ("/feed.rss", "utm_source=newsletter".into(), "utm_source"),
        ("/feed.rss", "Q=diffusion".into(), "Q"),
        ("/feed.rss", "q=%22flow+matching".into(), "q"),
        ("/feed.rss", "q=diffusion+OR".into(), "q"),
        ("/feed.rss", "q=OR+diffusion".into(), "q"),
        ("/feed.rss", "q=a+OR+OR+b".into(), "q"),
        ("/feed.rss", "q=venue:neurips".into(), "q"),
        ("/feed.rss", "q=title:".into(), "q"),
        ("/feed.rss", "q=%21%21%21".into(), "q"),
        ("/feed.rss", "q=%22%22".into(), "q"),
        ("/feed.rss", long_q, "q"),
        ("/feed.rss", many_terms, "q"),
        ("/feed.rss", "author=---".into(), "author"),
        ("/feed.rss", long_author, "author"),
        ("/feed.rss", many_authors, "author"),
        ("/feed.rss", "org=%2C%2C".into(), "org"),
        ("/feed.json", "min_upvotes=%00".into(), "min_upvotes"),
        ("/feed.json", "days=1e1".into(), "days"),
    ];
    assert!(cases.len() >= 30);
    for (path, query, parameter) in cases {
        let response = app.get(&format!("{path}?{query}")).await;
        let status = response.status();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let short: String = query.chars().take(60).collect();
        assert_eq!(status, 400, "{path}?{short}");
        assert_eq!(content_type, "application/problem+json", "{short}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 400, "{short}");
        assert_eq!(problem["parameter"], parameter, "{short}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(parameter), "{short}: {detail}");
        assert!(problem["title"].is_string() && problem["type"].is_string());
    }
}

#[tokio::test]
async fn a_blank_org_value_is_no_filter() {
    let app = spawn_app().await;
    let blank = ids_of(&items(&app, "org=%20").await);
    assert_eq!(blank, ids_of(&items(&app, "").await));
}

#[tokio::test]
async fn a_search_error_says_what_is_wrong_and_where() {
    let app = spawn_app().await;
    let response = app.get("/feed.rss?q=diffusion+%22flow+matching").await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("quote"), "{detail}");
    assert!(detail.contains("character 11"), "{detail}");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_problem_json() {
    let app = spawn_app().await;
    let response = app.get("/nothing/here").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 404);

    let response = app
        .client
        .post(format!("{}/feed.rss", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
