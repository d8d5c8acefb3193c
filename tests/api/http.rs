//! Section 5: headers, conditional GET, HEAD, compression.

use std::io::Read;

use crate::helpers::*;

const FEED: &str = "/feed.atom?q=model&min_upvotes=1";

#[tokio::test]
async fn every_feed_response_carries_validators_and_cache_headers() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/feed?format=json", "application/feed+json; charset=utf-8"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), content_type, "{path}");
        assert!(header(&response, "etag").starts_with("W/\""), "{path}");
        assert_eq!(header(&response, "cache-control"), "public, max-age=600");
        assert!(
            header(&response, "vary")
                .to_lowercase()
                .contains("accept-encoding")
        );
        assert_eq!(header(&response, "access-control-allow-origin"), "*");
        // The newest included list (08-14) was first seen at the pinned noon; its papers
        // entered it at 00:00 (two have later, future timestamps): never "now".
        assert_eq!(
            header(&response, "last-modified"),
            "Fri, 14 Aug 2026 00:00:00 GMT"
        );
    }
}

#[tokio::test]
async fn the_etag_is_a_hash_of_the_body() {
    let app = spawn_app().await;
    let a = app.get(FEED).await;
    let b = app.get(FEED).await;
    let other = app.get("/feed.atom?q=model&min_upvotes=2").await;
    let etag = header(&a, "etag");
    assert_eq!(etag, header(&b, "etag"), "same body, same ETag");
    assert_ne!(
        etag,
        header(&other, "etag"),
        "different body, different ETag"
    );
    assert_eq!(a.bytes().await.unwrap(), b.bytes().await.unwrap());
}

#[tokio::test]
async fn a_matching_if_none_match_gives_304_with_the_same_headers() {
    let app = spawn_app().await;
    let first = app.get(FEED).await;
    let etag = header(&first, "etag");
    let last_modified = header(&first, "last-modified");

    let strong_form = etag.trim_start_matches("W/").to_owned();
    for value in [
        etag.clone(),
        strong_form,
        format!("\"nope\", {etag}"),
        "*".to_owned(),
    ] {
        let response = app.get_with(FEED, &[("if-none-match", &value)]).await;
        assert_eq!(response.status(), 304, "If-None-Match: {value}");
        assert_eq!(header(&response, "etag"), etag);
        assert_eq!(header(&response, "last-modified"), last_modified);
        assert_eq!(header(&response, "cache-control"), "public, max-age=600");
        assert!(
            header(&response, "vary")
                .to_lowercase()
                .contains("accept-encoding")
        );
        assert!(response.bytes().await.unwrap().is_empty());
    }

    let response = app
        .get_with(FEED, &[("if-none-match", "W/\"other\"")])
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn if_modified_since_gives_304_only_at_or_after_last_modified() {
    let app = spawn_app().await;
    let first = app.get(FEED).await;
    let last_modified = header(&first, "last-modified");

    let at = app
        .get_with(FEED, &[("if-modified-since", &last_modified)])
        .await;
    assert_eq!(at.status(), 304);
    let later = app
        .get_with(
            FEED,
            &[("if-modified-since", "Sat, 15 Aug 2026 00:00:00 GMT")],
        )
        .await;
    assert_eq!(later.status(), 304);
    let earlier = app
        .get_with(
            FEED,
            &[("if-modified-since", "Thu, 13 Aug 2026 23:59:59 GMT")],
        )
        .await;
    assert_eq!(earlier.status(), 200);
    let garbage = app
        .get_with(FEED, &[("if-modified-since", "yesterday")])
        .await;
    assert_eq!(garbage.status(), 200);
}

#[tokio::test]
async fn if_none_match_wins_over_if_modified_since() {
    let app = spawn_app().await;
    let first = app.get(FEED).await;
    let last_modified = header(&first, "last-modified");
    let response = app
        .get_with(
            FEED,
            &[
                ("if-none-match", "W/\"stale\""),
                ("if-modified-since", &last_modified),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn head_answers_with_the_headers_of_get_and_no_body() {
    let app = spawn_app().await;
    let get = app.get(FEED).await;
    let head = app
        .client
        .head(format!("{}{FEED}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    for name in [
        "content-type",
        "etag",
        "last-modified",
        "cache-control",
        "access-control-allow-origin",
    ] {
        assert_eq!(header(&head, name), header(&get, name), "{name}");
    }
    assert!(head.bytes().await.unwrap().is_empty());

    // HEAD over a raw socket, to see that no body bytes follow the headers.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let request = format!("HEAD {FEED} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head_part, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head_part.starts_with("HTTP/1.1 200"), "{head_part}");
    assert!(body.is_empty(), "HEAD sent a body: {body:?}");

    let health = app
        .client
        .head(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn gzip_and_brotli_bodies_decode_to_the_identity_body() {
    let app = spawn_app().await;
    let identity = app.get_with(FEED, &[("accept-encoding", "identity")]).await;
    assert!(identity.headers().get("content-encoding").is_none());
    let etag = header(&identity, "etag");
    let plain = identity.bytes().await.unwrap().to_vec();

    let gzip = app.get_with(FEED, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    assert_eq!(
        header(&gzip, "etag"),
        etag,
        "one weak ETag for every encoding"
    );
    let compressed = gzip.bytes().await.unwrap();
    assert!(compressed.len() < plain.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);

    let br = app.get_with(FEED, &[("accept-encoding", "br")]).await;
    assert_eq!(header(&br, "content-encoding"), "br");
    let compressed = br.bytes().await.unwrap();
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&compressed[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);

    // A 304 stays a 304 whatever the encoding.
    let not_modified = app
        .get_with(
            FEED,
            &[("accept-encoding", "gzip, br"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(not_modified.status(), 304);
}

#[tokio::test]
async fn healthz_answers_ok_without_calling_upstream() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    assert_eq!(app.upstream_request_count().await, 0);
}

#[tokio::test]
async fn a_trailing_slash_reaches_the_same_feed() {
    let app = spawn_app().await;
    let response = app.get("/feed.json/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/feed+json; charset=utf-8"
    );
    // Repeated slashes are merged too, and the query survives the rewrite.
    let response = app.get("//feed.json//?limit=1&date=2026-08-14").await;
    assert_eq!(response.status(), 200);
    let feed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(feed["items"].as_array().map(Vec::len), Some(1));
}

/// Every route answers GET and HEAD only: any other method is a 405 problem naming them
/// (section 5), whichever route registered the path.
#[tokio::test]
async fn every_route_answers_other_methods_with_405_naming_get_and_head() {
    let app = spawn_app().await;
    for path in EVERY_ROUTE {
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            let response = app
                .client
                .request(method.clone(), format!("{}{path}", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], "GET, HEAD", "{method} {path}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{method} {path}"
            );
        }
    }
}
