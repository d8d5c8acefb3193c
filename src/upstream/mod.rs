//! The Hugging Face API: the raw model and the client.

pub mod client;
pub mod model;
