//! Section 13, limits under hostile traffic: what a crawler sweeping dates, a fuzzer, a flood
//! or a misbehaving upstream can make paperboy do. Every case counts what it must bound
//! (upstream requests, files, statuses), never how long something took.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::support::scrape;

const UPSTREAM: &str = "paperboy_upstream_requests_total";

/// A minimal upstream item that reads as a paper.
fn item(id: &str, upvotes: u64) -> Value {
    json!({
        "paper": {"id": id, "title": format!("Paper {id}"), "upvotes": upvotes, "authors": []},
        "title": format!("Paper {id}"),
    })
}

fn stored_ids(data: &std::path::Path, date: &str) -> Vec<String> {
    let bytes = std::fs::read(data.join("days").join(format!("{date}.json"))).unwrap();
    let stored: Value = serde_json::from_slice(&bytes).unwrap();
    stored["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["paper"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_date_sweep_sends_at_most_the_budget_upstream_and_stored_days_still_answer() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    // A day on disk that memory has not seen: served from the data directory, budget or not.
    {
        let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
        assert_eq!(
            app.get("/feed.json?date=2026-08-10&days=1").await.status(),
            200
        );
        eventually("2026-08-10 is stored", || async {
            data.path().join("days/2026-08-10.json").exists()
        })
        .await;
    }
    let app = spawn_app_with(|s| {
        s.storage.data_dir = dir.clone();
        s.upstream.budget = 5;
    })
    .await;
    let mut statuses = Vec::new();
    for day in 1..=20 {
        let response = app
            .get(&format!("/feed.json?date=2026-07-{day:02}&days=1"))
            .await;
        let status = response.status().as_u16();
        if status == 503 {
            let retry: u64 = header(&response, "retry-after").parse().unwrap();
            assert!((1..=300).contains(&retry), "{retry}");
            assert_problem(response, 503, "over budget").await;
        }
        statuses.push(status);
    }
    assert_eq!(app.upstream_request_count().await, 5, "the budget");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 15);
    let files = std::fs::read_dir(data.path().join("days")).unwrap().count();
    assert!(files <= 6, "{files} files: one per fetched day at most");

    // Over budget, the stored day is read from disk, and today's list (what every reader
    // gets) is still fetched.
    assert_eq!(
        app.get("/feed.json?date=2026-08-10&days=1").await.status(),
        200
    );
    assert_eq!(app.upstream_requests_for("2026-08-10").await, 0);
    assert_eq!(app.get("/feed.json?days=1").await.status(), 200);
    assert_eq!(app.upstream_requests_for("2026-08-14").await, 1);
    let s = scrape(&app.client, &app.address).await;
    assert_eq!(s.get(UPSTREAM, &[("outcome", "over_budget")]), 15.0);
    assert_eq!(
        app.state.store.cooldowns(),
        0,
        "refusals leave nothing behind"
    );
}

