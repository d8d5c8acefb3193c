//! What every request handler shares, built once by [`crate::startup`] and handed to the
//! routes as `web::Data<AppState>`.

use std::sync::Arc;

use actix_web::http::header::HeaderValue;

use crate::background::Readiness;
use crate::builds::Builds;
use crate::clock::Clock;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::pages::HomeCache;
use crate::render_cache::RenderCache;
use crate::store::Store;
use crate::topics::Topics;

/// What every request handler shares. Built once, outside the server closure, so that every
/// worker sees the same caches.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    /// The topics of the settings, parsed once.
    pub topics: Topics,
    /// Rendered feeds, by canonical query and data version.
    pub renders: RenderCache,
    /// Where feeds and pages that are not cached are built, a bounded number at once.
    pub builds: Builds,
    /// The home page, rendered once per data generation and day.
    pub home_page: HomeCache,
    pub metrics: Metrics,
    /// Whether start-up warm-up has finished (`/readyz`).
    pub readiness: Arc<Readiness>,
    /// `Cache-Control` of feed and OPML responses (`public, max-age=<server.max_age>`),
    /// written once.
    pub cache_control: HeaderValue,
}
