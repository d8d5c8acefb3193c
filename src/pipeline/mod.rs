//! The request pipeline of a feed, whoever asks for it (a feed route, a page, the export):
//! **plan** (parse the query, work out the render key and a digest's periods, before any list
//! is read: [`plan()`]), **read** (the window's daily lists from the store, [`Plan::read`]),
//! **build** (select, render and compress in the build pool, [`build()`]) and **answer** (the
//! route turns the result into HTTP). Misses run backstage, below the HTTP workers' priority
//! ([`backstage()`]); a miss or a build that cannot start in time is a 503.

use actix_web::web;

use crate::app::state::AppState;
use crate::backstage::Refused;
use crate::backstage::builds::BuildError;
use crate::common::format::Format;
use crate::data::store::Window;
use crate::http::problem::Problem;
use crate::query::params::QueryKind;
use crate::query::topics::Topic;

pub mod cycle;
pub mod home_and_preview;
mod negotiate;
mod plan;
mod serve;

pub use cycle::Cycle;
pub(crate) use plan::one_off;
pub use plan::{Plan, digest_window, plan, plan_for, render_once};
pub use serve::serve_feed;

/// Seconds a client is asked to wait when nothing could be served and upstream said nothing.
const DEFAULT_RETRY_AFTER_SECS: i64 = 30;

/// What a feed route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One item per paper: `/feed*`, `/topics/{name}.*`.
    Papers,
    /// One item per period: `/digest.*`, `/topics/{name}/digest.*`.
    Digest,
    /// `/huggingface/daily-papers[/{cycle}[/{votes}]]`: the path's days and minimum upvotes.
    RssHub { cycle: Cycle, votes: Option<u64> },
}

/// A feed route: what it serves, in which format, for which topic.
#[derive(Debug, Clone, Copy)]
pub struct FeedRoute<'a> {
    pub scope: Scope,
    /// The format the path names; `None` where `format=` says it (default RSS).
    pub format: Option<Format>,
    pub topic: Option<&'a Topic>,
}

impl<'a> FeedRoute<'a> {
    pub fn papers(format: Option<Format>, topic: Option<&'a Topic>) -> Self {
        Self {
            scope: Scope::Papers,
            format,
            topic,
        }
    }

    pub fn digest(format: Format, topic: Option<&'a Topic>) -> Self {
        Self {
            scope: Scope::Digest,
            format: Some(format),
            topic,
        }
    }

    pub(crate) fn kind(&self) -> QueryKind {
        match self.scope {
            Scope::Papers => QueryKind::Feed,
            Scope::Digest => QueryKind::Digest,
            Scope::RssHub { .. } => QueryKind::RssHub,
        }
    }

    /// The render key's route: the path without its format.
    pub(crate) fn name(&self) -> String {
        let topic = self.topic.map(|t| format!("/topics/{}", t.name));
        match (self.scope, topic) {
            (Scope::Papers, Some(topic)) => topic,
            (Scope::Papers, None) => "/feed".to_owned(),
            (Scope::Digest, Some(topic)) => format!("{topic}/digest"),
            (Scope::Digest, None) => "/digest".to_owned(),
            (Scope::RssHub { .. }, _) => "/huggingface/daily-papers".to_owned(),
        }
    }
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
