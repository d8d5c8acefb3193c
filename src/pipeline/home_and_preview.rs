//! The pages' pipeline: the home page and a preview, planned, read and built like a feed (in
//! the build pool, from the store's windows), for the page routes and the export alike.

use std::sync::Arc;

use actix_web::http::StatusCode;
use askama::Template;
use chrono::NaiveDate;

use super::admission::{build, unavailable};
use super::plan::digest_window;
use crate::app::state::AppState;
use crate::data::daily_list::DailyList;
use crate::http::problem::Problem;
use crate::query::decode::decode_pairs;
use crate::query::limits::FeedSettings;
use crate::query::params::{FeedQuery, ParamError, ParseContext, QueryKind};
use crate::query::period::Period;
use crate::query::select::{Windows, select, select_periods};
use crate::render;
use crate::render::html::{
    ErrorView, FeedLinks, FormView, HomePage, PaperView, PeriodView, PreviewPage, Site, TopicView,
};

/// The home page's HTML for `site`: every topic with its paper count over the last
/// `feeds.default_days` days and its feeds; served, with the form and previews too.
pub async fn home_page(state: &AppState, site: Site) -> Result<String, Problem> {
    home_page_for(state, site, &state.bases.default_base()).await
}

/// [`home_page`] with the links of a served page under `public_url`.
pub async fn home_page_for(
    state: &AppState,
    site: Site,
    public_url: &str,
) -> Result<String, Problem> {
    let settings = &state.settings;
    let today = state.clock.today();
    let days = settings.feeds.default_days;
    let window = state.store.window(today, days).await;
    let base = match site {
        Site::Served => public_url.to_owned(),
        Site::Static => ".".to_owned(),
    };
    let (topics, feeds) = (state.topics.clone(), settings.feeds.clone());
    let windows = state.windows.clone();
    build(state, move || {
        let loaded = !window.lists.is_empty();
        let views: Vec<TopicView> = topics
            .iter()
            .map(|topic| TopicView {
                name: topic.name.clone(),
                title: topic.title.clone(),
                description: topic.description.clone(),
                query: topic.query_text.clone(),
                // The topic's own days and limit are left out, so that counts compare.
                count: loaded
                    .then(|| select(&windows, &topic.query, &window.lists, usize::MAX).len()),
                feeds: FeedLinks::new(&base, &format!("/topics/{}", topic.name), ""),
                daily_digest: format!("{base}/topics/{}/digest.atom", topic.name),
                weekly_digest: format!("{base}/topics/{}/digest.atom?period=week", topic.name),
                preview: preview_path(&topic.query_string),
            })
            .collect();
        let form = FormView::from_pairs(&[], today, &feeds);
        render_page(&HomePage::new(site, &base, views, days, form))
    })
    .await
}

/// A page to answer with.
pub struct PageAnswer {
    pub status: StatusCode,
    pub body: String,
    pub retry_after: Option<u64>,
}

impl PageAnswer {
    fn new(status: StatusCode, body: String) -> PageAnswer {
        PageAnswer {
            status,
            body,
            retry_after: None,
        }
    }
}

/// The form as the query string `raw` fills it, and the query it makes: a digest's when it
/// names `period` or `count`, a feed's otherwise. The form sends every field, so an empty
/// value is taken as not given.
fn read_form(
    raw: &str,
    today: NaiveDate,
    feeds: &FeedSettings,
) -> (FormView, Result<FeedQuery, ParamError>) {
    match decode_pairs(raw) {
        Ok(mut pairs) => {
            pairs.retain(|(_, value)| !value.trim().is_empty());
            let digest = pairs
                .iter()
                .any(|(key, _)| key == "period" || key == "count");
            let ctx = ParseContext {
                today,
                feeds,
                allow_format: false,
                kind: if digest {
                    QueryKind::Digest
                } else {
                    QueryKind::Feed
                },
            };
            (
                FormView::from_pairs(&pairs, today, feeds),
                FeedQuery::from_pairs(&pairs, &ctx),
            )
        }
        Err(e) => (
            FormView::from_pairs(&[], today, feeds),
            Err(ParamError::from(e)),
        ),
    }
}

