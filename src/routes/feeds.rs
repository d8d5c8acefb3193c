//! The feed routes: `/feed.rss`, `/feed.atom`, `/feed.json` and `/feed?format=`.
//!
//! One path for a request, [`serve_feed`], which the topic feeds share: parse the query,
//! take the window's daily lists from the store, select, render, then answer with validators
//! (or 304).

use actix_web::http::header::{
    self, AcceptEncoding, CacheControl, CacheDirective, ContentEncoding, Encoding, Header,
    LastModified,
};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::feed::{self, FeedMeta, Format};
use crate::http::problem::Problem;
use crate::query::params::{FeedQuery, ParamError, ParseContext};
use crate::query::select::select;
use crate::render_cache::{Encoded, RenderKey, RenderedFeed, Resolved};
use crate::routes::get_or_head;
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
                        serve_feed(&req, &state, format, None).await
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
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
/// The feed is rendered once per canonical query and data version (see
/// [`crate::render_cache`]); a request whose validators match a cached feed is answered 304
/// without rendering.
pub async fn serve_feed(
    req: &HttpRequest,
    state: &AppState,
    path_format: Option<Format>,
    topic: Option<&Topic>,
) -> Result<HttpResponse, Problem> {
    let settings = &state.settings;
    let max_age = settings.server.max_age.as_secs();
    let now = state.clock.now();
    let today = now.date_naive();
    // Read before the lists: a fast-path answer is current while it has not moved.
    let generation = state.store.generation();
    let url = request_url(req);
    if let Some((format, encoded)) = state.renders.resolved(&url, generation, today, now) {
        return Ok(respond(req, &encoded, format, max_age));
    }

    let ctx = ParseContext {
        today,
        feeds: &settings.feeds,
        allow_format: path_format.is_none(),
    };
    let request = FeedQuery::parse(req.query_string(), &ctx)?;
    let format = path_format.or(request.format).unwrap_or(Format::Rss);
    // Titles come from the canonical request, so that canonical-equal URLs share one.
    let named = request.canonical(today, &settings.feeds);
    let (query, title, route) = match topic {
        Some(topic) => (
            topic.query.narrowed_by(&request),
            topic.feed_title(&named),
            format!("/topics/{}", topic.name),
        ),
        None => {
            let title = match named.filter_summary() {
                Some(summary) => format!("{} — {summary}", feed::BASE_TITLE),
                None => feed::BASE_TITLE.to_owned(),
            };
            (request, title, "/feed".to_owned())
        }
    };
    let query = query.canonical(today, &settings.feeds);

    let window = state
        .store
        .window(query.date_or(today), query.days_or(&settings.feeds))
        .await;
    let Some(last_changed) = window.last_changed() else {
        return Err(unavailable(&window, state));
    };
    let key = RenderKey {
        route,
        title,
        query,
        format,
        data_version: window.data_version(),
    };
    let renders = &state.renders;
    let render = || async {
        let papers = select(
            &key.query,
            &window.lists,
            key.query.limit_or(&settings.feeds) as usize,
        );
        let meta = FeedMeta {
            title: key.title.clone(),
            self_url: renders.placeholder().to_owned(),
            updated: last_changed,
            max_age: settings.server.max_age,
        };
        let body = feed::render(format, &meta, &papers)?;
        Ok::<_, feed::RenderError>(RenderedFeed::from_template(
            body,
            renders.placeholder(),
            format,
            last_changed,
        ))
    };
    let render_failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "failed to render a feed");
        Problem::internal("The feed could not be written; this is a bug in paperboy.")
    };
    let self_url = self_url(&settings.server.public_url, req);
    let entry = match renders.get(&key).await {
        Some(entry) => Some(entry),
        None if renders.admit(&key) => Some(
            renders
                .get_or_render(&key, render())
                .await
                .map_err(|e| render_failed(&e))?,
        ),
        None => None,
    };
    let Some(entry) = entry else {
        // First sight of this feed: answer it, keep it only if it is asked for again.
        renders.count_render();
        let encoded = render()
            .await
            .map_err(|e| render_failed(&e))?
            .one_off(&self_url);
        return Ok(respond(req, &encoded, format, max_age));
    };
    let encoded = renders.variant(&key, &entry, &self_url).await;
    if window.missing.is_empty() {
        let fresh_until = window
            .lists
            .iter()
            .map(|list| state.store.fresh_until(list))
            .min()
            .unwrap_or(now);
        let resolved = Resolved::new(format, &encoded, generation, today, fresh_until);
        renders.remember(url, resolved);
    }
    Ok(respond(req, &encoded, format, max_age))
}

/// The request's path and query as received: the fast path's key.
fn request_url(req: &HttpRequest) -> String {
    let (path, query) = (req.path(), req.query_string());
    let mut url = String::with_capacity(path.len() + query.len() + 1);
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

/// A 200 with the body in the best encoding the client accepts, or a 304, with the headers
/// every feed response carries.
fn respond(req: &HttpRequest, encoded: &Encoded, format: Format, max_age: u64) -> HttpResponse {
    let validators = &encoded.validators;
    let not_modified = validators.not_modified(req);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(validators.etag.clone()))
        .insert_header(LastModified(validators.last_modified))
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(u32::try_from(max_age).unwrap_or(u32::MAX)),
        ]))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if not_modified {
        return response.finish();
    }
    let encoding = negotiate(req);
    if encoding != ContentEncoding::Identity {
        response.insert_header((header::CONTENT_ENCODING, encoding.as_str()));
    }
    response
        .content_type(format.content_type())
        .body(encoded.body(encoding))
}

/// The encoding to send: brotli or gzip when the client accepts it (by its q-values), else
/// identity.
fn negotiate(req: &HttpRequest) -> ContentEncoding {
    const SUPPORTED: [Encoding; 3] = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
    match AcceptEncoding::parse(req) {
        Ok(accept) => match accept.negotiate(SUPPORTED.iter()) {
            Some(Encoding::Known(encoding)) => encoding,
            _ => ContentEncoding::Identity,
        },
        Err(_) => ContentEncoding::Identity,
    }
}
