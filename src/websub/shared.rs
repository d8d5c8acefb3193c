//! The hub with a shared server (`cluster.url`, section 15): the subscriptions are kept there
//! too, so that every instance holds them all, and each change of a subscribed feed is
//! delivered by the one instance that claims it. When the server cannot be reached, each
//! instance goes on alone with the subscriptions it holds (a change may then be delivered by
//! more than one), and what it changed meanwhile is written when the server is back.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::Hub;
use super::registry::{Key, Subscription};

/// The subscription's field in the shared server.
fn field(key: &Key) -> String {
    format!("{}\n{}", key.0, key.1)
}

impl Hub {
    /// Notes that the subscription `key` changed (taken, renewed, ended): it is written to the
    /// shared server at the next tick.
    pub(super) fn to_share(&self, key: &Key) {
        if self.cluster.is_some() {
            self.unshared().insert(key.clone());
        }
    }

    fn unshared(&self) -> std::sync::MutexGuard<'_, HashSet<Key>> {
        self.unshared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes what changed here to the shared server, then reads the subscriptions again if
    /// another instance changed them. A shared server that holds none (new, or emptied) is
    /// given this instance's.
    pub(super) async fn sync(&self, now: DateTime<Utc>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let Some(generation) = cluster.hub_generation().await else {
            return;
        };
        if generation == 0 {
            let mut unshared = self.unshared();
            unshared.extend(self.registry().all().map(Subscription::key));
        }
        let keys: Vec<Key> = self.unshared().drain().collect();
        let mut last = self.generation.load(Ordering::Acquire);
        for key in keys {
            let value = self
                .registry()
                .get(&key)
                .and_then(|s| serde_json::to_vec(s).ok());
            match cluster.hub_write(&field(&key), value.as_deref()).await {
                // This instance's own change: nothing to read again for it.
                Some(written) if written == last.wrapping_add(1) => last = written,
                Some(_) => {}
                None => {
                    self.unshared().insert(key);
                }
            }
        }
        self.generation.store(last, Ordering::Release);
        let Some(generation) = cluster.hub_generation().await else {
            return;
        };
        if generation == last {
            return;
        }
        let Some((generation, values)) = cluster.hub_subscriptions().await else {
            return;
        };
        let shared: Vec<Subscription> = values
            .iter()
            .filter_map(|v| serde_json::from_slice(v).ok())
            .collect();
        let mut registry = self.registry();
        registry.replace(shared, now);
        self.metrics.set_websub_subscriptions(registry.len());
        drop(registry);
        self.generation.store(generation, Ordering::Release);
        self.recheck.store(true, Ordering::Release);
    }

    /// Whether this instance delivers `etag` to the subscription `key`: the one instance that
    /// claims it in the shared server, or this one when there is none (or it cannot say).
    pub(super) async fn claim(&self, key: &Key, etag: &str) -> bool {
        let Some(cluster) = &self.cluster else {
            return true;
        };
        let name = format!(
            "{:016x}:{etag}",
            xxhash_rust::xxh3::xxh3_64(field(key).as_bytes())
        );
        cluster.hub_claim(&name).await.unwrap_or(true)
    }
}
