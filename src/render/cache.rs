//! Rendered feeds, kept so that a feed is rendered once per distinct query and data version,
//! and compressed once per encoding, not once per request.
//!
//! The key is the route, the query in canonical form (parameter order and spelled-out
//! defaults do not matter), the format and a version of the daily lists the feed was built
//! from, so an entry can never outlive the data it shows.
//!
//! The contract puts the query *as received* into each feed's self link, so two
//! canonical-equal URLs (`?a=1&b=2`, `?b=2&a=1`) need bodies that differ in that link alone.
//! The cache therefore holds templates (a feed rendered once with a placeholder for the self
//! link) and bodies (one per key and self link, spliced from the template without rendering
//! again, in every encoding). Both are weighed in bytes against one budget, and concurrent
//! misses of one template or one body build it once.
//!
//! Admission: a template is kept from its key's second request on, a body from its URL's
//! second request on, so that a stream of one-off queries (or one query written in ever new
//! parameter orders) cannot push out the feeds readers poll; what is not kept is answered
//! once, gzipped fast, and dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use moka::future::Cache;

use crate::common::format::Format;
use crate::query::params::FeedQuery;
use crate::render::parts::Stitch;
use crate::telemetry::memory::{ALLOCATION_BYTES, Budget, arc_bytes, entry_weight};

mod encoded;

use encoded::exact;
pub use encoded::{Encoded, link_header};

/// What a rendered feed is filed under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenderKey {
    /// The base of the feed's links (`server.public_url`, or the request's host).
    pub base: Arc<str>,
    /// The route (`/feed`, `/topics/agents`): not the format extension.
    pub route: String,
    /// The feed title, which also depends on how a request narrowed a topic.
    pub title: String,
    /// The query in canonical form ([`FeedQuery::canonical`]).
    pub query: FeedQuery,
    pub format: Format,
    /// The query in a digest's item ids (empty for other feeds).
    pub id_query: String,
    /// A hash of the dates and contents of the daily lists used.
    pub data_version: u64,
}

/// A feed rendered once with a placeholder self link.
#[derive(Debug)]
pub struct RenderedFeed {
    /// The body split at each occurrence of the placeholder.
    parts: Vec<Bytes>,
    /// What a one-off gzip body is stitched from, for a feed of papers.
    stitch: Option<Stitch>,
    format: Format,
    last_modified: DateTime<Utc>,
    /// The hub the feed names, for the `Link` header of its bodies.
    hub: Option<Arc<str>>,
}

impl RenderedFeed {
    /// Splits `body`, rendered with `placeholder` as its self link.
    pub fn from_template(
        body: Vec<u8>,
        placeholder: &str,
        format: Format,
        last_modified: DateTime<Utc>,
    ) -> Self {
        let body = exact(body);
        let mut parts = Vec::new();
        let mut rest = 0;
        for at in memchr::memmem::find_iter(&body, placeholder.as_bytes()) {
            parts.push(body.slice(rest..at));
            rest = at + placeholder.len();
        }
        parts.push(body.slice(rest..));
        Self {
            parts,
            stitch: None,
            format,
            last_modified,
            hub: None,
        }
    }

    /// Naming `hub` in the `Link` header of its bodies.
    pub fn with_hub(mut self, hub: Option<String>) -> Self {
        self.hub = hub.map(Arc::from);
        self
    }

    /// The `Link` header of the body at `self_url`.
    pub fn link(&self, self_url: &str) -> Option<HeaderValue> {
        encoded::link_header(self.hub.as_deref(), self_url)
    }

    /// With the items its one-off gzip bodies are stitched from.
    pub fn with_stitch(mut self, stitch: Option<Stitch>) -> Self {
        self.stitch = stitch;
        self
    }

    /// The body for `self_url`, for a feed answered once and not kept: spliced and hashed, and
    /// compressed fast if at all.
    pub fn one_off(&self, self_url: &str) -> Arc<Encoded> {
        Arc::new(
            Encoded::one_off(
                self.splice(self_url),
                self.last_modified,
                self.stitch.clone(),
            )
            .with_link(self.link(self_url)),
        )
    }

