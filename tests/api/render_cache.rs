//! The render cache: a feed asked for again is rendered once per canonical query and data
//! version, never served older than its data, and a matching 304 costs no rendering.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

fn renders(app: &TestApp) -> u64 {
    app.state.renders.render_count()
}

fn etag(response: &reqwest::Response) -> String {
    header(response, "etag")
}

#[tokio::test]
async fn canonical_equal_queries_share_one_render() {
    let app = spawn_app().await;
    let a = app
        .get("/feed.json?q=model&min_upvotes=1&author=li&author=wang")
        .await;
    assert_eq!(a.status(), 200);
    assert_eq!(renders(&app), 1);
    // Other order, repeated value, defaults spelled out: the same canonical query.
    let b = app
        .get("/feed.json?author=wang&min_upvotes=1&days=3&author=li&q=model&sort=date&limit=50&author=li")
        .await;
    assert_eq!(b.status(), 200);
    assert_eq!(
        renders(&app),
        2,
        "b is the same feed asked again: rendered and kept"
    );
    app.state.renders.run_pending_tasks().await;
    assert_eq!(app.state.renders.entry_count(), 1);
    // a again: its own self link is spliced into the kept render, not rendered anew.
    let a_again = app
        .get("/feed.json?q=model&min_upvotes=1&author=li&author=wang")
        .await;
    assert_eq!(a_again.status(), 200);
    assert_eq!(renders(&app), 2);

    // Each still names its own URL as received in its self link.
    let a: Value = a.json().await.unwrap();
    let b: Value = b.json().await.unwrap();
    assert!(
        a["feed_url"]
            .as_str()
            .unwrap()
            .ends_with("/feed.json?q=model&min_upvotes=1&author=li&author=wang")
    );
    assert!(
        b["feed_url"]
            .as_str()
            .unwrap()
            .contains("days=3&author=li&q=model")
    );
    assert_eq!(a["items"], b["items"]);
    assert_eq!(a["title"], b["title"]);

    // A different query, or another format, is another render.
    app.get("/feed.json?q=model&min_upvotes=2").await;
    app.get("/feed.rss?q=model&min_upvotes=1&author=li&author=wang")
        .await;
    assert_eq!(renders(&app), 4);
}

#[tokio::test]
async fn a_304_comes_without_rendering() {
    let app = spawn_app().await;
    app.get("/feed.atom?q=tensor").await;
    let first = app.get("/feed.atom?q=tensor").await;
    let tag = etag(&first);
    assert_eq!(renders(&app), 2);
    for _ in 0..3 {
        let response = app
            .get_with("/feed.atom?q=tensor", &[("if-none-match", &tag)])
            .await;
        assert_eq!(response.status(), 304);
    }
    let again = app.get("/feed.atom?q=tensor").await;
    assert_eq!(again.status(), 200);
    assert_eq!(renders(&app), 2);
}

#[tokio::test]
async fn a_data_change_gives_a_new_body_and_etag() {
    let app = spawn_app().await;
    let path = "/feed.json?days=1";
    app.get(path).await;
    let first = app.get(path).await;
    let old_tag = etag(&first);
    let old: Value = first.json().await.unwrap();

    let mut items = app.days.get("2026-08-14");
    items[0]["paper"]["title"] = Value::from("A title that changed upstream");
    items[0]["title"] = Value::from("A title that changed upstream");
    app.days.set("2026-08-14", items);
    app.clock.advance(Duration::from_secs(11 * 60));

    eventually("the changed list is served", || async {
        etag(&app.get(path).await) != old_tag
    })
    .await;
    let new: Value = app.get(path).await.json().await.unwrap();
    assert_ne!(new, old);
    assert_eq!(new["items"][0]["title"], "A title that changed upstream");
    // The old ETag no longer gives a 304.
    let response = app.get_with(path, &[("if-none-match", &old_tag)]).await;
    assert_eq!(response.status(), 200);
    assert!(
        renders(&app) <= 4,
        "once, kept, then at most twice for the new data"
    );
}

