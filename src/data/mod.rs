//! The papers and where they come from: a paper and its raw upstream shape, the daily list (with
//! its word index), the Hugging Face client, the disk store of daily lists, and the memory store
//! that answers for a window of dates from memory, disk or upstream.

pub mod cluster;
pub mod daily_list;
pub mod disk;
pub mod paper;
pub mod store;
pub mod upstream;
pub mod word_index;
