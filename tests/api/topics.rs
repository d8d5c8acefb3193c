//! Topic feeds (sections 2 and 9): a topic is the plain feed of its saved query, narrowed or
//! overridden by the request; `/topics.opml`; invalid topics stop start-up.

use std::collections::BTreeMap;
use std::process::Command;

use paperboy::query::params::FeedQuery;
use paperboy::query::select::select;
use paperboy::query::topics::TopicSettings;
use serde_json::Value;

use crate::helpers::*;

/// Every fixture day: `date=2026-08-14&days=12`, all items.
const ALL_DAYS: &str = "date=2026-08-14&days=12&limit=200";

fn topic(name: &str, title: &str, query: &str) -> TopicSettings {
    TopicSettings {
        name: name.into(),
        title: title.into(),
        description: format!("{title}, for a test."),
        query: query.into(),
    }
}

/// The JSON feed at `path`: its title and its items' arXiv ids.
async fn json_feed(app: &TestApp, path: &str) -> (String, Vec<String>) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let feed: Value = response.json().await.unwrap();
    let ids = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["_paperboy"]["arxiv_id"].as_str().unwrap().to_owned())
        .collect();
    (feed["title"].as_str().unwrap().to_owned(), ids)
}

/// `a`'s items that are also in `b`, in `a`'s order.
fn intersection(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|id| b.contains(id)).cloned().collect()
}

#[tokio::test]
async fn every_topic_feed_equals_the_plain_feed_of_its_query() {
    let app = spawn_app().await;
    for topic in app.state.topics.iter() {
        for extra in ["", ALL_DAYS] {
            let sep = if extra.is_empty() { "" } else { "?" };
            let (title, ids) =
                json_feed(&app, &format!("/topics/{}.json{sep}{extra}", topic.name)).await;
            let joined = [topic.query_string.as_str(), extra]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("&");
            let (_, plain) = json_feed(&app, &format!("/feed.json?{joined}")).await;
            assert_eq!(ids, plain, "{} with {extra:?}", topic.name);
            assert!(
                title.starts_with(&format!("Hugging Face Daily Papers — {}", topic.title)),
                "{title}"
            );
        }
    }
}

#[tokio::test]
async fn the_topic_title_names_the_topic_and_then_the_request_filters() {
    let app = spawn_app().await;
    let feed = app.feed("/topics/agents.atom").await;
    assert_eq!(
        feed.title.unwrap().content,
        "Hugging Face Daily Papers — Agents"
    );
    let feed = app.feed("/topics/agents.rss?q=memory&min_upvotes=1").await;
    assert_eq!(
        feed.title.unwrap().content,
        "Hugging Face Daily Papers — Agents (q: memory, min_upvotes: 1)"
    );
}

#[tokio::test]
async fn a_request_q_narrows_the_topic_q() {
    let app = spawn_app().await;
    let (_, topic) = json_feed(&app, &format!("/topics/efficient.json?{ALL_DAYS}")).await;
    let (_, request_only) = json_feed(&app, &format!("/feed.json?q=training&{ALL_DAYS}")).await;
    let (_, narrowed) = json_feed(
        &app,
        &format!("/topics/efficient.json?q=training&{ALL_DAYS}"),
    )
    .await;
    let expected = intersection(&topic, &request_only);
    assert_eq!(narrowed, expected);
    assert!(!narrowed.is_empty());
    assert!(narrowed.len() < topic.len() && narrowed.len() < request_only.len());
}

#[tokio::test]
async fn request_authors_narrow_topic_authors_and_orgs_narrow_too() {
    let app = spawn_app_with(|s| {
        s.topics = vec![topic("kowalski", "Kowalski", "author=Kowalski")];
    })
    .await;
    let (_, topic) = json_feed(&app, &format!("/topics/kowalski.json?{ALL_DAYS}")).await;
    let (_, costa) = json_feed(&app, &format!("/feed.json?author=Costa&{ALL_DAYS}")).await;
    let (_, narrowed) = json_feed(
        &app,
        &format!("/topics/kowalski.json?author=Costa&{ALL_DAYS}"),
    )
    .await;
    assert_eq!(narrowed, intersection(&topic, &costa));
    assert!(!narrowed.is_empty(), "some paper has both authors");
    assert!(narrowed.len() < topic.len() && narrowed.len() < costa.len());

    // Two request authors are one group: any of them, and the topic's author too.
    let (_, either) = json_feed(
        &app,
        &format!("/topics/kowalski.json?author=Costa&author=Tanaka&{ALL_DAYS}"),
    )
    .await;
    let (_, costa_or_tanaka) = json_feed(
        &app,
        &format!("/feed.json?author=Costa&author=Tanaka&{ALL_DAYS}"),
    )
    .await;
    assert_eq!(either, intersection(&topic, &costa_or_tanaka));
    assert!(either.len() > narrowed.len());

    let (_, nvidia) = json_feed(&app, &format!("/feed.json?org=nvidia&{ALL_DAYS}")).await;
    let (_, by_org) = json_feed(
        &app,
        &format!("/topics/kowalski.json?org=nvidia&{ALL_DAYS}"),
    )
    .await;
    assert_eq!(by_org, intersection(&topic, &nvidia));
}

