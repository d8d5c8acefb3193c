//! The three feed formats (contract sections 2, 5 and 6): each parsed by a real parser, the
//! same papers in each, the feed-level fields and the item fields, checked against the
//! fixtures.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

const HOME: &str = "https://huggingface.co/papers";
const BASE_TITLE: &str = "Hugging Face Daily Papers";

fn generator() -> String {
    format!("paperboy {}", env!("CARGO_PKG_VERSION"))
}

/// Upstream text cleaned the way the contract asks: characters XML 1.0 forbids dropped,
/// whitespace (arXiv wraps included) collapsed.
fn clean(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|&c| c.is_whitespace() || !(c < '\u{20}' || matches!(c, '\u{FFFE}' | '\u{FFFF}')))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The RSS self link (`atom:link rel="self"`).
fn rss_self_link(channel: &rss::Channel) -> String {
    channel
        .atom_ext()
        .expect("an atom extension on the channel")
        .links()
        .iter()
        .find(|l| l.rel() == "self")
        .expect("an atom:link rel=self")
        .href()
        .to_owned()
}

fn atom_link<'a>(feed: &'a atom_syndication::Feed, rel: &str) -> &'a str {
    &feed
        .links
        .iter()
        .find(|l| l.rel == rel)
        .unwrap_or_else(|| panic!("an Atom link rel={rel}"))
        .href
}

/// The self link of a body of any format.
fn self_link_of(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        return json["feed_url"].as_str().expect("feed_url").to_owned();
    }
    if let Ok(channel) = rss::Channel::read_from(body) {
        return rss_self_link(&channel);
    }
    atom_link(&parse_atom(body), "self").to_owned()
}

/// `body` with its self link written as in `other`'s body, so that two feeds that differ
/// only by their own URL compare equal.
fn with_self_link_of(body: &[u8], other: &[u8]) -> String {
    let (mine, theirs) = (self_link_of(body), self_link_of(other));
    let text = String::from_utf8(body.to_vec()).unwrap();
    if serde_json::from_slice::<Value>(body).is_ok() {
        text.replace(&mine, &theirs)
    } else {
        // XML escapes the `&` of the query.
        text.replace(&mine.replace('&', "&amp;"), &theirs.replace('&', "&amp;"))
    }
}

#[tokio::test]
async fn default_rss_feed_lists_the_last_three_days() {
    let app = spawn_app().await;
    let ids = app.ids("/feed.rss").await;
    // Default window 2026-08-12 ..= 2026-08-14 (6 + 7 + 107 papers), default limit 50,
    // newest day first, then upvotes (each fixture day is already in that order).
    let mut want = fixture_ids(&app.days, "2026-08-14");
    want.extend(fixture_ids(&app.days, "2026-08-13"));
    want.extend(fixture_ids(&app.days, "2026-08-12"));
    want.truncate(50);
    assert_eq!(ids, want);
    assert_eq!(ids[0], "2608.00168");
}

#[tokio::test]
async fn every_format_parses_with_a_real_parser_and_the_rss_validates() {
    let app = spawn_app().await;
    for query in [
        "",
        ALL_DAYS,
        "q=tensor&sort=upvotes&date=2026-08-14&days=12&limit=200",
        "author=M%C3%BCller&top=3&date=2026-08-14&days=12",
    ] {
        // `Feeds::get` asserts 200 and each content type, parses each body with feed-rs
        // and with `rss` (validated), `atom_syndication` and `serde_json`.
        let feeds = Feeds::get(&app, query).await;
        assert!(!feeds.ids().is_empty(), "{query}");
        assert_eq!(feeds.json["version"], "https://jsonfeed.org/version/1.1");
    }
}

