#![allow(dead_code)] // Not every test module uses every helper.
//! The test harness: a paperboy on port 0 with a pinned clock, in front of a wiremock upstream
//! that serves `tests/fixtures/hf-api/daily_papers` the way the real API pages it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use paperboy::app::background::Background;
use paperboy::app::settings::Settings;
use paperboy::app::state::AppState;
use paperboy::common::clock::PinnedClock;
pub use paperboy::render::Writing;
use paperboy::startup::Application;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The pinned "now" of every test: noon on the newest fixture day.
pub const NOW: &str = "2026-08-14T12:00:00Z";

/// The daily lists the mock upstream serves; tests may change them.
#[derive(Clone, Default)]
pub struct Days(Arc<RwLock<HashMap<String, Vec<Value>>>>);

impl Days {
    /// Every file of the fixtures folder.
    pub fn from_fixtures() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf-api/daily_papers");
        let mut days = HashMap::new();
        for entry in std::fs::read_dir(&dir).expect("fixtures folder") {
            let path = entry.expect("fixture entry").path();
            let date = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("fixture file");
            let items: Vec<Value> = serde_json::from_str(&text).expect("fixture JSON");
            days.insert(date, items);
        }
        Days(Arc::new(RwLock::new(days)))
    }

    pub fn get(&self, date: &str) -> Vec<Value> {
        self.0
            .read()
            .unwrap()
            .get(date)
            .cloned()
            .unwrap_or_default()
    }

    pub fn set(&self, date: &str, items: Vec<Value>) {
        self.0.write().unwrap().insert(date.to_owned(), items);
    }
}

/// Answers `GET /api/daily_papers?date=D&limit=L&p=P` with the slice `[P*L, P*L+L)`.
struct PagedDays(Days);

impl Respond for PagedDays {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let params: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let (Some(date), Some(limit), Some(page)) = (
            params.get("date"),
            params.get("limit").and_then(|l| l.parse::<usize>().ok()),
            params.get("p").and_then(|p| p.parse::<usize>().ok()),
        ) else {
            return ResponseTemplate::new(400);
        };
        let items = self.0.get(date);
        let slice: Vec<Value> = items.into_iter().skip(page * limit).take(limit).collect();
        ResponseTemplate::new(200).set_body_json(slice)
    }
}

/// A running paperboy and its mock upstream.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub upstream: MockServer,
    pub days: Days,
    pub clock: Arc<PinnedClock>,
    pub state: actix_web::web::Data<AppState>,
    /// A client that neither decompresses nor follows redirects, so tests see the wire.
    pub client: reqwest::Client,
}

/// Settings for tests: port 0, storage off, the given upstream.
pub fn test_settings(upstream: &str) -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.upstream.base_url = upstream.to_owned();
    settings.storage.data_dir = String::new();
    settings.validate().expect("test settings are valid")
}

/// A paperboy in front of the fixture upstream.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed by `tweak` first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_at(NOW, Background::Off, tweak).await
}

/// Like [`spawn_app_with`], with the clock pinned to `now` and, with `Background::On`,
/// warm-up and the refresh timer running as in production.
pub async fn spawn_app_at(
    now: &str,
    background: Background,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_app_writing(now, background, Writing::Assembled, tweak).await
}

