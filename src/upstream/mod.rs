//! The Hugging Face API: the raw model, the page reader, the request budget and the client.

pub mod budget;
pub mod client;
pub mod model;
pub mod page;
