mod helpers;
mod support;

mod browser;
mod feeds;
mod http;
mod metrics;
mod nginx;
mod pages;
mod params;
mod process;
mod quirks;
mod readiness;
mod render_cache;
mod search;
mod storage;
mod topics;
mod upstream;
