//! The icon: `/favicon.ico` and `/icon.png`, named in every feed and linked from the pages.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_icons_are_served_with_a_strong_etag_and_long_caching() {
    let app = spawn_app().await;
    for (path, content_type, magic) in [
        ("/favicon.ico", "image/x-icon", &[0u8, 0, 1, 0][..]),
        ("/icon.png", "image/png", &b"\x89PNG"[..]),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), content_type);
        assert_eq!(header(&response, "cache-control"), "public, max-age=86400");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let etag = header(&response, "etag");
        assert!(etag.starts_with('"'), "strong: {etag}");
        let body = response.bytes().await.unwrap();
        assert!(body.starts_with(magic), "{path}");
        let again = app.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{path}");
        let posted = app
            .client
            .post(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 405);
    }
}

#[tokio::test]
async fn every_feed_names_the_icon() {
    let app = spawn_app().await;
    let icon = format!("{}/icon.png", app.address);
    for path in ["/feed", "/digest", "/topics/llm", "/topics/llm/digest"] {
        let (_, body) = app.get_ok(&format!("{path}.rss")).await;
        let channel = parse_rss(&body);
        let image = channel.image().expect("an RSS image");
        assert_eq!(image.url(), icon);
        assert_eq!(image.title(), channel.title());
        assert_eq!(image.link(), channel.link());
        let (_, body) = app.get_ok(&format!("{path}.atom")).await;
        let atom = parse_atom(&body);
        assert_eq!(atom.icon(), Some(icon.as_str()), "{path}");
        assert_eq!(atom.logo(), Some(icon.as_str()), "{path}");
        let (_, body) = app.get_ok(&format!("{path}.json")).await;
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["icon"], icon.as_str());
        assert_eq!(json["favicon"], format!("{}/favicon.ico", app.address));
    }
    let (_, body) = app.get_ok("/huggingface/daily-papers").await;
    assert_eq!(parse_rss(&body).image().unwrap().url(), icon);
}

#[tokio::test]
async fn the_pages_link_the_favicon_and_their_policy_lets_it_load() {
    let app = spawn_app().await;
    for path in ["/", "/preview?days=1"] {
        let response = app.get(path).await;
        let policy = header(&response, "content-security-policy");
        assert!(policy.contains("img-src 'self'"), "{policy}");
        assert!(!policy.contains("script-src"), "{policy}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(r#"<link rel="icon" href="/favicon.ico""#),
            "{path}"
        );
    }
}
