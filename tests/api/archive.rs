//! Section 14: bounded whatever the archive holds. Memory by settings (older lists read when
//! needed, weighed, reported by kind), work per request by the request (one read per date,
//! month digests up to a year, unfiltered rankings kept), per-window versions, the shrink
//! rule, and links from the request's host.

use paperboy::app::settings::{Overrides, Settings};
use paperboy::data::store::Backfilled;
use serde_json::Value;

use crate::helpers::*;
use crate::support::scrape;

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// The fixture days, oldest first.
const FIXTURE_DAYS: [&str; 12] = [
    "2026-08-03",
    "2026-08-04",
    "2026-08-05",
    "2026-08-06",
    "2026-08-07",
    "2026-08-08",
    "2026-08-09",
    "2026-08-10",
    "2026-08-11",
    "2026-08-12",
    "2026-08-13",
    "2026-08-14",
];

/// A data directory holding every fixture day, fetched from the mock upstream by an app of its
/// own; and its path.
async fn stored_fixture_days() -> (tempfile::TempDir, String) {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let filler = spawn_app_with({
        let dir = dir.clone();
        move |s| s.storage.data_dir = dir
    })
    .await;
    for day in FIXTURE_DAYS {
        let backfilled = filler.state.store.backfill(date(day), false).await.unwrap();
        assert!(matches!(backfilled, Backfilled::Fetched { .. }), "{day}");
    }
    (data, dir)
}

/// An app with a data directory holding every fixture day, `max_days` days kept in memory
/// and `max_memory` for the rest; started with nothing in memory.
async fn archived_app(max_days: u32, max_memory: &str) -> (TestApp, tempfile::TempDir) {
    let (data, dir) = stored_fixture_days().await;
    let memory = max_memory.to_owned();
    let app = spawn_app_with(move |s| {
        s.storage.data_dir = dir;
        s.feeds.max_days = max_days;
        s.feeds.default_days = max_days.min(3);
        s.cache.max_memory = memory.parse().unwrap();
    })
    .await;
    (app, data)
}

#[tokio::test]
async fn older_lists_are_read_when_needed_and_kept_within_their_share_of_the_budget() {
    // Older lists' share of 2 MiB is 512 KiB: every fixture list fits alone (the largest,
    // rendered, weighs about 350 KB), all ten do not (about 960 KB).
    let (app, _data) = archived_app(2, "2MiB").await;
    assert_eq!(app.state.store.lists_cached(), 0, "nothing read at start");
    for day in FIXTURE_DAYS {
        let response = app.get(&format!("/feed.atom?date={day}&days=1")).await;
        assert_eq!(response.status(), 200, "{day}");
    }
    assert_eq!(
        app.upstream_request_count().await,
        0,
        "every day came from disk"
    );
    let metrics = scrape(&app.client, &app.address).await;
    let older = metrics.get("paperboy_memory_bytes", &[("kind", "older_lists")]);
    let recent = metrics.get("paperboy_memory_bytes", &[("kind", "recent_lists")]);
    let budget = paperboy::telemetry::memory::Budget::split(2 << 20);
    assert!(older > 0.0, "older lists are kept while they fit");
    assert!(
        older <= budget.older_lists as f64,
        "older lists hold {older} bytes, over their share {}",
        budget.older_lists
    );
    assert!(
        app.state.store.lists_cached() < FIXTURE_DAYS.len() as u64,
        "not every older list fits its share"
    );
    assert!(recent > 0.0, "the two recent days are in memory");
    // The feeds were rendered, and their items compressed, by build threads that keep their
    // compressors (other tests' threads may hold more).
    let compressors = metrics.get("paperboy_memory_bytes", &[("kind", "compressors")]);
    assert!(
        compressors >= paperboy::common::stitch::COMPRESSOR_BYTES as f64,
        "the build threads' compressors are weighed: {compressors}"
    );
    for kind in paperboy::telemetry::memory::Report::kinds() {
        assert!(
            metrics.has("paperboy_memory_bytes", &[("kind", kind)]),
            "{kind} is reported"
        );
    }
    // What was let go is read again, with the same answer.
    let again = app.get("/feed.atom?date=2026-08-03&days=1").await;
    assert_eq!(again.status(), 200);
}

