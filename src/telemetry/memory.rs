//! The memory budget: how `cache.max_memory` is shared between what is kept besides the
//! recent daily lists, each part bounded in bytes by a cache that weighs what it holds.
//!
//! | part | share | what |
//! |---|---|---|
//! | older lists | 1/4 | daily lists older than `feeds.max_days` days, with their rendered items and word index |
//! | templates | 1/8 | feeds rendered once with a placeholder self link |
//! | bodies | 1/8 | feeds for one self link, in every encoding (spliced again from the template when let go) |
//! | fast path | 1/16 | request URLs and what they resolved to |
//! | selections | 1/16 | digests' rankings of ended periods (3/4 of the part), and the last windows' "listed on a newer day" flags (1/4, at most 16 windows) |
//! | the rest | 3/8 | the home page, the table of keys seen once, the store's per-date tables, the build threads' compressors (about 380 KB each), and room for what the allocator keeps around what is weighed (measured with 1,000 stored days, 30 s after a sweep over them, a flood of searches or one of month digests: 0.2 to 0.4 times as much again) |

/// What glibc adds to each allocation: its header and the rounding of its size (about 16
/// bytes, measured with heaptrack). Resident memory too, so weighed with what it holds.
pub const ALLOCATION_BYTES: usize = 16;

/// What an `Arc<T>` holds in the heap besides `T`: its two reference counts and the
/// allocation's [`ALLOCATION_BYTES`]. A `Weak` keeps all of it (not what `T` points to) after
/// the last `Arc` is gone.
pub const ARC_OVERHEAD: usize = 2 * std::mem::size_of::<usize>() + ALLOCATION_BYTES;

/// What an `Arc<T>` holds in the heap: `T` itself and [`ARC_OVERHEAD`].
pub const fn arc_bytes<T>() -> usize {
    std::mem::size_of::<T>() + ARC_OVERHEAD
}

/// Bytes a cache entry costs beyond its key and value: moka's bookkeeping (its hash-table
/// bucket, entry, entry information, shared key and place in the eviction order: 237 bytes
/// in 7 allocations, measured with a counting allocator on moka 0.12), each allocation with
/// its [`ALLOCATION_BYTES`].
pub const CACHE_ENTRY_BYTES: usize = 237 + 7 * ALLOCATION_BYTES;

/// The weight of a cache entry whose key and value hold `bytes`: those and
/// [`CACHE_ENTRY_BYTES`], in the `u32` moka weighs with (at most `u32::MAX`). Every cache of
/// the budget weighs its entries with it.
pub fn entry_weight(bytes: usize) -> u32 {
    u32::try_from(bytes.saturating_add(CACHE_ENTRY_BYTES)).unwrap_or(u32::MAX)
}

/// Bytes each part may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub older_lists: u64,
    pub templates: u64,
    pub bodies: u64,
    pub fast_path: u64,
    pub selections: u64,
}

impl Budget {
    /// The parts of `max_memory` bytes.
    pub fn split(max_memory: u64) -> Budget {
        Budget {
            older_lists: max_memory / 4,
            templates: max_memory / 8,
            bodies: max_memory / 8,
            fast_path: max_memory / 16,
            selections: max_memory / 16,
        }
    }

    /// What the parts add up to (the rest of `max_memory` is for the small fixed tables).
    pub fn total(&self) -> u64 {
        self.older_lists + self.templates + self.bodies + self.fast_path + self.selections
    }
}

/// What is kept, by kind, in bytes (`paperboy_memory_bytes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// The lists of the last `feeds.max_days` days: not weighed against the budget.
    pub recent_lists: u64,
    pub older_lists: u64,
    /// Templates and bodies of rendered feeds, every encoding counted.
    pub feeds: u64,
    pub fast_path: u64,
    pub selections: u64,
    pub pages: u64,
    /// Fixed tables: keys seen once, per-date versions and what is known of each date.
    pub tables: u64,
    /// The deflate compressors the build threads keep ([`crate::common::stitch`]).
    pub compressors: u64,
}

impl Report {
    /// Each kind with its bytes: the one list of the kinds `paperboy_memory_bytes` reports.
    /// Every kind but `recent_lists` is weighed against `cache.max_memory`.
    pub fn by_kind(&self) -> [(&'static str, u64); 8] {
        [
            ("recent_lists", self.recent_lists),
            ("older_lists", self.older_lists),
            ("feeds", self.feeds),
            ("fast_path", self.fast_path),
            ("selections", self.selections),
            ("pages", self.pages),
            ("tables", self.tables),
            ("compressors", self.compressors),
        ]
    }

    /// The kinds [`Report::by_kind`] reports, in its order.
    pub fn kinds() -> [&'static str; 8] {
        Report::default().by_kind().map(|(kind, _)| kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_weighs_its_bytes_and_the_cache_s_bookkeeping_up_to_what_moka_counts() {
        assert_eq!(entry_weight(1000), (1000 + CACHE_ENTRY_BYTES) as u32);
        assert_eq!(entry_weight(usize::MAX), u32::MAX);
        assert_eq!(entry_weight(u32::MAX as usize), u32::MAX);
    }

    #[test]
    fn the_parts_leave_three_eighths_for_the_fixed_tables_and_the_allocator() {
        let budget = Budget::split(32 << 20);
        assert_eq!(budget.older_lists, 8 << 20);
        assert_eq!(budget.templates, 4 << 20);
        assert_eq!(budget.total(), 20 << 20);
    }
}
