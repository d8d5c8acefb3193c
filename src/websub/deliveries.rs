//! The hub's task: it waits for a change of the store (or the next day, or a second), ends
//! the leases that are over, renders each subscribed feed whose window may have changed
//! through the pipeline (once per feed, whatever the number of subscribers) and pushes the
//! feeds whose `ETag` moved to their callbacks, at most 4 at once; failed deliveries are
//! retried after 1, 5, 30 and 120 minutes, a 410 ends the subscription; the subscriptions are
//! written down when they changed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, NaiveDate, Utc};
use url::Url;

use super::client::{Delivery, Push};
use super::registry::{Key, Subscription};
use super::{Hub, locate};
use crate::app::state::AppState;
use crate::pipeline::feed_at;
use crate::render::cache::link_header;

/// The longest the task sleeps without a change.
const TICK: Duration = Duration::from_secs(1);
/// The shortest time between two looks at feeds that could not be rendered.
const RECHECK: Duration = Duration::from_secs(5);
/// The shortest time between two writes of the subscriptions: a burst of subscriptions is
/// one write, not one per subscription (each write is the whole file). The last changes are
/// written when the server stops ([`super::HubTask::stop`]).
const WRITE_EVERY: Duration = Duration::from_secs(1);
/// When a failed delivery is tried again: after 1, 5, 30 and 120 minutes; then the change is
/// dropped.
const RETRY_AFTER_MINUTES: [i64; 4] = [1, 5, 30, 120];

/// A delivery to try again.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retry {
    /// Retries made before this one.
    attempt: usize,
    due: DateTime<Utc>,
}

/// Retries waiting for their time.
pub(super) type Retries = HashMap<Key, Retry>;

/// The `ETag` of the feed at `topic` now, if it can be rendered.
pub(super) async fn current_etag(state: &AppState, topic: &str, base: &str) -> Option<String> {
    render(state, topic, base).await.map(|(_, etag)| etag)
}

/// The feed at `topic` as a GET gets it (identity), with the headers of a delivery, and its
/// `ETag`; `None` when it cannot be rendered now (upstream down and nothing stored: the next
/// change tries again).
async fn render(state: &AppState, topic: &str, base: &str) -> Option<(Push, String)> {
    let located = locate(state, topic, base).ok()?;
    let found = feed_at(
        state,
        located.route,
        Arc::from(base),
        (located.path, located.query),
    )
    .await;
    let (format, encoded) = match found {
        Ok(found) => found,
        Err(problem) => {
            tracing::debug!(%topic, detail = %problem.detail, "a subscribed feed could not be rendered");
            return None;
        }
    };
    let etag = encoded.validators.etag_value.to_str().ok()?.to_owned();
    let hub = format!("{base}/websub");
    let push = Push {
        body: encoded.identity(),
        content_type: format.content_type(),
        link: link_header(Some(&hub), topic),
    };
    Some((push, etag))
}

impl Hub {
    /// The hub's loop.
    pub(super) async fn run(self: Arc<Self>, state: web::Data<AppState>) {
        let mut changes = state.store.changes();
        let mut checked: Option<(NaiveDate, u64)> = None;
        let mut last_check = std::time::Instant::now();
        let mut last_write: Option<std::time::Instant> = None;
        loop {
            tokio::select! {
                _ = changes.changed() => {}
                () = self.wake.notified() => {}
                () = tokio::time::sleep(TICK) => {}
            }
            let now = state.clock.now();
            self.sync(now).await;
            self.expire(now);
            let current = (now.date_naive(), *changes.borrow_and_update());
            // A feed that could not be rendered is looked at again, at most every few seconds.
            let again =
                last_check.elapsed() >= RECHECK && self.recheck.swap(false, Ordering::AcqRel);
            if checked != Some(current) || again {
                checked = Some(current);
                last_check = std::time::Instant::now();
                self.check(&state).await;
            }
            self.retry_due(&state, now).await;
            if last_write.is_none_or(|at| at.elapsed() >= WRITE_EVERY) {
                last_write = Some(std::time::Instant::now());
                self.write_down().await;
            }
        }
    }

    /// Ends the subscriptions whose lease is over.
    fn expire(&self, now: DateTime<Utc>) {
        let mut registry = self.registry();
        let over = registry.expire(now);
        if !over.is_empty() {
            self.metrics.set_websub_subscriptions(registry.len());
            drop(registry);
            let mut retries = self.retries();
            for key in &over {
                retries.remove(key);
                self.to_share(key);
            }
            tracing::info!(ended = over.len(), "WebSub leases over");
        }
    }

