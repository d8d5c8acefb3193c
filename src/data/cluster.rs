//! Several instances as one service (contract section 15): a shared Redis or Valkey server
//! that holds the fetched daily lists, one lock per date being fetched, one upstream budget,
//! and a channel on which every new list is announced.
//!
//! The shared server is a help, never a dependency: every call is bounded by
//! `cluster.timeout`, and when the server cannot be reached, the instance goes on alone (as
//! without `cluster.url`) until a watcher finds it again (one check a second), warning once
//! per outage. Messages missed during an outage are made up for by a [`Change::Resync`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::broadcast;

mod hub;
mod scripts;

/// How long a list stays in the shared server after it was last written: an abandoned prefix
/// empties itself, and a list asked for again is written again.
const DAY_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often the watcher checks the shared server (and so, how soon it is used again after
/// an outage).
const WATCH_PERIOD: Duration = Duration::from_secs(1);

/// Notifications buffered for a slow listener; one that falls further behind resyncs.
const CHANGES_BUFFERED: usize = 1024;

/// The states of the shared server, as this instance last found it.
const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// The `[cluster]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// `redis://[:password@]host:port[/db]` or `rediss://`; empty: each instance alone. A
    /// secret: its `Debug` prints `[REDACTED]`.
    pub url: SecretString,
    /// The prefix of every key and channel.
    pub prefix: String,
    /// The longest any request waits on the shared server.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from(""),
            prefix: "paperboy".into(),
            timeout: Duration::from_millis(200),
        }
    }
}

impl ClusterSettings {
    /// Whether a shared server is set.
    pub fn enabled(&self) -> bool {
        !self.url.expose_secret().trim().is_empty()
    }

    /// Checks every value; an error names the setting and what is wrong (never the password).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.enabled() {
            server_address(self.url.expose_secret()).map_err(|e| ("cluster.url", e))?;
        }
        let prefix_ok = (1..=64).contains(&self.prefix.len())
            && self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        if !prefix_ok {
            return Err((
                "cluster.prefix",
                "must be 1 to 64 letters, digits, '_', '-', '.' or ':'".into(),
            ));
        }
        if !(Duration::from_millis(10)..=Duration::from_secs(10)).contains(&self.timeout) {
            return Err(("cluster.timeout", "must be between 10ms and 10s".into()));
        }
        Ok(())
    }
}

/// `host:port` of a `redis://` or `rediss://` URL, for logs; an error says what is wrong with
/// the URL without repeating it (it may hold a password).
pub fn server_address(raw: &str) -> Result<String, String> {
    let url =
        url::Url::parse(raw.trim()).map_err(|e| format!("the URL is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(format!(
            "must be a redis:// or rediss:// URL, not {}://",
            url.scheme()
        ));
    }
    let Some(host) = url.host_str() else {
        return Err("the URL has no host".into());
    };
    if url.fragment().is_some() {
        return Err(format!("the URL for host {host} must not have a fragment"));
    }
    let db = url.path().trim_start_matches('/');
    if !db.is_empty() && db.parse::<u16>().is_err() {
        return Err(format!(
            "the URL for host {host} names database {db:?}; a database is a number"
        ));
    }
    Ok(format!("{host}:{}", url.port().unwrap_or(6379)))
}

/// What the channel announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new list of the date is in the shared server.
    Day(NaiveDate),
    /// A fetch of the date failed; whoever waited for it stops waiting.
    Failed(NaiveDate),
    /// Announcements may have been missed (an outage, a slow listener): compare what is held.
    Resync,
}

/// A lock held on the shared server; released with [`Cluster::unlock`], or at its expiry.
#[derive(Debug)]
pub struct Lock {
    key: String,
    token: String,
}

