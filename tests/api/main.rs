mod helpers;

mod feeds;
