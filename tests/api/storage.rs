//! Section 8, storage: fetched lists are written atomically to the data directory and read
//! back at start-up, so a restart is warm and survives an upstream outage.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use paperboy::app::background::Background;
use paperboy::data::daily_list::DailyList;
use paperboy::data::disk::{ReadLimits, Storage};
use paperboy::data::paper::raw::RawItem;
use paperboy::data::upstream::client::FetchedDay;
use serde_json::Value;
use serde_json::value::RawValue;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::support::{ChildGuard, scrape};

fn day_file(data: &Path, date: &str) -> PathBuf {
    data.join("days").join(format!("{date}.json"))
}

fn stored(data: &Path, date: &str) -> Option<Value> {
    let bytes = std::fs::read(day_file(data, date)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn header_of(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

/// An upstream that answers 500 to everything.
async fn failing_upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    server
}

async fn wait_ready(app: &TestApp) -> Value {
    eventually("/readyz answers 200", || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
    app.get("/readyz").await.json().await.unwrap()
}

#[tokio::test]
async fn every_fetched_list_is_stored_with_its_items_as_received_and_its_times() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir).await;
    assert_eq!(app.get("/feed.json?days=3").await.status(), 200);
    eventually("three days are stored", || async {
        ["2026-08-12", "2026-08-13", "2026-08-14"]
            .iter()
            .all(|d| stored(data.path(), d).is_some())
    })
    .await;

    let file = stored(data.path(), "2026-08-14").unwrap();
    assert_eq!(file["date"], "2026-08-14");
    assert_eq!(file["fetched_at"], "2026-08-14T12:00:00Z");
    let list = app
        .state
        .store
        .cached("2026-08-14".parse().unwrap())
        .await
        .unwrap();
    let changed_at: chrono::DateTime<chrono::Utc> =
        file["changed_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(changed_at, list.changed_at);
    // The items exactly as upstream sent them, not paperboy's cleaned papers.
    assert_eq!(file["items"], Value::from(app.days.get("2026-08-14")));
    assert_eq!(
        stored(data.path(), "2026-08-12").unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        107,
        "both pages"
    );
    let days: Vec<_> = std::fs::read_dir(data.path().join("days"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(days.len(), 3, "nothing else, no temporary files: {days:?}");
}

#[tokio::test]
async fn a_restart_with_the_upstream_failing_serves_the_stored_lists() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let path = "/feed.json?days=3&limit=200";

    let first = spawn_app_with({
        let dir = dir.clone();
        |s| s.storage.data_dir = dir
    })
    .await;
    let before = first.get(path).await;
    assert_eq!(before.status(), 200);
    let last_modified = header_of(&before, "last-modified");
    let ids_before: Vec<String> = first.ids(path).await;
    eventually("three days are stored", || async {
        ["2026-08-12", "2026-08-13", "2026-08-14"]
            .iter()
            .all(|d| stored(data.path(), d).is_some())
    })
    .await;
    let file_before = std::fs::read(day_file(data.path(), "2026-08-14")).unwrap();

    // Two hours later, upstream is down: today's and yesterday's copies are stale, and the
    // refreshes warm-up asks for fail.
    let upstream = failing_upstream().await;
    let second = spawn_app_at("2026-08-14T14:00:00Z", Background::On, |s| {
        s.storage.data_dir = dir;
        s.upstream.base_url = upstream.uri();
        s.upstream.retries = 0;
    })
    .await;
    let ready = wait_ready(&second).await;
    assert!(
        !upstream.received_requests().await.unwrap().is_empty(),
        "warm-up asked the failing upstream"
    );
    assert!(
        ready["upstream"]["last_error"]["error"].is_string(),
        "{ready}"
    );
    assert_eq!(ready["upstream"]["last_success"], Value::Null);
    assert_eq!(ready["newest_data_age_seconds"], 7200, "{ready}");
    assert_eq!(ready["daily_lists_cached"], 3, "read from disk");

    let after = second.get(path).await;
    assert_eq!(after.status(), 200);
    assert_eq!(
        header_of(&after, "last-modified"),
        last_modified,
        "the changed time survives the restart"
    );
    assert_eq!(second.ids(path).await, ids_before);
    assert_eq!(ids_before.len(), 6 + 7 + 107);
    assert_eq!(
        std::fs::read(day_file(data.path(), "2026-08-14")).unwrap(),
        file_before,
        "a failed refresh never touches the stored file"
    );
}

/// [`NOW`] in unix seconds, as in the names of files set aside.
const NOW_SECS: &str = "1786708800";

#[tokio::test]
async fn a_corrupt_stored_file_is_set_aside_and_its_day_fetched_again() {
    let data = tempfile::tempdir().unwrap();
    let days = data.path().join("days");
    std::fs::create_dir_all(&days).unwrap();
    let garbage = b"{\"date\":\"2026-08-13\",\"fetched_at\":\"2026-08-";
    std::fs::write(days.join("2026-08-13.json"), garbage).unwrap();
    // Set aside earlier, in the same second: kept as it is.
    let earlier = days.join(format!("2026-08-13.json.corrupt-{NOW_SECS}"));
    std::fs::write(&earlier, b"set aside earlier").unwrap();
    // Older than feeds.max_days: not read at start-up, so left as it is.
    std::fs::write(days.join("2026-06-01.json"), b"not json").unwrap();

    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_at(NOW, Background::On, |s| s.storage.data_dir = dir).await;
    wait_ready(&app).await;

    assert_eq!(
        std::fs::read(days.join(format!("2026-08-13.json.corrupt-{NOW_SECS}-1"))).unwrap(),
        garbage,
        "set aside as it was, beside the earlier one"
    );
    assert_eq!(std::fs::read(&earlier).unwrap(), b"set aside earlier");
    assert_eq!(
        std::fs::read(days.join("2026-06-01.json")).unwrap(),
        b"not json"
    );
    let mut served = app.ids("/feed.rss?date=2026-08-13&days=1&limit=200").await;
    let mut expected = fixture_ids(&app.days, "2026-08-13");
    served.sort();
    expected.sort();
    assert_eq!(served, expected);
    assert_eq!(app.upstream_requests_for("2026-08-13").await, 1);
    // Every readable item, as received (08-13 has two unreadable ones, skipped).
    let fixture = app.days.get("2026-08-13");
    eventually("the day is stored again, whole", || async {
        stored(data.path(), "2026-08-13").is_some_and(|f| {
            let items = f["items"].as_array().unwrap();
            items.len() == expected.len() && items.iter().all(|i| fixture.contains(i))
        })
    })
    .await;
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_stored_file_and_a_successful_one_rewrites_it() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir).await;
    let feed = "/feed.json?days=1";
    app.get(feed).await;
    eventually("today is stored", || async {
        stored(data.path(), "2026-08-14").is_some()
    })
    .await;
    let original = std::fs::read(day_file(data.path(), "2026-08-14")).unwrap();

    // An outage long enough for one refresh: the first try and its two retries.
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    app.clock.advance(Duration::from_secs(11 * 60));
    assert_eq!(app.get(feed).await.status(), 200);
    eventually("the refresh has failed", || async {
        scrape(&app.client, &app.address)
            .await
            .get("paperboy_refreshes_total", &[("outcome", "failed")])
            == 1.0
    })
    .await;
    assert_eq!(
        std::fs::read(day_file(data.path(), "2026-08-14")).unwrap(),
        original
    );

    // Upstream is back with new upvotes; once the cool-down has passed, a refresh succeeds
    // and the file follows it.
    let mut items = app.days.get("2026-08-14");
    for item in &mut items {
        let upvotes = item["paper"]["upvotes"].as_u64().unwrap();
        item["paper"]["upvotes"] = Value::from(upvotes + 1);
    }
    app.days.set("2026-08-14", items.clone());
    app.clock.advance(Duration::from_secs(31));
    eventually("the refreshed list is stored", || async {
        // Each look is also a reader's request, which starts the refresh once it may run.
        app.get(feed).await;
        stored(data.path(), "2026-08-14").is_some_and(|f| f["items"] == Value::from(items.clone()))
    })
    .await;
    let file = stored(data.path(), "2026-08-14").unwrap();
    assert_eq!(file["fetched_at"], "2026-08-14T12:11:31Z");
    assert_eq!(
        file["changed_at"], "2026-08-14T12:11:31Z",
        "the content changed"
    );
}

/// The environment variable that turns [`atomic_writer_child`] into the writer.
const WRITER_DIR: &str = "PAPERBOY_TEST_WRITER_DIR";
/// Items in the list the writer writes over and over: about 10 MB, so a write takes a while.
const WRITER_ITEMS: usize = 4000;

/// Not a test of its own: the process that [`a_writer_killed_mid_write_leaves_no_partial_file`]
/// starts and kills. It writes one large daily list through `Storage::save` (the function
/// paperboy uses) over and over until it is killed.
#[test]
#[ignore = "the writer process of the crash test, started by it"]
fn atomic_writer_child() {
    let dir = std::env::var(WRITER_DIR).expect("started by the crash test, with its folder");
    let fixture: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/hf-api/daily_papers/2026-08-12.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let raw: Vec<Box<RawValue>> = (0..WRITER_ITEMS)
        .map(|i| {
            let mut item = fixture[i % fixture.len()].clone();
            item["paper"]["id"] = Value::from(format!("2608.{:05}", i));
            RawValue::from_string(item.to_string()).unwrap()
        })
        .collect();
    let items: Vec<RawItem> = raw
        .iter()
        .map(|r| serde_json::from_str(r.get()).unwrap())
        .collect();
    let date = "2026-08-12".parse().unwrap();
    let fetched = FetchedDay {
        date,
        items,
        raw,
        skipped: 0,
    };
    let list = DailyList::from_fetch(&fetched, chrono::Utc::now(), None);
    let storage = Storage::open(Path::new(&dir), ReadLimits::default()).unwrap();
    loop {
        storage.save(&fetched, &list).unwrap();
    }
}

#[tokio::test]
async fn a_writer_killed_mid_write_leaves_no_partial_file() {
    let mut caught_mid_write = false;
    for _attempt in 0..5 {
        let data = tempfile::tempdir().unwrap();
        let days = data.path().join("days");
        let target = days.join("2026-08-12.json");
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--ignored",
                "--exact",
                "storage::atomic_writer_child",
                "--test-threads=1",
            ])
            .env(WRITER_DIR, data.path());
        let mut writer = ChildGuard::spawn(command);

        // Once a whole file is there, kill the writer while its next write is in progress.
        let temp_in_progress = || {
            std::fs::read_dir(&days)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .any(|e| e.file_name().to_string_lossy().starts_with('.'))
                })
                .unwrap_or(false)
        };
        let mut waited = 0;
        while !(target.exists() && temp_in_progress()) {
            assert!(
                waited < 30_000,
                "the writer never wrote; its stderr:\n{}",
                writer.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(1));
            waited += 1;
        }
        writer.signal(libc::SIGKILL);
        let status = writer.wait_exit(Duration::from_secs(10)).await;
        assert!(status.is_some(), "the writer is gone");

        // The target is whole: the previous complete version.
        let file: Value = serde_json::from_slice(&std::fs::read(&target).unwrap())
            .expect("the stored file is complete JSON");
        assert_eq!(file["items"].as_array().unwrap().len(), WRITER_ITEMS);

        let leftovers: Vec<PathBuf> = std::fs::read_dir(&days)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p != &target)
            .collect();
        let whole_len = std::fs::metadata(&target).unwrap().len();
        if leftovers
            .iter()
            .any(|p| std::fs::metadata(p).unwrap().len() < whole_len)
        {
            caught_mid_write = true;
        }

        // Start-up reads the whole file and takes no temporary file for data (the list is
        // larger than a fetch keeps, so that a write takes a while: read it under limits
        // that allow it).
        let limits = ReadLimits {
            max_bytes: u64::MAX,
            max_items: WRITER_ITEMS,
        };
        let storage = Storage::open(data.path(), limits).unwrap();
        let loaded = storage.load_dates(["2026-08-12".parse().unwrap()], chrono::Utc::now());
        assert_eq!((loaded.set_aside, loaded.failed), (0, 0));
        assert_eq!(loaded.lists.len(), 1);
        assert_eq!(loaded.lists[0].papers.len(), WRITER_ITEMS);
        if caught_mid_write {
            break;
        }
    }
    assert!(
        caught_mid_write,
        "in five tries, no kill landed while a write was in progress"
    );
}
