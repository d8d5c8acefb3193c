//! Building the application: shared state, the bound listener (port 0 works), the server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::HeaderValue;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::app::background::{self, Background, BackgroundContext, BackgroundTask, Readiness};
use crate::app::settings::Settings;
use crate::app::state::AppState;
use crate::backstage::Backstage;
use crate::backstage::builds::Builds;
use crate::common::clock::{Clock, SystemClock};
use crate::data::cluster::Cluster;
use crate::data::disk::{ReadLimits, Storage};
use crate::data::store::Store;
use crate::data::upstream::client::UpstreamClient;
use crate::http::base::PublicBases;
use crate::http::edge::Edge;
use crate::query::rankings::Rankings;
use crate::query::select::Windows;
use crate::render::Writing;
use crate::render::cache::RenderCache;
use crate::render::html::HomeCache;
use crate::routes;
use crate::telemetry::memory::Budget;
use crate::telemetry::metrics::Metrics;
use crate::websub::{Hub, HubTask};

pub mod allocator;
pub mod logs;

/// Blocking threads of the backstage runtime at most: reads of stored days and writes, at once
/// (more read no faster on two cores, and each read's transient allocations raise the peak).
const BACKSTAGE_BLOCKING_THREADS: usize = 2;
/// Misses worked on at once, per build slot: one each (more admitted at once raised the peak
/// of a date sweep by 6 MB and answered no faster, `bench/archive.sh`).
const MISSES_PER_BUILD: usize = 1;

/// One warning when links will come from requests' hosts on an instance reachable from
/// elsewhere: behind a proxy or a published container port, `server.public_url` is what
/// makes them right.
fn warn_without_public_url(settings: &Settings) {
    let loopback = settings
        .server
        .bind
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    if settings.server.public_url.is_empty() && !loopback {
        tracing::warn!(
            bind = %settings.server.bind,
            "server.public_url is not set: links in feeds, OPML and pages are built from each request's Host header (http://<host>), or http://localhost:<port> without one; set server.public_url (PAPERBOY_SERVER__PUBLIC_URL) to the address readers use"
        );
    }
}

/// A bound, not yet running, paperboy.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// Warm-up and the refresh timer; stopped with the server.
    background: Option<BackgroundTask>,
    /// The caches' upkeep; stopped with the server.
    upkeep: BackgroundTask,
    /// The WebSub hub's task (`websub.enabled`); stopped with the server.
    hub: Option<HubTask>,
}

/// The data directory of the settings, opened (none when `storage.data_dir` is empty).
fn open_storage(settings: &Settings) -> anyhow::Result<Option<Arc<Storage>>> {
    let limits = ReadLimits {
        max_bytes: settings.upstream.max_body.as_u64(),
        max_items: crate::data::upstream::client::MAX_ITEMS,
    };
    let Some(dir) = settings.data_dir() else {
        return Ok(None);
    };
    let storage = Storage::open(&dir, limits).with_context(|| {
        format!(
            "storage.data_dir {:?} cannot be used (fix its permissions, or set it empty to run \
             without storage)",
            settings.storage.data_dir
        )
    })?;
    Ok(Some(Arc::new(storage)))
}

/// The store of daily lists, with its upstream client, storage and (when serving with
/// `cluster.url` set) the shared server, which is used where the store works: on the
/// backstage runtime. The commands (no backstage) work alone.
fn open_store(
    settings: &Settings,
    clock: &Arc<dyn Clock>,
    metrics: &Metrics,
    storage: &Option<Arc<Storage>>,
    backstage: &Backstage,
    budget: &Budget,
) -> anyhow::Result<Arc<Store>> {
    let cluster = match backstage.handle() {
        Some(handle) => {
            let _in_backstage = handle.enter();
            Cluster::start(&settings.cluster)?
        }
        None => None,
    };
    let upstream = Arc::new(
        UpstreamClient::new(
            &settings.upstream,
            settings.feeds.earliest_date,
            clock.clone(),
            metrics.clone(),
        )?
        .with_cluster(cluster.clone()),
    );
    let store = Arc::new(
        Store::new(
            settings.cache.clone(),
            settings.feeds.max_days,
            budget.older_lists,
            upstream,
            clock.clone(),
            metrics.clone(),
        )
        .with_storage(storage.clone())
        .with_runtime(backstage.handle())
        .with_cluster(cluster),
    );
    store.follow_cluster();
    Ok(store)
}

/// The state every handler shares, and the storage it writes to (if any). Links are built
/// from `server.public_url`, or, when it is empty, from each request's host (`port` is the
/// port bound, for the fallback `http://localhost:<port>`).
fn shared_state(
    settings: Settings,
    clock: Arc<dyn Clock>,
    readiness: Arc<Readiness>,
    port: u16,
    backstage: Backstage,
    writing: Writing,
) -> anyhow::Result<(AppState, Option<Arc<Storage>>)> {
    let storage = open_storage(&settings)?;
    let topics = settings
        .parsed_topics()
        .map_err(|e| anyhow::anyhow!("invalid setting {e}"))?;
    let metrics = Metrics::new().context("Failed to define the metrics")?;
    let budget = Budget::split(settings.cache.max_memory.as_u64());
    let store = open_store(&settings, &clock, &metrics, &storage, &backstage, &budget)?;
    let build_slots = settings.server.builds();
    let renders = RenderCache::new(&budget);
    let bases = PublicBases::new(&settings.server.public_url, port);
    let cache_control = HeaderValue::from_str(&format!(
        "public, max-age={}",
        settings.server.max_age.as_secs()
    ))?;
    let state = AppState {
        cache_control,
        settings,
        store,
        clock,
        topics,
        renders,
        selections: Rankings::new(budget.selections - budget.selections / 4),
        windows: Arc::new(Windows::new(budget.selections / 4)),
        builds: Builds::new(build_slots),
        backstage,
        bases,
        home_page: HomeCache::default(),
        metrics,
        readiness,
        writing,
    };
    Ok((state, storage))
}

