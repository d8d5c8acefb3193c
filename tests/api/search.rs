//! The search expression `q` (contract section 4) and the `author=` / `org=` parameters
//! (section 3), over HTTP against the fixtures.
//!
//! Every expected list was worked out from the fixture JSON (a throwaway script that folds
//! words the way the contract describes, then checked by hand against the titles and
//! abstracts quoted in the comments) and is written in feed order: `sort=date`, i.e. newest
//! day first, then upvotes descending, then id.
//!
//! Where the fixtures lack a word a rule needs (`agentic`, `RLHF`, `GPT-4`,
//! `LLM-as-a-Judge`, author names written without accents), a made-up day is served for
//! 2026-08-01, a date with no fixture file, before anything asks for it.

use serde_json::{Value, json};

use crate::helpers::*;

/// `(q, expected ids in feed order)`.
type Case = (&'static str, &'static [&'static str]);

/// `(extra query parameters, expected ids in feed order)`.
type ParamCase = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

/// A window of two days: 2026-08-13 (7 readable papers) and 2026-08-14 (6 papers).
const LAST_TWO_DAYS: &str = "date=2026-08-14&days=2";
/// A window of five days: 2026-08-03 ..= 2026-08-07 (38 papers).
const FIRST_FIVE_DAYS: &str = "date=2026-08-07&days=5";
/// 2026-08-07 alone: the day with emoji, accents and CJK text.
const UNICODE_DAY: &str = "date=2026-08-07&days=1";
/// The made-up day of [`made_up_day`].
const MADE_UP: &str = "date=2026-08-01&days=1";
const MADE_UP_DATE: &str = "2026-08-01";

// The three papers of the made-up day, most upvoted first (their feed order).
const C1: &str = "2607.00001";
const C2: &str = "2607.00002";
const C3: &str = "2607.00003";

fn made_up_item(
    id: &str,
    title: &str,
    summary: &str,
    keywords: &[&str],
    authors: &[&str],
    organization: Option<Value>,
    upvotes: u64,
) -> Value {
    let authors: Vec<Value> = authors
        .iter()
        .map(|name| json!({"_id": "x", "name": name, "hidden": false}))
        .collect();
    let mut paper = json!({
        "id": id,
        "authors": authors,
        "title": title,
        "summary": summary,
        "upvotes": upvotes,
        "ai_keywords": keywords,
        "submittedOnDailyAt": "2026-08-01T09:00:00.000Z",
    });
    if let Some(org) = organization {
        paper["organization"] = org;
    }
    json!({"paper": paper, "title": title, "summary": summary, "numComments": 0})
}

/// Three papers whose words exercise the prefix rule, separators and accent folding.
fn made_up_day() -> Vec<Value> {
    vec![
        made_up_item(
            C1,
            "Agentic RLHF for Vision",
            "We score outputs with GPT-4 and an LLM-as-a-Judge protocol.",
            &["preference optimization"],
            // Written without accents, to be found by accented queries.
            &["Jorg Muller", "Ayse Yilmaz"],
            Some(json!({"name": "acme-lab", "fullname": "ACME Research"})),
            30,
        ),
        made_up_item(
            C2,
            "Agents of the Open World",
            "Planning with GPT-3, GPT-4o and a judge model.",
            &["world model"],
            &["Mads Sogaard"],
            None,
            20,
        ),
        made_up_item(
            C3,
            "Hello World",
            "A plain abstract about worlds and words, with an LLM acting as a judge.",
            // A keyword that is in neither the title nor the abstract.
            &["greeting"],
            &["Zoë Ivanova"],
            None,
            10,
        ),
    ]
}

/// An app whose upstream also lists [`made_up_day`] for 2026-08-01.
async fn app_with_made_up_day() -> TestApp {
    let app = spawn_app().await;
    app.days.set(MADE_UP_DATE, made_up_day());
    app
}

/// Runs every `q` case in `window` and reports all mismatches at once.
async fn check_q(app: &TestApp, window: &str, cases: &[Case]) {
    let mut failures = Vec::new();
    for (q, want) in cases {
        let query = format!("{window}&{}", query_string(&[("q", q)]));
        let got = app.ids_for(&query).await;
        if got != *want {
            failures.push(format!("q={q:?}\n    want {want:?}\n     got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} searches in {window} gave other papers:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Runs every parameter case in `window` and reports all mismatches at once.
async fn check_params(app: &TestApp, window: &str, cases: &[ParamCase]) {
    let mut failures = Vec::new();
    for (params, want) in cases {
        let query = format!("{window}&{}", query_string(params));
        let got = app.ids_for(&query).await;
        if got != *want {
            failures.push(format!("{query}\n    want {want:?}\n     got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries gave other papers:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_term_must_match_and_a_quoted_phrase_needs_its_words_in_order() {
    let app = spawn_app().await;
    check_q(
        &app,
        ALL_DAYS,
        &[
            // 2608.00168: "Mixed-Precision Post-Training Quantization"; 2608.00028 has
            // "higher precision" and "Mixed-Granularity", never the two words together.
            ("mixed precision", &["2608.00168", "2608.00028"]),
            ("\"mixed precision\"", &["2608.00168"]),
            ("\"precision mixed\"", &[]),
            // The last word of a phrase may be a prefix, the others must be whole words.
            ("\"mixed prec\"", &["2608.00168"]),
            ("\"mix precision\"", &[]),
            // 2608.00170: "the Information Bottleneck (IB)"; 2608.00027: "a bottleneck
            // layer ... allowing only valuable information".
            ("information bottleneck", &["2608.00170", "2608.00027"]),
            ("\"information bottleneck\"", &["2608.00170"]),
            // Both words in one paper (Tucker decomposition of tensors) or in none.
            ("tucker tensor", &["2608.00163"]),
            ("hopfield tensor", &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_minus_excludes_a_term_or_a_phrase() {
    let app = spawn_app().await;
    check_q(
        &app,
        ALL_DAYS,
        &[
            // 2608.00166: "Mixup's Influence on Neural Collapse"; 2608.00018: "Neural
            // Collapse in Deep Linear Networks"; 2608.00164: "collapse in training";
            // 2608.00035: "mode collapse".
            (
                "collapse",
                &["2608.00166", "2608.00164", "2608.00035", "2608.00018"],
            ),
            (
                "collapse -mixup",
                &["2608.00164", "2608.00035", "2608.00018"],
            ),
            (
                "collapse -\"neural collapse\"",
                &["2608.00164", "2608.00035"],
            ),
            ("\"neural collapse\" -mixup", &["2608.00018"]),
            ("-\"neural collapse\" mixup", &[]),
            // A negated term may carry a field: "black" outside the title only (2608.00001
            // "blackboard", 2608.00004 "black box" models).
            ("black -title:black", &["2608.00001", "2608.00004"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn or_matches_either_side_and_binds_tighter_than_the_implicit_and() {
    let app = spawn_app().await;
    check_q(
        &app,
        ALL_DAYS,
        &[
            ("hopfield OR tucker", &["2608.00160", "2608.00163"]),
            (
                "quantum OR hopfield OR tucker",
                &["2608.00160", "2608.00163", "2608.00024", "2608.00021"],
            ),
            // (hopfield OR tucker) AND tensor. Read as hopfield OR (tucker AND tensor) it
            // would also give 2608.00160, the Hopfield paper, which never says "tensor".
            ("hopfield OR tucker tensor", &["2608.00163"]),
            ("tensor hopfield OR tucker", &["2608.00163"]),
            // (quantum OR hopfield) AND compression. Read as quantum OR (hopfield AND
            // compression) it would also give 2608.00021 ("Let the Quantum Creep In"),
            // which is about quantum networks, not compression.
            ("quantum OR hopfield compression", &["2608.00024"]),
            ("compression quantum OR hopfield", &["2608.00024"]),
            // A negated term inside an OR: (hopfield OR NOT tensor) AND kronecker; of the
            // two "Kronecker" papers, 2608.00033 also mentions tensors.
            ("hopfield OR -tensor kronecker", &["2608.00057"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn lower_case_or_is_an_ordinary_term() {
    let app = spawn_app().await;
    check_q(
        &app,
        ALL_DAYS,
        &[
            (
                "quantum OR hopfield",
                &["2608.00160", "2608.00024", "2608.00021"],
            ),
            // quantum AND or* AND hopfield: no paper has both quantum and hopfield.
            ("quantum or hopfield", &[]),
            // `or` is a term like any other, matched as a word prefix ("or", "order", ...),
            // so these are the papers that have both words.
            ("quantum or", &["2608.00024", "2608.00021"]),
            ("hopfield or", &["2608.00160"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn each_field_prefix_restricts_the_term_to_that_field() {
    let app = spawn_app().await;
    check_q(
        &app,
        ALL_DAYS,
        &[
            // "Black" is in the titles of 2608.00170 and 2608.00055, in the abstracts of
            // 2608.00055, 2608.00001 ("blackboard") and 2608.00004, and a keyword of
            // 2608.00170 only.
            (
                "black",
                &["2608.00170", "2608.00055", "2608.00001", "2608.00004"],
            ),
            ("title:black", &["2608.00170", "2608.00055"]),
            (
                "abstract:black",
                &["2608.00055", "2608.00001", "2608.00004"],
            ),
            ("keyword:black", &["2608.00170"]),
            (
                "-keyword:black black",
                &["2608.00055", "2608.00001", "2608.00004"],
            ),
            ("convolutions", &["2608.00057", "2608.00049", "2608.00016"]),
            ("title:convolutions", &["2608.00057", "2608.00016"]),
            ("abstract:convolutions", &["2608.00049", "2608.00016"]),
            ("keyword:convolutions", &["2608.00049"]),
            // Field names ignore ASCII case.
            ("TITLE:kronecker", &["2608.00033"]),
            ("abstract:kronecker", &["2608.00057"]),
            ("title:\"neural collapse\"", &["2608.00166", "2608.00018"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn author_and_org_fields_match_names_and_organizations() {
    let app = spawn_app().await;
    check_q(
        &app,
        LAST_TWO_DAYS,
        &[
            (
                "author:okafor",
                &[
                    "2608.00167",
                    "2608.00171",
                    "2608.00161",
                    "2608.00160",
                    "2608.00162",
                ],
            ),
            // One author's name, words in order; a phrase never spans two authors.
            ("author:\"mei søgaard\"", &["2608.00160"]),
            ("author:\"søgaard mei\"", &[]),
            (
                "author:muller OR author:yilmaz",
                &[
                    "2608.00168",
                    "2608.00170",
                    "2608.00172",
                    "2608.00166",
                    "2608.00161",
                    "2608.00160",
                    "2608.00162",
                ],
            ),
            (
                "-author:muller",
                &[
                    "2608.00168",
                    "2608.00167",
                    "2608.00169",
                    "2608.00171",
                    "2608.00165",
                    "2608.00163",
                    "2608.00164",
                ],
            ),
        ],
    )
    .await;
    check_q(
        &app,
        FIRST_FIVE_DAYS,
        &[
            // The organization's name ("stanford") or its fullname ("Stanford University").
            ("org:stanford", &["2608.00030", "2608.00023", "2608.00008"]),
            (
                "org:\"stanford university\"",
                &["2608.00030", "2608.00023", "2608.00008"],
            ),
            (
                "org:university",
                &["2608.00030", "2608.00023", "2608.00008"],
            ),
            // allenai's fullname is "Ai2".
            ("org:ai2", &["2608.00025", "2608.00014", "2608.00011"]),
            ("org:allenai", &["2608.00025", "2608.00014", "2608.00011"]),
            // "meta-llama" / "Meta Llama".
            ("org:meta", &["2608.00032"]),
            ("org:\"meta llama\"", &["2608.00032"]),
            ("org:nvidia", &["2608.00038", "2608.00012"]),
        ],
    )
    .await;

    let app = app_with_made_up_day().await;
    check_q(
        &app,
        MADE_UP,
        &[
            ("org:acme", &[C1]),
            // name "acme-lab" is the words "acme lab"
            ("org:\"acme lab\"", &[C1]),
            ("org:\"acme research\"", &[C1]),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_term_without_a_field_searches_title_abstract_and_keywords_but_not_authors_or_org() {
    let app = spawn_app().await;
    check_q(
        &app,
        LAST_TWO_DAYS,
        &[
            // Five of these papers have an author named Okafor, six one named Müller.
            ("okafor", &[]),
            ("müller", &[]),
        ],
    )
    .await;
    check_q(
        &app,
        FIRST_FIVE_DAYS,
        &[
            ("kowalski", &[]),
            // Three Stanford papers, and no text that says "Stanford".
            ("stanford", &[]),
            // "NVIDIA" in the abstract of 2608.00019 (GPU clusters), not the two papers
            // filed under the nvidia organization.
            ("nvidia", &["2608.00019"]),
        ],
    )
    .await;

    let app = app_with_made_up_day().await;
    check_q(
        &app,
        MADE_UP,
        &[
            // Title and abstract.
            ("agentic", &[C1]),
            ("judge", &[C1, C2, C3]),
            // A keyword that is in neither the title nor the abstract of 2607.00003.
            ("greeting", &[C3]),
            ("title:greeting", &[]),
            ("abstract:greeting", &[]),
            ("keyword:greet", &[C3]),
            // Authors and organization are not searched without a field.
            ("muller", &[]),
            ("author:muller", &[C1]),
            ("acme", &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn accents_and_case_are_folded_on_both_sides() {
    let app = spawn_app().await;
    let muller: &[&str] = &[
        "2608.00170",
        "2608.00172",
        "2608.00166",
        "2608.00161",
        "2608.00160",
        "2608.00162",
    ];
    let yilmaz: &[&str] = &["2608.00168", "2608.00170", "2608.00166"];
    let sogaard: &[&str] = &[
        "2608.00170",
        "2608.00171",
        "2608.00161",
        "2608.00160",
        "2608.00162",
        "2608.00163",
    ];
    // The fixtures spell the names with accents: an accented or a plain query finds them.
    check_q(
        &app,
        LAST_TWO_DAYS,
        &[
            ("author:müller", muller),
            ("author:Müller", muller),
            ("author:MÜLLER", muller),
            ("author:muller", muller),
            ("author:MULLER", muller),
            ("author:Yılmaz", yilmaz),
            ("author:yilmaz", yilmaz),
            ("author:YILMAZ", yilmaz),
            ("author:Søgaard", sogaard),
            ("author:sogaard", sogaard),
            ("author:\"mei sogaard\"", &["2608.00160"]),
        ],
    )
    .await;
    // Accents, emoji and CJK in the title and abstract of 2608.00038: "🚀 RocketLM: Emoji,
    // Ümlauts and 漢字 in Titles", "naïve café résumé, 日本語のテキスト".
    check_q(
        &app,
        UNICODE_DAY,
        &[
            ("umlauts", &["2608.00038"]),
            ("Ümlauts", &["2608.00038"]),
            ("naive cafe resume", &["2608.00038"]),
            ("\"naïve café résumé\"", &["2608.00038"]),
            ("\"NAIVE CAFE\"", &["2608.00038"]),
            ("漢字", &["2608.00038"]),
            ("title:漢", &["2608.00038"]),
            ("日本語", &["2608.00038"]),
            ("rocketlm", &["2608.00038"]),
        ],
    )
    .await;

    // The other way round: the made-up day spells them without accents.
    let app = app_with_made_up_day().await;
    check_q(
        &app,
        MADE_UP,
        &[
            ("author:Müller", &[C1]),
            ("author:MÜLLER", &[C1]),
            ("author:\"jörg müller\"", &[C1]),
            ("author:yılmaz", &[C1]),
            ("author:Søgaard", &[C2]),
            ("author:søg", &[C2]),
            // "Zoë Ivanova"
            ("author:zoe", &[C3]),
            ("author:Zoë", &[C3]),
            // One author's name at a time: "Jorg Muller" then "Ayse Yilmaz".
            ("author:\"muller ayse\"", &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_term_matches_the_words_that_start_with_it_and_no_others() {
    let app = spawn_app().await;
    check_q(
        &app,
        ALL_DAYS,
        &[
            // "Multi-Grid Tensorized Fourier Neural Operator", "tensorization".
            ("tensorized", &["2608.00040"]),
            ("tensoriz", &["2608.00040"]),
            ("ensorized", &[]),
            (
                "compression",
                &[
                    "2608.00170",
                    "2608.00046",
                    "2608.00052",
                    "2608.00040",
                    "2608.00024",
                    "2608.00003",
                ],
            ),
            // Adds "compressing", "compressed", "compress".
            (
                "compress",
                &[
                    "2608.00170",
                    "2608.00058",
                    "2608.00046",
                    "2608.00052",
                    "2608.00040",
                    "2608.00028",
                    "2608.00027",
                    "2608.00024",
                    "2608.00003",
                ],
            ),
            // "a memoryless representation layer"
            ("memoryless", &["2608.00001"]),
            // "blackboard" starts with "black"; "ackboard" starts no word.
            ("blackboard", &["2608.00001"]),
            ("ackboard", &[]),
            // "agents' process"
            ("agent", &["2608.00001"]),
        ],
    )
    .await;

    let app = app_with_made_up_day().await;
    check_q(
        &app,
        MADE_UP,
        &[
            // "Agentic RLHF", "Agents of the Open World".
            ("agent", &[C1, C2]),
            ("agentic", &[C1]),
            ("agents", &[C2]),
            ("agentics", &[]),
            // "RLHF" starts with "rl"; "World" and "worlds" only contain it.
            ("rl", &[C1]),
            ("rlhf", &[C1]),
            ("orld", &[]),
            ("world", &[C2, C3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_term_with_separators_is_the_phrase_of_its_words() {
    let app = app_with_made_up_day().await;
    check_q(
        &app,
        MADE_UP,
        &[
            // C1: "GPT-4"; C2: "GPT-3, GPT-4o" (the last word of a phrase may be a prefix).
            ("gpt-4", &[C1, C2]),
            ("GPT-4", &[C1, C2]),
            ("\"gpt 4\"", &[C1, C2]),
            ("gpt-4o", &[C2]),
            ("gpt-3", &[C2]),
            ("gpt-5", &[]),
            // One word "gpt4" is no word's prefix.
            ("gpt4", &[]),
            ("-gpt-4", &[C3]),
            // C1: "LLM-as-a-Judge"; C3: "an LLM acting as a judge" has the words, not the
            // phrase.
            ("llm-as-a-judge", &[C1]),
            ("LLM-as-a-Judge", &[C1]),
            ("llm as a judge", &[C1, C3]),
            ("llm-as-judge", &[]),
            // C2: "a judge model".
            ("judge-model", &[C2]),
        ],
    )
    .await;
}

#[tokio::test]
async fn author_parameter_matches_any_of_its_values_by_word_prefix_ignoring_accents() {
    let app = spawn_app().await;
    let muller: &[&str] = &[
        "2608.00170",
        "2608.00172",
        "2608.00166",
        "2608.00161",
        "2608.00160",
        "2608.00162",
    ];
    check_params(
        &app,
        LAST_TWO_DAYS,
        &[
            (&[("author", "Müller")], muller),
            (&[("author", "muller")], muller),
            (&[("author", "MULLER")], muller),
            // word prefix
            (&[("author", "Mül")], muller),
            (&[("author", "mul")], muller),
            (&[("author", "ller")], &[]),
            (
                &[("author", "Yılmaz")],
                &["2608.00168", "2608.00170", "2608.00166"],
            ),
            (
                &[("author", "yilmaz")],
                &["2608.00168", "2608.00170", "2608.00166"],
            ),
            (
                &[("author", "sogaard")],
                &[
                    "2608.00170",
                    "2608.00171",
                    "2608.00161",
                    "2608.00160",
                    "2608.00162",
                    "2608.00163",
                ],
            ),
            // A full name is a phrase within one author.
            (&[("author", "Mei Søgaard")], &["2608.00160"]),
            (
                &[("author", "Fatima Søgaard")],
                &["2608.00161", "2608.00160"],
            ),
            // Repeated: any of them.
            (
                &[("author", "yilmaz"), ("author", "Søgaard")],
                &[
                    "2608.00168",
                    "2608.00170",
                    "2608.00171",
                    "2608.00166",
                    "2608.00161",
                    "2608.00160",
                    "2608.00162",
                    "2608.00163",
                ],
            ),
            // Together with q: both.
            (&[("author", "Müller"), ("q", "hopfield")], &["2608.00160"]),
            // Empty means no filter.
            (
                &[("author", ""), ("q", "hopfield OR tucker")],
                &["2608.00160", "2608.00163"],
            ),
        ],
    )
    .await;

    let app = app_with_made_up_day().await;
    check_params(
        &app,
        MADE_UP,
        &[
            // Accented values find names written without accents.
            (&[("author", "Müller")], &[C1]),
            (&[("author", "Jörg Müller")], &[C1]),
            (&[("author", "Søgaard"), ("author", "zoë")], &[C2, C3]),
            (&[("author", "ZOE")], &[C3]),
            (&[("author", "mads sog")], &[C2]),
            (&[("author", "sogaard mads")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn org_parameter_matches_the_name_or_the_fullname_and_any_of_its_values() {
    let app = spawn_app().await;
    let stanford: &[&str] = &["2608.00030", "2608.00023", "2608.00008"];
    let ai2: &[&str] = &["2608.00025", "2608.00014", "2608.00011"];
    check_params(
        &app,
        FIRST_FIVE_DAYS,
        &[
            (&[("org", "stanford")], stanford),
            (&[("org", "Stanford University")], stanford),
            (&[("org", "STANFORD")], stanford),
            (&[("org", "university")], stanford),
            // word prefix
            (&[("org", "stan")], stanford),
            (&[("org", "ford")], &[]),
            // allenai / Ai2
            (&[("org", "ai2")], ai2),
            (&[("org", "allenai")], ai2),
            // meta-llama / Meta Llama
            (&[("org", "Meta Llama")], &["2608.00032"]),
            (&[("org", "meta-llama")], &["2608.00032"]),
            (&[("org", "llama meta")], &[]),
            // Repeated: any of them.
            (
                &[("org", "ai2"), ("org", "stanford")],
                &[
                    "2608.00025",
                    "2608.00030",
                    "2608.00023",
                    "2608.00014",
                    "2608.00008",
                    "2608.00011",
                ],
            ),
            // With author: both. Of the Stanford papers only 2608.00030 has a Müller.
            (
                &[("org", "stanford"), ("author", "müller")],
                &["2608.00030"],
            ),
        ],
    )
    .await;
}
