//! The Hugging Face API: the raw model, the page reader, the request budget and the client.

pub mod budget;
pub mod client;
/// The raw model lives with the paper it becomes ([`crate::paper::raw`]); named here too.
pub use crate::paper::raw as model;
pub mod page;
