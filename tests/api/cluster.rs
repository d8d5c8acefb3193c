//! Section 15, several instances as one service, on a real shared server: Debian's
//! `redis-server`, started by each test on a free loopback port with no persistence. Three
//! paperboys share it in front of one mock upstream.
//!
//! `.ci/run` installs redis-server. Without it, the tests fail when `CI` is set and are
//! skipped, with a message, otherwise.

use std::process::Command;
use std::time::Duration;

use chrono::NaiveDate;
use serde_json::Value;

use crate::helpers::*;
use crate::support::{ChildGuard, free_port, installed};
use crate::websub::{Subscriber, post_form, subscribe, within};

const REDIS: &str = "/usr/bin/redis-server";
const PASSWORD: &str = "s3cret-cluster-pass";

/// A redis-server on a loopback port, with a password and no persistence; stopped (by its
/// PID) when dropped.
struct Redis {
    port: u16,
    process: Option<ChildGuard>,
    dir: tempfile::TempDir,
}

impl Redis {
    /// A new server, or none when redis-server is not installed (outside CI: the test is
    /// skipped).
    async fn start() -> Option<Redis> {
        if !installed(REDIS, "redis-server", "the cluster test") {
            return None;
        }
        let mut redis = Redis {
            port: free_port(),
            process: None,
            dir: tempfile::tempdir().unwrap(),
        };
        redis.run().await;
        Some(redis)
    }

    /// Starts the server on its port (again), once it answers.
    async fn run(&mut self) {
        let mut command = Command::new(REDIS);
        command
            .current_dir(self.dir.path())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--requirepass", PASSWORD]);
        self.process = Some(ChildGuard::spawn(command));
        let client = redis::Client::open(self.url()).unwrap();
        eventually("redis-server answers", || {
            let client = client.clone();
            async move {
                let Ok(mut c) = client.get_multiplexed_async_connection().await else {
                    return false;
                };
                redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            }
        })
        .await;
    }

    /// Kills the server (SIGKILL, by its PID): everything it held is gone.
    async fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.signal(libc::SIGKILL);
            process.wait_exit(Duration::from_secs(10)).await;
        }
    }

    fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    /// Keys the server holds now.
    async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(self.url()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut c)
            .await
            .unwrap()
    }
}

/// An instance sharing `redis`, in front of `upstream` (the first instance's mock).
async fn instance(
    redis: &Redis,
    upstream: Option<&str>,
    tweak: fn(&mut paperboy::app::settings::Settings),
) -> TestApp {
    let url = redis.url();
    let upstream = upstream.map(str::to_owned);
    spawn_app_with(move |s| {
        s.cluster.url = url.into();
        // Self links from one base, as behind one load balancer.
        s.server.public_url = "http://papers.example".into();
        // A debug build under 200 concurrent requests can take longer than the default
        // 200ms to hear an answer, which counts as the server out of reach.
        s.cluster.timeout = Duration::from_secs(2);
        if let Some(upstream) = upstream {
            s.upstream.base_url = upstream;
        }
        tweak(s);
    })
    .await
}

/// The first instance sharing `redis`, and the address of its mock upstream (which the
/// others share).
async fn first_instance(
    redis: &Redis,
    tweak: fn(&mut paperboy::app::settings::Settings),
) -> (TestApp, String) {
    let first = instance(redis, None, tweak).await;
    let upstream = first.upstream.uri();
    (first, upstream)
}

/// Three instances sharing `redis`; the first one's mock upstream serves all three.
async fn three(redis: &Redis, tweak: fn(&mut paperboy::app::settings::Settings)) -> [TestApp; 3] {
    let (first, upstream) = first_instance(redis, tweak).await;
    let second = instance(redis, Some(&upstream), tweak).await;
    let third = instance(redis, Some(&upstream), tweak).await;
    let apps = [first, second, third];
    for app in &apps {
        eventually("the instance is connected", || async {
            app.json("/readyz").await["cluster"] == "ok"
        })
        .await;
    }
    apps
}

/// A redis-server, three instances sharing it, and [`past_dates`]; none without redis-server.
async fn three_and_dates() -> Option<(Redis, [TestApp; 3], Vec<String>)> {
    let redis = Redis::start().await?;
    let apps = three(&redis, |_| {}).await;
    Some((redis, apps, past_dates()))
}

