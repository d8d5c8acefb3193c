//! The HTTP routes. Each module registers its own paths with `config`.

use actix_web::{HttpRequest, web};

use crate::backstage::Refused;
use crate::builds::BuildError;
use crate::http::problem::Problem;
use crate::state::AppState;

pub mod feeds;
pub mod health;
pub mod icons;
pub mod metrics;
pub mod pages;
pub mod rsshub;
pub mod topics;

/// Registers every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    feeds::config(cfg);
    health::config(cfg);
    icons::config(cfg);
    topics::config(cfg);
    pages::config(cfg);
    rsshub::config(cfg);
    metrics::config(cfg);
}

/// The answer for any path no route knows.
pub async fn not_found(req: HttpRequest) -> Problem {
    let path: String = crate::text::clean_inline(req.path())
        .chars()
        .take(100)
        .collect();
    Problem::not_found(format!(
        "There is nothing at {path}; feeds are at /feed.rss, /feed.atom and /feed.json, and the home page / lists the topics."
    ))
}

/// A route guard for GET and HEAD.
pub fn get_or_head() -> impl actix_web::guard::Guard {
    actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head())
}

/// Works on a miss backstage ([`crate::backstage`]); one that cannot be admitted in time is a
/// 503 with `Retry-After: 1`, like a build that cannot start.
pub async fn backstage<T: Send + 'static>(
    state: &web::Data<AppState>,
    task: impl FnOnce(
        web::Data<AppState>,
    ) -> futures_util::future::BoxFuture<'static, Result<T, Problem>>,
) -> Result<T, Problem> {
    match state.backstage.admit(task(web::Data::clone(state))).await {
        Ok(result) => result,
        Err(Refused::Busy) => {
            state.metrics.build_shed();
            Err(busy())
        }
        Err(Refused::Lost) => {
            tracing::error!("a backstage task was lost");
            Err(Problem::internal(
                "The answer could not be worked out; this is a bug in paperboy.",
            ))
        }
    }
}

fn busy() -> Problem {
    Problem::unavailable(
        "paperboy is busy building other feeds; try again in a second.",
        1,
    )
}

/// Runs `job` in the build pool; a build that cannot start in time is a 503 with
/// `Retry-After: 1`.
pub async fn build<T: Send + 'static>(
    state: &AppState,
    job: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    match state.builds.run(job).await {
        Ok(result) => result,
        Err(BuildError::Overloaded) => {
            state.metrics.build_shed();
            Err(busy())
        }
        Err(BuildError::Failed(e)) => {
            tracing::error!(error = %e, "a feed build failed");
            Err(Problem::internal(
                "The feed could not be built; this is a bug in paperboy.",
            ))
        }
    }
}
