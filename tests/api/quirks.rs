//! Every quirk of `tests/fixtures/hf-api/README.md`, asserted on what the feeds say. Each
//! format is read by a real parser: RSS with `rss` (and validated), Atom with the strict
//! reader of `atom_syndication`, JSON Feed as JSON, and all three with `feed-rs`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::helpers::*;

/// Whitespace collapsed to single spaces, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text escaped for HTML the plain way: `&`, `<`, `>`.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn midnight(date: &str) -> DateTime<Utc> {
    date.parse::<NaiveDate>()
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

#[tokio::test]
async fn old_shape_day_lists_every_paper_at_the_list_date_with_arxiv_wraps_joined() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "date=2026-08-03&days=1").await;
    let ids = feeds.ids();
    assert_eq!(ids, fixture_ids(&app.days, "2026-08-03"));
    assert_eq!(ids.len(), 7);

    for item in app.days.get("2026-08-03") {
        let id = item["paper"]["id"].as_str().unwrap();
        // No submittedOnDailyAt: the list's date at 00:00 UTC.
        assert_eq!(feeds.date(id), midnight("2026-08-03"), "{id}");

        let title = feeds.title(id);
        assert!(
            !title.contains('\n') && !title.contains("  "),
            "{id}: {title:?}"
        );
        assert_eq!(title, collapse(item["paper"]["title"].as_str().unwrap()));

        // The only abstract is `paper.summary`, full of hard wraps.
        let raw_abstract = item["paper"]["summary"].as_str().unwrap();
        assert!(raw_abstract.contains('\n'));
        let content = feeds.content(id);
        let joined = format!("<p>{}</p>", escape_text(&collapse(raw_abstract)));
        assert!(
            content.contains(&joined),
            "{id}: the content lacks the joined abstract\n{content}"
        );
        assert!(!content.contains('\n'), "{id}: {content:?}");

        // No ai_summary, no ai_keywords.
        assert!(!content.contains("AI summary"), "{id}");
        assert!(feeds.rss_item(id).categories().is_empty(), "{id}");
        let json = feeds.json_item(id).as_object().unwrap();
        assert!(
            !json.contains_key("summary") && !json.contains_key("tags"),
            "{id}"
        );
    }

    // Two wrapped titles, spelled out.
    assert_eq!(
        feeds.title("2608.00005"),
        "Investigating the Benefits of Projection Head for Representation Learning"
    );
    assert_eq!(
        feeds.title("2608.00003"),
        "Network Memory Footprint Compression Through Jointly Learnable Codebooks and Mappings"
    );
    assert!(feeds.content("2608.00002").contains(
        "Deep Learning (DL) in neuroimaging has become increasingly relevant for detecting \
         neurological conditions and neurodegenerative disorders."
    ));
}

#[tokio::test]
async fn title_full_of_markup_reads_back_as_text_in_every_format() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "date=2026-08-04&days=1").await;
    let id = "2608.00015";

    assert_eq!(
        feeds.title(id),
        r#"Q&A over <Tables>: When "Less" Is More & Why"#
    );
    // feed-rs reads the same text from each format.
    for ext in ["rss", "atom", "json"] {
        let feed = app
            .feed(&format!("/feed.{ext}?date=2026-08-04&days=1"))
            .await;
        let entry = feed
            .entries
            .iter()
            .find(|e| arxiv_id(&e.id) == id)
            .unwrap_or_else(|| panic!("{id} missing from {ext}"));
        assert_eq!(
            entry.title.as_ref().unwrap().content,
            r#"Q&A over <Tables>: When "Less" Is More & Why"#,
            "{ext}"
        );
    }

    // The abstract and AI summary ("markup such as <b>bold</b> and entities like &amp;")
    // are shown as text: escaped once more in the HTML, never passed through.
    let content = feeds.content(id);
    assert!(
        content.contains(
            "We study table QA where inputs contain markup such as &lt;b&gt;bold&lt;/b&gt; and \
             entities like &amp;amp; that must be shown as text, not parsed."
        ),
        "{content}"
    );
    assert!(content.contains("&lt;b&gt;") && content.contains("&amp;amp;"));
    for raw in ["<b>", "</b>", "<Tables>", "<Tables"] {
        assert!(!content.contains(raw), "{raw} passed through: {content}");
    }
    // An author with an apostrophe.
    assert!(feeds.authors(id).contains(&"Amara O'Brien".to_owned()));

    // The JSON `summary` is plain text: the AI summary exactly as upstream wrote it.
    assert_eq!(
        feeds.json_item(id)["summary"],
        "We study table QA where inputs contain markup such as <b>bold</b> and entities like \
         &amp; that must be shown as text, not parsed."
    );
}

