mod helpers;

mod browser;
mod feeds;
mod http;
mod pages;
mod params;
mod topics;
mod upstream;
