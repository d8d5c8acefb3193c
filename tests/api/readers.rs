//! A real feed reader against the running server: Debian's newsboat reads a digest, reloads
//! it, and reloads it a day later. Each period must arrive once: ids stable across reloads
//! and formats, one new item when a new day ends.
//!
//! Without newsboat the test is skipped with a message, except in CI (`CI` set), where it
//! fails: `.ci/run` installs newsboat.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::*;

/// newsboat gets this long per run.
const READER_TIMEOUT: Duration = Duration::from_secs(60);

pub fn newsboat_or_skip() -> Option<PathBuf> {
    let found = ["/usr/bin/newsboat", "/usr/local/bin/newsboat"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    match found {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "newsboat is not installed, and CI must run the reader test (.ci/run installs it)"
            )
        }
        None => {
            eprintln!("SKIPPED reader test: no newsboat found (install Debian's `newsboat`)");
            None
        }
    }
}

/// Runs `newsboat -x <commands>` on `urls` with a cache of its own; returns its stdout.
///
/// A plain `std::process` child waited for on a blocking thread, polled and killed at the
/// deadline: the test then fails with a message instead of hanging.
pub async fn newsboat(binary: &Path, home: &Path, commands: &[&str]) -> String {
    let mut command = std::process::Command::new(binary);
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_PROXY", "127.0.0.1")
        .arg("-u")
        .arg(home.join("urls"))
        .arg("-c")
        .arg(home.join("cache.db"))
        .arg("-C")
        .arg(home.join("config-file"))
        .arg("-x")
        .args(commands)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("newsboat starts");
        let deadline = Instant::now() + READER_TIMEOUT;
        loop {
            if child
                .try_wait()
                .expect("newsboat can be waited for")
                .is_some()
            {
                return Some(child.wait_with_output().expect("newsboat's output"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .expect("the waiting thread");
    let output =
        output.unwrap_or_else(|| panic!("newsboat did not finish within {READER_TIMEOUT:?}"));
    assert!(
        output.status.success(),
        "newsboat failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `N unread articles` → N.
pub fn unread(output: &str) -> usize {
    output
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an unread count: {output:?}"))
}

#[tokio::test]
async fn newsboat_reads_each_period_of_a_digest_once() {
    let Some(binary) = newsboat_or_skip() else {
        return;
    };
    let app = spawn_app().await;
    let home = std::env::temp_dir().join(format!(
        "paperboy-newsboat-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&home).unwrap();
    // The daily digest in Atom and in RSS: the same periods, read as two feeds.
    let urls = format!(
        "{0}/digest.atom?count=7\n{0}/topics/{1}/digest.rss?count=7&period=day\n",
        app.address,
        app.state.topics.iter().next().unwrap().name
    );
    std::fs::write(home.join("urls"), urls).unwrap();
    std::fs::write(home.join("config-file"), "reload-threads 2\n").unwrap();

    let atom_items = app.feed("/digest.atom?count=7").await.entries.len();
    let topic_items = app
        .feed(&format!(
            "/topics/{}/digest.rss?count=7&period=day",
            app.state.topics.iter().next().unwrap().name
        ))
        .await
        .entries
        .len();
    assert_eq!(
        atom_items, 5,
        "08-07 and 08-10..13; 08-08 and 08-09 are empty"
    );

    let first = unread(&newsboat(&binary, &home, &["reload", "print-unread"]).await);
    assert_eq!(first, atom_items + topic_items);
    let again = unread(&newsboat(&binary, &home, &["reload", "print-unread"]).await);
    assert_eq!(again, first, "a reload adds nothing");

    // A day later, Friday 08-14 has ended: one new item per feed that has papers that day.
    app.clock.advance(Duration::from_secs(24 * 3600));
    let later = unread(&newsboat(&binary, &home, &["reload", "print-unread"]).await);
    let new_atom = app.feed("/digest.atom?count=7").await;
    assert!(
        new_atom.entries[0]
            .title
            .as_ref()
            .unwrap()
            .content
            .contains("Friday 14 August")
    );
    let new_ids = usize::from(
        !app.feed(&format!(
            "/topics/{}/digest.rss?count=7&period=day",
            app.state.topics.iter().next().unwrap().name
        ))
        .await
        .entries
        .iter()
        .all(|e| !e.id.contains("2026-08-14")),
    );
    assert_eq!(later, first + 1 + new_ids, "each new period once");
    let _ = std::fs::remove_dir_all(&home);
}
