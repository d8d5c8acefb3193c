#![allow(dead_code)] // Not every test binary module uses every helper.

//! The test harness: a paperboy on port 0 with a pinned clock, in front of a wiremock upstream
//! that serves `tests/fixtures/hf-api/daily_papers` the way the real API pages it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use paperboy::background::Background;
use paperboy::clock::PinnedClock;
use paperboy::config::Settings;
use paperboy::startup::{AppState, Application};
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
    let app = Application::build_with(settings, clock.clone(), background)
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