#[tokio::test]
async fn request_values_replace_the_topics_own() {
    let app = spawn_app_with(|s| {
        s.topics = vec![
            topic("popular", "Popular", "min_upvotes=50"),
            topic(
                "top",
                "Top",
                "top=5&days=7&limit=10&sort=upvotes&has_code=true",
            ),
        ];
    })
    .await;
    // min_upvotes=0 replaces 50: everything.
    let (_, all) = json_feed(&app, &format!("/feed.json?{ALL_DAYS}")).await;
    let (_, replaced) = json_feed(
        &app,
        &format!("/topics/popular.json?min_upvotes=0&{ALL_DAYS}"),
    )
    .await;
    assert_eq!(replaced, all);
    let (_, popular) = json_feed(&app, &format!("/topics/popular.json?{ALL_DAYS}")).await;
    assert!(popular.len() < all.len());

    // The topic's own days, limit, sort, top and has_code apply when the request is silent...
    let (_, own) = json_feed(&app, "/topics/top.json").await;
    let (_, plain) = json_feed(
        &app,
        "/feed.json?top=5&days=7&limit=10&sort=upvotes&has_code=true",
    )
    .await;
    assert_eq!(own, plain);
    assert_eq!(own.len(), 10);
    // ...and the request's replace them.
    let override_query = "top=1&days=2&limit=50&sort=date&has_code=false";
    let (_, overridden) = json_feed(&app, &format!("/topics/top.json?{override_query}")).await;
    let (_, expected) = json_feed(&app, &format!("/feed.json?{override_query}")).await;
    assert_eq!(overridden, expected);
    assert_eq!(overridden.len(), 2, "one a day, two days");
}

#[tokio::test]
async fn topic_urls_refuse_format_and_bad_values_like_feeds_do() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("format=json", "format"),
        ("days=0", "days"),
        ("q=%22open", "q"),
    ] {
        let response = app.get(&format!("/topics/agents.rss?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["parameter"], parameter, "{query}");
    }
}

#[tokio::test]
async fn an_unknown_topic_is_a_404_problem() {
    let app = spawn_app().await;
    for path in [
        "/topics/nope.rss",
        "/topics/nope.json",
        "/topics/agents.xml",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 404);
    }
    let problem: Value = app.get("/topics/nope.atom").await.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("\"nope\""),
        "{problem}"
    );
}

