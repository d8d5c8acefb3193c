//! The subscriptions: active ones (verified, lease not over) and requests being verified,
//! bounded by `websub.max_subscriptions` in all and a tenth of it per callback host; kept in
//! `<data_dir>/websub/subscriptions.json`, written atomically, read back at start-up.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A subscription is known by its topic and callback (WebSub: a new request for the same
/// pair renews or ends it).
pub type Key = (String, String);

/// The largest subscriptions file read back (10,000 subscriptions take about 4 MB).
const MAX_FILE: u64 = 256 * 1024 * 1024;

/// One active subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The feed URL, exactly as the subscriber gave it.
    pub topic: String,
    pub callback: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When the lease ends.
    pub expires: DateTime<Utc>,
    /// The link base the topic was given under (its self links use it).
    pub base: String,
    /// The `ETag` of the topic's content last sent (or seen at activation): a change is a
    /// different one. `None`: not known yet (taken without a delivery when it is).
    #[serde(default)]
    pub seen: Option<String>,
}

impl Subscription {
    pub fn key(&self) -> Key {
        (self.topic.clone(), self.callback.clone())
    }
}

/// Why a request cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Full {
    /// `websub.max_subscriptions` in all.
    All(usize),
    /// A tenth of it for one callback host.
    Host(usize),
    /// The bytes the subscriptions may take.
    Bytes(usize),
}

/// The limits of [`Registry::begin`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub all: usize,
    pub per_host: usize,
    /// Bytes of every subscription and request being verified together ([`weight`]).
    pub bytes: usize,
}

/// What a subscription of `key` takes in memory: its strings (the key's twice: in the map's
/// key and in the subscription), and room for its `ETag`, lease and the map's entry.
pub fn weight(key: &Key, secret: Option<&str>, base: &str) -> usize {
    key.0.len() * 2 + key.1.len() * 2 + secret.map_or(0, str::len) + base.len() + 160
}

fn weight_of(subscription: &Subscription) -> usize {
    weight(
        &subscription.key(),
        subscription.secret.as_deref(),
        &subscription.base,
    )
}

/// The subscriptions and the requests being verified.
#[derive(Debug, Default)]
pub struct Registry {
    active: BTreeMap<Key, Subscription>,
    /// Requests being verified, by key, with their weight.
    pending: HashMap<Key, usize>,
    /// The weight of the active subscriptions and the requests being verified.
    bytes: usize,
    /// Subscriptions and pending requests per callback host.
    per_host: HashMap<String, usize>,
    /// Whether `active` changed since it was last written.
    dirty: bool,
    /// The copies of `active` taken for writing so far (their order, for the file).
    copies: u64,
    /// No lease in `active` ends before this (it may end later): [`Registry::expire`] looks
    /// through the subscriptions only once it has come, not at each change.
    next_expiry: Option<DateTime<Utc>>,
}

