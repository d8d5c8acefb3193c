//! The feed routes: `/feed.rss`, `/feed.atom`, `/feed.json` and `/feed?format=`.
//!
//! One path for a request, [`serve_feed`], which the topic feeds share: a cache lookup, then
//! on a miss parse the query, take the window's daily lists from the store, and select, render
//! and compress in the build pool, then answer with validators (or 304).

use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, Header, HeaderValue,
};
use actix_web::{HttpRequest, HttpResponse, web};

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDate, Utc};

use crate::daily_list::DailyList;
use crate::feed::{self, FeedMeta, Format};
use crate::feed_settings::FeedSettings;
use crate::http::conditional::Validators;
use crate::http::problem::Problem;
use crate::paper::Paper;
use crate::query::params::{FeedQuery, ParamError, ParseContext, QueryKind};
use crate::query::period::Period;
use crate::query::select::{Scan, select, select_periods, select_with};
use crate::render_cache::{Encoded, RenderKey, RenderedFeed, Resolved};
use crate::routes::rsshub::Cycle;
use crate::routes::{backstage, build, get_or_head};
use crate::state::AppState;
use crate::store::Window;
use crate::topics::Topic;

/// Seconds a client is asked to wait when nothing could be served and upstream said nothing.
const DEFAULT_RETRY_AFTER_SECS: i64 = 30;

