//! HTTP building blocks shared by the routes: problem+json errors and conditional GET.

pub mod conditional;
pub mod problem;
