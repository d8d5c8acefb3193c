//! What every request handler shares, built once by [`crate::startup`] and handed to the
//! routes as `web::Data<AppState>`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderValue;

use crate::app::background::{BackgroundTask, Readiness};
use crate::app::settings::Settings;
use crate::backstage::Backstage;
use crate::backstage::builds::Builds;
use crate::common::clock::Clock;
use crate::data::store::Store;
use crate::http::base::PublicBases;
use crate::query::rankings::Rankings;
use crate::query::select::Windows;
use crate::query::topics::Topics;
use crate::render::Writing;
use crate::render::cache::RenderCache;
use crate::render::html::HomeCache;
use crate::telemetry::memory::Report;
use crate::telemetry::metrics::Metrics;

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
    /// Digests' rankings of ended periods without filters.
    pub selections: Rankings,
    /// The last windows' "listed on a newer day" flags, for selections over the same days.
    pub windows: Arc<Windows>,
    /// Where feeds and pages that are not cached are built, a bounded number at once.
    pub builds: Builds,
    /// Where the rest of a miss runs (planning, reading days), below the workers' priority.
    pub backstage: Backstage,
    /// The base of the links written for a request.
    pub bases: PublicBases,
    /// The home page, rendered once per link base, day and version of its days.
    pub home_page: HomeCache,
    pub metrics: Metrics,
    /// Whether start-up warm-up has finished (`/readyz`).
    pub readiness: Arc<Readiness>,
    /// `Cache-Control` of feed and OPML responses (`public, max-age=<server.max_age>`),
    /// written once.
    pub cache_control: HeaderValue,
    /// How feeds of papers are written (assembled, except in the tests' reference server).
    pub writing: Writing,
}

/// How often the caches apply what they have pending ([`AppState::upkeep`]).
pub const UPKEEP_PERIOD: Duration = Duration::from_secs(1);

impl AppState {
    /// Applies what every byte-weighed cache has pending, evictions above all: moka lets go
    /// of what is over a budget only then, and on its own only while requests come.
    pub async fn run_pending_tasks(&self) {
        self.store.run_pending_tasks();
        self.renders.run_pending_tasks().await;
        self.selections.run_pending_tasks();
    }

    /// Starts the caches' upkeep on `runtime` (backstage), else the current one: every
    /// [`UPKEEP_PERIOD`] they apply what they have pending ([`AppState::run_pending_tasks`]),
    /// so that what a flood left over a budget is let go even when no request follows
    /// (without it: up to 2.4 MB more resident 30 s after a flood of month digests over a long
    /// archive, BENCHMARKS.md).
    pub fn upkeep(self: Arc<Self>, runtime: Option<tokio::runtime::Handle>) -> BackgroundTask {
        let work = async move {
            let mut timer = tokio::time::interval(UPKEEP_PERIOD);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                timer.tick().await;
                self.run_pending_tasks().await;
            }
        };
        BackgroundTask::start(work, runtime)
    }

    /// What is kept now, by kind (`paperboy_memory_bytes`).
    pub fn memory(&self) -> Report {
        let (recent_lists, older_lists) = self.store.memory();
        let (feeds, fast_path) = self.renders.memory();
        Report {
            recent_lists,
            older_lists,
            feeds,
            fast_path,
            selections: self.selections.bytes() + self.windows.bytes(),
            pages: self.home_page.bytes(),
            tables: self.store.table_bytes()
                + (crate::render::cache::SEEN_SLOTS * std::mem::size_of::<u64>()) as u64,
            compressors: crate::common::stitch::compressor_bytes(),
        }
    }
}
