//! Rendered feeds, kept so that a feed is rendered once per distinct query and data version,
//! and compressed once per encoding, not once per request.
//!
//! The key is the route, the query in canonical form (parameter order and spelled-out
//! defaults do not matter), the format and a version of the daily lists the feed was built
//! from, so an entry can never outlive the data it shows.
//!
//! The contract puts the query *as received* into each feed's self link, so two
//! canonical-equal URLs (`?a=1&b=2`, `?b=2&a=1`) need bodies that differ in that link alone.
//! An entry therefore holds the feed rendered once with a placeholder for the self link, and
//! one [`Encoded`] variant per self link seen, spliced from that template without rendering
//! again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use actix_web::http::header::ContentEncoding;
use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use moka::future::Cache;

use crate::feed::Format;
use crate::http::conditional::Validators;
use crate::query::params::FeedQuery;

/// How many self-link variants one entry keeps; more are rare (the same query written in
/// several orders) and are spliced again when asked for.
const MAX_VARIANTS: usize = 4;
/// brotli quality for bodies compressed once per data version: fast enough for a miss, much
/// smaller than gzip.
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;

/// What a rendered feed is filed under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenderKey {
    /// The route (`/feed`, `/topics/agents`): not the format extension.
    pub route: String,
    /// The feed title, which also depends on how a request narrowed a topic.
    pub title: String,
    /// The query in canonical form ([`FeedQuery::canonical`]).
    pub query: FeedQuery,
    pub format: Format,
    /// A hash of the dates and contents of the daily lists used.
    pub data_version: u64,
}

/// One body of a feed, with its validators and its compressed forms, each made once.
#[derive(Debug)]
pub struct Encoded {
    pub identity: Bytes,
    /// gzip level: fast for a body answered once, thorough for one kept and sent many times.
    level: flate2::Compression,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    pub validators: Validators,
}

impl Encoded {
    fn new(identity: Vec<u8>, last_modified: DateTime<Utc>, level: flate2::Compression) -> Self {
        let validators = Validators::for_body(&identity, last_modified);
        Self {
            identity: Bytes::from(identity),
            level,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            validators,
        }
    }

    /// The body in `encoding` (identity, gzip or brotli), compressed on first use.
    pub fn body(&self, encoding: ContentEncoding) -> Bytes {
        match encoding {
            ContentEncoding::Gzip => self
                .gzip
                .get_or_init(|| gzip(&self.identity, self.level))
                .clone(),
            ContentEncoding::Brotli => self.brotli.get_or_init(|| brotli(&self.identity)).clone(),
            _ => self.identity.clone(),
        }
    }
}

fn gzip(body: &[u8], level: flate2::Compression) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 5);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        lgwin: BROTLI_WINDOW as i32,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    Bytes::from(out)
}

/// A feed rendered once with a placeholder self link, and its spliced variants.
#[derive(Debug)]
pub struct RenderedFeed {
    /// The body split at each occurrence of the placeholder.
    parts: Vec<Bytes>,
    format: Format,
    last_modified: DateTime<Utc>,
    variants: Vec<(Box<str>, Arc<Encoded>)>,
}

impl RenderedFeed {
    /// Splits `body`, rendered with `placeholder` as its self link.
    pub fn from_template(
        body: Vec<u8>,
        placeholder: &str,
        format: Format,
        last_modified: DateTime<Utc>,
    ) -> Self {
        let body = Bytes::from(body);
        let mut parts = Vec::new();
        let mut rest = 0;
        let needle = placeholder.as_bytes();
        let mut i = 0;
        while i + needle.len() <= body.len() {
            if &body[i..i + needle.len()] == needle {
                parts.push(body.slice(rest..i));
                i += needle.len();
                rest = i;
            } else {
                i += 1;
            }
        }
        parts.push(body.slice(rest..));
        Self {
            parts,
            format,
            last_modified,
            variants: Vec::new(),
        }
    }