    fn retries(&self) -> std::sync::MutexGuard<'_, Retries> {
        self.retries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Renders every subscribed feed (from the render cache when its window did not move) and
    /// pushes those that changed to their subscribers.
    async fn check(self: &Arc<Self>, state: &AppState) {
        let topics = self.registry().topics();
        for (topic, base) in topics {
            let Some((push, etag)) = render(state, &topic, &base).await else {
                self.recheck.store(true, Ordering::Release);
                continue;
            };
            let push = Arc::new(push);
            let changed: Vec<(Subscription, bool)> = {
                let mut registry = self.registry();
                let subscriptions = registry.of_topic(&topic);
                subscriptions
                    .into_iter()
                    .filter(|s| s.seen.as_deref() != Some(etag.as_str()))
                    .map(|s| {
                        registry.set_seen(&s.key(), &etag);
                        let known = s.seen.is_some();
                        (s, known)
                    })
                    .collect()
            };
            for (subscription, known) in changed {
                // A feed first seen now is the start, not a change; with a shared server,
                // one instance delivers each change.
                if known && self.claim(&subscription.key(), &etag).await {
                    self.retries().remove(&subscription.key());
                    self.dispatch(state, subscription, push.clone(), 0).await;
                }
            }
        }
    }

    /// Delivers the retries whose time has come, with the feed as it is now (a newer change
    /// replaces the one that failed).
    async fn retry_due(self: &Arc<Self>, state: &AppState, now: DateTime<Utc>) {
        let due: Vec<(Key, Retry)> = {
            let mut retries = self.retries();
            let keys: Vec<Key> = retries
                .iter()
                .filter(|(_, r)| r.due <= now)
                .map(|(k, _)| k.clone())
                .collect();
            keys.into_iter()
                .filter_map(|k| retries.remove(&k).map(|r| (k, r)))
                .collect()
        };
        let mut rendered: HashMap<String, Option<Arc<Push>>> = HashMap::new();
        for (key, retry) in due {
            let Some(subscription) = self.registry().get(&key).cloned() else {
                continue;
            };
            if !rendered.contains_key(&key.0) {
                let push = render(state, &subscription.topic, &subscription.base)
                    .await
                    .map(|(push, _)| Arc::new(push));
                rendered.insert(key.0.clone(), push);
            }
            match rendered.get(&key.0).cloned().flatten() {
                Some(push) => {
                    self.dispatch(state, subscription, push, retry.attempt)
                        .await
                }
                // Not renderable now: this attempt counts as failed.
                None => self.after(
                    state,
                    &subscription,
                    Delivery::Failed("the feed could not be rendered".into()),
                    retry.attempt,
                ),
            }
        }
    }

    /// Starts one delivery once one of the 4 slots is free.
    async fn dispatch(
        self: &Arc<Self>,
        state: &AppState,
        subscription: Subscription,
        push: Arc<Push>,
        attempt: usize,
    ) {
        let Ok(slot) = self.deliveries.clone().acquire_owned().await else {
            return;
        };
        let hub = self.clone();
        let clock = state.clock.clone();
        self.runtime.spawn(async move {
            let outcome = match Url::parse(&subscription.callback) {
                Ok(callback) => {
                    hub.client
                        .deliver(&callback, &push, subscription.secret.as_deref())
                        .await
                }
                Err(e) => Delivery::Failed(e.to_string()),
            };
            drop(slot);
            hub.after_at(clock.now(), &subscription, outcome, attempt);
        });
    }

    fn after(
        &self,
        state: &AppState,
        subscription: &Subscription,
        outcome: Delivery,
        attempt: usize,
    ) {
        self.after_at(state.clock.now(), subscription, outcome, attempt);
    }

    /// Counts a delivery, and ends the subscription (410) or plans the next retry.
    fn after_at(
        &self,
        now: DateTime<Utc>,
        subscription: &Subscription,
        outcome: Delivery,
        attempt: usize,
    ) {
        let key = subscription.key();
        match outcome {
            Delivery::Delivered => self.metrics.websub_delivery("delivered"),
            Delivery::Gone => {
                self.metrics.websub_delivery("gone");
                let mut registry = self.registry();
                registry.remove(&key);
                self.metrics.set_websub_subscriptions(registry.len());
                drop(registry);
                self.to_share(&key);
                tracing::info!(topic = %key.0, callback = %key.1, "a WebSub callback answered 410: subscription ended");
            }
            Delivery::Failed(error) => {
                self.metrics.websub_delivery("failed");
                match RETRY_AFTER_MINUTES.get(attempt) {
                    Some(&minutes) => {
                        let due = now + chrono::Duration::minutes(minutes);
                        tracing::info!(topic = %key.0, callback = %key.1, %error, retry_in_minutes = minutes, "a WebSub delivery failed");
                        self.retries().insert(
                            key,
                            Retry {
                                attempt: attempt + 1,
                                due,
                            },
                        );
                    }
                    None => {
                        tracing::warn!(topic = %key.0, callback = %key.1, %error, "a WebSub delivery failed for the last time; this change is dropped");
                    }
                }
            }
        }
        self.wake.notify_one();
    }

    /// Writes the subscriptions down when they changed (off the async threads).
    pub(super) async fn write_down(&self) {
        let (Some(file), Some(subscriptions)) = (self.file.clone(), self.registry().take_changes())
        else {
            return;
        };
        let written = tokio::task::spawn_blocking(move || file.write(subscriptions)).await;
        let error = match written {
            Ok(Ok(())) => {
                self.write_failing.store(false, Ordering::Release);
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        if !self.write_failing.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, "the WebSub subscriptions could not be written; trying again every second");
        }
        self.registry().mark_dirty();
    }
}