#[tokio::test]
async fn a_cancelled_refresh_unmarks_itself() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/feed.json?date=2026-08-13&days=1").await.status(),
        200
    );
    Mock::given(method("GET"))
        .and(query_param("date", "2026-08-13"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let store = app.state.store.clone();
    let date = "2026-08-13".parse().unwrap();
    let refresh = tokio::spawn(async move { store.ensure_fresh(date).await });
    eventually("the refresh runs", || async {
        app.state.store.refreshes_in_flight() == 1
    })
    .await;
    refresh.abort();
    eventually("the cancelled refresh is unmarked", || async {
        app.state.store.refreshes_in_flight() == 0
    })
    .await;
}

#[tokio::test]
async fn dates_before_the_first_daily_papers_are_refused_and_never_asked_for() {
    let app = spawn_app_with(|s| {
        s.feeds.earliest_date = "2026-08-12".parse().unwrap();
    })
    .await;
    for query in [
        "date=0000-01-01",
        "date=2026-08-11",
        "date=2023-04-30&days=1",
    ] {
        let problem =
            assert_problem(app.get(&format!("/feed.json?{query}")).await, 400, query).await;
        assert_eq!(problem["parameter"], "date", "{query}");
        assert!(problem["detail"].as_str().unwrap().contains("2026-08-12"));
    }
    // A window reaching back past the first day stops there.
    assert_eq!(
        app.get("/feed.json?date=2026-08-13&days=10").await.status(),
        200
    );
    assert_eq!(app.upstream_requests_for("2026-08-13").await, 1);
    assert_eq!(
        app.upstream_requests_for("2026-08-12").await,
        2,
        "two pages"
    );
    assert_eq!(
        app.upstream_request_count().await,
        3,
        "nothing before 2026-08-12"
    );
}

#[tokio::test]
async fn the_default_first_day_is_may_2023() {
    let app = spawn_app().await;
    let problem = assert_problem(app.get("/feed.rss?date=0000-01-01").await, 400, "year 0").await;
    assert_eq!(problem["parameter"], "date");
    assert_eq!(
        app.get("/feed.rss?date=2023-05-01&days=1").await.status(),
        200
    );
    assert_eq!(app.upstream_request_count().await, 1);
}

#[tokio::test]
async fn a_refresh_of_only_unreadable_items_keeps_the_day_in_memory_and_on_disk() {
    for unreadable in [
        json!([{"unexpected": 1}]),
        json!([{"paper": {"id": "not an arxiv id", "title": "x"}}]),
    ] {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().to_str().unwrap().to_owned();
        let app = spawn_app_with(|s| s.storage.data_dir = dir).await;
        let before = app.ids("/feed.json?date=2026-08-13&days=1").await;
        assert!(before.len() >= 5);
        eventually("the day is stored", || async {
            data.path().join("days/2026-08-13.json").exists()
        })
        .await;
        let stored_before = stored_ids(data.path(), "2026-08-13");

        app.days
            .set("2026-08-13", unreadable.as_array().unwrap().clone());
        app.clock.advance(Duration::from_secs(11 * 60));
        // Stale: served, and refreshed in the background; the refresh fails.
        assert_eq!(app.ids("/feed.json?date=2026-08-13&days=1").await, before);
        eventually("the refresh failed", || async {
            let s = scrape(&app.client, &app.address).await;
            s.get("paperboy_refreshes_total", &[("outcome", "failed")]) == 1.0
        })
        .await;
        assert_eq!(app.ids("/feed.json?date=2026-08-13&days=1").await, before);
        assert_eq!(stored_ids(data.path(), "2026-08-13"), stored_before);
    }
}

#[tokio::test]
async fn an_empty_day_is_still_a_normal_empty_day() {
    let app = spawn_app().await;
    app.days.set("2026-08-13", Vec::new());
    assert_eq!(app.ids("/feed.json?date=2026-08-13&days=1").await.len(), 0);
}

#[tokio::test]
async fn a_day_of_eleven_pages_is_served_with_its_first_thousand_papers() {
    let app = spawn_app_with(|s| s.feeds.max_limit = 1000).await;
    let items: Vec<Value> = (0..1100)
        .map(|i| item(&format!("2608.{:05}", 10_000 + i), 1100 - i))
        .collect();
    app.days.set("2026-08-11", items);
    let ids = app
        .ids("/feed.json?date=2026-08-11&days=1&limit=1000")
        .await;
    assert_eq!(ids.len(), 1000);
    assert_eq!(ids[0], "2608.10000");
    assert_eq!(app.upstream_requests_for("2026-08-11").await, 10);
}

#[tokio::test]
async fn an_upstream_that_ignores_limit_is_asked_once_and_read_in_linear_time() {
    let app = spawn_app_with(|s| s.feeds.max_limit = 1000).await;
    // 10,000 items on every page, a tenth of them repeated.
    let items: Vec<Value> = (0..10_000)
        .map(|i| item(&format!("2608.{:05}", 10_000 + i % 9_000), 5))
        .collect();
    Mock::given(method("GET"))
        .and(query_param("date", "2026-08-11"))
        .respond_with(ResponseTemplate::new(200).set_body_json(items))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let ids = app
        .ids("/feed.json?date=2026-08-11&days=1&limit=1000")
        .await;
    assert_eq!(ids.len(), 1000);
    assert_eq!(app.upstream_requests_for("2026-08-11").await, 1);
}

#[tokio::test]
async fn a_redirect_is_an_upstream_error_and_is_never_followed() {
    let app = spawn_app().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&elsewhere)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/api/daily_papers", elsewhere.uri())),
        )
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let problem = assert_problem(app.get("/feed.json?days=1").await, 503, "redirect").await;
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    let readyz = app.get("/readyz").await.text().await.unwrap();
    for public in [readyz, problem.to_string()] {
        assert!(!public.contains("127.0.0.1"), "{public}");
        assert!(!public.contains("http://"), "{public}");
    }
    let s = scrape(&app.client, &app.address).await;
    assert_eq!(s.get(UPSTREAM, &[("outcome", "redirect")]), 1.0);
}

