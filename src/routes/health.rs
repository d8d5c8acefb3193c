//! `/healthz`: the process is up. `/readyz`: start-up warm-up has finished. Neither calls
//! upstream, and readiness never depends on upstream being up: a paperboy that cannot reach
//! Hugging Face still serves what it has, so taking it out of a load balancer would not help.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use crate::http::problem::Problem;
use crate::routes::get_or_head;
use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthz")
            .route(web::route().guard(get_or_head()).to(healthz))
            .default_service(web::to(|| async {
                Problem::method_not_allowed("GET, HEAD")
            })),
    );
    cfg.service(
        web::resource("/readyz")
            .route(web::route().guard(get_or_head()).to(readyz))
            .default_service(web::to(|| async {
                Problem::method_not_allowed("GET, HEAD")
            })),
    );
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
