//! `paperboy export` on a test app's state (pinned clock, the fixture upstream): every file of
//! the contract is written and valid, each feed file is byte for byte the server's answer to
//! the same request on the same data, `--base-url` builds every self link, id and OPML URL,
//! and a failed run leaves the previous export whole. nginx serving the folder is tested in
//! `nginx.rs`, chromium opening its `index.html` in `browser.rs`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use paperboy::commands::Exit;
use paperboy::commands::export::ExportError;
use paperboy::common::clock::Clock;
use paperboy::startup::offline_state;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

fn topic_names(app: &TestApp) -> Vec<String> {
    app.state.topics.iter().map(|t| t.name.clone()).collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip file");
    out
}

/// Parses a feed file by its extension with the validators the feed tests use; its ids in
/// order.
fn validated_ids(file: &str, body: &[u8]) -> Vec<String> {
    if file.ends_with(".rss") {
        parse_rss(body)
            .items()
            .iter()
            .map(|i| i.guid().expect("every item has a guid").value().to_owned())
            .collect()
    } else if file.ends_with(".atom") {
        parse_atom(body)
            .entries()
            .iter()
            .map(|e| e.id().to_owned())
            .collect()
    } else {
        let json: Value = serde_json::from_slice(body).expect("the JSON feed is JSON");
        assert_eq!(
            json["version"], "https://jsonfeed.org/version/1.1",
            "{file}"
        );
        json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("an id").to_owned())
            .collect()
    }
}

/// Every file under `dir`, relative, with its bytes.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[tokio::test]
async fn the_export_holds_every_file_and_each_feed_is_the_servers_answer() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data").to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    let out = data.path().join("site");

    let exported = export_site(&app.state, &out, None).await.unwrap();
    assert_eq!(exported.exit(), Exit::Success);
    assert!(
        exported.fetched.fetched > 0,
        "what the files read was fetched first"
    );
    let tree = read_tree(&out);
    let expected = export_files(&topic_names(&app));
    assert_eq!(exported.files, expected.len());
    for file in &expected {
        assert!(tree.contains_key(file), "{file} is missing");
    }
    assert_eq!(
        tree.len(),
        expected.len() + 1,
        "the files of the contract and the marker, nothing else: {:?}",
        tree.keys().collect::<Vec<_>>()
    );
    assert!(tree.contains_key(".paperboy-export"));

    let mut items = 0;
    for file in expected.iter().filter(|f| {
        [".rss", ".atom", ".json"]
            .iter()
            .any(|ext| f.ends_with(ext))
    }) {
        let body = &tree[file];
        // Exported without a base URL, the links are the fallback the server writes for a
        // request without a usable host: http://localhost:<port>.
        let host = format!("localhost:{}", app.port);
        let response = app
            .get_with(&format!("/{file}"), &[("Host", host.as_str())])
            .await;
        assert_eq!(response.status(), 200, "{file}");
        let served = response.bytes().await.unwrap().to_vec();
        assert!(
            body == &served,
            "{file} differs from the server's answer:\n{}\n---\n{}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&served)
        );
        items += validated_ids(file, body).len();
        assert_eq!(&gunzip(&tree[&format!("{file}.gz")]), body, "{file}.gz");
    }
    assert!(
        items > 100,
        "the feeds hold the fixture papers ({items} items)"
    );
    for file in ["topics.opml", "index.html"] {
        assert_eq!(
            gunzip(&tree[&format!("{file}.gz")]),
            tree[file],
            "{file}.gz"
        );
    }
    let (_, favicon) = app.get_ok("/favicon.ico").await;
    assert_eq!(tree["favicon.ico"], favicon);
    let (_, icon) = app.get_ok("/icon.png").await;
    assert_eq!(tree["icon.png"], icon);

    // The OPML lists every topic's Atom file, at the base URL.
    let opml = String::from_utf8(tree["topics.opml"].clone()).unwrap();
    let doc = roxmltree::Document::parse(&opml).expect("the OPML is XML");
    let urls: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("outline"))
        .map(|n| n.attribute("xmlUrl").unwrap())
        .collect();
    assert_eq!(urls.len(), topic_names(&app).len());
    for url in urls {
        let file = url
            .strip_prefix(&format!("http://localhost:{}/", app.port))
            .unwrap_or_else(|| panic!("{url} is not under the base URL"));
        assert!(file.ends_with(".atom") && tree.contains_key(file), "{url}");
    }

    // The home page, without the form, its links relative.
    let index = String::from_utf8(tree["index.html"].clone()).unwrap();
    assert!(
        !index.contains("<form"),
        "no form: there is no server to answer it"
    );
    assert!(!index.contains("/preview"), "no previews");
    assert!(
        index.contains(r#"href="./topics/agents.atom""#),
        "relative links"
    );
}

