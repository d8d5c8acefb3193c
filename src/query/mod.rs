//! From a raw query string to the papers it selects: parameters and their limits, the search
//! expression, saved topics, and selection (with the word-index narrowing, the kept windows and
//! the ended periods' rankings).

pub mod decode;
pub mod limits;
pub mod narrow;
pub mod params;
pub mod pattern;
pub mod period;
pub mod rankings;
pub mod search;
pub mod select;
pub mod topics;
