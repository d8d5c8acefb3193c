//! `paperboy fetch` against the mock upstream: what it asks upstream, what it writes, what it
//! skips, how it fails, and what it prints when not on a terminal. The library's command runs
//! on a test app's state (pinned clock, the fixture upstream); the real binary's exit codes,
//! output and Ctrl-C are checked in the process tests below, on past dates.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::NaiveDate;
use paperboy::commands::Exit;
use paperboy::commands::fetch::{FetchOptions, fetch};
use paperboy::common::clock::Clock;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;
use crate::support::ChildGuard;

const BINARY: &str = env!("CARGO_BIN_EXE_paperboy");
/// The twelve fixture days: 2026-08-03 to 2026-08-14.
const FROM: &str = "2026-08-03";
const TO: &str = "2026-08-14";

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn twelve_days(force: bool) -> FetchOptions {
    FetchOptions {
        from: Some(date(FROM)),
        to: Some(date(TO)),
        force,
    }
}

/// Upstream requests a day of `items` items costs: pages of 100 until one holds fewer.
fn pages(items: usize) -> usize {
    items / 100 + 1
}

/// `paperboy fetch` with its progress lines dropped, never interrupted.
async fn quiet_fetch(
    state: &paperboy::app::state::AppState,
    options: &FetchOptions,
) -> Result<paperboy::commands::fetch::Fetched, paperboy::commands::UsageError> {
    fetch(
        state,
        options,
        |n| Captured::default().progress(n),
        std::future::pending(),
    )
    .await
}

fn stored_files(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("days"))
        .map(|dir| {
            dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn fetch_fills_the_data_directory_then_skips_what_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    let progress = Captured::default();

    let fetched = fetch(
        &app.state,
        &twelve_days(false),
        |n| progress.progress(n),
        std::future::pending(),
    )
    .await
    .unwrap();
    let expected_requests: usize = date(FROM)
        .iter_days()
        .take(12)
        .map(|d| pages(app.days.get(&d.to_string()).len()))
        .sum();
    assert!(expected_requests > 12, "some fixture days have two pages");
    assert_eq!(
        app.upstream_request_count().await,
        expected_requests,
        "one request per page, no more"
    );
    assert_eq!((fetched.fetched, fetched.stored), (12, 0));
    assert!(fetched.failed.is_empty(), "{:?}", fetched.failed);
    assert_eq!(fetched.exit(), Exit::Success);
    let mut papers = 0;
    for d in date(FROM).iter_days().take(12) {
        papers += app
            .state
            .store
            .cached(d)
            .await
            .expect("in memory too")
            .papers
            .len();
    }
    assert_eq!(fetched.papers, papers);
    assert_eq!(
        fetched.summary(),
        format!("fetched 12 days ({papers} papers), 0 already stored, 0 failed")
    );
    let files = stored_files(data.path());
    assert_eq!(files.len(), 12, "{files:?}");
    assert_eq!(files[0], "2026-08-03.json");

    // Not on a terminal: one line per tenth of the work, the last one at 100 %.
    let lines: Vec<String> = progress.text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 10, "{lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("fetch: ")), "{lines:?}");
    assert!(
        lines[0].starts_with("fetch: 2/12 days (16%), "),
        "{}",
        lines[0]
    );
    assert!(
        lines[9].starts_with(&format!("fetch: 12/12 days (100%), {papers} papers, ")),
        "{}",
        lines[9]
    );

    // A second instance on the same data directory: everything is stored and fresh.
    let again = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    let fetched = quiet_fetch(&again.state, &twelve_days(false))
        .await
        .unwrap();
    assert_eq!((fetched.fetched, fetched.stored), (0, 12));
    assert_eq!(
        again.upstream_request_count().await,
        0,
        "stored days are not asked for"
    );

    // --force asks again for every day.
    let fetched = quiet_fetch(&again.state, &twelve_days(true)).await.unwrap();
    assert_eq!((fetched.fetched, fetched.stored), (12, 0));
    assert_eq!(again.upstream_request_count().await, expected_requests);
}

#[tokio::test]
async fn a_stale_stored_day_is_fetched_again() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    let today = FetchOptions {
        from: Some(date(TO)),
        to: Some(date(TO)),
        force: false,
    };
    assert_eq!(quiet_fetch(&app.state, &today).await.unwrap().fetched, 1);
    // Today's list is fresh for cache.recent_ttl (10 minutes): an hour later it is not.
    app.clock.advance(Duration::from_secs(3600));
    let again = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    again.clock.set(Clock::now(&*app.clock));
    let fetched = quiet_fetch(&again.state, &today).await.unwrap();
    assert_eq!((fetched.fetched, fetched.stored), (1, 0));
    assert_eq!(again.upstream_requests_for(TO).await, 1);
}

