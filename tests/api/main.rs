mod helpers;
mod support;

mod feeds;
mod http;
mod metrics;
mod nginx;
mod params;
mod process;
mod readiness;
mod storage;
mod upstream;
