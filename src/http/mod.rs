//! HTTP building blocks shared by the routes: problem+json errors, conditional GET, and the
//! edge every request passes (request id, head limits, common headers, request log).

pub mod base;
pub mod conditional;
pub mod edge;
pub mod problem;
pub mod resource;