    /// The template with `self_url`, escaped for the format, in each slot.
    pub fn splice(&self, self_url: &str) -> Vec<u8> {
        let escaped = match self.format {
            Format::Json => {
                let quoted = serde_json::to_string(self_url).unwrap_or_else(|_| "\"\"".into());
                quoted[1..quoted.len() - 1].to_owned()
            }
            Format::Rss | Format::Atom => {
                html_escape::encode_double_quoted_attribute(self_url).into_owned()
            }
        };
        let length = self.parts.iter().map(Bytes::len).sum::<usize>()
            + escaped.len() * self.parts.len().saturating_sub(1);
        let mut body = Vec::with_capacity(length);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(escaped.as_bytes());
            }
            body.extend_from_slice(part);
        }
        body
    }

    /// The body for `self_url`, to be kept: spliced, hashed, and compressed in every
    /// encoding. CPU work: run it as a build.
    pub fn kept(&self, self_url: &str) -> Arc<Encoded> {
        Arc::new(
            Encoded::kept(self.splice(self_url), self.last_modified).with_link(self.link(self_url)),
        )
    }

    /// Bytes the template holds: its parts, and the compressed items its one-off gzip bodies
    /// are stitched from (shared with the papers while their lists are kept, but held by the
    /// template after they are let go).
    fn weight(&self) -> usize {
        let template: usize = self.parts.iter().map(Bytes::len).sum::<usize>()
            + self.parts.capacity() * std::mem::size_of::<Bytes>()
            + arc_bytes::<RenderedFeed>();
        let stitch: usize = self.stitch.as_ref().map_or(0, |s| {
            s.items
                .iter()
                .map(|i| i.compressed().len() + 64)
                .sum::<usize>()
        });
        template + stitch
    }
}

/// What a kept body is filed under: its feed's key and its self link.
type BodyKey = (RenderKey, Box<str>);

/// Slots of the table of keys asked for once (8 bytes each).
pub const SEEN_SLOTS: usize = 1 << 16;

/// What a request URL resolved to last time, and until when that answer holds: the fast path
/// for readers polling the same URL, which skips parsing, the store and the key.
#[derive(Debug)]
pub struct Resolved {
    pub format: Format,
    /// Weak, so that this map never keeps alive a body the byte-bounded cache let go.
    encoded: Weak<Encoded>,
    /// The dates the answer was derived from, oldest and newest.
    dates: (NaiveDate, NaiveDate),
    /// Their version ([`crate::data::store::Store::window_version`]) when the lists were read.
    version: u64,
    /// The day "today" was: a URL without `date` means another window tomorrow.
    today: NaiveDate,
    /// The earliest moment a list used goes stale (and must be refreshed by a request).
    fresh_until: DateTime<Utc>,
}

impl Resolved {
    pub fn new(
        format: Format,
        encoded: &Arc<Encoded>,
        (dates, version): ((NaiveDate, NaiveDate), u64),
        today: NaiveDate,
        fresh_until: DateTime<Utc>,
    ) -> Self {
        Self {
            format,
            encoded: Arc::downgrade(encoded),
            dates,
            version,
            today,
            fresh_until,
        }
    }
}

/// The cache of rendered feeds, bounded by bytes.
#[derive(Debug)]
pub struct RenderCache {
    templates: Cache<RenderKey, Arc<RenderedFeed>>,
    bodies: Cache<BodyKey, Arc<Encoded>>,
    /// Request URL (path and query as received) to what it resolved to.
    resolved: moka::sync::Cache<String, Arc<Resolved>>,
    /// Keys asked for once: a feed is kept from its second request on, so that a stream of
    /// one-off queries cannot push out the feeds readers poll.
    /// A fixed table of key hashes (a slot per hash, newer overwriting older): no allocation
    /// per request, so a stream of one-off queries leaves nothing behind. A collision admits a
    /// feed one request early, or late, no more.
    seen: Box<[AtomicU64]>,
    placeholder: String,
    renders: AtomicU64,
}

