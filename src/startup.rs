//! Building the application: shared state, the bound listener (port 0 works), the server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::render_cache::RenderCache;
use crate::routes;
use crate::store::Store;
use crate::topics::Topics;
use crate::upstream::client::UpstreamClient;

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
}

/// A bound, not yet running, paperboy.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds with the given clock (tests pin it).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let address = format!("{}:{}", settings.server.bind, settings.server.port);
        let listener = TcpListener::bind(&address)
            .with_context(|| format!("Failed to listen on {address}"))?;
        let port = listener
            .local_addr()
            .context("Failed to read the bound port")?
            .port();
        let mut settings = settings;
        settings.server.public_url = settings.public_url(port);
        let topics = settings
            .parsed_topics()
            .map_err(|e| anyhow::anyhow!("invalid setting {e}"))?;

        let upstream = Arc::new(UpstreamClient::new(&settings.upstream, clock.clone())?);
        let store = Arc::new(Store::new(settings.cache.clone(), upstream, clock.clone()));
        let renders = RenderCache::new(settings.cache.render_capacity.as_u64());
        let state = web::Data::new(AppState {
            settings,
            store,
            clock,
            topics,
            renders,
        });

        let shutdown_timeout = state.settings.server.shutdown_timeout.as_secs();
        let server_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(server_state.clone())
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap(actix_web::middleware::from_fn(
                    crate::telemetry::log_request,
                ))
                .configure(routes::config)
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)
        .context("Failed to start the HTTP server")?
        .shutdown_timeout(shutdown_timeout)
        .run();
        Ok(Application {
            port,
            server,
            state,
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

    /// Serves until SIGTERM or SIGINT, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
