//! The HTML routes: `/` (topics, counts, subscribe links, the form) and `/preview` (the papers
//! a query selects, and its feed URLs). Both read the store and select exactly as the feeds do.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::problem::Problem;

use crate::app::state::AppState;
use crate::http::resource::get;
use crate::pipeline::home_and_preview::{home_page_for, preview_page};
use crate::pipeline::run_backstage;
use crate::render::html::Site;

/// Scripts are never needed: forbid them, and everything else but inline style and the form.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn config(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [("/", Page::Home), ("/preview", Page::Preview)] {
        cfg.service(
            get(
                path,
                move |req: HttpRequest, state: web::Data<AppState>| async move {
                    match handler {
                        Page::Home => home(&req, &state).await,
                        Page::Preview => preview(&req, &state).await,
                    }
                },
            )
            // Pages are compressed per response; feeds carry bodies compressed once.
            .wrap(actix_web::middleware::Compress::default()),
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
    let body = run_backstage(state, move |state| {
        Box::pin(async move { home_page_for(&state, Site::Served, &page_base).await })
    })
    .await?;
    let body = state.home_page.put(base, version, today, body);
    Ok(html_response(StatusCode::OK, body, state))
}

/// `/preview?<query>`: the papers of a feed query, or, with `period=` or `count=`, the items of a digest (a daily one unless `period` says otherwise).
/// The form sends every field, so an empty value is taken as not given. Worked out backstage.
async fn preview(req: &HttpRequest, state: &web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let (query, base) = (req.query_string().to_owned(), state.bases.for_request(req));
    let page = run_backstage(state, move |state| {
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