/// The preview of the query string `raw`, its links under `base`.
pub async fn preview_page(state: &AppState, raw: &str, base: &str) -> Result<PageAnswer, Problem> {
    let settings = &state.settings;
    let today = state.clock.today();
    let (form, parsed) = read_form(raw, today, &settings.feeds);
    let query = match parsed {
        Ok(query) => query,
        Err(e) => {
            let error = ErrorView {
                heading: "This query cannot be used",
                detail: e.detail,
                parameter: Some(e.parameter),
            };
            let body = render_page(&PreviewPage::failed(form, error))?;
            return Ok(PageAnswer::new(StatusCode::BAD_REQUEST, body));
        }
    };

    let (newest, days) = query.window(today, &settings.feeds);
    let periods = query.periods(today);
    let window = if query.digest.is_some() {
        digest_window(state, &query, &periods).await?
    } else {
        state.store.window(newest, days).await
    };
    if window.last_changed().is_none() && !window.is_before_the_first_list() {
        let problem = unavailable(&window, state);
        let error = ErrorView {
            heading: "Hugging Face cannot be reached",
            detail: problem.detail.clone(),
            parameter: None,
        };
        let body = render_page(&PreviewPage::failed(form, error))?;
        return Ok(PageAnswer {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body,
            retry_after: problem.retry_after,
        });
    }
    let limit = query.limit_or(&settings.feeds) as usize;
    let feed_title = render::title(&query, None);
    let path = if query.digest.is_some() {
        "/digest"
    } else {
        "/feed"
    };
    let feeds = FeedLinks::new(base, path, &query.to_query_string());
    let window_text = window_text(&query, newest, days, limit);
    // Selecting and rendering cost CPU: in the build pool, like a feed.
    let windows = state.windows.clone();
    let body = build(state, move || {
        let (papers, periods) = selected_views(&windows, &query, &window.lists, &periods, limit);
        render_page(&PreviewPage::selected(
            form,
            feeds,
            feed_title,
            papers,
            periods,
            window_text,
        ))
    })
    .await?;
    Ok(PageAnswer::new(StatusCode::OK, body))
}

/// What `query` selects from `lists`: its papers, or a digest's periods with theirs.
fn selected_views(
    windows: &Windows,
    query: &FeedQuery,
    lists: &[Arc<DailyList>],
    periods: &[Period],
    limit: usize,
) -> (Vec<PaperView>, Option<Vec<PeriodView>>) {
    if query.digest.is_some() {
        let views = select_periods(windows, query, lists, periods, query.digest_top())
            .into_iter()
            .map(|(period, papers)| PeriodView {
                title: period.title(papers.len()),
                url: period.hf_url(),
                papers: papers.into_iter().map(PaperView::from).collect(),
            })
            .collect();
        (Vec::new(), Some(views))
    } else {
        let papers = select(windows, query, lists, limit)
            .into_iter()
            .map(PaperView::from)
            .collect();
        (papers, None)
    }
}

/// Which days a query reads, in words.
fn window_text(query: &FeedQuery, newest: NaiveDate, days: u32, limit: usize) -> String {
    if let Some(digest) = query.digest {
        let unit = digest.unit.name();
        let top = query.digest_top();
        return format!(
            "One item per {unit} for the {} {unit}s ending on or before {newest}, newest first, \
             each with its {top} most upvoted papers; a {unit} without papers has no item.",
            digest.count_or_default()
        );
    }
    if let Some(span) = query.span {
        return format!(
            "From the daily lists of {} up to {newest}; at most {limit} papers.",
            span.describe()
        );
    }
    match days {
        1 => format!("From the daily list of {newest}; at most {limit} papers."),
        _ => format!("From the {days} daily lists ending {newest}; at most {limit} papers."),
    }
}

/// `/preview?<query>`, or `/preview` for none: the page that previews a query.
pub fn preview_path(query: &str) -> String {
    if query.is_empty() {
        "/preview".to_owned()
    } else {
        format!("/preview?{query}")
    }
}

/// A page's HTML.
fn render_page(page: &impl Template) -> Result<String, Problem> {
    page.render().map_err(|e| {
        tracing::error!(error = %e, "failed to render a page");
        Problem::internal("The page could not be written; this is a bug in paperboy.")
    })
}
