//! What every request goes through before and after its route: a request id (taken from
//! `X-Request-Id` when it is a sane token, else made up) on the response and on every log line
//! of the request; the limits on the request head (414 for a query string longer than
//! `server.max_query`, 431 for oversized headers, 400 for a query string that does not decode
//! strictly), answered as problem+json before any route parses anything; paths with trailing
//! or repeated slashes normalized; `X-Content-Type-Options: nosniff` on every response; one log
//! line and the HTTP metrics per request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse, Url};
use actix_web::http::header::{HeaderName, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use actix_web::http::uri::{PathAndQuery, Uri};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use tracing::Instrument;

use crate::http::problem::Problem;
use crate::query::decode::decode_pairs;
use crate::telemetry::metrics::Metrics;

/// The request id header, read and written.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id taken from a client.
const MAX_REQUEST_ID: usize = 64;
/// Header bytes (names and values) a request may carry; the HTTP parser itself refuses heads
/// over 128 KiB or with more than 96 headers (431, without a body).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What the edge needs of the application, given to the app as its own `web::Data` (so that
/// the HTTP layer does not reach up into the application's state).
#[derive(Clone)]
pub struct Edge {
    /// `server.max_query`: bytes a query string may have.
    pub max_query: usize,
    pub metrics: Metrics,
}

/// The middleware: wrap the whole app with `middleware::from_fn(edge::handle)`, with an
/// [`Edge`] in its app data.
pub async fn handle(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %request_id);
    async move {
        let started = std::time::Instant::now();
        let edge = req.app_data::<web::Data<Edge>>().cloned();
        let max_query = edge.as_ref().map_or(4096, |e| e.max_query);
        let mut response = match refused(&req, max_query) {
            Some(problem) => req.into_response(problem.error_response()),
            None => {
                normalize_path(&mut req);
                next.call(req).await?.map_into_boxed_body()
            }
        };
        let headers = response.headers_mut();
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert(REQUEST_ID, value);
        }
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let status = response.status();
        let seconds = started.elapsed().as_secs_f64();
        if let Some(edge) = edge {
            edge.metrics.http_request(&route, status, seconds);
        }
        let request = response.request();
        tracing::info!(
            method = %request.method(),
            %route,
            path = %crate::common::text::clean_inline(request.path()).chars().take(200).collect::<String>(),
            status = status.as_u16(),
            duration_ms = seconds * 1000.0,
            "request"
        );
        Ok(response)
    }
    .instrument(span)
    .await
}

/// Routes match paths without a trailing slash and with single slashes: `/feed.atom/` and
/// `//feed.atom` reach `/feed.atom`. Most paths need nothing, and cost one scan.
fn normalize_path(req: &mut ServiceRequest) {
    let Some(path) = normalized(req.path()) else {
        return;
    };
    let uri = &req.head().uri;
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) else {
        return;
    };
    parts.path_and_query = Some(path_and_query);
    let Ok(uri) = Uri::from_parts(parts) else {
        return;
    };
    // Nothing is matched yet (routing comes after): the new path replaces the old whole.
    req.match_info_mut().set(Url::new(uri.clone()));
    req.head_mut().uri = uri;
}

/// `path` with repeated slashes merged and trailing ones trimmed, when that changes it.
fn normalized(path: &str) -> Option<String> {
    let trailing = path.len() > 1 && path.ends_with('/');
    if !trailing && !path.contains("//") {
        return None;
    }
    let mut normal = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        normal.push('/');
        normal.push_str(segment);
    }
    if normal.is_empty() {
        normal.push('/');
    }
    (normal != path).then_some(normal)
}

/// The request's own id when it is a sane token (1 to 64 of `A-Z a-z 0-9 . _ : -`), else a
/// new random one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()))
}

fn is_sane_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The problem for a request head over the limits, if it is.
fn refused(req: &ServiceRequest, max_query: usize) -> Option<Problem> {
    let length = req.query_string().len();
    if length > max_query {
        return Some(Problem::uri_too_long(format!(
            "The query string is {length} bytes long; shorten it to at most {max_query} bytes."
        )));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(Problem::headers_too_large(format!(
            "The request headers are {header_bytes} bytes long; send at most {MAX_HEADER_BYTES} bytes of headers."
        )));
    }
    // Every route decodes strictly, those that read no parameter too. Without a `%` there is
    // nothing that can fail to decode (the string is UTF-8 already): no work on the hot path.
    let query = req.query_string();
    if query.contains('%')
        && let Err(e) = decode_pairs(query)
    {
        return Some(Problem::bad_parameter(e.parameter, e.detail));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_trailing_and_repeated_slashes() {
        for (path, normal) in [
            ("/feed.atom/", Some("/feed.atom")),
            ("//feed.atom", Some("/feed.atom")),
            ("/topics//ml///feed.rss//", Some("/topics/ml/feed.rss")),
            ("//", Some("/")),
            ("/feed.atom", None),
            ("/", None),
            ("", None),
        ] {
            assert_eq!(normalized(path).as_deref(), normal, "{path:?}");
        }
    }

    #[test]
    fn only_sane_tokens_are_taken_as_request_ids() {
        for id in ["abc", "0f3a-12_b.c:d", &"a".repeat(64)] {
            assert!(is_sane_id(id), "{id}");
        }
        for id in ["", "a b", "a\nb", "<script>", &"a".repeat(65), "ü"] {
            assert!(!is_sane_id(id), "{id:?}");
        }
    }
}