/// The connection to the shared server.
pub struct Cluster {
    manager: ConnectionManager,
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    /// `host:port`, for logs.
    address: String,
    /// [`UNKNOWN`] until the watcher first reaches the server (or fails to), then [`UP`] or
    /// [`DOWN`].
    state: AtomicU8,
    changes: broadcast::Sender<Change>,
    /// This instance, in lock tokens and budget entries.
    instance: u64,
    counter: AtomicU64,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// The shared server of `settings`, or none when `cluster.url` is empty. Connects lazily
    /// and starts the watcher (call it inside the runtime that will use it).
    pub fn start(settings: &ClusterSettings) -> anyhow::Result<Option<Arc<Cluster>>> {
        if !settings.enabled() {
            return Ok(None);
        }
        let raw = settings.url.expose_secret().trim();
        let address = server_address(raw).map_err(|e| anyhow::anyhow!("cluster.url: {e}"))?;
        let client = redis::Client::open(raw)
            .map_err(|e| anyhow::anyhow!("cluster.url for {address} cannot be used: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout.max(Duration::from_secs(1))))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| anyhow::anyhow!("the shared server {address}: {e}"))?;
        let (changes, _) = broadcast::channel(CHANGES_BUFFERED);
        let cluster = Arc::new(Cluster {
            manager,
            client,
            prefix: settings.prefix.clone(),
            timeout: settings.timeout,
            address,
            state: AtomicU8::new(UNKNOWN),
            changes,
            instance: rand::random(),
            counter: AtomicU64::new(0),
        });
        tokio::spawn(watch(Arc::downgrade(&cluster)));
        Ok(Some(cluster))
    }

    /// Whether the shared server is up, as the watcher's last check (or a later call) found it.
    pub fn is_up(&self) -> bool {
        self.state.load(Ordering::Relaxed) == UP
    }

    /// Whether the shared server is out of reach (not merely not reached yet).
    pub fn is_down(&self) -> bool {
        self.state.load(Ordering::Relaxed) == DOWN
    }

    /// Announcements from now on.
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn key(&self, what: &str) -> String {
        format!("{}:{what}", self.prefix)
    }

    fn channel(&self) -> String {
        self.key("days")
    }

    /// Runs `call` on the shared server, bounded by `cluster.timeout`; `None` when the
    /// server is down (then nothing is asked) or did not answer in time. Before the watcher's
    /// first verdict the server is asked: instances started together (and their warm-ups)
    /// work as one from their first request.
    async fn call<T>(
        &self,
        call: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    ) -> Option<T> {
        if self.state.load(Ordering::Relaxed) == DOWN {
            return None;
        }
        self.call_anyway(call).await
    }

    /// [`Cluster::call`] even while the server is marked down: for what ends a fetch of this
    /// instance's (its list, its announcement, its lock), which others may be waiting for,
    /// and which a single slow answer must not lose.
    async fn call_anyway<T>(
        &self,
        call: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, call(self.manager.clone())).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                self.down(&e.to_string());
                None
            }
            Err(_) => {
                self.down(&format!("no answer within {:?}", self.timeout));
                None
            }
        }
    }

    /// Marks the server down: one warning per outage (the first one included: a server out
    /// of reach from the start).
    fn down(&self, why: &str) {
        if self.state.swap(DOWN, Ordering::Relaxed) != DOWN {
            tracing::warn!(server = %self.address, error = why, "the shared server cannot be reached; this instance goes on alone until it is back");
        }
    }

    /// Marks the server up again; what was announced meanwhile is made up for.
    fn back(&self) {
        if self.state.swap(UP, Ordering::Relaxed) != UP {
            tracing::info!(server = %self.address, "the shared server is reachable; working as one cluster");
            let _ = self.changes.send(Change::Resync);
        }
    }

    /// The stored bytes of `date`'s list in the shared server, if it has them.
    /// At most `max_bytes + 1` bytes are read (`GETRANGE`), so that a list larger than the
    /// limit costs no more than the limit to refuse.
    pub async fn day(&self, date: NaiveDate, max_bytes: u64) -> Option<Vec<u8>> {
        let key = self.key(&format!("day:{date}"));
        let last = isize::try_from(max_bytes).unwrap_or(isize::MAX);
        let bytes = self
            .call(async move |mut c| c.getrange::<_, Vec<u8>>(&key, 0, last).await)
            .await?;
        // A missing key reads as nothing.
        (!bytes.is_empty()).then_some(bytes)
    }

    /// Keeps `bytes` as `date`'s list and announces it.
    pub async fn put_day(&self, date: NaiveDate, bytes: &[u8]) {
        let key = self.key(&format!("day:{date}"));
        let channel = self.channel();
        let announcement = date.to_string();
        self.call_anyway(async move |mut c| {
            redis::pipe()
                .set_ex(&key, bytes, DAY_TTL.as_secs())
                .ignore()
                .publish(&channel, &announcement)
                .ignore()
                .query_async::<()>(&mut c)
                .await
        })
        .await;
    }

    /// Announces that a fetch of `date` failed.
    pub async fn fetch_failed(&self, date: NaiveDate) {
        let channel = self.channel();
        let announcement = format!("{date} failed");
        self.call_anyway(async move |mut c| c.publish::<_, _, ()>(&channel, &announcement).await)
            .await;
    }

    /// Takes the lock `name` for `ttl`: `Some(Some(lock))` when taken, `Some(None)` when
    /// another instance holds it, `None` when the server cannot say.
    pub async fn lock(&self, name: &str, ttl: Duration) -> Option<Option<Lock>> {
        let key = self.key(&format!("lock:{name}"));
        let token = self.token();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ms));
        let set = (key.clone(), token.clone());
        let taken = self
            .call(async move |mut c| {
                c.set_options::<_, _, Option<String>>(&set.0, &set.1, options)
                    .await
            })
            .await?;
        Some(taken.map(|_| Lock { key, token }))
    }

    /// Releases `lock` if it is still this instance's.
    pub async fn unlock(&self, lock: Lock) {
        self.call_anyway(async move |mut c| {
            scripts::UNLOCK
                .key(&lock.key)
                .arg(&lock.token)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await;
    }

    /// Takes one request from the budget all instances share: at most `limit` in any
    /// `window`, unless `always`. `Some(Err(until))` when refused (when the oldest counted
    /// request leaves the window); `None` when the server cannot say.
    pub async fn take_budget(
        &self,
        limit: usize,
        window: chrono::TimeDelta,
        now: DateTime<Utc>,
        always: bool,
    ) -> Option<Result<(), DateTime<Utc>>> {
        let key = self.key("budget");
        let entry = self.token();
        let now_ms = now.timestamp_millis();
        let window_ms = window.num_milliseconds();
        let oldest = self
            .call(async move |mut c| {
                scripts::TAKE_BUDGET
                    .key(&key)
                    .arg(now_ms)
                    .arg(window_ms)
                    .arg(limit)
                    .arg(i64::from(always))
                    .arg(&entry)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await?;
        Some(if oldest < 0 {
            Ok(())
        } else {
            let until = DateTime::from_timestamp_millis(oldest.saturating_add(window_ms));
            Err(until.unwrap_or(now + window))
        })
    }

    /// A value no other instance or call uses.
    fn token(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}-{n}", self.instance)
    }
}

/// Watches the shared server while `cluster` lives: subscribes to the announcements, passes
/// them on, and checks the server once a second; reconnects after any failure.
async fn watch(cluster: std::sync::Weak<Cluster>) {
    loop {
        let Some(this) = cluster.upgrade() else {
            return;
        };
        match this.subscribe().await {
            Ok(pubsub) => this.listen(pubsub).await,
            Err(e) => this.down(&e),
        }
        drop(this);
        tokio::time::sleep(WATCH_PERIOD).await;
    }
}

impl Cluster {
    /// A connection subscribed to the announcements.
    async fn subscribe(&self) -> Result<redis::aio::PubSub, String> {
        let bound = self.timeout.max(Duration::from_secs(1));
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(self.channel()).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(bound, connect).await {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {bound:?}")),
        }
    }

    /// Passes announcements on, checking the server each [`WATCH_PERIOD`]; returns when the
    /// subscription or a check fails.
    async fn listen(&self, pubsub: redis::aio::PubSub) {
        let mut messages = pubsub.into_on_message();
        let mut ticks = tokio::time::interval(WATCH_PERIOD);
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        self.down("the subscription ended");
                        return;
                    };
                    let payload: String = message.get_payload().unwrap_or_default();
                    if let Some(change) = parse_announcement(&payload) {
                        // Nobody listening is no error.
                        let _ = self.changes.send(change);
                    }
                }
                _ = ticks.tick() => {
                    let ping = async |mut c: ConnectionManager| {
                        redis::cmd("PING").query_async::<String>(&mut c).await
                    };
                    // A failed check marks the server down (in call_anyway).
                    if self.call_anyway(ping).await.is_none() {
                        return;
                    }
                    self.back();
                }
            }
        }
    }
}

