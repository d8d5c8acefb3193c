//! paperboy: Hugging Face Daily Papers as RSS, Atom and JSON feeds.
//!
//! The folders are the layers, each using only those below it (ARCHITECTURE.md):
//! `common`, `telemetry` and `backstage` at the bottom; then `data`, `query`, `http`,
//! `render`, `app`, `pipeline`, `websub`, `routes`, `startup` and `commands`.

pub mod app;
pub mod backstage;
pub mod commands;
pub mod common;
pub mod data;
pub mod http;
pub mod pipeline;
pub mod query;
pub mod render;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod websub;
