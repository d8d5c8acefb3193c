//! Section 16, paperboy as a WebSub hub, with a subscriber of the tests' own: an HTTP server
//! on 127.0.0.1 (wiremock) that answers the challenge (or not, or late) and records what it
//! is sent. The hub tests of the WebSub conformance suite (websub.rocks, 100-series) are
//! reproduced at the end.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use crate::helpers::*;
use paperboy::app::settings::Settings;
use paperboy::app::settings::websub::Callbacks;

const TODAY: &str = "2026-08-14";

/// How the test subscriber answers.
#[derive(Debug, Clone)]
struct Behaviour {
    /// Echo the challenge (else answer something else).
    echo: bool,
    /// Before answering a verification.
    verify_delay: Duration,
    /// The status of a delivery's answer, and the time before it.
    delivery_status: u16,
    delivery_delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            echo: true,
            verify_delay: Duration::ZERO,
            delivery_status: 204,
            delivery_delay: Duration::ZERO,
        }
    }
}

#[derive(Clone)]
struct Answer(Arc<Mutex<Behaviour>>);

impl Respond for Answer {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let behaviour = self.0.lock().unwrap().clone();
        if request.method.as_str() == "GET" {
            let challenge = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "hub.challenge")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let body = if behaviour.echo {
                challenge
            } else {
                "not the challenge".to_owned()
            };
            return ResponseTemplate::new(200)
                .set_body_string(body)
                .set_delay(behaviour.verify_delay);
        }
        let answer =
            ResponseTemplate::new(behaviour.delivery_status).set_delay(behaviour.delivery_delay);
        match request.url.query_pairs().find(|(k, _)| k == "redirect") {
            Some((_, to)) => answer.insert_header("Location", to.as_ref()),
            None => answer,
        }
    }
}

/// The tests' subscriber.
pub struct Subscriber {
    server: MockServer,
    behaviour: Arc<Mutex<Behaviour>>,
}

impl Subscriber {
    pub async fn start() -> Subscriber {
        let server = MockServer::start().await;
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        Mock::given(wiremock::matchers::any())
            .respond_with(Answer(behaviour.clone()))
            .mount(&server)
            .await;
        Subscriber { server, behaviour }
    }

    fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.behaviour.lock().unwrap());
    }

    /// A callback URL on this subscriber.
    pub fn callback(&self, name: &str) -> String {
        format!("{}/cb/{name}?from=paperboy", self.server.uri())
    }

    async fn requests(&self, method: &str, name: &str) -> Vec<wiremock::Request> {
        let path = format!("/cb/{name}");
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == method && r.url.path() == path)
            .collect()
    }

    /// The query of each verification sent to callback `name`.
    pub async fn verifications(&self, name: &str) -> Vec<Vec<(String, String)>> {
        self.requests("GET", name)
            .await
            .iter()
            .map(|r| {
                r.url
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .collect()
    }

    pub async fn deliveries(&self, name: &str) -> Vec<wiremock::Request> {
        self.requests("POST", name).await
    }
}

fn field<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Polls `check` for up to `seconds`.
pub async fn within<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < end {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

/// A paperboy that takes callbacks on 127.0.0.1 (`websub.callbacks = "any"`).
async fn hub_app() -> TestApp {
    spawn_app_with(any_callbacks).await
}

fn any_callbacks(settings: &mut Settings) {
    settings.websub.callbacks = Callbacks::Any;
}

/// POSTs a form to `/websub`.
pub async fn post_form(app: &TestApp, pairs: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}/websub", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(query_string(pairs))
        .send()
        .await
        .unwrap()
}

/// Subscribes `callback` to `topic` and waits until the hub holds `active` subscriptions.
pub async fn subscribe(
    app: &TestApp,
    topic: &str,
    callback: &str,
    extra: &[(&str, &str)],
    active: f64,
) {
    let mut pairs = vec![
        ("hub.mode", "subscribe"),
        ("hub.topic", topic),
        ("hub.callback", callback),
    ];
    pairs.extend_from_slice(extra);
    let response = post_form(app, &pairs).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    within(5, "the subscription is active", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == active
    })
    .await;
}

