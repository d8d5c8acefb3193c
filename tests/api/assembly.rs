//! Issue 13, point 4: a feed assembled from parts (items rendered once, gzip stitched from
//! items compressed once, selection through the word index) is, byte for byte after
//! decompression, what the writers render for the same query and data.
//!
//! Two instances run over the same fixtures on the same pinned clock and public URL: one as
//! shipped, one built with `Writing::Whole` (every feed of papers selected by scanning every
//! paper, written whole by the `rss`/`atom_syndication`/`serde_json` writers and compressed
//! whole: the path before issue 13). proptest draws requests (routes, formats, search
//! expressions with ORs, negations, phrases and fields, authors, days, dates, sorts, limits,
//! digests' periods and counts) and an encoding; each request is asked of the assembled
//! instance three times (answered once, then kept, then from the fast path) and once of the
//! reference, and every answer must match the reference's status, ETag and decompressed bytes.

use std::io::Read;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::helpers::{NOW, TestApp, Writing, spawn_app_writing};
use paperboy::app::background::Background;

const PUBLIC_URL: &str = "http://paperboy.test";

/// Words of the fixtures' titles and abstracts (and two that occur nowhere), as prefixes too.
const WORDS: [&str; 16] = [
    "model",
    "learning",
    "neural",
    "efficient",
    "training",
    "memory",
    "language",
    "attention",
    "transformer",
    "data",
    "scal",
    "deep",
    "net",
    "quantum",
    "zebra",
    "x123",
];
const AUTHORS: [&str; 5] = ["Nguyen", "Kim", "Li", "Søgaard", "Nobody Here"];
const TOPICS: [&str; 3] = ["llm", "efficient", "diffusion"];

fn term() -> impl Strategy<Value = String> {
    let word = proptest::sample::select(&WORDS[..]);
    (word.clone(), word, 0..8).prop_map(|(a, b, shape)| match shape {
        0 | 1 => a.to_owned(),
        2 => format!("-{a}"),
        3 => format!("\"{a} {b}\""),
        4 => format!("{a} OR {b}"),
        5 => format!("title:{a}"),
        6 => format!("-abstract:{a} OR {b}"),
        _ => format!("keyword:{a} OR -\"{b} {a}\""),
    })
}

/// A feed's parameters: search, names, numbers, days.
fn feed_params() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        proptest::collection::vec(term(), 0..4),
        proptest::option::of(proptest::sample::select(&AUTHORS[..])),
        proptest::option::of(prop_oneof![Just(0u32), Just(3), Just(20)]),
        proptest::option::of(3u32..=14),
        proptest::option::of(1u32..=12),
        proptest::option::of(prop_oneof![Just("date"), Just("upvotes")]),
        proptest::option::of(prop_oneof![Just(1u32), Just(5), Just(50), Just(200)]),
        proptest::option::of(1u32..=4),
    )
        .prop_map(
            |(terms, author, min_upvotes, day, days, sort, limit, top)| {
                let mut pairs = Vec::new();
                if !terms.is_empty() {
                    pairs.push(("q".to_owned(), terms.join(" ")));
                }
                if let Some(author) = author {
                    pairs.push(("author".to_owned(), author.to_owned()));
                }
                if let Some(n) = min_upvotes {
                    pairs.push(("min_upvotes".to_owned(), n.to_string()));
                }
                if let Some(day) = day {
                    pairs.push(("date".to_owned(), format!("2026-08-{day:02}")));
                }
                if let Some(days) = days {
                    pairs.push(("days".to_owned(), days.to_string()));
                }
                if let Some(sort) = sort {
                    pairs.push(("sort".to_owned(), sort.to_owned()));
                }
                if let Some(limit) = limit {
                    pairs.push(("limit".to_owned(), limit.to_string()));
                }
                if let Some(top) = top {
                    pairs.push(("top".to_owned(), top.to_string()));
                }
                pairs
            },
        )
}

