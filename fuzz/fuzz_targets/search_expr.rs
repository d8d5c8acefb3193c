//! The search expression parser and matcher: no panic on any string, and the canonical form
//! (`Display`) parses back to an equal expression with the same results on a few papers.

#![no_main]

use std::sync::LazyLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use paperboy::data::paper::Paper;
use paperboy::query::search::SearchExpr;
use paperboy::data::paper::raw::RawItem;
use serde_json::json;

fn paper(item: serde_json::Value) -> Paper {
    let raw: RawItem = serde_json::from_value(item).expect("a RawItem");
    Paper::from_raw(&raw, NaiveDate::from_ymd_opt(2026, 8, 14).expect("a date")).expect("a Paper")
}

static PAPERS: LazyLock<Vec<Paper>> = LazyLock::new(|| {
    vec![
        paper(json!({
            "paper": {
                "id": "2608.00001",
                "title": "Flow Matching for Agentic Video Generation",
                "summary": "We study world models trained with RLHF. Our agents beat GPT-4 \
                            when LLM-as-a-Judge scores them.",
                "ai_keywords": ["diffusion transformer", "reinforcement learning"],
                "authors": [{"name": "Jörg Müller"}, {"name": "Ayşe Yılmaz"}],
                "organization": {"name": "nvidia", "fullname": "NVIDIA Research"}
            }
        })),
        paper(json!({
            "paper": {
                "id": "2608.00002",
                "title": "Diffusion models: 漢字 and Łukasz's Straße",
                "summary": "Or a world model, or agents? Re:think diff-based RL.",
                "ai_keywords": ["world model", "flow"],
                "authors": [{"name": "Zoë Łukasz"}, {"name": "Mei Schäfer"}]
            },
            "organization": {"name": "Kwai-Kolors", "fullname": "Kolors Team"}
        })),
        paper(json!({
            "paper": {"id": "2608.00003", "title": "T"}
        })),
    ]
});

fn results(expr: &SearchExpr) -> Vec<bool> {
    PAPERS.iter().map(|p| expr.matches(&p.search)).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = SearchExpr::parse(input) else {
        return;
    };
    let matched = results(&expr);
    let shown = expr.to_string();
    // The byte limit is on `q` as received; folding can make the canonical form longer
    // (U+FDFA folds to 18 letters), and then it is refused for its length alone.
    if shown.len() > paperboy::query::search::MAX_BYTES {
        return;
    }
    let again = match SearchExpr::parse(&shown) {
        Ok(again) => again,
        Err(e) => panic!("{input:?} -> canonical {shown:?}, which does not parse: {e}"),
    };
    assert_eq!(again, expr, "{input:?} -> {shown:?}");
    assert_eq!(results(&again), matched, "{input:?} -> {shown:?}");
    assert_eq!(
        again.to_string(),
        shown,
        "{input:?}: the canonical form is not stable"
    );
});