/// moka lets go of what is over a budget only while a cache is used: the upkeep does it when
/// no request comes, so what a flood left over a budget does not stay in memory.
#[tokio::test]
async fn older_lists_over_their_share_are_let_go_while_no_request_comes() {
    let (app, _data) = archived_app(2, "2MiB").await;
    for day in FIXTURE_DAYS {
        let response = app.get(&format!("/feed.atom?date={day}&days=1")).await;
        assert_eq!(response.status(), 200, "{day}");
    }
    let share = paperboy::telemetry::memory::Budget::split(2 << 20).older_lists;
    eventually("the older lists held fit their share", || async {
        app.state.store.older_held_bytes() <= share
    })
    .await;
    assert!(app.state.store.older_held_bytes() > 0, "what fits stays");
}

#[tokio::test]
async fn start_up_reads_only_the_recent_days_from_the_data_directory() {
    let (_data, dir) = stored_fixture_days().await;
    let app = spawn_app_at(NOW, paperboy::app::background::Background::On, move |s| {
        s.storage.data_dir = dir;
        s.feeds.max_days = 4;
        s.feeds.default_days = 3;
    })
    .await;
    eventually("ready", || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
    let cached: Vec<bool> = FIXTURE_DAYS
        .iter()
        .map(|d| app.state.store.in_memory(date(d)).is_some())
        .collect();
    assert_eq!(
        cached,
        [
            false, false, false, false, false, false, false, false, true, true, true, true
        ],
        "the last feeds.max_days days, no others"
    );
}

#[tokio::test]
async fn a_stored_day_is_read_once_however_many_requests_want_it_at_once() {
    let (app, _data) = archived_app(2, "32MiB").await;
    let url = "/feed.json?date=2026-08-06&days=1";
    let requests = (0..16).map(|i| {
        let app = &app;
        async move { app.get(&format!("{url}&limit={}", i + 1)).await.status() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let metrics = scrape(&app.client, &app.address).await;
    assert_eq!(
        metrics.get("paperboy_storage_reads_total", &[("outcome", "ok")]),
        1.0
    );
}

#[tokio::test]
async fn a_digest_of_months_covers_at_most_a_year() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.get("/digest.atom?period=month&count=13").await,
        400,
        "13 months",
    )
    .await;
    assert_eq!(problem["parameter"], "count");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("12") && detail.contains("month"),
        "{detail}"
    );
    // Order does not matter: count before period.
    let response = app.get("/digest.atom?count=13&period=month").await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        app.get("/digest.atom?period=month&count=12").await.status(),
        200
    );
    assert_eq!(
        app.get("/digest.atom?period=week&count=30").await.status(),
        200
    );
}

