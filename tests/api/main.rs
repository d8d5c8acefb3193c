mod helpers;

mod feeds;
mod http;
mod params;
mod upstream;