/// The state the feeds are rendered from, without a server: for the commands that fetch and
/// export (`paperboy fetch`, `paperboy export`). Self links and ids are built from
/// `server.public_url` (or `http://<bind>:<port>`).
pub fn offline_state(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let mut settings = settings;
    settings.server.public_url = settings.public_url(settings.server.port);
    // A static site has no hub: its feeds name none.
    settings.websub.enabled = false;
    let port = settings.server.port;
    let (state, _) = shared_state(
        settings,
        clock,
        Arc::new(Readiness::new(true)),
        port,
        Backstage::inline(),
        Writing::Assembled,
    )?;
    Ok(state)
}

/// The HTTP server on `listener`, with `workers` workers, serving the routes with `state`.
fn http_server(
    state: &web::Data<AppState>,
    hub: Option<web::Data<Hub>>,
    listener: TcpListener,
    workers: usize,
) -> anyhow::Result<Server> {
    let server_settings = &state.settings.server;
    let shutdown_timeout = server_settings.shutdown_timeout.as_secs();
    // actix counts connections per worker.
    let connections_per_worker = server_settings.max_connections.div_ceil(workers).max(1);
    let client_timeout = server_settings.client_timeout;
    let server_state = state.clone();
    let edge = web::Data::new(Edge {
        max_query: server_settings.max_query,
        metrics: state.metrics.clone(),
    });
    let server = HttpServer::new(move || {
        let app = App::new();
        let app = match &hub {
            Some(hub) => app.app_data(hub.clone()),
            None => app,
        };
        app.app_data(server_state.clone())
            .app_data(edge.clone())
            .wrap(actix_web::middleware::from_fn(crate::http::edge::handle))
            .configure(routes::config)
            .default_service(web::to(routes::not_found))
    })
    .workers(workers)
    .max_connections(connections_per_worker)
    .client_request_timeout(client_timeout)
    .listen(listener)
    .context("Failed to start the HTTP server")?
    .shutdown_timeout(shutdown_timeout)
    .run();
    Ok(server)
}

impl Application {
    /// Builds what `paperboy serve` runs: the system clock, warm-up and the refresh timer.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with(settings, Arc::new(SystemClock), Background::On).await
    }

    /// Builds with the given clock (tests pin it) and no background work, so that a test's
    /// upstream requests are its own.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        Self::build_with(settings, clock, Background::Off).await
    }

    /// Builds with the given clock, with or without warm-up and the refresh timer. The
    /// listener is bound and the server running before warm-up starts.
    pub async fn build_with(
        settings: Settings,
        clock: Arc<dyn Clock>,
        background: Background,
    ) -> anyhow::Result<Application> {
        Self::build_writing(settings, clock, background, Writing::Assembled).await
    }

    /// Like [`Application::build_with`], writing feeds of papers as `writing` says: the tests
    /// build a second server that writes them whole, to compare the served feeds against.
    pub async fn build_writing(
        settings: Settings,
        clock: Arc<dyn Clock>,
        background: Background,
        writing: Writing,
    ) -> anyhow::Result<Application> {
        let address = format!("{}:{}", settings.server.bind, settings.server.port);
        let listener = TcpListener::bind(&address)
            .with_context(|| format!("Failed to listen on {address}"))?;
        let port = listener
            .local_addr()
            .context("Failed to read the bound port")?
            .port();
        warn_without_public_url(&settings);
        let readiness = Arc::new(Readiness::new(background == Background::Off));
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let backstage = Backstage::start(
            workers,
            BACKSTAGE_BLOCKING_THREADS,
            settings.server.builds() * MISSES_PER_BUILD,
            crate::backstage::builds::BUILD_WAIT,
        )
        .context("Failed to start the backstage runtime")?;
        let (state, storage) = shared_state(settings, clock, readiness, port, backstage, writing)?;
        let state = web::Data::new(state);
        let hub = match state.settings.websub.enabled {
            true => {
                let runtime = state
                    .backstage
                    .handle()
                    .unwrap_or_else(tokio::runtime::Handle::current);
                Some(Arc::new(Hub::new(&state, runtime)?))
            }
            false => None,
        };
        let server = http_server(&state, hub.clone().map(web::Data::from), listener, workers)?;
        let hub = hub.map(|hub| hub.spawn(state.clone()));
        let background = (background == Background::On).then(|| {
            background::spawn(
                BackgroundContext {
                    store: state.store.clone(),
                    storage,
                    clock: state.clock.clone(),
                    readiness: state.readiness.clone(),
                    warm_days: state.settings.feeds.default_days,
                    recent_days: state.settings.feeds.max_days,
                    period: background::refresh_period(state.settings.cache.recent_ttl),
                },
                state.backstage.handle(),
            )
        });
        let upkeep = state.clone().into_inner().upkeep(state.backstage.handle());
        Ok(Application {
            port,
            server,
            state,
            background,
            upkeep,
            hub,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests inspect the store through it).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM or SIGINT, then finishes in-flight requests (for at most
    /// `server.shutdown_timeout`) and stops the background work.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        drop(self.background);
        drop(self.upkeep);
        if let Some(hub) = self.hub {
            hub.stop().await;
        }
        result
    }
}