/// The callback host a limit counts against.
pub fn host_of(callback: &str) -> String {
    url::Url::parse(callback)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

impl Registry {
    /// The subscriptions read back, those whose lease is over left out.
    pub fn with(subscriptions: Vec<Subscription>, now: DateTime<Utc>) -> Self {
        let mut registry = Registry::default();
        for subscription in subscriptions.into_iter().filter(|s| s.expires > now) {
            registry.insert(subscription);
        }
        registry.dirty = false;
        registry
    }

    /// The subscriptions become `shared` (those of the shared server), each keeping the
    /// `ETag` this instance last saw for it; requests being verified stay.
    pub fn replace(&mut self, shared: Vec<Subscription>, now: DateTime<Utc>) {
        let mut seen: HashMap<Key, Option<String>> = std::mem::take(&mut self.active)
            .into_iter()
            .map(|(k, s)| (k, s.seen))
            .collect();
        self.per_host.clear();
        self.bytes = self.pending.values().sum();
        for key in self.pending.keys() {
            *self.per_host.entry(host_of(&key.1)).or_default() += 1;
        }
        for mut subscription in shared.into_iter().filter(|s| s.expires > now) {
            if let Some(local) = seen.remove(&subscription.key()).flatten() {
                subscription.seen = Some(local);
            }
            if self.pending.contains_key(&subscription.key()) {
                self.release_host(&subscription.callback);
            }
            self.insert(subscription);
        }
        self.dirty = true;
    }

    /// Every active subscription.
    pub fn all(&self) -> impl Iterator<Item = &Subscription> {
        self.active.values()
    }

    /// What the subscriptions and the requests being verified take ([`weight`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Active subscriptions.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// Takes a request to verify, unless a limit is reached (a renewal of an active
    /// subscription always fits). `false` when the same request is being verified already.
    pub fn begin(&mut self, key: &Key, weight: usize, limits: Limits) -> Result<bool, Full> {
        if self.pending.contains_key(key) {
            return Ok(false);
        }
        if self.bytes + weight > limits.bytes {
            return Err(Full::Bytes(limits.bytes));
        }
        if !self.active.contains_key(key) {
            let host = host_of(&key.1);
            if self.active.len() + self.pending.len() >= limits.all {
                return Err(Full::All(limits.all));
            }
            if self.per_host.get(&host).copied().unwrap_or(0) >= limits.per_host {
                return Err(Full::Host(limits.per_host));
            }
            *self.per_host.entry(host).or_default() += 1;
        }
        self.pending.insert(key.clone(), weight);
        self.bytes += weight;
        Ok(true)
    }

    /// A verification is over: `outcome` is the subscription to keep (subscribe verified),
    /// or `None` (unsubscribe verified: it goes; a failed verification: nothing changes).
    pub fn finish(&mut self, key: &Key, outcome: Finish) {
        if let Some(weight) = self.pending.remove(key) {
            self.bytes = self.bytes.saturating_sub(weight);
            if !self.active.contains_key(key) {
                self.release_host(&key.1);
            }
        }
        match outcome {
            Finish::Keep(subscription) => self.insert(*subscription),
            Finish::Remove => {
                self.remove(key);
            }
            Finish::Nothing => {}
        }
    }

    fn insert(&mut self, subscription: Subscription) {
        let key = subscription.key();
        if !self.active.contains_key(&key) {
            *self.per_host.entry(host_of(&key.1)).or_default() += 1;
        }
        self.bytes += weight_of(&subscription);
        self.next_expiry = Some(
            self.next_expiry
                .map_or(subscription.expires, |next| next.min(subscription.expires)),
        );
        if let Some(previous) = self.active.insert(key, subscription) {
            self.bytes = self.bytes.saturating_sub(weight_of(&previous));
        }
        self.dirty = true;
    }

    /// Ends a subscription (unsubscribed, gone, lease over).
    pub fn remove(&mut self, key: &Key) -> Option<Subscription> {
        let removed = self.active.remove(key)?;
        self.bytes = self.bytes.saturating_sub(weight_of(&removed));
        self.release_host(&key.1);
        self.dirty = true;
        Some(removed)
    }

    fn release_host(&mut self, callback: &str) {
        let host = host_of(callback);
        if let Some(count) = self.per_host.get_mut(&host) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_host.remove(&host);
            }
        }
    }

    /// Ends the subscriptions whose lease is over; their keys.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Vec<Key> {
        if self.next_expiry.is_none_or(|next| next > now) {
            return Vec::new();
        }
        let over: Vec<Key> = self
            .active
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &over {
            self.remove(key);
        }
        self.next_expiry = self.active.values().map(|s| s.expires).min();
        over
    }

    pub fn get(&self, key: &Key) -> Option<&Subscription> {
        self.active.get(key)
    }

    /// The topics subscribed to, each once, with their link base.
    pub fn topics(&self) -> Vec<(String, String)> {
        let mut topics: Vec<(String, String)> = self
            .active
            .values()
            .map(|s| (s.topic.clone(), s.base.clone()))
            .collect();
        topics.dedup_by(|a, b| a.0 == b.0);
        topics
    }

    /// The subscriptions of `topic` (they are ordered by topic, then callback).
    pub fn of_topic(&self, topic: &str) -> Vec<Subscription> {
        let from = (topic.to_owned(), String::new());
        self.active
            .range(from..)
            .take_while(|(k, _)| k.0 == topic)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Notes that `etag` was sent (or taken as the start) for `key`.
    pub fn set_seen(&mut self, key: &Key, etag: &str) {
        if let Some(subscription) = self.active.get_mut(key)
            && subscription.seen.as_deref() != Some(etag)
        {
            subscription.seen = Some(etag.to_owned());
            self.dirty = true;
        }
    }

    /// Every active subscription (to write them down), if any changed since the last call.
    pub fn take_changes(&mut self) -> Option<Snapshot> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        self.copies += 1;
        Some(Snapshot {
            number: self.copies,
            subscriptions: self.active.values().cloned().collect(),
        })
    }

    /// Marks the subscriptions as not written (a write failed: try again later).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }
}

