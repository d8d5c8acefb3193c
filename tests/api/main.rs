mod helpers;

mod feeds;
mod http;
mod params;
mod quirks;
mod search;
mod upstream;