pub fn config(cfg: &mut web::ServiceConfig) {
    for (path, format) in [
        ("/feed.rss", Some(Format::Rss)),
        ("/feed.atom", Some(Format::Atom)),
        ("/feed.json", Some(Format::Json)),
        ("/feed", None),
    ] {
        cfg.service(
            web::resource(path)
                .route(web::route().guard(get_or_head()).to(
                    move |req: HttpRequest, state: web::Data<AppState>| async move {
                        serve_feed(&req, &state, FeedRoute::papers(format, None)).await
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
    }
    for format in Format::ALL {
        cfg.service(
            web::resource(format!("/digest.{}", format.name()))
                .route(web::route().guard(get_or_head()).to(
                    move |req: HttpRequest, state: web::Data<AppState>| async move {
                        serve_feed(&req, &state, FeedRoute::digest(format, None)).await
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
    }
}

/// What a feed route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One item per paper: `/feed*`, `/topics/{name}.*`.
    Papers,
    /// One item per period: `/digest.*`, `/topics/{name}/digest.*`.
    Digest,
    /// `/huggingface/daily-papers[/{cycle}[/{votes}]]`: the path's days and minimum upvotes.
    RssHub { cycle: Cycle, votes: Option<u64> },
}

/// A feed route: what it serves, in which format, for which topic.
#[derive(Debug, Clone, Copy)]
pub struct FeedRoute<'a> {
    pub scope: Scope,
    /// The format the path names; `None` where `format=` says it (default RSS).
    pub format: Option<Format>,
    pub topic: Option<&'a Topic>,
}

impl<'a> FeedRoute<'a> {
    pub fn papers(format: Option<Format>, topic: Option<&'a Topic>) -> Self {
        Self {
            scope: Scope::Papers,
            format,
            topic,
        }
    }

    pub fn digest(format: Format, topic: Option<&'a Topic>) -> Self {
        Self {
            scope: Scope::Digest,
            format: Some(format),
            topic,
        }
    }

    fn kind(&self) -> QueryKind {
        match self.scope {
            Scope::Papers => QueryKind::Feed,
            Scope::Digest => QueryKind::Digest,
            Scope::RssHub { .. } => QueryKind::RssHub,
        }
    }

    /// The render key's route: the path without its format.
    fn name(&self) -> String {
        let topic = self.topic.map(|t| format!("/topics/{}", t.name));
        match (self.scope, topic) {
            (Scope::Papers, Some(topic)) => topic,
            (Scope::Papers, None) => "/feed".to_owned(),
            (Scope::Digest, Some(topic)) => format!("{topic}/digest"),
            (Scope::Digest, None) => "/digest".to_owned(),
            (Scope::RssHub { .. }, _) => "/huggingface/daily-papers".to_owned(),
        }
    }
}

impl From<ParamError> for Problem {
    fn from(e: ParamError) -> Self {
        Problem::bad_parameter(e.parameter, e.detail)
    }
}

/// Answers one feed request: `path_format` is the format the path names (`None` for
/// `/feed`, where `format=` may say it), `topic` the topic the request narrows, if any.
///
/// Three steps: a cache lookup (a URL polled before, or a feed rendered before for a
/// canonical-equal query), then, only on a miss, a build in the bounded build pool
/// ([`crate::builds`]), then the answer with validators (or 304) in the negotiated encoding.
pub async fn serve_feed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    route: FeedRoute<'_>,
) -> Result<HttpResponse, Problem> {
    let now = state.clock.now();
    let today = now.date_naive();
    let base = state.bases.for_request(req);
    let url = request_url(&base, req);
    let store = &state.store;
    if let Some((format, encoded)) = state.renders.resolved(&url, today, now, |oldest, newest| {
        store.window_version(oldest, newest)
    }) {
        if let Some(response) = answer_ready(req, state, &encoded, format) {
            return Ok(response);
        }
        return Box::pin(compress_and_answer(req, state, &encoded, format)).await;
    }
    // Boxed: the hot path above then stays a small future, which actix moves into a box of
    // its own on every request (copying the whole of a large one was 3 % of a 304's CPU).
    Box::pin(serve_unresolved(req, state, route, (base, url), now)).await
}

/// [`serve_feed`] for a request the fast path did not answer: the miss is handed backstage
/// (plan, read, build, below the workers' priority), and the worker answers with what comes
/// back.
async fn serve_unresolved(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    route: FeedRoute<'_>,
    (base, url): (Arc<str>, String),
    now: DateTime<Utc>,
) -> Result<HttpResponse, Problem> {
    let miss = Miss {
        scope: route.scope,
        format: route.format,
        topic: route.topic.map(|t| t.name.clone()),
        query: req.query_string().to_owned(),
        self_url: self_url(&base, req),
        gzip: negotiate(req, false) == ContentEncoding::Gzip,
        base,
        url,
        now,
    };
    let (format, encoded) = backstage(state, |state| {
        Box::pin(async move { resolve(&state, miss).await })
    })
    .await?;
    answer(req, state, &encoded, format).await
}

/// A request the fast path did not answer, owned, to be resolved backstage.
struct Miss {
    scope: Scope,
    format: Option<Format>,
    topic: Option<String>,
    query: String,
    base: Arc<str>,
    /// The fast path's key.
    url: String,
    self_url: String,
    /// Whether the client takes gzip (a one-off body is written in it).
    gzip: bool,
    now: DateTime<Utc>,
}

/// The body of a missed request: from the render cache, or built, and remembered for the
/// fast path when it is kept.
async fn resolve(state: &AppState, miss: Miss) -> Result<(Format, Arc<Encoded>), Problem> {
    let route = FeedRoute {
        scope: miss.scope,
        format: miss.format,
        topic: miss
            .topic
            .as_deref()
            .and_then(|name| state.topics.get(name)),
    };
    let (now, self_url, gzip) = (miss.now, miss.self_url, miss.gzip);
    let today = now.date_naive();
    let plan = plan_for(state, route, &miss.query, today, miss.base).await?;
    // Read before the lists: what is derived from them is current while it has not moved.
    let dates = plan.span(&state.settings.feeds);
    let version = state.store.window_version(dates.0, dates.1);
    let window = plan.read(state).await?;
    let (key, job) = plan.job(state, &window)?;
    let format = key.format;
    let renders = &state.renders;
    let template = match renders.get(&key).await {
        Some(template) => template,
        None if renders.admit(&key) => renders
            .get_or_render(
                &key,
                async move { build(state, move || job.render()).await },
            )
            .await
            .map_err(|e| (*e).clone())?,
        None => {
            // First sight of this feed: answer it, keep it only if it is asked for again
            // (template and body both: mark this URL's body as seen too).
            renders.admit_body(&key, &self_url);
            renders.count_render();
            let encoded = build(state, move || job.answer_once(&self_url, gzip)).await?;
            state.store.reweigh(&window.lists);
            return Ok((format, encoded));
        }
    };
    state.store.reweigh(&window.lists);
    let encoded = match renders.body(&key, &self_url).await {
        Some(encoded) => encoded,
        None if renders.admit_body(&key, &self_url) => {
            let splice = {
                let (template, self_url) = (template.clone(), self_url.clone());
                async move { build(state, move || Ok(template.kept(&self_url))).await }
            };
            renders
                .get_or_splice(&key, &self_url, splice)
                .await
                .map_err(|e| (*e).clone())?
        }
        None => {
            // A new way of writing a feed that is kept: spliced, answered once.
            let encoded = build(state, move || Ok(one_off(&template, &self_url, gzip))).await?;
            return Ok((format, encoded));
        }
    };
    if window.missing.is_empty() {
        let fresh_until = window
            .lists
            .iter()
            .map(|list| state.store.fresh_until(list))
            .min()
            .unwrap_or(now);
        let resolved = Resolved::new(format, &encoded, (dates, version), today, fresh_until);
        renders.remember(miss.url, resolved);
    }
    Ok((format, encoded))
}

/// What a request asks for, before any list is read: its render key (without the data
/// version, known once the lists are read) and a digest's periods.
pub struct Plan {
    key: RenderKey,
    periods: Vec<Period>,
    today: NaiveDate,
    /// Whether the days were chosen by looking at the lists (RSSHub's cycles).
    looks_back: bool,
}

impl Plan {
    /// The dates this feed reads, newest first (none before `feeds.earliest_date`).
    pub fn dates(&self, feeds: &FeedSettings) -> Vec<NaiveDate> {
        let (newest, days) = self.key.query.window(self.today, feeds);
        newest
            .iter_days()
            .rev()
            .take(days as usize)
            .take_while(|d| *d >= feeds.earliest_date)
            .collect()
    }

    /// The oldest and newest dates the feed depends on: its window (a digest's periods), and
    /// for RSSHub's cycles the week they look back over for the newest list with papers.
    pub fn span(&self, feeds: &FeedSettings) -> (NaiveDate, NaiveDate) {
        let (mut oldest, mut newest) = match (self.periods.first(), self.periods.last()) {
            (Some(newest), Some(oldest)) => (oldest.first(), newest.last()),
            _ => {
                let (newest, days) = self.key.query.window(self.today, feeds);
                let oldest = newest - chrono::Days::new(u64::from(days.max(1) - 1));
                (oldest, newest)
            }
        };
        if self.looks_back {
            oldest = oldest.min(self.today - chrono::Days::new(7));
            newest = newest.max(self.today);
        }
        (oldest, newest)
    }

    /// The format the feed is written in.
    pub fn format(&self) -> Format {
        self.key.format
    }

    /// The window of daily lists the feed covers (a digest's read one period at a time).
    async fn read(&self, state: &AppState) -> Result<Window, Problem> {
        if self.key.query.digest.is_some() {
            digest_window(state, &self.key.query, &self.periods).await
        } else {
            let (newest, days) = self.key.query.window(self.today, &state.settings.feeds);
            Ok(state.store.window(newest, days).await)
        }
    }

    /// The render key with the window's data version, and the job that renders the feed;
    /// a 503 when the window has no list and should have.
    fn job(self, state: &AppState, window: &Window) -> Result<(RenderKey, RenderJob), Problem> {
        let last_changed = match window.last_changed() {
            Some(at) => at,
            // Nothing to show, and nothing missing: an empty feed, dated the first Daily Papers.
            None if window.is_before_the_first_list() => state
                .settings
                .feeds
                .earliest_date
                .and_time(chrono::NaiveTime::MIN)
                .and_utc(),
            None => return Err(unavailable(window, state)),
        };
        let key = RenderKey {
            data_version: window.data_version(),
            ..self.key
        };
        let job = RenderJob {
            query: key.query.clone(),
            title: key.title.clone(),
            format: key.format,
            lists: window.lists.clone(),
            limit: key.query.limit_or(&state.settings.feeds) as usize,
            placeholder: state.renders.placeholder().to_owned(),
            updated: last_changed,
            max_age: state.settings.server.max_age,
            public_url: key.base.to_string(),
            periods: self.periods,
            id_query: key.id_query.clone(),
            whole: state.settings.whole_feeds,
        };
        Ok((key, job))
    }
}

/// Plans the feed `route` serves for `query` (a query string as received), today, with the
/// links of requests without a host (`server.public_url`; the export's base URL).
pub async fn plan(
    state: &AppState,
    route: FeedRoute<'_>,
    query: &str,
    today: NaiveDate,
) -> Result<Plan, Problem> {
    plan_for(state, route, query, today, state.bases.default_base()).await
}

/// [`plan`] with links from `base`.
pub async fn plan_for(
    state: &AppState,
    route: FeedRoute<'_>,
    query: &str,
    today: NaiveDate,
    base: Arc<str>,
) -> Result<Plan, Problem> {
    let settings = &state.settings;
    let ctx = ParseContext {
        today,
        feeds: &settings.feeds,
        allow_format: route.format.is_none(),
        kind: route.kind(),
    };
    let request = FeedQuery::parse(query, &ctx)?;
    let format = route.format.or(request.format).unwrap_or(Format::Rss);
    // Titles come from the canonical request, so that canonical-equal URLs share one.
    let mut named = request.canonical(today, &settings.feeds);
    if let Scope::RssHub { votes, .. } = route.scope {
        // The path's votes filter too, unless the query replaces them.
        named.min_upvotes = named.min_upvotes.or(votes);
    }
    let title = feed::title(&named, route.topic);
    let query = match (route.scope, route.topic) {
        (Scope::Digest, Some(topic)) => topic.query.digest_narrowed_by(&request),
        (_, Some(topic)) => topic.query.narrowed_by(&request),
        (Scope::RssHub { cycle, votes }, None) => {
            crate::routes::rsshub::path_query(state, cycle, votes, today)
                .await
                .narrowed_by(&request)
        }
        (_, None) => request,
    };
    let query = query.canonical(today, &settings.feeds);
    let periods = query.periods(today);
    let id_query = match route.scope {
        Scope::Digest => digest_id_query(&named, route.topic),
        _ => String::new(),
    };
    let key = RenderKey {
        base,
        route: route.name(),
        title,
        query,
        format,
        id_query,
        data_version: 0,
    };
    Ok(Plan {
        key,
        periods,
        today,
        looks_back: matches!(route.scope, Scope::RssHub { .. }),
    })
}

/// The feed `route` serves for `query` today, written for `self_url`, uncompressed: what
/// the server answers for the same request and data when its self link is `self_url`
/// (`paperboy export`).
pub async fn render_once(
    state: &AppState,
    route: FeedRoute<'_>,
    query: &str,
    self_url: &str,
) -> Result<Bytes, Problem> {
    let plan = plan(state, route, query, state.clock.today()).await?;
    let window = plan.read(state).await?;
    let (_, job) = plan.job(state, &window)?;
    let template = build(state, move || job.render()).await?;
    Ok(template.one_off(self_url).body(ContentEncoding::Identity))
}

/// A digest's days, read one period at a time: a period's lists are loaded, its top papers
/// selected (in the build pool) and the lists let go, so that a digest of 30 months never
/// holds 900 days at once. Each period becomes one list of its selected papers, dated its
/// last day, with the version and times of the lists it came from; selecting from these
/// lists again gives the same papers.
pub async fn digest_window(
    state: &AppState,
    query: &FeedQuery,
    periods: &[Period],
) -> Result<Window, Problem> {
    let top = query.digest_top();
    // Without filters, a period's ranking is the same for every request: kept per data version.
    let kept = query.is_unfiltered();
    let mut window = Window::default();
    for period in periods {
        if kept
            && let Some(version) = state.store.known_version(period.first(), period.last())
            && let Some(list) = state.selections.get(*period, version, top)
        {
            window.lists.push(list);
            continue;
        }
        let mut part = state.store.window(period.last(), period.days()).await;
        let complete = part.missing.is_empty();
        window.missing.append(&mut part.missing);
        let fetched_at = part.lists.iter().map(|l| l.fetched_at).min();
        let (Some(changed_at), Some(fetched_at)) = (part.last_changed(), fetched_at) else {
            continue;
        };
        let content_hash = part.data_version();
        let (query, period) = (query.clone(), *period);
        let (papers, part) = build(state, move || {
            let selected = select_periods(&query, &part.lists, &[period], top);
            let papers = selected
                .into_iter()
                .flat_map(|(_, papers)| papers.into_iter().cloned())
                .collect::<Vec<Paper>>();
            Ok((papers, part))
        })
        .await?;
        state.store.reweigh(&part.lists);
        let list = Arc::new(DailyList::new(
            period.last(),
            papers,
            fetched_at,
            changed_at,
            content_hash,
        ));
        if kept && complete {
            state
                .selections
                .put(period, content_hash, top, list.clone());
        }
        window.lists.push(list);
    }
    Ok(window)
}

/// The query in a digest item's id: the topic, then the request's filters, canonical.
fn digest_id_query(named: &FeedQuery, topic: Option<&Topic>) -> String {
    let filters = FeedQuery {
        q: named.q.clone(),
        authors: named.authors.clone(),
        orgs: named.orgs.clone(),
        min_upvotes: named.min_upvotes,
        min_comments: named.min_comments,
        has_code: named.has_code,
        ..FeedQuery::default()
    }
    .to_query_string();
    match topic {
        Some(topic) if filters.is_empty() => format!("topic={}", topic.name),
        Some(topic) => format!("topic={}&{filters}", topic.name),
        None => filters,
    }
}

/// Everything rendering a feed needs, owned, so that it can run on a build thread.
struct RenderJob {
    query: FeedQuery,
    title: String,
    format: Format,
    lists: Vec<Arc<DailyList>>,
    limit: usize,
    placeholder: String,
    updated: DateTime<Utc>,
    max_age: Duration,
    public_url: String,
    /// A digest's periods, newest first; empty for a feed of papers.
    periods: Vec<Period>,
    /// The query in a digest item's id.
    id_query: String,
    /// Written whole by the writers, not assembled ([`crate::config::Settings::whole_feeds`]).
    whole: bool,
}

impl RenderJob {
    fn meta(&self) -> FeedMeta {
        FeedMeta {
            title: self.title.clone(),
            self_url: self.placeholder.clone(),
            updated: self.updated,
            max_age: self.max_age,
            public_url: self.public_url.clone(),
        }
    }

    /// Selects and renders, with the placeholder as the self link.
    fn render(self) -> Result<RenderedFeed, Problem> {
        let meta = self.meta();
        let mut stitch = None;
        let body = if self.query.digest.is_some() {
            let top = self.query.digest_top();
            let items = feed::digest::items(
                &self.query,
                &self.lists,
                &self.periods,
                top,
                &meta.public_url,
                &self.id_query,
            );
            feed::render_digest(self.format, &meta, &items)
        } else if self.whole {
            feed::render(
                self.format,
                &meta,
                &select_with(&self.query, &self.lists, self.limit, Scan::Every),
            )
        } else {
            let papers = select(&self.query, &self.lists, self.limit);
            // Each paper's item rendered once and kept with it: a new feed of papers costs
            // its selection, its head and tail, and copies.
            feed::parts::render_stitchable(self.format, &meta, &papers).map(|(body, parts)| {
                stitch = parts;
                body
            })
        };
        Ok(RenderedFeed::from_template(
            body.map_err(failed)?,
            &self.placeholder,
            self.format,
            self.updated,
        )
        .with_stitch(stitch))
    }

    /// Selects and writes the feed for `self_url`, to be answered once and not kept; gzipped
    /// when the client takes gzip. A feed of papers is written in one piece: its head (with the
    /// self link spliced in), its items and its tail, with no template between.
    fn answer_once(self, self_url: &str, gzip: bool) -> Result<Arc<Encoded>, Problem> {
        if self.query.digest.is_some() || self.whole {
            return Ok(one_off(&self.render()?, self_url, gzip));
        }
        let papers = select(&self.query, &self.lists, self.limit);
        let mut frame = feed::parts::Frame::new(self.format, &self.meta()).map_err(failed)?;
        frame.head =
            RenderedFeed::from_template(frame.head, &self.placeholder, self.format, self.updated)
                .splice(self_url);
        if gzip
            && let Some((body, hash)) = feed::parts::gzip_once(&frame, &papers).map_err(failed)?
        {
            let validators = Validators::for_hash(hash, self.updated);
            return Ok(Arc::new(Encoded::gzip_only(body, validators)));
        }
        let (body, stitch) = feed::parts::render_stitchable_in(&frame, &papers).map_err(failed)?;
        let encoded = Arc::new(Encoded::one_off(body, self.updated, stitch));
        if gzip {
            encoded.body(ContentEncoding::Gzip);
        }
        Ok(encoded)
    }
}

fn failed(e: feed::RenderError) -> Problem {
    tracing::error!(error = %e, "failed to render a feed");
    Problem::internal("The feed could not be written; this is a bug in paperboy.")
}

/// The body of `template` for `self_url`, answered once: gzipped fast when the client takes
/// gzip, never brotli.
fn one_off(template: &RenderedFeed, self_url: &str, gzip: bool) -> Arc<Encoded> {
    let encoded = template.one_off(self_url);
    if gzip {
        encoded.body(ContentEncoding::Gzip);
    }
    encoded
}

/// Answers with `encoded`: a 304 when the client's copy is current, else the body in the
/// encoding the client prefers, compressed in the build pool first if it is not yet.
async fn answer(
    req: &HttpRequest,
    state: &AppState,
    encoded: &Arc<Encoded>,
    format: Format,
) -> Result<HttpResponse, Problem> {
    match answer_ready(req, state, encoded, format) {
        Some(response) => Ok(response),
        None => compress_and_answer(req, state, encoded, format).await,
    }
}

/// Answers with `encoded` once its body is compressed, in the build pool, in the encoding the
/// client prefers (for a body [`answer_ready`] could not answer with).
async fn compress_and_answer(
    req: &HttpRequest,
    state: &AppState,
    encoded: &Arc<Encoded>,
    format: Format,
) -> Result<HttpResponse, Problem> {
    let encoding = negotiate(req, encoded.offers_brotli());
    let body = encoded.clone();
    build(state, move || {
        body.body(encoding);
        Ok(())
    })
    .await?;
    Ok(respond(
        encoded,
        Some(encoding),
        format,
        &state.cache_control,
    ))
}

/// The answer when nothing is left to do for it (a 304, or a body already in the encoding the
/// client prefers); `None` when the body must be compressed first.
fn answer_ready(
    req: &HttpRequest,
    state: &AppState,
    encoded: &Encoded,
    format: Format,
) -> Option<HttpResponse> {
    let cache_control = &state.cache_control;
    if encoded.validators.not_modified(req) {
        return Some(respond(encoded, None, format, cache_control));
    }
    let encoding = negotiate(req, encoded.offers_brotli());
    encoded
        .ready(encoding)
        .then(|| respond(encoded, Some(encoding), format, cache_control))
}

/// The links' base, the request's path and query as received: the fast path's key.
fn request_url(base: &str, req: &HttpRequest) -> String {
    let (path, query) = (req.path(), req.query_string());
    let mut url = String::with_capacity(base.len() + path.len() + query.len() + 1);
    url.push_str(base);
    url.push_str(path);
    url.push('?');
    url.push_str(query);
    url
}

/// `<public_url><path>?<query as received>`, cleaned for XML.
fn self_url(public_url: &str, req: &HttpRequest) -> String {
    let query = req.query_string();
    let url = if query.is_empty() {
        format!("{public_url}{}", req.path())
    } else {
        format!("{public_url}{}?{query}", req.path())
    };
    crate::text::clean_inline(&url)
}

/// The 503 for a window with no list at all, with the seconds until upstream may be asked.
pub fn unavailable(window: &Window, state: &AppState) -> Problem {
    let now = state.clock.now();
    let wait = window
        .retry_at()
        .map(|at| (at - now).num_seconds())
        .unwrap_or(DEFAULT_RETRY_AFTER_SECS)
        .max(1);
    Problem::unavailable(
        format!(
            "Hugging Face could not be reached and none of the requested days is cached; \
             try again in {wait} seconds."
        ),
        u64::try_from(wait).unwrap_or(1),
    )
}

/// A 200 with the body in `encoding`, or a 304 when there is none, with the headers every
/// feed response carries.
fn respond(
    encoded: &Encoded,
    encoding: Option<ContentEncoding>,
    format: Format,
    cache_control: &HeaderValue,
) -> HttpResponse {
    // Every value is ready-made (the validators' when the body was made): a hot answer
    // formats nothing.
    let validators = &encoded.validators;
    let mut response = match encoding {
        None => HttpResponse::NotModified(),
        Some(_) => HttpResponse::Ok(),
    };
    response
        .insert_header((header::ETAG, validators.etag_value.clone()))
        .insert_header((
            header::LAST_MODIFIED,
            validators.last_modified_value.clone(),
        ))
        .insert_header((header::CACHE_CONTROL, cache_control.clone()))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Encoding")))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ));
    let Some(encoding) = encoding else {
        return response.finish();
    };
    if encoding != ContentEncoding::Identity {
        response.insert_header((
            header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding.as_str()),
        ));
    }
    response
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        ))
        .body(encoded.body(encoding))
}

/// The encoding to send: brotli (when offered) or gzip when the client accepts it (by its
/// q-values), else identity.
fn negotiate(req: &HttpRequest, brotli: bool) -> ContentEncoding {
    let mut values = req.headers().get_all(header::ACCEPT_ENCODING);
    if let (Some(value), None) = (values.next(), values.next())
        && let Some(encoding) = value.to_str().ok().and_then(|v| unweighted(v, brotli))
    {
        return encoding;
    }
    negotiate_weighted(req, brotli)
}

/// The choice for one `Accept-Encoding` without q-values (what readers send): every listed
/// coding is equally welcome, and the server's order decides (brotli, then gzip, then
/// identity), as [`negotiate_weighted`] decides it. `None` when there are q-values.
fn unweighted(value: &str, brotli: bool) -> Option<ContentEncoding> {
    if value.contains(';') {
        return None;
    }
    let listed = |coding: &str| {
        value
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case(coding))
    };
    Some(if brotli && listed("br") {
        ContentEncoding::Brotli
    } else if listed("gzip") {
        ContentEncoding::Gzip
    } else {
        ContentEncoding::Identity
    })
}

/// [`negotiate`] by the header parsed whole, q-values and all.
fn negotiate_weighted(req: &HttpRequest, brotli: bool) -> ContentEncoding {
    const WITH_BROTLI: [Encoding; 3] = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
    const WITHOUT_BROTLI: [Encoding; 2] = [Encoding::gzip(), Encoding::identity()];
    let supported: &[Encoding] = if brotli {
        &WITH_BROTLI
    } else {
        &WITHOUT_BROTLI
    };
    match AcceptEncoding::parse(req) {
        Ok(accept) => match accept.negotiate(supported.iter()) {
            Some(Encoding::Known(encoding)) => encoding,
            _ => ContentEncoding::Identity,
        },
        Err(_) => ContentEncoding::Identity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("gzip".to_owned()),
            Just("GZip".to_owned()),
            Just("br".to_owned()),
            Just("BR".to_owned()),
            Just("deflate".to_owned()),
            Just("zstd".to_owned()),
            Just("identity".to_owned()),
            Just("*".to_owned()),
            Just("x-gzip".to_owned()),
            Just(String::new()),
            "[a-z ]{0,6}",
        ]
    }

    proptest! {
        /// The shortcut for headers without q-values chooses what the full negotiation does.
        #[test]
        fn unweighted_choice_is_the_negotiated_one(
            tokens in prop::collection::vec((token(), "[ \t]{0,2}"), 0..6),
            brotli: bool,
        ) {
            let value = tokens
                .iter()
                .map(|(t, space)| format!("{space}{t}"))
                .collect::<Vec<_>>()
                .join(",");
            let req = TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, value.as_str()))
                .to_http_request();
            let shortcut = unweighted(&value, brotli);
            prop_assert_eq!(shortcut, Some(negotiate_weighted(&req, brotli)), "{:?}", value);
            prop_assert_eq!(negotiate(&req, brotli), negotiate_weighted(&req, brotli));
        }
    }

    #[test]
    fn q_values_take_the_full_negotiation() {
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, "gzip;q=0, br;q=0.5"))
            .to_http_request();
        assert_eq!(unweighted("gzip;q=0, br;q=0.5", true), None);
        assert_eq!(negotiate(&req, true), ContentEncoding::Brotli);
        assert_eq!(negotiate(&req, false), ContentEncoding::Identity);
    }
}