impl RenderCache {
    /// A cache holding at most the budget's templates, bodies (in every encoding) and fast
    /// path bytes.
    pub fn new(budget: &Budget) -> Self {
        let templates = Cache::builder()
            .max_capacity(budget.templates)
            .weigher(|key: &RenderKey, feed: &Arc<RenderedFeed>| {
                entry_weight(feed.weight() + key_weight(key))
            })
            .build();
        let bodies = Cache::builder()
            .max_capacity(budget.bodies)
            .weigher(|(key, url): &BodyKey, body: &Arc<Encoded>| {
                let url = url.len() + ALLOCATION_BYTES;
                entry_weight(body.weight() + arc_bytes::<Encoded>() + url + key_weight(key))
            })
            .build();
        let resolved = moka::sync::Cache::builder()
            .max_capacity(budget.fast_path)
            .weigher(|url: &String, _: &Arc<Resolved>| {
                // The URL, the shared resolution, and the body's own allocation, which its
                // weak reference holds after the body is let go.
                let url = url.len() + ALLOCATION_BYTES;
                entry_weight(url + arc_bytes::<Resolved>() + arc_bytes::<Encoded>())
            })
            .build();
        // Unguessable, so that no upstream or query text can stand in for the self link.
        let placeholder = format!("urn:paperboy:self:{:032x}", rand::random::<u128>());
        Self {
            templates,
            bodies,
            resolved,
            seen: (0..SEEN_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            placeholder,
            renders: AtomicU64::new(0),
        }
    }

    /// The body `url` resolved to, while nothing it was derived from has changed: the
    /// version of its dates (`version_of(oldest, newest)`), the day, and the freshness of
    /// the lists.
    pub fn resolved(
        &self,
        url: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
        version_of: impl FnOnce(NaiveDate, NaiveDate) -> u64,
    ) -> Option<(Format, Arc<Encoded>)> {
        let hit = self.resolved.get(url)?;
        if hit.today != today
            || now >= hit.fresh_until
            || version_of(hit.dates.0, hit.dates.1) != hit.version
        {
            return None;
        }
        Some((hit.format, hit.encoded.upgrade()?))
    }

    /// Remembers what `url` resolved to.
    pub fn remember(&self, url: String, resolved: Resolved) {
        self.resolved.insert(url, Arc::new(resolved));
    }

    /// The self link to render templates with.
    pub fn placeholder(&self) -> &str {
        &self.placeholder
    }

    /// The template for `key`, rendered by `render` when missing (concurrent misses of one
    /// key render once).
    pub async fn get_or_render<E>(
        &self,
        key: &RenderKey,
        render: impl Future<Output = Result<RenderedFeed, E>>,
    ) -> Result<Arc<RenderedFeed>, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        get_or_make(&self.templates, key, async {
            self.renders.fetch_add(1, Ordering::Relaxed);
            render.await.map(Arc::new)
        })
        .await
    }