#[tokio::test]
async fn upstream_errors_are_described_without_urls() {
    // Nothing listens on port 9 of the loopback: a connection error.
    let app = spawn_app_with(|s| s.upstream.base_url = "http://127.0.0.1:9".into()).await;
    let problem = assert_problem(app.get("/feed.json?days=1").await, 503, "unreachable").await;
    let readyz: Value = app.get("/readyz").await.json().await.unwrap();
    let error = readyz["upstream"]["last_error"]["error"].as_str().unwrap();
    assert!(!error.contains("127.0.0.1:9"), "{error}");
    assert!(!problem.to_string().contains("127.0.0.1:9"), "{problem}");
}

#[tokio::test]
async fn a_data_directory_that_cannot_be_written_leaves_serving_from_memory() {
    let data = tempfile::tempdir().unwrap();
    // `days` is a file: nothing can be written under it (root ignores file modes, so a mode
    // would not stop the test's writes).
    std::fs::write(data.path().join("days"), b"not a folder").unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir).await;
    assert!(!app.ids("/feed.json?days=3").await.is_empty());
    eventually("three writes failed", || async {
        let s = scrape(&app.client, &app.address).await;
        s.get("paperboy_storage_writes_total", &[("outcome", "failed")]) == 3.0
    })
    .await;
    assert_eq!(app.get("/feed.json?days=3").await.status(), 200);

    // Fixed: later writes are tried again and succeed.
    std::fs::remove_file(data.path().join("days")).unwrap();
    assert_eq!(
        app.get("/feed.json?date=2026-08-10&days=1").await.status(),
        200
    );
    eventually("a later write succeeded", || async {
        data.path().join("days/2026-08-10.json").exists()
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_link_in_the_data_directory_is_never_followed() {
    let data = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(data.path().join("days")).unwrap();
    let secret = outside.path().join("secret.json");
    std::fs::write(&secret, b"{}").unwrap();
    std::os::unix::fs::symlink(&secret, data.path().join("days/2026-08-10.json")).unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir).await;
    assert_eq!(
        app.get("/feed.json?date=2026-08-10&days=1").await.status(),
        200
    );
    assert_eq!(
        app.upstream_requests_for("2026-08-10").await,
        1,
        "not read from the link"
    );
    assert_eq!(
        std::fs::read(&secret).unwrap(),
        b"{}",
        "the target is untouched"
    );
}

#[tokio::test]
async fn a_page_over_max_body_is_unreadable_and_the_previous_copy_stays() {
    let app = spawn_app_with(|s| s.upstream.max_body = bytesize::ByteSize::kib(64)).await;
    let before = app.ids("/feed.json?date=2026-08-13&days=1").await;
    let mut big = b"[".to_vec();
    big.extend(std::iter::repeat_n(b' ', 100 * 1024));
    big.push(b']');
    Mock::given(method("GET"))
        .and(query_param("date", "2026-08-13"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(big, "application/json"))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    app.clock.advance(Duration::from_secs(11 * 60));
    assert_eq!(app.ids("/feed.json?date=2026-08-13&days=1").await, before);
    eventually("the refresh failed", || async {
        let s = scrape(&app.client, &app.address).await;
        s.get(UPSTREAM, &[("outcome", "unreadable")]) == 1.0
    })
    .await;
    assert_eq!(app.ids("/feed.json?date=2026-08-13&days=1").await, before);
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_off_at_max_body() {
    let app = spawn_app_with(|s| s.upstream.max_body = bytesize::ByteSize::mib(1)).await;
    // 64 MiB of JSON whitespace, about 64 KiB compressed.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(b"[").unwrap();
    let spaces = vec![b' '; 1024 * 1024];
    for _ in 0..64 {
        encoder.write_all(&spaces).unwrap();
    }
    encoder.write_all(b"]").unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 1024 * 1024);
    Mock::given(method("GET"))
        .and(query_param("date", "2026-08-12"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(bomb, "application/json"),
        )
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    assert_problem(
        app.get("/feed.json?date=2026-08-12&days=1").await,
        503,
        "bomb",
    )
    .await;
    let s = scrape(&app.client, &app.address).await;
    assert_eq!(s.get(UPSTREAM, &[("outcome", "unreadable")]), 1.0);
    // The other days are served as usual.
    assert_eq!(
        app.get("/feed.json?date=2026-08-13&days=2").await.status(),
        200
    );
}

#[tokio::test]
async fn a_slow_client_is_dropped_after_the_client_timeout() {
    let app = spawn_app_with(|s| s.server.client_timeout = Duration::from_secs(1)).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    // Half a request head, then nothing.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection is still open after 10 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // The server is still there for others.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_flood_of_one_off_searches_is_bounded_and_healthz_keeps_answering() {
    let app = spawn_app_with(|s| s.server.max_builds = 1).await;
    // A polled feed, kept from its second request on.
    for _ in 0..2 {
        assert_eq!(app.get("/feed.atom?days=12").await.status(), 200);
    }
    let flood = (0..64).map(|i| {
        let app = &app;
        async move {
            let response = app
                .get(&format!("/feed.json?days=12&q=model+OR+learning+-x{i}"))
                .await;
            let status = response.status().as_u16();
            if status == 503 {
                assert_eq!(header(&response, "retry-after"), "1");
                assert_problem(response, 503, "shed").await;
            }
            status
        }
    });
    let probes = (0..20).map(|_| {
        let app = &app;
        async move {
            (
                app.get("/healthz").await.status().as_u16(),
                app.get("/feed.atom?days=12").await.status().as_u16(),
            )
        }
    });
    let (statuses, probes) = tokio::join!(
        futures_util::future::join_all(flood),
        futures_util::future::join_all(probes)
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&200));
    assert!(probes.iter().all(|p| *p == (200, 200)), "{probes:?}");
    assert_eq!(
        app.state.builds.running(),
        0,
        "every build slot is given back"
    );
    // One-off feeds were answered, not kept.
    app.state.renders.run_pending_tasks().await;
    assert_eq!(app.state.renders.entry_count(), 1);
    let s = scrape(&app.client, &app.address).await;
    let shed = statuses.iter().filter(|s| **s == 503).count() as f64;
    assert_eq!(s.get("paperboy_builds_shed_total", &[]), shed);
    assert!(
        s.get("paperboy_render_cache_bytes", &[]) > 100_000.0,
        "the polled feed, kept"
    );
}

#[tokio::test]
async fn the_token_never_appears_in_bodies_metrics_or_debug_output() {
    let token = "hf_averysecrettoken123";
    let app = spawn_app_with(|s| {
        s.upstream.token = token.to_owned().into();
    })
    .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string(token))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let sent = app.upstream.received_requests().await.unwrap_or_default();
    assert!(sent.is_empty());
    let mut public = vec![
        app.get("/feed.json?days=1").await.text().await.unwrap(),
        app.get("/readyz").await.text().await.unwrap(),
        app.get("/metrics").await.text().await.unwrap(),
        app.get("/preview?days=1").await.text().await.unwrap(),
        format!("{:?}", app.state.settings),
        format!("{:?}", app.state.store),
    ];
    public.push(format!("{:?}", app.state.settings.upstream));
    for text in public {
        assert!(!text.contains(token), "{text}");
    }
    // It is sent, though.
    let sent = app.upstream.received_requests().await.unwrap();
    assert!(sent.iter().any(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|v| v.to_str().unwrap() == format!("Bearer {token}"))
    }));
}