/// Today's list changes upstream and is refreshed (its TTL passed, a reader asked).
async fn change_today(app: &TestApp) {
    let mut items = app.days.get(TODAY);
    for item in &mut items {
        let upvotes = item["paper"]["upvotes"].as_u64().unwrap();
        item["paper"]["upvotes"] = Value::from(upvotes + 100);
    }
    app.days.set(TODAY, items);
    app.clock.advance(Duration::from_secs(11 * 60));
    let before = app.state.store.changes();
    let version = *before.borrow();
    app.get("/feed.json?days=1").await;
    within(5, "today's list is refreshed", || async {
        *app.state.store.changes().borrow() != version
    })
    .await;
}

fn topic(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.address)
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn every_feed_names_the_hub_and_a_disabled_hub_is_not_there() {
    let app = spawn_app().await;
    let hub = format!("{}/websub", app.address);
    for path in [
        "/feed.rss?days=1",
        "/feed.atom?q=agent",
        "/feed.json",
        "/feed?format=atom",
        "/digest.rss",
        "/topics/agents.atom",
        "/topics/agents/digest.json",
        "/huggingface/daily-papers/week",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "link"),
            format!(
                "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
                topic(&app, path)
            ),
            "{path}"
        );
        let body = response.text().await.unwrap();
        if path.contains("json") {
            let feed: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(feed["hubs"][0]["type"], "WebSub", "{path}");
            assert_eq!(feed["hubs"][0]["url"], hub.as_str(), "{path}");
        } else {
            assert!(
                body.contains(&format!(r#"<atom:link href="{hub}" rel="hub"/>"#))
                    || body.contains(&format!(r#"<link href="{hub}" rel="hub"/>"#)),
                "{path}: {body:.600}"
            );
        }
    }
    // A 304 carries the validators; the hub is named on 200s.
    let etag = header(&app.get("/feed.atom").await, "etag");
    let not_modified = app
        .get_with("/feed.atom", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(not_modified.status(), 304);
    let wrong_method = app.get("/websub").await;
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(header(&wrong_method, "allow"), "POST");

    let off = spawn_app_with(|s| s.websub.enabled = false).await;
    let response = off.get("/feed.atom").await;
    assert!(response.headers().get("link").is_none());
    assert!(!response.text().await.unwrap().contains("rel=\"hub\""));
    let json = off.json("/feed.json").await;
    assert!(json.get("hubs").is_none());
    let form = [("hub.mode", "subscribe")];
    assert_eq!(post_form(&off, &form).await.status(), 404);
    assert_eq!(off.get("/websub").await.status(), 404);
}

#[tokio::test]
async fn bad_requests_are_400s_naming_the_field() {
    let app = hub_app().await;
    let feed = topic(&app, "/feed.atom?q=agent");
    let callback = "http://127.0.0.1:9/cb";
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![
                ("hub.topic", feed.clone()),
                ("hub.callback", callback.into()),
            ],
            "hub.mode",
        ),
        (
            vec![
                ("hub.mode", "follow".into()),
                ("hub.topic", feed.clone()),
                ("hub.callback", callback.into()),
            ],
            "hub.mode",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.callback", callback.into()),
            ],
            "hub.topic",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", "https://elsewhere.example/feed.atom".into()),
                ("hub.callback", callback.into()),
            ],
            "hub.topic",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", topic(&app, "/preview?q=agent")),
                ("hub.callback", callback.into()),
            ],
            "hub.topic",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", topic(&app, "/feed.atom?min_upvotes=lots")),
                ("hub.callback", callback.into()),
            ],
            "hub.topic",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", topic(&app, "/topics/no-such-topic.rss")),
                ("hub.callback", callback.into()),
            ],
            "hub.topic",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", feed.clone()),
            ],
            "hub.callback",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", feed.clone()),
                ("hub.callback", "gopher://127.0.0.1/cb".into()),
            ],
            "hub.callback",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", feed.clone()),
                ("hub.callback", callback.into()),
                ("hub.lease_seconds", "soon".into()),
            ],
            "hub.lease_seconds",
        ),
        (
            vec![
                ("hub.mode", "subscribe".into()),
                ("hub.topic", feed.clone()),
                ("hub.callback", callback.into()),
                ("hub.secret", "x".repeat(200)),
            ],
            "hub.secret",
        ),
    ];
    for (pairs, field) in cases {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = post_form(&app, &pairs).await;
        let (status, body) = assert_problem(response, 400).await;
        assert_eq!(status, 400);
        assert_eq!(body["parameter"], field, "{pairs:?}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(field), "{body}");
    }
    // A form larger than the hub reads is a 413 problem.
    let huge = format!("hub.mode=subscribe&hub.topic={}", "a".repeat(300 * 1024));
    let response = app
        .client
        .post(format!("{}/websub", app.address))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
    assert_eq!(app.metric("paperboy_websub_subscriptions", &[]).await, 0.0);
}