/// Like [`spawn_app_at`], writing feeds of papers as `writing` says (the reference server of
/// the assembly tests writes them whole).
pub async fn spawn_app_writing(
    now: &str,
    background: Background,
    writing: Writing,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let upstream = MockServer::start().await;
    let days = Days::from_fixtures();
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(PagedDays(days.clone()))
        .with_priority(10)
        .mount(&upstream)
        .await;
    let mut settings = test_settings(&upstream.uri());
    tweak(&mut settings);
    let settings = settings.validate().expect("tweaked settings are valid");
    let now: DateTime<Utc> = now.parse().unwrap();
    let clock = Arc::new(PinnedClock::new(now));
    let app = Application::build_writing(settings, clock.clone(), background, writing)
        .await
        .expect("the application builds");
    let port = app.port();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        upstream,
        days,
        clock,
        state,
        client: reqwest::Client::builder()
            .no_proxy()
            .no_gzip()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl TestApp {
    /// GET `path_and_query` (starting with `/`).
    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path_and_query))
            .send()
            .await
            .expect("request to paperboy")
    }

    /// GET with extra headers.
    pub async fn get_with(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .get(format!("{}{}", self.address, path_and_query));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request to paperboy")
    }

    /// GET a feed, assert 200, and parse it with feed-rs.
    pub async fn feed(&self, path_and_query: &str) -> feed_rs::model::Feed {
        let response = self.get(path_and_query).await;
        assert_eq!(response.status(), 200, "GET {path_and_query}");
        let body = response.bytes().await.unwrap();
        feed_rs::parser::parse(&body[..])
            .unwrap_or_else(|e| panic!("GET {path_and_query} is not a feed: {e}"))
    }

    /// GET `path_and_query` and read the body as JSON.
    pub async fn json(&self, path_and_query: &str) -> Value {
        self.get(path_and_query).await.json().await.unwrap()
    }

    /// GET with extra headers and read the body as text.
    pub async fn text_with(&self, path_and_query: &str, headers: &[(&str, &str)]) -> String {
        self.get_with(path_and_query, headers)
            .await
            .text()
            .await
            .unwrap()
    }

    /// The value of the metric `name` with `labels`, as `/metrics` reads now.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        crate::support::scrape(&self.client, &self.address)
            .await
            .get(name, labels)
    }

    /// The arXiv ids of a feed's items, in order.
    pub async fn ids(&self, path_and_query: &str) -> Vec<String> {
        let feed = self.feed(path_and_query).await;
        feed.entries.iter().map(|e| arxiv_id(&e.id)).collect()
    }

    /// The upstream requests made so far for `date`, all pages.
    pub async fn upstream_requests_for(&self, date: &str) -> usize {
        self.upstream
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.query_pairs().any(|(k, v)| k == "date" && v == date))
            .count()
    }

    /// Every upstream request made so far.
    pub async fn upstream_request_count(&self) -> usize {
        self.upstream
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
    }
}

/// A response header as text; fails the test when it is missing.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// `https://huggingface.co/papers/2608.00001` -> `2608.00001`.
pub fn arxiv_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_owned()
}

/// Ids of a fixture day, in upstream order.
pub fn fixture_ids(days: &Days, date: &str) -> Vec<String> {
    days.get(date)
        .iter()
        .filter_map(|item| item.get("paper")?.get("id")?.as_str().map(str::to_owned))
        .collect()
}

/// Polls `check` until it holds (background refreshes finish on their own time), failing
/// after about five seconds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..250 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

// ---------------------------------------------------------------------------------------------
// Additions for the search, quirks and feeds suites.

/// A window over every fixture day (2026-08-03 ..= 2026-08-14) with room for all 172 papers.
pub const ALL_DAYS: &str = "date=2026-08-14&days=12&limit=200";

/// The content type of each format, as the contract fixes it.
pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
pub const JSON_TYPE: &str = "application/feed+json; charset=utf-8";

/// `key=value&...`, form-urlencoded (spaces as `+`, `"` as `%22`, UTF-8 percent-encoded).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// `https://huggingface.co/papers/<id>`.
pub fn hf_url(id: &str) -> String {
    format!("https://huggingface.co/papers/{id}")
}

/// Parses an RSS body with the `rss` crate and asserts that it validates.
pub fn parse_rss(body: &[u8]) -> rss::Channel {
    use rss::validation::Validate;
    let channel = rss::Channel::read_from(body).unwrap_or_else(|e| {
        panic!(
            "not RSS: {e}\n{}",
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        )
    });
    channel
        .validate()
        .unwrap_or_else(|e| panic!("the RSS does not validate: {e}"));
    channel
}