#[tokio::test]
async fn characters_xml_forbids_are_removed_and_every_format_still_parses() {
    let app = spawn_app().await;
    // `Feeds::get` parses all three formats strictly and validates the RSS.
    let feeds = Feeds::get(&app, "date=2026-08-05&days=1").await;
    assert_eq!(feeds.ids(), fixture_ids(&app.days, "2026-08-05"));

    let forbidden = ['\u{7}', '\u{B}', '\u{1}', '\u{1F}'];
    for (body, format) in feeds.bodies.iter().zip(["RSS", "Atom", "JSON"]) {
        let text = std::str::from_utf8(body).expect("UTF-8");
        for c in forbidden {
            assert!(!text.contains(c), "{format} holds U+{:04X}", c as u32);
        }
        // Nor escaped in JSON (serde writes them as \u0007 ...).
        for escaped in ["\\u0007", "\\u000b", "\\u0001", "\\u001f"] {
            assert!(
                !text.to_ascii_lowercase().contains(escaped),
                "{format} holds {escaped}"
            );
        }
    }

    let id = "2608.00023";
    assert_eq!(feeds.title(id), "Control Characters in Abstracts");
    assert!(feeds.content(id).contains(
        "<p>Some upstream abstracts carry characters that XML 1.0 forbids; a feed must drop \
         them and stay well-formed.</p>"
    ));
}

#[tokio::test]
async fn emoji_accents_and_cjk_survive_in_titles_authors_and_text() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "date=2026-08-07&days=1").await;
    assert_eq!(feeds.ids(), fixture_ids(&app.days, "2026-08-07"));

    let id = "2608.00038";
    assert_eq!(
        feeds.title(id),
        "🚀 RocketLM: Emoji, Ümlauts and 漢字 in Titles"
    );
    assert_eq!(
        feeds.authors(id),
        [
            "Priya Silva",
            "Sara Søgaard",
            "Emre Haddad",
            "Henrik Schäfer",
            "Björn Wang"
        ]
    );
    let content = feeds.content(id);
    assert!(
        content.contains("Unicode everywhere: naïve café résumé, 日本語のテキスト, and emoji 🤗."),
        "{content}"
    );
    let tags = &feeds.json_item(id)["tags"];
    assert_eq!(
        *tags,
        serde_json::json!(["unicode", "titles", "everywhere", "RocketLM", "Emoji"])
    );

    // Every paper of the day keeps its accented author names, in order.
    for item in app.days.get("2026-08-07") {
        let id = item["paper"]["id"].as_str().unwrap();
        let want: Vec<String> = item["paper"]["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(feeds.authors(id), want, "{id}");
    }
}

#[tokio::test]
async fn an_empty_weekend_window_is_a_valid_empty_feed_in_every_format() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, "date=2026-08-09&days=2").await;
    assert!(feeds.rss.items().is_empty());
    assert!(feeds.atom.entries.is_empty());
    assert_eq!(feeds.json["items"], serde_json::json!([]));
    assert_eq!(feeds.rss.title(), "Hugging Face Daily Papers");
    assert_eq!(feeds.json["version"], "https://jsonfeed.org/version/1.1");
    // Both days were asked for: `[]` is a normal day, not a failure.
    assert!(app.upstream_requests_for("2026-08-08").await >= 1);
    assert!(app.upstream_requests_for("2026-08-09").await >= 1);
}

#[tokio::test]
async fn a_paper_listed_again_appears_once_counted_for_the_newer_day_with_its_own_date() {
    let app = spawn_app().await;
    let id = "2608.00041";
    // The fixture really lists it on both days.
    assert!(fixture_ids(&app.days, "2026-08-10").contains(&id.to_owned()));
    assert!(fixture_ids(&app.days, "2026-08-11").contains(&id.to_owned()));

    let feeds = Feeds::get(&app, "date=2026-08-11&days=2").await;
    let ids = feeds.ids();
    assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "{ids:?}");
    // sort=date: 08-11 first (10 then 7 upvotes, then the zeros by id), then 08-10. Counted
    // for 08-10 it would lead the 08-10 group instead (7 upvotes beat 6).
    assert_eq!(
        ids,
        [
            "2608.00048",
            "2608.00041",
            "2608.00046",
            "2608.00047",
            "2608.00049",
            "2608.00050",
            "2608.00051",
            "2608.00052",
            "2608.00044",
            "2608.00039",
            "2608.00045",
            "2608.00040",
            "2608.00042",
            "2608.00043",
        ]
    );
    // Its date is its own submittedOnDailyAt (2026-08-10T00:00:00.000Z), not 08-11's.
    assert_eq!(feeds.date(id), utc("2026-08-10T00:00:00Z"));

    // top=1 keeps the most upvoted of each day: on 08-11 that is 2608.00048 (10), on 08-10
    // 2608.00044 (6), since 2608.00041 (7) belongs to 08-11.
    assert_eq!(
        app.ids_for("top=1&date=2026-08-11&days=2").await,
        ["2608.00048", "2608.00044"]
    );
    assert_eq!(
        app.ids_for("top=2&date=2026-08-11&days=2").await,
        ["2608.00048", "2608.00041", "2608.00044", "2608.00039"]
    );
    // Without 08-11 in the window, 08-10 keeps it.
    assert_eq!(
        app.ids_for("top=1&date=2026-08-10&days=1").await,
        ["2608.00041"]
    );
}

