//! `/metrics`: every series in the Prometheus text format. The gauges that describe the cache
//! are computed at scrape time, so they are never older than the scrape.

use actix_web::{HttpResponse, web};

use crate::http::problem::Problem;
use crate::metrics::CONTENT_TYPE;
use crate::routes::get_or_head;
use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .route(web::route().guard(get_or_head()).to(metrics))
            .default_service(web::to(|| async {
                Problem::method_not_allowed("GET, HEAD")
            })),
    );
}

async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let now = state.clock.now();
    let age = state
        .store
        .newest_fetched_at()
        .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0);
    state.metrics.set_cache_state(
        age,
        state.store.lists_cached(),
        state.renders.weighted_size(),
    );
    let memory = state.memory();
    for (kind, bytes) in memory.by_kind() {
        state.metrics.set_memory(kind, bytes);
    }
    let body = state.metrics.render().map_err(|e| {
        tracing::error!(error = %e, "failed to render the metrics");
        Problem::internal("The metrics could not be written; this is a bug in paperboy.")
    })?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
