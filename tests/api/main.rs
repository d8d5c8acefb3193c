mod helpers;

mod browser;
mod feeds;
mod http;
mod pages;
mod params;
mod quirks;
mod render_cache;
mod search;
mod topics;
mod upstream;