#[tokio::test]
async fn every_encoding_of_a_render_carries_the_same_etag() {
    let app = spawn_app().await;
    app.get("/feed.rss").await;
    let mut tags = Vec::new();
    for encoding in [
        "identity",
        "gzip",
        "br",
        "gzip;q=0.5, br;q=0.9",
        "br;q=0, gzip",
    ] {
        let response = app
            .get_with("/feed.rss", &[("accept-encoding", encoding)])
            .await;
        let sent = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        let expected = match encoding {
            "identity" => None,
            "gzip" | "br;q=0, gzip" => Some("gzip".to_owned()),
            _ => Some("br".to_owned()),
        };
        assert_eq!(sent, expected, "Accept-Encoding: {encoding}");
        tags.push(etag(&response));
    }
    tags.dedup();
    assert_eq!(tags.len(), 1);
    assert_eq!(renders(&app), 2, "once, then kept");
}

#[tokio::test]
async fn a_url_without_date_moves_with_the_day() {
    let app = spawn_app().await;
    let today = app.ids("/feed.rss?limit=200").await;
    assert_eq!(today.len(), 120, "08-12..08-14");
    // Same URL, a day later: 08-13..08-15; 08-12's 107 papers drop out.
    app.clock.advance(Duration::from_secs(24 * 3600));
    let tomorrow = app.ids("/feed.rss?limit=200").await;
    assert_eq!(tomorrow.len(), 7 + 6);
}

#[tokio::test]
async fn a_stale_list_behind_a_remembered_url_is_still_refreshed() {
    let app = spawn_app().await;
    let path = "/feed.rss?days=1";
    app.get(path).await;
    app.get(path).await;
    assert_eq!(app.upstream_requests_for("2026-08-14").await, 1);
    app.clock.advance(Duration::from_secs(11 * 60));
    app.get(path).await;
    eventually("the stale list is refreshed", || async {
        app.upstream_requests_for("2026-08-14").await == 2
    })
    .await;
}

#[tokio::test]
async fn a_feed_is_kept_from_its_second_request_on() {
    let app = spawn_app().await;
    app.get("/feed.atom?q=graph").await;
    app.state.renders.run_pending_tasks().await;
    assert_eq!(
        app.state.renders.entry_count(),
        0,
        "a one-off query is not kept"
    );
    app.get("/feed.atom?q=graph").await;
    app.state.renders.run_pending_tasks().await;
    assert_eq!(app.state.renders.entry_count(), 1);
    assert_eq!(renders(&app), 2);
    for _ in 0..5 {
        app.get("/feed.atom?q=graph").await;
    }
    assert_eq!(renders(&app), 2, "kept: no more renders");
}

/// A feed answered once (first sight) is gzipped by stitching its items, compressed once per
/// paper, between its head and tail compressed now: the same bytes once decompressed as the
/// identity body, in every format, for feeds of one and of many papers.
#[tokio::test]
async fn a_one_off_gzip_body_is_stitched_and_decompresses_to_the_identity_body() {
    use std::io::Read;
    let app = spawn_app().await;
    for format in ["rss", "atom", "json"] {
        for query in [
            "days=12&limit=200",
            "q=quantization&days=12",
            "q=nothingmatches",
        ] {
            let path = format!("/feed.{format}?{query}");
            let gz = app.get_with(&path, &[("accept-encoding", "gzip")]).await;
            assert_eq!(gz.status(), 200, "{path}");
            assert_eq!(gz.headers()["content-encoding"], "gzip", "{path}");
            let gz_etag = etag(&gz);
            let compressed = gz.bytes().await.unwrap();
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(&compressed[..])
                .read_to_end(&mut unzipped)
                .expect("a valid gzip body (CRC-32 and length checked)");
            // The same URL again is kept and compressed whole: the bodies must agree.
            let plain = app
                .get_with(&path, &[("accept-encoding", "identity")])
                .await;
            assert_eq!(etag(&plain), gz_etag, "{path}");
            assert!(unzipped == plain.bytes().await.unwrap(), "{path}");
            if query.starts_with("days=12") {
                // Stitched, not compressed whole: each item carries its own dictionary, so the
                // body is much larger than the fastest whole-body gzip of the same bytes.
                let mut whole =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut whole, &unzipped).unwrap();
                let whole = whole.finish().unwrap();
                assert!(
                    compressed.len() * 10 > whole.len() * 15,
                    "{path}: {} bytes stitched against {} whole",
                    compressed.len(),
                    whole.len()
                );
            }
        }
    }
}