/// An announcement: `YYYY-MM-DD` (a new list) or `YYYY-MM-DD failed`.
fn parse_announcement(payload: &str) -> Option<Change> {
    let (date, failed) = match payload.strip_suffix(" failed") {
        Some(date) => (date, true),
        None => (payload, false),
    };
    // Strictly as written (`2026-08-14`, never `2026-8-14`).
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .filter(|d| d.to_string() == date)?;
    Some(if failed {
        Change::Failed(date)
    } else {
        Change::Day(date)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> ClusterSettings {
        ClusterSettings {
            url: SecretString::from(url),
            ..ClusterSettings::default()
        }
    }

    #[test]
    fn urls_are_checked_without_repeating_the_password() {
        assert!(settings("").check().is_ok(), "empty: alone");
        assert!(settings("redis://127.0.0.1:6379").check().is_ok());
        assert!(
            settings("rediss://:s3cret@cache.example:6380/2")
                .check()
                .is_ok()
        );
        for bad in [
            "http://:s3cret@cache.example",
            "redis://:s3cret@cache.example/db",
            "redis://:s3cret@cache.example#x",
            "not a url s3cret",
        ] {
            let (key, problem) = settings(bad).check().unwrap_err();
            assert_eq!(key, "cluster.url");
            assert!(!problem.contains("s3cret"), "{problem}");
        }
        assert_eq!(
            server_address("redis://:s3cret@cache.example").unwrap(),
            "cache.example:6379"
        );
    }

    #[test]
    fn prefix_and_timeout_are_bounded() {
        let mut s = settings("");
        s.prefix = "a b".into();
        assert_eq!(s.check().unwrap_err().0, "cluster.prefix");
        s.prefix = "paperboy:prod".into();
        s.timeout = Duration::from_secs(60);
        assert_eq!(s.check().unwrap_err().0, "cluster.timeout");
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let s = settings("redis://:s3cret@cache.example");
        assert!(!format!("{s:?}").contains("s3cret"));
    }

    #[test]
    fn announcements_are_read_strictly() {
        let date = NaiveDate::from_ymd_opt(2026, 8, 14).unwrap();
        assert_eq!(parse_announcement("2026-08-14"), Some(Change::Day(date)));
        assert_eq!(
            parse_announcement("2026-08-14 failed"),
            Some(Change::Failed(date))
        );
        for bad in ["", "2026-8-14", "2026-08-14 done", "x"] {
            assert_eq!(parse_announcement(bad), None, "{bad:?}");
        }
    }
}