#[tokio::test]
async fn the_three_formats_list_the_same_papers_with_the_same_links_in_the_same_order() {
    let app = spawn_app().await;
    for query in [
        "",
        ALL_DAYS,
        "q=tensor&sort=upvotes&date=2026-08-14&days=12&limit=200",
        "top=2&date=2026-08-14&days=12",
        "min_comments=5&has_code=true&date=2026-08-07&days=5",
    ] {
        let feeds = Feeds::get(&app, query).await;
        // Asserts that RSS, Atom and JSON give the same ids in the same order.
        let ids = feeds.ids();
        assert!(!ids.is_empty(), "{query}");
        let rss_links: Vec<&str> = feeds
            .rss
            .items()
            .iter()
            .map(|i| i.link().unwrap())
            .collect();
        let atom_links: Vec<&str> = feeds
            .atom
            .entries
            .iter()
            .map(|e| {
                let link = e
                    .links
                    .iter()
                    .find(|l| l.rel == "alternate")
                    .expect("an alternate link");
                link.href.as_str()
            })
            .collect();
        let json_links: Vec<&str> = feeds
            .json_items()
            .iter()
            .map(|i| i["url"].as_str().unwrap())
            .collect();
        let want: Vec<String> = ids.iter().map(|id| hf_url(id)).collect();
        assert_eq!(rss_links, want, "{query}: RSS links");
        assert_eq!(atom_links, want, "{query}: Atom links");
        assert_eq!(json_links, want, "{query}: JSON links");
    }
    // sort=upvotes really reorders.
    let by_upvotes = app
        .ids_for("q=tensor&sort=upvotes&date=2026-08-14&days=12&limit=200")
        .await;
    let by_date = app
        .ids_for("q=tensor&date=2026-08-14&days=12&limit=200")
        .await;
    assert_ne!(by_upvotes, by_date);
    // 2608.00028 (169 upvotes, 2026-08-06) ahead of 2608.00168 (94, the newest day).
    assert_eq!(by_upvotes[..3], ["2608.00028", "2608.00001", "2608.00168"]);
}

#[tokio::test]
async fn format_parameter_serves_the_same_feed_as_the_extension_and_defaults_to_rss() {
    let app = spawn_app().await;
    let query = "q=tensor&date=2026-08-13&days=2";
    for (by_param, by_path, content_type) in [
        (format!("/feed?format=rss&{query}"), "rss", RSS_TYPE),
        (format!("/feed?format=atom&{query}"), "atom", ATOM_TYPE),
        (format!("/feed?format=json&{query}"), "json", JSON_TYPE),
        (format!("/feed?{query}"), "rss", RSS_TYPE),
        ("/feed".to_owned(), "rss", RSS_TYPE),
    ] {
        let path = if by_param == "/feed" {
            "/feed.rss".to_owned()
        } else {
            format!("/feed.{by_path}?{query}")
        };
        let (type_a, body_a) = app.get_ok(&by_param).await;
        let (type_b, body_b) = app.get_ok(&path).await;
        assert_eq!(type_a, content_type, "{by_param}");
        assert_eq!(type_b, content_type, "{path}");
        // The two differ only by their own URL.
        assert_eq!(
            with_self_link_of(&body_a, &body_b),
            String::from_utf8(body_b.clone()).unwrap(),
            "{by_param} and {path} differ"
        );
        let feed = feed_rs::parser::parse(&body_a[..]).unwrap();
        assert!(!feed.entries.is_empty(), "{by_param}");
    }
}

#[tokio::test]
async fn feed_title_is_the_base_title_or_followed_by_a_summary_of_the_filters() {
    let app = spawn_app().await;
    for (query, title) in [
        ("", BASE_TITLE.to_owned()),
        (
            "q=diffusion&min_upvotes=10",
            format!("{BASE_TITLE} — q: diffusion, min_upvotes: 10"),
        ),
    ] {
        let feeds = Feeds::get(&app, query).await;
        assert_eq!(feeds.rss.title(), title, "RSS ?{query}");
        assert_eq!(feeds.atom.title.value, title, "Atom ?{query}");
        assert_eq!(feeds.json["title"], title.as_str(), "JSON ?{query}");
    }
}

#[tokio::test]
async fn feed_links_home_to_the_daily_papers_page() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "q=tensor").await;
    assert_eq!(feeds.rss.link(), HOME);
    assert_eq!(atom_link(&feeds.atom, "alternate"), HOME);
    assert_eq!(feeds.json["home_page_url"], HOME);
}

