//! paperboy as the WebSub hub of its own feeds (contract section 16): subscriptions taken at
//! `POST /websub` ([`Hub::take`]), verified with the subscriber, kept in the data directory;
//! a task that waits for the store's changes and pushes each subscribed feed whose content
//! changed to its callbacks, rendered once per change through the same pipeline as a GET
//! ([`crate::pipeline::feed_at`]). Everything here runs on the backstage runtime: serving
//! never waits on the hub.
//!
//! - `form.rs`: the subscription form; `address.rs`: which callback addresses are public;
//! - `client.rs`: the HTTP client to callbacks (verification, delivery, signature);
//! - `registry.rs`: the subscriptions, their limits and their file;
//! - `deliveries.rs`: the change check, deliveries and retries.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore};

use crate::app::settings::websub::{Callbacks, WebsubSettings};
use crate::app::state::AppState;
use crate::data::cluster::Cluster;
use crate::http::problem::Problem;
use crate::pipeline::{FeedRoute, plan_for};
use crate::telemetry::metrics::Metrics;

pub mod address;
pub mod client;
mod deliveries;
pub mod form;
pub mod registry;
mod shared;

use client::{CallbackClient, Intent};
use form::{Mode, Request};
use registry::{Finish, Full, Key, Limits, Registry, Subscription, SubscriptionFile};

/// Verifications of intent at once.
const VERIFICATIONS: usize = 8;
/// Deliveries at once (section 16).
const DELIVERIES: usize = 4;
/// Subscription requests waiting for their callback's name to resolve, at once.
const RESOLVING: usize = 16;
/// Memory the subscriptions may take, per subscription `websub.max_subscriptions` allows:
/// their topics, callbacks and secrets together (a typical one takes a quarter of it).
const BYTES_PER_SUBSCRIPTION: usize = 1024;

/// The hub.
#[derive(Debug)]
pub struct Hub {
    settings: WebsubSettings,
    registry: Mutex<Registry>,
    file: Option<SubscriptionFile>,
    client: CallbackClient,
    verifications: Semaphore,
    deliveries: Arc<Semaphore>,
    resolving: Semaphore,
    /// Retries waiting for their time, by subscription.
    retries: Mutex<deliveries::Retries>,
    /// Wakes the hub's task before its next tick (a subscription changed).
    wake: Notify,
    /// A subscription whose feed's `ETag` is not known yet: check every feed next time.
    recheck: AtomicBool,
    /// Whether the last write of the subscriptions failed (one warning per failing streak).
    write_failing: AtomicBool,
    metrics: Metrics,
    /// The shared server of several instances (`cluster.url`).
    cluster: Option<Arc<Cluster>>,
    /// Subscriptions changed here and not yet written to the shared server.
    unshared: Mutex<HashSet<Key>>,
    /// The generation of the shared server's subscriptions this instance holds.
    generation: AtomicU64,
    /// Where the hub's own tasks (verifications, deliveries) run.
    runtime: tokio::runtime::Handle,
}

