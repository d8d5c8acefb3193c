//! From a raw query string to the papers it selects: parameters, the search expression, and
//! selection.

pub mod decode;
pub mod index;
pub mod params;
pub mod pattern;
pub mod period;
pub mod search;
pub mod select;