/// For `/feed.<ext>?<query>`: the RSS self link, the Atom self link, the Atom feed id and
/// the JSON `feed_url`.
async fn self_links(app: &TestApp, query: &str) -> [String; 4] {
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let (_, rss) = app.get_ok(&format!("/feed.rss{suffix}")).await;
    let (_, atom) = app.get_ok(&format!("/feed.atom{suffix}")).await;
    let (_, json) = app.get_ok(&format!("/feed.json{suffix}")).await;
    let atom_feed = parse_atom(&atom);
    [
        rss_self_link(&parse_rss(&rss)),
        atom_link(&atom_feed, "self").to_owned(),
        atom_feed.id,
        self_link_of(&json),
    ]
}

/// Queries whose text must come back exactly as sent: percent-encoding, `+`, a repeated
/// parameter, parameter order.
const RAW_QUERIES: [&str; 3] = [
    "",
    "q=%22neural+collapse%22&date=2026-08-14&days=12",
    "org=ai2&author=M%C3%BCller&org=mit&days=5",
];

#[tokio::test]
async fn self_link_is_the_public_url_with_the_path_and_the_query_as_received() {
    let app = spawn_app_with(|s| s.server.public_url = "https://feeds.example.org/".into()).await;
    for query in RAW_QUERIES {
        let suffix = |ext: &str| {
            if query.is_empty() {
                format!("https://feeds.example.org/feed.{ext}")
            } else {
                format!("https://feeds.example.org/feed.{ext}?{query}")
            }
        };
        let [rss, atom, atom_id, json] = self_links(&app, query).await;
        assert_eq!(rss, suffix("rss"), "RSS atom:link rel=self");
        assert_eq!(atom, suffix("atom"), "Atom link rel=self");
        assert_eq!(atom_id, suffix("atom"), "Atom feed id");
        assert_eq!(json, suffix("json"), "JSON feed_url");
    }
}

/// With `server.port = 0` the default public URL must use the port actually bound.
#[tokio::test]
async fn self_link_defaults_to_the_bound_address_and_port() {
    let app = spawn_app().await;
    for query in RAW_QUERIES {
        let base = format!("http://127.0.0.1:{}", app.port);
        let want = |ext: &str| {
            if query.is_empty() {
                format!("{base}/feed.{ext}")
            } else {
                format!("{base}/feed.{ext}?{query}")
            }
        };
        let [rss, atom, atom_id, json] = self_links(&app, query).await;
        assert_eq!(rss, want("rss"), "RSS atom:link rel=self");
        assert_eq!(atom, want("atom"), "Atom link rel=self");
        assert_eq!(atom_id, want("atom"), "Atom feed id");
        assert_eq!(json, want("json"), "JSON feed_url");
    }
}

#[tokio::test]
async fn rss_ttl_is_max_age_in_minutes_and_the_generator_names_paperboy_and_its_version() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "").await;
    assert_eq!(feeds.rss.ttl(), Some("10"));
    assert_eq!(feeds.rss.generator(), Some(generator().as_str()));
    let atom_generator = feeds.atom.generator.as_ref().expect("an Atom generator");
    assert_eq!(
        format!(
            "{} {}",
            atom_generator.value,
            atom_generator.version.as_deref().unwrap_or("")
        ),
        generator()
    );

    // ttl follows server.max_age.
    let app = spawn_app_with(|s| s.server.max_age = std::time::Duration::from_secs(1800)).await;
    assert_eq!(app.rss_feed("").await.ttl(), Some("30"));
}

/// RSS `lastBuildDate`, Atom `updated` and the `Last-Modified` header of one query,
/// asserted to be the same moment; returns it.
async fn build_date(app: &TestApp, query: &str) -> DateTime<Utc> {
    let response = app.get(&format!("/feed.rss?{query}")).await;
    let header = response
        .headers()
        .get("last-modified")
        .expect("a Last-Modified header")
        .to_str()
        .unwrap()
        .to_owned();
    let last_modified = DateTime::parse_from_rfc2822(&header.replace("GMT", "+0000"))
        .expect("an HTTP date")
        .to_utc();
    let channel = parse_rss(&response.bytes().await.unwrap());
    let rss = DateTime::parse_from_rfc2822(channel.last_build_date().expect("a lastBuildDate"))
        .expect("an RFC 2822 lastBuildDate")
        .to_utc();
    let atom = app.atom_feed(query).await.updated.to_utc();
    assert_eq!(
        rss, last_modified,
        "{query}: lastBuildDate and Last-Modified"
    );
    assert_eq!(
        atom, last_modified,
        "{query}: Atom updated and Last-Modified"
    );
    last_modified
}