/// 30 past dates (before yesterday, so their fetches count against the budget).
fn past_dates() -> Vec<String> {
    let first = NaiveDate::from_ymd_opt(2026, 7, 10).unwrap();
    first.iter_days().take(30).map(|d| d.to_string()).collect()
}

/// Upstream requests for any of `dates`.
async fn upstream_requests(app: &TestApp, dates: &[String]) -> usize {
    let mut n = 0;
    for date in dates {
        n += app.upstream_requests_for(date).await;
    }
    n
}

/// The statuses of `/feed.json?date=D&days=1` for each date, `per_date` times, all at once,
/// spread over `apps` in turn.
async fn flood(apps: &[TestApp], dates: &[String], per_date: usize) -> Vec<u16> {
    let requests = (0..per_date).flat_map(|round| {
        dates.iter().enumerate().map(move |(i, date)| {
            let app = &apps[(i + round) % apps.len()];
            async move {
                app.get(&format!("/feed.json?date={date}&days=1"))
                    .await
                    .status()
                    .as_u16()
            }
        })
    });
    futures_util::future::join_all(requests).await
}

#[tokio::test]
async fn three_instances_ask_upstream_once_per_date_and_a_new_one_starts_warm() {
    let Some((redis, apps, dates)) = three_and_dates().await else {
        return;
    };

    // 200 concurrent requests over 30 dates, spread over the three instances.
    let statuses = flood(&apps, &dates, 7).await;
    assert_eq!(statuses.len(), 210);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        upstream_requests(&apps[0], &dates).await,
        30,
        "one upstream request per date for the whole cluster"
    );
    assert!(
        redis
            .keys()
            .await
            .iter()
            .any(|k| k == "paperboy:day:2026-07-10"),
        "lists are kept in the shared server"
    );

    // A fourth instance with nothing in memory or on disk serves the 30 dates from the
    // shared server.
    let upstream = apps[0].upstream.uri();
    let fourth = instance(&redis, Some(&upstream), |_| {}).await;
    eventually("the fourth instance is connected", || async {
        fourth.json("/readyz").await["cluster"] == "ok"
    })
    .await;
    for date in &dates {
        let path = format!("/feed.json?date={date}&days=1");
        assert_eq!(fourth.get(&path).await.status(), 200, "{path}");
    }
    assert_eq!(
        upstream_requests(&apps[0], &dates).await,
        30,
        "the fourth instance asked upstream nothing"
    );
    // The same bytes and validators from every instance.
    for date in &dates[..3] {
        let path = format!("/feed.atom?date={date}&days=1");
        let reference = fourth.get_ok(&path).await;
        for app in &apps {
            assert_eq!(app.get_ok(&path).await, reference, "{path}");
        }
    }
}

/// The `ETag`, `Last-Modified` and body of `path` from each of `apps`.
async fn answers(apps: &[TestApp], path: &str) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for app in apps {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let etag = header(&response, "etag");
        let modified = header(&response, "last-modified");
        out.push((etag, modified, response.bytes().await.unwrap().to_vec()));
    }
    out
}

#[tokio::test]
async fn every_instance_serves_the_same_feed_and_takes_a_change_of_today() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    let feeds = [
        "/feed.atom",
        "/feed.json?days=3&sort=upvotes",
        "/feed.rss?q=model",
        "/digest.json?period=week&count=2",
    ];
    for path in feeds {
        let answers = answers(&apps, path).await;
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{path}: the same ETag, Last-Modified and bytes from every instance"
        );
    }

    // Today's list changes upstream; ten minutes later one instance refreshes it.
    let today = "2026-08-14";
    let mut items = apps[0].days.get(today);
    items.truncate(3);
    apps[0].days.set(today, items);
    for app in &apps {
        app.clock.advance(Duration::from_secs(11 * 60));
    }
    let before = answers(&apps, "/feed.atom?days=1").await;
    eventually("every instance serves the changed list", || async {
        let now = answers(&apps, "/feed.atom?days=1").await;
        now.iter().all(|a| *a == now[0]) && now[0] != before[0]
    })
    .await;
    let feed: Value = apps[2].json("/feed.json?days=1").await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        apps[0].upstream_requests_for(today).await,
        2,
        "today fetched once for the cluster, then refreshed once"
    );
}