#[tokio::test]
async fn an_unfiltered_digest_ranks_an_ended_period_once_per_data_version() {
    let app = spawn_app().await;
    let week = "period=week&date=2026-08-09&count=1";
    let first = app.get(&format!("/digest.atom?{week}")).await;
    assert_eq!(first.status(), 200);
    let lookups = |m: &crate::support::Scrape| {
        ["hit", "miss", "stale"]
            .iter()
            .map(|r| m.get("paperboy_daily_list_lookups_total", &[("result", r)]))
            .sum::<f64>()
    };
    let before = lookups(&scrape(&app.client, &app.address).await);
    // Another format and a smaller top: a feed not rendered before, from the kept ranking.
    let second = app.get(&format!("/digest.json?{week}&top=3")).await;
    assert_eq!(second.status(), 200);
    let items: Value = second.json().await.unwrap();
    assert_eq!(items["items"].as_array().unwrap().len(), 1);
    assert!(
        items["items"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Top 3 papers of week 32"),
        "{}",
        items["items"][0]["title"]
    );
    let after = lookups(&scrape(&app.client, &app.address).await);
    assert_eq!(before, after, "no daily list was looked up again");
    // A filter ranks anew.
    assert_eq!(
        app.get(&format!("/digest.json?{week}&q=model"))
            .await
            .status(),
        200
    );
    let filtered = lookups(&scrape(&app.client, &app.address).await);
    assert!(filtered > after);
}

#[tokio::test]
async fn a_digest_item_of_one_paper_is_titled_top_paper() {
    let app = spawn_app().await;
    let feed = app
        .json("/digest.json?period=day&date=2026-08-13&count=1&top=1")
        .await;
    let title = feed["items"][0]["title"].as_str().unwrap();
    assert_eq!(title, "Top paper of Thursday 13 August 2026");
}

#[tokio::test]
async fn reading_other_dates_leaves_a_windows_version_and_its_fast_path_alone() {
    let (app, _data) = archived_app(3, "32MiB").await;
    let store = &app.state.store;
    let (oldest, newest) = (date("2026-08-12"), date("2026-08-14"));
    assert_eq!(app.get("/feed.atom").await.status(), 200);
    assert_eq!(app.get("/feed.atom").await.status(), 200);
    let version = store.window_version(oldest, newest);
    for day in &FIXTURE_DAYS[..8] {
        assert_eq!(
            app.get(&format!("/feed.atom?date={day}&days=1"))
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        store.window_version(oldest, newest),
        version,
        "a sweep over other dates"
    );
    // Reading a list again with the same content does not move it either.
    let list = store.in_memory(newest).unwrap();
    store
        .insert(paperboy::data::daily_list::DailyList::new(
            newest,
            list.papers.clone(),
            list.fetched_at,
            list.changed_at,
            list.content_hash,
        ))
        .await;
    assert_eq!(store.window_version(oldest, newest), version);
    // New content does.
    store
        .insert(paperboy::data::daily_list::DailyList::new(
            newest,
            list.papers[1..].to_vec(),
            list.fetched_at,
            chrono::Utc::now(),
            list.content_hash ^ 1,
        ))
        .await;
    assert_ne!(store.window_version(oldest, newest), version);
    assert_eq!(
        store.window_version(date("2026-08-03"), date("2026-08-10")),
        store.window_version(date("2026-08-03"), date("2026-08-10")),
    );
    let feed = app.feed("/feed.atom").await;
    assert!(
        !feed
            .entries
            .iter()
            .any(|e| arxiv_id(&e.id) == list.papers[0].id),
        "the fast path saw the change"
    );
}

#[tokio::test]
async fn a_refresh_that_would_empty_most_of_a_past_day_keeps_the_stored_list() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(move |s| s.storage.data_dir = dir).await;
    let day = "2026-08-10";
    let url = format!("/feed.json?date={day}&days=1&limit=200");
    let before = app.ids(&url).await;
    assert!(before.len() > 4, "{before:?}");
    let file = data.path().join("days").join(format!("{day}.json"));
    eventually("the day is stored", || async { file.exists() }).await;
    let stored = std::fs::read(&file).unwrap();
    // Upstream now lists one readable item of the day.
    let items = app.days.get(day);
    app.days.set(day, items[..1].to_vec());
    app.clock.advance(std::time::Duration::from_secs(2 * 3600));
    assert_eq!(
        app.get(&url).await.status(),
        200,
        "served stale, refreshed behind"
    );
    eventually("the refresh is refused", || async {
        app.metric("paperboy_refreshes_total", &[("outcome", "shrunk")])
            .await
            == 1.0
    })
    .await;
    assert_eq!(
        app.ids(&url).await,
        before,
        "the stored list is still served"
    );
    assert_eq!(std::fs::read(&file).unwrap(), stored, "and still stored");
    // `paperboy fetch --force` replaces it all the same.
    let forced = app.state.store.backfill(date(day), true).await.unwrap();
    assert_eq!(forced, Backfilled::Fetched { papers: 1 });
    assert_eq!(app.ids(&url).await.len(), 1);
}

#[tokio::test]
async fn a_backfill_without_force_keeps_a_past_day_that_would_shrink() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(move |s| s.storage.data_dir = dir).await;
    let day = date("2026-08-05");
    let stored = match app.state.store.backfill(day, false).await.unwrap() {
        Backfilled::Fetched { papers } => papers,
        other => panic!("{other:?}"),
    };
    let items = app.days.get("2026-08-05");
    app.days.set("2026-08-05", items[..2].to_vec());
    app.clock.advance(std::time::Duration::from_secs(25 * 3600));
    let again = app.state.store.backfill(day, false).await.unwrap();
    assert_eq!(again, Backfilled::Shrunk { stored, fetched: 2 });
    // Losing fewer than half is an ordinary refresh.
    let keep = stored / 2 + 1;
    app.days.set("2026-08-05", items[..keep].to_vec());
    app.clock.advance(std::time::Duration::from_secs(25 * 3600));
    let third = app.state.store.backfill(day, false).await.unwrap();
    assert_eq!(third, Backfilled::Fetched { papers: keep });
}

