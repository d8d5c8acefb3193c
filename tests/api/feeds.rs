use crate::helpers::*;

#[tokio::test]
async fn default_rss_feed_lists_the_last_three_days() {
    let app = spawn_app().await;
    let ids = app.ids("/feed.rss").await;
    assert_eq!(ids.len(), 50, "{ids:?}");
    assert_eq!(ids[0], fixture_ids(&app.days, "2026-08-14")[0]);
}