#[tokio::test]
async fn query_strings_are_decoded_strictly_on_every_route() {
    let app = spawn_app().await;
    for route in EVERY_ROUTE {
        for (query, parameter) in [
            ("q=%zz", "q"),
            ("q=abc%", "q"),
            ("author=%FF", "author"),
            ("author=Mu%CC", "author"),
            ("%zz=1", "query"),
        ] {
            let what = format!("{route}?{query}");
            let problem = assert_problem(app.get(&what).await, 400, &what).await;
            assert_eq!(problem["parameter"], parameter, "{what}");
        }
    }
}

#[tokio::test]
async fn the_query_length_limit_is_the_setting_server_max_query() {
    let app = spawn_app_with(|s| s.server.max_query = 512).await;
    let over = format!("q={}", "a".repeat(600));
    assert_problem(app.get(&format!("/feed.rss?{over}")).await, 414, "over 512").await;
    // Under the setting (and far under the default 4096) the query string is read.
    let under = format!("q=model&x={}", "a".repeat(400));
    let problem = assert_problem(app.get(&format!("/feed.rss?{under}")).await, 400, "x").await;
    assert_eq!(problem["parameter"], "x");
}

#[tokio::test]
async fn long_query_strings_and_large_heads_are_refused_on_every_route() {
    let app = spawn_app().await;
    let long = format!("q={}", "a".repeat(4100));
    let big = "x".repeat(20 * 1024);
    for route in EVERY_ROUTE {
        let what = format!("{route} with {} query bytes", long.len());
        assert_problem(app.get(&format!("{route}?{long}")).await, 414, &what).await;
        let response = app.get_with(route, &[("x-padding", &big)]).await;
        assert_problem(response, 431, route).await;
    }
    // At the limit, a query string is read.
    let at_limit = format!("q=model&x={}", "a".repeat(4096 - 10));
    assert_eq!(at_limit.len(), 4096);
    let problem = assert_problem(app.get(&format!("/feed.rss?{at_limit}")).await, 400, "x").await;
    assert_eq!(problem["parameter"], "x");
}