impl Hub {
    /// The hub of `state`'s settings, with the subscriptions kept in its data directory.
    pub fn new(state: &AppState, runtime: tokio::runtime::Handle) -> anyhow::Result<Hub> {
        let settings = state.settings.websub.clone();
        let now = state.clock.now();
        let file = state
            .settings
            .data_dir()
            .map(|dir| SubscriptionFile::at(&dir));
        let kept = file.as_ref().map(|f| f.read(now)).unwrap_or_default();
        let registry = Registry::with(kept, now);
        state.metrics.set_websub_subscriptions(registry.len());
        if !registry.is_empty() {
            tracing::info!(
                subscriptions = registry.len(),
                "WebSub subscriptions read back"
            );
        }
        Ok(Hub {
            client: CallbackClient::new(settings.callbacks == Callbacks::Public)?,
            settings,
            registry: Mutex::new(registry),
            file,
            verifications: Semaphore::new(VERIFICATIONS),
            deliveries: Arc::new(Semaphore::new(DELIVERIES)),
            resolving: Semaphore::new(RESOLVING),
            retries: Mutex::new(deliveries::Retries::default()),
            wake: Notify::new(),
            recheck: AtomicBool::new(true),
            write_failing: AtomicBool::new(false),
            metrics: state.metrics.clone(),
            cluster: state.store.cluster().cloned(),
            unshared: Mutex::new(HashSet::new()),
            generation: AtomicU64::new(u64::MAX),
            runtime,
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Active subscriptions now.
    pub fn len(&self) -> usize {
        self.registry().len()
    }

    pub fn is_empty(&self) -> bool {
        self.registry().is_empty()
    }

    /// Takes a subscription request given under `base` (the link base of the request), whose
    /// topic [`check_topic`] found to be a feed of this instance: its callback allowed, within
    /// the limits; then verifies intent in the background. `Ok` is the 202. Runs on the HTTP
    /// worker: the callback's name is resolved there (at most 16 at once), not backstage.
    pub async fn take(
        self: &Arc<Self>,
        state: &web::Data<AppState>,
        request: Request,
        base: Arc<str>,
    ) -> Result<(), Problem> {
        if self.settings.callbacks == Callbacks::Public {
            let Ok(_turn) = self.resolving.try_acquire() else {
                return Err(Problem::unavailable(
                    "The hub is checking many callbacks at the moment; try again in a second.",
                    1,
                ));
            };
            address::check_public(&request.callback)
                .await
                .map_err(|e| Problem::bad_parameter("hub.callback", format!("{}.", capital(&e))))?;
        }
        let key: Key = (request.topic.clone(), request.callback.to_string());
        let limits = Limits {
            all: self.settings.max_subscriptions,
            per_host: self.settings.per_host(),
            bytes: self
                .settings
                .max_subscriptions
                .saturating_mul(BYTES_PER_SUBSCRIPTION),
        };
        let weight = registry::weight(&key, request.secret.as_deref(), &base);
        let begun = self.registry().begin(&key, weight, limits).map_err(|full| {
            Problem::too_many_requests(match full {
                Full::All(n) => format!(
                    "The hub holds its most subscriptions ({n}, websub.max_subscriptions); try again later."
                ),
                Full::Host(n) => format!(
                    "The callback's host holds its most subscriptions ({n}, a tenth of websub.max_subscriptions); end some first."
                ),
                Full::Bytes(n) => format!(
                    "The hub's subscriptions fill the {} KiB they may take (websub.max_subscriptions x 1 KiB); try again later, or with a shorter topic or callback.",
                    n / 1024
                ),
            })
        })?;
        if begun {
            let (hub, state) = (self.clone(), state.clone());
            self.runtime
                .spawn(async move { hub.verify(state, request, base, key).await });
        }
        Ok(())
    }

    /// Verifies intent with the callback, then keeps (or ends) the subscription.
    async fn verify(&self, state: web::Data<AppState>, request: Request, base: Arc<str>, key: Key) {
        let _turn = self.verifications.acquire().await;
        let lease = self.lease(request.lease_seconds);
        let challenge = hex::encode(rand::random::<[u8; 24]>());
        let intent = Intent {
            mode: request.mode,
            topic: &request.topic,
            challenge: &challenge,
            lease_seconds: (request.mode == Mode::Subscribe).then_some(lease.as_secs()),
        };
        let outcome = match (
            self.client.verify(&request.callback, &intent).await,
            request.mode,
        ) {
            (Err(error), mode) => {
                tracing::info!(topic = %request.topic, callback = %request.callback, %error, mode = mode.name(), "a WebSub request was not verified");
                Finish::Nothing
            }
            (Ok(()), Mode::Unsubscribe) => Finish::Remove,
            (Ok(()), Mode::Subscribe) => {
                let there = self.registry().get(&key).map(|s| s.seen.clone());
                let seen = match there {
                    Some(seen) => seen,
                    None => deliveries::current_etag(&state, &request.topic, &base).await,
                };
                self.recheck.fetch_or(seen.is_none(), Ordering::AcqRel);
                Finish::Keep(Box::new(Subscription {
                    topic: request.topic.clone(),
                    callback: key.1.clone(),
                    secret: request.secret,
                    expires: expiry(state.clock.now(), lease),
                    base: base.to_string(),
                    seen,
                }))
            }
        };
        let mut registry = self.registry();
        registry.finish(&key, outcome);
        self.metrics.set_websub_subscriptions(registry.len());
        drop(registry);
        self.to_share(&key);
        self.wake.notify_one();
    }

    /// The lease granted for `asked` seconds: at most `websub.max_lease`, which is also the
    /// lease of a request that asks for none.
    fn lease(&self, asked: Option<u64>) -> Duration {
        let max = self.settings.max_lease;
        asked.map_or(max, |s| Duration::from_secs(s).min(max))
    }

    /// Runs the hub until the returned task is dropped.
    pub fn spawn(self: &Arc<Self>, state: web::Data<AppState>) -> HubTask {
        let hub = self.clone();
        HubTask {
            handle: self.runtime.spawn(async move { hub.run(state).await }),
            hub: self.clone(),
        }
    }
}

/// The running hub; dropping it stops it.
#[derive(Debug)]
pub struct HubTask {
    handle: tokio::task::JoinHandle<()>,
    hub: Arc<Hub>,
}

impl HubTask {
    /// Stops the hub and writes down the subscriptions that changed since its last write.
    pub async fn stop(mut self) {
        self.handle.abort();
        let _ = (&mut self.handle).await;
        self.hub.write_down().await;
    }
}

impl Drop for HubTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// `now + lease`, or the far future when that does not fit.
fn expiry(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `text` with a capital first letter.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Where a topic's feed is: its route, path and query string.
pub(crate) struct Located<'s> {
    pub route: FeedRoute<'s>,
    pub path: &'s str,
    pub query: &'s str,
}

/// The feed route, path and query of `topic`, a URL that begins with `base`; the error says
/// what is wrong with it.
pub(crate) fn locate<'s>(
    state: &'s AppState,
    topic: &'s str,
    base: &str,
) -> Result<Located<'s>, String> {
    let rest = topic
        .strip_prefix(base)
        .filter(|rest| rest.starts_with('/'))
        .ok_or_else(|| {
            format!("hub.topic must be a feed URL of this instance, beginning with {base}/.")
        })?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    match FeedRoute::of_path(path, &state.topics) {
        None => Err(
            "hub.topic is not a feed of this instance: give the URL of a feed (/feed.rss, /feed.atom, /feed.json, /feed, /digest.*, /topics/<name>.*, /huggingface/daily-papers...) as a reader fetches it."
                .to_owned(),
        ),
        Some(Err(problem)) => Err(format!("hub.topic: {}", problem.detail)),
        Some(Ok(route)) => Ok(Located { route, path, query }),
    }
}

/// A 400 naming `hub.topic` unless `topic` is a feed of this instance with a valid query:
/// planned as a GET of it would be (run it backstage).
pub async fn check_topic(
    state: &web::Data<AppState>,
    topic: &str,
    base: &Arc<str>,
) -> Result<(), Problem> {
    let located = locate(state, topic, base).map_err(|e| Problem::bad_parameter("hub.topic", e))?;
    if located.query.len() > state.settings.server.max_query {
        return Err(Problem::bad_parameter(
            "hub.topic",
            format!(
                "The query of hub.topic is longer than {} bytes (server.max_query): a reader could not fetch it.",
                state.settings.server.max_query
            ),
        ));
    }
    let today = state.clock.today();
    match plan_for(state, located.route, located.query, today, base.clone()).await {
        Err(problem) if problem.status == 400 => Err(Problem::bad_parameter(
            "hub.topic",
            format!("The query of hub.topic is not valid: {}", problem.detail),
        )),
        _ => Ok(()),
    }
}