#[tokio::test]
async fn build_date_is_when_the_lists_last_changed_not_when_they_were_fetched() {
    let app = spawn_app().await;
    // 2026-08-12 and 2026-08-13: their newest paper entered at 2026-08-13T23:25:12.777Z
    // (2608.00161), before the pinned now. The lists changed no earlier than that.
    let query = "date=2026-08-13&days=2";
    let built = build_date(&app, query).await;
    let newest_item = app.json_feed(&format!("{query}&limit=200")).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            DateTime::parse_from_rfc3339(i["date_published"].as_str().unwrap())
                .unwrap()
                .to_utc()
        })
        .max()
        .unwrap();
    assert_eq!(
        newest_item,
        "2026-08-13T23:25:12.777Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert!(built.timestamp() >= newest_item.timestamp(), "{built}");
    assert!(built < NOW.parse::<DateTime<Utc>>().unwrap(), "{built}");

    // Asked again an hour later with nothing changed upstream: the same moment.
    app.clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(build_date(&app, query).await, built);
}

/// The default window includes 2026-08-14, whose top paper says it entered Daily Papers at
/// 23:04, after the pinned now (12:00): such future moments must not drag the list's
/// "changed" time to its fetch time, i.e. to "now".
#[tokio::test]
async fn build_date_of_the_default_feed_is_never_the_pinned_now() {
    let app = spawn_app().await;
    let built = build_date(&app, "").await;
    let now: DateTime<Utc> = NOW.parse().unwrap();
    assert_ne!(
        built, now,
        "lastBuildDate / Atom updated / Last-Modified is the pinned now"
    );
    assert!(built < now);
}

#[tokio::test]
async fn items_carry_guid_link_title_authors_categories_and_extension_from_the_fixture() {
    let app = spawn_app().await;
    // 2026-08-03 ..= 2026-08-07: old-shape items, markup, control characters, Unicode.
    let query = "date=2026-08-07&days=5&limit=200";
    let feeds = Feeds::get(&app, query).await;
    let ids = feeds.ids();
    assert_eq!(ids.len(), 38);

    for date in [
        "2026-08-03",
        "2026-08-04",
        "2026-08-05",
        "2026-08-06",
        "2026-08-07",
    ] {
        for item in app.days.get(date) {
            let paper = &item["paper"];
            let id = paper["id"].as_str().unwrap();
            let url = hf_url(id);

            let title = clean(item["title"].as_str().unwrap());
            assert_eq!(feeds.title(id), title, "{id}");
            let names: Vec<String> = paper["authors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| clean(a["name"].as_str().unwrap()))
                .collect();
            // Atom one author per name, JSON the list, RSS one dc:creator "a, b, c".
            assert_eq!(feeds.authors(id), names, "{id}");
            let keywords: Vec<String> = paper["ai_keywords"]
                .as_array()
                .map(|k| k.iter().map(|k| clean(k.as_str().unwrap())).collect())
                .unwrap_or_default();

            // RSS
            let rss = feeds.rss_item(id);
            let guid = rss.guid().expect("a guid");
            assert_eq!(guid.value(), url, "{id}");
            assert!(guid.is_permalink(), "{id}: guid isPermaLink");
            assert_eq!(rss.link(), Some(url.as_str()), "{id}");
            let categories: Vec<&str> = rss.categories().iter().map(|c| c.name()).collect();
            assert_eq!(categories, keywords, "{id}: RSS categories");

            // Atom
            let entry = feeds.atom_entry(id);
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, keywords, "{id}: Atom categories");
            assert_eq!(
                entry.content.as_ref().unwrap().content_type.as_deref(),
                Some("html"),
                "{id}"
            );

            // JSON
            let json = feeds.json_item(id);
            assert_eq!(json["url"], url.as_str(), "{id}");
            assert_eq!(json["external_url"], format!("https://arxiv.org/abs/{id}"));
            assert_eq!(json["image"], item["thumbnail"], "{id}: image");
            match paper["ai_summary"].as_str() {
                Some(summary) => assert_eq!(json["summary"], clean(summary), "{id}"),
                None => assert!(json.get("summary").is_none(), "{id}"),
            }
            if keywords.is_empty() {
                assert!(json.get("tags").is_none(), "{id}");
            } else {
                assert_eq!(json["tags"], json!(keywords), "{id}: tags");
            }
            let organization = paper["organization"]
                .as_object()
                .map(|o| json!({"name": o["name"], "fullname": o["fullname"]}))
                .unwrap_or(Value::Null);
            assert_eq!(
                json["_paperboy"],
                json!({
                    "arxiv_id": id,
                    "upvotes": paper["upvotes"],
                    "comments": item["numComments"],
                    "github_repo": paper["githubRepo"],
                    "github_stars": paper["githubStars"],
                    "project_page": paper["projectPage"],
                    "organization": organization,
                }),
                "{id}: _paperboy"
            );
        }
    }
}