/// `(status, body)` of a problem+json answer with `status`.
async fn assert_problem(response: reqwest::Response, status: u16) -> (u16, Value) {
    assert_eq!(response.status(), status);
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    (status, body)
}

#[tokio::test]
async fn a_loopback_callback_is_refused_with_public_and_taken_with_any() {
    let subscriber = Subscriber::start().await;
    let public = spawn_app().await;
    let feed = topic(&public, "/feed.atom");
    for callback in [
        subscriber.callback("a"),
        "http://localhost:9/cb".to_owned(),
        "http://[::1]:9/cb".to_owned(),
        "http://[::ffff:127.0.0.1]:9/cb".to_owned(),
    ] {
        let form = [
            ("hub.mode", "subscribe"),
            ("hub.topic", feed.as_str()),
            ("hub.callback", callback.as_str()),
        ];
        let (_, body) = assert_problem(post_form(&public, &form).await, 400).await;
        assert_eq!(body["parameter"], "hub.callback", "{callback}");
        assert!(
            body["detail"].as_str().unwrap().contains("non-public"),
            "{body}"
        );
    }
    assert!(
        subscriber.verifications("a").await.is_empty(),
        "nothing was sent"
    );

    let any = hub_app().await;
    subscribe(
        &any,
        &topic(&any, "/feed.atom"),
        &subscriber.callback("a"),
        &[],
        1.0,
    )
    .await;
    assert_eq!(subscriber.verifications("a").await.len(), 1);
}