#[tokio::test]
async fn every_response_says_nosniff_and_carries_a_request_id() {
    let app = spawn_app().await;
    for route in [
        "/feed.atom?days=1",
        "/topics.opml",
        "/no/such/page",
        "/readyz",
        "/metrics",
        "/healthz",
        "/",
    ] {
        let response = app.get(route).await;
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{route}"
        );
        let id = header(&response, "x-request-id");
        assert!((1..=64).contains(&id.len()), "{route}: {id}");
    }
    let echoed = app
        .get_with("/healthz", &[("x-request-id", "trace-42.a_b:c")])
        .await;
    assert_eq!(header(&echoed, "x-request-id"), "trace-42.a_b:c");
    let replaced = app
        .get_with("/healthz", &[("x-request-id", "<script>alert(1)</script>")])
        .await;
    assert_ne!(
        header(&replaced, "x-request-id"),
        "<script>alert(1)</script>"
    );
    let page = app.get("/").await;
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let csp = header(&page, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
}

#[tokio::test]
async fn a_decomposed_author_name_matches_the_composed_one() {
    let app = spawn_app().await;
    let composed = app
        .ids(&format!("/feed.rss?{ALL_DAYS}&author=M%C3%BCller"))
        .await;
    assert!(!composed.is_empty());
    for spelling in ["Mu%CC%88ller", "muller", "MULLER"] {
        let ids = app
            .ids(&format!("/feed.rss?{ALL_DAYS}&author={spelling}"))
            .await;
        assert_eq!(ids, composed, "{spelling}");
    }
    let q = app
        .ids(&format!("/feed.rss?{ALL_DAYS}&q=author:Mu%CC%88ller"))
        .await;
    assert_eq!(q, composed);
}