    /// The kept body of `key` for `self_url`, made by `splice` when missing (concurrent
    /// misses of one body make it once).
    pub async fn get_or_splice<E>(
        &self,
        key: &RenderKey,
        self_url: &str,
        splice: impl Future<Output = Result<Arc<Encoded>, E>>,
    ) -> Result<Arc<Encoded>, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        get_or_make(&self.bodies, &(key.clone(), self_url.into()), splice).await
    }

    /// The kept body of `key` for `self_url`, if there is one.
    pub async fn body(&self, key: &RenderKey, self_url: &str) -> Option<Arc<Encoded>> {
        self.bodies.get(&(key.clone(), self_url.into())).await
    }

    /// Whether the template of `key` should be kept: true when it was asked for before (or
    /// is being rendered right now for another request); the first sight only marks it.
    pub fn admit(&self, key: &RenderKey) -> bool {
        self.seen_before(key)
    }

    /// Whether the body of `key` for `self_url` should be kept: true from the URL's second
    /// request on.
    pub fn admit_body(&self, key: &RenderKey, self_url: &str) -> bool {
        self.seen_before(&(key, self_url))
    }

    fn seen_before(&self, what: &impl std::hash::Hash) -> bool {
        use std::hash::Hasher;
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        what.hash(&mut hasher);
        // 0 marks an empty slot.
        let hash = hasher.finish().max(1);
        let slot = &self.seen[(hash as usize) % SEEN_SLOTS];
        slot.swap(hash, Ordering::Relaxed) == hash
    }

    /// Counts a render done outside [`RenderCache::get_or_render`].
    pub fn count_render(&self) {
        self.renders.fetch_add(1, Ordering::Relaxed);
    }

    /// How many feeds were rendered since start-up.
    pub fn render_count(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// The template for `key`, if cached.
    pub async fn get(&self, key: &RenderKey) -> Option<Arc<RenderedFeed>> {
        self.templates.get(key).await
    }

    /// Bytes held by templates, bodies and the fast path's URLs (eventually consistent).
    pub fn weighted_size(&self) -> u64 {
        let (feeds, fast_path) = self.memory();
        feeds + fast_path
    }

    /// Bytes held by feeds (templates and bodies) and by the fast path's URLs, and the
    /// table of keys seen once.
    pub fn memory(&self) -> (u64, u64) {
        (
            self.templates.weighted_size() + self.bodies.weighted_size(),
            self.resolved.weighted_size(),
        )
    }

    /// Templates held (eventually consistent).
    pub fn entry_count(&self) -> u64 {
        self.templates.entry_count()
    }

    /// Applies pending inserts and evictions: what is over the budget is let go (run by
    /// `AppState::upkeep` every second, and by tests for exact counts).
    pub async fn run_pending_tasks(&self) {
        self.templates.run_pending_tasks().await;
        self.bodies.run_pending_tasks().await;
        self.resolved.run_pending_tasks();
    }
}

/// Bytes a key holds: its struct, and the texts of its query and title.
fn key_weight(key: &RenderKey) -> usize {
    let q: usize = key.query.q.iter().map(|(text, _)| text.len() * 2).sum();
    let names: usize = [&key.query.authors, &key.query.orgs]
        .iter()
        .flat_map(|groups| groups.iter().flatten())
        .map(|name| name.text.len() * 2)
        .sum();
    // A compiled pattern is not weighed by its text: it may hold up to its size limits.
    let patterns = key.query.patterns.len() * crate::query::pattern::MAX_COMPILED_BYTES;
    key.base.len()
        + key.route.len()
        + key.title.len()
        + key.id_query.len()
        + q
        + names
        + patterns
        + arc_bytes::<RenderKey>()
}

