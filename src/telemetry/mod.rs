//! What the process measures of itself: the Prometheus metrics, and the memory budget that
//! everything kept beyond the recent lists is weighed against.

pub mod memory;
pub mod metrics;