#[tokio::test]
async fn item_content_links_arxiv_pdf_github_with_stars_project_page_and_organization() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "date=2026-08-06&days=3").await;

    // 2608.00030 has every optional field.
    let id = "2608.00030";
    let html = feeds.content(id);
    for part in [
        r#"<img src="https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2608.00030.png""#,
        "<strong>AI summary:</strong> Pre-trained models produce strong generic representations \
         that can be adapted via fine-tuning.",
        "▲ 0 upvotes · 5 comments",
        r#"<a href="https://arxiv.org/abs/2608.00030">"#,
        r#"<a href="https://arxiv.org/pdf/2608.00030">"#,
        r#"<a href="https://github.com/ml-group/Knowledge-Composition-using-Ta">GitHub</a> ★ 12800"#,
        r#"<a href="https://2608-00030.github.io/">Project page</a>"#,
        "Stanford University",
        r#"<a href="https://huggingface.co/papers/2608.00030">"#,
    ] {
        assert!(html.contains(part), "{id}: no {part:?} in\n{html}");
    }
    let json = feeds.json_item(id);
    assert_eq!(json["external_url"], "https://arxiv.org/abs/2608.00030");
    assert_eq!(
        json["image"],
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2608.00030.png"
    );
    assert_eq!(
        json["summary"],
        "Pre-trained models produce strong generic representations that can be adapted via \
         fine-tuning."
    );
    assert_eq!(
        json["_paperboy"],
        json!({
            "arxiv_id": "2608.00030",
            "upvotes": 0,
            "comments": 5,
            "github_repo": "https://github.com/ml-group/Knowledge-Composition-using-Ta",
            "github_stars": 12800,
            "project_page": "https://2608-00030.github.io/",
            "organization": {"name": "stanford", "fullname": "Stanford University"},
        })
    );
    assert_eq!(json["_paperboy"].as_object().unwrap().len(), 7);
    // The Atom summary is the AI summary.
    assert_eq!(
        feeds
            .atom_entry(id)
            .summary
            .as_ref()
            .map(|s| s.value.as_str()),
        json["summary"].as_str()
    );

    // 2608.00009 (2026-08-04) has no GitHub, project page or organization.
    let html = feeds.content("2608.00009");
    assert!(html.contains(r#"<a href="https://arxiv.org/abs/2608.00009">"#));
    assert!(html.contains(r#"<a href="https://arxiv.org/pdf/2608.00009">"#));
    for absent in ["GitHub", "Project page", "Organization"] {
        assert!(!html.contains(absent), "2608.00009: {absent} in\n{html}");
    }
    let extension = &feeds.json_item("2608.00009")["_paperboy"];
    assert_eq!(extension.as_object().unwrap().len(), 7);
    for key in [
        "github_repo",
        "github_stars",
        "project_page",
        "organization",
    ] {
        assert_eq!(extension[key], Value::Null, "2608.00009: {key}");
    }
}

#[tokio::test]
async fn content_types_are_exact_for_every_feed_path() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/feed.rss", RSS_TYPE),
        ("/feed.atom", ATOM_TYPE),
        ("/feed.json", JSON_TYPE),
        ("/feed", RSS_TYPE),
        ("/feed?format=rss", RSS_TYPE),
        ("/feed?format=atom", ATOM_TYPE),
        ("/feed?format=json", JSON_TYPE),
    ] {
        let (got, _) = app.get_ok(path).await;
        assert_eq!(got, content_type, "{path}");
    }
}
