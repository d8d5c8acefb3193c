//! The plan of a feed request (its render key and a digest's periods, before any list is
//! read), reading its window, and rendering it once.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::ContentEncoding;
use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDate, Utc};

use super::admission::{build, unavailable};
use super::feed_route::{FeedRoute, Scope};
use crate::app::state::AppState;
use crate::common::format::Format;
use crate::data::daily_list::DailyList;
use crate::data::paper::Paper;
use crate::data::store::Window;
use crate::http::conditional::Validators;
use crate::http::problem::Problem;
use crate::query::limits::FeedSettings;
use crate::query::params::{FeedQuery, ParseContext};
use crate::query::period::Period;
use crate::query::select::{Scan, Windows, select, select_periods, select_with};
use crate::query::topics::Topic;
use crate::render::cache::{Encoded, RenderKey, RenderedFeed, link_header};
use crate::render::{self, FeedMeta};

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
    pub(crate) async fn read(&self, state: &AppState) -> Result<Window, Problem> {
        if self.key.query.digest.is_some() {
            digest_window(state, &self.key.query, &self.periods).await
        } else {
            let (newest, days) = self.key.query.window(self.today, &state.settings.feeds);
            Ok(state.store.window(newest, days).await)
        }
    }

    /// The render key with the window's data version, and the job that renders the feed;
    /// a 503 when the window has no list and should have.
    pub(crate) fn job(
        self,
        state: &AppState,
        window: &Window,
    ) -> Result<(RenderKey, RenderJob), Problem> {
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
            hub: state.settings.websub.enabled,
            periods: self.periods,
            id_query: key.id_query.clone(),
            writing: state.writing,
            windows: state.windows.clone(),
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
    let title = render::title(&named, route.topic);
    let query = match (route.scope, route.topic) {
        (Scope::Digest, Some(topic)) => topic.query.digest_narrowed_by(&request),
        (_, Some(topic)) => topic.query.narrowed_by(&request),
        (Scope::RssHub { cycle, votes }, None) => {
            super::cycle::path_query(state, cycle, votes, today)
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
        let windows = state.windows.clone();
        let (papers, part) = build(state, move || {
            let selected = select_periods(&windows, &query, &part.lists, &[period], top);
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
pub(crate) fn digest_id_query(named: &FeedQuery, topic: Option<&Topic>) -> String {
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
pub(crate) struct RenderJob {
    query: FeedQuery,
    title: String,
    format: Format,
    lists: Vec<Arc<DailyList>>,
    limit: usize,
    placeholder: String,
    updated: DateTime<Utc>,
    max_age: Duration,
    public_url: String,
    /// Whether the feed names the hub `<public_url>/websub` (`websub.enabled`).
    hub: bool,
    /// A digest's periods, newest first; empty for a feed of papers.
    periods: Vec<Period>,
    /// The query in a digest item's id.
    id_query: String,
    /// Feeds of papers assembled, or written whole by the writers (the tests' reference).
    writing: render::Writing,
    windows: Arc<Windows>,
}

impl RenderJob {
    pub(crate) fn meta(&self) -> FeedMeta {
        FeedMeta {
            title: self.title.clone(),
            self_url: self.placeholder.clone(),
            updated: self.updated,
            max_age: self.max_age,
            public_url: self.public_url.clone(),
            hub: self.hub_url(),
        }
    }

    /// `<public_url>/websub`, when the feed names the hub.
    fn hub_url(&self) -> Option<String> {
        self.hub.then(|| format!("{}/websub", self.public_url))
    }

    /// Selects and renders, with the placeholder as the self link.
    pub(crate) fn render(self) -> Result<RenderedFeed, Problem> {
        let meta = self.meta();
        let mut stitch = None;
        let body = if self.query.digest.is_some() {
            let top = self.query.digest_top();
            let items = render::digest::items(
                &self.windows,
                &self.query,
                &self.lists,
                &self.periods,
                top,
                &meta.public_url,
                &self.id_query,
            );
            render::render_digest(self.format, &meta, &items)
        } else if self.writing == render::Writing::Whole {
            render::render(
                self.format,
                &meta,
                &select_with(
                    &self.windows,
                    &self.query,
                    &self.lists,
                    self.limit,
                    Scan::Every,
                ),
            )
        } else {
            let papers = select(&self.windows, &self.query, &self.lists, self.limit);
            // Each paper's item rendered once and kept with it: a new feed of papers costs
            // its selection, its head and tail, and copies.
            render::parts::render_stitchable(self.format, &meta, &papers).map(|(body, parts)| {
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
        .with_stitch(stitch)
        .with_hub(self.hub_url()))
    }

    /// Selects and writes the feed for `self_url`, to be answered once and not kept; gzipped
    /// when the client takes gzip. A feed of papers is written in one piece: its head (with the
    /// self link spliced in), its items and its tail, with no template between.
    pub(crate) fn answer_once(self, self_url: &str, gzip: bool) -> Result<Arc<Encoded>, Problem> {
        if self.query.digest.is_some() || self.writing == render::Writing::Whole {
            return Ok(one_off(&self.render()?, self_url, gzip));
        }
        let papers = select(&self.windows, &self.query, &self.lists, self.limit);
        let link = link_header(self.hub_url().as_deref(), self_url);
        let mut frame = render::parts::Frame::new(self.format, &self.meta()).map_err(failed)?;
        frame.head =
            RenderedFeed::from_template(frame.head, &self.placeholder, self.format, self.updated)
                .splice(self_url);
        if gzip
            && let Some((body, hash)) = render::parts::gzip_once(&frame, &papers).map_err(failed)?
        {
            let validators = Validators::for_hash(hash, self.updated);
            return Ok(Arc::new(
                Encoded::gzip_only(body, validators).with_link(link),
            ));
        }
        let (body, stitch) =
            render::parts::render_stitchable_in(&frame, &papers).map_err(failed)?;
        let encoded = Arc::new(Encoded::one_off(body, self.updated, stitch).with_link(link));
        if gzip {
            encoded.body(ContentEncoding::Gzip);
        }
        Ok(encoded)
    }
}

pub(crate) fn failed(e: render::RenderError) -> Problem {
    tracing::error!(error = %e, "failed to render a feed");
    Problem::internal("The feed could not be written; this is a bug in paperboy.")
}

/// The body of `template` for `self_url`, answered once: gzipped fast when the client takes
/// gzip, never brotli.
pub(crate) fn one_off(template: &RenderedFeed, self_url: &str, gzip: bool) -> Arc<Encoded> {
    let encoded = template.one_off(self_url);
    if gzip {
        encoded.body(ContentEncoding::Gzip);
    }
    encoded
}
