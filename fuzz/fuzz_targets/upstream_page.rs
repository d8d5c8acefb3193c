//! The upstream page reader and everything ingest does with a page: no panic on any body.

#![no_main]

use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use paperboy::data::daily_list::DailyList;
use paperboy::data::paper::Paper;
use paperboy::data::upstream::client::FetchedDay;
use paperboy::data::upstream::items::read_page;

fuzz_target!(|data: &[u8]| {
    let Ok(page) = read_page(data) else {
        return;
    };
    assert!(
        !page.items.is_empty() || page.unreadable == 0,
        "a page with nothing readable must be an error"
    );
    let date = NaiveDate::from_ymd_opt(2026, 8, 14).expect("a date");
    for (item, _) in &page.items {
        let _ = Paper::from_raw(item, date);
    }
    let skipped = page.unreadable;
    let (items, raw) = page.items.into_iter().unzip();
    let fetched = FetchedDay {
        date,
        items,
        raw,
        skipped,
    };
    let now = Utc
        .with_ymd_and_hms(2026, 8, 14, 12, 0, 0)
        .single()
        .expect("a time");
    let list = DailyList::from_fetch(&fetched, now, None);
    assert!(list.changed_at <= now);
    assert!(list.papers.len() <= fetched.items.len());
    // The same content fetched again is not a change.
    let later = now + chrono::Duration::minutes(5);
    let again = DailyList::from_fetch(&fetched, later, Some(&list));
    assert_eq!(again.content_hash, list.content_hash);
    assert_eq!(again.changed_at, list.changed_at);
});