#[tokio::test]
async fn a_failing_date_is_named_and_the_others_are_kept() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| {
        s.storage.data_dir = dir.clone();
        s.upstream.retries = 0;
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .and(query_param("date", "2026-08-12"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let fetched = quiet_fetch(&app.state, &twelve_days(false)).await.unwrap();
    assert_eq!(fetched.fetched, 11);
    assert_eq!(fetched.failed.len(), 1);
    assert_eq!(fetched.failed[0].0, date("2026-08-12"));
    assert_eq!(fetched.exit(), Exit::Failed);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    fetched.report(&mut out, &mut err);
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "failed: 2026-08-12: upstream answered 500\n"
    );
    assert!(
        String::from_utf8(out)
            .unwrap()
            .ends_with(", 0 already stored, 1 failed\n")
    );
    let files = stored_files(data.path());
    assert_eq!(files.len(), 11);
    assert!(!files.contains(&"2026-08-12.json".to_owned()));
}

#[tokio::test]
async fn dates_out_of_range_are_refused_before_any_request() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = dir.clone()).await;
    for (from, to, flag) in [
        (
            Some("2023-04-30"),
            None,
            "--from 2023-04-30 is before the first Daily Papers",
        ),
        (
            None,
            Some("2026-08-15"),
            "--to 2026-08-15 is after today (2026-08-14",
        ),
        (
            Some("2026-08-10"),
            Some("2026-08-01"),
            "--from 2026-08-10 is after --to 2026-08-01",
        ),
    ] {
        let options = FetchOptions {
            from: from.map(date),
            to: to.map(date),
            force: false,
        };
        let e = quiet_fetch(&app.state, &options).await.unwrap_err();
        assert!(e.0.starts_with(flag), "{e}");
    }
    assert_eq!(app.upstream_request_count().await, 0);

    let without_storage = spawn_app().await;
    let e = quiet_fetch(&without_storage.state, &twelve_days(false))
        .await
        .unwrap_err();
    assert!(e.0.contains("storage.data_dir is empty"), "{e}");
}

/// The binary, on the real clock, against a wiremock serving the fixtures.
fn fetch_command(upstream: &str, data: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("fetch")
        .args(args)
        .env("PAPERBOY_UPSTREAM__BASE_URL", upstream)
        .env("PAPERBOY_UPSTREAM__RETRIES", "0")
        .env("PAPERBOY_STORAGE__DATA_DIR", data)
        .env_remove("RUST_LOG")
        .current_dir(data);
    command
}

#[tokio::test]
async fn the_binary_prints_its_summary_and_exits_by_the_contract() {
    let app = spawn_app().await;
    let data = tempfile::tempdir().unwrap();
    // Once: the next run gets the fixture day.
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .and(query_param("date", "2026-08-05"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let output = fetch_command(
        &app.upstream.uri(),
        data.path(),
        &["--from", FROM, "--to", TO],
    )
    .output()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("fetched 11 days (")
            && stdout.ends_with(" papers), 0 already stored, 1 failed\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("failed: 2026-08-05: upstream answered 503\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fetch: 12/12 days (100%)"),
        "plain progress lines: {stderr}"
    );

    // Again: eleven days stored (old days stay fresh for a day), the failed one is fetched.
    let output = fetch_command(
        &app.upstream.uri(),
        data.path(),
        &["--from", FROM, "--to", TO],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("fetched 1 days ("), "{stdout}");
    assert!(
        stdout.ends_with(" papers), 11 already stored, 0 failed\n"),
        "{stdout}"
    );

    for args in [
        ["--from", "2023-04-30"].as_slice(),
        ["--to", "2999-01-01"].as_slice(),
        ["--to", "yesterday"].as_slice(),
    ] {
        let output = fetch_command(&app.upstream.uri(), data.path(), args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!output.stderr.is_empty());
    }
}

#[tokio::test]
async fn ctrl_c_stops_the_binary_keeping_every_day_written() {
    let app = spawn_app().await;
    let data = tempfile::tempdir().unwrap();
    // The oldest day (fetched last: newest first) never answers in time.
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .and(query_param("date", FROM))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(Vec::<u8>::new())
                .set_delay(Duration::from_secs(60)),
        )
        .with_priority(1)
        .mount(&app.upstream)
        .await;
    let command = fetch_command(
        &app.upstream.uri(),
        data.path(),
        &["--from", FROM, "--to", TO],
    );
    let stdout_path = data.path().join("stdout.txt");
    let stdout = std::fs::File::create(&stdout_path).unwrap();
    let mut child = ChildGuard::spawn_with_stdout(command, stdout);
    let mut written = 0;
    for _ in 0..300 {
        written = stored_files(data.path()).len();
        if written == 11 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(written, 11, "every day but the slow one is written");
    child.signal(libc::SIGINT);
    let status = child
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("it stops at once");
    assert_eq!(status.code(), Some(130));
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    assert!(stdout.starts_with("fetched 11 days ("), "{stdout}");
    let stderr = child.lines().join("\n");
    assert!(
        stderr.contains("interrupted: 1 dates not fetched"),
        "{stderr}"
    );
    assert_eq!(
        stored_files(data.path()).len(),
        11,
        "nothing written is lost"
    );
    assert!(
        std::fs::read_dir(data.path().join("days"))
            .unwrap()
            .all(|e| e.unwrap().file_name().to_string_lossy().ends_with(".json")),
        "no temporary file left behind"
    );
}