#[tokio::test]
async fn websub_subscriptions_are_shared_and_each_change_is_delivered_once() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let apps = three(&redis, |s| {
        s.websub.callbacks = paperboy::app::settings::websub::Callbacks::Any;
    })
    .await;
    let subscriber = Subscriber::start().await;
    let topic = "http://papers.example/feed.atom?days=1";
    let callback = subscriber.callback("cluster");
    subscribe(&apps[0], topic, &callback, &[("hub.secret", "shared")], 1.0).await;
    for app in &apps {
        within(5, "every instance holds the subscription", || async {
            app.metric("paperboy_websub_subscriptions", &[]).await == 1.0
        })
        .await;
    }
    let kept = redis.keys().await;
    assert!(
        kept.iter().any(|k| k == "paperboy:websub:subscriptions"),
        "{kept:?}"
    );

    // Today's list changes; every instance takes the change, one delivers it.
    let today = "2026-08-14";
    let mut items = apps[0].days.get(today);
    items.truncate(2);
    apps[0].days.set(today, items);
    for app in &apps {
        app.clock.advance(Duration::from_secs(11 * 60));
    }
    for app in &apps {
        app.get("/feed.json?days=1").await;
    }
    within(10, "the change is delivered", || async {
        !subscriber.deliveries("cluster").await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        subscriber.deliveries("cluster").await.len(),
        1,
        "once for the cluster"
    );
    let mut delivered = 0.0;
    for app in &apps {
        delivered += app
            .metric(
                "paperboy_websub_deliveries_total",
                &[("outcome", "delivered")],
            )
            .await;
    }
    assert_eq!(delivered, 1.0);
    let body = subscriber.deliveries("cluster").await.remove(0).body;
    assert_eq!(parse_atom(&body).entries.len(), 2);

    // Unsubscribed at another instance: gone from all.
    let form = [
        ("hub.mode", "unsubscribe"),
        ("hub.topic", topic),
        ("hub.callback", callback.as_str()),
    ];
    assert_eq!(post_form(&apps[2], &form).await.status(), 202);
    for app in &apps {
        within(5, "every instance dropped the subscription", || async {
            app.metric("paperboy_websub_subscriptions", &[]).await == 0.0
        })
        .await;
    }
}

#[tokio::test]
async fn the_budget_counts_the_requests_of_every_instance() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let apps = three(&redis, |s| s.upstream.budget = 10).await;
    let dates = past_dates();
    let statuses = flood(&apps, &dates, 1).await;
    assert_eq!(
        upstream_requests(&apps[0], &dates).await,
        10,
        "upstream.budget holds for the three together"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10);
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn without_the_shared_server_every_request_is_answered_and_the_cluster_comes_back() {
    let Some(mut redis) = Redis::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    let dates = past_dates();
    assert!(
        flood(&apps, &dates[..10], 1)
            .await
            .iter()
            .all(|s| *s == 200)
    );

    // Killed while 40 requests run: cached, shared and new dates alike are answered, from
    // memory, the shared server while it lasts, or upstream.
    let (statuses, ()) = tokio::join!(flood(&apps, &dates[..20], 2), async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        redis.kill().await;
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let after = flood(&apps, &dates[..25], 1).await;
    assert!(after.iter().all(|s| *s == 200), "{after:?}");
    for app in &apps {
        eventually("the outage is reported", || async {
            let ready = app.get("/readyz").await;
            ready.status() == 200
                && ready.json::<Value>().await.unwrap()["cluster"] == "unreachable"
        })
        .await;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(metrics.contains("paperboy_cluster_up 0"), "{metrics}");
        assert!(!metrics.contains(PASSWORD));
        assert!(
            !app.get("/readyz")
                .await
                .text()
                .await
                .unwrap()
                .contains(PASSWORD)
        );
    }

    // Back: one cluster again, and a new date is fetched once for the three.
    redis.run().await;
    for app in &apps {
        eventually("the instance is connected again", || async {
            app.json("/readyz").await["cluster"] == "ok"
        })
        .await;
    }
    let fresh = past_dates()[29].clone();
    let before = apps[0].upstream_requests_for(&fresh).await;
    let statuses = flood(&apps, std::slice::from_ref(&fresh), 9).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(apps[0].upstream_requests_for(&fresh).await, before + 1);
}

#[tokio::test]
async fn instances_started_together_warm_up_with_one_fetch_per_day() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    // The first instance's mock serves all three; the others start at the same moment.
    let (first, upstream) = first_instance(&redis, |_| {}).await;
    let start = |upstream: String| {
        let url = redis.url();
        spawn_app_at(NOW, paperboy::app::background::Background::On, move |s| {
            s.cluster.url = url.into();
            s.cluster.timeout = Duration::from_secs(2);
            s.upstream.base_url = upstream;
        })
    };
    let (second, third, fourth) = tokio::join!(
        start(upstream.clone()),
        start(upstream.clone()),
        start(upstream)
    );
    for app in [&second, &third, &fourth] {
        eventually("warm-up has finished", || async {
            app.get("/readyz").await.status() == 200
        })
        .await;
    }
    // 2026-08-12 has 107 papers: two pages of 100.
    for (day, pages) in [("2026-08-12", 2), ("2026-08-13", 1), ("2026-08-14", 1)] {
        assert_eq!(
            first.upstream_requests_for(day).await,
            pages,
            "{day}: warmed up once for the three"
        );
    }
}