#[tokio::test]
async fn a_subscription_is_verified_then_gets_each_change_signed() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let path = "/feed.atom?days=1";
    let feed = topic(&app, path);
    let callback = subscriber.callback("signed");
    subscribe(&app, &feed, &callback, &[("hub.secret", "pssst")], 1.0).await;
    let verifications = subscriber.verifications("signed").await;
    assert_eq!(verifications.len(), 1);
    let query = &verifications[0];
    assert_eq!(
        field(query, "from"),
        Some("paperboy"),
        "the callback's query is kept"
    );
    assert_eq!(field(query, "hub.mode"), Some("subscribe"));
    assert_eq!(field(query, "hub.topic"), Some(feed.as_str()));
    assert_eq!(
        field(query, "hub.lease_seconds"),
        Some("864000"),
        "websub.max_lease"
    );
    assert!(field(query, "hub.challenge").is_some_and(|c| c.len() >= 32));
    // Nothing is delivered before a change.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(subscriber.deliveries("signed").await.is_empty());

    change_today(&app).await;
    within(5, "the change is delivered", || async {
        !subscriber.deliveries("signed").await.is_empty()
    })
    .await;
    let delivered = subscriber.deliveries("signed").await.remove(0);
    let get = app.get(path).await;
    let (etag, content_type) = (header(&get, "etag"), header(&get, "content-type"));
    let body = get.bytes().await.unwrap();
    assert_eq!(delivered.body, body.to_vec(), "the same bytes as a GET");
    let sent = |name: &str| {
        delivered
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(sent("content-type"), content_type);
    assert_eq!(
        sent("link"),
        format!(
            "<{}/websub>; rel=\"hub\", <{feed}>; rel=\"self\"",
            app.address
        )
    );
    assert_eq!(sent("x-hub-signature"), sign("pssst", &delivered.body));
    assert!(sent("content-encoding").is_empty(), "identity encoding");
    let feed_doc = parse_atom(&delivered.body);
    assert!(!feed_doc.entries.is_empty());
    assert!(etag.starts_with("W/"));
    assert_eq!(
        app.metric(
            "paperboy_websub_deliveries_total",
            &[("outcome", "delivered")]
        )
        .await,
        1.0
    );
    // Once per change: a second look finds nothing new.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(subscriber.deliveries("signed").await.len(), 1);
}

#[tokio::test]
async fn many_subscribers_of_one_feed_get_one_render_and_feeds_outside_the_change_get_nothing() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let today = topic(&app, "/feed.rss?days=1");
    let old = topic(&app, "/feed.rss?date=2026-08-10&days=1");
    for n in 0..6 {
        subscribe(
            &app,
            &today,
            &subscriber.callback(&format!("n{n}")),
            &[],
            f64::from(n + 1),
        )
        .await;
    }
    subscribe(&app, &old, &subscriber.callback("old"), &[], 7.0).await;
    change_today(&app).await;
    let renders = app.state.renders.render_count();
    within(5, "every subscriber of today's feed has it", || async {
        let mut all = true;
        for n in 0..6 {
            all &= subscriber.deliveries(&format!("n{n}")).await.len() == 1;
        }
        all
    })
    .await;
    let bodies: Vec<Vec<u8>> = {
        let mut bodies = Vec::new();
        for n in 0..6 {
            bodies.push(subscriber.deliveries(&format!("n{n}")).await.remove(0).body);
        }
        bodies
    };
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        subscriber.deliveries("old").await.is_empty(),
        "its window did not change"
    );
    // At most one render per distinct feed subscribed to (two here), not one per subscriber.
    assert!(app.state.renders.render_count() <= renders + 2);
}

#[tokio::test]
async fn unsubscribing_is_verified_and_ends_deliveries() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.json?days=1");
    let callback = subscriber.callback("leaving");
    subscribe(&app, &feed, &callback, &[], 1.0).await;
    let form = [
        ("hub.mode", "unsubscribe"),
        ("hub.topic", feed.as_str()),
        ("hub.callback", callback.as_str()),
    ];
    assert_eq!(post_form(&app, &form).await.status(), 202);
    within(5, "the subscription is gone", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == 0.0
    })
    .await;
    let verifications = subscriber.verifications("leaving").await;
    assert_eq!(field(&verifications[1], "hub.mode"), Some("unsubscribe"));
    assert_eq!(field(&verifications[1], "hub.lease_seconds"), None);
    change_today(&app).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(subscriber.deliveries("leaving").await.is_empty());
}

