//! What operators poll. `/healthz`: the process is up. `/readyz`: start-up warm-up has
//! finished. Neither calls upstream, and readiness never depends on upstream being up: a
//! paperboy that cannot reach Hugging Face still serves what it has, so taking it out of a load
//! balancer would not help. `/metrics`: every series in the Prometheus text format; the gauges
//! that describe the cache are computed at scrape time, so they are never older than the scrape.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use crate::app::state::AppState;
use crate::http::problem::Problem;
use crate::http::resource::get;
use crate::telemetry::metrics::CONTENT_TYPE;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/healthz", healthz));
    cfg.service(get("/readyz", readyz));
    cfg.service(get("/metrics", metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body("ok")
}

/// 200 once warm-up has finished, else 503; the body tells how old the newest data is and
/// when upstream last answered well and badly.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let now = state.clock.now();
    let ready = state.readiness.is_ready();
    let newest = state.store.newest_fetched_at();
    let upstream = state.store.upstream().status();
    let body = json!({
        "status": if ready { "ready" } else { "warming_up" },
        "newest_data_fetched_at": newest.map(timestamp),
        "newest_data_age_seconds": newest.map(|at| (now - at).num_seconds().max(0)),
        "daily_lists_cached": state.store.lists_cached(),
        "cluster": match state.store.cluster() {
            None => "off",
            Some(cluster) if cluster.is_up() => "ok",
            Some(_) => "unreachable",
        },
        "upstream": {
            "last_success": upstream.last_success.map(timestamp),
            "last_error": upstream.last_error.map(|(at, error)| json!({
                "at": timestamp(at),
                "error": error,
            })),
        },
    });
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
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
    state
        .metrics
        .set_cluster_up(state.store.cluster().is_some_and(|c| c.is_up()));
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
