//! The HTML pages `/` and `/preview`, parsed with a real HTML parser.

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn text(element: ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_owned()
}

/// GET an HTML page: its status and the parsed document, which must parse without errors.
async fn page(app: &TestApp, path: &str) -> (u16, Html) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8",
        "{path}"
    );
    let body = response.text().await.unwrap();
    assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
    let doc = Html::parse_document(&body);
    assert!(doc.errors.is_empty(), "{path}: {:?}", doc.errors);
    assert!(
        doc.select(&sel("script")).next().is_none(),
        "{path} needs no script"
    );
    assert!(
        doc.select(&sel(r#"meta[name="viewport"]"#))
            .next()
            .is_some(),
        "{path} is readable on a phone"
    );
    (status, doc)
}

/// Every form control has a label pointing at it.
fn assert_every_field_is_labelled(doc: &Html) {
    let labels: Vec<String> = doc
        .select(&sel("label[for]"))
        .map(|l| l.value().attr("for").unwrap().to_owned())
        .collect();
    let mut fields = 0;
    for field in doc.select(&sel("input, select, textarea")) {
        let id = field.value().attr("id").expect("every field has an id");
        assert!(labels.iter().any(|l| l == id), "no label for {id}");
        fields += 1;
    }
    assert!(fields > 0);
}

/// The titles of the JSON feed of `query`.
async fn feed_titles(app: &TestApp, query: &str) -> Vec<String> {
    let feed: Value = app
        .get(&format!("/feed.json?{query}"))
        .await
        .json()
        .await
        .unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_home_page_carries_one_autodiscovery_link_per_feed() {
    let app = spawn_app().await;
    let (status, doc) = page(&app, "/").await;
    assert_eq!(status, 200);
    let links: Vec<(String, String)> = doc
        .select(&sel(r#"head link[rel="alternate"]"#))
        .map(|l| {
            let v = l.value();
            (
                v.attr("type").unwrap().to_owned(),
                v.attr("href").unwrap().to_owned(),
            )
        })
        .collect();
    let topics = app.state.topics.iter().count();
    assert_eq!(links.len(), 3 * (topics + 1));
    for (kind, extension) in [
        ("application/rss+xml", "rss"),
        ("application/atom+xml", "atom"),
        ("application/feed+json", "json"),
    ] {
        for topic in app.state.topics.iter() {
            let href = format!("{}/topics/{}.{extension}", app.address, topic.name);
            assert!(links.contains(&(kind.to_owned(), href.clone())), "{href}");
        }
        let all = format!("{}/feed.{extension}", app.address);
        assert!(links.contains(&(kind.to_owned(), all)));
    }
    for (_, href) in &links {
        assert_eq!(app.client.get(href).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn the_home_page_lists_every_topic_with_its_count_and_links() {
    let app = spawn_app().await;
    let (_, doc) = page(&app, "/").await;
    let items: Vec<ElementRef> = doc.select(&sel("ul.topics > li")).collect();
    let topics: Vec<_> = app.state.topics.iter().collect();
    assert_eq!(items.len(), topics.len());
    for (item, topic) in items.iter().zip(&topics) {
        let title = item.select(&sel(".topic-title")).next().unwrap();
        assert_eq!(text(title), topic.title);
        let description = item.select(&sel(".desc")).next().unwrap();
        assert_eq!(text(description), topic.description);
        // The count is the topic feed's length over the default 3 days.
        let feed: Value = app
            .get(&format!("/topics/{}.json?limit=200", topic.name))
            .await
            .json()
            .await
            .unwrap();
        let expected = feed["items"].as_array().unwrap().len();
        let count = text(item.select(&sel(".count")).next().unwrap());
        let plural = if expected == 1 { "" } else { "s" };
        assert_eq!(count, format!("{expected} paper{plural} in 3 days"));
        let hrefs: Vec<&str> = item
            .select(&sel(".links a"))
            .map(|a| a.value().attr("href").unwrap())
            .collect();
        for extension in ["rss", "atom", "json"] {
            let url = format!("{}/topics/{}.{extension}", app.address, topic.name);
            assert!(hrefs.contains(&url.as_str()), "{url} in {hrefs:?}");
        }
    }
    let top5 = items[topics.iter().position(|t| t.name == "top-5").unwrap()];
    assert_eq!(
        text(top5.select(&sel(".count")).next().unwrap()),
        "15 papers in 3 days",
        "five a day for 08-12, 08-13 and 08-14"
    );
    let opml: Vec<&str> = doc
        .select(&sel("a"))
        .filter_map(|a| a.value().attr("href"))
        .filter(|h| h.contains("/topics.opml"))
        .collect();
    assert!(opml.contains(&format!("{}/topics.opml", app.address).as_str()));
}

#[tokio::test]
async fn the_home_page_form_has_a_labelled_field_per_parameter_and_submits_to_preview() {
    let app = spawn_app().await;
    let (_, doc) = page(&app, "/").await;
    let form = doc.select(&sel("form")).next().unwrap();
    assert_eq!(form.value().attr("action"), Some("/preview"));
    assert_eq!(form.value().attr("method"), Some("get"));
    let names: Vec<&str> = form
        .select(&sel("input[name], select[name]"))
        .map(|f| f.value().attr("name").unwrap())
        .collect();
    for parameter in [
        "q",
        "author",
        "org",
        "min_upvotes",
        "min_comments",
        "has_code",
        "date",
        "days",
        "top",
        "sort",
        "limit",
        "week",
        "month",
        "period",
        "count",
    ] {
        assert!(names.contains(&parameter), "{parameter} in {names:?}");
    }
    assert!(!names.contains(&"format"), "the preview shows every format");
    assert_every_field_is_labelled(&doc);
}

#[tokio::test]
async fn the_home_page_says_when_counts_are_unavailable() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let (status, doc) = page(&app, "/").await;
    assert_eq!(status, 200, "the page does not need upstream");
    let count = doc.select(&sel(".count")).next().unwrap();
    assert_eq!(text(count), "count unavailable");
}

#[tokio::test]
async fn the_preview_lists_the_papers_the_feed_would_hold_and_its_urls() {
    let app = spawn_app().await;
    let query = "q=quantization&date=2026-08-14&days=12";
    let form_query = format!("{query}&author=&org=&min_upvotes=&has_code=&sort=&limit=");
    let (status, doc) = page(&app, &format!("/preview?{form_query}")).await;
    assert_eq!(status, 200);
    let titles: Vec<String> = doc.select(&sel(".paper-title")).map(text).collect();
    let expected = feed_titles(&app, query).await;
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(titles, expected);
    let first = doc.select(&sel("ol.papers > li")).next().unwrap();
    let link = first.select(&sel("a.paper-title")).next().unwrap();
    assert!(
        link.value()
            .attr("href")
            .unwrap()
            .starts_with("https://huggingface.co/papers/")
    );
    assert!(!text(first.select(&sel(".authors")).next().unwrap()).is_empty());
    assert!(text(first.select(&sel(".upvotes")).next().unwrap()).ends_with("upvotes"));
    assert!(
        first.select(&sel("time[datetime]")).next().is_some(),
        "the day"
    );

    // The feed URLs are exactly that query, without the empty fields.
    for (id, extension) in [
        ("url-rss", "rss"),
        ("url-atom", "atom"),
        ("url-json", "json"),
    ] {
        let input = doc.select(&sel(&format!("input#{id}"))).next().unwrap();
        let url = input.value().attr("value").unwrap();
        assert_eq!(
            url,
            format!(
                "{}/feed.{extension}?q=quantization&date=2026-08-14&days=12",
                app.address
            )
        );
        assert_eq!(app.client.get(url).send().await.unwrap().status(), 200);
    }
    // The form shows the query back.
    let q = doc.select(&sel("input#q")).next().unwrap();
    assert_eq!(q.value().attr("value"), Some("quantization"));
    assert_every_field_is_labelled(&doc);
}

#[tokio::test]
async fn bad_preview_parameters_show_the_feeds_detail_with_a_400() {
    let app = spawn_app().await;
    for query in [
        "days=0",
        "q=%22open",
        "date=2026-08-15",
        "utm_source=x",
        "format=rss",
    ] {
        let problem: Value = app
            .get(&format!("/feed.rss?{query}"))
            .await
            .json()
            .await
            .unwrap();
        let (status, doc) = page(&app, &format!("/preview?{query}")).await;
        assert_eq!(status, 400, "{query}");
        let detail = doc.select(&sel("#error-detail")).next().unwrap();
        assert_eq!(text(detail), problem["detail"].as_str().unwrap(), "{query}");
        assert!(doc.select(&sel(".paper-title")).next().is_none());
        assert!(doc.select(&sel("form")).next().is_some(), "to fix it");
    }
}

#[tokio::test]
async fn upstream_text_full_of_markup_is_shown_as_text() {
    let app = spawn_app().await;
    let (status, doc) = page(&app, "/preview?date=2026-08-04&days=1").await;
    assert_eq!(status, 200);
    let titles: Vec<String> = doc.select(&sel(".paper-title")).map(text).collect();
    assert!(
        titles.contains(&"Q&A over <Tables>: When \"Less\" Is More & Why".to_owned()),
        "{titles:?}"
    );
    assert!(doc.select(&sel("tables")).next().is_none());

    // A query value full of markup is shown back as text too.
    let (_, doc) = page(&app, "/preview?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E").await;
    let q = doc.select(&sel("input#q")).next().unwrap();
    assert_eq!(
        q.value().attr("value"),
        Some("\"><script>alert(1)</script>")
    );
}

#[tokio::test]
async fn the_preview_is_a_503_page_when_no_day_can_be_loaded() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let response = app.get("/preview?q=agent").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let doc = Html::parse_document(&response.text().await.unwrap());
    let detail = text(doc.select(&sel("#error-detail")).next().unwrap());
    assert!(
        detail.starts_with("Hugging Face could not be reached"),
        "{detail}"
    );
}

#[tokio::test]
async fn pages_refuse_other_methods() {
    let app = spawn_app().await;
    for page in ["/", "/preview"] {
        let response = app
            .client
            .post(format!("{}{page}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{page}");
    }
}

#[tokio::test]
async fn each_topic_row_leads_with_atom_and_offers_its_daily_and_weekly_digest() {
    let app = spawn_app().await;
    let (_, doc) = page(&app, "/").await;
    let why = text(
        doc.select(&sel(".why"))
            .next()
            .expect("a line saying why Atom"),
    );
    assert!(why.starts_with("Atom comes first"), "{why}");
    for item in doc.select(&sel("ul.topics > li")) {
        let links: Vec<ElementRef> = item.select(&sel(".links a")).collect();
        assert_eq!(text(links[0]), "Atom");
        let hrefs: Vec<&str> = links
            .iter()
            .map(|a| a.value().attr("href").unwrap())
            .collect();
        let daily = hrefs.iter().find(|h| h.ends_with("/digest.atom")).unwrap();
        let weekly = hrefs
            .iter()
            .find(|h| h.ends_with("/digest.atom?period=week"))
            .unwrap();
        for url in [daily, weekly] {
            let response = app.client.get(*url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
        }
    }
    // Autodiscovery and the OPML lead with Atom too.
    let first_alternate = doc.select(&sel(r#"link[rel="alternate"]"#)).next().unwrap();
    assert_eq!(
        first_alternate.value().attr("type"),
        Some("application/atom+xml")
    );
}

#[tokio::test]
async fn the_preview_shows_each_papers_summary_or_the_start_of_its_abstract() {
    let app = spawn_app().await;
    let (_, doc) = page(&app, "/preview?date=2026-08-14&days=1&limit=200").await;
    let feed = app.json_feed("date=2026-08-14&days=1&limit=200").await;
    let items = feed["items"].as_array().unwrap();
    let shown: Vec<ElementRef> = doc.select(&sel("ol.papers > li")).collect();
    assert_eq!(shown.len(), items.len());
    for (li, item) in shown.iter().zip(items) {
        let summary = li
            .select(&sel(".summary"))
            .next()
            .map(text)
            .unwrap_or_default();
        match item["summary"].as_str() {
            Some(ai) => assert_eq!(summary, ai),
            None => {
                // The start of the abstract: a prefix of it, whitespace collapsed.
                let id = item["_paperboy"]["arxiv_id"].as_str().unwrap();
                let raw = fixture_item(&app.days, "2026-08-14", id);
                let abstract_text: String = raw["paper"]["summary"]
                    .as_str()
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let start = summary.trim_end_matches('…');
                assert!(!start.is_empty(), "{id} shows nothing");
                assert!(abstract_text.starts_with(start), "{id}: {start:?}");
            }
        }
    }
    assert!(doc.select(&sel(".summary")).count() > 0);
}

#[tokio::test]
async fn a_digest_preview_shows_the_periods_as_the_digest_will() {
    let app = spawn_app().await;
    let query = "period=week&count=3&top=4&q=&days=&limit=&sort=&week=&month=";
    let (status, doc) = page(&app, &format!("/preview?{query}")).await;
    assert_eq!(status, 200);
    let feed: Value = app
        .get("/digest.json?period=week&count=3&top=4")
        .await
        .json()
        .await
        .unwrap();
    let expected: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(expected, ["Top 4 papers of week 32 of 2026 (3–9 August)"]);
    let shown: Vec<String> = doc.select(&sel(".period-title")).map(text).collect();
    assert_eq!(shown, expected);
    let period = doc.select(&sel("article.period")).next().unwrap();
    assert_eq!(period.select(&sel("li")).count(), 4);
    let atom = doc.select(&sel("input#url-atom")).next().unwrap();
    let url = atom.value().attr("value").unwrap();
    assert_eq!(
        url,
        format!("{}/digest.atom?top=4&period=week&count=3", app.address)
    );
    assert_eq!(app.client.get(url).send().await.unwrap().status(), 200);
    // The digest's count alone asks for a digest too: a daily one.
    let (status, doc) = page(&app, "/preview?period=&count=2").await;
    assert_eq!(status, 200);
    assert_eq!(
        doc.select(&sel("article.period")).count(),
        2,
        "08-13 and 08-12"
    );
    // A digest refuses what does not apply to it, on the page too.
    let (status, doc) = page(&app, "/preview?period=day&days=3").await;
    assert_eq!(status, 400);
    assert!(text(doc.select(&sel("#error-detail")).next().unwrap()).contains("days"));
}