#[tokio::test]
async fn a_shared_list_larger_than_the_limit_or_unreadable_is_not_taken() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let app = instance(&redis, None, |s| {
        s.upstream.max_body = bytesize::ByteSize::kib(64)
    })
    .await;
    eventually("the instance is connected", || async {
        app.json("/readyz").await["cluster"] == "ok"
    })
    .await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let huge = vec![b' '; 100 * 1024];
    redis::cmd("SET")
        .arg("paperboy:day:2026-07-20")
        .arg(huge)
        .query_async::<()>(&mut c)
        .await
        .unwrap();
    redis::cmd("SET")
        .arg("paperboy:day:2026-07-21")
        .arg("{not json")
        .query_async::<()>(&mut c)
        .await
        .unwrap();
    for date in ["2026-07-20", "2026-07-21"] {
        let path = format!("/feed.json?date={date}&days=1");
        assert_eq!(app.get(&path).await.status(), 200, "{path}");
        assert_eq!(
            app.upstream_requests_for(date).await,
            1,
            "{date}: asked upstream instead"
        );
    }
}

#[tokio::test]
async fn a_flushed_server_is_filled_again_and_still_one_fetch_per_date() {
    let Some((redis, apps, dates)) = three_and_dates().await else {
        return;
    };
    assert!(flood(&apps, &dates[..5], 3).await.iter().all(|s| *s == 200));
    assert_eq!(upstream_requests(&apps[0], &dates[..5]).await, 5);

    // Everything the server held is gone: lists, budget, locks.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHALL")
        .query_async::<()>(&mut c)
        .await
        .unwrap();

    // What the instances hold is served as it was; new dates are fetched once for the three.
    let statuses = flood(&apps, &dates[..10], 3).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(upstream_requests(&apps[0], &dates[..5]).await, 5);
    assert_eq!(upstream_requests(&apps[0], &dates[5..10]).await, 5);
    assert!(
        redis
            .keys()
            .await
            .iter()
            .any(|k| k == &format!("paperboy:day:{}", dates[7])),
        "the server is filled again"
    );
}

#[tokio::test]
async fn two_prefixes_on_one_server_are_two_clusters() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let (first, upstream) = first_instance(&redis, |_| {}).await;
    let other = instance(&redis, Some(&upstream), |s| {
        s.cluster.prefix = "staging".into()
    })
    .await;
    for app in [&first, &other] {
        eventually("the instance is connected", || async {
            app.json("/readyz").await["cluster"] == "ok"
        })
        .await;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(metrics.contains("paperboy_cluster_up 1"), "{metrics}");
        let path = "/feed.json?date=2026-07-20&days=1";
        assert_eq!(app.get(path).await.status(), 200);
    }
    // Each deployment fetched the date for itself, and keeps it under its own prefix.
    assert_eq!(first.upstream_requests_for("2026-07-20").await, 2);
    let keys = redis.keys().await;
    for key in ["paperboy:day:2026-07-20", "staging:day:2026-07-20"] {
        assert!(keys.iter().any(|k| k == key), "{key}: {keys:?}");
    }
}

#[tokio::test]
async fn without_cluster_url_the_instance_says_it_is_off() {
    let app = spawn_app().await;
    assert_eq!(app.json("/readyz").await["cluster"], "off");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("paperboy_cluster_up 0"), "{metrics}");
}
