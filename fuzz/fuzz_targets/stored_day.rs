//! A stored daily list's bytes (`storage::parse_stored_day`, what reading
//! `<data_dir>/days/<date>.json` parses): no panic on any input; a list it reads is of the
//! date asked for, holds no more items than the limit, and none of its times is in the future.

#![no_main]

use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use paperboy::data::disk::parse_stored_day;

const MAX_ITEMS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let date = NaiveDate::from_ymd_opt(2026, 8, 14).expect("a valid date");
    let now = Utc
        .with_ymd_and_hms(2026, 8, 14, 12, 0, 0)
        .single()
        .expect("a valid time");
    if let Ok(list) = parse_stored_day(data, date, now, MAX_ITEMS) {
        assert_eq!(list.date, date);
        assert!(list.papers.len() <= MAX_ITEMS);
        assert!(list.fetched_at <= now && list.changed_at <= now);
    }
});
