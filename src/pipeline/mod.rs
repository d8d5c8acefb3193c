//! The request pipeline of a feed, whoever asks for it (a feed route, a page, the export):
//! **plan** (parse the query, work out the render key and a digest's periods, before any list
//! is read: [`plan()`]), **read** (the window's daily lists from the store, `Plan::read`),
//! **build** (select, render and compress in the build pool, [`build()`]) and **answer** (the
//! route turns the result into HTTP). Misses run backstage, below the HTTP workers' priority
//! ([`run_backstage`]); a miss or a build that cannot start in time is a 503.

mod admission;
pub mod cycle;
mod feed_route;
pub mod home_and_preview;
mod negotiate;
mod plan;
mod serve;

pub use admission::{build, run_backstage, unavailable};
pub use cycle::Cycle;
pub use feed_route::{FeedRoute, Scope};
pub use plan::{Plan, digest_window, plan, plan_for, render_once};
pub use serve::{feed_at, serve_feed};