/// Parses an Atom body with the strict reader of `atom_syndication`.
pub fn parse_atom(body: &[u8]) -> atom_syndication::Feed {
    atom_syndication::Feed::read_from(body).unwrap_or_else(|e| {
        panic!(
            "not Atom: {e}\n{}",
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        )
    })
}

/// The fixture item with paper id `id` listed on `date`.
pub fn fixture_item(days: &Days, date: &str, id: &str) -> Value {
    days.get(date)
        .into_iter()
        .find(|item| item.pointer("/paper/id").and_then(Value::as_str) == Some(id))
        .unwrap_or_else(|| panic!("no paper {id} on {date}"))
}

impl TestApp {
    /// GET, assert 200, and return the `Content-Type` and the body.
    pub async fn get_ok(&self, path_and_query: &str) -> (String, Vec<u8>) {
        let response = self.get(path_and_query).await;
        assert_eq!(response.status(), 200, "GET {path_and_query}");
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (content_type, response.bytes().await.unwrap().to_vec())
    }

    /// `/feed.rss?<query>`: asserts 200 and the content type, parses and validates with `rss`.
    pub async fn rss_feed(&self, query: &str) -> rss::Channel {
        let (content_type, body) = self.get_ok(&format!("/feed.rss?{query}")).await;
        assert_eq!(content_type, RSS_TYPE);
        parse_rss(&body)
    }

    /// `/feed.atom?<query>`: asserts 200 and the content type, parses with `atom_syndication`.
    pub async fn atom_feed(&self, query: &str) -> atom_syndication::Feed {
        let (content_type, body) = self.get_ok(&format!("/feed.atom?{query}")).await;
        assert_eq!(content_type, ATOM_TYPE);
        parse_atom(&body)
    }

    /// `/feed.json?<query>`: asserts 200 and the content type, parses as JSON.
    pub async fn json_feed(&self, query: &str) -> Value {
        let (content_type, body) = self.get_ok(&format!("/feed.json?{query}")).await;
        assert_eq!(content_type, JSON_TYPE);
        serde_json::from_slice(&body).expect("the JSON feed is JSON")
    }

    /// The ids of `/feed.rss?<query>`, in feed order.
    pub async fn ids_for(&self, query: &str) -> Vec<String> {
        self.ids(&format!("/feed.rss?{query}")).await
    }
}

/// The RSS, Atom and JSON feeds of one query (`/feed.<ext>?<query>`), each checked for 200
/// and its content type, each read by `feed-rs` and by its own strict parser (`rss` with
/// validation, `atom_syndication`, `serde_json`), and asserted to hold as many items.
pub struct Feeds {
    pub rss: rss::Channel,
    pub atom: atom_syndication::Feed,
    pub json: Value,
    /// The raw bodies, RSS, Atom, JSON.
    pub bodies: [Vec<u8>; 3],
}

