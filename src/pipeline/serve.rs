//! Serving a feed request, whichever route it came by (`/feed*`, `/digest.*`, `/topics/*`, the
//! RSSHub paths): [`serve_feed`]: a cache lookup, then on a miss the plan, the window's daily
//! lists and the build ([`super::plan`]), then the answer with validators (or 304) in the
//! negotiated encoding.

use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::admission::{build, run_backstage};
use super::feed_route::{FeedRoute, Scope};
use super::plan::{one_off, plan_for};
use crate::app::state::AppState;
use crate::common::format::Format;
use crate::http::problem::Problem;
use crate::render::cache::{Encoded, Resolved};

use super::negotiate::negotiate;

/// Answers one feed request: `path_format` is the format the path names (`None` for
/// `/feed`, where `format=` may say it), `topic` the topic the request narrows, if any.
///
/// Three steps: a cache lookup (a URL polled before, or a feed rendered before for a
/// canonical-equal query), then, only on a miss, a build in the bounded build pool
/// ([`crate::backstage::builds`]), then the answer with validators (or 304) in the negotiated encoding.
pub async fn serve_feed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    route: FeedRoute<'_>,
) -> Result<HttpResponse, Problem> {
    let now = state.clock.now();
    let today = now.date_naive();
    let base = state.bases.for_request(req);
    let url = request_url(&base, req.path(), req.query_string());
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
        self_url: self_url(&base, req.path(), req.query_string()),
        gzip: negotiate(req, false) == ContentEncoding::Gzip,
        base,
        url,
        now,
    };
    let (format, encoded) = run_backstage(state, |state| {
        Box::pin(async move { resolve(&state, miss).await })
    })
    .await?;
    // A 304 when the client's copy is current, else the body in the encoding the client
    // prefers, compressed in the build pool first if it is not yet.
    match answer_ready(req, state, &encoded, format) {
        Some(response) => Ok(response),
        None => compress_and_answer(req, state, &encoded, format).await,
    }
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

/// The feed at `path?query` (with links from `base`), as a GET of it gets it, for the hub's
/// deliveries: from the fast path, or planned, read and built here (the hub runs backstage).
pub async fn feed_at(
    state: &AppState,
    route: FeedRoute<'_>,
    base: Arc<str>,
    (path, query): (&str, &str),
) -> Result<(Format, Arc<Encoded>), Problem> {
    let now = state.clock.now();
    let url = request_url(&base, path, query);
    let store = &state.store;
    if let Some(hit) = state
        .renders
        .resolved(&url, now.date_naive(), now, |oldest, newest| {
            store.window_version(oldest, newest)
        })
    {
        return Ok(hit);
    }
    let miss = Miss {
        scope: route.scope,
        format: route.format,
        topic: route.topic.map(|t| t.name.clone()),
        query: query.to_owned(),
        self_url: self_url(&base, path, query),
        gzip: false,
        base,
        url,
        now,
    };
    resolve(state, miss).await
}

/// The links' base, the request's path and query as received: the fast path's key.
fn request_url(base: &str, path: &str, query: &str) -> String {
    let mut url = String::with_capacity(base.len() + path.len() + query.len() + 1);
    url.push_str(base);
    url.push_str(path);
    url.push('?');
    url.push_str(query);
    url
}

/// `<public_url><path>?<query as received>`, cleaned for XML.
fn self_url(public_url: &str, path: &str, query: &str) -> String {
    let url = if query.is_empty() {
        format!("{public_url}{path}")
    } else {
        format!("{public_url}{path}?{query}")
    };
    crate::common::text::clean_inline(&url)
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
    if let Some(link) = &encoded.link {
        response.insert_header((header::LINK, link.clone()));
    }
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
