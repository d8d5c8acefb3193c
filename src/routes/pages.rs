//! The HTML routes: `/` (topics, counts, subscribe links, the form) and `/preview` (the papers
//! a query selects, and its feed URLs). Both read the store and select exactly as the feeds do.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::feed;
use crate::http::problem::Problem;
use chrono::NaiveDate;

use crate::pages::{
    ErrorView, FeedLinks, FormView, HomePage, PaperView, PeriodView, PreviewPage, Site, TopicView,
};
use crate::pipeline::{backstage, build, digest_window, unavailable};
use crate::query::decode::decode_pairs;
use crate::query::params::{FeedQuery, ParamError, ParseContext, QueryKind};
use crate::query::select::{select, select_periods};
use crate::routes::get_or_head;
use crate::state::AppState;

/// Scripts are never needed: forbid them, and everything else but inline style and the form.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn config(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [("/", Page::Home), ("/preview", Page::Preview)] {
        cfg.service(
            web::resource(path)
                // Pages are compressed per response; feeds carry bodies compressed once.
                .wrap(actix_web::middleware::Compress::default())
                .route(web::route().guard(get_or_head()).to(
                    move |req: HttpRequest, state: web::Data<AppState>| async move {
                        match handler {
                            Page::Home => home(&req, &state).await,
                            Page::Preview => preview(&req, &state).await,
                        }
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
    }
}

#[derive(Debug, Clone, Copy)]
enum Page {
    Home,
    Preview,
}

/// The home page: rendered once per base, day and version of the days it counts (its topic
/// counts change with those lists, and only with those), in the build pool.
async fn home(req: &HttpRequest, state: &web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let today = state.clock.today();
    let base = state.bases.for_request(req);
    // Read before the lists: a page rendered from them is current while it has not moved.
    let days = u64::from(state.settings.feeds.default_days.max(1) - 1);
    let version = state
        .store
        .window_version(today - chrono::Days::new(days), today);
    if let Some(body) = state.home_page.get(&base, version, today) {
        return Ok(html_response(StatusCode::OK, body, state));
    }
    let page_base = base.clone();
    let body = backstage(state, move |state| {
        Box::pin(async move { home_page_for(&state, Site::Served, &page_base).await })
    })
    .await?;
    let body = state.home_page.put(base, version, today, body);
    Ok(html_response(StatusCode::OK, body, state))
}

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

/// `/preview?<query>`: the papers of a feed query, or, with `period=` or `count=`, the items of a digest (a daily one unless `period` says otherwise).
/// The form sends every field, so an empty value is taken as not given. Worked out backstage.
async fn preview(req: &HttpRequest, state: &web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let (query, base) = (req.query_string().to_owned(), state.bases.for_request(req));
    let page = backstage(state, move |state| {
        Box::pin(async move { preview_page(&state, &query, &base).await })
    })
    .await?;
    let mut response = html_response(page.status, page.body.into(), state);
    if let Some(secs) = page.retry_after
        && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

/// A page to answer with.
struct PageAnswer {
    status: StatusCode,
    body: String,
    retry_after: Option<u64>,
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

/// The preview of the query string `raw`, its links under `base`.
async fn preview_page(state: &AppState, raw: &str, base: &str) -> Result<PageAnswer, Problem> {
    let settings = &state.settings;
    let today = state.clock.today();
    let (form, parsed) = match decode_pairs(raw) {
        Ok(mut pairs) => {
            pairs.retain(|(_, value)| !value.trim().is_empty());
            let kind = if pairs
                .iter()
                .any(|(key, _)| key == "period" || key == "count")
            {
                QueryKind::Digest
            } else {
                QueryKind::Feed
            };
            let ctx = ParseContext {
                today,
                feeds: &settings.feeds,
                allow_format: false,
                kind,
            };
            (
                FormView::from_pairs(&pairs, today, &settings.feeds),
                FeedQuery::from_pairs(&pairs, &ctx),
            )
        }
        Err(e) => (
            FormView::from_pairs(&[], today, &settings.feeds),
            Err(ParamError::from(e)),
        ),
    };
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
    let feed_title = feed::title(&query, None);
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
        let (papers, periods) = if query.digest.is_some() {
            let top = query.digest_top();
            let views: Vec<PeriodView> =
                select_periods(&windows, &query, &window.lists, &periods, top)
                    .into_iter()
                    .map(|(period, papers)| PeriodView {
                        title: period.title(papers.len()),
                        url: period.hf_url(),
                        papers: papers.into_iter().map(PaperView::from).collect(),
                    })
                    .collect();
            (Vec::new(), Some(views))
        } else {
            let papers = select(&windows, &query, &window.lists, limit)
                .into_iter()
                .map(PaperView::from)
                .collect();
            (papers, None)
        };
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

/// `/preview?<query>`, or `/preview` for none.
fn preview_path(query: &str) -> String {
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

/// A page's response; successful ones may be cached like feeds, errors not at all.
fn html_response(status: StatusCode, body: Bytes, state: &AppState) -> HttpResponse {
    let cache = if status.is_success() {
        let max_age = u32::try_from(state.settings.server.max_age.as_secs()).unwrap_or(u32::MAX);
        CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(max_age),
        ])
    } else {
        CacheControl(vec![CacheDirective::NoStore])
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(cache)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}