#[tokio::test]
async fn topic_feeds_answer_head_and_conditional_get() {
    let app = spawn_app().await;
    let get = app.get("/topics/top-5.atom").await;
    let etag = get.headers()["etag"].to_str().unwrap().to_owned();
    let head = app
        .client
        .head(format!("{}/topics/top-5.atom", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"], etag.as_str());
    assert!(head.bytes().await.unwrap().is_empty());
    let again = app
        .get_with("/topics/top-5.atom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn every_starter_topic_selects_some_but_not_most_fixture_papers() {
    let app = spawn_app().await;
    let newest = chrono::NaiveDate::from_ymd_opt(2026, 8, 14).unwrap();
    let window = app.state.store.window(newest, 12).await;
    let total = select(
        &app.state.windows,
        &FeedQuery::default(),
        &window.lists,
        usize::MAX,
    )
    .len();
    assert_eq!(total, 172);
    let mut table = String::from("topic         | total | per day (08-03 .. 08-14)\n");
    for topic in app.state.topics.iter() {
        let mut per_day: BTreeMap<String, usize> = window
            .lists
            .iter()
            .map(|l| (l.date.format("%m-%d").to_string(), 0))
            .collect();
        let selected = select(&app.state.windows, &topic.query, &window.lists, usize::MAX);
        for paper in &selected {
            *per_day
                .entry(paper.day.format("%m-%d").to_string())
                .or_default() += 1;
        }
        let days: Vec<String> = per_day.iter().map(|(d, n)| format!("{d}:{n}")).collect();
        table.push_str(&format!(
            "{:<13} | {:>5} | {}\n",
            topic.name,
            selected.len(),
            days.join(" ")
        ));
        assert!(!selected.is_empty(), "{} selects nothing", topic.name);
        assert!(
            selected.len() * 2 < total,
            "{} selects {} of {total} papers",
            topic.name,
            selected.len()
        );
    }
    println!("{table}");
}

#[tokio::test]
async fn the_opml_lists_every_topic_with_absolute_urls_that_answer() {
    let app = spawn_app().await;
    // Atom by default: it is exact about text.
    for (query, extension) in [
        ("", "atom"),
        ("?format=rss", "rss"),
        ("?format=atom", "atom"),
        ("?format=json", "json"),
    ] {
        let response = app.get(&format!("/topics.opml{query}")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/x-opml; charset=utf-8"
        );
        assert_eq!(response.headers()["cache-control"], "public, max-age=600");
        let body = response.text().await.unwrap();
        let doc = roxmltree::Document::parse(&body).expect("OPML is well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "opml");
        assert_eq!(root.attribute("version"), Some("2.0"));
        let head_title = root
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap();
        assert!(head_title.starts_with("Hugging Face Daily Papers"));
        let outlines: Vec<_> = root
            .descendants()
            .filter(|n| n.has_tag_name("outline"))
            .collect();
        let topics: Vec<_> = app.state.topics.iter().collect();
        assert_eq!(outlines.len(), topics.len());
        for (outline, topic) in outlines.iter().zip(&topics) {
            assert_eq!(outline.attribute("type"), Some("rss"));
            assert_eq!(outline.attribute("text"), Some(topic.title.as_str()));
            assert_eq!(outline.attribute("title"), Some(topic.title.as_str()));
            let xml_url = outline.attribute("xmlUrl").unwrap();
            assert_eq!(
                xml_url,
                format!("{}/topics/{}.{extension}", app.address, topic.name)
            );
            for url in [xml_url, outline.attribute("htmlUrl").unwrap()] {
                let parsed = url::Url::parse(url).expect("an absolute URL");
                assert_eq!(parsed.host_str(), Some("127.0.0.1"), "{url}");
                assert_eq!(parsed.port(), Some(app.port), "{url}");
                let answer = app.client.get(url).send().await.unwrap();
                assert_eq!(answer.status(), 200, "{url}");
            }
        }
    }
}

#[tokio::test]
async fn the_opml_refuses_unknown_parameters_and_formats() {
    let app = spawn_app().await;
    for (query, parameter) in [("format=xml", "format"), ("q=agent", "q")] {
        let response = app.get(&format!("/topics.opml?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["parameter"], parameter);
    }
}

#[tokio::test]
async fn opml_titles_full_of_markup_stay_text() {
    let app = spawn_app_with(|s| {
        s.topics = vec![topic("markup", "Q&A <b>\"bold\"</b>", "q=table")];
    })
    .await;
    let body = app.get("/topics.opml").await.text().await.unwrap();
    let doc = roxmltree::Document::parse(&body).unwrap();
    let outline = doc
        .descendants()
        .find(|n| n.has_tag_name("outline"))
        .unwrap();
    assert_eq!(outline.attribute("text"), Some("Q&A <b>\"bold\"</b>"));
    assert!(!doc.descendants().any(|n| n.has_tag_name("b")));
}

#[test]
fn an_invalid_topic_in_the_settings_stops_start_up_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("paperboy-bad-topic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[[topics]]\nname = \"fine\"\ntitle = \"Fine\"\nquery = \"q=agent\"\n\n\
         [[topics]]\nname = \"broken\"\ntitle = \"Broken\"\nquery = \"q=agent&days=999\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .args(["--config", file.to_str().unwrap(), "--port", "0"])
        .env("PAPERBOY_UPSTREAM__BASE_URL", "http://127.0.0.1:9")
        .env("PAPERBOY_STORAGE__DATA_DIR", "")
        .current_dir(&dir)
        .output()
        .expect("the paperboy binary runs");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("invalid setting topics[1] (broken): query: days must be"),
        "{stderr}"
    );
}