#[tokio::test]
async fn an_unverified_request_changes_nothing() {
    let subscriber = Subscriber::start().await;
    subscriber.set(|b| b.echo = false);
    let app = hub_app().await;
    let feed = topic(&app, "/feed.json");
    let form = [
        ("hub.mode", "subscribe"),
        ("hub.topic", feed.as_str()),
        ("hub.callback", &subscriber.callback("liar")),
    ];
    assert_eq!(post_form(&app, &form).await.status(), 202);
    within(5, "the challenge was sent", || async {
        !subscriber.verifications("liar").await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.metric("paperboy_websub_subscriptions", &[]).await, 0.0);
}

#[tokio::test]
async fn a_410_ends_the_subscription_and_failures_are_retried_on_the_clock() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.atom?days=1");
    subscribe(&app, &feed, &subscriber.callback("flaky"), &[], 1.0).await;
    subscribe(&app, &feed, &subscriber.callback("gone"), &[], 2.0).await;
    subscriber.set(|b| b.delivery_status = 500);
    // Both fail first (500); the one called "gone" then answers 410.
    change_today(&app).await;
    within(5, "both deliveries failed", || async {
        app.metric("paperboy_websub_deliveries_total", &[("outcome", "failed")])
            .await
            == 2.0
    })
    .await;
    // Not before a minute has passed on the hub's clock.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(subscriber.deliveries("flaky").await.len(), 1);
    subscriber.set(|b| b.delivery_status = 410);
    app.clock.advance(Duration::from_secs(61));
    within(5, "the 410 ends a subscription", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == 0.0
    })
    .await;
    assert_eq!(
        app.metric("paperboy_websub_deliveries_total", &[("outcome", "gone")])
            .await,
        2.0
    );
    assert_eq!(subscriber.deliveries("flaky").await.len(), 2);

    // A retry that succeeds: after 1 minute, with the same body.
    subscribe(&app, &feed, &subscriber.callback("again"), &[], 1.0).await;
    subscriber.set(|b| b.delivery_status = 503);
    change_today(&app).await;
    within(5, "the delivery failed", || async {
        subscriber.deliveries("again").await.len() == 1
    })
    .await;
    subscriber.set(|b| b.delivery_status = 200);
    app.clock.advance(Duration::from_secs(61));
    within(5, "the retry is delivered", || async {
        app.metric(
            "paperboy_websub_deliveries_total",
            &[("outcome", "delivered")],
        )
        .await
            == 1.0
    })
    .await;
    let sent = subscriber.deliveries("again").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, sent[1].body);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.atom?days=1");
    let elsewhere = subscriber.callback("elsewhere");
    let callback = format!(
        "{}&redirect={}",
        subscriber.callback("moved"),
        query_string(&[("u", &elsewhere)]).trim_start_matches("u=")
    );
    subscribe(&app, &feed, &callback, &[], 1.0).await;
    subscriber.set(|b| b.delivery_status = 307);
    change_today(&app).await;
    within(5, "the delivery failed", || async {
        app.metric("paperboy_websub_deliveries_total", &[("outcome", "failed")])
            .await
            == 1.0
    })
    .await;
    assert_eq!(subscriber.deliveries("moved").await.len(), 1);
    assert!(
        subscriber.deliveries("elsewhere").await.is_empty(),
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn a_lease_ends_on_the_pinned_clock_and_is_capped_by_max_lease() {
    let subscriber = Subscriber::start().await;
    let app = spawn_app_with(|s| {
        any_callbacks(s);
        s.websub.max_lease = Duration::from_secs(3600);
    })
    .await;
    let feed = topic(&app, "/feed.rss");
    subscribe(
        &app,
        &feed,
        &subscriber.callback("capped"),
        &[("hub.lease_seconds", "999999")],
        1.0,
    )
    .await;
    let query = subscriber.verifications("capped").await.remove(0);
    assert_eq!(field(&query, "hub.lease_seconds"), Some("3600"));
    subscribe(
        &app,
        &feed,
        &subscriber.callback("short"),
        &[("hub.lease_seconds", "120")],
        2.0,
    )
    .await;
    app.clock.advance(Duration::from_secs(121));
    within(5, "the short lease is over", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == 1.0
    })
    .await;
    app.clock.advance(Duration::from_secs(3600));
    within(5, "the capped lease is over", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == 0.0
    })
    .await;
}