impl Feeds {
    pub async fn get(app: &TestApp, query: &str) -> Feeds {
        let mut bodies: [Vec<u8>; 3] = Default::default();
        for (i, (ext, content_type)) in
            [("rss", RSS_TYPE), ("atom", ATOM_TYPE), ("json", JSON_TYPE)]
                .into_iter()
                .enumerate()
        {
            let (got_type, body) = app.get_ok(&format!("/feed.{ext}?{query}")).await;
            assert_eq!(got_type, content_type, "/feed.{ext}?{query}");
            // feed-rs reads every format.
            let parsed = feed_rs::parser::parse(&body[..])
                .unwrap_or_else(|e| panic!("/feed.{ext}?{query} is not a feed for feed-rs: {e}"));
            let json_len = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["items"].as_array().map(Vec::len));
            if let Some(len) = json_len {
                assert_eq!(parsed.entries.len(), len);
            }
            bodies[i] = body;
        }
        let feeds = Feeds {
            rss: parse_rss(&bodies[0]),
            atom: parse_atom(&bodies[1]),
            json: serde_json::from_slice(&bodies[2]).expect("the JSON feed is JSON"),
            bodies,
        };
        let n = feeds.rss.items().len();
        assert_eq!(
            feeds.atom.entries.len(),
            n,
            "{query}: RSS and Atom disagree"
        );
        assert_eq!(
            feeds.json_items().len(),
            n,
            "{query}: RSS and JSON disagree"
        );
        feeds
    }

    pub fn json_items(&self) -> &Vec<Value> {
        self.json["items"].as_array().expect("items is an array")
    }

    /// The arXiv ids in each format's order, asserted equal; returns them once.
    pub fn ids(&self) -> Vec<String> {
        let rss: Vec<String> = self
            .rss
            .items()
            .iter()
            .map(|i| arxiv_id(i.guid().expect("a guid").value()))
            .collect();
        let atom: Vec<String> = self.atom.entries.iter().map(|e| arxiv_id(&e.id)).collect();
        let json: Vec<String> = self
            .json_items()
            .iter()
            .map(|i| arxiv_id(i["id"].as_str().unwrap()))
            .collect();
        assert_eq!(rss, atom, "RSS and Atom list other papers");
        assert_eq!(rss, json, "RSS and JSON list other papers");
        rss
    }

    pub fn rss_item(&self, id: &str) -> &rss::Item {
        let url = hf_url(id);
        self.rss
            .items()
            .iter()
            .find(|i| i.guid().map(|g| g.value()) == Some(url.as_str()))
            .unwrap_or_else(|| panic!("{id} is not in the RSS feed"))
    }

    pub fn atom_entry(&self, id: &str) -> &atom_syndication::Entry {
        let url = hf_url(id);
        self.atom
            .entries
            .iter()
            .find(|e| e.id == url)
            .unwrap_or_else(|| panic!("{id} is not in the Atom feed"))
    }

    pub fn json_item(&self, id: &str) -> &Value {
        let url = hf_url(id);
        self.json_items()
            .iter()
            .find(|i| i["id"] == url.as_str())
            .unwrap_or_else(|| panic!("{id} is not in the JSON feed"))
    }

    /// The title of `id` in RSS, Atom and JSON, asserted equal; returns it once.
    pub fn title(&self, id: &str) -> String {
        let rss = self.rss_item(id).title().expect("an RSS title").to_owned();
        let atom = self.atom_entry(id).title.value.clone();
        let json = self.json_item(id)["title"].as_str().unwrap().to_owned();
        assert_eq!(rss, atom, "{id}: RSS and Atom titles differ");
        assert_eq!(rss, json, "{id}: RSS and JSON titles differ");
        rss
    }

    /// The HTML content of `id` in RSS, Atom and JSON, asserted equal; returns it once.
    pub fn content(&self, id: &str) -> String {
        let rss = self
            .rss_item(id)
            .description()
            .expect("an RSS description")
            .to_owned();
        let atom = self
            .atom_entry(id)
            .content
            .as_ref()
            .and_then(|c| c.value.clone())
            .expect("Atom content");
        let json = self.json_item(id)["content_html"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(rss, atom, "{id}: RSS and Atom contents differ");
        assert_eq!(rss, json, "{id}: RSS and JSON contents differ");
        rss
    }

    /// The item date of `id` in RSS (whole seconds), Atom `published` and `updated`, and
    /// JSON, asserted consistent; returns the JSON one.
    pub fn date(&self, id: &str) -> DateTime<Utc> {
        let json = DateTime::parse_from_rfc3339(
            self.json_item(id)["date_published"]
                .as_str()
                .expect("date_published"),
        )
        .expect("an RFC 3339 date_published")
        .to_utc();
        let entry = self.atom_entry(id);
        assert_eq!(
            entry.published.map(|d| d.to_utc()),
            Some(json),
            "{id}: Atom published"
        );
        assert_eq!(entry.updated.to_utc(), json, "{id}: Atom updated");
        let rss = DateTime::parse_from_rfc2822(self.rss_item(id).pub_date().expect("a pubDate"))
            .expect("an RFC 2822 pubDate");
        assert_eq!(rss.timestamp(), json.timestamp(), "{id}: RSS pubDate");
        json
    }

    /// The author names of `id`: Atom and JSON lists, asserted equal to each other and to
    /// the RSS `dc:creator` once joined with ", ".
    pub fn authors(&self, id: &str) -> Vec<String> {
        let atom: Vec<String> = self
            .atom_entry(id)
            .authors
            .iter()
            .map(|p| p.name.clone())
            .collect();
        let json: Vec<String> = self.json_item(id)["authors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(atom, json, "{id}: Atom and JSON authors differ");
        let creators: Vec<String> = self
            .rss_item(id)
            .dublin_core_ext()
            .map(|dc| dc.creators().to_vec())
            .unwrap_or_default();
        if atom.is_empty() {
            assert!(creators.is_empty(), "{id}: RSS creators {creators:?}");
        } else {
            assert_eq!(creators, [atom.join(", ")], "{id}: RSS dc:creator");
        }
        atom
    }
}

/// Plain progress lines, kept for a test to read.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// A progress display writing here, as `paperboy fetch` writes when not on a terminal.
    pub fn progress(&self, total: usize) -> paperboy::commands::progress::Progress {
        paperboy::commands::progress::Progress::lines(total, Box::new(self.clone()))
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `paperboy export --out <out>` on `state` (a test app's own, so the same clock, store and
/// upstream), never interrupted.
pub async fn export_site(
    state: &AppState,
    out: &Path,
    days: Option<u32>,
) -> Result<paperboy::commands::export::Exported, paperboy::commands::export::ExportError> {
    let options = paperboy::commands::export::ExportOptions {
        out: out.to_owned(),
        days,
    };
    paperboy::commands::export::export(
        state,
        &options,
        |n| Captured::default().progress(n),
        std::future::pending(),
    )
    .await
}

/// Every file `paperboy export` writes for `topics` (feeds with their `.gz` copies), relative.
pub fn export_files(topics: &[String]) -> Vec<String> {
    let mut files = vec![
        "topics.opml".to_owned(),
        "topics.opml.gz".to_owned(),
        "index.html".to_owned(),
        "index.html.gz".to_owned(),
        "favicon.ico".to_owned(),
        "icon.png".to_owned(),
    ];
    for ext in ["rss", "atom", "json"] {
        let mut feeds = vec![format!("feed.{ext}"), format!("digest.{ext}")];
        for topic in topics {
            feeds.push(format!("topics/{topic}.{ext}"));
            feeds.push(format!("topics/{topic}/digest.{ext}"));
        }
        for feed in feeds {
            files.push(format!("{feed}.gz"));
            files.push(feed);
        }
    }
    files
}

/// Asserts `response` is a problem+json of `status` whose detail is a sentence; the problem.
pub async fn assert_problem(response: reqwest::Response, status: u16, what: &str) -> Value {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json",
        "{what}"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status, "{what}");
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.ends_with('.')),
        "{what}: {problem}"
    );
    problem
}

/// A path of every route paperboy registers.
pub const EVERY_ROUTE: [&str; 16] = [
    "/feed.rss",
    "/feed",
    "/digest.json",
    "/topics/llm.atom",
    "/topics/llm/digest.rss",
    "/topics.opml",
    "/huggingface/daily-papers",
    "/huggingface/daily-papers/week",
    "/huggingface/daily-papers/week/10",
    "/",
    "/preview",
    "/favicon.ico",
    "/icon.png",
    "/healthz",
    "/readyz",
    "/metrics",
];