    /// The body for `self_url`, if it was spliced before.
    pub fn variant(&self, self_url: &str) -> Option<Arc<Encoded>> {
        self.variants
            .iter()
            .find(|(url, _)| &**url == self_url)
            .map(|(_, encoded)| encoded.clone())
    }

    /// The body for `self_url`, for a feed answered once and not kept: spliced and hashed, and
    /// compressed fast if at all.
    pub fn one_off(&self, self_url: &str) -> Arc<Encoded> {
        Arc::new(Encoded::new(
            self.splice(self_url),
            self.last_modified,
            flate2::Compression::fast(),
        ))
    }

    /// The template with `self_url`, escaped for the format, in each slot.
    fn splice(&self, self_url: &str) -> Vec<u8> {
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

    /// A copy of this entry with the variant for `self_url` added (the oldest dropped beyond
    /// [`MAX_VARIANTS`]), and that variant.
    pub fn with_variant(&self, self_url: &str) -> (RenderedFeed, Arc<Encoded>) {
        let encoded = Arc::new(Encoded::new(
            self.splice(self_url),
            self.last_modified,
            flate2::Compression::default(),
        ));
        let mut variants: Vec<(Box<str>, Arc<Encoded>)> = self
            .variants
            .iter()
            .skip((self.variants.len() + 1).saturating_sub(MAX_VARIANTS))
            .cloned()
            .collect();
        variants.push((self_url.into(), encoded.clone()));
        let entry = RenderedFeed {
            parts: self.parts.clone(),
            format: self.format,
            last_modified: self.last_modified,
            variants,
        };
        (entry, encoded)
    }

    /// Bytes this entry holds, counting each variant with room for its compressed forms
    /// (about half the identity size between gzip and brotli).
    fn weight(&self) -> u32 {
        let template: usize = self.parts.iter().map(Bytes::len).sum();
        let variants: usize = self
            .variants
            .iter()
            .map(|(url, e)| url.len() + e.identity.len() * 3 / 2)
            .sum();
        u32::try_from(template + variants + 256).unwrap_or(u32::MAX)
    }
}

/// Slots of the table of keys asked for once (8 bytes each).
const SEEN_SLOTS: usize = 1 << 16;
/// How many request URLs the fast path remembers.
const MAX_RESOLVED: u64 = 10_000;

/// What a request URL resolved to last time, and until when that answer holds: the fast path
/// for readers polling the same URL, which skips parsing, the store and the key.
#[derive(Debug)]
pub struct Resolved {
    pub format: Format,
    /// Weak, so that this map never keeps alive a body the byte-bounded cache let go.
    encoded: Weak<Encoded>,
    /// The store's generation when the lists were read.
    generation: u64,
    /// The day "today" was: a URL without `date` means another window tomorrow.
    today: NaiveDate,
    /// The earliest moment a list used goes stale (and must be refreshed by a request).
    fresh_until: DateTime<Utc>,
}

impl Resolved {
    pub fn new(
        format: Format,
        encoded: &Arc<Encoded>,
        generation: u64,
        today: NaiveDate,
        fresh_until: DateTime<Utc>,
    ) -> Self {
        Self {
            format,
            encoded: Arc::downgrade(encoded),
            generation,
            today,
            fresh_until,
        }
    }
}

/// The cache of rendered feeds, bounded by bytes.
#[derive(Debug)]
pub struct RenderCache {
    entries: Cache<RenderKey, Arc<RenderedFeed>>,
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
    pub fn new(capacity_bytes: u64) -> Self {
        let entries = Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|_: &RenderKey, feed: &Arc<RenderedFeed>| feed.weight())
            .build();
        // Unguessable, so that no upstream or query text can stand in for the self link.
        let placeholder = format!("urn:paperboy:self:{:032x}", rand::random::<u128>());
        Self {
            entries,
            resolved: moka::sync::Cache::new(MAX_RESOLVED),
            seen: (0..SEEN_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            placeholder,
            renders: AtomicU64::new(0),
        }
    }