#[tokio::test]
async fn subscriptions_survive_a_restart() {
    let subscriber = Subscriber::start().await;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let settings = |s: &mut Settings| {
        any_callbacks(s);
        s.storage.data_dir = dir.clone();
    };
    let first = spawn_app_with(settings).await;
    let feed = topic(&first, "/feed.atom?days=1");
    subscribe(
        &first,
        &feed,
        &subscriber.callback("kept"),
        &[("hub.secret", "k")],
        1.0,
    )
    .await;
    let file = data.path().join("websub/subscriptions.json");
    within(5, "the subscription is written down", || async {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("/cb/kept"))
    })
    .await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "the secrets' folder is the owner's alone"
        );
    }

    let second = spawn_app_with(settings).await;
    assert_eq!(
        second.metric("paperboy_websub_subscriptions", &[]).await,
        1.0
    );
    change_today(&second).await;
    within(5, "the kept subscription gets the change", || async {
        subscriber.deliveries("kept").await.len() == 1
    })
    .await;
    let delivered = subscriber.deliveries("kept").await.remove(0);
    assert_eq!(
        delivered
            .headers
            .get("x-hub-signature")
            .unwrap()
            .to_str()
            .unwrap(),
        sign("k", &delivered.body)
    );
}

#[tokio::test]
async fn a_callback_that_never_answers_is_dropped_after_ten_seconds() {
    let subscriber = Subscriber::start().await;
    subscriber.set(|b| b.verify_delay = Duration::from_secs(30));
    let app = hub_app().await;
    let feed = topic(&app, "/feed.json");
    let callback = subscriber.callback("slow");
    let form = [
        ("hub.mode", "subscribe"),
        ("hub.topic", feed.as_str()),
        ("hub.callback", callback.as_str()),
    ];
    let started = std::time::Instant::now();
    assert_eq!(post_form(&app, &form).await.status(), 202);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the 202 comes at once"
    );
    // The request is dropped after 10 s: a new one is verified again, and succeeds.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(app.metric("paperboy_websub_subscriptions", &[]).await, 0.0);
    subscriber.set(|b| b.verify_delay = Duration::ZERO);
    subscribe(&app, &feed, &callback, &[], 1.0).await;

    // A delivery that gets no answer in 10 s fails (and is retried later).
    subscriber.set(|b| b.delivery_delay = Duration::from_secs(30));
    let path = "/feed.json?days=1";
    subscribe(&app, &topic(&app, path), &callback, &[], 2.0).await;
    change_today(&app).await;
    within(15, "the delivery timed out", || async {
        app.metric("paperboy_websub_deliveries_total", &[("outcome", "failed")])
            .await
            >= 1.0
    })
    .await;
    // Serving never waited on it.
    assert_eq!(app.get(path).await.status(), 200);
}