/// What a finished verification does.
#[derive(Debug)]
pub enum Finish {
    Keep(Box<Subscription>),
    Remove,
    Nothing,
}

/// A copy of the active subscriptions to write, numbered in the order it was taken.
#[derive(Debug)]
pub struct Snapshot {
    number: u64,
    subscriptions: Vec<Subscription>,
}

/// The subscriptions file of a data directory.
#[derive(Debug, Clone)]
pub struct SubscriptionFile {
    path: PathBuf,
    /// The number of the snapshot written last: an older one that comes late (a write still
    /// running when the hub stopped) never replaces a newer one.
    written: Arc<Mutex<u64>>,
}

#[derive(Serialize, Deserialize)]
struct FileContent {
    subscriptions: Vec<Subscription>,
}

impl SubscriptionFile {
    /// `<data_dir>/websub/subscriptions.json`. The folder is made at the first write,
    /// readable by its owner alone (the file holds the subscribers' secrets).
    pub fn at(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("websub").join("subscriptions.json"),
            written: Arc::default(),
        }
    }

    /// The subscriptions written last; none when there is no file. A file that cannot be
    /// read as subscriptions is set aside (`.corrupt-<unix seconds>`) with a warning.
    pub fn read(&self, now: DateTime<Utc>) -> Vec<Subscription> {
        let bytes = match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Ok(meta) if meta.len() > MAX_FILE => Err(io::Error::other("the file is too large")),
            _ => std::fs::read(&self.path),
        };
        let parsed = bytes
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<FileContent>(&b).map_err(|e| e.to_string()));
        match parsed {
            Ok(content) => content.subscriptions,
            Err(error) => {
                let aside = self
                    .path
                    .with_extension(format!("json.corrupt-{}", now.timestamp()));
                let _ = std::fs::rename(&self.path, &aside);
                tracing::warn!(path = %self.path.display(), %error, "the WebSub subscriptions file could not be read; it was set aside and the hub starts with none");
                Vec::new()
            }
        }
    }

    /// Writes `snapshot` atomically, unless a newer one was written already.
    pub fn write(&self, snapshot: Snapshot) -> io::Result<()> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if snapshot.number <= *written {
            return Ok(());
        }
        let subscriptions = snapshot.subscriptions;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let bytes = serde_json::to_vec(&FileContent { subscriptions }).map_err(io::Error::other)?;
        crate::data::disk::write_atomic(&self.path, &bytes)?;
        *written = snapshot.number;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        format!("2026-08-14T{hour:02}:00:00Z").parse().unwrap()
    }

    fn subscription(topic: &str, callback: &str, expires: DateTime<Utc>) -> Subscription {
        Subscription {
            topic: topic.into(),
            callback: callback.into(),
            secret: None,
            expires,
            base: "http://localhost:8080".into(),
            seen: None,
        }
    }

    fn key(topic: &str, callback: &str) -> Key {
        (topic.into(), callback.into())
    }

    #[test]
    fn limits_count_pending_and_active_per_host() {
        let mut registry = Registry::default();
        let limits = Limits {
            all: 3,
            per_host: 2,
            bytes: 100_000,
        };
        let a = key("t1", "http://a.example/1");
        assert_eq!(registry.begin(&a, 300, limits), Ok(true));
        assert_eq!(
            registry.begin(&a, 300, limits),
            Ok(false),
            "already being verified"
        );
        let a2 = key("t2", "http://A.example/2");
        assert_eq!(registry.begin(&a2, 300, limits), Ok(true));
        assert_eq!(
            registry.begin(&key("t3", "http://a.example/3"), 300, limits),
            Err(Full::Host(2))
        );
        registry.finish(
            &a,
            Finish::Keep(Box::new(subscription("t1", "http://a.example/1", at(9)))),
        );
        registry.finish(&a2, Finish::Nothing);
        assert_eq!(registry.len(), 1);
        // A renewal always fits; a third subscription fits in all, not on host a.
        assert_eq!(registry.begin(&a, 300, limits), Ok(true));
        registry.finish(&a, Finish::Nothing);
        assert_eq!(
            registry.begin(&key("t2", "http://b.example/"), 300, limits),
            Ok(true)
        );
        assert_eq!(
            registry.begin(&key("t3", "http://c.example/"), 300, limits),
            Ok(true)
        );
        assert_eq!(
            registry.begin(&key("t4", "http://d.example/"), 300, limits),
            Err(Full::All(3))
        );
        registry.finish(&a, Finish::Remove);
        assert!(registry.is_empty());
        assert_eq!(
            registry.begin(&key("t4", "http://d.example/"), 300, limits),
            Ok(true)
        );
    }

    #[test]
    fn the_bytes_of_the_subscriptions_are_bounded() {
        let mut registry = Registry::default();
        let limits = Limits {
            all: 100,
            per_host: 100,
            bytes: 1000,
        };
        let a = key("t1", "http://a.example/1");
        assert_eq!(registry.begin(&a, 600, limits), Ok(true));
        let b = key("t2", "http://a.example/2");
        assert_eq!(registry.begin(&b, 600, limits), Err(Full::Bytes(1000)));
        let kept = subscription("t1", "http://a.example/1", at(9));
        let weight = weight_of(&kept);
        registry.finish(&a, Finish::Keep(Box::new(kept)));
        assert_eq!(
            registry.bytes(),
            weight,
            "the request's weight, then the subscription's"
        );
        assert_eq!(registry.begin(&b, 600, limits), Ok(true));
        registry.finish(&b, Finish::Nothing);
        registry.finish(&a, Finish::Remove);
        assert_eq!(registry.bytes(), 0);
    }

    #[test]
    fn leases_end_and_topics_are_listed_once() {
        let mut registry = Registry::with(
            vec![
                subscription("t", "http://a/1", at(10)),
                subscription("t", "http://b/1", at(12)),
                subscription("u", "http://a/2", at(12)),
                subscription("old", "http://a/3", at(8)),
            ],
            at(9),
        );
        assert_eq!(registry.len(), 3, "a lease over at start-up is dropped");
        assert_eq!(registry.topics().len(), 2);
        assert_eq!(registry.of_topic("t").len(), 2);
        assert_eq!(registry.expire(at(10)), vec![key("t", "http://a/1")]);
        assert_eq!(registry.of_topic("t").len(), 1);
        assert!(registry.take_changes().is_some());
        assert!(registry.take_changes().is_none());
        assert!(
            registry.expire(at(11)).is_empty(),
            "nothing else ends before 12:00"
        );
        registry.insert(subscription("v", "http://c/1", at(11)));
        assert_eq!(registry.expire(at(11)), vec![key("v", "http://c/1")]);
        assert_eq!(registry.expire(at(12)).len(), 2);
        assert!(registry.is_empty());
    }

    #[test]
    fn the_file_is_written_and_read_back_and_a_bad_one_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = SubscriptionFile::at(dir.path());
        assert!(file.read(at(9)).is_empty());
        let mut kept = subscription("t", "http://a/1", at(12));
        kept.secret = Some("s".into());
        kept.seen = Some("W/\"1\"".into());
        let mut registry = Registry::default();
        registry.insert(kept.clone());
        let first = registry.take_changes().unwrap();
        registry.insert(subscription("t", "http://a/2", at(12)));
        let second = registry.take_changes().unwrap();
        file.write(second).unwrap();
        assert_eq!(file.read(at(9)).len(), 2);
        file.write(first).unwrap();
        assert_eq!(
            file.read(at(9)).len(),
            2,
            "an older copy coming late is not written"
        );
        registry.remove(&subscription("t", "http://a/2", at(12)).key());
        file.write(registry.take_changes().unwrap()).unwrap();
        assert_eq!(file.read(at(9)), vec![kept]);
        std::fs::write(dir.path().join("websub/subscriptions.json"), b"{not json").unwrap();
        assert!(file.read(at(9)).is_empty());
        let names: Vec<String> = std::fs::read_dir(dir.path().join("websub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().any(|n| n.contains(".corrupt-")), "{names:?}");
    }
}