/// The value of `cache` for `key`, made by `make` when missing (concurrent misses of one key
/// make it once). The call that made it runs the cache's pending work at once: moka applies
/// inserts and evictions in batches, and without this a flood of new feeds holds templates and
/// bodies beyond their budget until the batch runs (about 3 MiB at the peak of a sweep over
/// stored dates, measured).
async fn get_or_make<K, V, E>(
    cache: &Cache<K, V>,
    key: &K,
    make: impl Future<Output = Result<V, E>>,
) -> Result<V, Arc<E>>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    let mut made = false;
    let value = cache
        .try_get_with_by_ref(key, async {
            made = true;
            make.await
        })
        .await;
    if made {
        cache.run_pending_tasks().await;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::memory::CACHE_ENTRY_BYTES;
    use actix_web::http::header::ContentEncoding;

    fn date() -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
    }

    #[test]
    fn bodies_splice_the_self_link_escaped_for_the_format() {
        let template = b"<a href=\"P\">x</a><id>P</id>".to_vec();
        let feed = RenderedFeed::from_template(template, "P", Format::Atom, date());
        let encoded = feed.kept("http://h/feed.atom?a=1&b=2");
        assert_eq!(
            &encoded.identity()[..],
            b"<a href=\"http://h/feed.atom?a=1&amp;b=2\">x</a><id>http://h/feed.atom?a=1&amp;b=2</id>"
        );
        assert_eq!(
            feed.one_off("http://h/feed.atom?a=1&b=2").identity(),
            encoded.identity(),
            "kept and one-off bodies are the same bytes"
        );

        let json = RenderedFeed::from_template(
            b"{\"feed_url\":\"P\"}".to_vec(),
            "P",
            Format::Json,
            date(),
        );
        let encoded = json.kept("http://h/feed.json?q=\"x\"");
        assert_eq!(
            &encoded.identity()[..],
            b"{\"feed_url\":\"http://h/feed.json?q=\\\"x\\\"\"}"
        );
    }

    #[test]
    fn compressed_bodies_decode_to_the_identity_body() {
        use std::io::Read;
        let body: Vec<u8> = b"<feed>hello hello hello</feed>".repeat(50);
        let encoded = Encoded::kept(body.clone(), date());
        assert!(encoded.ready(ContentEncoding::Brotli) && encoded.ready(ContentEncoding::Gzip));
        assert!(encoded.weight() > body.len());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&encoded.body(ContentEncoding::Gzip)[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::Decompressor::new(&encoded.body(ContentEncoding::Brotli)[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert_eq!(encoded.body(ContentEncoding::Identity), body);
    }

    #[test]
    fn a_fast_path_entry_weighs_its_body_s_allocation_and_the_cache_s_bookkeeping() {
        let cache = RenderCache::new(&Budget::split(32 << 20));
        let encoded = Arc::new(Encoded::one_off(b"<feed/>".to_vec(), date(), None));
        let day = NaiveDate::MIN;
        let url = "/feed.atom?date=2026-08-03&days=1".to_owned();
        let resolved = Resolved::new(Format::Atom, &encoded, ((day, day), 1), day, date());
        cache.remember(url.clone(), resolved);
        cache.resolved.run_pending_tasks();
        // The weak reference keeps the body's allocation after the body is let go.
        drop(encoded);
        let (_, fast_path) = cache.memory();
        let at_least =
            url.len() + arc_bytes::<Resolved>() + arc_bytes::<Encoded>() + CACHE_ENTRY_BYTES;
        assert!(
            fast_path >= at_least as u64,
            "{fast_path} bytes weighed, {at_least} held"
        );
    }

    #[tokio::test]
    async fn a_kept_template_and_body_weigh_their_structures_and_the_cache_s_bookkeeping() {
        let cache = RenderCache::new(&Budget::split(32 << 20));
        let key = RenderKey {
            base: Arc::from("http://h"),
            route: "/feed".to_owned(),
            title: "Daily Papers".to_owned(),
            query: FeedQuery::default(),
            format: Format::Atom,
            id_query: String::new(),
            data_version: 1,
        };
        let template = b"<feed><id>P</id></feed>".to_vec();
        let template_bytes = template.len();
        let feed = cache
            .get_or_render(&key, async {
                Ok::<_, ()>(RenderedFeed::from_template(
                    template,
                    "P",
                    Format::Atom,
                    date(),
                ))
            })
            .await
            .unwrap();
        let url = "http://h/feed.atom";
        let body = cache
            .get_or_splice(&key, url, async { Ok::<_, ()>(feed.kept(url)) })
            .await
            .unwrap();
        let (feeds, _) = cache.memory();
        let at_least = template_bytes
            + arc_bytes::<RenderedFeed>()
            + body.weight()
            + arc_bytes::<Encoded>()
            + url.len()
            + 2 * (arc_bytes::<RenderKey>() + CACHE_ENTRY_BYTES);
        assert!(
            feeds >= at_least as u64,
            "{feeds} bytes weighed, {at_least} held"
        );
    }

    #[test]
    fn one_off_bodies_are_gzipped_on_demand_and_never_brotli() {
        let body: Vec<u8> = b"<feed>hello</feed>".repeat(20);
        let encoded = Encoded::one_off(body.clone(), date(), None);
        assert!(!encoded.offers_brotli());
        assert!(!encoded.ready(ContentEncoding::Gzip));
        assert_eq!(encoded.body(ContentEncoding::Brotli), body);
        assert!(encoded.body(ContentEncoding::Gzip).len() < body.len());
        assert!(encoded.ready(ContentEncoding::Gzip));
    }
}