#[tokio::test]
async fn the_base_url_builds_every_self_link_id_and_opml_url() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data").to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    let base = "https://example.org/papers";
    let mut settings = app.state.settings.clone();
    settings.server.public_url = base.to_owned();
    let clock: Arc<dyn Clock> = app.clock.clone();
    let state = offline_state(settings, clock).unwrap();
    let out = data.path().join("site");
    export_site(&state, &out, None).await.unwrap();

    for file in [
        "feed.atom",
        "digest.atom",
        "topics/popular.atom",
        "topics/llm/digest.atom",
    ] {
        let body = std::fs::read(out.join(file)).unwrap();
        let feed = parse_atom(&body);
        let this = feed
            .links()
            .iter()
            .find(|l| l.rel() == "self")
            .expect("a self link");
        assert_eq!(this.href(), format!("{base}/{file}"));
        // The same items, in the same order, as the server for the same request and data;
        // a digest's ids carry the base URL in place of the server's.
        let (_, served) = app.get_ok(&format!("/{file}")).await;
        let served: Vec<String> = validated_ids(file, &served)
            .into_iter()
            .map(|id| id.replace(&app.address, base))
            .collect();
        let ids = validated_ids(file, &body);
        assert!(!ids.is_empty(), "{file} has items");
        assert_eq!(ids, served, "{file}");
        if file.contains("digest") {
            assert!(
                ids.iter()
                    .all(|id| id.starts_with(&format!("{base}/digest/day/"))),
                "{ids:?}"
            );
        }
    }
    let opml = std::fs::read_to_string(out.join("topics.opml")).unwrap();
    assert!(
        opml.contains(&format!(r#"xmlUrl="{base}/topics/agents.atom""#)),
        "{opml}"
    );
    assert!(!opml.contains(&app.address), "{opml}");
}

#[tokio::test]
async fn days_sets_the_window_of_the_paper_feeds() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data").to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    let out = data.path().join("site");
    export_site(&app.state, &out, Some(7)).await.unwrap();
    for file in ["feed.json", "topics/agents.json"] {
        let (path, topic) = file.split_once('.').unwrap();
        let (_, served) = app.get_ok(&format!("/{path}.{topic}?days=7")).await;
        let body = std::fs::read(out.join(file)).unwrap();
        assert_eq!(
            validated_ids(file, &body),
            validated_ids(file, &served),
            "{file}"
        );
    }
    for bad in [0, 31] {
        let e = export_site(&app.state, &out, Some(bad)).await.unwrap_err();
        assert!(matches!(e, ExportError::Usage(_)), "{e}");
        assert_eq!(e.exit(), Exit::Usage);
    }
}

#[tokio::test]
async fn a_failed_export_leaves_the_previous_export_whole() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data").to_str().unwrap().to_owned();
    let out = data.path().join("site");
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    export_site(&app.state, &out, None).await.unwrap();
    let before = read_tree(&out);

    // Another instance with nothing stored and an upstream that fails every request.
    let broken = spawn_app_with(|s| s.upstream.retries = 0).await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&broken.upstream)
        .await;
    let e = export_site(&broken.state, &out, None).await.unwrap_err();
    assert_eq!(e.exit(), Exit::Failed);
    assert!(
        e.to_string().starts_with("feed.rss: "),
        "names the file: {e}"
    );
    assert_eq!(read_tree(&out), before, "the previous export is untouched");
    let beside: Vec<String> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside.len(), 2, "nothing left beside it: {beside:?}");

    // A folder paperboy did not write is never replaced.
    let mine = data.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let e = export_site(&app.state, &mine, None).await.unwrap_err();
    assert_eq!(e.exit(), Exit::Usage);
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
}