    /// The body `url` resolved to, while nothing it was derived from has changed: the store's
    /// `generation`, the day, and the freshness of the lists.
    pub fn resolved(
        &self,
        url: &str,
        generation: u64,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Option<(Format, Arc<Encoded>)> {
        let hit = self.resolved.get(url)?;
        if hit.generation != generation || hit.today != today || now >= hit.fresh_until {
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

    /// The entry for `key`, rendered by `render` when missing (concurrent misses of one key
    /// render once).
    pub async fn get_or_render<E>(
        &self,
        key: &RenderKey,
        render: impl Future<Output = Result<RenderedFeed, E>>,
    ) -> Result<Arc<RenderedFeed>, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        self.entries
            .try_get_with_by_ref(key, async {
                self.renders.fetch_add(1, Ordering::Relaxed);
                render.await.map(Arc::new)
            })
            .await
    }

    /// Whether a feed for `key` should be kept: true when it was asked for before (or is being
    /// rendered right now for another request); the first sight only marks it.
    pub fn admit(&self, key: &RenderKey) -> bool {
        use std::hash::{Hash, Hasher};
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        key.hash(&mut hasher);
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

    /// The entry for `key`, if cached.
    pub async fn get(&self, key: &RenderKey) -> Option<Arc<RenderedFeed>> {
        self.entries.get(key).await
    }

    /// The body for `self_url` from `entry`, splicing (and storing) it when new.
    pub async fn variant(
        &self,
        key: &RenderKey,
        entry: &RenderedFeed,
        self_url: &str,
    ) -> Arc<Encoded> {
        if let Some(encoded) = entry.variant(self_url) {
            return encoded;
        }
        let (updated, encoded) = entry.with_variant(self_url);
        self.entries.insert(key.clone(), Arc::new(updated)).await;
        encoded
    }

    /// Entries held (eventually consistent).
    pub fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }

    /// Applies pending inserts and evictions (for exact counts in tests).
    pub async fn sync(&self) {
        self.entries.run_pending_tasks().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
    }

    #[test]
    fn variants_splice_the_self_link_escaped_for_the_format() {
        let template = b"<a href=\"P\">x</a><id>P</id>".to_vec();
        let feed = RenderedFeed::from_template(template, "P", Format::Atom, date());
        let (feed, encoded) = feed.with_variant("http://h/feed.atom?a=1&b=2");
        assert_eq!(
            &encoded.identity[..],
            b"<a href=\"http://h/feed.atom?a=1&amp;b=2\">x</a><id>http://h/feed.atom?a=1&amp;b=2</id>"
        );
        assert!(feed.variant("http://h/feed.atom?a=1&b=2").is_some());
        assert!(feed.variant("http://h/feed.atom?b=2&a=1").is_none());

        let json = RenderedFeed::from_template(
            b"{\"feed_url\":\"P\"}".to_vec(),
            "P",
            Format::Json,
            date(),
        );
        let (_, encoded) = json.with_variant("http://h/feed.json?q=\"x\"");
        assert_eq!(
            &encoded.identity[..],
            b"{\"feed_url\":\"http://h/feed.json?q=\\\"x\\\"\"}"
        );
    }

    #[test]
    fn variants_are_bounded_and_keep_the_newest() {
        let mut feed = RenderedFeed::from_template(b"P".to_vec(), "P", Format::Rss, date());
        for i in 0..10 {
            feed = feed.with_variant(&format!("u{i}")).0;
        }
        assert_eq!(feed.variants.len(), MAX_VARIANTS);
        assert!(feed.variant("u9").is_some());
        assert!(feed.variant("u0").is_none());
    }

    #[test]
    fn compressed_bodies_decode_to_the_identity_body() {
        use std::io::Read;
        let body: Vec<u8> = b"<feed>hello hello hello</feed>".repeat(50);
        let encoded = Encoded::new(body.clone(), date(), flate2::Compression::default());
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
}