/// A digest's parameters: search, period, count, top, date.
fn digest_params() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        proptest::collection::vec(term(), 0..3),
        proptest::option::of(prop_oneof![Just("day"), Just("week"), Just("month")]),
        proptest::option::of(1u32..=6),
        proptest::option::of(1u32..=5),
        proptest::option::of(5u32..=20),
    )
        .prop_map(|(terms, period, count, top, day)| {
            let mut pairs = Vec::new();
            if !terms.is_empty() {
                pairs.push(("q".to_owned(), terms.join(" ")));
            }
            if let Some(period) = period {
                pairs.push(("period".to_owned(), period.to_owned()));
            }
            if let Some(count) = count {
                pairs.push(("count".to_owned(), count.to_string()));
            }
            if let Some(top) = top {
                pairs.push(("top".to_owned(), top.to_string()));
            }
            if let Some(day) = day {
                pairs.push(("date".to_owned(), format!("2026-08-{day:02}")));
            }
            pairs
        })
}

/// A request path and query, and whether to ask for gzip.
fn request() -> impl Strategy<Value = (String, bool)> {
    let format = proptest::sample::select(&["rss", "atom", "json"][..]);
    let topic = proptest::sample::select(&TOPICS[..]);
    let feed = (
        format.clone(),
        proptest::option::of(topic.clone()),
        feed_params(),
    )
        .prop_map(|(format, topic, pairs)| match topic {
            Some(topic) => (format!("/topics/{topic}.{format}"), pairs),
            None => (format!("/feed.{format}"), pairs),
        });
    let digest = (format, proptest::option::of(topic), digest_params()).prop_map(
        |(format, topic, pairs)| match topic {
            Some(topic) => (format!("/topics/{topic}/digest.{format}"), pairs),
            None => (format!("/digest.{format}"), pairs),
        },
    );
    (prop_oneof![3 => feed, 1 => digest], any::<bool>()).prop_map(|((path, pairs), gzip)| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        let query = query.finish();
        let url = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        (url, gzip)
    })
}

/// What an answer says, decompressed: status, ETag, content type and bytes.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    etag: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn ask(app: &TestApp, url: &str, gzip: bool) -> Result<Answer, TestCaseError> {
    let encoding = if gzip { "gzip" } else { "identity" };
    let response = app
        .client
        .get(format!("{}{url}", app.address))
        .header("Accept-Encoding", encoding)
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (status, etag, content_type) = (
        response.status().as_u16(),
        header("etag"),
        header("content-type"),
    );
    let content_encoding = header("content-encoding");
    let bytes = response
        .bytes()
        .await
        .map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
    let body = match content_encoding.as_deref() {
        Some("gzip") => {
            let mut body = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut body)
                .map_err(|e| TestCaseError::fail(format!("{url}: not gzip: {e}")))?;
            body
        }
        None => bytes.to_vec(),
        Some(other) => return Err(TestCaseError::fail(format!("{url}: {other}"))),
    };
    if status == 200 && gzip != (content_encoding.as_deref() == Some("gzip")) {
        return Err(TestCaseError::fail(format!(
            "{url}: asked {encoding}, answered {content_encoding:?}"
        )));
    }
    Ok(Answer {
        status,
        etag,
        content_type,
        body,
    })
}

#[test]
fn assembled_feeds_equal_the_writers_feeds_for_any_query_and_days() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (assembled, reference) = runtime.block_on(async {
        let server = |writing: Writing| {
            spawn_app_writing(NOW, Background::Off, writing, |s| {
                s.server.public_url = PUBLIC_URL.to_owned();
            })
        };
        (
            server(Writing::Assembled).await,
            server(Writing::Whole).await,
        )
    });
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    // Feeds answered 200, per encoding (identity, gzip).
    let answered = std::cell::Cell::new([0usize; 2]);
    let result = runner.run(&request(), |(url, gzip)| {
        runtime.block_on(async {
            let expected = ask(&reference, &url, gzip).await?;
            if expected.status == 200 {
                let mut counts = answered.get();
                counts[usize::from(gzip)] += 1;
                answered.set(counts);
            }
            for round in ["answered once", "kept", "from the fast path"] {
                let got = ask(&assembled, &url, gzip).await?;
                prop_assert_eq!(
                    &got,
                    &expected,
                    "{} (gzip: {}, {}): the assembled feed differs from the writers'",
                    url,
                    gzip,
                    round
                );
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Both encodings were drawn, and many requests were feeds rather than 400s.
    let answered = answered.get();
    assert!(answered[0] > 20 && answered[1] > 20, "{answered:?}");
}