#[tokio::test]
async fn the_limits_are_429s() {
    let subscriber = Subscriber::start().await;
    let app = spawn_app_with(|s| {
        any_callbacks(s);
        s.websub.max_subscriptions = 10;
    })
    .await;
    let feed = topic(&app, "/feed.rss");
    subscribe(&app, &feed, &subscriber.callback("one"), &[], 1.0).await;
    // One callback host may hold a tenth of the whole: 1 here.
    let form = [
        ("hub.mode", "subscribe"),
        ("hub.topic", feed.as_str()),
        ("hub.callback", &subscriber.callback("two")),
    ];
    let (_, body) = assert_problem(post_form(&app, &form).await, 429).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("websub.max_subscriptions")
    );
    // A renewal of the one it holds is taken.
    subscribe(&app, &feed, &subscriber.callback("one"), &[], 1.0).await;
    within(5, "the renewal was verified", || async {
        subscriber.verifications("one").await.len() == 2
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// The hub tests of websub.rocks (100-series), reproduced with the tests' subscriber.

/// 100: a typical subscriber request, then a content distribution.
#[tokio::test]
async fn websub_rocks_100_typical_subscriber_request() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.rss?days=1");
    subscribe(&app, &feed, &subscriber.callback("100"), &[], 1.0).await;
    change_today(&app).await;
    within(5, "the content is distributed", || async {
        subscriber.deliveries("100").await.len() == 1
    })
    .await;
    let delivered = subscriber.deliveries("100").await.remove(0);
    assert!(
        delivered.headers.get("x-hub-signature").is_none(),
        "no secret, no signature"
    );
    assert_eq!(delivered.headers.get("content-type").unwrap(), RSS_TYPE);
    parse_rss(&delivered.body);
}

/// 101: the subscriber includes a secret; the distribution is signed with it.
#[tokio::test]
async fn websub_rocks_101_subscriber_includes_a_secret() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.json?days=1");
    subscribe(
        &app,
        &feed,
        &subscriber.callback("101"),
        &[("hub.secret", "a secret of 101")],
        1.0,
    )
    .await;
    change_today(&app).await;
    within(5, "the content is distributed", || async {
        subscriber.deliveries("101").await.len() == 1
    })
    .await;
    let delivered = subscriber.deliveries("101").await.remove(0);
    let signature = delivered
        .headers
        .get("x-hub-signature")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(signature, sign("a secret of 101", &delivered.body));
    assert_ne!(signature, sign("another secret", &delivered.body));
    assert_eq!(delivered.headers.get("content-type").unwrap(), JSON_TYPE);
}

/// 102: the subscriber sends parameters the hub does not know: they are ignored.
#[tokio::test]
async fn websub_rocks_102_subscriber_sends_additional_parameters() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.atom");
    subscribe(
        &app,
        &feed,
        &subscriber.callback("102"),
        &[("foo", "bar"), ("hub.unknown", "x")],
        1.0,
    )
    .await;
    let query = subscriber.verifications("102").await.remove(0);
    assert!(field(&query, "foo").is_none() && field(&query, "hub.unknown").is_none());
}

/// 103: the subscriber re-subscribes before its lease ends: the lease starts again.
#[tokio::test]
async fn websub_rocks_103_subscriber_resubscribes_before_the_lease_ends() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.atom");
    let callback = subscriber.callback("103");
    let lease = [("hub.lease_seconds", "600")];
    subscribe(&app, &feed, &callback, &lease, 1.0).await;
    app.clock.advance(Duration::from_secs(500));
    subscribe(&app, &feed, &callback, &lease, 1.0).await;
    within(5, "the renewal was verified", || async {
        subscriber.verifications("103").await.len() == 2
    })
    .await;
    // 500 s later the first lease would be over, the renewed one is not.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.clock.advance(Duration::from_secs(500));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.metric("paperboy_websub_subscriptions", &[]).await, 1.0);
    app.clock.advance(Duration::from_secs(101));
    within(5, "the renewed lease is over", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == 0.0
    })
    .await;
}

/// 104: an unsubscribe request, verified, and nothing distributed after it.
#[tokio::test]
async fn websub_rocks_104_unsubscribe() {
    let subscriber = Subscriber::start().await;
    let app = hub_app().await;
    let feed = topic(&app, "/feed.rss?days=1");
    let callback = subscriber.callback("104");
    subscribe(&app, &feed, &callback, &[], 1.0).await;
    let form = [
        ("hub.mode", "unsubscribe"),
        ("hub.topic", feed.as_str()),
        ("hub.callback", callback.as_str()),
    ];
    assert_eq!(post_form(&app, &form).await.status(), 202);
    within(5, "unsubscribed", || async {
        app.metric("paperboy_websub_subscriptions", &[]).await == 0.0
    })
    .await;
    let queries = subscriber.verifications("104").await;
    assert_eq!(field(&queries[1], "hub.mode"), Some("unsubscribe"));
    assert_eq!(field(&queries[1], "hub.topic"), Some(feed.as_str()));
    change_today(&app).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(subscriber.deliveries("104").await.is_empty());
}