#[tokio::test]
async fn without_a_public_url_links_come_from_the_requests_host() {
    let app = spawn_app().await;
    let self_link = |feed: Value| feed["feed_url"].as_str().unwrap().to_owned();
    let get = |host: &'static str| {
        let app = &app;
        async move {
            app.get_with("/feed.json?days=1", &[("Host", host)])
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let feed = get("papers.example.org:8080").await;
    assert_eq!(
        self_link(feed.clone()),
        "http://papers.example.org:8080/feed.json?days=1"
    );
    assert_eq!(feed["icon"], "http://papers.example.org:8080/icon.png");
    let localhost = format!("http://localhost:{}/feed.json?days=1", app.port);
    assert_eq!(self_link(get("0.0.0.0:8080").await), localhost);
    assert_eq!(self_link(get("[::]:8080").await), localhost);
    assert_eq!(self_link(get("bad host\"><").await), localhost);
    // The OPML and the home page too.
    let opml = app
        .text_with("/topics.opml", &[("Host", "papers.example.org:8080")])
        .await;
    assert!(
        opml.contains("xmlUrl=\"http://papers.example.org:8080/topics/"),
        "{opml}"
    );
    let home = app
        .text_with("/", &[("Host", "papers.example.org:8080")])
        .await;
    assert!(home.contains("http://papers.example.org:8080/topics/"));
    assert!(!home.contains("0.0.0.0"));
}

#[tokio::test]
async fn only_the_first_sixteen_hosts_are_kept() {
    let app = spawn_app().await;
    let mut links = Vec::new();
    for i in 0..20 {
        let host = format!("h{i}.example");
        let feed: Value = app
            .get_with("/feed.json?days=1", &[("Host", host.as_str())])
            .await
            .json()
            .await
            .unwrap();
        links.push(feed["feed_url"].as_str().unwrap().to_owned());
    }
    // The test client's own host was the first one seen? No request before: h0..h15 kept.
    for (i, link) in links.iter().enumerate() {
        let expected = if i < paperboy::http::base::MAX_HOSTS {
            format!("http://h{i}.example/feed.json?days=1")
        } else {
            format!("http://localhost:{}/feed.json?days=1", app.port)
        };
        assert_eq!(link, &expected);
    }
}

#[tokio::test]
async fn a_public_url_setting_wins_over_the_host() {
    let app = spawn_app_with(|s| s.server.public_url = "https://papers.example.org".into()).await;
    let feed: Value = app
        .get_with("/feed.json?days=1", &[("Host", "other.example")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        feed["feed_url"],
        "https://papers.example.org/feed.json?days=1"
    );
}

#[test]
fn the_removed_max_papers_setting_is_refused_naming_max_memory() {
    let env = vec![("PAPERBOY_CACHE__MAX_PAPERS".to_owned(), "20000".to_owned())];
    let error = Settings::load(&Overrides::default(), env)
        .unwrap_err()
        .to_string();
    assert!(error.contains("cache.max_papers"), "{error}");
    assert!(error.contains("cache.max_memory"), "{error}");
}

#[tokio::test]
async fn builds_and_backstage_run_below_the_http_workers_priority() {
    let app = spawn_app().await;
    assert_eq!(app.get("/feed.atom?q=agent").await.status(), 200);
    let threads = std::fs::read_dir("/proc/self/task").unwrap();
    let mut niced = std::collections::HashMap::new();
    for thread in threads {
        let tid: i32 = thread
            .unwrap()
            .file_name()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let Ok(name) = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")) else {
            continue;
        };
        let scheduling = (
            paperboy::backstage::nice_of(tid),
            paperboy::backstage::policy_of(tid),
        );
        niced.insert(name.trim().to_owned(), scheduling);
    }
    let of = |prefix: &str| {
        niced
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, (nice, policy))| (nice.unwrap(), policy.unwrap()))
            .collect::<Vec<(i32, i32)>>()
    };
    let builds = of("paperboy-build");
    let backstage = of("paperboy-backst");
    let workers = of("actix-server wo");
    assert!(!builds.is_empty() && !backstage.is_empty(), "{niced:?}");
    let lowered = (paperboy::backstage::NICE, paperboy::backstage::POLICY);
    assert!(
        builds.iter().chain(&backstage).all(|s| *s == lowered),
        "{niced:?}"
    );
    assert!(!workers.is_empty(), "{niced:?}");
    assert!(
        workers
            .iter()
            .all(|(nice, policy)| *nice < lowered.0
                && *policy == paperboy::backstage::WORKERS_POLICY),
        "{niced:?}"
    );
}
