//! Where a miss runs, and what it answers when it cannot: admission backstage (below the HTTP
//! workers' priority, [`crate::backstage`]), a slot in the build pool, and the 503s of a full
//! pool and of a window with no list at all.

use actix_web::web;

use crate::app::state::AppState;
use crate::backstage::Refused;
use crate::backstage::builds::BuildError;
use crate::data::store::Window;
use crate::http::problem::Problem;

/// Seconds a client is asked to wait when nothing could be served and upstream said nothing.
const DEFAULT_RETRY_AFTER_SECS: i64 = 30;

/// Works on a miss backstage ([`crate::backstage`]); one that cannot be admitted in time is a
/// 503 with `Retry-After: 1`, like a build that cannot start.
pub async fn run_backstage<T: Send + 'static>(
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
