mod helpers;

mod browser;
mod feeds;
mod http;
mod pages;
mod params;
mod quirks;
mod search;
mod topics;
mod upstream;