#[tokio::test]
async fn a_day_longer_than_one_upstream_page_is_read_in_full() {
    let app = spawn_app().await;
    let ids = app.ids_for("date=2026-08-12&days=1&limit=200").await;
    assert_eq!(ids.len(), 107);
    // The fixture is sorted as the feed is (upvotes descending, then id).
    assert_eq!(ids, fixture_ids(&app.days, "2026-08-12"));

    let pages: Vec<(String, String)> = app
        .upstream
        .received_requests()
        .await
        .expect("wiremock records requests")
        .iter()
        .filter(|r| {
            r.url
                .query_pairs()
                .any(|(k, v)| k == "date" && v == "2026-08-12")
        })
        .map(|r| {
            let get = |key: &str| {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (get("p"), get("limit"))
        })
        .collect();
    assert!(pages.contains(&("0".into(), "100".into())), "{pages:?}");
    assert!(pages.contains(&("1".into(), "100".into())), "{pages:?}");
    // Page 1 held 7 items, fewer than 100: the last page.
    assert!(!pages.iter().any(|(p, _)| p == "2"), "{pages:?}");
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_unreadable_items_are_skipped_not_the_day() {
    let app = spawn_app().await;
    let raw = app.days.get("2026-08-13");
    assert_eq!(raw.len(), 9);
    let readable = fixture_ids(&app.days, "2026-08-13");
    assert_eq!(readable.len(), 7);

    let feeds = Feeds::get(&app, "date=2026-08-13&days=1").await;
    assert_eq!(feeds.ids(), readable);

    // The item carrying `someNewField` and `paper.anotherNewField` is read in full.
    let id = "2608.00165";
    let item = fixture_item(&app.days, "2026-08-13", id);
    assert!(item.get("someNewField").is_some());
    assert!(item["paper"].get("anotherNewField").is_some());
    assert_eq!(
        feeds.title(id),
        "Efficient Transformer Encoders for Mask2Former-style models"
    );
    let extension = &feeds.json_item(id)["_paperboy"];
    assert_eq!(extension["upvotes"], 114);
    assert_eq!(extension["organization"]["name"], "deepseek-ai");
    assert_eq!(feeds.date(id), utc("2026-08-13T13:41:12.777Z"));
}

/// The date rule, computed from the fixtures: the copy of the newest list holding the
/// paper, its `submittedOnDailyAt`, else that list's date at 00:00 UTC.
fn expected_date(days: &Days, id: &str) -> DateTime<Utc> {
    for day in (3..=14).rev() {
        let date = format!("2026-08-{day:02}");
        let found = days
            .get(&date)
            .into_iter()
            .find(|i| i.pointer("/paper/id").and_then(Value::as_str) == Some(id));
        if let Some(item) = found {
            return match item["paper"]["submittedOnDailyAt"].as_str() {
                Some(at) => utc(at),
                None => midnight(&date),
            };
        }
    }
    panic!("{id} is in no fixture day");
}

#[tokio::test]
async fn item_dates_are_submitted_on_daily_at_or_the_list_date_and_never_now() {
    let app = spawn_app().await;
    let feeds = Feeds::get(&app, ALL_DAYS).await;
    let ids = feeds.ids();
    assert_eq!(ids.len(), 172);

    let now = utc(NOW);
    let (mut listed_at_midnight, mut truncated, mut exact) = (0, 0, 0);
    for id in &ids {
        let want = expected_date(&app.days, id);
        let got = feeds.date(id);
        assert_eq!(got, want, "{id}");
        assert_ne!(got, now, "{id} is dated at the pinned now");
        if got == midnight(&got.date_naive().to_string()) {
            if id.as_str() <= "2608.00007" {
                listed_at_midnight += 1;
            } else {
                truncated += 1;
            }
        } else {
            exact += 1;
        }
    }
    // Every kind of date was met: the 7 old-shape papers, values truncated to midnight,
    // and exact moments.
    assert_eq!(listed_at_midnight, 7);
    assert!(truncated > 10 && exact > 10, "{truncated} {exact}");

    // A few, spelled out.
    assert_eq!(feeds.date("2608.00002"), utc("2026-08-03T00:00:00Z"));
    assert_eq!(feeds.date("2608.00014"), utc("2026-08-04T00:00:00Z"));
    assert_eq!(feeds.date("2608.00010"), utc("2026-08-04T11:24:12.777Z"));
    assert_eq!(feeds.date("2608.00168"), utc("2026-08-14T23:04:12.777Z"));
}
