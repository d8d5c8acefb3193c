//! The Hugging Face API: the page reader, the request budget and the client. The raw model it
//! reads lives with the paper it becomes ([`crate::paper::raw`]).

pub mod budget;
pub mod client;
pub mod page;
